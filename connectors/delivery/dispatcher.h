#pragma once

// The connectors of a running agent and their delivery workers. The core thread asks Plan
// which outbox rows a commit needs (inside that commit's transaction) and hands the committed
// rows to Enqueue; each connector then has policy.concurrency worker threads that take
// deliveries from its OutboxQueue, call the connector, and remove finished rows from the
// store. One connector's failures never delay another: each has its own queue and threads.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/atomic_shared.h"
#include "common/log.h"
#include "common/monotonic_clock.h"
#include "connectors/connector.h"
#include "connectors/delivery/outbox_queue.h"
#include "tracking/time_store.h"

namespace presence::connectors {

// What GET /api/v1/connectors shows of one connector (the API writes it as JSON).
struct ConnectorStatus {
  std::string name;
  std::string type;
  QueueStats stats;
  DeliveryPolicy policy;
  std::optional<ConnectorDetails> details;  // nullopt: the connector reports none
};

// One connector, its queue and its workers.
class Dispatcher {
 public:
  // Pauses and rate limits are planned on `clock` (wall time, shown in the status); the
  // workers wait for them on `steady`. `store`, `clock` and `steady` are borrowed and must
  // outlive the dispatcher; `log` is called from the workers until Stop returns.
  Dispatcher(std::string name, std::string type, DeliveryPolicy policy,
             std::unique_ptr<Connector> connector, tracking::TimeStore& store, const Clock& clock,
             LogSink log, const MonotonicClock& steady = MonotonicClock::Steady());
  ~Dispatcher();  // Stop()

  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  const DeliveryPolicy& policy() const { return policy_; }

  // Core thread: whether this change goes into this connector's outbox.
  bool Wants(const Change& change, const Directory& directory) const;
  // Core thread, for a change it wants: what goes into the row beside the change.
  std::string Payload(const Change& change, const Directory& directory) const;

  // `pending`: this connector's rows left from before (in id order); `current`: every user's
  // present state, the baseline for keep-alive refreshes. Starts the connector and workers.
  void Start(std::vector<tracking::OutboxItem> pending, const std::vector<Change>& current,
             std::function<std::shared_ptr<const Directory>()> directory);
  void Enqueue(const std::vector<tracking::OutboxItem>& items);  // thread-safe
  // Makes the workers look at the clocks again now.
  void Wake();
  void Stop();  // lets deliveries in flight finish, then joins; rows left stay in the store
  // A reload's catalog and users, for the connector (after Start).
  void UseDirectory(std::shared_ptr<const Directory> directory);

  QueueStats stats() const;
  // Any thread: the figures, the policy and the connector's own details.
  ConnectorStatus CurrentStatus() const;

 private:
  void Work();
  void Report(const OutboxQueue::Task& task, const DeliveryResult& result, bool was_failing);

  std::string name_;
  std::string type_;
  DeliveryPolicy policy_;
  std::unique_ptr<Connector> connector_;
  tracking::TimeStore& store_;
  const Clock& clock_;
  LogSink log_;
  const MonotonicClock& steady_;
  std::function<std::shared_ptr<const Directory>()> directory_;

  mutable std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  OutboxQueue queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// Every configured connector.
class ConnectorSet {
 public:
  // `store` is borrowed and must outlive the set.
  ConnectorSet(tracking::TimeStore& store, LogSink log);
  ~ConnectorSet();

  void Add(std::unique_ptr<Dispatcher> dispatcher);  // before Start
  bool empty() const { return dispatchers_.empty(); }
  const std::vector<std::unique_ptr<Dispatcher>>& dispatchers() const { return dispatchers_; }

  // Any thread: the catalog and users deliveries use from now on.
  void SetDirectory(std::shared_ptr<const Directory> directory);
  std::shared_ptr<const Directory> directory() const { return directory_.load(); }

  // Core thread, while a commit is built: the outbox rows (ids left 0) for these changes.
  void Plan(const std::vector<Change>& changes, std::vector<tracking::OutboxItem>& rows) const;
  // Core thread, after the commit: hands the rows (now with ids) to their connectors.
  void Enqueue(const std::vector<tracking::OutboxItem>& rows);

  // `outbox`: what the store holds; rows of connectors no longer configured are removed (and
  // logged). `current`: every user's present state.
  void Start(tracking::OutboxState outbox, const std::vector<Change>& current);
  void Stop();
  void Wake();

  // Every connector's status, in configuration order.
  std::vector<ConnectorStatus> Statuses() const;
  // Every connector's name and figures, in configuration order (for /metrics).
  std::vector<std::pair<std::string, QueueStats>> Stats() const;

 private:
  tracking::TimeStore& store_;
  LogSink log_;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;
  AtomicShared<const Directory> directory_;
  std::atomic<bool> started_{false};
};

}  // namespace presence::connectors
