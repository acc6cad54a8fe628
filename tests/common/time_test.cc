#include "common/time.h"

#include <date/date.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace presence::tracking {
namespace {

namespace data = boost::unit_test::data;

Timestamp At(int year, unsigned month, unsigned day, int hour = 0, int minute = 0, int second = 0,
             int millis = 0) {
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                   std::chrono::day(day)};
  return Timestamp(std::chrono::sys_days(date)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second) + Millis(millis);
}

struct Accepted {
  std::string text;
  std::string utc;  // what FormatTime prints for the parsed instant
};
std::ostream& operator<<(std::ostream& out, const Accepted& c) { return out << c.text; }

const std::vector<Accepted> kAccepted = {
    {"2026-11-21T09:30:00.000Z", "2026-11-21T09:30:00.000Z"},
    {"2026-11-21T09:30:00Z", "2026-11-21T09:30:00.000Z"},
    {"2026-11-21 09:30:00Z", "2026-11-21T09:30:00.000Z"},
    {"2026-11-21T09:30:00.5Z", "2026-11-21T09:30:00.500Z"},
    {"2026-11-21T09:30:00.12Z", "2026-11-21T09:30:00.120Z"},
    {"2026-11-21T09:30:00.123999Z", "2026-11-21T09:30:00.123Z"},
    {"2026-11-21T09:30:00.000+00:00", "2026-11-21T09:30:00.000Z"},
    {"2026-11-21T11:30:00.000+02:00", "2026-11-21T09:30:00.000Z"},
    {"2026-11-21T04:00:00.250-05:30", "2026-11-21T09:30:00.250Z"},
    {"2026-11-21T01:00:00+02:00", "2026-11-20T23:00:00.000Z"},
    {"2026-12-31T22:00:00-03:00", "2027-01-01T01:00:00.000Z"},
    {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"},
    {"2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"},
    {"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
    {"2026-03-01T00:30:00+01:00", "2026-02-28T23:30:00.000Z"},
};

// Each of these breaks exactly one rule of the format.
const std::vector<std::string> kRejected = {
    "",
    "2026-11-21",
    "2026-11-21T09:30:00",         // no zone
    "2026-11-21T09:30Z",           // no seconds
    "2026-11-21T09:30:00.Z",       // '.' without digits
    "2026-11-21T09:30:00.000z",    // lower-case zone
    "2026-11-21t09:30:00Z",        // lower-case separator
    "2026-11-21_09:30:00Z",        // other separator
    "2026-11-21T09:30:00.000Z ",   // trailing space
    " 2026-11-21T09:30:00.000Z",   // leading space
    "2026-11-21T09:30:00.000ZZ",   // trailing junk
    "26-11-21T09:30:00Z",          // two-digit year
    "2026-1-21T09:30:00Z",         // one-digit month
    "2026-11-1T09:30:00Z",         // one-digit day
    "2026-11-21T9:30:00Z",         // one-digit hour
    "2026-13-01T00:00:00Z",        // month 13
    "2026-00-10T00:00:00Z",        // month 0
    "2026-11-00T00:00:00Z",        // day 0
    "2026-11-31T00:00:00Z",        // November has 30 days
    "2026-01-32T00:00:00Z",        // day 32
    "2026-02-29T00:00:00Z",        // 2026 is not a leap year
    "2024-02-30T00:00:00Z",        // February 30 even in a leap year
    "1900-02-29T00:00:00Z",        // century not divisible by 400
    "2026-11-21T24:00:00Z",        // hour 24
    "2026-11-21T25:00:00Z",        // hour 25
    "2026-11-21T09:60:00Z",        // minute 60
    "2026-11-21T09:30:60Z",        // leap second
    "2026-11-21T09:30:00+24:00",   // offset hour 24
    "2026-11-21T09:30:00+02:60",   // offset minute 60
    "2026-11-21T09:30:00+0200",    // offset without colon
    "2026-11-21T09:30:00+02",      // offset without minutes
    "2026-11-21T09:30:00 +02:00",  // space before offset
    "2026-11-21T09:3a:00Z",        // not a digit
    "2026/11/21T09:30:00Z",        // other date separator
    "+2026-11-21T09:30:00Z",       // signed year
    "2026-11-21T09:30:00.-5Z",     // sign in the fraction
};

struct SecondsCase {
  long long millis;
  std::string text;
};
std::ostream& operator<<(std::ostream& out, const SecondsCase& c) { return out << c.millis; }

const std::vector<SecondsCase> kSeconds = {
    {0, "0"},        {95000, "95"},   {95500, "95.5"},         {125, "0.125"},
    {1050, "1.05"},  {1, "0.001"},    {999, "0.999"},          {3600000, "3600"},
    {-1500, "-1.5"}, {-250, "-0.25"}, {86400001, "86400.001"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(time_test)

BOOST_AUTO_TEST_CASE(formats_utc_with_milliseconds) {
  BOOST_TEST(FormatTime(At(2026, 11, 21, 9, 30)) == "2026-11-21T09:30:00.000Z");
  BOOST_TEST(FormatTime(At(2026, 1, 2, 3, 4, 5, 6)) == "2026-01-02T03:04:05.006Z");
  BOOST_TEST(FormatTime(FromEpochMillis(0)) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(FormatTime(FromEpochMillis(-1)) == "1969-12-31T23:59:59.999Z");
}

BOOST_DATA_TEST_CASE(parses_accepted_forms_to_utc, data::make(kAccepted), sample) {
  auto parsed = ParseTime(sample.text);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(FormatTime(*parsed) == sample.utc);
}

BOOST_DATA_TEST_CASE(rejects_malformed_or_out_of_range_text, data::make(kRejected), text) {
  BOOST_TEST(!ParseTime(text).has_value());
}

BOOST_AUTO_TEST_CASE(format_then_parse_round_trips_every_millisecond_field) {
  // Instants around month ends, leap days, year ends and before the epoch.
  std::vector<Timestamp> instants = {
      At(2026, 11, 21, 9, 30),           At(2024, 2, 29, 23, 59, 59, 999),
      At(2026, 12, 31, 23, 59, 59, 999), At(2027, 1, 1),
      At(1999, 12, 31, 12, 0, 0, 1),     At(1969, 7, 20, 20, 17, 40, 120),
      At(9999, 12, 31, 23, 59, 59, 999), At(0, 1, 1),
  };
  for (Millis step : {Millis(1), Millis(999), Millis(60001), Millis(86399999)}) {
    instants.push_back(At(2026, 3, 1) - step);
  }
  for (Timestamp t : instants) {
    auto parsed = ParseTime(FormatTime(t));
    BOOST_TEST_REQUIRE(parsed.has_value(), FormatTime(t));
    BOOST_TEST(ToEpochMillis(*parsed) == ToEpochMillis(t), FormatTime(t));
  }
}

// FormatTime writes std::chrono's calendar fields digit by digit rather than date::format, which
// writes the same text but costs about four times as much (see time.h). date::format is the
// reference here: every year 0000-9999 at its first and last millisecond, and one instant per
// year in between at a varying millisecond, including February 29.
BOOST_AUTO_TEST_CASE(format_time_writes_what_date_format_writes_for_years_0000_to_9999) {
  using namespace std::chrono;
  for (int y = 0; y < 10000; ++y) {
    const sys_days first{year{y} / January / 1};
    const sys_days leap_or_march{year{y}.is_leap() ? year{y} / February / 29 : year{y} / March / 1};
    const Millis odd((y * 7919LL) % 86400000);
    for (Timestamp t :
         {Timestamp(first), Timestamp(sys_days{year{y} / December / 31}) + Millis(86399999),
          Timestamp(leap_or_march) + odd}) {
      BOOST_TEST_REQUIRE(FormatTime(t) == date::format("%FT%TZ", t), ToEpochMillis(t));
    }
  }
  for (long long ms : {-86400001LL, -1001LL, -1LL, 0LL, 1LL, 999LL, 1000LL, 1700000000123LL}) {
    BOOST_TEST(FormatTime(FromEpochMillis(ms)) == date::format("%FT%TZ", FromEpochMillis(ms)), ms);
  }
}

BOOST_AUTO_TEST_CASE(offsets_convert_to_the_same_utc_instant) {
  auto utc = ParseTime("2026-11-21T09:30:00.000Z");
  auto east = ParseTime("2026-11-21T15:00:00.000+05:30");
  auto west = ParseTime("2026-11-20T23:30:00.000-10:00");
  BOOST_TEST_REQUIRE((utc && east && west));
  BOOST_TEST(ToEpochMillis(*east) == ToEpochMillis(*utc));
  BOOST_TEST(ToEpochMillis(*west) == ToEpochMillis(*utc));
}

BOOST_DATA_TEST_CASE(formats_seconds_without_needless_digits, data::make(kSeconds), sample) {
  BOOST_TEST(FormatSeconds(Millis(sample.millis)) == sample.text);
}

BOOST_AUTO_TEST_CASE(formats_hours_minutes_and_seconds_for_people) {
  BOOST_TEST(FormatHms(Millis(0)) == "0:00:00");
  BOOST_TEST(FormatHms(Millis(999)) == "0:00:00");
  BOOST_TEST(FormatHms(Millis(3909500)) == "1:05:09");
  BOOST_TEST(FormatHms(Millis(86399999)) == "23:59:59");
  BOOST_TEST(FormatHms(Millis(90000000)) == "25:00:00");  // hours are not wrapped at 24
  BOOST_TEST(FormatHms(Millis(360000000000)) == "100000:00:00");
}

BOOST_AUTO_TEST_CASE(day_start_is_the_utc_midnight_at_or_before) {
  BOOST_TEST(FormatTime(UtcDayStart(At(2026, 11, 21, 9, 30))) == "2026-11-21T00:00:00.000Z");
  BOOST_TEST(FormatTime(UtcDayStart(At(2026, 11, 21))) == "2026-11-21T00:00:00.000Z");
  BOOST_TEST(FormatTime(UtcDayStart(At(2026, 11, 21) - Millis(1))) == "2026-11-20T00:00:00.000Z");
  BOOST_TEST(FormatTime(UtcDayStart(FromEpochMillis(-1))) == "1969-12-31T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(day_number_counts_days_since_the_epoch) {
  BOOST_TEST(UtcDayNumber(FromEpochMillis(0)) == 0);
  BOOST_TEST(UtcDayNumber(FromEpochMillis(86399999)) == 0);
  BOOST_TEST(UtcDayNumber(FromEpochMillis(86400000)) == 1);
  BOOST_TEST(UtcDayNumber(FromEpochMillis(-1)) == -1);
  BOOST_TEST(UtcDayNumber(At(2026, 11, 21, 23, 59)) == 20778);
}

BOOST_AUTO_TEST_CASE(system_clock_reads_the_wall_clock) {
  auto before = std::chrono::floor<Millis>(std::chrono::system_clock::now());
  Timestamp now = SystemClock().Now();
  auto after = std::chrono::ceil<Millis>(std::chrono::system_clock::now());
  BOOST_TEST(ToEpochMillis(now) >= before.time_since_epoch().count());
  BOOST_TEST(ToEpochMillis(now) <= after.time_since_epoch().count());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking
