#pragma once

// The delivery schedule of one connector, without threads or clocks of its own (so every rule
// is a table test on a fake clock). It holds the connector's outbox rows per user and answers
// "what may be delivered now?":
//   - in order per user, and never two deliveries of one user at once;
//   - oldest waiting user first across users;
//   - coalescing (policy.coalesce): of a user's waiting rows only the newest is delivered, the
//     older ones are dropped;
//   - a failed delivery waits with exponential back-off and jitter, at least the remote
//     system's Retry-After; a failure of the whole connector (remote down, throttled) pauses
//     every user, a failure of one row only that user;
//   - a token bucket limits deliveries per second;
//   - keep-alive (policy.refresh_every): a user's latest delivered state is delivered again
//     when nothing newer waits.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "connectors/connector.h"

namespace presence::connectors {

struct QueueStats {
  uint64_t delivered = 0;  // rows delivered
  uint64_t retried = 0;    // failed attempts that will be tried again
  uint64_t rejected = 0;   // rows the remote system refused for good
  uint64_t coalesced = 0;  // rows dropped because a newer state of the same user replaced them
  uint64_t refreshed = 0;  // keep-alive deliveries
  size_t depth = 0;        // rows waiting (in flight included)
  size_t in_flight = 0;
  int consecutive_failures = 0;  // of the whole connector since its last success
  std::optional<Timestamp> last_success;
  std::optional<Timestamp> last_failure;
  std::string last_error;
  std::optional<Timestamp> paused_until;
};

class OutboxQueue {
 public:
  // Uniform in [0, 1): the jitter's randomness (tests pass a fixed sequence).
  using Random = std::function<double()>;

  OutboxQueue(DeliveryPolicy policy, Random random);

  // A new row; rows arrive in increasing id order.
  void Add(tracking::OutboxItem item);
  // The state a user is known to be in (at start-up): with refresh_every, it is delivered
  // again at once unless rows of that user wait.
  void Remember(const Change& latest);

  struct Task {
    Delivery delivery;
    std::string user;
    std::vector<int64_t> dropped;  // older rows coalesced away: remove them from the store
  };
  // The next delivery allowed at `now`, if any. The caller must Finish it.
  std::optional<Task> Next(Timestamp now);
  // The outcome of a task; returns the rows to remove from the store (delivered or rejected).
  std::vector<int64_t> Finish(const Task& task, const DeliveryResult& result, Timestamp now);

  // When Next may next have something without any Add or Finish (a back-off ending, a refresh
  // falling due, the rate limit refilling); nullopt when only Add or Finish can change it.
  std::optional<Timestamp> NextWake() const;

  QueueStats stats() const;
  int consecutive_failures() const { return stats_.consecutive_failures; }
  const DeliveryPolicy& policy() const { return policy_; }

 private:
  struct UserQueue {
    std::deque<tracking::OutboxItem> items;
    bool in_flight = false;
    int head_attempts = 0;                // failed attempts of items.front()
    std::optional<Timestamp> not_before;  // this user's own back-off
    std::optional<Change> last_sent;      // for refresh
    std::optional<Timestamp> refresh_at;  // key in refresh_due_ while scheduled
  };

  void Schedule(const std::string& user, UserQueue& queue, Timestamp now);
  void Unschedule(const std::string& user, UserQueue& queue);
  void PromoteWaiting(Timestamp now);
  void Refill(Timestamp now);
  Millis Backoff(int failures, std::optional<Millis> retry_after);
  void RecordFailure(const DeliveryResult& result, Timestamp now);
  std::optional<Task> TakeItem(const std::string& user, UserQueue& queue);

  DeliveryPolicy policy_;
  Random random_;
  std::map<std::string, UserQueue> users_;
  std::set<std::pair<int64_t, std::string>> ready_;          // (head id, user)
  std::set<std::pair<Timestamp, std::string>> waiting_;      // (not_before, user)
  std::set<std::pair<Timestamp, std::string>> refresh_due_;  // (refresh_at, user)
  double tokens_ = 0;
  std::optional<Timestamp> refilled_at_;
  QueueStats stats_;
};

}  // namespace presence::connectors
