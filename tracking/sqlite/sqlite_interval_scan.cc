#include "tracking/sqlite/sqlite_interval_scan.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <exception>
#include <memory>

#include "tracking/sqlite/sqlite_ledger_reader.h"
#include "tracking/sqlite/sqlite_schema.h"

namespace presence::tracking {
namespace {

std::string IntervalQuery(const char* rest) {
  return std::string("SELECT ") + kIntervalColumns + " FROM intervals i " + rest;
}

// The connection is the scan's alone, used on one thread: no SQLite mutexes. Its rows come from
// the report index alone (schema 6), so a scan reads the index's pages in order, about forty
// rows a page: reading them through read() costs as little as mapping the file, without a
// mapping's resident size or its SIGBUS on a disk error.
SQLite::Database OpenScanConnection(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  PrepareLedgerReader(db);
  return db;
}

// A statement stepped through SQLite's C interface. A scan reads millions of rows, and per row
// SQLiteCpp makes a Column object per value (each copies a shared_ptr) and a std::string per
// text, which together cost more than the step.
class ScanStatement {
 public:
  ScanStatement(SQLite::Database& db, const std::string& sql) : db_(db.getHandle()) {
    sqlite3_stmt* statement = nullptr;
    Check(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr));
    statement_.reset(statement);
  }
  // Ready for new bindings (after any earlier step, also a failed one).
  ScanStatement& Restart() {
    sqlite3_reset(statement_.get());
    sqlite3_clear_bindings(statement_.get());
    return *this;
  }
  ScanStatement& Bind(int index, const std::string& text) {
    Check(sqlite3_bind_text(statement_.get(), index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  ScanStatement& Bind(int index, int64_t value) {
    Check(sqlite3_bind_int64(statement_.get(), index, value));
    return *this;
  }
  // True with a row to read; throws SQLite::Exception on an error.
  bool Step() {
    const int result = sqlite3_step(statement_.get());
    if (result == SQLITE_ROW) return true;
    if (result == SQLITE_DONE) return false;
    throw SQLite::Exception(db_, result);
  }
  sqlite3_stmt* row() { return statement_.get(); }

 private:
  void Check(int result) {
    if (result != SQLITE_OK) throw SQLite::Exception(db_, result);
  }

  struct Finalize {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalize> statement_;
};

// One scan on its own connection. Statements are declared after the connection, so they are
// finalized before it closes.
class IntervalScanner {
 public:
  explicit IntervalScanner(const std::string& path)
      : db_(OpenScanConnection(path)),
        // Per-user continuity: the latest interval starting before `from` is the only one that
        // can still run at `from`.
        covering_(db_, IntervalScanQueries()[0]),
        // In the order of the report index (agent, start_ms, id, ...): no sort, no table reads.
        starting_(db_, IntervalScanQueries()[1]),
        all_agents_(db_, "SELECT agent FROM agents ORDER BY agent") {}

  // Throws SQLite::Exception or std::runtime_error.
  void Run(const IntervalScan& scan, IntervalVisitor& visitor) {
    SQLite::Transaction snapshot(db_);
    // A deferred transaction takes its snapshot at the first read; read now, so commits made
    // while the visitor handles the first user stay out of the scan.
    db_.execAndGet("SELECT COUNT(*) FROM sqlite_master");
    if (!scan.agents.empty()) {
      for (const std::string& agent : scan.agents) {
        if (!VisitUser(agent, scan, visitor)) return;
      }
    } else {
      while (all_agents_.executeStep()) {
        if (!VisitUser(all_agents_.getColumn(0).getString(), scan, visitor)) return;
      }
    }
    snapshot.commit();
  }

 private:
  // False when the visitor asked to stop. One Interval serves every row: its strings keep
  // their storage, so rows are read without allocating.
  bool VisitUser(const std::string& agent, const IntervalScan& scan, IntervalVisitor& visitor) {
    if (!visitor.BeginUser(agent)) return false;
    if (scan.to <= scan.from) return true;
    // Started before `from`, so it sorts before every interval of the range query.
    covering_.Restart().Bind(1, agent).Bind(2, ToEpochMillis(scan.from));
    if (covering_.Step()) {
      ReadIntervalRow(covering_.row(), 0, row_);
      if ((!row_.end || *row_.end > scan.from) && !visitor.Add(row_)) return false;
    }
    starting_.Restart().Bind(1, agent).Bind(2, ToEpochMillis(scan.from));
    starting_.Bind(3, ToEpochMillis(scan.to));
    while (starting_.Step()) {
      ReadIntervalRow(starting_.row(), 0, row_);
      if (!visitor.Add(row_)) return false;
    }
    return true;
  }

  SQLite::Database db_;
  ScanStatement covering_;
  ScanStatement starting_;
  SQLite::Statement all_agents_;
  Interval row_;
};

}  // namespace

const std::vector<std::string>& IntervalScanQueries() {
  static const std::vector<std::string> queries = {
      IntervalQuery("WHERE i.agent = ? AND i.start_ms < ? ORDER BY i.start_ms DESC, i.id DESC "
                    "LIMIT 1"),
      IntervalQuery("WHERE i.agent = ? AND i.start_ms >= ? AND i.start_ms < ? ORDER BY "
                    "i.start_ms, i.id")};
  return queries;
}

Status ScanLedgerIntervals(const std::string& path, const IntervalScan& scan,
                           IntervalVisitor& visitor) {
  try {
    IntervalScanner scanner(path);
    scanner.Run(scan, visitor);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Error{"storage_error",
                 "cannot scan the time ledger '" + path + "': " + StorageFailureText(e)};
  }
}

}  // namespace presence::tracking
