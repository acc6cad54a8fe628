#include "tracking/sqlite/journaled_time_store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <iterator>

#include "common/thread_name.h"
#include "tracking/ledger_math.h"

namespace presence::tracking {
namespace {

// The fold waits this long after the first waiting batch, or until this many changes wait,
// so that one transaction writes many commits: a user's index and day pages are written once
// for all of that user's changes in it (1,000 users at 17,000 changes/s: 20 ms folds ran at
// 12-16k/s, 200 ms folds at 17-19k/s). Fewer page writes also leave the disk to the journal's
// syncs: at 27,000 changes/s 500 ms folds ran about 10% faster than 200 ms ones, larger WAL
// checkpoints did not help. A reader waiting for it hurries it along.
constexpr auto kFoldDelay = std::chrono::milliseconds(500);
constexpr size_t kFoldChanges = 20'000;
// Replaying at start-up: this many changes per transaction.
constexpr size_t kReplayChanges = 20'000;
// How long a query waits for the fold before it answers with an error.
constexpr auto kSettleTimeout = std::chrono::seconds(30);
// Between failed folds (a full disk, the file locked by another process).
constexpr auto kFirstRetry = std::chrono::milliseconds(50);
constexpr auto kLastRetry = std::chrono::seconds(2);
// After this long without a batch the fold gives back the tables' page cache (see Fold).
constexpr auto kIdleRelease = std::chrono::seconds(2);

size_t Weight(const CommitBatch& batch) { return std::max<size_t>(1, batch.changes.size()); }

void Append(CommitBatch& into, CommitBatch&& from) {
  auto move_all = [](auto& to, auto& source) {
    to.insert(to.end(), std::make_move_iterator(source.begin()),
              std::make_move_iterator(source.end()));
  };
  move_all(into.changes, from.changes);
  move_all(into.agents, from.agents);
  move_all(into.outbox, from.outbox);
}

Error JournalDamaged(const std::string& file, const std::string& what) {
  return Error{"ledger_damaged",
               "the change journal '" + file + "' is damaged: " + what +
                   ". Its acknowledged changes cannot all be replayed into the ledger. Stop here "
                   "and keep a copy of the data folder; to start without the changes it still "
                   "held, move the journal's files (*.changes-*) out of the folder"};
}

// Replays the records the tables do not hold into `inner`; returns the last record's seq
// (or `folded` when there was nothing newer).
Result<uint64_t> Replay(SqliteTimeStore& inner, const std::vector<JournalSegmentFile>& segments,
                        uint64_t folded, const LogSink& log, std::vector<std::string>* unfinished) {
  uint64_t expected = 0;  // the seq the next record must carry; 0 before the first
  uint64_t last = folded;
  CommitBatch merged;
  size_t replayed = 0;
  auto flush = [&]() -> Status {
    if (merged.empty()) return Status::Ok();
    Status status = inner.CommitFolded(merged, last);
    merged = CommitBatch{};
    return status;
  };
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& file = segments[i].path;
    Result<std::string> bytes = ReadJournalSegment(file);
    if (!bytes.ok() && bytes.error().code == "damaged_journal") {
      return JournalDamaged(file, bytes.error().message);
    }
    if (!bytes.ok()) return bytes.error();
    JournalSegmentRead read = ParseJournalSegment(*bytes);
    for (const JournalRecord& record : read.records) {
      if (expected != 0 && record.seq != expected) {
        return JournalDamaged(file, "record " + std::to_string(record.seq) + " follows record " +
                                        std::to_string(expected - 1));
      }
      expected = record.seq + 1;
      if (record.seq <= folded) continue;
      if (record.seq != last + 1) {
        return JournalDamaged(file, "records " + std::to_string(last + 1) + " to " +
                                        std::to_string(record.seq - 1) + " are missing");
      }
      Result<CommitBatch> batch = DecodeCommitBatch(record.payload);
      if (!batch.ok()) return JournalDamaged(file, batch.error().message);
      replayed += batch->changes.size();
      Append(merged, std::move(*batch));
      last = record.seq;
      if (merged.changes.size() >= kReplayChanges) {
        if (Status status = flush(); !status.ok()) return status.error();
      }
    }
    if (!read.complete) {
      // What follows the last good record can only be an append that never finished (and was
      // never acknowledged): a cut-short record, or, after a power cut, bytes that never
      // reached the disk whole. Not if a good record comes after them, nor in a segment that
      // another follows.
      // A size damaged to point past the end looks like a cut-short record too: whatever
      // stopped the read, a good record further on means acknowledged records would be lost.
      // (Up to a prepared segment's unused rest: no record lies in its zeros.)
      // Except after an unlanded record of a prepared segment: the sync that would have made it
      // durable never finished, and every record after it came later still (a segment gives
      // way only once synced, so a next segment's records show the damage by their numbers).
      const bool last_segment = i + 1 == segments.size();
      const uint64_t after = std::max(expected ? expected - 1 : 0, folded);
      if ((!read.cut_short && !last_segment) ||
          (!read.unlanded && RecordFollows(std::string_view(*bytes).substr(0, read.used_bytes),
                                           read.good_bytes + 1, after))) {
        return JournalDamaged(file, read.problem.empty()
                                        ? "a record's size runs past the end, before later records"
                                        : read.problem);
      }
      if (log) {
        log(LogLevel::kWarning,
            "the change journal '" + file + "' ends in an append that did not finish (" +
                std::to_string(read.used_bytes - read.good_bytes) +
                " bytes, never acknowledged): left out" +
                (read.cut_short ? "" : "; the file is kept as '" + file + ".unfinished'"));
      }
      if (!read.cut_short) unfinished->push_back(file);
    }
  }
  if (Status status = flush(); !status.ok()) return status.error();
  if (replayed > 0 && log) {
    log(LogLevel::kInfo, "the time ledger took " + std::to_string(replayed) +
                             " changes from its change journal (written before the last stop)");
  }
  return last;
}

}  // namespace

Result<std::unique_ptr<TimeStore>> JournaledTimeStore::Open(std::unique_ptr<SqliteTimeStore> inner,
                                                            const std::string& path,
                                                            const LedgerOptions& options) {
  const uint64_t folded = inner->FoldedSeq();
  Result<std::vector<JournalSegmentFile>> segments = ListJournalSegments(path);
  if (!segments.ok()) return segments.error();
  std::vector<std::string> unfinished;
  Result<uint64_t> last = Replay(*inner, *segments, folded, options.log, &unfinished);
  if (!last.ok()) return last.error();
  // Everything is in the tables now; synced before the journal's copy goes (in either mode: a
  // power cut must not find the journal gone and the tables without it).
  if (!segments->empty()) {
    if (Status synced = SyncLedgerFiles(path); !synced.ok()) return synced.error();
  }
  for (const JournalSegmentFile& segment : *segments) {
    const bool keep =
        std::find(unfinished.begin(), unfinished.end(), segment.path) != unfinished.end();
    if (keep) {
      // Left in place it would stand in front of the next start's segments as damage.
      const std::string aside = segment.path + ".unfinished";
      if (::rename(segment.path.c_str(), aside.c_str()) != 0) {
        return Error{"storage_error", "cannot move the change journal '" + segment.path +
                                          "' aside to '" + aside + "': " + std::strerror(errno)};
      }
    } else {
      ::unlink(segment.path.c_str());
    }
  }
  return std::unique_ptr<TimeStore>(new JournaledTimeStore(std::move(inner), path, options, *last));
}

JournaledTimeStore::JournaledTimeStore(std::unique_ptr<SqliteTimeStore> inner,
                                       const std::string& path, const LedgerOptions& options,
                                       uint64_t folded_seq)
    : inner_(std::move(inner)),
      path_(path),
      log_(options.log),
      journal_(path, options.durability),
      next_seq_(folded_seq + 1),
      journaled_seq_(folded_seq),
      folded_seq_(folded_seq),
      durability_(options.durability) {
  // Before the fold starts: the ledger's connection is the writer thread's.
  const std::vector<std::string> lost = inner_->ForEachOpenStart(
      [this](const std::string& agent, int64_t start_ms) { latest_at_.emplace(agent, start_ms); });
  if (!lost.empty() && log_) {
    // Only an edit from outside (the writer keeps foreign keys on) leaves a row like that.
    std::string names;
    for (size_t i = 0; i < lost.size() && i < 5; ++i) {
      names += (i > 0 ? ", '" : "'") + lost[i] + "'";
    }
    log_(LogLevel::kWarning,
         "the time ledger names an open interval it lacks or has closed for " +
             std::to_string(lost.size()) + " user(s) (" + names + (lost.size() > 5 ? ", ..." : "") +
             "); their time since is not in it, and their next change opens a new interval");
  }
  thread_ = std::thread([this] {
    NameThisThread("ledger-fold");
    LowerThisThreadsPriority(10);  // the journal has every change already; see thread_name.h
    Fold();
  });
  if (durability_ == Durability::kPowerLoss) {
    sync_thread_ = std::thread([this] {
      NameThisThread("journal-sync");
      SyncLoop();
    });
  }
}

JournaledTimeStore::~JournaledTimeStore() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_syncing_ = true;  // after the batches waiting for a sync
  }
  sync_wake_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  fold_wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // A clean stop folds everything; what is left (a failing disk, a test's frozen fold) stays
  // in the journal for the next start.
  if (folded_seq_ == journaled_seq_ && SyncLedgerFiles(path_).ok()) journal_.RemoveAll();
}

Status JournaledTimeStore::CheckOrder(const CommitBatch& batch) {
  std::unordered_map<std::string_view, int64_t>& in_batch = batch_latest_;
  in_batch.clear();
  latest_slots_.clear();
  for (const Change& change : batch.changes) {
    const int64_t at = ToEpochMillis(change.at);
    auto known = latest_at_.find(change.agent);
    int64_t* slot = known == latest_at_.end() ? nullptr : &known->second;
    latest_slots_.push_back(slot);
    std::optional<int64_t> before;
    if (auto it = in_batch.find(change.agent); it != in_batch.end()) {
      before = it->second;
    } else if (slot) {
      before = *slot;
    }
    if (before && at < *before) return OutOfOrderError(change, FromEpochMillis(*before));
    in_batch[change.agent] = at;
  }
  return Status::Ok();
}

void JournaledTimeStore::NoteLatest(const CommitBatch& batch) {
  // In order: a user's later change in the batch (never dated earlier) has the last word.
  for (size_t i = 0; i < batch.changes.size(); ++i) {
    const Change& change = batch.changes[i];
    if (int64_t* slot = latest_slots_[i]) {
      *slot = ToEpochMillis(change.at);
    } else {
      latest_at_.insert_or_assign(change.agent, ToEpochMillis(change.at));
    }
  }
}

Status JournaledTimeStore::Commit(const CommitBatch& batch) {
  // Shared with the syncing thread, which may still be inside set_value when get returns.
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> durable = done->get_future();
  if (Status submitted =
          Submit(batch, [done](Status status) { done->set_value(std::move(status)); });
      !submitted.ok()) {
    return submitted;
  }
  return durable.get();
}

Status JournaledTimeStore::Submit(const CommitBatch& batch, Durable durable) {
  if (batch.empty()) {
    {
      // Told in its turn, after the batches ahead of it (also those being synced now).
      std::lock_guard<std::mutex> lock(mutex_);
      if (untold_ > 0) {
        ++untold_;
        syncing_.push_back(Syncing{Pending{}, std::move(durable)});
        if (syncing_.size() == 1) sync_wake_.notify_one();
        return Status::Ok();
      }
    }
    durable(Status::Ok());
    return Status::Ok();
  }
  if (Status order = CheckOrder(batch); !order.ok()) return order;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    while (unfolded_changes_ >= kMaxUnfoldedChanges && !frozen_) {
      if (fold_error_) {
        return Error{fold_error_->code, "the time ledger is not being written (" +
                                            fold_error_->message + "); " +
                                            std::to_string(unfolded_changes_) +
                                            " acknowledged changes wait in its change journal"};
      }
      ++hurry_;
      fold_wake_.notify_one();
      folded_.wait(lock);
      --hurry_;
    }
  }
  record_.clear();
  payload_.clear();
  EncodeCommitBatch(batch, payload_);
  if (payload_.size() > kJournalMaxPayload) {
    return Error{"storage_error", "a batch of " + std::to_string(payload_.size()) +
                                      " bytes is more than the change journal takes (" +
                                      std::to_string(kJournalMaxPayload) +
                                      "); nothing was written"};
  }
  AppendJournalRecord(next_seq_, payload_, record_);
  if (Status written = journal_.Write(next_seq_, record_); !written.ok()) return written;
  // The next batch's order check counts this one from now on, synced or not: should the sync
  // fail, the journal refuses every later batch anyway.
  NoteLatest(batch);
  const uint64_t seq = next_seq_++;
  Pending pending{batch, seq, Weight(batch)};  // the copy made before the lock is taken
  bool wake_fold = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (durability_ == Durability::kPowerLoss) {
      ++untold_;
      syncing_.push_back(Syncing{std::move(pending), std::move(durable)});
      if (syncing_.size() == 1) sync_wake_.notify_one();
      return Status::Ok();
    }
    wake_fold = QueueForFold(std::move(pending));
  }
  if (wake_fold) fold_wake_.notify_one();
  durable(Status::Ok());  // process_crash: written is enough
  return Status::Ok();
}

bool JournaledTimeStore::QueueForFold(Pending pending) {
  // The fold waits for its first batch, then for kFoldChanges or kFoldDelay: only those two
  // moments need a wake-up.
  const size_t before = unfolded_changes_;
  unfolded_changes_ += pending.weight;
  const bool wake = queue_.empty() || (before < kFoldChanges && unfolded_changes_ >= kFoldChanges);
  journaled_seq_ = pending.seq;
  queue_.push_back(std::move(pending));
  return wake;
}

// Group commit behind the core's back: while one fdatasync runs, the core appends the next
// batches, and the next sync takes all of them.
void JournaledTimeStore::SyncLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    sync_wake_.wait(lock, [&] { return stop_syncing_ || !syncing_.empty(); });
    if (syncing_.empty()) return;  // stopping, nothing left to sync
    std::deque<Syncing> taken;
    taken.swap(syncing_);
    lock.unlock();
    // Every batch taken was written before it was queued, so before this sync begins.
    Status synced = journal_.Sync();
    lock.lock();
    bool wake_fold = false;
    if (synced.ok()) {
      for (Syncing& batch : taken) {
        if (batch.pending.batch.empty()) continue;  // nothing to fold
        wake_fold = QueueForFold(std::move(batch.pending)) || wake_fold;
      }
    }
    lock.unlock();
    if (wake_fold) fold_wake_.notify_one();
    for (Syncing& batch : taken) batch.durable(synced);  // in the order they were submitted
    lock.lock();
    untold_ -= taken.size();
  }
}

void JournaledTimeStore::RemoveFolded(uint64_t seq) {
  std::vector<std::string> folded = journal_.TakeFolded(seq);
  if (folded.empty()) return;
  // The tables are written without a sync of their own (the journal is what makes a commit
  // durable): synced here before the journal's copy goes, in either mode (a power cut must not
  // find the journal gone and the tables without it).
  if (Status synced = SyncLedgerFiles(path_); !synced.ok()) {
    if (log_) log_(LogLevel::kError, synced.error().message + "; the journal keeps its copy");
    return;  // replayed (and deleted) by the next start instead
  }
  for (const std::string& file : folded) ::unlink(file.c_str());
}

// A commit reported failed may still have reached the file (an error after the commit itself):
// retried merged with later batches, it would be applied twice.
bool JournaledTimeStore::FoldWentThrough(uint64_t seq) {
  try {
    return inner_->FoldedSeq() >= seq;
  } catch (const std::exception&) {
    return false;
  }
}

void JournaledTimeStore::Fold() {
  std::unique_lock<std::mutex> lock(mutex_);
  auto retry = kFirstRetry;
  for (;;) {
    const auto ready = [&] { return stopping_ || (!frozen_ && !queue_.empty()); };
    if (!fold_wake_.wait_for(lock, kIdleRelease, ready)) {
      // Idle: the page cache a burst filled goes back to the system (the next burst fills it
      // again), so an agent between bursts holds only what it needs.
      lock.unlock();
      inner_->ReleaseCache();
      lock.lock();
      fold_wake_.wait(lock, ready);
    }
    if (frozen_ || queue_.empty()) return;  // stopping
    if (!stopping_ && hurry_ == 0 && unfolded_changes_ < kFoldChanges) {
      fold_wake_.wait_for(lock, kFoldDelay, [&] {
        return stopping_ || frozen_ || hurry_ > 0 || unfolded_changes_ >= kFoldChanges;
      });
      if (frozen_) continue;
    }
    std::deque<Pending> taken;
    taken.swap(queue_);
    lock.unlock();
    const uint64_t seq = taken.back().seq;
    size_t weight = taken.front().weight;
    CommitBatch merged = std::move(taken.front().batch);
    for (size_t i = 1; i < taken.size(); ++i) {
      weight += taken[i].weight;
      Append(merged, std::move(taken[i].batch));
    }
    taken.clear();
    Status status = inner_->CommitFolded(merged, seq);
    // Reported failed but in the file after all: done.
    if (!status.ok() && FoldWentThrough(seq)) status = Status::Ok();
    if (status.ok()) RemoveFolded(seq);
    lock.lock();
    if (status.ok()) {
      folded_seq_ = seq;
      unfolded_changes_ -= weight;
      fold_error_.reset();
      ++folds_;
      retry = kFirstRetry;
      folded_.notify_all();
      continue;
    }
    // Kept, as one batch, ahead of whatever came meanwhile; the journal holds it too.
    queue_.push_front(Pending{std::move(merged), seq, weight});
    if (!fold_error_ && log_) {
      log_(LogLevel::kError,
           "cannot write journaled changes into the time ledger (retrying; "
           "they are safe in the change journal): " +
               status.error().message);
    }
    fold_error_ = status.error();
    ++fold_failures_;
    folded_.notify_all();
    if (stopping_) return;
    fold_wake_.wait_for(lock, retry, [&] { return stopping_; });
    retry = std::min<std::chrono::milliseconds>(retry * 2, kLastRetry);
    if (stopping_) return;
  }
}

Status JournaledTimeStore::Settle() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = journaled_seq_;
  if (folded_seq_ >= target) return Status::Ok();
  if (frozen_) return Error{"storage_error", "the time ledger's fold is stopped"};
  const uint64_t failures = fold_failures_;
  ++hurry_;
  fold_wake_.notify_one();
  folded_.wait_for(lock, kSettleTimeout,
                   [&] { return folded_seq_ >= target || fold_failures_ != failures || frozen_; });
  --hurry_;
  if (folded_seq_ >= target) return Status::Ok();
  if (fold_error_) {
    return Error{fold_error_->code,
                 "the time ledger is behind its change journal: " + fold_error_->message};
  }
  return Error{"storage_error",
               "the time ledger is still writing " + std::to_string(unfolded_changes_) +
                   " journaled changes after " + std::to_string(kSettleTimeout.count()) + " s"};
}

void JournaledTimeStore::StopFoldingForTest() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    frozen_ = true;
  }
  fold_wake_.notify_all();
  folded_.notify_all();
}

Result<std::vector<StoredAgent>> JournaledTimeStore::LoadAgents() {
  if (Status settled = Settle(); !settled.ok()) return settled.error();
  return inner_->LoadAgents();
}

Result<std::vector<Interval>> JournaledTimeStore::Intervals(const std::optional<std::string>& agent,
                                                            Timestamp from, Timestamp to) {
  if (Status settled = Settle(); !settled.ok()) return settled.error();
  return inner_->Intervals(agent, from, to);
}

Result<std::vector<Total>> JournaledTimeStore::Totals(const TotalsQuery& query) {
  if (Status settled = Settle(); !settled.ok()) return settled.error();
  return inner_->Totals(query);
}

Result<OutboxState> JournaledTimeStore::LoadOutbox() {
  if (Status settled = Settle(); !settled.ok()) return settled.error();
  return inner_->LoadOutbox();
}

Status JournaledTimeStore::RemoveOutbox(const std::vector<int64_t>& ids) {
  if (ids.empty()) return Status::Ok();
  if (Status settled = Settle(); !settled.ok()) return settled;
  return inner_->RemoveOutbox(ids);
}

Status JournaledTimeStore::ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) {
  if (Status settled = Settle(); !settled.ok()) return settled;
  return inner_->ScanIntervals(scan, visitor);
}

Result<std::unique_ptr<AggregateSnapshot>> JournaledTimeStore::OpenAggregates() {
  if (Status settled = Settle(); !settled.ok()) return settled.error();
  return inner_->OpenAggregates();
}

}  // namespace presence::tracking
