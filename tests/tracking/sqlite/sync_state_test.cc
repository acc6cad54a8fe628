// The CRM time-tracking sync's progress (LoadSyncState / SaveSyncState), run against every
// store, then the SQLite side: persistence, the read-only store, and ledgers written by a
// schema version 2 program (before the sync tables existed).

#include <SQLiteCpp/SQLiteCpp.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::tracking::test {
namespace {

namespace data = boost::unit_test::data;
namespace tt = boost::test_tools;

// The whole days 2026-11-20 and -21 of the version-2 ledger (store_test_support.h), asked at
// noon of the second, and their totals: closed time plus a's Lunch, open until noon.
TotalsQuery Version2Days() {
  return TotalsQuery{T("2026-11-20T00:00:00Z"), T("2026-11-22T00:00:00Z"),
                     T("2026-11-21T12:00:00Z"), std::nullopt};
}
const std::vector<std::string> kVersion2DayTotals = {"a|Lunch|3|36000000", "a|Ready|1|14400000",
                                                     "b|Away|3|10800000", "b|Meeting|5|3600000"};

// Figures of three days saved in no particular order.
void SaveThreeDays(TimeStore& store, const std::string& target) {
  BOOST_TEST_REQUIRE(SaveText(store, target,
                              {Figure("carol-2026-11-21", "2026-11-21", 1000),
                               Figure("alice-2026-11-22", "2026-11-22", 2000),
                               Figure("bob-2026-11-21", "2026-11-21", 3000, true),
                               Figure("alice-2026-11-21", "2026-11-21", 4000, true),
                               Figure("bob-2026-11-23", "2026-11-23", 5000)}) == "");
}

std::vector<std::string> OutboxText(TimeStore& store) {
  auto outbox = store.LoadOutbox();
  if (!outbox.ok()) throw std::runtime_error(outbox.error().message);
  std::vector<std::string> lines = {"last " + std::to_string(outbox->last_id)};
  for (const OutboxItem& item : outbox->items) {
    lines.push_back(std::to_string(item.id) + " " + item.connector + " " + item.change.agent + " " +
                    item.change.label + " " + FormatTime(item.change.at));
  }
  return lines;
}

int SchemaVersionOf(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return LedgerSchemaVersion(db);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_state_test)

BOOST_DATA_TEST_CASE(nothing_saved_loads_an_empty_state, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  std::vector<std::string> empty = {"done_through none"};
  BOOST_TEST(SyncStateText(*store, "crm") == empty, tt::per_element());
  // Saving nothing at all is accepted and leaves nothing behind.
  BOOST_TEST(SaveText(*store, "crm", {}) == "");
  BOOST_TEST(SyncStateText(*store, "crm") == empty, tt::per_element());
}

BOOST_DATA_TEST_CASE(saved_figures_load_back_ordered_by_day_then_key, data::make(StoreKinds()),
                     kind) {
  StoreUnderTest store(kind);
  SaveThreeDays(*store, "crm");
  std::vector<std::string> expected = {
      "done_through none",
      "alice-2026-11-21|2026-11-21|4000|final",
      "bob-2026-11-21|2026-11-21|3000|final",
      "carol-2026-11-21|2026-11-21|1000|partial",
      "alice-2026-11-22|2026-11-22|2000|partial",
      "bob-2026-11-23|2026-11-23|5000|partial",
  };
  BOOST_TEST(SyncStateText(*store, "crm") == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(saving_a_key_again_replaces_its_figure, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  SaveThreeDays(*store, "crm");
  BOOST_TEST_REQUIRE(SaveText(*store, "crm",
                              {Figure("carol-2026-11-21", "2026-11-21", 1500, true),
                               Figure("bob-2026-11-23", "2026-11-20", 0),
                               Figure("dave-2026-11-22", "2026-11-22", 60000)}) == "");
  std::vector<std::string> expected = {
      "done_through none",
      "bob-2026-11-23|2026-11-20|0|partial",
      "alice-2026-11-21|2026-11-21|4000|final",
      "bob-2026-11-21|2026-11-21|3000|final",
      "carol-2026-11-21|2026-11-21|1500|final",
      "alice-2026-11-22|2026-11-22|2000|partial",
      "dave-2026-11-22|2026-11-22|60000|partial",
  };
  BOOST_TEST(SyncStateText(*store, "crm") == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(done_through_moves_the_mark_and_forgets_the_finished_days,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  SaveThreeDays(*store, "crm");
  // The day's last figures arrive with the mark that finishes it: both are forgotten at once.
  BOOST_TEST_REQUIRE(SaveText(*store, "crm",
                              {Figure("carol-2026-11-21", "2026-11-21", 1200, true),
                               Figure("alice-2026-11-22", "2026-11-22", 2500)},
                              "2026-11-21") == "");
  std::vector<std::string> expected = {
      "done_through 2026-11-21",
      "alice-2026-11-22|2026-11-22|2500|partial",
      "bob-2026-11-23|2026-11-23|5000|partial",
  };
  BOOST_TEST(SyncStateText(*store, "crm") == expected, tt::per_element());
  // Saving figures alone keeps the mark.
  BOOST_TEST_REQUIRE(SaveText(*store, "crm", {Figure("bob-2026-11-24", "2026-11-24", 7)}) == "");
  BOOST_TEST(SyncStateText(*store, "crm").front() == "done_through 2026-11-21");
  // A mark alone moves on and forgets what it covers.
  BOOST_TEST_REQUIRE(SaveText(*store, "crm", {}, "2026-11-23") == "");
  std::vector<std::string> later = {"done_through 2026-11-23",
                                    "bob-2026-11-24|2026-11-24|7|partial"};
  BOOST_TEST(SyncStateText(*store, "crm") == later, tt::per_element());
}

BOOST_DATA_TEST_CASE(targets_are_kept_apart, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  SaveThreeDays(*store, "crm");
  // The same key under another target is another figure.
  BOOST_TEST_REQUIRE(SaveText(*store, "helpdesk", {Figure("alice-2026-11-21", "2026-11-21", 9)},
                              "2026-11-20") == "");
  BOOST_TEST_REQUIRE(SaveText(*store, "crm", {}, "2026-11-22") == "");
  std::vector<std::string> crm = {"done_through 2026-11-22",
                                  "bob-2026-11-23|2026-11-23|5000|partial"};
  BOOST_TEST(SyncStateText(*store, "crm") == crm, tt::per_element());
  std::vector<std::string> helpdesk = {"done_through 2026-11-20",
                                       "alice-2026-11-21|2026-11-21|9|partial"};
  BOOST_TEST(SyncStateText(*store, "helpdesk") == helpdesk, tt::per_element());
  BOOST_TEST(SyncStateText(*store, "other").size() == 1u);
}

BOOST_DATA_TEST_CASE(saves_on_another_thread_while_the_core_commits, data::make(StoreKinds()),
                     kind) {
  StoreUnderTest store(kind);
  TimeStore& ledger = *store;
  const Timestamp start = T("2026-11-21T08:00:00Z");
  constexpr int kBatches = 200;
  std::string writer_error;
  std::thread core([&] {
    const char* labels[] = {"Ready", "On a call", "Wrap-up"};
    for (int batch = 0; batch < kBatches && writer_error.empty(); ++batch) {
      writer_error =
          CommitText(ledger, {MakeChangeAt("a", start + batch * kMinute, labels[batch % 3])});
    }
  });
  std::string save_error;
  for (int i = 0; i < kBatches && save_error.empty(); ++i) {
    const std::string day = "2026-11-" + std::to_string(10 + i % 20);
    std::optional<std::string> done;
    if (i == kBatches / 2) done = "2026-11-19";
    save_error = SaveText(ledger, "crm", {Figure("k" + std::to_string(i % 50), day, i)}, done);
  }
  core.join();
  BOOST_TEST(writer_error == "");
  BOOST_TEST(save_error == "");
  BOOST_TEST(IntervalsOrThrow(ledger, "a", start, start + kBatches * kMinute).size() ==
             static_cast<size_t>(kBatches));
  // Key kj was last saved by i = 150 + j, after the mark (i = 100): all fifty keys remain, each
  // with the day and figure of its last save, days 2026-11-10 to 29 ("k9" sorts after "k49").
  std::vector<std::string> state = SyncStateText(ledger, "crm");
  BOOST_TEST_REQUIRE(state.size() == 51u);
  BOOST_TEST(state.front() == "done_through 2026-11-19");
  BOOST_TEST(state[1] == "k10|2026-11-10|160|partial");
  BOOST_TEST(state.back() == "k9|2026-11-29|159|partial");
}

// ---- SQLite only ----

BOOST_AUTO_TEST_CASE(sqlite_sync_state_survives_reopening) {
  StoreUnderTest store("sqlite");
  SaveThreeDays(*store, "crm");
  BOOST_TEST_REQUIRE(SaveText(*store, "crm", {}, "2026-11-21") == "");
  std::vector<std::string> saved = SyncStateText(*store, "crm");
  store.Reopen();
  BOOST_TEST(SyncStateText(*store, "crm") == saved, tt::per_element());
  BOOST_TEST(saved.size() == 3u);
}

BOOST_AUTO_TEST_CASE(sqlite_read_only_store_loads_the_sync_state_and_refuses_to_save) {
  StoreUnderTest store("sqlite");
  auto reader = OpenSqliteTimeStoreReadOnly(store.path());
  BOOST_TEST_REQUIRE(reader.ok());
  SaveThreeDays(*store, "crm");
  BOOST_TEST(SyncStateText(**reader, "crm") == SyncStateText(*store, "crm"), tt::per_element());
  std::string refused = SaveText(**reader, "crm", {Figure("x", "2026-11-21", 1)}, "2026-11-22");
  BOOST_TEST(refused.rfind("read_only: ", 0) == 0u, refused);
  BOOST_TEST(SyncStateText(*store, "crm").size() == 6u);
}

BOOST_AUTO_TEST_CASE(sqlite_migrates_a_version_2_ledger_keeping_intervals_and_outbox) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("old.db");
  WriteVersion2Ledger(path);
  BOOST_TEST_REQUIRE(SchemaVersionOf(path) == 2);

  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(opened.ok());
  TimeStore& store = **opened;
  BOOST_TEST(SchemaVersionOf(path) == kLedgerSchemaVersion);
  const Timestamp from = T("2026-11-01T00:00:00Z");
  const Timestamp to = T("2026-12-01T00:00:00Z");
  BOOST_TEST(
      Describe(IntervalsOrThrow(store, std::nullopt, from, to)) == Describe(Version2Intervals()),
      tt::per_element());
  std::vector<std::string> outbox = {"last 2", "1 crm a Ready 2026-11-20T22:00:00.000Z",
                                     "2 crm a Lunch 2026-11-21T02:00:00.000Z"};
  BOOST_TEST(OutboxText(store) == outbox, tt::per_element());
  std::vector<std::string> empty = {"done_through none"};
  BOOST_TEST(SyncStateText(store, "crm") == empty, tt::per_element());
  // Whole days now come from the day aggregates the upgrade built (schema 8 drops daily_totals),
  // the same as the old program's daily_totals said (the read-only test below).
  BOOST_TEST(Describe(TotalsOrThrow(store, Version2Days())) == kVersion2DayTotals,
             tt::per_element());

  // The upgraded ledger takes up where the old program left off: a's open Lunch is closed by
  // her next change, and the new tables work.
  BOOST_TEST_REQUIRE(CommitText(store, {MakeChange("a", "2026-11-21T12:00:00Z", "Ready")}) == "");
  auto a = IntervalsOrThrow(store, "a", from, to);
  BOOST_TEST_REQUIRE(a.size() == 3u);
  BOOST_TEST(Describe(a[1]) ==
             "#2 a Lunch *61 Away agent select [2026-11-21T02:00:00.000Z, "
             "2026-11-21T12:00:00.000Z)");
  BOOST_TEST(a[2].id == 5);
  BOOST_TEST_REQUIRE(SaveText(store, "crm", {Figure("a-2026-11-21", "2026-11-21", 36000000)}) ==
                     "");
  BOOST_TEST(SyncStateText(store, "crm").size() == 2u);
}

BOOST_AUTO_TEST_CASE(sqlite_read_only_store_reads_a_version_2_ledger) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("old.db");
  WriteVersion2Ledger(path);
  auto opened = OpenSqliteTimeStoreReadOnly(path);
  BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  TimeStore& store = **opened;

  // Whole days (from the old program's daily_totals plus the open intervals) ...
  TotalsQuery days = Version2Days();
  BOOST_TEST(Describe(TotalsOrThrow(store, days)) == kVersion2DayTotals, tt::per_element());
  // ... and partial days, from the intervals.
  TotalsQuery hours{T("2026-11-20T23:00:00Z"), T("2026-11-21T08:30:00Z"), T("2026-11-21T12:00:00Z"),
                    std::nullopt};
  BOOST_TEST(Describe(TotalsOrThrow(store, hours)) == ExpectedTotals(Version2Intervals(), hours),
             tt::per_element());
  std::vector<std::string> scanned = ScanText(store, IntervalScan{days.from, days.to, {"b"}});
  BOOST_TEST(scanned.size() == 3u);

  std::vector<std::string> empty = {"done_through none"};
  BOOST_TEST(SyncStateText(store, "crm") == empty, tt::per_element());
  std::string refused = SaveText(store, "crm", {Figure("x", "2026-11-21", 1)});
  BOOST_TEST(refused.rfind("read_only: ", 0) == 0u, refused);
  // Reading never upgrades the file.
  BOOST_TEST(SchemaVersionOf(path) == 2);
}

// Schema 8 drops daily_totals: a report open on a schema-7 ledger while its agent upgrades the
// file reads whole days from daily_totals before and from the day aggregates after.
BOOST_AUTO_TEST_CASE(sqlite_read_only_store_reads_whole_days_across_the_upgrade_to_8) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("old.db");
  WriteVersion2Ledger(path);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    MigrateLedgerForTesting(db, 7);
  }
  auto opened = OpenSqliteTimeStoreReadOnly(path);
  BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  TimeStore& store = **opened;
  TotalsQuery days = Version2Days();
  BOOST_TEST(Describe(TotalsOrThrow(store, days)) == kVersion2DayTotals, tt::per_element());
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.setBusyTimeout(5000);
    MigrateLedgerForTesting(db, 8);
    BOOST_TEST_REQUIRE(!db.tableExists("daily_totals"));
  }
  BOOST_TEST(Describe(TotalsOrThrow(store, days)) == kVersion2DayTotals, tt::per_element());
  days.agent = "b";
  BOOST_TEST(Describe(TotalsOrThrow(store, days)) ==
                 std::vector<std::string>({"b|Away|3|10800000", "b|Meeting|5|3600000"}),
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(sqlite_read_only_store_refuses_a_newer_schema) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("future.db");
  WriteNewerSchemaFile(path);
  auto opened = OpenSqliteTimeStoreReadOnly(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "not_a_ledger");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
