#pragma once

// A connector that records what it is asked to deliver and answers as the test scripts it:
// delivered by default, or scripted results, or held (a remote system that hangs) until the
// test releases it. Thread-safe; waits are woken by deliveries, never by polling.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "connectors/connector.h"

namespace presence::testing {

class RecordingConnector final : public connectors::Connector {
 public:
  // Shared with the test after the dispatcher takes ownership of the connector.
  struct Log {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<connectors::Delivery> attempts;     // every call, in order
    std::vector<connectors::Delivery> delivered;    // the ones answered Delivered
    std::deque<connectors::DeliveryResult> script;  // answers to use first
    bool down = false;                              // answer Retry("down") while set
    bool hold = false;                              // block in Deliver while set
    std::set<std::string> unwanted_labels;          // Wants() is false for these
    // Payload() answers this followed by the change's label (empty: no payload).
    std::string payload_prefix;

    // Waits until `done()` holds (under the mutex) or the timeout passes.
    bool WaitFor(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
      std::unique_lock<std::mutex> lock(mutex);
      return changed.wait_for(lock, timeout, done);
    }
    void Set(const std::function<void()>& change) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        change();
      }
      changed.notify_all();
    }
  };

  explicit RecordingConnector(std::shared_ptr<Log> log) : log_(std::move(log)) {}

  bool Wants(const connectors::Change& change, const connectors::Directory&) const override {
    std::lock_guard<std::mutex> lock(log_->mutex);
    return log_->unwanted_labels.count(change.label) == 0;
  }

  std::string Payload(const connectors::Change& change,
                      const connectors::Directory&) const override {
    std::lock_guard<std::mutex> lock(log_->mutex);
    return log_->payload_prefix.empty() ? std::string() : log_->payload_prefix + change.label;
  }

  connectors::DeliveryResult Deliver(const connectors::Delivery& delivery,
                                     const connectors::Directory&) override {
    std::unique_lock<std::mutex> lock(log_->mutex);
    log_->attempts.push_back(delivery);
    log_->changed.notify_all();
    log_->changed.wait(lock, [this] { return !log_->hold; });
    connectors::DeliveryResult result = connectors::DeliveryResult::Delivered();
    if (!log_->script.empty()) {
      result = log_->script.front();
      log_->script.pop_front();
    } else if (log_->down) {
      result = connectors::DeliveryResult::Retry("remote system down (simulated)");
    }
    if (result.kind == connectors::DeliveryResult::Kind::kDelivered) {
      log_->delivered.push_back(delivery);
    }
    log_->changed.notify_all();
    return result;
  }

 private:
  std::shared_ptr<Log> log_;
};

}  // namespace presence::testing
