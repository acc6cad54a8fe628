// Time reports: cutting at local bucket edges, counting up to `now`, the status filter, the
// detail export agreeing with the grouped report, and both agreeing with the store's totals.

#include "tracking/report/time_report.h"

#include <array>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/tracking/store_test_support.h"
#include "tracking/memory/memory_time_store.h"

namespace presence::tracking::test {
namespace {

namespace data = boost::unit_test::data;

// An interval of the fixed test catalog (store_test_support.h); end "" for an open one.
Interval Make(const std::string& agent, const std::string& label, const std::string& start,
              const std::string& end = "") {
  Change change = MakeChange(agent, start, label);
  Interval interval;
  interval.agent = agent;
  interval.label = change.label;
  interval.reason_code = change.reason_code;
  interval.status = change.status;
  interval.start = change.at;
  if (!end.empty()) interval.end = T(end);
  return interval;
}

ReportSpec Spec(const std::string& from, const std::string& to, const std::string& now,
                Grouping grouping = Grouping::kNone, ReportZone zone = ReportZone::Utc()) {
  ReportSpec spec;
  spec.from = T(from);
  spec.to = T(to);
  spec.now = T(now);
  spec.grouping = grouping;
  spec.zone = std::move(zone);
  return spec;
}

std::string StatesText(const std::vector<StateTime>& states) {
  std::string text;
  for (const StateTime& state : states) {
    text += " " + state.label + "/" + std::to_string(reasoncodes::ToInt(state.status)) + "=" +
            FormatSeconds(state.duration);
  }
  return text;
}

// "bucket alice [2026-...Z, 2026-...Z) 3600 Lunch/3=3600" and "totals alice 3600 Lunch/3=3600"
// (seconds), in the order the sink saw them.
class RecordingSink final : public ReportSink {
 public:
  void Bucket(const BucketFigures& figures) override {
    events.push_back("bucket " + figures.agent + " [" + FormatTime(figures.bucket_start) + ", " +
                     FormatTime(figures.bucket_end) + ") " + FormatSeconds(figures.covered) +
                     StatesText(figures.states));
    buckets.push_back(figures);
  }
  void UserTotals(const UserFigures& figures) override {
    events.push_back("totals " + figures.agent + " " + FormatSeconds(figures.covered) +
                     StatesText(figures.states));
    users.push_back(figures);
  }

  std::vector<std::string> events;
  std::vector<BucketFigures> buckets;
  std::vector<UserFigures> users;
};

using UserIntervals = std::vector<std::pair<std::string, std::vector<Interval>>>;

std::unique_ptr<RecordingSink> Run(const ReportSpec& spec, const UserIntervals& users) {
  auto sink = std::make_unique<RecordingSink>();
  ReportBuilder builder(spec, *sink);
  for (const auto& [agent, intervals] : users) {
    builder.BeginUser(agent);
    for (const Interval& interval : intervals) builder.Add(interval);
  }
  builder.Finish();
  return sink;
}

std::vector<std::string> Events(const ReportSpec& spec, const UserIntervals& users) {
  return Run(spec, users)->events;
}

// Detail lines as "Lunch [bucket start, bucket end) counted start..counted end".
std::vector<std::string> DetailText(const ReportSpec& spec, const Interval& interval) {
  std::vector<std::string> lines;
  ForEachDetailLine(spec, interval, [&lines](const DetailLine& line) {
    lines.push_back(line.interval->label + " [" + FormatTime(line.bucket_start) + ", " +
                    FormatTime(line.bucket_end) + ") " + FormatTime(line.counted_start) + ".." +
                    FormatTime(line.counted_end));
  });
  return lines;
}

// ---- randomised histories ------------------------------------------------------------------

constexpr std::array<const char*, 7> kLabels = {"Ready", "Lunch",   "Meeting",   "On a call",
                                                "Away",  "Wrap-up", "Logged out"};

// Each user's time is continuous, as the ledger keeps it: zero-length intervals, millisecond
// gaps, hours and multi-day absences, the last interval open. Spans 2026-10-01 to 2026-11-04
// so it crosses Lord Howe's (Oct 4), Berlin's (Oct 25) and New York's (Nov 1) DST changes.
UserIntervals RandomHistory(uint64_t seed) {
  std::mt19937_64 random(seed);
  auto below = [&random](int64_t bound) { return static_cast<int64_t>(random() % bound); };
  UserIntervals users;
  for (const std::string agent : {"ann", "ben", "cat"}) {
    std::vector<Interval> intervals;
    Timestamp at = T("2026-10-01T00:00:00Z") + Millis(below(20 * kHour.count()));
    while (at < T("2026-11-04T00:00:00Z")) {
      if (!intervals.empty()) intervals.back().end = at;
      intervals.push_back(Make(agent, kLabels[below(kLabels.size())], FormatTime(at)));
      int64_t kind = below(20);
      if (kind == 0) continue;
      if (kind == 1)
        at += Millis(below(60 * kHour.count()));
      else if (kind <= 4)
        at += Millis(below(2000));
      else
        at += Millis(1 + below(3 * kHour.count()));
    }
    users.emplace_back(agent, std::move(intervals));
  }
  users.emplace_back("dan", std::vector<Interval>{});  // never had a change
  return users;
}

// What a user's states must add up to, computed from the rules without buckets.
std::map<std::pair<std::string, int>, Millis> BruteForce(const ReportSpec& spec,
                                                         const std::vector<Interval>& intervals) {
  std::map<std::pair<std::string, int>, Millis> sums;
  for (const Interval& interval : intervals) {
    Timestamp end = std::min({interval.end.value_or(spec.now), spec.now, spec.to});
    Timestamp start = std::max(interval.start, spec.from);
    if (end > start) sums[{interval.label, reasoncodes::ToInt(interval.status)}] += end - start;
  }
  return sums;
}

using StateSums = std::map<std::pair<std::string, int>, Millis>;

StateSums Sums(const std::vector<StateTime>& states) {
  StateSums sums;
  for (const StateTime& state : states) {
    sums[{state.label, reasoncodes::ToInt(state.status)}] += state.duration;
  }
  return sums;
}

std::string Text(const StateSums& sums) {
  std::string text;
  for (const auto& [key, duration] : sums) {
    if (duration == Millis(0)) continue;
    text += " " + key.first + "/" + std::to_string(key.second) + "=" + FormatSeconds(duration);
  }
  return text;
}

Millis SumOf(const std::vector<StateTime>& states) {
  Millis total{0};
  for (const StateTime& state : states) total += state.duration;
  return total;
}

bool Sorted(const std::vector<StateTime>& states) {
  for (size_t i = 1; i < states.size(); ++i) {
    const StateTime& a = states[i - 1];
    const StateTime& b = states[i];
    if (std::tie(a.label, a.status) >= std::tie(b.label, b.status)) return false;
  }
  for (const StateTime& state : states) {
    if (state.duration <= Millis(0)) return false;
  }
  return true;
}

// Detail lines of one user's intervals, summed per bucket start and state.
std::map<Timestamp, StateSums> DetailSums(const ReportSpec& spec,
                                          const std::vector<Interval>& intervals) {
  std::map<Timestamp, StateSums> sums;
  for (const Interval& interval : intervals) {
    ForEachDetailLine(spec, interval, [&](const DetailLine& line) {
      BOOST_TEST((line.bucket_start <= line.counted_start &&
                  line.counted_start <= line.counted_end && line.counted_end <= line.bucket_end));
      sums[line.bucket_start][{interval.label, reasoncodes::ToInt(interval.status)}] +=
          line.counted_end - line.counted_start;
    });
  }
  return sums;
}

// One user's buckets: real buckets in time order, each with covered time that its states and
// its detail lines add up to; together they add up to the user's totals.
void CheckBuckets(const ReportSpec& spec, const std::vector<BucketFigures>& buckets,
                  std::map<Timestamp, StateSums> lines, const UserFigures& totals) {
  StateSums bucket_totals;
  Millis covered{0};
  std::optional<Timestamp> previous_end;
  for (const BucketFigures& bucket : buckets) {
    BOOST_TEST(bucket.covered.count() > 0);
    BOOST_TEST(Sorted(bucket.states));
    BOOST_TEST(SumOf(bucket.states).count() == bucket.covered.count());
    if (spec.grouping != Grouping::kNone) {
      Bucket own = BucketAt(spec.zone, spec.grouping, bucket.bucket_start);
      BOOST_TEST((own.start == bucket.bucket_start && own.end == bucket.bucket_end));
    }
    BOOST_TEST((!previous_end || *previous_end <= bucket.bucket_start));
    previous_end = bucket.bucket_end;
    BOOST_TEST(Text(lines[bucket.bucket_start]) == Text(Sums(bucket.states)));
    lines.erase(bucket.bucket_start);
    covered += bucket.covered;
    for (const auto& [key, duration] : Sums(bucket.states)) bucket_totals[key] += duration;
  }
  BOOST_TEST(covered.count() == totals.covered.count(), totals.agent);
  BOOST_TEST(Text(bucket_totals) == Text(Sums(totals.states)), totals.agent);
  for (const auto& [start, sums] : lines) {
    BOOST_TEST(Text(sums).empty(), "detail time in unreported bucket " << FormatTime(start));
  }
}

// Everything one unfiltered report must satisfy: per user, states add up to covered time and
// to brute force, the detail lines add up to the same, and the buckets check out.
void CheckReport(const ReportSpec& spec, const UserIntervals& users) {
  std::unique_ptr<RecordingSink> sink = Run(spec, users);
  BOOST_TEST_REQUIRE(sink->users.size() == users.size());
  size_t next_bucket = 0;
  for (size_t u = 0; u < users.size(); ++u) {
    const auto& [agent, intervals] = users[u];
    const UserFigures& totals = sink->users[u];
    BOOST_TEST(totals.agent == agent);
    BOOST_TEST(Sorted(totals.states));
    BOOST_TEST(SumOf(totals.states).count() == totals.covered.count());
    BOOST_TEST(Text(Sums(totals.states)) == Text(BruteForce(spec, intervals)), agent);

    std::map<Timestamp, StateSums> lines = DetailSums(spec, intervals);
    StateSums line_totals;
    for (const auto& [start, sums] : lines) {
      for (const auto& [key, duration] : sums) line_totals[key] += duration;
    }
    BOOST_TEST(Text(line_totals) == Text(Sums(totals.states)), agent);

    std::vector<BucketFigures> buckets;
    for (; next_bucket < sink->buckets.size() && sink->buckets[next_bucket].agent == agent;
         ++next_bucket) {
      buckets.push_back(sink->buckets[next_bucket]);
    }
    CheckBuckets(spec, buckets, std::move(lines), totals);
  }
  BOOST_TEST(next_bucket == sink->buckets.size());
}

// The filter keeps buckets and covered time and drops the other states, in the report and in
// the detail lines alike.
void CheckFilter(ReportSpec spec, const UserIntervals& users) {
  std::unique_ptr<RecordingSink> all = Run(spec, users);
  spec.statuses = {StatusCode::kAway, StatusCode::kBusy};
  std::unique_ptr<RecordingSink> some = Run(spec, users);
  auto keep = [](const std::vector<StateTime>& states) {
    std::vector<StateTime> kept;
    for (const StateTime& state : states) {
      if (state.status == StatusCode::kAway || state.status == StatusCode::kBusy) {
        kept.push_back(state);
      }
    }
    return kept;
  };
  BOOST_TEST_REQUIRE(some->buckets.size() == all->buckets.size());
  for (size_t i = 0; i < all->buckets.size(); ++i) {
    BOOST_TEST(some->buckets[i].covered.count() == all->buckets[i].covered.count());
    BOOST_TEST(StatesText(some->buckets[i].states) == StatesText(keep(all->buckets[i].states)));
  }
  BOOST_TEST_REQUIRE(some->users.size() == all->users.size());
  for (size_t u = 0; u < all->users.size(); ++u) {
    BOOST_TEST(some->users[u].covered.count() == all->users[u].covered.count());
    BOOST_TEST(StatesText(some->users[u].states) == StatesText(keep(all->users[u].states)));
    StateSums line_totals;
    for (const Interval& interval : users[u].second) {
      ForEachDetailLine(spec, interval, [&](const DetailLine& line) {
        line_totals[{interval.label, reasoncodes::ToInt(interval.status)}] +=
            line.counted_end - line.counted_start;
      });
    }
    BOOST_TEST(Text(line_totals) == Text(Sums(some->users[u].states)));
  }
}

struct RandomCase {
  std::string zone;
  std::string grouping;
  uint64_t seed;
};
std::ostream& operator<<(std::ostream& out, const RandomCase& c) {
  return out << c.zone << " " << c.grouping << " seed " << c.seed;
}

std::vector<RandomCase> RandomCases() {
  std::vector<RandomCase> cases;
  uint64_t seed = 1;
  for (const char* zone :
       {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"}) {
    for (const char* grouping : {"none", "day", "hour", "30min", "15min"}) {
      cases.push_back({zone, grouping, seed++});
    }
  }
  return cases;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(time_report_test)

BOOST_AUTO_TEST_CASE(interval_across_midnight_splits_at_the_zones_midnight) {
  UserIntervals users = {
      {"alice", {Make("alice", "Lunch", "2026-11-20T22:00:00Z", "2026-11-21T02:00:00Z")}}};
  ReportSpec berlin = Spec("2026-11-19T23:00:00Z", "2026-11-21T23:00:00Z", "2026-11-25T00:00:00Z",
                           Grouping::kDay, TestZone("Europe/Berlin"));
  BOOST_TEST(Events(berlin, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-19T23:00:00.000Z, 2026-11-20T23:00:00.000Z) 3600 "
                     "Lunch/3=3600",
                     "bucket alice [2026-11-20T23:00:00.000Z, 2026-11-21T23:00:00.000Z) 10800 "
                     "Lunch/3=10800",
                     "totals alice 14400 Lunch/3=14400"}),
             boost::test_tools::per_element());
  ReportSpec utc =
      Spec("2026-11-20T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-25T00:00:00Z", Grouping::kDay);
  BOOST_TEST(Events(utc, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-20T00:00:00.000Z, 2026-11-21T00:00:00.000Z) 7200 "
                     "Lunch/3=7200",
                     "bucket alice [2026-11-21T00:00:00.000Z, 2026-11-22T00:00:00.000Z) 7200 "
                     "Lunch/3=7200",
                     "totals alice 14400 Lunch/3=14400"}),
             boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(dst_change_day_adds_up_to_its_local_length,
                     data::make(std::vector<std::string>{"2026-03-29", "2026-10-25"}) ^
                         data::make(std::vector<int>{23, 25}),
                     date, hours) {
  ReportZone zone = TestZone("Europe/Berlin");
  Timestamp start = *zone.DateStart(date);
  Timestamp end = zone.NextDayStart(start);
  UserIntervals users = {
      {"alice", {Make("alice", "Ready", FormatTime(start - 3 * kDay), FormatTime(end + kDay))}}};
  ReportSpec day = Spec(FormatTime(start - kDay), FormatTime(end + kDay), "2027-01-01T00:00:00Z",
                        Grouping::kDay, zone);
  std::unique_ptr<RecordingSink> days = Run(day, users);
  BOOST_TEST_REQUIRE(days->buckets.size() == 3u);
  BOOST_TEST(FormatTime(days->buckets[1].bucket_start) == FormatTime(start));
  BOOST_TEST(days->buckets[1].covered.count() == (hours * kHour).count());
  BOOST_TEST(days->buckets[0].covered.count() == kDay.count());
  BOOST_TEST(days->users[0].covered.count() == (2 * kDay + hours * kHour).count());

  ReportSpec hour =
      Spec(FormatTime(start), FormatTime(end), "2027-01-01T00:00:00Z", Grouping::kHour, zone);
  std::unique_ptr<RecordingSink> hourly = Run(hour, users);
  BOOST_TEST(hourly->buckets.size() == static_cast<size_t>(hours));
  for (const BucketFigures& bucket : hourly->buckets) {
    BOOST_TEST(bucket.covered.count() == kHour.count());
  }
}

BOOST_AUTO_TEST_CASE(open_interval_counts_up_to_now) {
  UserIntervals users = {{"alice",
                          {Make("alice", "Ready", "2026-11-21T08:00:00Z", "2026-11-21T09:00:00Z"),
                           Make("alice", "Lunch", "2026-11-21T09:00:00Z")}}};
  ReportSpec spec =
      Spec("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-21T11:30:00Z", Grouping::kHour);
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-21T08:00:00.000Z, 2026-11-21T09:00:00.000Z) 3600 "
                     "Ready/1=3600",
                     "bucket alice [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z) 3600 "
                     "Lunch/3=3600",
                     "bucket alice [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z) 3600 "
                     "Lunch/3=3600",
                     "bucket alice [2026-11-21T11:00:00.000Z, 2026-11-21T12:00:00.000Z) 1800 "
                     "Lunch/3=1800",
                     "totals alice 12600 Lunch/3=9000 Ready/1=3600"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nothing_after_now_counts_even_when_already_closed) {
  // A later commit closed Ready at 12:00 and opened Lunch, but the report is as of 10:15.
  UserIntervals users = {{"alice",
                          {Make("alice", "Ready", "2026-11-21T08:00:00Z", "2026-11-21T12:00:00Z"),
                           Make("alice", "Lunch", "2026-11-21T12:00:00Z", "2026-11-21T13:00:00Z"),
                           Make("alice", "Ready", "2026-11-21T13:00:00Z")}}};
  ReportSpec spec =
      Spec("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-21T10:15:00Z", Grouping::kHour);
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-21T08:00:00.000Z, 2026-11-21T09:00:00.000Z) 3600 "
                     "Ready/1=3600",
                     "bucket alice [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z) 3600 "
                     "Ready/1=3600",
                     "bucket alice [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z) 900 "
                     "Ready/1=900",
                     "totals alice 8100 Ready/1=8100"}),
             boost::test_tools::per_element());
  std::vector<std::string> lines;
  for (const Interval& interval : users[0].second) {
    for (const std::string& line : DetailText(spec, interval)) lines.push_back(line);
  }
  BOOST_TEST(lines.size() == 5u);  // three pieces up to now, then two changes that count nothing
  BOOST_TEST(lines[2] ==
             "Ready [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z) "
             "2026-11-21T10:00:00.000Z..2026-11-21T10:15:00.000Z");
  BOOST_TEST(lines[3] ==
             "Lunch [2026-11-21T12:00:00.000Z, 2026-11-21T13:00:00.000Z) "
             "2026-11-21T12:00:00.000Z..2026-11-21T12:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(range_starting_mid_interval_counts_from_the_range_start) {
  UserIntervals users = {
      {"alice", {Make("alice", "Meeting", "2026-11-21T08:00:00Z", "2026-11-21T12:00:00Z")}}};
  ReportSpec spec =
      Spec("2026-11-21T10:00:00.250Z", "2026-11-21T11:00:00Z", "2026-11-22T00:00:00Z");
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-21T10:00:00.250Z, 2026-11-21T11:00:00.000Z) 3599.75 "
                     "Meeting/5=3599.75",
                     "totals alice 3599.75 Meeting/5=3599.75"}),
             boost::test_tools::per_element());
  BOOST_TEST(
      DetailText(spec, users[0].second[0]) ==
          (std::vector<std::string>{"Meeting [2026-11-21T10:00:00.250Z, 2026-11-21T11:00:00.000Z) "
                                    "2026-11-21T10:00:00.250Z..2026-11-21T11:00:00.000Z"}),
      boost::test_tools::per_element());
}

BOOST_DATA_TEST_CASE(empty_range_gives_every_user_zero_totals,
                     data::make(std::vector<std::string>{"2026-11-21T10:00:00Z",
                                                         "2026-11-21T09:00:00Z"}),
                     to) {
  UserIntervals users = {{"alice",
                          {Make("alice", "Ready", "2026-11-21T08:00:00Z", "2026-11-21T12:00:00Z"),
                           Make("alice", "Lunch", "2026-11-21T12:00:00Z")}},
                         {"bob", {}}};
  for (Grouping grouping : {Grouping::kNone, Grouping::kDay, Grouping::kQuarterHour}) {
    ReportSpec spec = Spec("2026-11-21T10:00:00Z", to, "2026-11-22T00:00:00Z", grouping);
    BOOST_TEST(Events(spec, users) == (std::vector<std::string>{"totals alice 0", "totals bob 0"}),
               boost::test_tools::per_element());
    for (const Interval& interval : users[0].second) {
      BOOST_TEST(DetailText(spec, interval).empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(users_without_time_in_the_range_get_zero_totals) {
  UserIntervals users = {
      {"alice",
       {Make("alice", "Ready", "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"),
        Make("alice", "Logged out", "2026-11-20T09:00:00Z", "2026-11-21T08:00:00Z")}},
      {"bob", {}},
      {"carol", {Make("carol", "Ready", "2026-11-21T09:00:00Z")}}};
  ReportSpec spec =
      Spec("2026-11-21T08:00:00Z", "2026-11-21T10:00:00Z", "2026-11-21T09:00:00Z", Grouping::kHour);
  // Carol's interval starts at `now`: a change in the range that counts nothing yet.
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{"totals alice 0", "totals bob 0", "totals carol 0"}),
             boost::test_tools::per_element());
  BOOST_TEST(DetailText(spec, users[0].second[1]).empty());
  BOOST_TEST(
      DetailText(spec, users[2].second[0]) ==
          (std::vector<std::string>{"Ready [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z) "
                                    "2026-11-21T09:00:00.000Z..2026-11-21T09:00:00.000Z"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(status_filter_selects_states_but_keeps_covered_time) {
  UserIntervals users = {{"alice",
                          {Make("alice", "Ready", "2026-11-21T09:00:00Z", "2026-11-21T10:00:00Z"),
                           Make("alice", "Lunch", "2026-11-21T10:00:00Z", "2026-11-21T10:30:00Z"),
                           Make("alice", "Meeting", "2026-11-21T10:30:00Z", "2026-11-21T11:00:00Z"),
                           Make("alice", "Away", "2026-11-21T11:00:00Z", "2026-11-21T11:15:00Z"),
                           Make("alice", "Ready", "2026-11-21T11:15:00Z")}}};
  ReportSpec spec =
      Spec("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-21T12:00:00Z", Grouping::kHour);
  spec.statuses = {StatusCode::kAway};
  // Covered stays the whole ledger time (percentages of it make sense); the 09:00 bucket has
  // covered time but no selected state and is still reported.
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z) 3600",
                     "bucket alice [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z) 3600 "
                     "Lunch/3=1800",
                     "bucket alice [2026-11-21T11:00:00.000Z, 2026-11-21T12:00:00.000Z) 3600 "
                     "Away/3=900",
                     "totals alice 10800 Away/3=900 Lunch/3=1800"}),
             boost::test_tools::per_element());
  BOOST_TEST(DetailText(spec, users[0].second[0]).empty());
  BOOST_TEST(DetailText(spec, users[0].second[3]).size() == 1u);
}

BOOST_AUTO_TEST_CASE(states_are_ordered_by_label_then_status_without_zero_times) {
  // "Away" once meant DND: a catalog change between intervals keeps both apart.
  Interval old_away = Make("alice", "Away", "2026-11-21T09:00:00Z", "2026-11-21T09:10:00Z");
  old_away.status = StatusCode::kDnd;
  UserIntervals users = {
      {"alice",
       {old_away, Make("alice", "Ready", "2026-11-21T09:10:00Z", "2026-11-21T09:20:00Z"),
        Make("alice", "Meeting", "2026-11-21T09:20:00Z", "2026-11-21T09:20:00Z"),
        Make("alice", "Away", "2026-11-21T09:20:00Z", "2026-11-21T09:30:00Z"),
        Make("alice", "Lunch", "2026-11-21T09:30:00Z", "2026-11-21T09:40:00Z"),
        Make("alice", "Away", "2026-11-21T09:40:00Z", "2026-11-21T09:45:00Z")}}};
  ReportSpec spec = Spec("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-22T00:00:00Z");
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-21T00:00:00.000Z, 2026-11-22T00:00:00.000Z) 2700 "
                     "Away/3=900 Away/4=600 Lunch/3=600 Ready/1=600",
                     "totals alice 2700 Away/3=900 Away/4=600 Lunch/3=600 Ready/1=600"}),
             boost::test_tools::per_element());
  // The zero-length Meeting still shows in the detail export.
  BOOST_TEST(DetailText(spec, users[0].second[2]).size() == 1u);
}

BOOST_AUTO_TEST_CASE(each_users_buckets_come_in_time_order_before_their_totals) {
  UserIntervals users = {{"alice",
                          {Make("alice", "Ready", "2026-11-21T09:30:00Z", "2026-11-21T10:30:00Z"),
                           Make("alice", "Lunch", "2026-11-21T10:30:00Z")}},
                         {"bob", {Make("bob", "Meeting", "2026-11-21T08:45:00Z")}}};
  ReportSpec spec =
      Spec("2026-11-21T09:00:00Z", "2026-11-21T11:00:00Z", "2026-11-21T10:45:00Z", Grouping::kHour);
  BOOST_TEST(Events(spec, users) ==
                 (std::vector<std::string>{
                     "bucket alice [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z) 1800 "
                     "Ready/1=1800",
                     "bucket alice [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z) 2700 "
                     "Lunch/3=900 Ready/1=1800",
                     "totals alice 4500 Lunch/3=900 Ready/1=3600",
                     "bucket bob [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z) 3600 "
                     "Meeting/5=3600",
                     "bucket bob [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z) 2700 "
                     "Meeting/5=2700",
                     "totals bob 6300 Meeting/5=6300"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(detail_lines_cut_at_local_bucket_edges) {
  ReportSpec spec = Spec("2026-10-24T22:00:00Z", "2026-10-26T23:00:00Z", "2026-10-26T05:00:00Z",
                         Grouping::kDay, TestZone("Europe/Berlin"));
  // Across Berlin's 25-hour day, open, counted up to now.
  Interval open = Make("alice", "Ready", "2026-10-24T20:00:00Z");
  BOOST_TEST(
      DetailText(spec, open) ==
          (std::vector<std::string>{"Ready [2026-10-24T22:00:00.000Z, 2026-10-25T23:00:00.000Z) "
                                    "2026-10-24T22:00:00.000Z..2026-10-25T23:00:00.000Z",
                                    "Ready [2026-10-25T23:00:00.000Z, 2026-10-26T23:00:00.000Z) "
                                    "2026-10-25T23:00:00.000Z..2026-10-26T05:00:00.000Z"}),
      boost::test_tools::per_element());
  spec.grouping = Grouping::kNone;
  BOOST_TEST(
      DetailText(spec, open) ==
          (std::vector<std::string>{"Ready [2026-10-24T22:00:00.000Z, 2026-10-26T23:00:00.000Z) "
                                    "2026-10-24T22:00:00.000Z..2026-10-26T05:00:00.000Z"}),
      boost::test_tools::per_element());
  // Ending exactly where the range starts: not in the range at all.
  BOOST_TEST(
      DetailText(spec, Make("alice", "Lunch", "2026-10-24T21:00:00Z", "2026-10-24T22:00:00Z"))
          .empty());
}

BOOST_DATA_TEST_CASE(random_histories_add_up_in_every_grouping, data::make(RandomCases()), c) {
  UserIntervals users = RandomHistory(c.seed);
  std::mt19937_64 random(c.seed * 7919);
  auto below = [&random](int64_t bound) { return static_cast<int64_t>(random() % bound); };
  ReportZone zone = TestZone(c.zone);
  Grouping grouping = *GroupingFromName(c.grouping);
  for (int round = 0; round < 3; ++round) {
    ReportSpec spec;
    spec.from = T("2026-09-30T00:00:00Z") + Millis(below(20 * kDay.count()));
    spec.to = spec.from + Millis(below(16 * kDay.count()));
    // now before, inside and after the range
    spec.now = spec.from - kDay + Millis(below(20 * kDay.count()));
    spec.grouping = grouping;
    spec.zone = zone;
    BOOST_TEST_CONTEXT("range " << FormatTime(spec.from) << " - " << FormatTime(spec.to) << " now "
                                << FormatTime(spec.now)) {
      CheckReport(spec, users);
      CheckFilter(spec, users);
    }
  }
}

BOOST_DATA_TEST_CASE(ungrouped_utc_report_matches_the_stores_totals,
                     data::make(std::vector<uint64_t>{3, 17, 42, 1234}), seed) {
  std::unique_ptr<TimeStore> store = NewMemoryTimeStore();
  GeneratedHistory history = CommitGeneratedHistory(*store, seed);
  // The store counts a closed interval to its end, so `now` stays at or after the last change.
  Timestamp now = history.last + 90 * kMinute;
  const std::vector<std::pair<Timestamp, Timestamp>> ranges = {
      {history.first - kDay, now + kDay},
      {history.first + kDay + Millis(123), history.first + 3 * kDay},
      {UtcDayStart(history.first) + kDay, UtcDayStart(history.first) + 2 * kDay},
      {history.last - 7 * kHour, now + 5 * kHour},
      {history.first + kDay, history.first + kDay},
  };
  for (const auto& [from, to] : ranges) {
    ReportSpec spec;
    spec.from = from;
    spec.to = to;
    spec.now = now;
    RecordingSink sink;
    ReportBuilder builder(spec, sink);
    for (const std::string& agent : history.agents) {
      builder.BeginUser(agent);
      for (const Interval& interval : IntervalsOrThrow(*store, agent, from, to)) {
        builder.Add(interval);
      }
    }
    builder.Finish();
    std::vector<Total> report;
    for (const UserFigures& user : sink.users) {
      for (const StateTime& state : user.states) {
        report.push_back(Total{user.agent, state.label, state.status, state.duration});
      }
    }
    std::vector<std::string> expected = Describe(TotalsOrThrow(*store, {from, to, now}));
    BOOST_TEST(Describe(report) == expected, boost::test_tools::per_element());
    BOOST_TEST(expected == ExpectedTotals(history.intervals, {from, to, now}),
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
