// What a writer does with a ledger it should not trust: damaged, write-protected, empty; and
// the permissions of the files it creates.

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "tests/fakes/ledger_damage.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/write_protect.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::tracking {
namespace {

using testing::ModeOf;

const std::vector<std::string> kUsers = {"1001", "1002", "1003", "1004"};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A ledger of four users with 600 changes each: about 80 pages, all of them in use.
std::string LedgerWithHistory(const testing::TempDir& dir) {
  const std::string db = dir.File("ledger.db");
  testing::WriteLedgerHistory(db, kUsers, 600);
  return db;
}

CommitBatch OneChange(const std::string& agent) {
  CommitBatch batch;
  batch.changes.push_back(Change{.agent = agent,
                                 .at = *ParseTime("2026-11-21T09:00:00Z"),
                                 .label = "Ready",
                                 .source = reasoncodes::Source::kAgent,
                                 .cause = "select"});
  return batch;
}

class CountingVisitor final : public IntervalVisitor {
 public:
  bool BeginUser(const std::string&) override { return true; }
  bool Add(const Interval&) override {
    ++intervals;
    return true;
  }
  long long intervals = 0;
};

// Sets the process's umask for a scope, so a file mode does not depend on the caller's.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }

 private:
  mode_t old_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger_check_test)

BOOST_AUTO_TEST_CASE(garbage_pages_in_the_middle_are_refused_and_the_file_left_alone) {
  testing::TempDir dir;
  const std::string db = LedgerWithHistory(dir);
  testing::OverwriteMiddlePages(db, 10);
  const std::string damaged = testing::FileBytes(db);

  auto store = OpenSqliteTimeStore(db);
  BOOST_REQUIRE_MESSAGE(!store.ok(), "a damaged ledger was opened for writing");
  BOOST_TEST(store.error().code == "ledger_damaged");
  const std::string& message = store.error().message;
  BOOST_TEST(Contains(message, "'" + db + "' is damaged"), message);
  BOOST_TEST(Contains(message, "quick_check"), message);
  BOOST_TEST(Contains(message, "backup"), message);
  BOOST_TEST(Contains(message, "sqlite3 '" + db + "' \".clone " + db + ".salvaged\""), message);
  BOOST_TEST(Contains(message, "PRAGMA user_version = " + std::to_string(kLedgerSchemaVersion)),
             message);
  BOOST_TEST((testing::FileBytes(db) == damaged), "the damaged file was changed");
  // The refusal let go of the lock: trying again says the same, not "in use".
  BOOST_TEST(OpenSqliteTimeStore(db).error().code == "ledger_damaged");
}

BOOST_AUTO_TEST_CASE(a_refused_ledger_keeps_the_wal_a_crash_left_beside_it) {
  testing::TempDir dir;
  const std::string db = LedgerWithHistory(dir);
  testing::LeaveWal(db);
  testing::OverwriteMiddlePages(db, 10);
  const std::string damaged = testing::FileBytes(db);
  const std::string wal = testing::FileBytes(db + "-wal");
  BOOST_REQUIRE(!wal.empty());
  BOOST_TEST(OpenSqliteTimeStore(db).error().code == "ledger_damaged");
  // Closing the last connection would have checkpointed the log into the damaged file.
  BOOST_TEST((testing::FileBytes(db) == damaged), "the damaged file was changed");
  BOOST_TEST((testing::FileBytes(db + "-wal") == wal), "the -wal was changed or removed");
}

BOOST_AUTO_TEST_CASE(reading_a_ledger_damaged_later_points_to_the_recovery) {
  testing::TempDir dir;
  const std::string db = LedgerWithHistory(dir);
  // Reports open the file without the check (it may be large, and an agent is writing it).
  auto store = OpenSqliteTimeStoreReadOnly(db);
  BOOST_REQUIRE(store.ok());
  testing::OverwriteMiddlePages(db, 10);
  CountingVisitor visitor;
  const IntervalScan all{*ParseTime("2026-11-20T00:00:00Z"), *ParseTime("2026-11-21T00:00:00Z"),
                         kUsers};
  Status scanned = (*store)->ScanIntervals(all, visitor);
  BOOST_REQUIRE_MESSAGE(!scanned.ok(), "read " << visitor.intervals << " intervals of garbage");
  BOOST_TEST(
      Contains(scanned.error().message, "the ledger file is damaged: see \"Damaged ledger\""),
      scanned.error().message);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_refused_as_damaged) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  std::ofstream(db) << "this is a text file, not a SQLite database, and it is long enough to "
                       "be taken for one by size alone\n";
  auto store = OpenSqliteTimeStore(db);
  BOOST_REQUIRE(!store.ok());
  BOOST_TEST(store.error().code == "ledger_damaged");
  BOOST_TEST(Contains(store.error().message, "not a database"), store.error().message);
  BOOST_TEST(Contains(store.error().message, "backup"), store.error().message);
}

BOOST_AUTO_TEST_CASE(the_full_check_finds_an_index_that_the_quick_check_cannot_see) {
  testing::TempDir dir;
  const std::string db = LedgerWithHistory(dir);
  testing::DropIndexEntry(db);
  auto full = OpenSqliteTimeStore(db, LedgerOptions{.check = LedgerCheck::kFull});
  BOOST_REQUIRE_MESSAGE(!full.ok(), "integrity_check let a broken index pass");
  BOOST_TEST(full.error().code == "ledger_damaged");
  BOOST_TEST(Contains(full.error().message, "integrity_check"), full.error().message);
  BOOST_TEST(Contains(full.error().message, "intervals_by_start"), full.error().message);
  // quick_check checks pages, not indexes against tables: this one opens.
  BOOST_TEST(OpenSqliteTimeStore(db, LedgerOptions{.check = LedgerCheck::kQuick}).ok());
}

BOOST_AUTO_TEST_CASE(a_sound_ledger_passes_both_checks) {
  testing::TempDir dir;
  const std::string db = LedgerWithHistory(dir);
  for (LedgerCheck check : {LedgerCheck::kQuick, LedgerCheck::kFull}) {
    auto store = OpenSqliteTimeStore(db, LedgerOptions{.check = check});
    BOOST_TEST(store.ok(), (store.ok() ? "" : store.error().message));
  }
}

BOOST_AUTO_TEST_CASE(an_empty_file_becomes_a_new_ledger_with_a_warning_naming_it) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  std::ofstream{db};  // 0 bytes
  std::vector<std::string> warnings;
  LedgerOptions options{.log = [&](LogLevel level, std::string_view text) {
    warnings.push_back(FormatLogLine(level, text));
  }};
  {
    auto store = OpenSqliteTimeStore(db, options);
    BOOST_REQUIRE(store.ok());
    BOOST_TEST((*store)->Commit(OneChange("1001")).ok());
  }
  BOOST_REQUIRE_EQUAL(warnings.size(), 1u);
  BOOST_TEST(warnings[0].starts_with("warning: "), warnings[0]);
  BOOST_TEST(Contains(warnings[0], "'" + db + "' was an empty (0-byte) file"), warnings[0]);
  BOOST_TEST(Contains(warnings[0], "backup"), warnings[0]);
  // Not for a new file, and not for the ledger it has become.
  BOOST_TEST(OpenSqliteTimeStore(db, options).ok());
  BOOST_TEST(OpenSqliteTimeStore(dir.File("new.db"), options).ok());
  BOOST_TEST(warnings.size() == 1u);
}

BOOST_AUTO_TEST_CASE(new_ledger_files_are_readable_by_their_owner_only) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  Umask umask(022);  // the usual default, under which files are created world-readable
  auto store = OpenSqliteTimeStore(db);
  BOOST_REQUIRE(store.ok());
  BOOST_REQUIRE((*store)->Commit(OneChange("1001")).ok());
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) {
    BOOST_TEST_CONTEXT(db + suffix) { BOOST_TEST(ModeOf(db + suffix) == 0600u); }
  }
}

BOOST_AUTO_TEST_CASE(a_write_protected_ledger_is_refused_naming_the_file) {
  testing::TempDir dir;
  const std::string db = LedgerWithHistory(dir);
  testing::WriteProtect guard(db);
  if (!guard.effective()) {
    BOOST_TEST_MESSAGE("skipped: neither chmod nor chattr +i stops this process writing " << db);
    return;
  }
  BOOST_TEST_MESSAGE("write-protected with " << guard.how());
  auto store = OpenSqliteTimeStore(db);
  BOOST_REQUIRE_MESSAGE(!store.ok(), "a write-protected ledger was opened for writing");
  BOOST_TEST(store.error().code == "ledger_not_writable");
  BOOST_TEST(Contains(store.error().message, "the time ledger '" + db + "'"),
             store.error().message);
  BOOST_TEST(Contains(store.error().message, "cannot be opened for writing"),
             store.error().message);
  // Reports only read: they still work.
  BOOST_TEST(OpenSqliteTimeStoreReadOnly(db).ok());
}

BOOST_AUTO_TEST_CASE(a_write_protected_folder_is_refused_naming_the_folder) {
  testing::TempDir dir;
  const std::string folder = dir.File("data");
  std::filesystem::create_directory(folder);
  const std::string db = folder + "/presence.db";
  testing::WriteLedgerHistory(db, kUsers, 10);
  testing::WriteProtect guard(folder);
  if (!guard.effective()) {
    BOOST_TEST_MESSAGE("skipped: neither chmod nor chattr +i stops this process writing in "
                       << folder);
    return;
  }
  BOOST_TEST_MESSAGE("write-protected with " << guard.how());
  auto store = OpenSqliteTimeStore(db);
  BOOST_REQUIRE_MESSAGE(!store.ok(), "a ledger in a write-protected folder was opened");
  BOOST_TEST(store.error().code == "ledger_not_writable");
  BOOST_TEST(Contains(store.error().message, "the folder '" + folder + "'"), store.error().message);
  BOOST_TEST(Contains(store.error().message, "is not writable"), store.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking
