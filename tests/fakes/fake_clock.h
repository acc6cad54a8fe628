#pragma once

// A clock that moves only when a test moves it. Safe to read from another thread (the core
// thread) while the test thread moves it.

#include <atomic>

#include "common/time.h"

namespace presence::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : ms_(ToEpochMillis(start)) {}
  Timestamp Now() const override { return FromEpochMillis(ms_.load()); }
  void Set(Timestamp t) { ms_.store(ToEpochMillis(t)); }
  void Advance(Millis by) { ms_.fetch_add(by.count()); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace presence::testing
