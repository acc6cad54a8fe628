#include "connectors/crm_sync/call_window.h"

namespace presence::connectors {

int64_t CallWindow::MinuteOf(Timestamp t) {
  return std::chrono::floor<std::chrono::minutes>(t).time_since_epoch().count();
}

Timestamp CallWindow::ExpiresAt(int64_t minute) {
  return Timestamp(std::chrono::minutes(minute + 1) + kSpan);
}

void CallWindow::Add(Timestamp at, long long calls) {
  if (calls <= 0) return;
  buckets_[MinuteOf(at)] += calls;
  // Forget what no later `at` can count again (calls arrive in clock order, give or take).
  while (!buckets_.empty() && ExpiresAt(buckets_.begin()->first) <= at) {
    buckets_.erase(buckets_.begin());
  }
}

long long CallWindow::Count(Timestamp now) const {
  long long count = 0;
  for (const auto& [minute, calls] : buckets_) {
    if (ExpiresAt(minute) > now) count += calls;
  }
  return count;
}

Timestamp CallWindow::ReopensAt(Timestamp now, long long budget) const {
  long long count = Count(now);
  if (count < budget) return now;
  for (const auto& [minute, calls] : buckets_) {
    if (ExpiresAt(minute) <= now) continue;
    count -= calls;
    if (count < budget) return ExpiresAt(minute);
  }
  return now + kSpan;  // a budget below 1 never reopens (ParseCrmSync allows 1 and up)
}

}  // namespace presence::connectors
