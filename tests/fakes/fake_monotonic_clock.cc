#include "tests/fakes/fake_monotonic_clock.h"

#include <algorithm>

namespace presence::testing {
namespace {

// How long a poller blocks between looks at the fake clock (real time).
constexpr std::chrono::milliseconds kPollSlice{2};

}  // namespace

MonotonicClock::Instant FakeMonotonicClock::Now() const {
  std::lock_guard guard(mutex_);
  return now_;
}

// The check of the deadline and the registration happen under mutex_ while the caller holds
// its own lock, which cv.wait gives up only once the thread is blocked. Advance moves the time
// under mutex_ and then takes the waiter's lock to notify: either the waiter saw the new time,
// or it is registered and the notification finds it blocked.
void FakeMonotonicClock::BlockUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                                    Instant deadline) const {
  uint64_t id = 0;
  {
    std::lock_guard guard(mutex_);
    if (now_ >= deadline) return;
    id = ++next_id_;
    waiters_[id] = Waiter{&cv, lock.mutex(), deadline, 0};
    changed_.notify_all();
  }
  cv.wait(lock);
  std::unique_lock guard(mutex_);
  if (waiters_[id].notifying > 0) {
    // Advance is about to take `lock`: give it up while waiting for Advance to be done.
    guard.unlock();
    lock.unlock();
    guard.lock();
    changed_.wait(guard, [&] { return waiters_[id].notifying == 0; });
    waiters_.erase(id);
    guard.unlock();
    lock.lock();
    return;
  }
  waiters_.erase(id);
  changed_.notify_all();
}

std::chrono::milliseconds FakeMonotonicClock::PollTimeout(Instant deadline) const {
  return Now() >= deadline ? std::chrono::milliseconds(0) : kPollSlice;
}

void FakeMonotonicClock::Advance(std::chrono::milliseconds by) {
  std::vector<std::pair<uint64_t, Waiter>> due;
  {
    std::lock_guard guard(mutex_);
    if (wall_ != nullptr) wall_->Advance(by);
    now_ += by;
    for (auto& [id, waiter] : waiters_) {
      if (waiter.deadline > now_) continue;
      ++waiter.notifying;
      due.emplace_back(id, waiter);
    }
  }
  for (auto& [id, waiter] : due) {
    {
      std::lock_guard lock(*waiter.mutex);
      waiter.cv->notify_all();
    }
    std::lock_guard guard(mutex_);
    --waiters_[id].notifying;
    changed_.notify_all();
  }
}

std::vector<MonotonicClock::Instant> FakeMonotonicClock::Deadlines() const {
  std::vector<Instant> deadlines;
  std::lock_guard guard(mutex_);
  for (const auto& [id, waiter] : waiters_) {
    if (waiter.deadline > now_) deadlines.push_back(waiter.deadline);
  }
  std::sort(deadlines.begin(), deadlines.end());
  return deadlines;
}

size_t FakeMonotonicClock::Blocked() const {
  return static_cast<size_t>(
      std::count_if(waiters_.begin(), waiters_.end(),
                    [&](const auto& entry) { return entry.second.deadline > now_; }));
}

bool FakeMonotonicClock::AwaitWaiters(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock guard(mutex_);
  return changed_.wait_for(guard, timeout, [&] { return Blocked() >= count; });
}

}  // namespace presence::testing
