#pragma once

// The pre-aggregated time of the SQLite ledger (schema 5): table `states` interns (label,
// reason_code, status) as small ids, table `day_aggregates` holds one row per (agent, UTC day)
// with the day's blob (tracking/day_aggregate.h). Closed time only: the writer adds an
// interval's time when it closes, in the same transaction; readers add open intervals
// themselves.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "common/result.h"
#include "tracking/aggregate_snapshot.h"
#include "tracking/day_aggregate.h"

namespace presence::tracking {

// The first schema version with the aggregate tables.
inline constexpr int kLedgerAggregatesVersion = 5;

// Adds closed intervals to the day rows inside the caller's transaction, on the writer's
// connection (a schema-5 ledger). Throws SQLite::Exception or std::runtime_error.
class SqliteAggregateWriter {
 public:
  explicit SqliteAggregateWriter(SQLite::Database& db);

  // Adds [start, end) in state (label, reason_code, status) to the pending days.
  void AddClosed(const std::string& agent, const std::string& label, const std::string& reason_code,
                 StatusCode status, Timestamp start, Timestamp end);
  size_t pending() const { return pending_.size(); }
  // Writes the pending days into the open transaction: each (agent, day) row is read, the
  // pending time added and the row written back. With `rebuild_damaged`, a row whose blob is
  // damaged is rebuilt from the closed intervals in the database (which already hold the
  // pending ones) rather than failing the commit; without it, damage throws.
  void Flush(bool rebuild_damaged);
  // The transaction committed: new states are kept. Rolled back: they are forgotten.
  void Committed();
  void RolledBack();

 private:
  int64_t StateId(const std::string& label, const std::string& reason_code, StatusCode status);
  DayAggregate RebuildDay(const std::string& agent, int64_t day);
  void LoadStates();

  SQLite::Database& db_;
  SQLite::Statement insert_state_;
  SQLite::Statement read_day_;
  SQLite::Statement write_day_;
  SQLite::Statement covering_;
  SQLite::Statement starting_;
  std::unordered_map<std::string, int64_t> states_;      // by StateText; committed ones
  std::unordered_map<std::string, int64_t> new_states_;  // inserted in the open transaction
  // False after a failed transaction (whose commit may or may not have happened): states_ is
  // read again from the database before it is used.
  bool states_valid_ = false;
  std::map<std::pair<std::string, int64_t>, DayAggregate> pending_;
};

// Fills the (new, empty) aggregate tables from every closed interval, inside the caller's
// transaction (the 4 -> 5 migration): reads the intervals in commit order and writes days in
// chunks, so memory stays flat whatever the history. Logs a progress line about every 5% to
// `log` (may be empty) when there are intervals. Throws SQLite::Exception.
void FillDayAggregates(SQLite::Database& db, const LogSink& log);

// A snapshot of the ledger at `path` on a read-only connection of its own. "not_available" when
// the ledger is older than kLedgerAggregatesVersion; "storage_error" when it cannot be read.
Result<std::unique_ptr<AggregateSnapshot>> OpenSqliteAggregates(const std::string& path);

}  // namespace presence::tracking
