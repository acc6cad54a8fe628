// The event JSON reader: timer events are the core's own and never come in from outside.

#include "agent/core/event_json.h"

#include <boost/test/unit_test.hpp>

namespace presence::agent {

BOOST_AUTO_TEST_SUITE(event_json_test)

BOOST_AUTO_TEST_CASE(timer_event_types_are_not_accepted) {
  for (const std::string type : {"wrap_up_timer", "missed_calls_timer"}) {
    Result<TimedEvent> parsed = ParseEventText(R"({"type": ")" + type + R"("})", {});
    BOOST_REQUIRE_MESSAGE(!parsed.ok(), type);
    BOOST_TEST(parsed.error().code == "invalid_event");
    BOOST_TEST(parsed.error().message.find("is not an event type") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
