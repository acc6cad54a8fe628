// The day blob of the report aggregates: what goes in comes out to the millisecond, it is
// small, and a damaged blob is refused with an error rather than read wrongly.

#include "tracking/day_aggregate.h"

#include <boost/test/unit_test.hpp>
#include <random>
#include <string>

#include "tests/tracking/store_test_support.h"

namespace presence::tracking::test {
namespace {

constexpr int64_t kDay20261121 = 20778;  // UtcDayNumber(2026-11-21)

DayAggregate SampleDay() {
  DayAggregate day;
  day.Add(kDay20261121, 3, T("2026-11-21T00:00:00Z"), T("2026-11-21T08:07:30.250Z"));
  day.Add(kDay20261121, 7, T("2026-11-21T08:07:30.250Z"), T("2026-11-21T08:07:30.250Z"));
  day.Add(kDay20261121, 7, T("2026-11-21T08:07:30.250Z"), T("2026-11-21T12:00:00Z"));
  day.Add(kDay20261121, 1, T("2026-11-21T12:00:00Z"), T("2026-11-21T12:00:00.001Z"));
  day.Add(kDay20261121, 3, T("2026-11-21T23:59:59.999Z"), T("2026-11-22T00:00:00Z"));
  return day;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(day_aggregate_test)

BOOST_AUTO_TEST_CASE(day_survives_encoding_to_the_millisecond) {
  DayAggregate day = SampleDay();
  Result<DayAggregate> back = DayAggregate::Decode(day.Encode());
  BOOST_REQUIRE(back.ok());
  BOOST_TEST((*back == day));
  const auto& quarters = back->quarters();
  BOOST_TEST(quarters.at(3)[0] == 900000);
  BOOST_TEST(quarters.at(3)[32] == 450250);  // 08:00 to 08:07:30.250
  BOOST_TEST(quarters.at(3)[95] == 1);
  BOOST_TEST(quarters.at(7)[32] == 449750);
  BOOST_TEST(quarters.at(1)[48] == 1);
}

BOOST_AUTO_TEST_CASE(runs_of_full_quarters_cost_a_few_bytes) {
  DayAggregate day;
  day.Add(kDay20261121, 1, T("2026-11-21T00:00:00Z"), T("2026-11-22T00:00:00Z"));
  // format, count, id, total (4 bytes), items, head, run: 10 bytes for a whole day.
  BOOST_TEST(day.Encode().size() == 10u);
  DayAggregate busy;
  Timestamp at = T("2026-11-21T00:00:00Z");
  for (int i = 0; i < 16; ++i) {
    busy.Add(kDay20261121, i % 7 + 1, at + Millis(i * 7), at + Millis(5400000));
    at += Millis(5400000);
  }
  BOOST_TEST(busy.Encode().size() < 160u);
}

BOOST_AUTO_TEST_CASE(view_sums_quarters_over_consecutive_ranges) {
  DayAggregate day = SampleDay();
  std::string blob = day.Encode();
  DayAggregateView view;
  BOOST_REQUIRE(view.Parse(blob, false).ok());
  BOOST_REQUIRE(view.size() == 3u);
  BOOST_TEST(view.state(0) == 1);
  BOOST_TEST(view.total(1).count() == 8 * 3600000 + 450250 + 1);
  BOOST_REQUIRE(view.Parse(blob, true).ok());
  view.Seek(4);  // from 01:00
  BOOST_TEST(view.TakeUntil(1, 32).count() == 7 * 3600000);
  BOOST_TEST(view.TakeUntil(1, 96).count() == 450250 + 1);
  BOOST_TEST(view.TakeUntil(2, 48).count() == 449750 + 15 * 900000);
  BOOST_TEST(view.TakeUntil(2, 49).count() == 0);
}

BOOST_AUTO_TEST_CASE(merge_adds_time_of_the_same_state) {
  DayAggregate a;
  a.Add(kDay20261121, 2, T("2026-11-21T10:00:00Z"), T("2026-11-21T10:05:00Z"));
  DayAggregate b;
  b.Add(kDay20261121, 2, T("2026-11-21T10:05:00Z"), T("2026-11-21T10:15:00Z"));
  b.Add(kDay20261121, 4, T("2026-11-21T10:15:00Z"), T("2026-11-21T10:16:00Z"));
  a.Merge(b);
  BOOST_TEST(a.quarters().at(2)[40] == 900000);
  BOOST_TEST(a.quarters().at(4)[41] == 60000);
}

// Every truncation and every single-byte change of a valid blob: refused, or (when the change
// happens to give another valid blob) read within the limits; never past the blob's end (the
// string_view is cut, so an over-read would hit the sanitizers).
BOOST_AUTO_TEST_CASE(damaged_blobs_are_refused_with_an_error) {
  const std::string blob = SampleDay().Encode();
  for (size_t size = 0; size < blob.size(); ++size) {
    Result<DayAggregate> cut = DayAggregate::Decode(std::string_view(blob).substr(0, size));
    BOOST_TEST(!cut.ok(), size);
    if (!cut.ok()) BOOST_TEST(cut.error().code == "damaged_aggregate");
  }
  std::mt19937_64 random(17);
  int refused = 0;
  for (size_t i = 0; i < blob.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = blob;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      Result<DayAggregate> read = DayAggregate::Decode(damaged);
      if (!read.ok()) {
        ++refused;
        continue;
      }
      for (const auto& [state, quarters] : read->quarters()) {
        for (int32_t ms : quarters) BOOST_TEST((ms >= 0 && ms <= 900000));
      }
    }
  }
  BOOST_TEST(refused > static_cast<int>(blob.size()) * 4);
  BOOST_TEST(!DayAggregate::Decode(blob + '\0').ok());
  // Two states that together hold more than a quarter: not a user's time.
  DayAggregate overlapping;
  overlapping.Add(kDay20261121, 1, T("2026-11-21T10:00:00Z"), T("2026-11-21T10:10:00Z"));
  overlapping.Add(kDay20261121, 2, T("2026-11-21T10:00:00Z"), T("2026-11-21T10:10:00Z"));
  BOOST_TEST(!DayAggregate::Decode(overlapping.Encode()).ok());
}

// Two states in the same quarters is more time than the quarters last: refused by the decoder
// and by the view reports read with (which would otherwise count it).
BOOST_AUTO_TEST_CASE(states_that_overlap_in_a_quarter_are_refused_by_the_view_too) {
  DayAggregate overlapping;
  overlapping.Add(kDay20261121, 1, T("2026-11-21T08:00:00Z"), T("2026-11-21T09:00:00Z"));
  overlapping.Add(kDay20261121, 2, T("2026-11-21T08:10:00Z"), T("2026-11-21T08:20:00Z"));
  const std::string blob = overlapping.Encode();
  BOOST_TEST(!DayAggregate::Decode(blob).ok());
  DayAggregateView view;
  Status parsed = view.Parse(blob, /*with_quarters=*/true);
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(parsed.error().code == "damaged_aggregate");
  BOOST_TEST(view.Parse(SampleDay().Encode(), true).ok());
}

BOOST_AUTO_TEST_CASE(quarter_edges_round_toward_past_and_future) {
  BOOST_TEST(FormatTime(QuarterFloor(T("2026-11-21T10:14:59.999Z"))) == "2026-11-21T10:00:00.000Z");
  BOOST_TEST(FormatTime(QuarterCeil(T("2026-11-21T10:00:00.001Z"))) == "2026-11-21T10:15:00.000Z");
  BOOST_TEST(FormatTime(QuarterCeil(T("2026-11-21T10:15:00Z"))) == "2026-11-21T10:15:00.000Z");
  BOOST_TEST(FormatTime(QuarterFloor(T("1899-12-31T23:50:00Z"))) == "1899-12-31T23:45:00.000Z");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
