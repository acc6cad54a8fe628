#pragma once

// The core: one thread that owns the engine and is the ledger's only writer. Producers
// (stdin reader, HTTP handlers, PBX readers) Post events and get a future that resolves once
// the event's changes are durable. The thread drains whatever is queued, runs it through the
// engine, commits it as one transaction (group commit: one sync for many events) and only
// then answers. Wrap-up timers fire on the same thread, stamped at their due time.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/engine.h"
#include "agent/timer_queue.h"
#include "tracking/time_store.h"

namespace presence::agent {

class BatchBuilder;

struct Reply {
  std::vector<tracking::Change> changes;  // what this event changed, in order
  AgentState state;                       // the user's state after it
};

struct CoreOptions {
  size_t max_batch = 1024;  // events per transaction at most
};

class Core {
 public:
  // Listener: called on the core thread after each durable commit with its changes.
  using Listener = std::function<void(const std::vector<tracking::Change>&)>;

  Core(std::shared_ptr<const Catalog> catalog, tracking::TimeStore& store,
       const tracking::Clock& clock, CoreOptions options = {});
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Before Start.
  void AddListener(Listener listener) { listeners_.push_back(std::move(listener)); }

  // Restores every user from the store, re-arms wrap-up timers (a deadline that passed while
  // the process was down ends its wrap-up at once, dated at the deadline) and starts the thread.
  Status Start();

  // Thread-safe. The future holds the outcome once durable, or the engine's error, or
  // "storage_error" (then nothing of that batch happened), or "stopped".
  std::future<Result<Reply>> Post(Event event);

  // Makes the loop look at the clock again now (tests advance a fake clock, then Wake).
  void Wake();

  // Finishes what is queued, commits it and joins the thread. Idempotent.
  void Stop();

 private:
  struct Pending {
    Event event;
    std::promise<Result<Reply>> promise;
  };

  void Run();
  void Process(std::deque<Pending>& work);
  void FireTimers(Timestamp now, BatchBuilder& batch);
  Status Commit(BatchBuilder& batch);
  Status Reload();  // the engine and timers from the store

  std::shared_ptr<const Catalog> catalog_;
  tracking::TimeStore& store_;
  const tracking::Clock& clock_;
  CoreOptions options_;
  Engine engine_;
  TimerQueue timers_;  // core thread only
  Timestamp last_now_{};
  std::vector<Listener> listeners_;

  std::mutex mutex_;  // guards queue_, stopping_, woken_ (never the engine)
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace presence::agent
