#include "agent/service/systemd_notify.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/fakes/notify_socket.h"
#include "tests/fakes/temp_dir.h"

namespace presence::agent {

using testing::NotifySocket;

BOOST_AUTO_TEST_SUITE(systemd_notify_test)

BOOST_AUTO_TEST_CASE(sends_each_message_as_one_datagram_to_a_socket_path) {
  testing::TempDir dir;
  NotifySocket systemd(dir.File("notify"));
  SystemdNotifier notifier(dir.File("notify"));
  BOOST_TEST(notifier.enabled());
  BOOST_TEST(notifier.Notify("READY=1\nSTATUS=serving").ok());
  BOOST_TEST(notifier.Notify("WATCHDOG=1").ok());
  BOOST_TEST(systemd.Receive().value_or("") == "READY=1\nSTATUS=serving");
  BOOST_TEST(systemd.Receive().value_or("") == "WATCHDOG=1");
}

BOOST_AUTO_TEST_CASE(an_at_sign_names_an_abstract_socket) {
  const std::string name = "@presence-notify-test-" + std::to_string(::getpid());
  NotifySocket systemd(name);
  SystemdNotifier notifier(name);
  BOOST_TEST(notifier.Notify("STOPPING=1").ok());
  BOOST_TEST(systemd.Receive().value_or("") == "STOPPING=1");
}

BOOST_AUTO_TEST_CASE(without_a_socket_it_does_nothing_and_succeeds) {
  SystemdNotifier notifier("");
  BOOST_TEST(!notifier.enabled());
  BOOST_TEST(notifier.Notify("READY=1").ok());
}

BOOST_AUTO_TEST_CASE(a_socket_nobody_listens_on_is_an_error_that_names_it) {
  testing::TempDir dir;
  SystemdNotifier notifier(dir.File("gone"));
  Status sent = notifier.Notify("READY=1");
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(sent.error().message.find(dir.File("gone")) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_path_too_long_for_a_socket_address_is_refused) {
  SystemdNotifier notifier("/" + std::string(200, 'x'));
  BOOST_TEST(!notifier.Notify("READY=1").ok());
}

BOOST_AUTO_TEST_CASE(the_reloading_message_carries_the_monotonic_time) {
  const std::string message = ReloadingMessage();
  BOOST_TEST(message.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  const std::string usec = message.substr(message.find('=', 12) + 1);
  BOOST_TEST(!usec.empty());
  BOOST_TEST(usec.find_first_not_of("0123456789") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_watchdog_interval_is_for_this_process_only) {
  using std::chrono::microseconds;
  BOOST_TEST(ParseWatchdog("30000000", nullptr, 42).value_or(microseconds(0)).count() == 30000000);
  BOOST_TEST(ParseWatchdog("200000", "42", 42).value_or(microseconds(0)).count() == 200000);
  BOOST_TEST(!ParseWatchdog("200000", "41", 42).has_value());  // meant for another process
  BOOST_TEST(!ParseWatchdog(nullptr, nullptr, 42).has_value());
  BOOST_TEST(!ParseWatchdog("0", nullptr, 42).has_value());
  BOOST_TEST(!ParseWatchdog("soon", nullptr, 42).has_value());
  BOOST_TEST(!ParseWatchdog("-5", nullptr, 42).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
