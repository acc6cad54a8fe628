#pragma once

// Calendars for reports and the CRM sync: an IANA time zone from the system's tzdata (through
// Debian's libhowardhinnant-date-dev, date/tz.h with USE_OS_TZDB), and the buckets a report
// groups time into.
//
// Buckets follow the local clock. A day runs from one local midnight to the next, so a DST
// change day lasts 23 or 25 hours (where a zone skips midnight itself, the day starts at the
// first instant of its date). Hour and 15/30-minute buckets start where the local clock shows
// a multiple of their size and also at every change of UTC offset: the repeated hour of a
// fall-back night gives two buckets (01:00-04:00 and 01:00-05:00 in New York) and the hour a
// spring-forward night skips gives none. In zones whose offset is not a whole hour (India,
// +05:30) hour buckets start at :30 UTC.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace date {
class time_zone;
}

namespace presence::tracking {

struct Bucket;        // declared below; named here for BucketAt's friend declaration
enum class Grouping;  // likewise

class ReportZone {
 public:
  // UTC without consulting tzdata.
  static ReportZone Utc();
  // An IANA zone name ("Europe/Berlin", "America/New_York", "UTC", "Etc/GMT+5"). Error
  // "unknown_time_zone" for anything else, with the closest known name in the message
  // ("no time zone 'Europe/Berln'; did you mean 'Europe/Berlin'? Names are IANA zones ...").
  static Result<ReportZone> Find(std::string_view name);

  const std::string& name() const { return name_; }

  // UTC offset in effect at t.
  std::chrono::seconds Offset(Timestamp t) const;
  // Start of the local day that contains t, and of the day after it.
  Timestamp DayStart(Timestamp t) const;
  Timestamp NextDayStart(Timestamp t) const;
  // The local date of t: "2026-03-29".
  std::string LocalDate(Timestamp t) const;
  // The day start of a local date "2026-03-29"; nullopt when it is not a valid date.
  std::optional<Timestamp> DateStart(std::string_view date) const;
  // Local time with the offset in effect: "2026-03-29T03:00:00.000+02:00" (UTC: "+00:00").
  std::string FormatLocal(Timestamp t) const;
  // The same text written to `out`, which has room for kLocalTextMax bytes; returns the end.
  // Allocates nothing and, while t stays in the offset span met last on this thread, consults
  // no tzdata: exports call it several times per row.
  static constexpr std::size_t kLocalTextMax = 64;
  char* FormatLocalTo(char* out, Timestamp t) const;

  // A moment as a user writes it: an absolute time ParseTime accepts (with Z or an offset), a
  // local date ("2026-03-29": that day's start) or a local time ("2026-03-29T08:30",
  // "2026-03-29 08:30:15", "2026-03-29T08:30:15.250") in this zone. A local time that a
  // spring-forward night skips moves forward by the gap (02:30 becomes 03:30); one that a
  // fall-back night repeats means its first occurrence. nullopt for anything else.
  std::optional<Timestamp> ParseMoment(std::string_view text) const;

  // Where in [from, to) a bucket edge may fall off the UTC quarter-hour grid (pre-aggregated
  // time, tracking/day_aggregate.h, serves only the rest): the spans of an offset that is not a
  // multiple of 15 minutes (local mean time before about 1900), and [t, t + 1 ms) for an offset
  // change at an instant t off the grid. In time order; empty for every zone's present rules.
  std::vector<std::pair<Timestamp, Timestamp>> OffQuarterSpans(Timestamp from, Timestamp to) const;

 private:
  // Hour and minute buckets also end where the offset changes, so they need the span over which
  // an offset holds, which the public interface does not show.
  friend Bucket BucketAt(const ReportZone& zone, Grouping grouping, Timestamp t);

  // The UTC offset in effect at an instant and the span [begin, end) over which it holds.
  struct OffsetSpan {
    Timestamp begin;
    Timestamp end;
    std::chrono::seconds offset{0};
  };

  ReportZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}

  OffsetSpan SpanAt(Timestamp t) const;
  // The first instant of a local date (its midnight, or the end of a gap that skips it).
  Timestamp LocalDayStart(std::chrono::sys_days day) const;
  Timestamp FindLocalDayStart(std::chrono::sys_days day) const;  // LocalDayStart, uncached
  Bucket DayBucket(Timestamp t) const;
  Bucket ClockBucket(Timestamp t, Millis size) const;

  const date::time_zone* zone_ = nullptr;  // nullptr: UTC
  std::string name_;
};

// How a report groups time.
enum class Grouping { kNone, kDay, kHour, kHalfHour, kQuarterHour };

std::string_view GroupingName(Grouping grouping);  // "none", "day", "hour", "30min", "15min"
std::optional<Grouping> GroupingFromName(std::string_view name);
std::string GroupingNames();  // "none, day, hour, 30min, 15min", for messages that list them

// The bucket of `grouping` that contains t: [start, end). For kNone there is one bucket
// covering all time (Timestamp::min() to Timestamp::max()).
struct Bucket {
  Timestamp start;
  Timestamp end;
};
Bucket BucketAt(const ReportZone& zone, Grouping grouping, Timestamp t);

}  // namespace presence::tracking
