#include "tracking/sqlite/sqlite_interval_scan.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <exception>

#include "tracking/sqlite/sqlite_ledger_reader.h"
#include "tracking/sqlite/sqlite_schema.h"

namespace presence::tracking {
namespace {

std::string IntervalQuery(const char* rest) {
  return std::string("SELECT ") + kIntervalColumns + " FROM intervals i " + rest;
}

SQLite::Database OpenScanConnection(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  PrepareLedgerReader(db);
  return db;
}

// One scan on its own connection. Statements are declared after the connection, so they are
// finalized before it closes.
class IntervalScanner {
 public:
  explicit IntervalScanner(const std::string& path)
      : db_(OpenScanConnection(path)),
        // Per-user continuity: the latest interval starting before `from` is the only one that
        // can still run at `from`.
        covering_(db_, IntervalQuery("WHERE i.agent = ? AND i.start_ms < ? ORDER BY i.start_ms "
                                     "DESC, i.id DESC LIMIT 1")),
        starting_(db_, IntervalQuery("WHERE i.agent = ? AND i.start_ms >= ? AND i.start_ms < ? "
                                     "ORDER BY i.start_ms, i.id")),
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
  // False when the visitor asked to stop.
  bool VisitUser(const std::string& agent, const IntervalScan& scan, IntervalVisitor& visitor) {
    if (!visitor.BeginUser(agent)) return false;
    if (scan.to <= scan.from) return true;
    // Started before `from`, so it sorts before every interval of the range query.
    Reuse(covering_).bind(1, agent);
    covering_.bind(2, ToEpochMillis(scan.from));
    if (covering_.executeStep()) {
      Interval interval = ReadIntervalRow(covering_, 0);
      if ((!interval.end || *interval.end > scan.from) && !visitor.Add(interval)) return false;
    }
    Reuse(starting_).bind(1, agent);
    starting_.bind(2, ToEpochMillis(scan.from));
    starting_.bind(3, ToEpochMillis(scan.to));
    while (starting_.executeStep()) {
      if (!visitor.Add(ReadIntervalRow(starting_, 0))) return false;
    }
    return true;
  }

  SQLite::Database db_;
  SQLite::Statement covering_;
  SQLite::Statement starting_;
  SQLite::Statement all_agents_;
};

}  // namespace

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
