// Fuzz target for the event JSON reader (agent/core/event_json.h): the body of
// POST /api/v1/agents/{id}/events and each line of a replay file. Any bytes must give an event
// or an error with one of the documented codes; an event honours the options it was read with.
//
// The first byte picks the options (bit 0: require "at"; bit 1: require "agent": replay sets
// both, the API neither, as it takes the user from the URL); the rest is the text.

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/event_json.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  presence::agent::EventParseOptions options;
  options.require_at = (data[0] & 1) != 0;
  options.require_agent = (data[0] & 2) != 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const presence::Result<presence::agent::TimedEvent> parsed =
      presence::agent::ParseEventText(text, options);
  if (!parsed) {
    const presence::Error& error = parsed.error();
    FUZZ_CHECK(error.code == "malformed_json" || error.code == "invalid_event" ||
               error.code == "invalid_value" || error.code == "too_long" ||
               error.code == "missing_field");
    FUZZ_CHECK(!error.message.empty());
    return 0;
  }
  const presence::agent::TimedEvent& timed = *parsed;
  if (options.require_at) FUZZ_CHECK(timed.at.has_value());
  if (options.require_agent) FUZZ_CHECK(!timed.event.agent.empty());
  // Timer events are the core's own: they must never come in from outside.
  FUZZ_CHECK(!presence::agent::IsTimerEvent(timed.event.type));
  return 0;
}
