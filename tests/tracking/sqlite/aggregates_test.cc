// The SQLite ledger's report aggregates (schema 5): Commit keeps them equal to what the
// intervals say, the upgrade from schema 4 builds them with progress lines, and an upgrade
// killed half-way leaves a ledger that opens and reports exactly.

#include <SQLiteCpp/SQLiteCpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/day_aggregate.h"
#include "tracking/report/aggregate_report.h"
#include "tracking/report/time_report.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::tracking::test {
namespace {

constexpr int64_t kQuarter = 900000;

// Every stored day as lines "agent day label/reason/status quarter=ms ..." (decoded by the
// ledger's decoder, states by name, so ids do not matter).
std::vector<std::string> StoredDays(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::map<int64_t, std::string> names;
  SQLite::Statement states(db, "SELECT id, label, reason_code, status FROM states");
  while (states.executeStep()) {
    names[states.getColumn(0).getInt64()] = states.getColumn(1).getString() + "/" +
                                            states.getColumn(2).getString() + "/" +
                                            states.getColumn(3).getString();
  }
  std::vector<std::string> lines;
  SQLite::Statement rows(db, "SELECT agent, day, data FROM day_aggregates ORDER BY agent, day");
  while (rows.executeStep()) {
    const SQLite::Column data = rows.getColumn(2);
    auto day = DayAggregate::Decode(
        std::string_view(static_cast<const char*>(data.getBlob()), data.getBytes()));
    if (!day.ok()) throw std::runtime_error(day.error().message);
    std::map<std::string, std::string> by_name;
    for (const auto& [state, quarters] : day->quarters()) {
      std::string text;
      for (int q = 0; q < kQuartersPerDay; ++q) {
        if (quarters[q] != 0) text += " " + std::to_string(q) + "=" + std::to_string(quarters[q]);
      }
      by_name[names.at(state)] = text;
    }
    for (const auto& [name, text] : by_name) {
      lines.push_back(rows.getColumn(0).getString() + " " + rows.getColumn(1).getString() + " " +
                      name + text);
    }
  }
  return lines;
}

// The same lines computed from the closed intervals with plain arithmetic, independent of the
// aggregate code.
std::vector<std::string> ExpectedDays(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  using Key = std::tuple<std::string, int64_t, std::string>;
  std::map<Key, std::map<int, int64_t>> sums;
  SQLite::Statement rows(db,
                         "SELECT agent, label, reason_code, status, start_ms, end_ms FROM "
                         "intervals WHERE end_ms IS NOT NULL");
  while (rows.executeStep()) {
    const std::string name = rows.getColumn(1).getString() + "/" + rows.getColumn(2).getString() +
                             "/" + rows.getColumn(3).getString();
    const int64_t end = rows.getColumn(5).getInt64();
    for (int64_t t = rows.getColumn(4).getInt64(); t < end;) {
      const int64_t quarter = t >= 0 ? t / kQuarter : (t - kQuarter + 1) / kQuarter;
      const int64_t stop = std::min(end, (quarter + 1) * kQuarter);
      const int64_t day = quarter >= 0 ? quarter / 96 : (quarter - 95) / 96;
      sums[{rows.getColumn(0).getString(), day, name}][static_cast<int>(quarter - day * 96)] +=
          stop - t;
      t = stop;
    }
  }
  std::vector<std::string> lines;
  for (const auto& [key, quarters] : sums) {
    std::string line =
        std::get<0>(key) + " " + std::to_string(std::get<1>(key)) + " " + std::get<2>(key);
    for (const auto& [q, ms] : quarters) line += " " + std::to_string(q) + "=" + std::to_string(ms);
    lines.push_back(line);
  }
  return lines;
}

std::unique_ptr<TimeStore> OpenOrThrow(const std::string& path, LogSink log = {}) {
  auto store = OpenSqliteTimeStore(
      path, LedgerOptions{.durability = Durability::kProcessCrash, .log = std::move(log)});
  if (!store.ok()) throw std::runtime_error(store.error().message);
  return std::move(*store);
}

int SchemaVersion(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return LedgerSchemaVersion(db);
}

// A ledger as a schema-4 program leaves it: `users` users, each with continuous intervals over
// `days` days from 2026-03-27 (some over midnight, some zero-length, the last one open), written
// straight into the tables, as the old program did.
void WriteVersion4Ledger(const std::string& path, int users, int days, uint64_t seed) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  MigrateLedgerForTesting(db, 4);
  std::mt19937_64 random(seed);
  const char* labels[] = {"Ready", "Lunch", "On a call", "Logged out"};
  SQLite::Transaction transaction(db);
  SQLite::Statement insert(db,
                           "INSERT INTO intervals (agent, label, reason_code, status, source, "
                           "cause, start_ms, end_ms) VALUES (?, ?, ?, ?, 'agent', 'select', ?, ?)");
  SQLite::Statement agent_row(
      db, "INSERT INTO agents (agent, engine_state, open_interval_id) VALUES (?, '', ?)");
  const int64_t begin = ToEpochMillis(T("2026-03-27T00:00:00Z"));
  const int64_t end = begin + days * 86400000LL;
  for (int u = 0; u < users; ++u) {
    const std::string agent = "u" + std::to_string(u);
    int64_t at = begin + static_cast<int64_t>(random() % 3600000);
    while (true) {
      int64_t next =
          at + static_cast<int64_t>(random() % 3) * static_cast<int64_t>(random() % 14400000);
      const int pick = static_cast<int>(random() % 4);
      Reuse(insert).bind(1, agent);
      insert.bind(2, labels[pick]);
      insert.bind(3, "*6" + std::to_string(pick));
      insert.bind(4, pick + 1);
      insert.bind(5, at);
      if (next >= end) {
        insert.exec();
        Reuse(agent_row).bind(1, agent);
        agent_row.bind(2, db.getLastInsertRowid());
        agent_row.exec();
        break;
      }
      insert.bind(6, next);
      insert.exec();
      at = next;
    }
  }
  transaction.commit();
}

ReportSpec DaySpec(const std::string& zone) {
  ReportSpec spec;
  spec.zone = *ReportZone::Find(zone);
  spec.grouping = Grouping::kDay;
  spec.from = T("2026-03-26T00:00:00Z");
  spec.to = T("2026-04-10T00:00:00Z");
  spec.now = T("2026-04-01T10:20:30Z");
  return spec;
}

std::vector<std::string> Users(int count) {
  std::vector<std::string> users;
  for (int u = 0; u < count; ++u) users.push_back("u" + std::to_string(u));
  return users;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(aggregates_test)

BOOST_AUTO_TEST_CASE(commits_keep_the_aggregates_equal_to_the_intervals) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    CommitGeneratedHistory(*store, 7);
    // An interval over a weekend touches three days.
    BOOST_TEST(
        CommitText(*store, {MakeChange("carol", "2027-01-01T17:00:00.005Z", "Away")}).empty());
    BOOST_TEST(CommitText(*store, {MakeChange("carol", "2027-01-04T08:00:00Z", "Ready")}).empty());
    // A refused batch (out of order) leaves nothing behind, also not in the aggregates.
    CommitBatch refused;
    refused.changes = {MakeChange("alice", "2027-01-01T00:00:00Z", "Ready"),
                       MakeChange("alice", "2026-01-01T00:00:00Z", "Lunch")};
    BOOST_TEST(!store->Commit(refused).ok());
    // A reload gave Lunch another reason code: a state of its own.
    Change reloaded = MakeChange("bob", "2027-01-02T10:00:00Z", "Lunch");
    reloaded.reason_code = "*99";
    BOOST_TEST(CommitText(*store, {reloaded}).empty());
    BOOST_TEST(
        CommitText(*store, {MakeChange("bob", "2027-01-04T10:00:00.123Z", "Ready")}).empty());
  }
  const std::vector<std::string> stored = StoredDays(path);
  BOOST_TEST(stored.size() > 20u);
  BOOST_TEST(stored == ExpectedDays(path), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_damaged_day_is_rebuilt_by_the_next_commit_and_reports_stay_exact) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-30T08:00:00Z", "Ready")}).empty());
    BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-30T09:00:00Z", "Lunch")}).empty());
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE day_aggregates SET data = X'0102'");
  }
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  // Totals of whole days read the day rows: the damaged day's closed time comes from its
  // intervals instead (the Ready hour), the open Lunch is counted up to `now` as ever.
  TotalsQuery days{T("2026-03-29T00:00:00Z"), T("2026-04-01T00:00:00Z"), T("2026-03-31T12:00:00Z"),
                   std::nullopt};
  const std::vector<std::string> exact =
      ExpectedTotals(IntervalsOrThrow(*store, std::nullopt, days.from, days.to), days);
  BOOST_TEST(exact.size() == 2u);
  BOOST_TEST(Describe(TotalsOrThrow(*store, days)) == exact, boost::test_tools::per_element());
  ReportSpec spec = DaySpec("Europe/Berlin");
  spec.now = T("2026-04-02T00:00:00Z");
  BOOST_TEST(ReportViaAggregates(*store, spec, {"alice"}) ==
             ReportViaIntervals(*store, spec, {"alice"}));
  BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-30T09:30:00Z", "Ready")}).empty());
  SettleOrThrow(*store);
  BOOST_TEST(StoredDays(path) == ExpectedDays(path), boost::test_tools::per_element());
}

// Totals of whole days read each day's row. A row that fails its checks, or names a state the
// ledger lacks, gives its day's closed time from the intervals, clipped to the day: one running
// in from the day before, one inside, one running out into the next (nothing counted twice).
BOOST_AUTO_TEST_CASE(a_damaged_day_row_gives_whole_day_totals_from_its_intervals) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-29T20:00:00Z", "Ready"),
                                   MakeChange("alice", "2026-03-30T06:00:00Z", "Lunch"),
                                   MakeChange("alice", "2026-03-30T09:00:00Z", "Ready"),
                                   MakeChange("alice", "2026-03-30T22:00:00Z", "Meeting"),
                                   MakeChange("alice", "2026-03-31T03:00:00Z", "Ready"),
                                   MakeChange("bob", "2026-03-30T10:00:00Z", "Lunch"),
                                   MakeChange("bob", "2026-03-30T11:00:00Z", "Ready")})
                   .empty());
  }
  TotalsQuery days{T("2026-03-29T00:00:00Z"), T("2026-04-01T00:00:00Z"), T("2026-03-31T12:00:00Z"),
                   std::nullopt};
  auto exact = [&](TimeStore& store) {
    return ExpectedTotals(IntervalsOrThrow(store, std::nullopt, days.from, days.to), days);
  };
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "UPDATE day_aggregates SET data = X'0102' WHERE agent = 'alice' AND day = "
        "CAST(strftime('%s', '2026-03-30') AS INTEGER) / 86400");
  }
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    BOOST_TEST(exact(*store).size() == 5u);
    BOOST_TEST(Describe(TotalsOrThrow(*store, days)) == exact(*store),
               boost::test_tools::per_element());
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM states");  // every row now names states the ledger lacks
  }
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  BOOST_TEST(Describe(TotalsOrThrow(*store, days)) == exact(*store),
             boost::test_tools::per_element());
}

// Rebuilding a damaged day reads the interval that runs into it; that read must not outlive
// the commit, or the writer's connection stays on its old snapshot and, once another connection
// has written (an outbox delivery, the CRM sync), every later commit fails.
BOOST_AUTO_TEST_CASE(commits_go_on_after_a_rebuild_and_a_write_by_another_connection) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-29T20:00:00Z", "Ready")}).empty());
    BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-30T09:00:00Z", "Lunch")}).empty());
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "UPDATE day_aggregates SET data = X'0102' WHERE day = "
        "CAST(strftime('%s', '2026-03-30') AS INTEGER) / 86400");
  }
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-30T09:30:00Z", "Ready")}).empty());
  SettleOrThrow(*store);
  {
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.setBusyTimeout(5000);
    other.exec("INSERT INTO sync_marks (target, done_through) VALUES ('crm', '2026-03-01')");
  }
  BOOST_TEST(CommitText(*store, {MakeChange("alice", "2026-03-30T10:00:00Z", "Lunch")}).empty());
  SettleOrThrow(*store);
  BOOST_TEST(StoredDays(path) == ExpectedDays(path), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(schema_4_ledger_upgrades_with_progress_lines) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  WriteVersion4Ledger(path, 40, 9, 3);
  // Before the upgrade a report reads the old ledger as it is: the intervals.
  {
    auto reader = OpenSqliteTimeStoreReadOnly(path);
    BOOST_REQUIRE(reader.ok());
    auto snapshot = (*reader)->OpenAggregates();
    BOOST_REQUIRE(!snapshot.ok());
    BOOST_TEST(snapshot.error().code == "not_available");
  }
  std::vector<std::string> lines;
  std::unique_ptr<TimeStore> store =
      OpenOrThrow(path, [&lines](LogLevel, std::string_view text) { lines.emplace_back(text); });
  BOOST_TEST(SchemaVersion(path) == kLedgerSchemaVersion);
  BOOST_TEST(StoredDays(path) == ExpectedDays(path), boost::test_tools::per_element());
  BOOST_REQUIRE(lines.size() >= 5u);
  BOOST_TEST(lines.front().find("building report aggregates from") != std::string::npos,
             lines.front());
  const std::string& progress = lines[lines.size() / 2];
  BOOST_TEST(progress.find("building report aggregates: ") != std::string::npos, progress);
  BOOST_TEST(progress.find(" intervals (") != std::string::npos, progress);
  BOOST_TEST(lines[lines.size() - 4].find("(100%)") != std::string::npos, lines[lines.size() - 4]);
  BOOST_TEST(lines[lines.size() - 3].find("report aggregates built from") != std::string::npos,
             lines[lines.size() - 3]);
  // Then the report index (schema 6), in one statement: a line says what it builds.
  BOOST_TEST(lines[lines.size() - 2].find("schema 6: indexing 4316 intervals for exports") !=
                 std::string::npos,
             lines[lines.size() - 2]);
  // And the day rows' index, with daily_totals dropped (schema 8).
  BOOST_TEST(
      lines.back().find("schema 8: indexing 360 day rows by day and dropping daily_totals") !=
          std::string::npos,
      lines.back());
  // The upgraded ledger goes on: its reports from aggregates are those from intervals.
  for (const char* zone : {"Europe/Berlin", "Asia/Kolkata"}) {
    BOOST_TEST(ReportViaAggregates(*store, DaySpec(zone), Users(40)) ==
               ReportViaIntervals(*store, DaySpec(zone), Users(40)));
  }
}

// The upgrade is one transaction: killed half-way (kill -9, here from inside its own progress
// line), it leaves the schema-4 ledger, which reports read exactly (from intervals), and the
// next start builds the aggregates again from the beginning.
BOOST_AUTO_TEST_CASE(upgrade_killed_half_way_leaves_a_ledger_that_opens_and_reports_exactly) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  // Enough user days that the upgrade writes some before it is killed.
  WriteVersion4Ledger(path, 700, 6, 11);
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    OpenSqliteTimeStore(path, LedgerOptions{.log = [](LogLevel, std::string_view text) {
                          if (text.find("(70%)") != std::string_view::npos) raise(SIGKILL);
                        }});
    _exit(0);  // not killed: the test fails below
  }
  int status = 0;
  BOOST_REQUIRE(waitpid(child, &status, 0) == child);
  BOOST_REQUIRE(WIFSIGNALED(status));
  BOOST_TEST(WTERMSIG(status) == SIGKILL);
  BOOST_TEST(SchemaVersion(path) == 4);

  auto reader = OpenSqliteTimeStoreReadOnly(path);
  BOOST_REQUIRE(reader.ok());
  const ReportSpec spec = DaySpec("Asia/Kolkata");
  const std::vector<std::string> from_old = ReportViaIntervals(**reader, spec, Users(700));
  BOOST_TEST(!(*reader)->OpenAggregates().ok());

  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  BOOST_TEST(SchemaVersion(path) == kLedgerSchemaVersion);
  BOOST_TEST(StoredDays(path) == ExpectedDays(path));
  BOOST_TEST(ReportViaAggregates(*store, spec, Users(700)) == from_old);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
