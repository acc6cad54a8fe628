#pragma once

// Wraps a real TimeStore to observe and steer commits: counts them (and Totals queries), can hold
// the next commit until the test releases it (to see group commit happen deterministically), and
// can fail the next commit (to see that a failed commit changes nothing). Pipelined, it
// acts as the journaled ledger's Submit does: it takes each submitted batch at once and says
// whether it is durable only when the test says so (MakeDurable writes the oldest into the
// inner store, LoseAll loses every waiting one, as a failed sync does).

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "tracking/time_store.h"

namespace presence::testing {

class GatedStore final : public tracking::TimeStore {
 public:
  explicit GatedStore(std::unique_ptr<tracking::TimeStore> inner) : inner_(std::move(inner)) {}

  Status Commit(const tracking::CommitBatch& batch) override {
    std::unique_lock<std::mutex> lock(mutex_);
    ++commits_started_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    if (fail_next_) {
      fail_next_ = false;
      return Error{"storage_error", "disk full (simulated)"};
    }
    ++commits_;
    return inner_->Commit(batch);
  }
  Status Submit(const tracking::CommitBatch& batch, Durable durable) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pipelined_) {
        ++commits_started_;
        submitted_.emplace_back(batch, std::move(durable));
        changed_.notify_all();
        return Status::Ok();
      }
    }
    return TimeStore::Submit(batch, std::move(durable));
  }
  Result<std::vector<tracking::StoredAgent>> LoadAgents() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (fail_loads_ > 0) {
        --fail_loads_;
        return Error{"storage_error", "disk read error (simulated)"};
      }
    }
    return inner_->LoadAgents();
  }
  Result<std::vector<tracking::Interval>> Intervals(const std::optional<std::string>& agent,
                                                    Timestamp from, Timestamp to) override {
    return inner_->Intervals(agent, from, to);
  }
  Result<std::vector<tracking::Total>> Totals(const tracking::TotalsQuery& query) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++totals_queries_;
    }
    return inner_->Totals(query);
  }
  Result<tracking::OutboxState> LoadOutbox() override { return inner_->LoadOutbox(); }
  Status RemoveOutbox(const std::vector<int64_t>& ids) override {
    return inner_->RemoveOutbox(ids);
  }
  Status ScanIntervals(const tracking::IntervalScan& scan,
                       tracking::IntervalVisitor& visitor) override {
    return inner_->ScanIntervals(scan, visitor);
  }
  Result<std::unique_ptr<tracking::AggregateSnapshot>> OpenAggregates() override {
    return inner_->OpenAggregates();
  }
  Result<tracking::SyncState> LoadSyncState(const std::string& target) override {
    return inner_->LoadSyncState(target);
  }
  Status SaveSyncState(const std::string& target,
                       const std::vector<tracking::SyncedFigure>& figures,
                       const std::optional<std::string>& done_through) override {
    return inner_->SaveSyncState(target, figures, done_through);
  }

  void Hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  // Blocks until `count` commits have begun (held ones included).
  void WaitForCommitsStarted(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return commits_started_ >= count; });
  }
  // From now on Submit keeps each batch until MakeDurable or LoseAll.
  void Pipeline() {
    std::lock_guard<std::mutex> lock(mutex_);
    pipelined_ = true;
  }
  // Batches submitted and not yet made durable or lost.
  size_t waiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    return submitted_.size();
  }
  // Blocks until `count` batches wait.
  void WaitForWaiting(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return submitted_.size() >= count; });
  }
  // Writes the oldest `count` waiting batches into the inner store and tells the core.
  void MakeDurable(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      std::pair<tracking::CommitBatch, Durable> next = Take();
      Status stored = inner_->Commit(next.first);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stored.ok()) ++commits_;
      }
      next.second(stored);
    }
  }
  // Every waiting batch is lost, as when the journal's sync fails: none reaches the store.
  void LoseAll() {
    while (waiting() > 0) Take().second(Error{"storage_error", "sync failed (simulated)"});
  }
  void FailNext() {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_next_ = true;
  }
  // The next `count` LoadAgents calls fail.
  void FailLoads(int count) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_loads_ = count;
  }
  int commits() {
    std::lock_guard<std::mutex> lock(mutex_);
    return commits_;
  }
  // Totals calls so far (what adding up history costs).
  int totals_queries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return totals_queries_;
  }

 private:
  std::pair<tracking::CommitBatch, Durable> Take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::pair<tracking::CommitBatch, Durable> next = std::move(submitted_.front());
    submitted_.pop_front();
    return next;
  }

  std::unique_ptr<tracking::TimeStore> inner_;
  std::mutex mutex_;
  bool pipelined_ = false;
  std::deque<std::pair<tracking::CommitBatch, Durable>> submitted_;
  std::condition_variable changed_;
  bool hold_ = false;
  bool fail_next_ = false;
  int commits_ = 0;
  int commits_started_ = 0;
  int fail_loads_ = 0;
  int totals_queries_ = 0;
};

}  // namespace presence::testing
