#pragma once

// Events as JSON: one line of a replay file, or the body of POST /agents/{id}/events.
//   {"at": "2026-11-21T09:00:00.000Z", "agent": "1001", "type": "call_ended",
//    "call_id": "c7", "duration_s": 95, "internal": false}
// Fields: at (ISO-8601), agent, type (select, call_started, call_answered, call_ended, login,
// logout, override), label (select, override), source (agent, crm, supervisor, call, wrap_up,
// system, pbx), call_id, direction (inbound, outbound), internal (bool), duration_s (number).

#include <Poco/JSON/Object.h>

#include <optional>
#include <string>

#include "agent/engine.h"
#include "reasoncodes/result.h"

namespace presence::agent {

struct TimedEvent {
  Event event;
  std::optional<Timestamp> at;
};

struct EventParseOptions {
  bool require_at = false;    // replay: every line carries its time
  bool require_agent = true;  // the API takes the user from the URL instead
};

// Errors name the field and what is allowed: code "invalid_event" (wrong type or value,
// unknown key) or "missing_field".
Result<TimedEvent> ParseEvent(const Poco::JSON::Object& object, const EventParseOptions& options);

// Parses text first (code "malformed_json" with the parser's message on a syntax error).
Result<TimedEvent> ParseEventText(const std::string& text, const EventParseOptions& options);

}  // namespace presence::agent
