// Report calendars: local days and clock buckets in real tzdata zones, including DST change
// days, zones with half- and quarter-hour offsets, a 30-minute DST shift and years where DST
// skips midnight; parsing moments as users write them; zone and grouping names.

#include "tracking/report/report_zone.h"

#include <date/tz.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace presence::tracking {
namespace {

namespace data = boost::unit_test::data;

constexpr Millis kMs{1};
constexpr Millis kMinute = std::chrono::minutes(1);
constexpr Millis kHour = std::chrono::hours(1);

Timestamp T(const std::string& text) {
  std::optional<Timestamp> parsed = ParseTime(text);
  if (!parsed) throw std::runtime_error("bad time in test: " + text);
  return *parsed;
}

ReportZone Zone(const std::string& name) {
  Result<ReportZone> zone = ReportZone::Find(name);
  if (!zone.ok()) throw std::runtime_error("zone missing from tzdata: " + name);
  return *zone;
}

std::string Text(const Bucket& bucket) {
  return "[" + FormatTime(bucket.start) + ", " + FormatTime(bucket.end) + ")";
}

// Buckets of `grouping` from one local date's start to the next one's, as local start times.
std::vector<std::string> LocalBucketStarts(const ReportZone& zone, Grouping grouping,
                                           const std::string& date) {
  Timestamp start = *zone.DateStart(date);
  Timestamp end = zone.NextDayStart(start);
  std::vector<std::string> starts;
  for (Timestamp t = start; t < end; t = BucketAt(zone, grouping, t).end) {
    starts.push_back(zone.FormatLocal(BucketAt(zone, grouping, t).start));
  }
  return starts;
}

// FormatLocal as the tzdata says it, slowly: the offset looked up for this instant alone (no
// span kept), the text made with printf.
std::string SlowFormatLocal(const std::string& zone_name, Timestamp t) {
  const date::time_zone* zone = date::locate_zone(zone_name);
  const std::chrono::seconds offset =
      zone->get_info(std::chrono::floor<std::chrono::seconds>(t)).offset;
  const Timestamp local = t + offset;
  const std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<Millis> clock{local - day};
  const long long total = std::llabs(static_cast<long long>(offset.count()));
  char text[128];
  int length = std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03d%c%02lld:%02lld",
      static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
      static_cast<unsigned>(ymd.day()), static_cast<int>(clock.hours().count()),
      static_cast<int>(clock.minutes().count()), static_cast<int>(clock.seconds().count()),
      static_cast<int>(clock.subseconds().count()), offset.count() < 0 ? '-' : '+', total / 3600,
      total / 60 % 60);
  if (total % 60 != 0) std::snprintf(text + length, sizeof text - length, ":%02lld", total % 60);
  return text;
}

// Zones whose offsets exercise every branch: DST, +05:45, -03:30, a 30-minute DST, +08:45,
// +12:45, local mean time with seconds before 1900 (and Monrovia's -00:44:30 until 1972), a
// skipped day (Apia 2011), Alaska's day repeated in 1867, a 2-hour DST (Troll), fixed offsets.
const std::vector<std::string> kFormatZones = {"Europe/Berlin",
                                               "America/New_York",
                                               "Asia/Kolkata",
                                               "Asia/Kathmandu",
                                               "America/St_Johns",
                                               "Australia/Lord_Howe",
                                               "Australia/Eucla",
                                               "Pacific/Chatham",
                                               "Europe/Amsterdam",
                                               "Africa/Monrovia",
                                               "Pacific/Apia",
                                               "America/Juneau",
                                               "Antarctica/Troll",
                                               "Asia/Tehran",
                                               "America/Sao_Paulo",
                                               "Etc/GMT+5",
                                               "UTC",
                                               "Europe/Dublin"};

struct DayCase {
  std::string zone;
  std::string date;
  Millis length;
  std::string utc_start;
  std::string local_start;
};
std::ostream& operator<<(std::ostream& out, const DayCase& c) {
  return out << c.zone << " " << c.date;
}

const std::vector<DayCase> kDays = {
    {"Europe/Berlin", "2026-03-29", 23 * kHour, "2026-03-28T23:00:00.000Z",
     "2026-03-29T00:00:00.000+01:00"},
    {"Europe/Berlin", "2026-10-25", 25 * kHour, "2026-10-24T22:00:00.000Z",
     "2026-10-25T00:00:00.000+02:00"},
    {"Europe/Berlin", "2026-07-01", 24 * kHour, "2026-06-30T22:00:00.000Z",
     "2026-07-01T00:00:00.000+02:00"},
    {"America/New_York", "2026-03-08", 23 * kHour, "2026-03-08T05:00:00.000Z",
     "2026-03-08T00:00:00.000-05:00"},
    {"America/New_York", "2026-11-01", 25 * kHour, "2026-11-01T04:00:00.000Z",
     "2026-11-01T00:00:00.000-04:00"},
    {"Asia/Kolkata", "2026-03-29", 24 * kHour, "2026-03-28T18:30:00.000Z",
     "2026-03-29T00:00:00.000+05:30"},
    // Lord Howe Island shifts by 30 minutes.
    {"Australia/Lord_Howe", "2026-10-04", 23 * kHour + 30 * kMinute, "2026-10-03T13:30:00.000Z",
     "2026-10-04T00:00:00.000+10:30"},
    {"Australia/Lord_Howe", "2026-04-05", 24 * kHour + 30 * kMinute, "2026-04-04T13:00:00.000Z",
     "2026-04-05T00:00:00.000+11:00"},
    // DST begins at midnight: the clock goes from 23:59:59 to 01:00, so the day starts at 01:00.
    {"Asia/Beirut", "2026-03-29", 23 * kHour, "2026-03-28T22:00:00.000Z",
     "2026-03-29T01:00:00.000+03:00"},
    {"America/Havana", "2026-03-08", 23 * kHour, "2026-03-08T05:00:00.000Z",
     "2026-03-08T01:00:00.000-04:00"},
    {"America/Santiago", "2026-09-06", 23 * kHour, "2026-09-06T04:00:00.000Z",
     "2026-09-06T01:00:00.000-03:00"},
    {"UTC", "2026-03-29", 24 * kHour, "2026-03-29T00:00:00.000Z", "2026-03-29T00:00:00.000+00:00"},
};

struct ClockCase {
  std::string zone;
  Grouping grouping;
  std::string at;
  std::string bucket;
};
std::ostream& operator<<(std::ostream& out, const ClockCase& c) {
  return out << c.zone << " " << GroupingName(c.grouping) << " " << c.at;
}

const std::vector<ClockCase> kClockBuckets = {
    {"Europe/Berlin", Grouping::kHalfHour, "2026-11-21T09:47:12.345Z",
     "[2026-11-21T09:30:00.000Z, 2026-11-21T10:00:00.000Z)"},
    {"Europe/Berlin", Grouping::kQuarterHour, "2026-11-21T09:47:12.345Z",
     "[2026-11-21T09:45:00.000Z, 2026-11-21T10:00:00.000Z)"},
    {"Asia/Kolkata", Grouping::kHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:30:00.000Z, 2026-11-21T10:30:00.000Z)"},
    {"Asia/Kolkata", Grouping::kHalfHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:30:00.000Z, 2026-11-21T10:00:00.000Z)"},
    {"Asia/Kolkata", Grouping::kQuarterHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:45:00.000Z, 2026-11-21T10:00:00.000Z)"},
    // Nepal is 5:45 ahead: local 15:32.
    {"Asia/Kathmandu", Grouping::kHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:15:00.000Z, 2026-11-21T10:15:00.000Z)"},
    {"Asia/Kathmandu", Grouping::kHalfHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:45:00.000Z, 2026-11-21T10:15:00.000Z)"},
    {"Asia/Kathmandu", Grouping::kQuarterHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:45:00.000Z, 2026-11-21T10:00:00.000Z)"},
    // Newfoundland is 3:30 behind in winter: local 06:17.
    {"America/St_Johns", Grouping::kHour, "2026-11-21T09:47:00Z",
     "[2026-11-21T09:30:00.000Z, 2026-11-21T10:30:00.000Z)"},
    // New York's repeated 01:00-02:00, first (EDT) and second (EST) time round.
    {"America/New_York", Grouping::kHalfHour, "2026-11-01T05:40:00Z",
     "[2026-11-01T05:30:00.000Z, 2026-11-01T06:00:00.000Z)"},
    {"America/New_York", Grouping::kHalfHour, "2026-11-01T06:10:00Z",
     "[2026-11-01T06:00:00.000Z, 2026-11-01T06:30:00.000Z)"},
    // Lord Howe springs from 02:00 +10:30 to 02:30 +11:00 at 15:30 UTC: the 02:00 hour
    // bucket holds only 02:30-03:00.
    {"Australia/Lord_Howe", Grouping::kHour, "2026-10-03T15:20:00Z",
     "[2026-10-03T14:30:00.000Z, 2026-10-03T15:30:00.000Z)"},
    {"Australia/Lord_Howe", Grouping::kHour, "2026-10-03T15:40:00Z",
     "[2026-10-03T15:30:00.000Z, 2026-10-03T16:00:00.000Z)"},
    {"Australia/Lord_Howe", Grouping::kHalfHour, "2026-10-03T15:40:00Z",
     "[2026-10-03T15:30:00.000Z, 2026-10-03T16:00:00.000Z)"},
    // ... and falls back from 02:00 +11:00 to 01:30 +10:30 at 15:00 UTC: the 01:00 hour gets a
    // full bucket and then one of 01:30-02:00.
    {"Australia/Lord_Howe", Grouping::kHour, "2026-04-04T14:50:00Z",
     "[2026-04-04T14:00:00.000Z, 2026-04-04T15:00:00.000Z)"},
    {"Australia/Lord_Howe", Grouping::kHour, "2026-04-04T15:10:00Z",
     "[2026-04-04T15:00:00.000Z, 2026-04-04T15:30:00.000Z)"},
    {"UTC", Grouping::kQuarterHour, "1969-12-31T23:59:59.999Z",
     "[1969-12-31T23:45:00.000Z, 1970-01-01T00:00:00.000Z)"},
};

struct MomentCase {
  std::string zone;
  std::string text;
  std::string utc;  // "" when the text must be refused
};
std::ostream& operator<<(std::ostream& out, const MomentCase& c) {
  return out << c.zone << " '" << c.text << "'";
}

const std::vector<MomentCase> kMoments = {
    {"Europe/Berlin", "2026-03-29T08:30:00Z", "2026-03-29T08:30:00.000Z"},
    {"Europe/Berlin", "2026-03-29T08:30:00.000+05:30", "2026-03-29T03:00:00.000Z"},
    {"Europe/Berlin", "2026-03-29", "2026-03-28T23:00:00.000Z"},
    {"Europe/Berlin", "2026-03-29T08:30", "2026-03-29T06:30:00.000Z"},
    {"Europe/Berlin", "2026-03-29 08:30:15", "2026-03-29T06:30:15.000Z"},
    {"Europe/Berlin", "2026-03-29T08:30:15.250", "2026-03-29T06:30:15.250Z"},
    {"Europe/Berlin", "2026-03-29T08:30:15.2509", "2026-03-29T06:30:15.250Z"},
    {"Europe/Berlin", "2026-01-15T08:30", "2026-01-15T07:30:00.000Z"},
    // Skipped by spring-forward: moves on by the gap (02:30 becomes 03:30).
    {"Europe/Berlin", "2026-03-29T02:30", "2026-03-29T01:30:00.000Z"},
    {"America/New_York", "2026-03-08T02:30", "2026-03-08T07:30:00.000Z"},
    {"Australia/Lord_Howe", "2026-10-04T02:10", "2026-10-03T15:40:00.000Z"},
    {"Asia/Beirut", "2026-03-29T00:30", "2026-03-28T22:30:00.000Z"},
    {"Asia/Beirut", "2026-03-29", "2026-03-28T22:00:00.000Z"},
    // Repeated by fall-back: the first occurrence.
    {"America/New_York", "2026-11-01T01:30", "2026-11-01T05:30:00.000Z"},
    {"Europe/Berlin", "2026-10-25T02:30", "2026-10-25T00:30:00.000Z"},
    {"Asia/Kolkata", "2026-03-29T08:30", "2026-03-29T03:00:00.000Z"},
    {"UTC", "2026-03-29T08:30", "2026-03-29T08:30:00.000Z"},
    {"UTC", "2026-03-29", "2026-03-29T00:00:00.000Z"},
    // Refused.
    {"Europe/Berlin", "", ""},
    {"Europe/Berlin", "yesterday", ""},
    {"Europe/Berlin", "2026-03-29T8:30", ""},
    {"Europe/Berlin", "2026-03-29T08:30:", ""},
    {"Europe/Berlin", "2026-03-29T08:30:15.", ""},
    {"Europe/Berlin", "2026-03-29T08", ""},
    {"Europe/Berlin", "2026-03-29T24:00", ""},
    {"Europe/Berlin", "2026-03-29T08:60", ""},
    {"Europe/Berlin", "2026-03-29T08:30:60", ""},
    {"Europe/Berlin", "2026-02-30", ""},
    {"Europe/Berlin", "2026-03-29T08:30 ", ""},
    {"Europe/Berlin", " 2026-03-29", ""},
    {"Europe/Berlin", "2026-03-29X08:30", ""},
    {"Europe/Berlin", "2026-03-29T08:30+02", ""},
    {"UTC", "29.03.2026", ""},
};

const std::vector<std::string> kWalkZones = {
    "UTC",           "Europe/Berlin",       "America/New_York", "Asia/Kolkata",
    "Asia/Beirut",   "Australia/Lord_Howe", "America/Santiago", "America/St_Johns",
    "Asia/Kathmandu"};

const std::vector<Grouping> kTimedGroupings = {Grouping::kDay, Grouping::kHour, Grouping::kHalfHour,
                                               Grouping::kQuarterHour};
const std::vector<std::string> kTimedGroupingNames = {"day", "hour", "30min", "15min"};

struct GroupingCase {
  Grouping grouping;
  std::string name;
};
std::ostream& operator<<(std::ostream& out, const GroupingCase& c) { return out << c.name; }

const std::vector<GroupingCase> kGroupingCases = {{Grouping::kNone, "none"},
                                                  {Grouping::kDay, "day"},
                                                  {Grouping::kHour, "hour"},
                                                  {Grouping::kHalfHour, "30min"},
                                                  {Grouping::kQuarterHour, "15min"}};

}  // namespace

BOOST_AUTO_TEST_SUITE(report_zone_test)

BOOST_AUTO_TEST_CASE(utc_works_without_tzdata_and_matches_the_tzdata_zone) {
  ReportZone utc = ReportZone::Utc();
  BOOST_TEST(utc.name() == "UTC");
  BOOST_TEST(utc.Offset(T("2026-07-01T12:00:00Z")).count() == 0);
  BOOST_TEST(utc.FormatLocal(T("2026-07-01T12:34:56.789Z")) == "2026-07-01T12:34:56.789+00:00");
  BOOST_TEST(utc.LocalDate(T("2026-07-01T23:59:59.999Z")) == "2026-07-01");
  Result<ReportZone> found = ReportZone::Find("UTC");
  BOOST_TEST_REQUIRE(found.ok());
  BOOST_TEST(found->name() == "UTC");
  ReportZone etc = Zone("Etc/UTC");
  for (const ReportZone& other : {*found, etc}) {
    for (Timestamp t = T("2026-03-28T21:07:00Z"); t < T("2026-03-30T02:00:00Z");
         t += 17 * kMinute) {
      BOOST_TEST(other.Offset(t).count() == 0);
      BOOST_TEST(other.FormatLocal(t) == utc.FormatLocal(t));
      BOOST_TEST(FormatTime(other.DayStart(t)) == FormatTime(UtcDayStart(t)));
      BOOST_TEST(FormatTime(other.NextDayStart(t)) == FormatTime(utc.NextDayStart(t)));
      for (Grouping grouping : kTimedGroupings) {
        BOOST_TEST(Text(BucketAt(other, grouping, t)) == Text(BucketAt(utc, grouping, t)));
      }
    }
    BOOST_TEST(FormatTime(*other.ParseMoment("2026-03-29T08:30")) == "2026-03-29T08:30:00.000Z");
  }
}

BOOST_DATA_TEST_CASE(days_run_from_local_midnight_to_local_midnight, data::make(kDays), c) {
  ReportZone zone = Zone(c.zone);
  std::optional<Timestamp> start = zone.DateStart(c.date);
  BOOST_TEST_REQUIRE(start.has_value());
  BOOST_TEST(FormatTime(*start) == c.utc_start);
  BOOST_TEST(zone.FormatLocal(*start) == c.local_start);
  Timestamp end = zone.NextDayStart(*start);
  BOOST_TEST((end - *start).count() == c.length.count());
  BOOST_TEST(zone.LocalDate(*start) == c.date);
  BOOST_TEST(zone.LocalDate(end - kMs) == c.date);
  BOOST_TEST(zone.LocalDate(end) != c.date);
  BOOST_TEST(FormatTime(zone.DayStart(end - kMs)) == c.utc_start);
  // The day before ends where this one begins.
  BOOST_TEST(FormatTime(zone.NextDayStart(*start - kMs)) == c.utc_start);
  BOOST_TEST(Text(BucketAt(zone, Grouping::kDay, *start + c.length / 2)) ==
             Text(Bucket{*start, end}));
}

// Alaska moved from Russian to American time in 1867 and its clock went back a whole day, so
// one date came twice. Time keeps running in the day that had begun: one 48-hour bucket.
BOOST_AUTO_TEST_CASE(date_repeated_by_an_offset_change_stays_in_one_day_bucket) {
  ReportZone zone = Zone("America/Juneau");
  Bucket before = BucketAt(zone, Grouping::kDay, T("1867-10-19T00:00:00Z"));
  BOOST_TEST(Text(before) == "[1867-10-18T08:57:41.000Z, 1867-10-20T08:57:41.000Z)");
  BOOST_TEST(zone.LocalDate(T("1867-10-19T06:00:00Z")) == "1867-10-18");  // the clock went back
  BOOST_TEST(Text(BucketAt(zone, Grouping::kDay, T("1867-10-19T06:00:00Z"))) == Text(before));
  BOOST_TEST(FormatTime(zone.DayStart(T("1867-10-19T06:00:00Z"))) == "1867-10-18T08:57:41.000Z");
  BOOST_TEST(FormatTime(zone.NextDayStart(T("1867-10-19T06:00:00Z"))) ==
             "1867-10-20T08:57:41.000Z");
}

BOOST_AUTO_TEST_CASE(new_york_spring_forward_has_no_2am_hour_bucket) {
  std::vector<std::string> starts =
      LocalBucketStarts(Zone("America/New_York"), Grouping::kHour, "2026-03-08");
  BOOST_TEST_REQUIRE(starts.size() == 23u);
  std::vector<std::string> first(starts.begin(), starts.begin() + 4);
  BOOST_TEST(first == (std::vector<std::string>{
                          "2026-03-08T00:00:00.000-05:00", "2026-03-08T01:00:00.000-05:00",
                          "2026-03-08T03:00:00.000-04:00", "2026-03-08T04:00:00.000-04:00"}),
             boost::test_tools::per_element());
  BOOST_TEST(starts.back() == "2026-03-08T23:00:00.000-04:00");
}

BOOST_AUTO_TEST_CASE(new_york_fall_back_has_two_1am_hour_buckets) {
  ReportZone zone = Zone("America/New_York");
  std::vector<std::string> starts = LocalBucketStarts(zone, Grouping::kHour, "2026-11-01");
  BOOST_TEST_REQUIRE(starts.size() == 25u);
  std::vector<std::string> first(starts.begin(), starts.begin() + 4);
  BOOST_TEST(first == (std::vector<std::string>{
                          "2026-11-01T00:00:00.000-04:00", "2026-11-01T01:00:00.000-04:00",
                          "2026-11-01T01:00:00.000-05:00", "2026-11-01T02:00:00.000-05:00"}),
             boost::test_tools::per_element());
  Bucket second = BucketAt(zone, Grouping::kHour, T("2026-11-01T06:00:00Z"));
  BOOST_TEST(Text(second) == "[2026-11-01T06:00:00.000Z, 2026-11-01T07:00:00.000Z)");
}

BOOST_AUTO_TEST_CASE(kolkata_hour_buckets_start_at_half_past_utc) {
  ReportZone zone = Zone("Asia/Kolkata");
  Timestamp start = *zone.DateStart("2026-03-29");
  for (Timestamp t = start; t < zone.NextDayStart(start); t += kHour) {
    Bucket bucket = BucketAt(zone, Grouping::kHour, t + 59 * kMinute);
    BOOST_TEST(Text(bucket) == Text(Bucket{t, t + kHour}));
    BOOST_TEST(FormatTime(bucket.start).substr(13) == ":30:00.000Z");
    BOOST_TEST(zone.FormatLocal(bucket.start).substr(13) == ":00:00.000+05:30");
  }
}

BOOST_DATA_TEST_CASE(clock_buckets_start_at_local_multiples_and_offset_changes,
                     data::make(kClockBuckets), c) {
  BOOST_TEST(Text(BucketAt(Zone(c.zone), c.grouping, T(c.at))) == c.bucket);
}

BOOST_AUTO_TEST_CASE(lord_howe_spring_forward_day_has_a_half_hour_bucket) {
  std::vector<std::string> starts =
      LocalBucketStarts(Zone("Australia/Lord_Howe"), Grouping::kHour, "2026-10-04");
  BOOST_TEST_REQUIRE(starts.size() == 24u);
  std::vector<std::string> first(starts.begin(), starts.begin() + 4);
  BOOST_TEST(first == (std::vector<std::string>{
                          "2026-10-04T00:00:00.000+10:30", "2026-10-04T01:00:00.000+10:30",
                          "2026-10-04T02:30:00.000+11:00", "2026-10-04T03:00:00.000+11:00"}),
             boost::test_tools::per_element());
}

// Walks a whole local year bucket by bucket: every bucket holds the instant it was asked for,
// starts where the previous one ended, is the same bucket for its last millisecond, and days
// are exactly [DayStart, NextDayStart).
BOOST_DATA_TEST_CASE(buckets_tile_a_year_without_gaps_or_overlaps,
                     data::make(kWalkZones) * data::make(kTimedGroupingNames), zone_name,
                     grouping_name) {
  ReportZone zone = Zone(zone_name);
  Grouping grouping = *GroupingFromName(grouping_name);
  Timestamp year_start = *zone.DateStart("2026-01-01");
  Timestamp year_end = *zone.DateStart("2027-01-01");
  Timestamp expected_start = year_start;
  int count = 0;
  int failures = 0;
  for (Timestamp t = year_start; t < year_end && failures < 5; ++count) {
    Bucket bucket = BucketAt(zone, grouping, t);
    bool ok = bucket.start == expected_start && bucket.start <= t && t < bucket.end &&
              Text(BucketAt(zone, grouping, bucket.end - kMs)) == Text(bucket) &&
              (grouping != Grouping::kDay ||
               (zone.DayStart(t) == bucket.start && zone.NextDayStart(t) == bucket.end));
    if (!ok) {
      ++failures;
      BOOST_ERROR("bucket " << Text(bucket) << " for " << FormatTime(t) << ", expected start "
                            << FormatTime(expected_start));
    }
    expected_start = bucket.end;
    // Ask in the middle of the next bucket half the time, at its first millisecond otherwise.
    t = count % 2 == 0 ? bucket.end : bucket.end + kMinute;
    if (t >= BucketAt(zone, grouping, bucket.end).end) t = bucket.end;
  }
  BOOST_TEST(FormatTime(expected_start) == FormatTime(year_end));
  if (grouping == Grouping::kDay) BOOST_TEST(count == 365);
}

BOOST_DATA_TEST_CASE(local_date_and_date_start_round_trip, data::make(kWalkZones), zone_name) {
  ReportZone zone = Zone(zone_name);
  for (Timestamp t = T("2026-01-01T00:00:00Z"); t < T("2027-01-01T00:00:00Z");
       t += 7 * kHour + 13 * kMinute) {
    std::string date = zone.LocalDate(t);
    std::optional<Timestamp> start = zone.DateStart(date);
    BOOST_TEST_REQUIRE(start.has_value());
    BOOST_TEST(FormatTime(*start) == FormatTime(zone.DayStart(t)), date);
    BOOST_TEST(zone.LocalDate(*start) == date);
    BOOST_TEST(FormatTime(*zone.ParseMoment(date)) == FormatTime(*start));
  }
}

BOOST_DATA_TEST_CASE(date_start_refuses_what_is_not_a_date,
                     data::make(std::vector<std::string>{
                         "", "2026-02-29", "2026-13-01", "2026-00-10", "2026-3-29", "20260329",
                         "2026-03-29T00:00", "2026-03-29 ", "2026/03/29", "2026-03-32"}),
                     text) {
  BOOST_TEST(!Zone("Europe/Berlin").DateStart(text).has_value());
  BOOST_TEST(!ReportZone::Utc().DateStart(text).has_value());
}

BOOST_DATA_TEST_CASE(parse_moment_reads_absolute_and_local_times, data::make(kMoments), c) {
  std::optional<Timestamp> parsed = Zone(c.zone).ParseMoment(c.text);
  if (c.utc.empty()) {
    BOOST_TEST(!parsed.has_value());
  } else {
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(FormatTime(*parsed) == c.utc);
  }
}

BOOST_AUTO_TEST_CASE(format_local_shows_the_offset_in_effect) {
  ReportZone new_york = Zone("America/New_York");
  BOOST_TEST(new_york.FormatLocal(T("2026-11-01T05:30:00Z")) == "2026-11-01T01:30:00.000-04:00");
  BOOST_TEST(new_york.FormatLocal(T("2026-11-01T06:30:00Z")) == "2026-11-01T01:30:00.000-05:00");
  BOOST_TEST(Zone("Europe/Berlin").FormatLocal(T("2026-03-29T01:00:00Z")) ==
             "2026-03-29T03:00:00.000+02:00");
  BOOST_TEST(Zone("Europe/Berlin").FormatLocal(T("2026-03-29T00:59:59.999Z")) ==
             "2026-03-29T01:59:59.999+01:00");
  BOOST_TEST(Zone("America/St_Johns").FormatLocal(T("2026-01-10T12:00:00Z")) ==
             "2026-01-10T08:30:00.000-03:30");
  // Local mean time before standard time had whole-second offsets.
  BOOST_TEST(Zone("Europe/Berlin").FormatLocal(T("1890-01-01T00:00:00Z")) ==
             "1890-01-01T00:53:28.000+00:53:28");
}

BOOST_AUTO_TEST_CASE(fast_local_format_matches_tzdata_at_random_instants_and_every_change) {
  std::mt19937_64 random(20261207);
  // 1700 to 2200, and far dates: year 1, years past 9999 and before year 0.
  std::uniform_int_distribution<long long> near(-8520336000000LL, 7258118400000LL);
  std::uniform_int_distribution<long long> far(-62135596800000LL * 2, 253402300800000LL * 2);
  std::vector<ReportZone> zones;
  for (const std::string& name : kFormatZones) zones.push_back(Zone(name));
  std::uniform_int_distribution<std::size_t> pick(0, zones.size() - 1);
  // Zones interleaved at random, so the span kept from the last call is often another zone's.
  for (int i = 0; i < 200000; ++i) {
    const std::size_t z = pick(random);
    const Timestamp t{Millis(i % 10 == 0 ? far(random) : near(random))};
    char text[ReportZone::kLocalTextMax];
    const std::string fast(text, zones[z].FormatLocalTo(text, t));
    const std::string expected = SlowFormatLocal(kFormatZones[z], t);
    BOOST_TEST_REQUIRE(fast == expected, kFormatZones[z] << " at " << t.time_since_epoch().count());
    BOOST_TEST_REQUIRE(zones[z].FormatLocal(t) == expected);
  }
  // Around every offset change from 1800 to 2100: the last millisecond before, the first after.
  for (std::size_t z = 0; z < zones.size(); ++z) {
    const date::time_zone* zone = date::locate_zone(kFormatZones[z]);
    date::sys_seconds at{std::chrono::seconds(-5364662400LL)};            // 1800-01-01
    while (at < date::sys_seconds{std::chrono::seconds(4102444800LL)}) {  // 2100-01-01
      date::sys_info info = zone->get_info(at);
      if (info.end >= date::sys_seconds{std::chrono::seconds(4102444800LL)}) break;
      const Timestamp change{info.end};
      for (const Timestamp t :
           {change - kMs, change, change + kMs, change - kHour, change + kHour}) {
        char text[ReportZone::kLocalTextMax];
        BOOST_TEST_REQUIRE(std::string(text, zones[z].FormatLocalTo(text, t)) ==
                               SlowFormatLocal(kFormatZones[z], t),
                           kFormatZones[z] << " at " << FormatTime(t));
      }
      at = info.end;
    }
  }
}

BOOST_AUTO_TEST_CASE(day_buckets_do_not_depend_on_what_was_asked_before) {
  // Day starts are kept per thread; asked in a shuffled order across zones, every answer must
  // be the one asked in order, zone by zone.
  const std::vector<std::string> names = {
      "Europe/Berlin",  "Asia/Kolkata",        "Pacific/Apia",  "America/Sao_Paulo",
      "Asia/Kathmandu", "Australia/Lord_Howe", "America/Juneau"};
  struct Ask {
    std::size_t zone;
    Timestamp t;
    Bucket expected;
  };
  std::vector<Ask> asks;
  std::mt19937_64 random(7);
  for (std::size_t z = 0; z < names.size(); ++z) {
    ReportZone zone = Zone(names[z]);
    for (Timestamp t = T("2011-12-25T00:00:00Z"); t < T("2012-01-05T00:00:00Z"); t += 7 * kMinute) {
      asks.push_back({z, t, BucketAt(zone, Grouping::kDay, t)});
    }
    for (Timestamp t = T("1867-10-15T00:00:00Z"); t < T("1867-10-22T00:00:00Z");
         t += 11 * kMinute) {
      asks.push_back({z, t, BucketAt(zone, Grouping::kDay, t)});
    }
  }
  std::shuffle(asks.begin(), asks.end(), random);
  std::vector<ReportZone> zones;
  for (const std::string& name : names) zones.push_back(Zone(name));
  for (const Ask& ask : asks) {
    BOOST_TEST_REQUIRE(Text(BucketAt(zones[ask.zone], Grouping::kDay, ask.t)) == Text(ask.expected),
                       names[ask.zone] << " at " << FormatTime(ask.t));
  }
}

BOOST_AUTO_TEST_CASE(offsets_of_different_zones_never_mix) {
  ReportZone berlin = Zone("Europe/Berlin");
  ReportZone new_york = Zone("America/New_York");
  ReportZone kolkata = Zone("Asia/Kolkata");
  for (Timestamp t = T("2026-03-01T00:00:00Z"); t < T("2026-04-01T00:00:00Z"); t += 5 * kHour) {
    bool berlin_summer = t >= T("2026-03-29T01:00:00Z");
    bool new_york_summer = t >= T("2026-03-08T07:00:00Z");
    BOOST_TEST(berlin.Offset(t).count() == (berlin_summer ? 7200 : 3600));
    BOOST_TEST(new_york.Offset(t).count() == (new_york_summer ? -14400 : -18000));
    BOOST_TEST(kolkata.Offset(t).count() == 19800);
    BOOST_TEST(Text(BucketAt(kolkata, Grouping::kHour, t)) ==
               Text(Bucket{t - 30 * kMinute, t + 30 * kMinute}));
    BOOST_TEST(Text(BucketAt(berlin, Grouping::kHour, t)) == Text(Bucket{t, t + kHour}));
  }
}

BOOST_AUTO_TEST_CASE(find_accepts_iana_names_and_their_aliases) {
  BOOST_TEST(Zone("Europe/Berlin").name() == "Europe/Berlin");
  BOOST_TEST(Zone("US/Eastern").Offset(T("2026-01-10T12:00:00Z")).count() == -18000);
  // POSIX signs: Etc/GMT+5 is five hours behind UTC.
  BOOST_TEST(Zone("Etc/GMT+5").Offset(T("2026-07-10T12:00:00Z")).count() == -18000);
  BOOST_TEST(Zone("Etc/GMT+5").name() == "Etc/GMT+5");
}

BOOST_AUTO_TEST_CASE(unknown_zone_names_the_closest_known_one) {
  Result<ReportZone> zone = ReportZone::Find("Europe/Berln");
  BOOST_TEST_REQUIRE(!zone.ok());
  BOOST_TEST(zone.error().code == "unknown_time_zone");
  BOOST_TEST(zone.error().message.rfind("no time zone 'Europe/Berln'; did you mean "
                                        "'Europe/Berlin'? Names are IANA zones",
                                        0) == 0u,
             zone.error().message);
  Result<ReportZone> lower = ReportZone::Find("europe/berlin");
  BOOST_TEST_REQUIRE(!lower.ok());
  BOOST_TEST(lower.error().message.find("did you mean 'Europe/Berlin'?") != std::string::npos);
}

BOOST_DATA_TEST_CASE(unknown_zone_without_a_close_name_suggests_nothing,
                     data::make(std::vector<std::string>{"", "Mars/Olympus_Mons", "Atlantis",
                                                         "+02:00", "../../etc/passwd"}),
                     name) {
  Result<ReportZone> zone = ReportZone::Find(name);
  BOOST_TEST_REQUIRE(!zone.ok());
  BOOST_TEST(zone.error().code == "unknown_time_zone");
  BOOST_TEST(zone.error().message.find("did you mean") == std::string::npos, zone.error().message);
  BOOST_TEST(zone.error().message.find("Names are IANA zones") != std::string::npos);
}

BOOST_DATA_TEST_CASE(grouping_names_round_trip, data::make(kGroupingCases), c) {
  BOOST_TEST(GroupingName(c.grouping) == c.name);
  std::optional<Grouping> parsed = GroupingFromName(c.name);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST((*parsed == c.grouping));
  BOOST_TEST(GroupingNames().find(c.name) != std::string::npos);
}

// The list an invalid group_by answer offers.
BOOST_AUTO_TEST_CASE(grouping_names_list_every_grouping_in_order) {
  BOOST_TEST(GroupingNames() == "none, day, hour, 30min, 15min");
}

BOOST_DATA_TEST_CASE(grouping_from_name_refuses_other_names,
                     data::make(std::vector<std::string>{"", "Hour", "hours", "60min", "days",
                                                         "none ", "15", "week"}),
                     name) {
  BOOST_TEST(!GroupingFromName(name).has_value());
}

BOOST_AUTO_TEST_CASE(ungrouped_bucket_covers_all_time) {
  Bucket bucket = BucketAt(Zone("Europe/Berlin"), Grouping::kNone, T("2026-03-29T01:00:00Z"));
  BOOST_TEST((bucket.start == Timestamp::min()));
  BOOST_TEST((bucket.end == Timestamp::max()));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking
