// Totals reports served from the ledger's pre-aggregated time must be exactly the reports
// ReportBuilder makes from the intervals: the same sink calls in the same order, over random
// histories, ranges, groupings, zones (DST, 30- and 45-minute offsets, local mean time before
// 1900) and status filters, with `now` anywhere.

#include "tracking/report/aggregate_report.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/day_aggregate.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/report/time_report.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::tracking::test {
namespace {

namespace data = boost::unit_test::data;

const std::array<const char*, 9> kZones = {"Europe/Berlin",
                                           "Asia/Kolkata",
                                           "Asia/Kathmandu",
                                           "America/St_Johns",
                                           "Australia/Lord_Howe",
                                           "Pacific/Chatham",
                                           "UTC",
                                           "Europe/Amsterdam",
                                           "America/New_York"};

struct State {
  const char* label;
  const char* reason_code;
  StatusCode status;
};

// "Lunch" three times: reloads changed its reason code, then its status.
const std::array<State, 7> kStates = {{
    {"Ready", "*60", StatusCode::kOnline},
    {"Lunch", "*61", StatusCode::kAway},
    {"Lunch", "*71", StatusCode::kAway},
    {"Lunch", "*71", StatusCode::kBusy},
    {"Meeting", "*62", StatusCode::kBusy},
    {"On a call", "", StatusCode::kOnCall},
    {"Logged out", "*69", StatusCode::kLogout},
}};

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  int64_t Below(int64_t bound) { return static_cast<int64_t>(engine_() % bound); }

 private:
  std::mt19937_64 engine_;
};

Change MakeStateChange(const std::string& agent, Timestamp at, const State& state) {
  Change change;
  change.agent = agent;
  change.at = at;
  change.label = state.label;
  change.reason_code = state.reason_code;
  change.status = state.status;
  change.source = Source::kAgent;
  change.cause = "select";
  return change;
}

struct History {
  std::vector<std::string> users;  // reported, in this order; "zed" never had a change
  Timestamp begin;
  Timestamp end;
};

// Users with continuous time from `begin` for `days` days: zero-length intervals, millisecond
// and hour-long ones, changes on quarter edges, absences over days; "old" changed once before
// `begin` and is still in that state. Committed in time order in batches of 1 to 30.
History CommitHistory(TimeStore& store, uint64_t seed, Timestamp begin, int days) {
  Random random(seed);
  History history{{"ann", "ben", "old", "zed", "cat"}, begin, begin + std::chrono::days(days)};
  std::vector<Change> changes;
  changes.push_back(MakeStateChange("old", begin - std::chrono::days(3), kStates[1]));
  for (const std::string agent : {"ann", "ben", "cat"}) {
    Timestamp at = begin + Millis(random.Below(6 * 3600000));
    while (at < history.end) {
      changes.push_back(MakeStateChange(agent, at, kStates[random.Below(kStates.size())]));
      const int64_t kind = random.Below(20);
      if (kind == 0) continue;  // zero-length
      if (kind == 1) {
        at += Millis(20 * 3600000 + random.Below(40 * 3600000));
      } else if (kind <= 3) {
        at += Millis(random.Below(2000));
      } else if (kind <= 6) {
        at = QuarterCeil(at + Millis(1 + random.Below(3600000)));
      } else {
        at += Millis(1 + random.Below(3 * 3600000));
      }
    }
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& a, const Change& b) { return a.at < b.at; });
  for (size_t next = 0; next < changes.size();) {
    const size_t count = std::min<size_t>(1 + random.Below(30), changes.size() - next);
    CommitBatch batch;
    batch.changes.assign(changes.begin() + next, changes.begin() + next + count);
    if (Status status = store.Commit(batch); !status.ok()) {
      throw std::runtime_error("commit failed: " + status.error().message);
    }
    next += count;
  }
  return history;
}

std::string Describe(const ReportSpec& spec) {
  std::string statuses;
  for (StatusCode status : spec.statuses) statuses += std::to_string(reasoncodes::ToInt(status));
  return spec.zone.name() + " " + std::string(GroupingName(spec.grouping)) + " [" +
         FormatTime(spec.from) + ", " + FormatTime(spec.to) + ") now " + FormatTime(spec.now) +
         " statuses {" + statuses + "}";
}

// A moment near the history: on a local midnight, a quarter edge, or anywhere.
Timestamp PickMoment(Random& random, const ReportZone& zone, Timestamp low, Timestamp high) {
  const Timestamp t = low + Millis(random.Below((high - low).count()));
  switch (random.Below(3)) {
    case 0:
      return zone.DayStart(t);
    case 1:
      return QuarterFloor(t);
    default:
      return t;
  }
}

ReportSpec RandomSpec(Random& random, const History& history) {
  ReportSpec spec;
  spec.zone = TestZone(kZones[random.Below(kZones.size())]);
  spec.grouping = static_cast<Grouping>(random.Below(5));
  const Timestamp low = history.begin - std::chrono::days(2);
  spec.from = PickMoment(random, spec.zone, low, history.end);
  const int64_t span = random.Below(4) == 0 ? 3 * 3600000 : 18 * 86400000LL;
  spec.to = PickMoment(random, spec.zone, spec.from, spec.from + Millis(1 + span));
  if (spec.to <= spec.from) spec.to = spec.from + Millis(1 + random.Below(span));
  spec.now = random.Below(2) == 0 ? history.end + std::chrono::days(400)
                                  : PickMoment(random, spec.zone, low, history.end);
  if (random.Below(3) == 0) {
    for (int code = reasoncodes::kMinStatusCode; code <= reasoncodes::kMaxStatusCode; ++code) {
      if (random.Below(2) == 0) spec.statuses.insert(*reasoncodes::StatusFromInt(code));
    }
  }
  return spec;
}

struct Era {
  const char* name;
  const char* begin;
  int days;
};

std::ostream& operator<<(std::ostream& out, const Era& era) { return out << era.name; }

// Around DST changes of 2026 (Berlin, Lord Howe, Chatham in spring; Berlin, St John's and New
// York in autumn), and in the time of local mean time: Amsterdam's +00:19:32 in 1900, and its
// summer time of 1916 that began at 23:40:28 UTC.
const std::vector<Era> kEras = {
    {"spring_2026", "2026-03-24T00:00:00Z", 16},
    {"autumn_2026", "2026-10-21T00:00:00Z", 14},
    {"year_1900", "1899-12-24T00:00:00Z", 14},
    {"summer_time_1916", "1916-04-26T00:00:00Z", 10},
};

struct LedgerFixture {
  presence::testing::TempDir dir;
  std::unique_ptr<TimeStore> store;
  LedgerFixture() {
    auto opened = OpenSqliteTimeStore(dir.File("ledger.db"), Durability::kProcessCrash);
    if (!opened.ok()) throw std::runtime_error(opened.error().message);
    store = std::move(*opened);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(aggregate_report_test)

BOOST_DATA_TEST_CASE(aggregate_reports_equal_interval_reports, data::make(kEras), era) {
  LedgerFixture ledger;
  Random random(std::hash<std::string>{}(era.name));
  const History history =
      CommitHistory(*ledger.store, random.Below(1 << 30), T(era.begin), era.days);
  long long days_read = 0;
  for (int i = 0; i < 160; ++i) {
    const ReportSpec spec = RandomSpec(random, history);
    AggregateReportProgress progress;
    const std::vector<std::string> served =
        ReportViaAggregates(*ledger.store, spec, history.users, &progress);
    const std::vector<std::string> expected =
        ReportViaIntervals(*ledger.store, spec, history.users);
    BOOST_TEST(served == expected, Describe(spec));
    days_read += progress.days;
  }
  // Not every report fell back to intervals.
  BOOST_TEST(days_read > 100);
}

// A year's totals read day rows, and a day's totals only where a whole UTC day is one bucket.
BOOST_AUTO_TEST_CASE(long_ranges_read_days_not_intervals) {
  LedgerFixture ledger;
  const History history = CommitHistory(*ledger.store, 5, T("2026-03-01T00:00:00Z"), 30);
  for (const char* zone : {"UTC", "Europe/Berlin", "Asia/Kolkata"}) {
    for (Grouping grouping : {Grouping::kNone, Grouping::kDay, Grouping::kQuarterHour}) {
      ReportSpec spec;
      spec.zone = TestZone(zone);
      spec.grouping = grouping;
      spec.from = spec.zone.DayStart(T("2026-03-01T12:00:00Z"));
      spec.to = spec.zone.DayStart(T("2026-03-31T12:00:00Z"));
      spec.now = T("2027-01-01T00:00:00Z");
      AggregateReportProgress progress;
      const auto served = ReportViaAggregates(*ledger.store, spec, history.users, &progress);
      BOOST_TEST(served == ReportViaIntervals(*ledger.store, spec, history.users), Describe(spec));
      BOOST_TEST(progress.days > 60, Describe(spec));
      // The edges and the users' open intervals: a few per user, not the month's hundreds.
      BOOST_TEST(progress.intervals < 40, Describe(spec));
    }
  }
}

// Commits made after the report's `now` close intervals in the aggregates; they must not count.
BOOST_AUTO_TEST_CASE(commits_after_now_do_not_count) {
  LedgerFixture ledger;
  CommitBatch batch;
  batch.changes.push_back(MakeStateChange("ann", T("2026-05-04T08:00:00Z"), kStates[0]));
  BOOST_REQUIRE(ledger.store->Commit(batch).ok());
  batch.changes = {MakeStateChange("ann", T("2026-05-06T17:00:00Z"), kStates[6])};
  BOOST_REQUIRE(ledger.store->Commit(batch).ok());
  for (const char* now :
       {"2026-05-05T10:07:00Z", "2026-05-06T16:59:59.999Z", "2026-05-04T08:00:00Z"}) {
    ReportSpec spec;
    spec.zone = TestZone("Europe/Berlin");
    spec.grouping = Grouping::kDay;
    spec.from = T("2026-05-01T00:00:00Z");
    spec.to = T("2026-06-01T00:00:00Z");
    spec.now = T(now);
    const auto served = ReportViaAggregates(*ledger.store, spec, {"ann"});
    BOOST_TEST(served == ReportViaIntervals(*ledger.store, spec, {"ann"}), now);
  }
}

// The in-memory store keeps no aggregates: it says so, and reports read its intervals.
BOOST_AUTO_TEST_CASE(memory_store_has_no_aggregates) {
  std::unique_ptr<TimeStore> store = NewMemoryTimeStore();
  auto snapshot = store->OpenAggregates();
  BOOST_REQUIRE(!snapshot.ok());
  BOOST_TEST(snapshot.error().code == "not_available");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
