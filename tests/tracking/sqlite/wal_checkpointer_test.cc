// The ledger's log is checkpointed by WalCheckpointer's own thread once the writer's commits
// have filled it, and never inside the writer's commits.

#include "tracking/sqlite/wal_checkpointer.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/fakes/temp_dir.h"

namespace presence::tracking {
namespace {

SQLite::Database NewWalDatabase(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)");
  return db;
}

// Commits `count` transactions of one row with a 2 KB value each (a page or more of log each).
void Commit(SQLite::Database& db, int count, int first = 0) {
  SQLite::Statement insert(db, "INSERT INTO t (id, text) VALUES (?, ?)");
  const std::string value(2000, 'x');
  for (int i = first; i < first + count; ++i) {
    SQLite::Transaction transaction(db);
    insert.bind(1, i);
    insert.bind(2, value);
    insert.exec();
    insert.reset();
    transaction.commit();
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(wal_checkpointer_test)

BOOST_AUTO_TEST_CASE(a_full_log_is_checkpointed_by_its_thread_and_every_row_is_kept) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  { NewWalDatabase(path); }
  WalCheckpointer checkpointer(path, 50);
  SQLite::Database writer(path, SQLite::OPEN_READWRITE);
  writer.exec("PRAGMA synchronous = FULL");
  checkpointer.Attach(writer);
  const auto before = std::filesystem::file_size(path);
  Commit(writer, 200);  // about 400 pages of log: past the threshold several times
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (checkpointer.checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // nothing to wait on: ask again
  }
  BOOST_TEST(checkpointer.checkpoints() > 0u);
  // The database file itself now holds pages copied from the log.
  BOOST_TEST(std::filesystem::file_size(path) > before);
  SQLite::Database reader(path, SQLite::OPEN_READONLY);
  BOOST_TEST(reader.execAndGet("SELECT count(*) FROM t").getInt() == 200);
}

BOOST_AUTO_TEST_CASE(the_writer_never_checkpoints_inside_its_commits) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  { NewWalDatabase(path); }
  // A threshold that is never reached: nobody checkpoints, and the writer's own automatic
  // checkpoint (every 1,000 pages by default) is off, so the database file does not grow
  // however much is committed; it all stays in the log, readable.
  WalCheckpointer checkpointer(path, 1 << 30);
  SQLite::Database writer(path, SQLite::OPEN_READWRITE);
  checkpointer.Attach(writer);
  const auto before = std::filesystem::file_size(path);
  Commit(writer, 1500);  // about 3,000 pages of log
  BOOST_TEST(std::filesystem::file_size(path) == before);
  BOOST_TEST(std::filesystem::file_size(path + "-wal") > 3000u * 1024);
  BOOST_TEST(checkpointer.checkpoints() == 0u);
  SQLite::Database reader(path, SQLite::OPEN_READONLY);
  BOOST_TEST(reader.execAndGet("SELECT count(*) FROM t").getInt() == 1500);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking
