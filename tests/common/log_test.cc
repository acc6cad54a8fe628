#include "common/log.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

namespace presence {
namespace {

BOOST_AUTO_TEST_SUITE(log_test)

BOOST_AUTO_TEST_CASE(levels_print_as_the_words_the_log_has_always_used) {
  BOOST_TEST(LogLevelName(LogLevel::kInfo) == "info");
  BOOST_TEST(LogLevelName(LogLevel::kWarning) == "warning");
  BOOST_TEST(LogLevelName(LogLevel::kError) == "error");
}

BOOST_AUTO_TEST_CASE(a_service_log_line_is_time_level_colon_text) {
  std::optional<Timestamp> at = ParseTime("2026-11-21T09:30:00.125Z");
  BOOST_REQUIRE(at.has_value());
  BOOST_TEST(FormatLogLine(*at, LogLevel::kWarning, "server settings changed") ==
             "2026-11-21T09:30:00.125Z warning: server settings changed");
  BOOST_TEST(FormatLogLine(*at, LogLevel::kInfo, "stopped cleanly") ==
             "2026-11-21T09:30:00.125Z info: stopped cleanly");
  BOOST_TEST(FormatLogLine(*at, LogLevel::kError, "") == "2026-11-21T09:30:00.125Z error: ");
}

BOOST_AUTO_TEST_CASE(a_command_line_log_line_has_no_time) {
  BOOST_TEST(FormatLogLine(LogLevel::kWarning, "the time ledger 'x' was empty") ==
             "warning: the time ledger 'x' was empty");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence
