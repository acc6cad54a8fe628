// Fuzz target for the day blobs of the report aggregates (tracking/day_aggregate.h): bytes read
// from the ledger file, which a disk or a hand can damage. Any bytes must be read or refused
// with "damaged_aggregate", never read past their end; what is read must be within a day's
// limits and encode back to the same bytes (one encoding per day), and the report's view must
// agree with the full decoder.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tracking/day_aggregate.h"

namespace {

using presence::Result;
using presence::Status;
using presence::tracking::DayAggregate;
using presence::tracking::DayAggregateView;
using presence::tracking::kQuarterMs;
using presence::tracking::kQuartersPerDay;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so a read past the end is caught by the sanitizers.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string_view blob(bytes);
  Result<DayAggregate> day = DayAggregate::Decode(blob);
  DayAggregateView view;
  const Status totals = view.Parse(blob, false);
  const Status full = view.Parse(blob, true);
  if (!day.ok()) {
    FUZZ_CHECK(day.error().code == "damaged_aggregate");
    FUZZ_CHECK(!day.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(totals.ok() && full.ok());
  FUZZ_CHECK(!day->empty());
  FUZZ_CHECK(day->Encode() == bytes);
  view.Seek(0);
  size_t i = 0;
  for (const auto& [state, quarters] : day->quarters()) {
    FUZZ_CHECK(view.state(i) == state);
    int64_t total = 0;
    for (int q = 0; q < kQuartersPerDay; ++q) {
      FUZZ_CHECK(quarters[q] >= 0 && quarters[q] <= kQuarterMs);
      total += quarters[q];
    }
    FUZZ_CHECK(view.total(i).count() == total);
    FUZZ_CHECK(view.TakeUntil(i, kQuartersPerDay).count() == total);
    ++i;
  }
  return 0;
}
