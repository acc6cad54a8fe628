#include "agent/core.h"

#include <algorithm>

#include "agent/batch_builder.h"
#include "agent/restore.h"

namespace presence::agent {

Core::Core(std::shared_ptr<const Catalog> catalog, tracking::TimeStore& store,
           const tracking::Clock& clock, CoreOptions options)
    : catalog_(std::move(catalog)),
      store_(store),
      clock_(clock),
      options_(options),
      engine_(catalog_) {}

Core::~Core() { Stop(); }

Status Core::Reload() {
  engine_ = Engine(catalog_);
  timers_ = TimerQueue();
  Result<std::optional<Timestamp>> latest = RestoreFromStore(store_, engine_, timers_);
  if (!latest.ok()) return latest.error();
  if (*latest) last_now_ = std::max(last_now_, **latest);
  return Status::Ok();
}

Status Core::Start() {
  if (Status status = Reload(); !status.ok()) return status;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

std::future<Result<Reply>> Core::Post(Event event) {
  Pending pending{std::move(event), {}};
  std::future<Result<Reply>> future = pending.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(pending));
      wake_.notify_one();
      return future;
    }
  }
  pending.promise.set_value(Error{"stopped", "the agent is shutting down; try again"});
  return future;
}

void Core::Wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  woken_ = true;
  wake_.notify_one();
}

void Core::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Core::Run() {
  for (;;) {
    std::deque<Pending> work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        std::optional<Timestamp> due = timers_.NextDue();
        const bool timer_due = due && *due <= clock_.Now();
        if (!queue_.empty() || stopping_ || woken_ || timer_due) break;
        if (due) {
          auto wait = std::clamp<tracking::Millis>(
              std::chrono::duration_cast<tracking::Millis>(*due - clock_.Now()),
              tracking::Millis(1), std::chrono::hours(1));
          wake_.wait_for(lock, wait);
        } else {
          wake_.wait(lock);
        }
      }
      woken_ = false;
      if (stopping_ && queue_.empty()) break;
      size_t take = std::min(queue_.size(), options_.max_batch);
      std::move(queue_.begin(), queue_.begin() + take, std::back_inserter(work));
      queue_.erase(queue_.begin(), queue_.begin() + take);
    }
    Process(work);
  }
}

void Core::FireTimers(Timestamp now, BatchBuilder& batch) {
  for (const TimerEntry& entry : timers_.PopDue(now)) {
    // Dated at the deadline, so a wrap-up lasts exactly its configured time even when the
    // process was busy or down when it expired.
    Result<Outcome> outcome = engine_.Handle(WrapUpTimerEvent(entry.agent, entry.due), entry.due);
    if (!outcome.ok()) continue;  // a stale timer
    batch.Add(*outcome, *engine_.Find(entry.agent));
  }
}

void Core::Process(std::deque<Pending>& work) {
  BatchBuilder batch;
  const Timestamp now = std::max(clock_.Now(), last_now_);
  last_now_ = now;
  FireTimers(now, batch);
  std::vector<Result<Reply>> results;
  results.reserve(work.size());
  for (Pending& pending : work) {
    Result<Outcome> outcome = engine_.Handle(pending.event, now);
    if (!outcome.ok()) {
      results.emplace_back(outcome.error());
      continue;
    }
    const AgentState& state = *engine_.Find(pending.event.agent);
    batch.Add(*outcome, state);
    if (outcome->timer) timers_.Push(*outcome->timer, state.agent);
    results.emplace_back(Reply{std::move(outcome->changes), state});
  }
  Status committed = Commit(batch);
  if (!committed.ok()) {
    // The store is the truth: forget what the engine did in this batch.
    Reload();
  }
  for (size_t i = 0; i < work.size(); ++i) {
    if (!committed.ok() && results[i].ok()) results[i] = committed.error();
    work[i].promise.set_value(std::move(results[i]));
  }
}

Status Core::Commit(BatchBuilder& batch) {
  if (batch.empty()) return Status::Ok();
  Status status = store_.Commit(batch.batch());
  if (!status.ok()) return status;
  if (!batch.batch().changes.empty()) {
    for (const Listener& listener : listeners_) listener(batch.batch().changes);
  }
  return Status::Ok();
}

}  // namespace presence::agent
