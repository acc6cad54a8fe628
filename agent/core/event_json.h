#pragma once

// Events as JSON: one line of a replay file, or the body of POST /agents/{id}/events.
//   {"at": "2026-11-21T09:00:00.000Z", "agent": "1001", "type": "call_ended",
//    "call_id": "c7", "duration_s": 95, "internal": false}
// Fields: at (ISO-8601), agent, type (select, call_started, call_answered, call_ended, login,
// logout, override), label (select, override), source (agent, crm, supervisor, call, wrap_up,
// system, pbx), call_id, direction (inbound, outbound), internal (bool), duration_s (number).

#include <Poco/JSON/Object.h>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "agent/engine/engine.h"
#include "common/result.h"

namespace presence::agent {

struct TimedEvent {
  Event event;
  std::optional<Timestamp> at;
};

struct EventParseOptions {
  bool require_at = false;    // replay: every line carries its time
  bool require_agent = true;  // the API takes the user from the URL instead
};

// Longest string a request body may hold in a short field (label, source, call_id, agent,
// type, direction, at), in bytes: the engine keeps the same bound on call ids and labels.
inline constexpr std::size_t kMaxShortText = 256;
// Longest duration_s accepted: 31 days, far beyond any call, well inside the engine's range.
inline constexpr double kMaxDurationSeconds = 31 * 24 * 3600;

// object[key] as a string of at most `max_bytes`: nullopt when absent or null. Errors (HTTP
// 422): "invalid_value" when it is another JSON type ("label: must be a string, got a
// number"), "too_long" over the bound ("label: at most 256 bytes, got 300").
Result<std::optional<std::string>> ReadStringField(const Poco::JSON::Object& object,
                                                   const std::string& key,
                                                   std::size_t max_bytes = kMaxShortText);

// Every key of `object` must be one of `allowed` (listed in the message): else "invalid_value".
Status CheckFields(const Poco::JSON::Object& object,
                   std::initializer_list<std::string_view> allowed);

// Errors name the field and what is allowed: "invalid_value" (a field of the wrong JSON type,
// an unknown field), "too_long" (a string over kMaxShortText bytes), "invalid_event" (a value
// that is not one of the allowed ones) or "missing_field".
Result<TimedEvent> ParseEvent(const Poco::JSON::Object& object, const EventParseOptions& options);

// Parses text first (code "malformed_json" with the parser's message on a syntax error).
Result<TimedEvent> ParseEventText(const std::string& text, const EventParseOptions& options);

}  // namespace presence::agent
