#include "common/time.h"

#include <cstdio>
#include <cstdlib>

#include "common/text_scanner.h"

namespace presence {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// "Z" or "+hh:mm" / "-hh:mm"; the offset is what local time is ahead of UTC.
std::optional<minutes> ParseOffset(TextScanner& scan) {
  char sign = 0;
  if (!scan.OneOf("Z+-", &sign)) return std::nullopt;
  if (sign == 'Z') return minutes(0);
  int h = 0;
  int m = 0;
  if (!scan.Digits(2, &h) || !scan.Literal(':') || !scan.Digits(2, &m)) return std::nullopt;
  if (h > 23 || m > 59) return std::nullopt;
  minutes offset = hours(h) + minutes(m);
  return sign == '+' ? offset : -offset;
}

// "hh:mm:ss[.fff...]" as time since midnight. Leap seconds (":60") are refused.
std::optional<Millis> ParseClock(TextScanner& scan) {
  int h = 0;
  int m = 0;
  int s = 0;
  if (!scan.Digits(2, &h) || !scan.Literal(':') || !scan.Digits(2, &m) || !scan.Literal(':') ||
      !scan.Digits(2, &s)) {
    return std::nullopt;
  }
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  Millis millis{0};
  if (scan.Literal('.') && !scan.Fraction(&millis)) return std::nullopt;
  return hours(h) + minutes(m) + seconds(s) + millis;
}

}  // namespace

std::string FormatTime(Timestamp t) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss<Millis> clock{t - day};
  char text[64];
  std::snprintf(
      text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

std::optional<Timestamp> ParseTime(std::string_view text) {
  TextScanner scan(text);
  auto date = ScanDate(scan);
  if (!date || !scan.OneOf("T ")) return std::nullopt;
  auto clock = ParseClock(scan);
  if (!clock) return std::nullopt;
  auto offset = ParseOffset(scan);
  if (!offset || !scan.Done()) return std::nullopt;
  return Timestamp(*date) + *clock - *offset;
}

std::string FormatSeconds(Millis duration) {
  long long ms = duration.count();
  std::string sign = ms < 0 ? "-" : "";
  unsigned long long magnitude =
      ms < 0 ? 0ULL - static_cast<unsigned long long>(ms) : static_cast<unsigned long long>(ms);
  std::string text = sign + std::to_string(magnitude / 1000);
  unsigned long long fraction = magnitude % 1000;
  if (fraction == 0) return text;
  char digits[8];
  std::snprintf(digits, sizeof(digits), "%03llu", fraction);
  std::string decimals = digits;
  while (decimals.back() == '0') decimals.pop_back();
  return text + "." + decimals;
}

std::string FormatHms(Millis duration) {
  const long long seconds = duration.count() / 1000;
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", seconds / 3600, seconds / 60 % 60,
                seconds % 60);
  return text;
}

Timestamp UtcDayStart(Timestamp t) { return std::chrono::floor<days>(t); }

int64_t UtcDayNumber(Timestamp t) { return std::chrono::floor<days>(t).time_since_epoch().count(); }

Timestamp SystemClock::Now() const {
  return std::chrono::floor<Millis>(std::chrono::system_clock::now());
}

}  // namespace presence
