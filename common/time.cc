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
  const int year = static_cast<int>(date.year());
  const auto hours = static_cast<unsigned>(clock.hours().count());
  const auto minutes = static_cast<unsigned>(clock.minutes().count());
  const auto secs = static_cast<unsigned>(clock.seconds().count());
  const auto millis = static_cast<unsigned>(clock.subseconds().count());
  if (year < 0 || year > 9999) {
    char text[64];
    std::snprintf(text, sizeof(text), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", year,
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), hours,
                  minutes, secs, millis);
    return text;
  }
  // Every API answer and stream update holds several of these: digits by hand, not snprintf.
  std::string text = "0000-00-00T00:00:00.000Z";
  const auto put = [&text](size_t at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      text[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(year), 4);
  put(5, static_cast<unsigned>(date.month()), 2);
  put(8, static_cast<unsigned>(date.day()), 2);
  put(11, hours, 2);
  put(14, minutes, 2);
  put(17, secs, 2);
  put(20, millis, 3);
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
  unsigned long long magnitude =
      ms < 0 ? 0ULL - static_cast<unsigned long long>(ms) : static_cast<unsigned long long>(ms);
  std::string text = ms < 0 ? "-" : "";
  text += std::to_string(magnitude / 1000);
  unsigned fraction = static_cast<unsigned>(magnitude % 1000);
  if (fraction == 0) return text;
  text += '.';
  for (unsigned unit = 100; fraction != 0; unit /= 10) {
    text += static_cast<char>('0' + fraction / unit);
    fraction %= unit;
  }
  return text;
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
