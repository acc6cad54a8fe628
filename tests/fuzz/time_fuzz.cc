// Fuzz target for the ISO-8601 parser (common/time.h). ParseTime takes text from every API
// request, replay line and report filter: it must accept or refuse any bytes without crashing,
// and a time it accepts must print (FormatTime) as text that parses back to the same instant.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using presence::FormatTime;
using presence::ParseTime;
using presence::Timestamp;
using presence::UtcDayStart;

// FormatTime writes the year with four digits: round trips hold for years 0000 to 9999 (an
// offset can move an accepted "0000-01-01T00:00:00+01:00" into year -1).
bool FourDigitYear(Timestamp t) {
  using namespace std::chrono;
  const Timestamp first = sys_days{year{0} / January / 1};
  const Timestamp end = sys_days{year{10000} / January / 1};
  return t >= first && t < end;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<Timestamp> parsed = ParseTime(text);
  if (!parsed) return 0;
  // The shortest accepted form is "YYYY-MM-DDTHH:MM:SSZ".
  FUZZ_CHECK(text.size() >= 20);
  const Timestamp day = UtcDayStart(*parsed);
  FUZZ_CHECK(day <= *parsed && *parsed - day < std::chrono::days(1));
  if (!FourDigitYear(*parsed)) return 0;
  const std::string printed = FormatTime(*parsed);
  FUZZ_CHECK(printed.size() == 24);  // "2026-11-21T09:30:00.000Z"
  const std::optional<Timestamp> again = ParseTime(printed);
  FUZZ_CHECK(again.has_value() && *again == *parsed);
  return 0;
}
