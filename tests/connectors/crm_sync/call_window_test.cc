// The CRM sync's rolling 24-hour count of REST calls (its API budget).

#include "connectors/crm_sync/call_window.h"

#include <boost/test/unit_test.hpp>
#include <chrono>

namespace presence::connectors {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kStart = *ParseTime("2026-11-21T10:00:30.000Z");

BOOST_AUTO_TEST_SUITE(call_window_test)

BOOST_AUTO_TEST_CASE(calls_count_for_a_full_day_after_their_minute) {
  CallWindow window;
  window.Add(kStart, 3);
  BOOST_TEST(window.Count(kStart) == 3);
  window.Add(kStart + hours(2), 2);
  BOOST_TEST(window.Count(kStart + hours(23)) == 5);
  // The 10:00 minute ends at 10:01: counted until 10:01 the next day, never less than 24 h.
  BOOST_TEST(window.Count(kStart + hours(24)) == 5);
  BOOST_TEST(window.Count(*ParseTime("2026-11-22T10:00:59.999Z")) == 5);
  BOOST_TEST(window.Count(*ParseTime("2026-11-22T10:01:00.000Z")) == 2);
  BOOST_TEST(window.Count(kStart + hours(27)) == 0);
}

BOOST_AUTO_TEST_CASE(reopens_when_enough_old_calls_expire) {
  CallWindow window;
  window.Add(kStart, 2);                // 10:00 minute
  window.Add(kStart + minutes(30), 1);  // 10:30 minute
  window.Add(kStart + hours(5), 3);     // 15:00 minute
  const Timestamp now = kStart + hours(6);
  BOOST_TEST(window.Count(now) == 6);
  BOOST_TEST((window.ReopensAt(now, 7) == now));
  BOOST_TEST((window.ReopensAt(now, 6) == *ParseTime("2026-11-22T10:01:00.000Z")));
  BOOST_TEST((window.ReopensAt(now, 5) == *ParseTime("2026-11-22T10:01:00.000Z")));
  BOOST_TEST((window.ReopensAt(now, 4) == *ParseTime("2026-11-22T10:31:00.000Z")));
  BOOST_TEST((window.ReopensAt(now, 3) == *ParseTime("2026-11-22T15:01:00.000Z")));
  BOOST_TEST((window.ReopensAt(now, 1) == *ParseTime("2026-11-22T15:01:00.000Z")));
}

BOOST_AUTO_TEST_CASE(old_buckets_are_forgotten_and_empty_adds_ignored) {
  CallWindow window;
  window.Add(kStart, 4);
  window.Add(kStart + seconds(10), 0);
  BOOST_TEST(window.Count(kStart + seconds(10)) == 4);
  window.Add(kStart + hours(30), 1);
  BOOST_TEST(window.Count(kStart + hours(30)) == 1);
  BOOST_TEST((window.ReopensAt(kStart + hours(30), 1) == *ParseTime("2026-11-23T16:01:00.000Z")));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
