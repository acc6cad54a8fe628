#pragma once

// A MonotonicClock that moves only when the test moves it. Advance wakes, at once, every
// thread blocked in BlockUntil/WaitUntil whose deadline it reaches (no real time passes: the
// test then waits for the effect, e.g. a request the fake server records). Threads that block
// in poll()/epoll_wait() get a PollTimeout of a few real milliseconds, so they see the clock
// move that soon after Advance.
//
// Linked to a wall FakeClock, Advance moves that clock by the same amount first: for
// components that plan in wall time and wait on this clock (the dispatcher's back-off, the CRM
// sync's passes).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "common/monotonic_clock.h"
#include "tests/fakes/fake_clock.h"

namespace presence::testing {

class FakeMonotonicClock final : public MonotonicClock {
 public:
  FakeMonotonicClock() = default;
  explicit FakeMonotonicClock(FakeClock& wall) : wall_(&wall) {}

  Instant Now() const override;
  void BlockUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  Instant deadline) const override;
  std::chrono::milliseconds PollTimeout(Instant deadline) const override;

  // Moves the clock (and the linked wall clock) forward and wakes the threads it makes due.
  // Returns once each has been notified. Not to be called holding a lock a waiter uses.
  void Advance(std::chrono::milliseconds by);

  // The deadlines still ahead of the threads blocked in BlockUntil, earliest first.
  std::vector<Instant> Deadlines() const;
  // Waits (real time, at most `timeout`) until at least `count` threads are blocked in
  // BlockUntil with a deadline still ahead: for a test that must move the clock only once a
  // component has started a wait (a back-off), else the wait would start after the move.
  bool AwaitWaiters(size_t count,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Waiter {
    std::condition_variable* cv = nullptr;
    std::mutex* mutex = nullptr;
    Instant deadline;
    int notifying = 0;  // Advance calls using cv and mutex now: the waiter may not leave yet
  };

  size_t Blocked() const;  // with mutex_ held

  FakeClock* const wall_ = nullptr;
  // Taken after a waiter's own mutex, never before it: Advance lets go of it before it takes
  // a waiter's mutex to notify.
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;  // a waiter came or went, or was notified
  Instant now_ = Instant(std::chrono::hours(1000));
  mutable std::map<uint64_t, Waiter> waiters_;
  mutable uint64_t next_id_ = 0;
};

}  // namespace presence::testing
