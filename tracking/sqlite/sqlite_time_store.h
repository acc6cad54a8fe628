#pragma once

// The embedded TimeStore on SQLite. The writer connection belongs to the one thread that calls
// Commit; queries go through a SqliteLedgerReader on its own connection, and each interval scan
// opens one more, so readers never block the writer. A commit finds each of its users' open
// interval through the user's row (one SELECT per user and commit; nothing kept in memory per
// user).

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tracking/sqlite/ledger_lock.h"
#include "tracking/sqlite/sqlite_aggregates.h"
#include "tracking/sqlite/sqlite_interval_scan.h"
#include "tracking/sqlite/sqlite_ledger_reader.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/sqlite/sqlite_sync_state.h"
#include "tracking/sqlite/wal_checkpointer.h"
#include "tracking/time_store.h"

namespace presence::tracking {

class SqliteTimeStore final : public TimeStore {
 public:
  // `writer` has passed PrepareLedgerWriter; `path` is the same file, opened again for reading.
  // Throws SQLite::Exception or std::runtime_error; OpenSqliteTimeStore turns them into Errors.
  SqliteTimeStore(LedgerLock lock, SQLite::Database writer, const std::string& path);

  Status Commit(const CommitBatch& batch) override { return CommitFolded(batch, std::nullopt); }
  // Commit, recording in the same transaction that the tables now hold the change journal up to
  // record `journal_seq` (when given).
  Status CommitFolded(const CommitBatch& batch, std::optional<uint64_t> journal_seq);
  // The last journal record the tables hold (0 when none); writer thread.
  uint64_t FoldedSeq();
  // Frees the writer's cached pages (kWriterCacheKiB) that no transaction holds.
  void ReleaseCache();
  // Calls visit(agent, start in epoch ms) for each user's open interval as committed; returns
  // the users whose row names an interval the ledger lacks or has closed (damage from outside:
  // their next change opens a new one). On the writer's connection: only while no fold runs.
  std::vector<std::string> ForEachOpenStart(
      const std::function<void(const std::string&, int64_t)>& visit);
  Result<std::vector<StoredAgent>> LoadAgents() override { return reader_.LoadAgents(); }
  Result<std::vector<Interval>> Intervals(const std::optional<std::string>& agent, Timestamp from,
                                          Timestamp to) override {
    return reader_.Intervals(agent, from, to);
  }
  Result<std::vector<Total>> Totals(const TotalsQuery& query) override {
    return reader_.Totals(query);
  }
  Result<OutboxState> LoadOutbox() override;
  Status RemoveOutbox(const std::vector<int64_t>& ids) override;
  Status ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) override {
    return ScanLedgerIntervals(path_, scan, visitor);
  }
  Result<std::unique_ptr<AggregateSnapshot>> OpenAggregates() override {
    return OpenSqliteAggregates(path_);
  }
  Result<SyncState> LoadSyncState(const std::string& target) override {
    return reader_.LoadSyncState(target);
  }
  Status SaveSyncState(const std::string& target, const std::vector<SyncedFigure>& figures,
                       const std::optional<std::string>& done_through) override;

  uint64_t checkpoints() const { return checkpointer_.checkpoints(); }  // for tests

 private:
  // What one commit does to one of its users, found once: the index of their first change, the
  // id of the interval the commit leaves open, and whether their row is written.
  struct CommitUser {
    size_t first = 0;
    std::optional<int64_t> left_open;
    bool row_written = false;
  };
  // By user (views of the commit's own strings).
  using CommitUsers = std::unordered_map<std::string_view, CommitUser>;

  // Writes the batch's changes inside the open transaction. `users` gets each user of a
  // change, with the open interval they are left with.
  Status ApplyChanges(const std::vector<Change>& changes, CommitUsers& users);
  // Each user's row once per commit, however many of the user's changes and records it holds:
  // the engine's last word and the open interval the commit left.
  void WriteAgentRows(const CommitBatch& batch, CommitUsers& users);
  // Closes the user's open interval (the one their row names), if any, at the change:
  // "out_of_order" when it began after it.
  Status CloseInterval(const Change& change);
  // Adds a closed interval's time to the report aggregates (whose day rows also give Totals its
  // whole days).
  void CountClosed(const std::string& agent, const std::string& label,
                   const std::string& reason_code, StatusCode status, Timestamp start,
                   Timestamp end);
  // `end`: the interval is closed in the same batch; nullopt: it stays open.
  int64_t InsertInterval(const Change& change, std::optional<Timestamp> end);
  void WriteEngineState(const AgentRecord& record);
  void InsertOutbox(const OutboxItem& item);

  LedgerLock lock_;   // held as long as the store is open; released last
  std::string path_;  // scans open it again on connections of their own
  // Checkpoints the log off the writer's thread; before db_, whose commits drive it.
  WalCheckpointer checkpointer_;
  SQLite::Database db_;  // before the statements: they are finalized before it closes
  SQLite::Statement insert_interval_;
  SQLite::Statement find_open_interval_;
  SQLite::Statement close_interval_;
  SQLite::Statement set_open_interval_;
  SQLite::Statement set_agent_row_;  // engine state and open interval together
  SQLite::Statement set_engine_state_;
  SQLite::Statement insert_outbox_;
  SQLite::Statement set_folded_;
  // The day rows of the report aggregates, written in the same transaction as the intervals.
  SqliteAggregateWriter aggregates_;
  SqliteLedgerReader reader_;
  // Writes from other threads (delivery workers removing outbox rows, the CRM sync saving its
  // progress) go through this second connection (synchronous=NORMAL: a write lost in a power
  // cut only means something is sent again), so they never touch the writer's.
  std::mutex side_mutex_;
  SQLite::Database side_db_;
  SQLite::Statement remove_outbox_;    // on side_db_, under side_mutex_
  SqliteSyncStateWriter sync_writer_;  // on side_db_, under side_mutex_
};

}  // namespace presence::tracking
