#include "tracking/time.h"

#include <cstdio>
#include <cstdlib>

namespace presence::tracking {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Reads text left to right; every step consumes exactly what it expects or reports failure,
// so a parse is a chain of && and anything unexpected ends it.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  // Exactly `width` ASCII digits (no sign, no spaces).
  bool Digits(int width, int* out) {
    if (text_.size() - pos_ < static_cast<size_t>(width)) return false;
    int value = 0;
    for (int i = 0; i < width; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    pos_ += width;
    *out = value;
    return true;
  }

  bool Literal(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool OneOf(std::string_view chars, char* out) {
    if (pos_ >= text_.size() || chars.find(text_[pos_]) == std::string_view::npos) return false;
    *out = text_[pos_++];
    return true;
  }

  // One or more digits after a '.': the first three are milliseconds, the rest are dropped.
  bool Fraction(int* millis) {
    size_t start = pos_;
    int value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (pos_ - start < 3) value = value * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    size_t count = pos_ - start;
    if (count == 0) return false;
    for (size_t i = count; i < 3; ++i) value *= 10;
    *millis = value;
    return true;
  }

  bool Done() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// "Z" or "+hh:mm" / "-hh:mm"; the offset is what local time is ahead of UTC.
std::optional<minutes> ParseOffset(Scanner& scan) {
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

std::optional<std::chrono::sys_days> ParseDate(Scanner& scan) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (!scan.Digits(4, &y) || !scan.Literal('-') || !scan.Digits(2, &m) || !scan.Literal('-') ||
      !scan.Digits(2, &d)) {
    return std::nullopt;
  }
  // ok() checks the month and the day against the month's length, leap years included.
  std::chrono::year_month_day date{std::chrono::year(y),
                                   std::chrono::month(static_cast<unsigned>(m)),
                                   std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date);
}

// "hh:mm:ss[.fff...]" as time since midnight. Leap seconds (":60") are refused.
std::optional<Millis> ParseClock(Scanner& scan) {
  int h = 0;
  int m = 0;
  int s = 0;
  if (!scan.Digits(2, &h) || !scan.Literal(':') || !scan.Digits(2, &m) || !scan.Literal(':') ||
      !scan.Digits(2, &s)) {
    return std::nullopt;
  }
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  int millis = 0;
  if (scan.Literal('.') && !scan.Fraction(&millis)) return std::nullopt;
  return hours(h) + minutes(m) + seconds(s) + Millis(millis);
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
  Scanner scan(text);
  auto date = ParseDate(scan);
  char separator = 0;
  if (!date || !scan.OneOf("T ", &separator)) return std::nullopt;
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

Timestamp UtcDayStart(Timestamp t) { return std::chrono::floor<days>(t); }

int64_t UtcDayNumber(Timestamp t) { return std::chrono::floor<days>(t).time_since_epoch().count(); }

Timestamp SystemClock::Now() const {
  return std::chrono::floor<Millis>(std::chrono::system_clock::now());
}

}  // namespace presence::tracking
