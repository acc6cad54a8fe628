#include "agent/api/auth_throttle.h"

#include <algorithm>

namespace presence::agent {

std::optional<std::chrono::seconds> AuthThrottle::Refuse(const std::string& client, int limit) {
  if (limit <= 0 || !Watching()) return std::nullopt;
  const Timestamp now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Finished windows of addresses that never came back go once a second, so the fast path
  // comes back a minute after the last failure.
  if (now >= next_sweep_) {
    std::erase_if(windows_,
                  [now](const auto& entry) { return now >= entry.second.start + kWindow; });
    next_sweep_ = now + std::chrono::seconds(1);
    Counted();
  }
  auto found = windows_.find(client);
  if (found == windows_.end()) return std::nullopt;
  const Timestamp end = found->second.start + kWindow;
  if (now >= end) {
    windows_.erase(found);
    Counted();
    return std::nullopt;
  }
  if (found->second.failures < limit) return std::nullopt;
  throttled_.fetch_add(1, std::memory_order_relaxed);
  // Rounded up: a client that waits as told is let through.
  const auto left = std::chrono::ceil<std::chrono::seconds>(end - now);
  return std::max(left, std::chrono::seconds(1));
}

void AuthThrottle::Failed(const std::string& client, int limit) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  if (limit <= 0) return;
  const Timestamp now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = windows_.find(client);
  if (found != windows_.end() && now >= found->second.start + kWindow) {
    windows_.erase(found);
    found = windows_.end();
  }
  if (found == windows_.end()) {
    MakeRoom(now);
    found = windows_.emplace(client, Window{now, 0}).first;
  }
  ++found->second.failures;
  Counted();
}

size_t AuthThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return windows_.size();
}

// Forgets finished windows; if every one is still running, the oldest.
void AuthThrottle::MakeRoom(Timestamp now) {
  if (windows_.size() < max_clients_) return;
  std::erase_if(windows_, [now](const auto& entry) { return now >= entry.second.start + kWindow; });
  while (!windows_.empty() && windows_.size() >= max_clients_) {
    windows_.erase(std::min_element(
        windows_.begin(), windows_.end(),
        [](const auto& a, const auto& b) { return a.second.start < b.second.start; }));
  }
}

}  // namespace presence::agent
