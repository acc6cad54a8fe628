// The monotonic clock that waits run on, and the fake the timing tests move: a wait ends when
// its predicate holds or its deadline comes, and on the fake only when the test moves it there.
#include "common/monotonic_clock.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>

#include "tests/fakes/fake_monotonic_clock.h"

namespace presence::common {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClock;
using testing::FakeMonotonicClock;

// A thread that waits on `clock` until `done` or `deadline`, as a component does.
struct Sleeper {
  explicit Sleeper(const MonotonicClock& clock, MonotonicClock::Instant deadline) {
    result = std::async(std::launch::async, [this, &clock, deadline] {
      std::unique_lock lock(mutex);
      return clock.WaitUntil(cv, lock, deadline, [this] { return done; });
    });
  }
  ~Sleeper() { Finish(); }  // then `result` waits for the thread
  void Finish() {
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    cv.notify_all();
  }
  bool Ended() { return result.wait_for(seconds(0)) == std::future_status::ready; }

  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::future<bool> result;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(monotonic_clock_test)

BOOST_AUTO_TEST_CASE(the_steady_clock_waits_until_the_predicate_or_the_deadline) {
  const MonotonicClock& clock = MonotonicClock::Steady();
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock lock(mutex);
  BOOST_TEST(clock.WaitUntil(cv, lock, clock.Now() + seconds(60), [] { return true; }));
  const auto start = clock.Now();
  BOOST_TEST(!clock.WaitUntil(cv, lock, start + milliseconds(20), [] { return false; }));
  BOOST_TEST((clock.Now() - start >= milliseconds(20)));
  BOOST_TEST(clock.PollTimeout(start).count() == 0);
  BOOST_TEST(clock.PollTimeout(clock.Now() + seconds(5)).count() > 4000);
}

BOOST_AUTO_TEST_CASE(a_fake_wait_ends_only_when_the_clock_reaches_its_deadline) {
  FakeMonotonicClock clock;
  const auto start = clock.Now();
  Sleeper sleeper(clock, start + seconds(30));
  BOOST_REQUIRE(clock.AwaitWaiters(1));
  BOOST_TEST((clock.Deadlines() == std::vector<MonotonicClock::Instant>{start + seconds(30)}));
  clock.Advance(milliseconds(29999));  // wakes no one: the deadline is still ahead
  BOOST_TEST(!sleeper.Ended());
  BOOST_TEST(clock.Deadlines().size() == 1u);
  clock.Advance(milliseconds(1));
  BOOST_TEST(sleeper.result.get() == false);  // the deadline passed, the predicate never held
  BOOST_TEST(clock.Deadlines().empty());
  BOOST_TEST((clock.Now() == start + seconds(30)));
}

BOOST_AUTO_TEST_CASE(a_fake_wait_ends_at_once_when_its_predicate_is_notified) {
  FakeMonotonicClock clock;
  Sleeper sleeper(clock, clock.Now() + seconds(30));
  BOOST_REQUIRE(clock.AwaitWaiters(1));
  sleeper.Finish();
  BOOST_TEST(sleeper.result.get() == true);
  BOOST_TEST(clock.Deadlines().empty());
}

BOOST_AUTO_TEST_CASE(a_fake_linked_to_a_wall_clock_moves_both_and_polls_in_short_slices) {
  FakeClock wall(FromEpochMillis(1'800'000'000'000));
  FakeMonotonicClock clock(wall);
  const auto start = clock.Now();
  clock.Advance(seconds(90));
  BOOST_TEST(ToEpochMillis(wall.Now()) == 1'800'000'090'000);
  BOOST_TEST((clock.Now() == start + seconds(90)));
  BOOST_TEST(clock.PollTimeout(clock.Now()).count() == 0);
  BOOST_TEST(clock.PollTimeout(clock.Now() + seconds(60)).count() <= 10);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::common
