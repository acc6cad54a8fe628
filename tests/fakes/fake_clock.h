#pragma once

// A clock that moves only when a test moves it. Safe to read from another thread (the core
// thread) while the test thread moves it.

#include <atomic>

#include "tracking/time.h"

namespace presence::testing {

class FakeClock final : public tracking::Clock {
 public:
  explicit FakeClock(tracking::Timestamp start) : ms_(tracking::ToEpochMillis(start)) {}
  tracking::Timestamp Now() const override { return tracking::FromEpochMillis(ms_.load()); }
  void Set(tracking::Timestamp t) { ms_.store(tracking::ToEpochMillis(t)); }
  void Advance(tracking::Millis by) { ms_.fetch_add(by.count()); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace presence::testing
