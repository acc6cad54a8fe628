#pragma once

// The query side of the SQLite time ledger: its own read-only connection with prepared
// statements, so readers on any thread never wait for the writer (WAL lets them read the last
// committed state beside it). A mutex serialises readers on this one connection. Every query
// runs in one read transaction, so it sees a single consistent snapshot.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tracking/ledger_math.h"
#include "tracking/time_store.h"

struct sqlite3_stmt;

namespace presence::tracking {

// The columns every interval query selects (table alias i), in the order ReadIntervalRow expects.
inline constexpr const char* kIntervalColumns =
    "i.id, i.agent, i.label, i.reason_code, i.status, i.source, i.cause, i.start_ms, i.end_ms";

// The interval in the kIntervalColumns starting at column `first` of the current row. Throws
// std::runtime_error for a status or source this program does not know.
Interval ReadIntervalRow(SQLite::Statement& row, int first);
// The same from a statement stepped through SQLite's C interface, into `interval`, whose strings
// keep their storage from row to row: what a scan of millions of rows calls.
void ReadIntervalRow(sqlite3_stmt* row, int first, Interval& interval);

class SqliteLedgerReader {
 public:
  // Opens `path`: a ledger at the current schema, or (a report beside an older agent) one at an
  // older schema with the tables it reads. Throws SQLite::Exception.
  explicit SqliteLedgerReader(const std::string& path);

  // Same contracts as the TimeStore methods of the same names.
  Result<std::vector<StoredAgent>> LoadAgents();
  Result<std::vector<Interval>> Intervals(const std::optional<std::string>& agent, Timestamp from,
                                          Timestamp to);
  Result<std::vector<Total>> Totals(const TotalsQuery& query);
  // An empty state on a ledger older than kLedgerSyncStateVersion (a report beside an older
  // agent), since such a ledger has no sync yet.
  Result<SyncState> LoadSyncState(const std::string& target);

 private:
  // One query in two forms, for every user and for one (bound to :agent), so each form can use
  // its own index.
  struct QueryPair {
    SQLite::Statement all;
    SQLite::Statement one;
  };

  // The pair's statement for `agent`, reset, with :agent bound when there is one.
  static SQLite::Statement& Begin(QueryPair& pair, const std::optional<std::string>& agent);

  // The pair's statement over the UTC days [from, to) (:first, :end), prepared from `all` and
  // `one` when first needed (later calls' SQL is not read: one pair, one query).
  SQLite::Statement& BeginDays(std::optional<QueryPair>& pair, const char* all, const char* one,
                               const std::optional<std::string>& agent, Timestamp from,
                               Timestamp to);
  // Intervals starting in [from, to), and per user the one covering `from` if it still ran then.
  void CollectOverlapping(const std::optional<std::string>& agent, Timestamp from, Timestamp to,
                          std::vector<Interval>& out);
  // Totals over [from, to) computed from the intervals that overlap it (a partial-day region).
  void AddPartialRegion(const TotalsQuery& query, Timestamp from, Timestamp to,
                        TotalsBuilder& totals);
  // Totals over whole UTC days [from, to): closed time from the day aggregates (daily_totals on
  // a ledger older than kLedgerDayTotalsInAggregatesVersion), plus open intervals.
  void AddWholeDays(const TotalsQuery& query, Timestamp from, Timestamp to, TotalsBuilder& totals);
  void AddAggregatedDays(const TotalsQuery& query, Timestamp from, Timestamp to,
                         TotalsBuilder& totals);
  void AddDailyTotals(const TotalsQuery& query, Timestamp from, Timestamp to,
                      TotalsBuilder& totals);

  std::mutex mutex_;  // guards db_ and every statement below
  SQLite::Database db_;
  QueryPair starting_in_range_;
  QueryPair covering_;
  QueryPair open_before_;
  // Prepared when first needed: only one of the two tables is there.
  std::optional<QueryPair> day_rows_;
  std::optional<QueryPair> daily_totals_;
  SQLite::Statement load_agents_;
};

}  // namespace presence::tracking
