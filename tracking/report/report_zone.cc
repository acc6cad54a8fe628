#include "tracking/report/report_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "common/enum_names.h"
#include "common/json_read.h"
#include "common/text_scanner.h"

namespace presence::tracking {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr std::string_view kZoneHint =
    "Names are IANA zones such as Europe/Berlin, America/New_York, Asia/Kolkata or UTC.";

constexpr EnumNames<Grouping, 5> kGroupings = {{
    {Grouping::kNone, "none"},
    {Grouping::kDay, "day"},
    {Grouping::kHour, "hour"},
    {Grouping::kHalfHour, "30min"},
    {Grouping::kQuarterHour, "15min"},
}};

// date reports the spans before the first and after the last transition as reaching the years
// -32767 and 32767. Those fit in milliseconds, but clamping keeps any other value from
// overflowing the conversion.
Timestamp ToTimestamp(date::sys_seconds t) {
  constexpr int64_t kLimit = Timestamp::max().time_since_epoch().count() / 1000 - 1;
  int64_t count = t.time_since_epoch().count();
  if (count >= kLimit) return Timestamp::max();
  if (count <= -kLimit) return Timestamp::min();
  return Timestamp(t);
}

// "hh:mm[:ss[.fff...]]" as time since midnight.
std::optional<Millis> ReadClock(TextScanner& scan) {
  int h = 0;
  int m = 0;
  int s = 0;
  Millis fraction{0};
  if (!scan.Digits(2, &h) || !scan.Literal(':') || !scan.Digits(2, &m)) return std::nullopt;
  if (scan.Literal(':')) {
    if (!scan.Digits(2, &s)) return std::nullopt;
    if (scan.Literal('.') && !scan.Fraction(&fraction)) return std::nullopt;
  }
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  return hours(h) + minutes(m) + seconds(s) + fraction;
}

// The instant a local clock reading (time since the local epoch) names: a repeated reading
// means its first occurrence, and a skipped one is read with the offset before the gap, which
// moves it forward by the gap (02:30 becomes 03:30).
Timestamp LocalToUtc(const date::time_zone* zone, Millis local) {
  if (zone == nullptr) return Timestamp(local);
  date::local_info info = zone->get_info(date::local_seconds(std::chrono::floor<seconds>(local)));
  return Timestamp(local - info.first.offset);
}

// Fixed-width decimal digits, most significant first.
char* PutDigits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// "2026-03-29" (printf's %04d-%02u-%02u, also for years outside 0-9999).
char* PutDate(char* out, sys_days day) {
  std::chrono::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    char text[32];
    int length =
        std::snprintf(text, sizeof(text), "%04d-%02u-%02u", year,
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return std::copy(text, text + length, out);
  }
  out = PutDigits(out, static_cast<unsigned>(year), 4);
  *out++ = '-';
  out = PutDigits(out, static_cast<unsigned>(ymd.month()), 2);
  *out++ = '-';
  return PutDigits(out, static_cast<unsigned>(ymd.day()), 2);
}

std::string FormatDate(sys_days day) {
  char text[32];
  return std::string(text, PutDate(text, day));
}

// "+02:00"; historical offsets with seconds (local mean time before 1900) get ":ss". Offsets
// are under a day, so hours take two digits.
char* PutOffset(char* out, seconds offset) {
  const long long count = offset.count();
  const auto total = static_cast<unsigned>(count < 0 ? -count : count);
  *out++ = count < 0 ? '-' : '+';
  out = PutDigits(out, total / 3600, 2);
  *out++ = ':';
  out = PutDigits(out, total / 60 % 60, 2);
  if (total % 60 != 0) {
    *out++ = ':';
    out = PutDigits(out, total % 60, 2);
  }
  return out;
}

std::optional<std::string> ClosestZoneName(std::string_view name) {
  try {
    const date::tzdb& db = date::get_tzdb();
    std::vector<std::string_view> names;
    names.reserve(db.zones.size());
    for (const date::time_zone& zone : db.zones) names.push_back(zone.name());
    if (auto near = json::ClosestWord(name, names)) return std::string(*near);
  } catch (const std::exception&) {
    // No readable tzdata: nothing to suggest.
  }
  return std::nullopt;
}

Error UnknownZone(std::string_view name) {
  constexpr size_t kShown = 64;  // one long value must not flood the message
  std::string shown(name.substr(0, kShown));
  if (name.size() > kShown) shown += "...";
  std::string message = "no time zone '" + shown + "'";
  if (std::optional<std::string> near = ClosestZoneName(name)) {
    message += "; did you mean '" + *near + "'? ";
  } else {
    message += ". ";
  }
  return Error{"unknown_time_zone", message + std::string(kZoneHint)};
}

}  // namespace

ReportZone ReportZone::Utc() { return ReportZone(nullptr, "UTC"); }

Result<ReportZone> ReportZone::Find(std::string_view name) {
  // UTC needs no tzdata, so UTC reports work on a machine without it.
  if (name == "UTC") return Utc();
  try {
    const date::time_zone* zone = date::locate_zone(std::string(name));
    // date reads a zone's file on first use; reading it here turns an unreadable file into
    // this error instead of an exception in the middle of a report.
    zone->get_info(date::sys_seconds{});
    return ReportZone(zone, zone->name());
  } catch (const std::exception&) {
    return UnknownZone(name);
  }
}

ReportZone::OffsetSpan ReportZone::SpanAt(Timestamp t) const {
  if (zone_ == nullptr) return {Timestamp::min(), Timestamp::max(), seconds(0)};
  // Offset and BucketAt run for every interval piece of exports with millions of rows, almost
  // always inside the span found last. A copy per thread skips tzdata's search without
  // sharing mutable state between threads.
  thread_local const date::time_zone* cached_zone = nullptr;
  thread_local OffsetSpan cached;
  if (zone_ == cached_zone && cached.begin <= t && t < cached.end) return cached;
  // With USE_OS_TZDB, date knows only the transitions written out in the zone files (Debian's
  // run through 2037); later instants keep the offset of the last one.
  date::sys_info info = zone_->get_info(t);
  cached = {ToTimestamp(info.begin), ToTimestamp(info.end), info.offset};
  cached_zone = zone_;
  return cached;
}

std::chrono::seconds ReportZone::Offset(Timestamp t) const { return SpanAt(t).offset; }

Timestamp ReportZone::LocalDayStart(sys_days day) const {
  if (zone_ == nullptr) return Timestamp(day);
  // Day buckets ask for the same few dates over and over (each day's start is the day before's
  // end), and each answer costs a tzdata search by local time: the last few answers are kept,
  // per thread, like SpanAt's span.
  struct Known {
    const date::time_zone* zone = nullptr;
    sys_days day;
    Timestamp start;
  };
  thread_local std::array<Known, 4> known;
  thread_local std::size_t next = 0;
  for (const Known& entry : known) {
    if (entry.zone == zone_ && entry.day == day) return entry.start;
  }
  const Timestamp start = FindLocalDayStart(day);
  known[next] = {zone_, day, start};
  next = (next + 1) % known.size();
  return start;
}

Timestamp ReportZone::FindLocalDayStart(sys_days day) const {
  date::local_info info = zone_->get_info(date::local_seconds(day.time_since_epoch()));
  // Midnight skipped by a spring-forward: the day starts where the gap ends (01:00).
  if (info.result == date::local_info::nonexistent) return ToTimestamp(info.second.begin);
  return Timestamp(day) - info.first.offset;  // a repeated midnight: its first occurrence
}

Bucket ReportZone::DayBucket(Timestamp t) const {
  sys_days local_date = std::chrono::floor<days>(t + SpanAt(t).offset);
  Bucket day{LocalDayStart(local_date), LocalDayStart(local_date + days(1))};
  // An offset that moves back across midnight repeats the end of a date after the next date
  // began; time keeps running in the day that began, so buckets never overlap.
  if (t >= day.end) return {day.end, LocalDayStart(local_date + days(2))};
  if (t < day.start) return {LocalDayStart(local_date - days(1)), day.start};
  return day;
}

Bucket ReportZone::ClockBucket(Timestamp t, Millis size) const {
  OffsetSpan span = SpanAt(t);
  Millis local = t.time_since_epoch() + span.offset;
  Millis into = local % size;
  if (into < Millis(0)) into += size;  // before 1970: % truncates toward zero
  Timestamp start = t - into;
  return {std::max(start, span.begin), std::min(start + size, span.end)};
}

Timestamp ReportZone::DayStart(Timestamp t) const { return DayBucket(t).start; }

Timestamp ReportZone::NextDayStart(Timestamp t) const { return DayBucket(t).end; }

std::string ReportZone::LocalDate(Timestamp t) const {
  return FormatDate(std::chrono::floor<days>(t + SpanAt(t).offset));
}

std::optional<Timestamp> ReportZone::DateStart(std::string_view date) const {
  TextScanner scan(date);
  std::optional<sys_days> day = ScanDate(scan);
  if (!day || !scan.Done()) return std::nullopt;
  return LocalDayStart(*day);
}

std::string ReportZone::FormatLocal(Timestamp t) const {
  char text[kLocalTextMax];
  return std::string(text, FormatLocalTo(text, t));
}

char* ReportZone::FormatLocalTo(char* out, Timestamp t) const {
  const seconds offset = Offset(t);
  const Timestamp local = t + offset;
  const sys_days day = std::chrono::floor<days>(local);
  const auto clock = static_cast<unsigned>((local - day).count());  // ms into the day
  out = PutDate(out, day);
  *out++ = 'T';
  out = PutDigits(out, clock / 3600000, 2);
  *out++ = ':';
  out = PutDigits(out, clock / 60000 % 60, 2);
  *out++ = ':';
  out = PutDigits(out, clock / 1000 % 60, 2);
  *out++ = '.';
  out = PutDigits(out, clock % 1000, 3);
  return PutOffset(out, offset);
}

std::optional<Timestamp> ReportZone::ParseMoment(std::string_view text) const {
  if (std::optional<Timestamp> absolute = ParseTime(text)) return absolute;
  TextScanner scan(text);
  std::optional<sys_days> day = ScanDate(scan);
  if (!day) return std::nullopt;
  if (scan.Done()) return LocalDayStart(*day);
  if (!scan.OneOf("T ")) return std::nullopt;
  std::optional<Millis> clock = ReadClock(scan);
  if (!clock || !scan.Done()) return std::nullopt;
  return LocalToUtc(zone_, day->time_since_epoch() + *clock);
}

std::vector<std::pair<Timestamp, Timestamp>> ReportZone::OffQuarterSpans(Timestamp from,
                                                                         Timestamp to) const {
  constexpr int64_t kQuarter = 900000;
  std::vector<std::pair<Timestamp, Timestamp>> spans;
  for (Timestamp t = from; t < to;) {
    OffsetSpan span = SpanAt(t);
    if (span.begin > from && ToEpochMillis(span.begin) % kQuarter != 0) {
      spans.emplace_back(span.begin, span.begin + Millis(1));
    }
    if (span.offset.count() % 900 != 0) {
      const Timestamp begin = std::max(span.begin, from);
      const Timestamp end = std::min(span.end, to);
      if (!spans.empty() && spans.back().second >= begin) {
        spans.back().second = std::max(spans.back().second, end);
      } else {
        spans.emplace_back(begin, end);
      }
    }
    if (span.end <= t) break;  // cannot happen; guards the loop
    t = span.end;
  }
  return spans;
}

std::string_view GroupingName(Grouping grouping) { return kGroupings.Name(grouping, "none"); }

std::optional<Grouping> GroupingFromName(std::string_view name) { return kGroupings.Find(name); }

std::string GroupingNames() { return kGroupings.List(); }

Bucket BucketAt(const ReportZone& zone, Grouping grouping, Timestamp t) {
  switch (grouping) {
    case Grouping::kNone:
      break;
    case Grouping::kDay:
      return zone.DayBucket(t);
    case Grouping::kHour:
      return zone.ClockBucket(t, hours(1));
    case Grouping::kHalfHour:
      return zone.ClockBucket(t, minutes(30));
    case Grouping::kQuarterHour:
      return zone.ClockBucket(t, minutes(15));
  }
  return {Timestamp::min(), Timestamp::max()};
}

}  // namespace presence::tracking
