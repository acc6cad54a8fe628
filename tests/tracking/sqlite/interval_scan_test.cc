// TimeStore::ScanIntervals, run against every store: the same intervals as Intervals() user by
// user, the order of the users, stopping early, and the snapshot a scan reads from.

#include <SQLiteCpp/SQLiteCpp.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/sqlite/sqlite_interval_scan.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::tracking::test {
namespace {

namespace data = boost::unit_test::data;
namespace tt = boost::test_tools;

IntervalScan Scan(const std::string& from, const std::string& to,
                  std::vector<std::string> agents = {}) {
  return IntervalScan{T(from), T(to), std::move(agents)};
}

// Parks the scanning thread inside the visitor at the first call whose line starts with
// `pause_at`, until the test releases it. Records like RecordingVisitor.
class PausingVisitor : public IntervalVisitor {
 public:
  explicit PausingVisitor(std::string pause_at) : pause_at_(std::move(pause_at)) {}

  bool BeginUser(const std::string& agent) override { return Record("user " + agent); }
  bool Add(const Interval& interval) override { return Record(Describe(interval)); }

  // False when the scan did not reach the pause point within the deadline.
  bool WaitUntilPaused() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return paused_; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  bool Record(std::string line) {
    std::unique_lock lock(mutex_);
    const bool pause = !paused_ && line.rfind(pause_at_, 0) == 0;
    lines_.push_back(std::move(line));
    if (pause) {
      paused_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    return true;
  }

  const std::string pause_at_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool paused_ = false;
  bool released_ = false;
  std::vector<std::string> lines_;
};

// A scan on a thread of its own. The lambda captures only types outside this anonymous
// namespace, since the test bodies that call it are outside it (-Wsubobject-linkage).
std::thread ScanInBackground(TimeStore& ledger, const IntervalScan& scan, IntervalVisitor& visitor,
                             Status& result) {
  return std::thread(
      [&ledger, &scan, &visitor, &result] { result = ledger.ScanIntervals(scan, visitor); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(interval_scan_test)

BOOST_DATA_TEST_CASE(scan_equals_intervals_per_user_for_a_generated_history,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  GeneratedHistory history = CommitGeneratedHistory(*store, 20261122);
  BOOST_TEST_REQUIRE(history.intervals.size() > 100u);
  // Every user of the ledger, by id: the generated users are already in that order.
  const std::vector<std::string> everyone = history.agents;
  std::mt19937_64 random(11);
  auto below = [&](Millis bound) { return Millis(random() % bound.count()); };
  for (int round = 0; round < 150; ++round) {
    Timestamp from = history.first - kDay + below(7 * kDay);
    Millis lengths[] = {below(kHour), below(kDay), below(4 * kDay), 8 * kDay, -below(kHour)};
    Timestamp to = from + lengths[random() % 5];
    std::vector<std::string> agents;
    if (round % 3 == 1) {
      agents = everyone;
      std::shuffle(agents.begin(), agents.end(), random);
      agents.resize(1 + random() % agents.size());
    }
    BOOST_TEST_CONTEXT("round " << round << " [" << FormatTime(from) << ", " << FormatTime(to)
                                << ") users " << agents.size()) {
      const std::vector<std::string> expected =
          ExpectedScan(*store, agents.empty() ? everyone : agents, from, to);
      BOOST_TEST(ScanText(*store, IntervalScan{from, to, agents}) == expected, tt::per_element());
      // Intervals() is itself checked against the brute force; check the scan against it too.
      for (const std::string& agent : agents) {
        BOOST_TEST(Describe(IntervalsOrThrow(*store, agent, from, to)) ==
                       ExpectedIntervals(history.intervals, agent, from, to),
                   tt::per_element());
      }
    }
  }
}

BOOST_DATA_TEST_CASE(users_are_visited_in_the_given_order_unknown_ones_included,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  std::vector<std::string> expected = {
      "user b",
      "#2 b Meeting *62 Busy agent select [2026-11-21T08:30:00.000Z, 2026-11-21T10:00:00.000Z)",
      "user nobody",
      "user a",
      "#3 a Lunch *61 Away agent select [2026-11-21T09:00:00.000Z, 2026-11-21T09:45:00.000Z)",
      "#4 a Ready *60 Online agent select [2026-11-21T09:45:00.000Z, 2026-11-21T12:00:00.000Z)",
  };
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T09:30:00Z", "2026-11-21T09:50:00Z",
                                   {"b", "nobody", "a"})) == expected,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(without_users_every_user_of_the_ledger_is_visited_by_id,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("carol", "2026-11-21T09:00:00Z", "Ready"),
                                         MakeChange("alice", "2026-11-21T09:10:00Z", "Lunch")}) ==
                     "");
  // bob is known by engine state only: a user of the ledger without any interval.
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"bob", "waiting"}}) == "");
  std::vector<std::string> expected = {
      "user alice",
      "#2 alice Lunch *61 Away agent select [2026-11-21T09:10:00.000Z, open)",
      "user bob",
      "user carol",
      "#1 carol Ready *60 Online agent select [2026-11-21T09:00:00.000Z, open)",
  };
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z")) == expected,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(interval_running_at_from_is_included_one_ending_there_is_not,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  // a's Lunch ends exactly at 09:45; b's Meeting started long before and still runs.
  std::vector<std::string> expected = {
      "user a",
      "#4 a Ready *60 Online agent select [2026-11-21T09:45:00.000Z, 2026-11-21T12:00:00.000Z)",
      "user b",
      "#2 b Meeting *62 Busy agent select [2026-11-21T08:30:00.000Z, 2026-11-21T10:00:00.000Z)",
      "#5 b Ready *60 Online agent select [2026-11-21T10:00:00.000Z, open)",
  };
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T09:45:00Z", "2026-11-21T10:00:00.001Z")) == expected,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(zero_length_intervals_inside_the_range_are_visited, data::make(StoreKinds()),
                     kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T08:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-21T08:00:00Z", "Lunch"),
                                         MakeChange("a", "2026-11-21T09:00:00Z", "Meeting"),
                                         MakeChange("a", "2026-11-21T09:00:00Z", "Away"),
                                         MakeChange("a", "2026-11-21T10:00:00Z", "Ready")}) == "");
  // From 09:00: the zero-length Meeting and the Away both start there; the zero-length Ready
  // at 08:00 lies before the range and is left out.
  std::vector<std::string> from_nine = {
      "user a",
      "#3 a Meeting *62 Busy agent select [2026-11-21T09:00:00.000Z, 2026-11-21T09:00:00.000Z)",
      "#4 a Away *64 Away agent select [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z)",
  };
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T09:00:00Z", "2026-11-21T09:30:00Z")) == from_nine,
             tt::per_element());
  std::vector<std::string> from_eight = {
      "user a",
      "#1 a Ready *60 Online agent select [2026-11-21T08:00:00.000Z, 2026-11-21T08:00:00.000Z)",
      "#2 a Lunch *61 Away agent select [2026-11-21T08:00:00.000Z, 2026-11-21T09:00:00.000Z)",
  };
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T08:00:00Z", "2026-11-21T09:00:00Z")) == from_eight,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(open_intervals_are_visited_without_an_end, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  RecordingVisitor visitor;
  BOOST_TEST_REQUIRE(
      store->ScanIntervals(Scan("2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z"), visitor).ok());
  std::vector<std::string> expected = {
      "user a",
      "#6 a Logged out *69 Logout agent select [2026-11-21T12:00:00.000Z, open)",
      "user b",
      "#5 b Ready *60 Online agent select [2026-11-21T10:00:00.000Z, open)",
  };
  BOOST_TEST(visitor.lines() == expected, tt::per_element());
  BOOST_TEST_REQUIRE(visitor.intervals().size() == 2u);
  for (const Interval& interval : visitor.intervals()) BOOST_TEST(!interval.end.has_value());
}

BOOST_DATA_TEST_CASE(visitor_returning_false_stops_the_scan,
                     data::make(StoreKinds()) * data::make({1, 2, 3, 5}), kind, stop_after) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  const IntervalScan scan = Scan("2026-11-21T08:00:00Z", "2026-11-22T00:00:00Z");
  std::vector<std::string> all = ScanText(*store, scan);
  BOOST_TEST_REQUIRE(all.size() == 8u);
  RecordingVisitor visitor(static_cast<size_t>(stop_after));
  Status status = store->ScanIntervals(scan, visitor);
  BOOST_TEST(status.ok());
  std::vector<std::string> expected(all.begin(), all.begin() + stop_after);
  BOOST_TEST(visitor.lines() == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(empty_or_inverted_range_only_begins_users, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  std::vector<std::string> everyone = {"user a", "user b"};
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T09:00:00Z", "2026-11-21T09:00:00Z")) == everyone,
             tt::per_element());
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T10:00:00Z", "2026-11-21T09:00:00Z")) == everyone,
             tt::per_element());
  std::vector<std::string> given = {"user b", "user x"};
  BOOST_TEST(
      ScanText(*store, Scan("2026-11-21T10:00:00Z", "2026-11-21T09:00:00Z", {"b", "x"})) == given,
      tt::per_element());
}

BOOST_DATA_TEST_CASE(empty_ledger_scans_nothing_but_given_users, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z")).empty());
  std::vector<std::string> given = {"user a"};
  BOOST_TEST(ScanText(*store, Scan("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", {"a"})) == given,
             tt::per_element());
}

// The scan is parked inside the visitor (at the first user before anything of it was read, or
// half-way through a user) while the core commits: the commit goes through at once, other
// readers answer, and the scan still reports the ledger as it was when it started. With users
// given, nothing is read before the first BeginUser, so the snapshot must be taken up front.
BOOST_DATA_TEST_CASE(commit_during_a_paused_scan_is_neither_seen_nor_blocked,
                     data::make(StoreKinds()) * data::make({"user a", "#1 "}) *
                         data::make({false, true}),
                     kind, pause_at, users_given) {
  StoreUnderTest store(kind);
  TimeStore& ledger = *store;
  CommitTwoUsers(ledger);
  IntervalScan scan = Scan("2026-11-21T08:00:00Z", "2026-11-22T00:00:00Z");
  if (users_given) scan.agents = {"a", "b", "newcomer"};
  const std::vector<std::string> before = ScanText(ledger, scan);

  PausingVisitor visitor(pause_at);
  Status scanned = Error{"not_run", ""};
  std::thread scanner = ScanInBackground(ledger, scan, visitor, scanned);
  const bool paused = visitor.WaitUntilPaused();
  std::string committed = "scan did not pause";
  size_t seen_now = 0;
  if (paused) {
    committed = CommitText(ledger, {MakeChange("a", "2026-11-21T13:00:00Z", "Ready"),
                                    MakeChange("b", "2026-11-21T13:00:00Z", "Lunch"),
                                    MakeChange("newcomer", "2026-11-21T13:00:00Z", "Ready")});
    // Readers on the shared connection are not held up by the scan either.
    seen_now = IntervalsOrThrow(ledger, std::nullopt, scan.from, scan.to).size();
  }
  visitor.Release();
  scanner.join();
  BOOST_TEST_REQUIRE(paused);
  BOOST_TEST(committed == "");
  BOOST_TEST(seen_now == 9u);
  BOOST_TEST(scanned.ok());
  BOOST_TEST(visitor.lines() == before, tt::per_element());
  // A scan started afterwards sees the commit: three intervals, and newcomer's BeginUser
  // unless it was given already.
  BOOST_TEST(ScanText(ledger, scan).size() == before.size() + (users_given ? 3 : 4));
}

// ---- SQLite only ----

// A year's export reads millions of rows: each must come from the report index alone, in its
// order (a lookup in the table per row, whose rows lie in commit order, made exports 3x slower;
// a sort would hold a user's rows in memory). Also on a ledger upgraded from an older schema.
BOOST_AUTO_TEST_CASE(the_scan_reads_the_report_index_alone_without_sorting) {
  StoreUnderTest fresh("sqlite");
  CommitGeneratedHistory(*fresh, 3);
  testing::TempDir dir;
  const std::string upgraded = dir.File("old.db");
  {
    SQLite::Database db(upgraded, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    MigrateLedgerForTesting(db, 5);
  }
  BOOST_TEST_REQUIRE(OpenSqliteTimeStore(upgraded).ok());  // upgrades to the latest schema
  for (const std::string& path : {fresh.path(), upgraded}) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    for (const std::string& query : IntervalScanQueries()) {
      SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + query);
      std::string steps;
      while (plan.executeStep()) steps += plan.getColumn(3).getString() + "; ";
      BOOST_TEST_CONTEXT(path << ": " << query << " -> " << steps) {
        BOOST_TEST(steps.find("USING COVERING INDEX intervals_for_reports") != std::string::npos);
        BOOST_TEST(steps.find("TEMP B-TREE") == std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(sqlite_read_only_store_scans_the_same_intervals) {
  StoreUnderTest store("sqlite");
  GeneratedHistory history = CommitGeneratedHistory(*store, 5);
  auto reader = OpenSqliteTimeStoreReadOnly(store.path());
  BOOST_TEST_REQUIRE(reader.ok());
  const IntervalScan scan{history.first + kDay, history.first + 3 * kDay, {}};
  const std::vector<std::string> expected = ScanText(*store, scan);
  BOOST_TEST_REQUIRE(expected.size() > 20u);
  BOOST_TEST(ScanText(**reader, scan) == expected, tt::per_element());
}

BOOST_AUTO_TEST_CASE(sqlite_scan_reports_a_storage_error) {
  StoreUnderTest store("sqlite");
  CommitTwoUsers(*store);
  SettleOrThrow(*store);  // the scan's own failure, not the fold's
  {
    SQLite::Database other(store.path(), SQLite::OPEN_READWRITE);
    other.exec("ALTER TABLE intervals RENAME TO parked");
  }
  RecordingVisitor visitor;
  Status status =
      store->ScanIntervals(Scan("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"), visitor);
  BOOST_TEST_REQUIRE(!status.ok());
  BOOST_TEST(status.error().code == "storage_error");
  BOOST_TEST(status.error().message.find(store.path()) != std::string::npos,
             status.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
