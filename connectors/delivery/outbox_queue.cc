#include "connectors/delivery/outbox_queue.h"

#include <algorithm>
#include <cmath>

namespace presence::connectors {

OutboxQueue::OutboxQueue(DeliveryPolicy policy, Random random)
    : policy_(std::move(policy)), random_(std::move(random)) {
  tokens_ = std::max(1, policy_.burst);
}

void OutboxQueue::Add(tracking::OutboxItem item) {
  const std::string user = item.change.agent;
  UserQueue& queue = users_[user];
  const bool was_idle = queue.items.empty();
  queue.items.push_back(std::move(item));
  ++stats_.depth;
  if (queue.in_flight) return;  // Finish schedules it
  if (was_idle) {
    Unschedule(user, queue);
    Schedule(user, queue, Timestamp{});
  }
}

void OutboxQueue::Remember(const Change& latest) {
  UserQueue& queue = users_[latest.agent];
  queue.last_sent = latest;
  if (!policy_.refresh_every || queue.in_flight || !queue.items.empty()) return;
  Unschedule(latest.agent, queue);
  queue.refresh_at = Timestamp{};  // due at once: the remote state is unknown after a restart
  refresh_due_.insert({*queue.refresh_at, latest.agent});
}

void OutboxQueue::Unschedule(const std::string& user, UserQueue& queue) {
  if (queue.refresh_at) {
    refresh_due_.erase({*queue.refresh_at, user});
    queue.refresh_at.reset();
  }
}

// Puts an idle user where Next will find it: ready, waiting out its back-off, or due for a
// refresh. `now` only matters for the refresh time.
void OutboxQueue::Schedule(const std::string& user, UserQueue& queue, Timestamp now) {
  if (!queue.items.empty()) {
    if (queue.not_before && *queue.not_before > now) {
      waiting_.insert({*queue.not_before, user});
    } else {
      ready_.insert({queue.items.front().id, user});
    }
    return;
  }
  if (policy_.refresh_every && queue.last_sent) {
    queue.refresh_at = now + *policy_.refresh_every;
    refresh_due_.insert({*queue.refresh_at, user});
  }
}

void OutboxQueue::PromoteWaiting(Timestamp now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    const std::string user = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    UserQueue& queue = users_[user];
    queue.not_before.reset();
    if (!queue.items.empty() && !queue.in_flight) ready_.insert({queue.items.front().id, user});
  }
}

void OutboxQueue::Refill(Timestamp now) {
  if (policy_.rate_per_second <= 0) return;
  if (refilled_at_ && now > *refilled_at_) {
    const double seconds = std::chrono::duration<double>(now - *refilled_at_).count();
    tokens_ = std::min<double>(policy_.burst, tokens_ + seconds * policy_.rate_per_second);
  }
  if (!refilled_at_ || now > *refilled_at_) refilled_at_ = now;
}

std::optional<OutboxQueue::Task> OutboxQueue::TakeItem(const std::string& user, UserQueue& queue) {
  Task task;
  task.user = user;
  if (policy_.coalesce) {
    while (queue.items.size() > 1) {
      task.dropped.push_back(queue.items.front().id);
      if (policy_.merge_payloads) {
        queue.items[1].payload =
            policy_.merge_payloads(queue.items.front().payload, queue.items[1].payload);
      }
      queue.items.pop_front();
      queue.head_attempts = 0;  // a new row leads: its own first attempt
      ++stats_.coalesced;
      --stats_.depth;
    }
  }
  const tracking::OutboxItem& head = queue.items.front();
  task.delivery = Delivery{head.id, head.change, false, queue.head_attempts + 1, head.payload};
  return task;
}

std::optional<OutboxQueue::Task> OutboxQueue::Next(Timestamp now) {
  if (stats_.paused_until && now < *stats_.paused_until) return std::nullopt;
  PromoteWaiting(now);
  const bool refresh_due = !refresh_due_.empty() && refresh_due_.begin()->first <= now;
  if (ready_.empty() && !refresh_due) return std::nullopt;
  Refill(now);
  if (policy_.rate_per_second > 0 && tokens_ < 1) return std::nullopt;
  std::optional<Task> task;
  if (!ready_.empty()) {
    const std::string user = ready_.begin()->second;
    ready_.erase(ready_.begin());
    UserQueue& queue = users_[user];
    task = TakeItem(user, queue);
  } else {
    const std::string user = refresh_due_.begin()->second;
    refresh_due_.erase(refresh_due_.begin());
    UserQueue& queue = users_[user];
    queue.refresh_at.reset();
    task = Task{Delivery{0, *queue.last_sent, true, 1}, user, {}};
  }
  users_[task->user].in_flight = true;
  ++stats_.in_flight;
  if (policy_.rate_per_second > 0) tokens_ -= 1;
  return task;
}

Millis OutboxQueue::Backoff(int failures, std::optional<Millis> retry_after) {
  const double base = static_cast<double>(policy_.initial_backoff.count()) *
                      std::pow(2.0, std::min(failures - 1, 30));
  const double capped = std::min(base, static_cast<double>(policy_.max_backoff.count()));
  // Equal jitter: half fixed, half random, so retries of many agents spread out but never
  // come sooner than half the back-off.
  const double wait = capped / 2 + capped / 2 * random_();
  Millis jittered(static_cast<int64_t>(wait));
  return retry_after ? std::max(jittered, *retry_after) : jittered;
}

void OutboxQueue::RecordFailure(const DeliveryResult& result, Timestamp now) {
  stats_.last_failure = now;
  stats_.last_error = result.detail;
}

std::vector<int64_t> OutboxQueue::Finish(const Task& task, const DeliveryResult& result,
                                         Timestamp now) {
  std::vector<int64_t> remove;
  UserQueue& queue = users_[task.user];
  queue.in_flight = false;
  --stats_.in_flight;
  using Kind = DeliveryResult::Kind;
  if (result.kind == Kind::kRetry) {
    ++stats_.retried;
    RecordFailure(result, now);
    if (!task.delivery.refresh) ++queue.head_attempts;
    if (result.whole_connector) {
      ++stats_.consecutive_failures;
      stats_.paused_until = now + Backoff(stats_.consecutive_failures, result.retry_after);
    } else {
      queue.not_before = now + Backoff(queue.head_attempts, result.retry_after);
    }
  } else {
    // The remote system answered: it is up, so the connector's back-off starts over.
    stats_.consecutive_failures = 0;
    stats_.paused_until.reset();
    if (result.kind == Kind::kDelivered) {
      stats_.last_success = now;
      queue.last_sent = task.delivery.change;
    } else {
      RecordFailure(result, now);
    }
    if (task.delivery.refresh) {
      if (result.kind == Kind::kDelivered) ++stats_.refreshed;
    } else {
      ++(result.kind == Kind::kDelivered ? stats_.delivered : stats_.rejected);
      remove.push_back(queue.items.front().id);
      queue.items.pop_front();
      --stats_.depth;
      queue.head_attempts = 0;
      queue.not_before.reset();
    }
  }
  if (task.delivery.refresh && result.kind == Kind::kRetry && queue.items.empty()) {
    // Try the keep-alive again once the pause is over rather than a whole interval later.
    queue.refresh_at = stats_.paused_until.value_or(now);
    refresh_due_.insert({*queue.refresh_at, task.user});
  } else {
    Schedule(task.user, queue, now);
  }
  if (queue.items.empty() && !queue.last_sent && !queue.refresh_at) users_.erase(task.user);
  return remove;
}

std::optional<Timestamp> OutboxQueue::NextWake() const {
  std::optional<Timestamp> wake;
  auto earliest = [&wake](Timestamp at) {
    if (!wake || at < *wake) wake = at;
  };
  if (!ready_.empty()) earliest(Timestamp{});  // now, unless paused or rate limited
  if (!waiting_.empty()) earliest(waiting_.begin()->first);
  if (!refresh_due_.empty()) earliest(refresh_due_.begin()->first);
  if (!wake) return std::nullopt;
  if (stats_.paused_until) wake = std::max(*wake, *stats_.paused_until);
  if (policy_.rate_per_second > 0 && tokens_ < 1 && refilled_at_) {
    const auto refill = std::chrono::ceil<Millis>(
        std::chrono::duration<double>((1 - tokens_) / policy_.rate_per_second));
    wake = std::max(*wake, *refilled_at_ + refill);
  }
  return wake;
}

QueueStats OutboxQueue::stats() const { return stats_; }

}  // namespace presence::connectors
