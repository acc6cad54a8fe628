#include "tests/fakes/ledger_damage.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::testing {
namespace {

struct SampleState {
  const char* label;
  reasoncodes::StatusCode status;
};

constexpr SampleState kCycle[] = {{"Ready for Calls", reasoncodes::StatusCode::kOnline},
                                  {"Lunch", reasoncodes::StatusCode::kAway},
                                  {"Break", reasoncodes::StatusCode::kAway}};

constexpr int kPageSize = 4096;  // SQLite's default, which the ledger keeps

}  // namespace

void WriteLedgerHistory(const std::string& path, const std::vector<std::string>& users,
                        int changes) {
  auto store = tracking::OpenSqliteTimeStore(path, tracking::Durability::kProcessCrash);
  if (!store.ok()) throw std::runtime_error("cannot open " + path + ": " + store.error().message);
  const Timestamp start = *ParseTime("2026-11-20T00:00:00Z");
  for (const std::string& user : users) {
    tracking::CommitBatch batch;
    for (int i = 0; i < changes; ++i) {
      const SampleState& state = kCycle[i % std::size(kCycle)];
      tracking::Change change;
      change.agent = user;
      change.at = start + std::chrono::minutes(i);
      change.label = state.label;
      change.status = state.status;
      change.source = reasoncodes::Source::kAgent;
      change.cause = "select";
      batch.changes.push_back(std::move(change));
    }
    if (Status status = (*store)->Commit(batch); !status.ok()) {
      throw std::runtime_error("cannot commit to " + path + ": " + status.error().message);
    }
  }
}

void LeaveWal(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  sqlite3_db_config(db.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  db.exec(
      "INSERT INTO intervals (agent, label, reason_code, status, source, cause, start_ms, "
      "end_ms) VALUES ('1001', 'Lunch', '', 3, 'agent', 'select', 0, 1)");
}

void OverwriteMiddlePages(const std::string& path, int count) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  file.seekg(0, std::ios::end);
  const long long pages = static_cast<long long>(file.tellg()) / kPageSize;
  if (pages < count + 4) throw std::runtime_error(path + " is too small to damage its middle");
  file.seekp((pages / 2 - count / 2) * kPageSize);
  unsigned seed = 20261120;
  for (long long i = 0; i < static_cast<long long>(count) * kPageSize; ++i) {
    seed = seed * 1103515245u + 12345u;
    file.put(static_cast<char>(seed >> 16));
  }
  if (!file.flush()) throw std::runtime_error("cannot write " + path);
}

void DropIndexEntry(const std::string& path) {
  std::string index_sql;
  int64_t root = 0;
  {
    // Hide the index: its pages stay where they are, unknown to the next connection.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    SQLite::Statement row(db,
                          "SELECT sql, rootpage FROM sqlite_master WHERE name = "
                          "'intervals_by_start'");
    if (!row.executeStep()) throw std::runtime_error("no index intervals_by_start in " + path);
    index_sql = row.getColumn(0).getString();
    root = row.getColumn(1).getInt64();
    row.reset();
    db.exec("PRAGMA writable_schema = ON");
    db.exec("DELETE FROM sqlite_master WHERE name = 'intervals_by_start'");
  }
  {
    // A row the hidden index never hears of.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO intervals (agent, label, reason_code, status, source, cause, start_ms, "
        "end_ms) VALUES ('1001', 'Lunch', '', 3, 'agent', 'select', 0, 1)");
  }
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec("PRAGMA writable_schema = ON");
  SQLite::Statement restore(db,
                            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
                            "VALUES ('index', 'intervals_by_start', 'intervals', ?, ?)");
  restore.bind(1, root);
  restore.bind(2, index_sql);
  restore.exec();
}

void SpoilIntervalsOf(const std::string& path, const std::string& agent) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.setBusyTimeout(5000);
  SQLite::Statement spoil(
      db, "UPDATE intervals SET status = 99 WHERE agent = ? AND end_ms IS NOT NULL");
  spoil.bind(1, agent);
  if (spoil.exec() == 0) throw std::runtime_error("no intervals of " + agent + " in " + path);
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace presence::testing
