#include "connectors/delivery/dispatcher.h"

#include <algorithm>
#include <map>
#include <random>

#include "common/thread_name.h"

namespace presence::connectors {
namespace {

OutboxQueue::Random NewRandom() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

Dispatcher::Dispatcher(std::string name, std::string type, DeliveryPolicy policy,
                       std::unique_ptr<Connector> connector, tracking::TimeStore& store,
                       const Clock& clock, LogSink log, const MonotonicClock& steady)
    : name_(std::move(name)),
      type_(std::move(type)),
      policy_(policy),
      connector_(std::move(connector)),
      store_(store),
      clock_(clock),
      log_(std::move(log)),
      steady_(steady),
      queue_(policy, NewRandom()) {}

Dispatcher::~Dispatcher() { Stop(); }

std::string Dispatcher::Payload(const Change& change, const Directory& directory) const {
  return connector_->Payload(change, directory);
}

bool Dispatcher::Wants(const Change& change, const Directory& directory) const {
  if (policy_.skip_sources.count(change.source) > 0) return false;  // no echo
  return connector_->Wants(change, directory);
}

void Dispatcher::Start(std::vector<tracking::OutboxItem> pending,
                       const std::vector<Change>& current,
                       std::function<std::shared_ptr<const Directory>()> directory) {
  directory_ = std::move(directory);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (tracking::OutboxItem& item : pending) queue_.Add(std::move(item));
    if (policy_.refresh_every) {
      std::shared_ptr<const Directory> now = directory_();
      for (const Change& change : current) {
        if (Wants(change, *now)) queue_.Remember(change);
      }
    }
  }
  connector_->Start();
  connector_->UseDirectory(directory_());
  const int threads = std::max(1, policy_.concurrency);
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this] {
      NameThisThread("deliver");
      Work();
    });
  }
}

void Dispatcher::Enqueue(const std::vector<tracking::OutboxItem>& items) {
  bool added = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const tracking::OutboxItem& item : items) {
      if (item.connector != name_) continue;
      queue_.Add(item);
      added = true;
    }
  }
  if (added) wake_.notify_all();
}

void Dispatcher::UseDirectory(std::shared_ptr<const Directory> directory) {
  connector_->UseDirectory(std::move(directory));
}

void Dispatcher::Wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  wake_.notify_all();
}

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  const bool started = !workers_.empty();
  workers_.clear();
  if (started) connector_->Stop();
}

void Dispatcher::Work() {
  for (;;) {
    std::optional<OutboxQueue::Task> task;
    bool was_failing = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        if (stopping_) return;
        const Timestamp now = clock_.Now();
        task = queue_.Next(now);
        if (task) break;
        std::optional<Timestamp> due = queue_.NextWake();
        if (!due) {
          wake_.wait(lock);
        } else {
          // Planned in wall time, waited for on the monotonic clock: as long as the wall
          // clock says is left (at most an hour, then the queue is asked again).
          auto wait =
              std::clamp<Millis>(std::chrono::ceil<Millis>(*due - now), Millis(1), Millis(3600000));
          steady_.BlockUntil(wake_, lock, steady_.Now() + wait);
        }
      }
      was_failing = queue_.consecutive_failures() > 0;
    }
    if (!task->dropped.empty()) {
      if (Status status = store_.RemoveOutbox(task->dropped); !status.ok()) {
        log_(LogLevel::kError, status.error().message);
      }
    }
    DeliveryResult result;
    try {
      result = connector_->Deliver(task->delivery, *directory_());
    } catch (const std::exception& e) {
      // The catch-all per delivery (design.md 5): the row is retried like a failed delivery.
      log_.Swallowed("delivering a change", e.what(),
                     {{"user", task->user},
                      {"label", task->delivery.change.label},
                      {"delivery", task->delivery.id},
                      {"attempt", task->delivery.attempt}});
      result = DeliveryResult::Retry(std::string("unexpected error: ") + e.what());
    }
    // Removed from the store before the queue lets the user's next row go: the store never
    // holds a row older than one already delivered.
    if (result.kind != DeliveryResult::Kind::kRetry && !task->delivery.refresh) {
      if (Status status = store_.RemoveOutbox({task->delivery.id}); !status.ok()) {
        log_(LogLevel::kError, status.error().message);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.Finish(*task, result, clock_.Now());
    }
    wake_.notify_all();  // the user may have more, and a pause may have ended
    Report(*task, result, was_failing);
  }
}

// Logs a change of health once, not every retry: the status endpoint has the details.
void Dispatcher::Report(const OutboxQueue::Task& task, const DeliveryResult& result,
                        bool was_failing) {
  using Kind = DeliveryResult::Kind;
  const LogFields fields = {{"user", task.user},
                            {"label", task.delivery.change.label},
                            {"delivery", task.delivery.id},
                            {"attempt", task.delivery.attempt}};
  if (result.kind == Kind::kRetry && result.whole_connector && !was_failing) {
    log_(LogLevel::kWarning, "delivery failing, retrying with back-off: " + result.detail, fields);
  } else if (result.kind == Kind::kRetry) {
    log_(LogLevel::kDebug, "delivery failed, retrying: " + result.detail, fields);
  } else if (result.kind == Kind::kRejected) {
    log_(LogLevel::kError,
         "change of " + task.user + " to \"" + task.delivery.change.label +
             "\" refused: " + result.detail,
         fields);
  } else if (result.kind == Kind::kDelivered && was_failing) {
    log_(LogLevel::kInfo, "delivering again", fields);
  } else if (result.kind == Kind::kDelivered) {
    log_(LogLevel::kDebug, "delivered: " + result.detail, fields);
  }
}

QueueStats Dispatcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.stats();
}

ConnectorStatus Dispatcher::CurrentStatus() const {
  return ConnectorStatus{name_, type_, stats(), policy_, connector_->Details()};
}

ConnectorSet::ConnectorSet(tracking::TimeStore& store, LogSink log)
    : store_(store), log_(std::move(log)) {}

ConnectorSet::~ConnectorSet() { Stop(); }

void ConnectorSet::Add(std::unique_ptr<Dispatcher> dispatcher) {
  dispatchers_.push_back(std::move(dispatcher));
}

void ConnectorSet::SetDirectory(std::shared_ptr<const Directory> directory) {
  directory_.store(directory);
  if (!started_) return;
  for (const auto& dispatcher : dispatchers_) dispatcher->UseDirectory(directory);
}

void ConnectorSet::Plan(const std::vector<Change>& changes,
                        std::vector<tracking::OutboxItem>& rows) const {
  if (dispatchers_.empty()) return;
  std::shared_ptr<const Directory> directory = directory_.load();
  for (const Change& change : changes) {
    for (const auto& dispatcher : dispatchers_) {
      if (dispatcher->Wants(change, *directory)) {
        rows.push_back(tracking::OutboxItem{0, dispatcher->name(), change,
                                            dispatcher->Payload(change, *directory)});
      }
    }
  }
}

void ConnectorSet::Enqueue(const std::vector<tracking::OutboxItem>& rows) {
  if (rows.empty()) return;
  for (const auto& dispatcher : dispatchers_) dispatcher->Enqueue(rows);
}

void ConnectorSet::Start(tracking::OutboxState outbox, const std::vector<Change>& current) {
  std::map<std::string, std::vector<tracking::OutboxItem>> by_connector;
  for (tracking::OutboxItem& item : outbox.items) {
    by_connector[item.connector].push_back(std::move(item));
  }
  for (const auto& dispatcher : dispatchers_) {
    auto it = by_connector.find(dispatcher->name());
    std::vector<tracking::OutboxItem> pending;
    if (it != by_connector.end()) {
      pending = std::move(it->second);
      by_connector.erase(it);
    }
    if (!pending.empty()) {
      log_(LogLevel::kInfo,
           std::to_string(pending.size()) + " change(s) from before the restart to deliver",
           {{"connector", dispatcher->name()}});
    }
    dispatcher->Start(std::move(pending), current, [this] { return directory_.load(); });
  }
  started_ = true;
  for (const auto& [name, items] : by_connector) {
    std::vector<int64_t> ids;
    for (const tracking::OutboxItem& item : items) ids.push_back(item.id);
    log_(LogLevel::kWarning,
         "no longer configured: dropping its " + std::to_string(ids.size()) +
             " undelivered change(s)",
         {{"connector", name}});
    if (Status status = store_.RemoveOutbox(ids); !status.ok()) {
      log_(LogLevel::kError, status.error().message);
    }
  }
}

void ConnectorSet::Stop() {
  for (const auto& dispatcher : dispatchers_) dispatcher->Stop();
}

void ConnectorSet::Wake() {
  for (const auto& dispatcher : dispatchers_) dispatcher->Wake();
}

std::vector<ConnectorStatus> ConnectorSet::Statuses() const {
  std::vector<ConnectorStatus> all;
  for (const auto& dispatcher : dispatchers_) all.push_back(dispatcher->CurrentStatus());
  return all;
}

std::vector<std::pair<std::string, QueueStats>> ConnectorSet::Stats() const {
  std::vector<std::pair<std::string, QueueStats>> all;
  for (const auto& dispatcher : dispatchers_)
    all.emplace_back(dispatcher->name(), dispatcher->stats());
  return all;
}

}  // namespace presence::connectors
