// Token guessing is slowed per client address: after `limit` failures within a minute the
// address is refused until that minute is over; other addresses are not affected.

#include "agent/api/auth_throttle.h"

#include <boost/test/unit_test.hpp>

#include "tests/fakes/fake_clock.h"

namespace presence::agent {
namespace {

using std::chrono::seconds;

const Timestamp kStart = FromEpochMillis(1'800'000'000'000);

struct ThrottleFixture {
  testing::FakeClock clock{kStart};
  AuthThrottle throttle{clock, 4};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_throttle_test)

BOOST_FIXTURE_TEST_CASE(an_address_is_refused_after_its_limit_until_the_minute_is_over,
                        ThrottleFixture) {
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(!throttle.Refuse("10.0.0.1", 3));
    throttle.Failed("10.0.0.1", 3);
    clock.Advance(Millis(1000));
  }
  // The window began at the first failure, 3 s ago: 57 s are left.
  std::optional<seconds> wait = throttle.Refuse("10.0.0.1", 3);
  BOOST_REQUIRE(wait);
  BOOST_TEST(wait->count() == 57);
  BOOST_TEST(!throttle.Refuse("10.0.0.2", 3));  // another address
  clock.Advance(Millis(56'500));
  wait = throttle.Refuse("10.0.0.1", 3);
  BOOST_REQUIRE(wait);
  BOOST_TEST(wait->count() == 1);  // rounded up, never 0
  clock.Advance(Millis(500));
  BOOST_TEST(!throttle.Refuse("10.0.0.1", 3));  // a new minute, a new count
  throttle.Failed("10.0.0.1", 3);
  BOOST_TEST(!throttle.Refuse("10.0.0.1", 3));
  BOOST_TEST(throttle.failures() == 4u);
  BOOST_TEST(throttle.throttled() == 2u);
}

// Watching() lets a request skip the throttle (no clock, no lock) while nobody has failed.
BOOST_FIXTURE_TEST_CASE(it_watches_only_while_an_address_has_a_window, ThrottleFixture) {
  BOOST_TEST(!throttle.Watching());
  throttle.Failed("10.0.0.1", 0);  // off: no window
  BOOST_TEST(!throttle.Watching());
  throttle.Failed("10.0.0.1", 1);
  BOOST_TEST(throttle.Watching());
  BOOST_TEST(throttle.Refuse("10.0.0.1", 1).has_value());
  clock.Advance(Millis(60'000));
  BOOST_TEST(!throttle.Refuse("10.0.0.1", 1));  // its minute is over: forgotten
  BOOST_TEST(throttle.tracked() == 0u);
  BOOST_TEST(!throttle.Watching());
  throttle.Failed("10.0.0.2", 1);
  BOOST_TEST(throttle.Watching());
  // An address that never comes back: its finished window goes when another address asks.
  clock.Advance(Millis(60'000));
  BOOST_TEST(!throttle.Refuse("10.0.0.3", 1));
  BOOST_TEST(!throttle.Watching());
}

BOOST_FIXTURE_TEST_CASE(limit_zero_turns_it_off_but_failures_are_still_counted, ThrottleFixture) {
  for (int i = 0; i < 50; ++i) throttle.Failed("10.0.0.1", 0);
  BOOST_TEST(!throttle.Refuse("10.0.0.1", 0));
  BOOST_TEST(throttle.failures() == 50u);
  BOOST_TEST(throttle.throttled() == 0u);
  BOOST_TEST(throttle.tracked() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_lowered_limit_applies_to_the_running_window, ThrottleFixture) {
  for (int i = 0; i < 2; ++i) throttle.Failed("10.0.0.1", 10);
  BOOST_TEST(!throttle.Refuse("10.0.0.1", 10));
  BOOST_TEST(throttle.Refuse("10.0.0.1", 2).has_value());  // after a reload to 2
}

BOOST_FIXTURE_TEST_CASE(memory_is_bounded_finished_windows_and_then_the_oldest_go_first,
                        ThrottleFixture) {
  // Room for 4 addresses.
  throttle.Failed("old", 1);
  clock.Advance(Millis(61'000));
  for (const char* address : {"a", "b", "c"}) {
    throttle.Failed(address, 1);
    clock.Advance(Millis(1000));
  }
  BOOST_TEST(throttle.tracked() == 4u);
  throttle.Failed("d", 1);  // "old" has finished: it goes
  BOOST_TEST(throttle.tracked() == 4u);
  BOOST_TEST(throttle.Refuse("a", 1).has_value());
  throttle.Failed("e", 1);  // all running: the oldest, "a", goes
  BOOST_TEST(throttle.tracked() == 4u);
  BOOST_TEST(!throttle.Refuse("a", 1));
  for (const char* address : {"b", "c", "d", "e"}) {
    BOOST_TEST_CONTEXT(address) { BOOST_TEST(throttle.Refuse(address, 1).has_value()); }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
