// One writer per ledger across processes, and read-only opening for reports.

#include <SQLiteCpp/Database.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "tests/fakes/temp_dir.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::tracking {
namespace {

const Timestamp kT0 = *ParseTime("2026-11-21T09:00:00Z");

CommitBatch OneChange(const std::string& agent, const std::string& label, Timestamp at) {
  CommitBatch batch;
  batch.changes.push_back(Change{.agent = agent, .at = at, .label = label});
  return batch;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger_lock_test)

BOOST_AUTO_TEST_CASE(a_second_writer_is_refused_until_the_first_closes) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  {
    auto first = OpenSqliteTimeStore(db);
    BOOST_REQUIRE(first.ok());
    auto second = OpenSqliteTimeStore(db);
    BOOST_REQUIRE(!second.ok());
    BOOST_TEST(second.error().code == "ledger_in_use");
    BOOST_TEST(second.error().message.find("another presence-agent process") != std::string::npos);
  }
  BOOST_TEST(OpenSqliteTimeStore(db).ok());
}

BOOST_AUTO_TEST_CASE(the_lock_of_a_killed_writer_is_released) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  int ready[2];
  BOOST_REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    auto store = OpenSqliteTimeStore(db);
    char byte = store.ok() ? 'y' : 'n';
    if (write(ready[1], &byte, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char byte = 0;
  BOOST_REQUIRE(read(ready[0], &byte, 1) == 1);
  BOOST_REQUIRE(byte == 'y');
  BOOST_TEST(OpenSqliteTimeStore(db).error().code == "ledger_in_use");
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  BOOST_TEST(OpenSqliteTimeStore(db).ok());
}

BOOST_AUTO_TEST_CASE(a_reader_sees_what_the_live_writer_committed_and_cannot_write) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  auto writer = OpenSqliteTimeStore(db);
  BOOST_REQUIRE(writer.ok());
  BOOST_REQUIRE((*writer)->Commit(OneChange("a", "Lunch", kT0)).ok());
  // Another process sees a commit once the writer has folded it from its change journal into
  // the tables (within kFoldDelay); a read on the writer waits for that.
  BOOST_REQUIRE((*writer)->LoadAgents().ok());
  auto reader = OpenSqliteTimeStoreReadOnly(db);
  BOOST_REQUIRE(reader.ok());
  auto intervals = (*reader)->Intervals(std::nullopt, kT0, kT0 + std::chrono::hours(1));
  BOOST_REQUIRE(intervals.ok());
  BOOST_REQUIRE_EQUAL(intervals->size(), 1u);
  BOOST_TEST(intervals->front().label == "Lunch");
  Status refused = (*reader)->Commit(OneChange("a", "Break", kT0 + std::chrono::minutes(1)));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == "read_only");
}

BOOST_AUTO_TEST_CASE(reading_an_unrelated_sqlite_file_refuses_and_leaves_it_alone) {
  testing::TempDir dir;
  const std::string other = dir.File("other.db");
  {
    SQLite::Database db(other, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE notes (text TEXT)");
  }
  auto reader = OpenSqliteTimeStoreReadOnly(other);
  BOOST_REQUIRE(!reader.ok());
  BOOST_TEST(reader.error().code == "not_a_ledger");
  SQLite::Database db(other, SQLite::OPEN_READONLY);
  BOOST_TEST(db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 1);
  BOOST_TEST(OpenSqliteTimeStoreReadOnly(dir.File("missing.db")).error().code == "not_a_ledger");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking
