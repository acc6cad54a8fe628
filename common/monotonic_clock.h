#pragma once

// Monotonic time for everything that waits: deadlines, back-off, keep-alives, reconnects.
// A component that waits takes a MonotonicClock (by default MonotonicClock::Steady(), the
// process's steady clock) and never reads std::chrono::steady_clock or sleeps on its own, so
// its tests run it on tests/fakes/fake_monotonic_clock.h, which moves only when the test
// moves it and wakes the threads whose deadline has come.
//
// Wall time (Timestamps in the ledger, the engine, the API) stays with Clock in common/time.h;
// this clock's instants mean nothing outside the process.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace presence {

class MonotonicClock {
 public:
  using Instant = std::chrono::steady_clock::time_point;

  virtual ~MonotonicClock() = default;

  // Any thread.
  virtual Instant Now() const = 0;

  // Like std::condition_variable::wait_until: called holding `lock` on the mutex `cv` is
  // used with; releases it, blocks until `cv` is notified or this clock reaches `deadline`,
  // and takes it again. May return early for no reason; WaitUntil below loops on a predicate.
  virtual void BlockUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          Instant deadline) const = 0;

  // For a thread that blocks in poll()/epoll_wait() (a socket to watch) rather than on a
  // condition variable: how long that call may block, at least 0, for the thread to look at
  // this clock again by `deadline`. The steady clock answers the time left, rounded up to a
  // millisecond; a fake clock at most a short real slice, so the thread notices it moving.
  virtual std::chrono::milliseconds PollTimeout(Instant deadline) const = 0;

  // Blocks (as BlockUntil) until `ready()` holds, then true, or until `deadline`, then
  // ready()'s last answer. `ready` runs with `lock` held.
  template <class Predicate>
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Instant deadline,
                 Predicate ready) const {
    while (!ready()) {
      if (Now() >= deadline) return ready();
      BlockUntil(cv, lock, deadline);
    }
    return true;
  }

  // The process's steady clock; lives as long as the process.
  static const MonotonicClock& Steady();
};

}  // namespace presence
