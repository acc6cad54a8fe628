#include "common/monotonic_clock.h"

#include <algorithm>

namespace presence {
namespace {

class SteadyMonotonicClock final : public MonotonicClock {
 public:
  Instant Now() const override { return std::chrono::steady_clock::now(); }

  void BlockUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  Instant deadline) const override {
    cv.wait_until(lock, deadline);
  }

  std::chrono::milliseconds PollTimeout(Instant deadline) const override {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::ceil<std::chrono::milliseconds>(deadline - Now()));
  }
};

}  // namespace

const MonotonicClock& MonotonicClock::Steady() {
  static const SteadyMonotonicClock clock;
  return clock;
}

}  // namespace presence
