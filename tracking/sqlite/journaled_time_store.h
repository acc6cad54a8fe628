#pragma once

// The SQLite ledger behind its change journal (change_journal.h): what OpenSqliteTimeStore
// returns.
//
// Submit checks the batch (a change dated before its user's open interval is refused, as the
// ledger would, counting batches still being synced) and appends it to the journal. In
// power_loss mode a syncing thread then syncs every batch appended meanwhile with one
// fdatasync and tells each batch's caller, in order; the core goes on with its next batch
// while that sync runs (a pipeline: the core waits for the disk only when a full segment gives
// way to the next, every 32 MB, and the new one is created and synced). In
// process_crash mode the append is enough and the caller is told at once. Either way the
// batch then survives a process kill (and a power cut in power_loss mode). Commit is Submit
// waiting for that word. A folding thread then
// writes what has been journaled into the SQLite tables, everything that arrived meanwhile in
// one transaction that also records the last record it holds; closed journal segments are
// deleted once folded. Opening replays the records the tables do not hold yet.
//
// Every query first waits until the tables hold every batch committed before it was asked
// (the fold is hurried along), so readers in this process see each acknowledged change, as
// before. Another process reading the file (a report next to the running agent) sees it
// within a fold (at most about kFoldDelay, 500 ms, later). RemoveOutbox waits the same way, so
// a delivered row is in the table before it is removed.
//
// Back-pressure: when the fold falls behind by kMaxUnfoldedChanges changes, Submit waits for
// it; when the fold keeps failing (a full disk), Submit is refused once that many are waiting,
// with the fold's error, rather than growing the journal without end.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tracking/sqlite/change_journal.h"
#include "tracking/sqlite/sqlite_time_store.h"
#include "tracking/time_store.h"

namespace presence::tracking {

class JournaledTimeStore final : public TimeStore {
 public:
  static constexpr size_t kMaxUnfoldedChanges = 50'000;

  // Replays the journal into `inner` ("ledger_damaged" when records are missing from it or a
  // record is damaged before its last acknowledged one), deletes it and starts the fold.
  static Result<std::unique_ptr<TimeStore>> Open(std::unique_ptr<SqliteTimeStore> inner,
                                                 const std::string& path,
                                                 const LedgerOptions& options);
  ~JournaledTimeStore() override;

  Status Commit(const CommitBatch& batch) override;
  Status Submit(const CommitBatch& batch, Durable durable) override;
  Result<std::vector<StoredAgent>> LoadAgents() override;
  Result<std::vector<Interval>> Intervals(const std::optional<std::string>& agent, Timestamp from,
                                          Timestamp to) override;
  Result<std::vector<Total>> Totals(const TotalsQuery& query) override;
  Result<OutboxState> LoadOutbox() override;
  Status RemoveOutbox(const std::vector<int64_t>& ids) override;
  Status ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) override;
  Result<std::unique_ptr<AggregateSnapshot>> OpenAggregates() override;
  Result<SyncState> LoadSyncState(const std::string& target) override {
    return inner_->LoadSyncState(target);
  }
  Status SaveSyncState(const std::string& target, const std::vector<SyncedFigure>& figures,
                       const std::optional<std::string>& done_through) override {
    return inner_->SaveSyncState(target, figures, done_through);
  }

  // Waits until the tables hold every batch committed so far; the fold's error when it fails.
  Status Settle();
  // For tests: stops folding (commits still reach the journal), as if the process were
  // killed right after its last commit once the store is destroyed without a fold.
  void StopFoldingForTest();
  // For tests: waits while the journal prepares a segment; true when one is ready.
  bool WaitForPreparedSegmentForTest() { return journal_.WaitForPreparedForTest(); }
  uint64_t folds() const { return folds_.load(); }
  // Changes (at least one per batch) journaled and not yet folded: what back-pressure counts.
  size_t unfolded_changes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return unfolded_changes_;
  }

 private:
  struct Pending {
    CommitBatch batch;
    uint64_t seq = 0;   // of its last journal record
    size_t weight = 0;  // what it added to unfolded_changes_
  };
  struct Syncing {
    Pending pending;
    Durable durable;
  };

  JournaledTimeStore(std::unique_ptr<SqliteTimeStore> inner, const std::string& path,
                     const LedgerOptions& options, uint64_t folded_seq);
  void Fold();
  void SyncLoop();  // power_loss mode: the syncing thread
  // A durable batch, handed to the fold. Under mutex_; returns whether the fold needs a wake-up.
  bool QueueForFold(Pending pending);
  void RemoveFolded(uint64_t seq);
  bool FoldWentThrough(uint64_t seq);
  // Refuses a change dated before its user's latest one (in this batch or an earlier); fills
  // latest_slots_ for NoteLatest.
  Status CheckOrder(const CommitBatch& batch);
  // Once the batch is journaled: its changes are their users' latest.
  void NoteLatest(const CommitBatch& batch);

  std::unique_ptr<SqliteTimeStore> inner_;
  const std::string path_;
  LogSink log_;
  JournalWriter journal_;
  // Submit's thread only (the one writer).
  uint64_t next_seq_ = 1;
  std::string payload_;  // reused for each append
  std::string record_;
  std::unordered_map<std::string_view, int64_t> batch_latest_;  // CheckOrder's, reused
  // Each user's latest change (epoch ms) journaled, folded or not; at start-up, the open
  // interval the tables hold. One look-up per change whatever the number of users, and no lock:
  // the fold never touches it. Never erased from: latest_slots_ points into it.
  std::unordered_map<std::string, int64_t> latest_at_;
  // Per change of the batch being submitted: where latest_at_ keeps its user (nullptr: a user
  // first seen).
  std::vector<int64_t*> latest_slots_;

  std::mutex mutex_;
  std::condition_variable fold_wake_;  // the fold: work, hurry, stop
  std::condition_variable folded_;     // settling readers and a waiting Submit
  std::deque<Pending> queue_;          // journaled, not yet folded; under mutex_
  std::condition_variable sync_wake_;  // the syncing thread: work, stop
  std::deque<Syncing> syncing_;        // appended, not yet synced; under mutex_
  size_t untold_ = 0;                // batches appended whose caller is not told yet; under mutex_
  bool stop_syncing_ = false;        // under mutex_
  size_t unfolded_changes_ = 0;      // under mutex_
  uint64_t journaled_seq_ = 0;       // the last durable record; under mutex_
  uint64_t folded_seq_ = 0;          // under mutex_
  int hurry_ = 0;                    // readers waiting; under mutex_
  std::optional<Error> fold_error_;  // the last fold's failure; under mutex_
  uint64_t fold_failures_ = 0;       // under mutex_
  bool stopping_ = false;            // under mutex_
  bool frozen_ = false;              // StopFoldingForTest; under mutex_
  std::atomic<uint64_t> folds_{0};
  const Durability durability_;
  std::thread thread_;
  std::thread sync_thread_;  // power_loss mode only
};

}  // namespace presence::tracking
