#include "agent/event_json.h"

#include <Poco/JSON/Parser.h>

#include <set>

namespace presence::agent {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> keys = {
      "at", "agent", "type", "label", "source", "call_id", "direction", "internal", "duration_s"};
  return keys;
}

Error Invalid(const std::string& message) { return Error{"invalid_event", message}; }

// Reads an optional string field; an error if present with another type.
Result<std::optional<std::string>> StringField(const Object& object, const std::string& key) {
  if (!object.has(key) || object.isNull(key)) return std::optional<std::string>();
  Var value = object.get(key);
  if (!value.isString()) return Invalid(key + ": must be a string");
  return std::optional<std::string>(value.extract<std::string>());
}

Status ReadCallFields(const Object& object, Event& event) {
  Result<std::optional<std::string>> call_id = StringField(object, "call_id");
  if (!call_id) return call_id.error();
  event.call_id = call_id->value_or("");
  Result<std::optional<std::string>> direction = StringField(object, "direction");
  if (!direction) return direction.error();
  if (*direction) {
    if (**direction == "outbound") {
      event.direction = Direction::kOutbound;
    } else if (**direction != "inbound") {
      return Invalid("direction: '" + **direction + "' is not a direction (inbound, outbound)");
    }
  }
  if (object.has("internal") && !object.isNull("internal")) {
    Var internal = object.get("internal");
    if (!internal.isBoolean()) return Invalid("internal: must be true or false");
    event.internal = internal.extract<bool>();
  }
  if (object.has("duration_s") && !object.isNull("duration_s")) {
    Var duration = object.get("duration_s");
    if (!duration.isNumeric()) return Invalid("duration_s: must be a number of seconds");
    event.duration_s = duration.convert<double>();
  }
  return Status::Ok();
}

Status ReadTypeAndSource(const Object& object, Event& event) {
  Result<std::optional<std::string>> type = StringField(object, "type");
  if (!type) return type.error();
  if (!*type) {
    return Error{"missing_field",
                 "type: required (select, call_started, call_answered, call_ended, login, "
                 "logout, override)"};
  }
  std::optional<EventType> parsed = EventTypeFromName(**type);
  if (!parsed || *parsed == EventType::kWrapUpTimer) {
    return Invalid("type: '" + **type +
                   "' is not an event type (select, call_started, call_answered, call_ended, "
                   "login, logout, override)");
  }
  event.type = *parsed;
  Result<std::optional<std::string>> source = StringField(object, "source");
  if (!source) return source.error();
  if (*source) {
    event.source = reasoncodes::SourceFromName(**source);
    if (!event.source) {
      return Invalid("source: '" + **source +
                     "' is not a source (agent, crm, supervisor, call, wrap_up, system, pbx)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TimedEvent> ParseEvent(const Object& object, const EventParseOptions& options) {
  for (const auto& [key, value] : object) {
    if (!KnownKeys().contains(key)) {
      return Invalid(key +
                     ": unknown field; allowed: at, agent, type, label, source, call_id, "
                     "direction, internal, duration_s");
    }
  }
  TimedEvent timed;
  Event& event = timed.event;
  if (Status status = ReadTypeAndSource(object, event); !status.ok()) return status.error();
  Result<std::optional<std::string>> agent = StringField(object, "agent");
  if (!agent) return agent.error();
  event.agent = agent->value_or("");
  if (options.require_agent && event.agent.empty()) {
    return Error{"missing_field", "agent: the user id is required"};
  }
  Result<std::optional<std::string>> label = StringField(object, "label");
  if (!label) return label.error();
  event.label = label->value_or("");
  if (Status status = ReadCallFields(object, event); !status.ok()) return status.error();
  Result<std::optional<std::string>> at = StringField(object, "at");
  if (!at) return at.error();
  if (*at) {
    timed.at = tracking::ParseTime(**at);
    if (!timed.at) {
      return Invalid("at: '" + **at + "' is not a time (like 2026-11-21T09:00:00.000Z)");
    }
  } else if (options.require_at) {
    return Error{"missing_field",
                 "at: the event's time is required (like 2026-11-21T09:00:00.000Z)"};
  }
  return timed;
}

Result<TimedEvent> ParseEventText(const std::string& text, const EventParseOptions& options) {
  Poco::Dynamic::Var parsed;
  // Editors on Windows start files with a UTF-8 byte-order mark; it is not part of the JSON.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const bool bom = text.compare(0, kBom.size(), kBom) == 0;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(bom ? text.substr(kBom.size()) : text);
  } catch (const Poco::Exception& e) {
    return Error{"malformed_json", "not valid JSON: " + e.displayText()};
  }
  if (parsed.type() != typeid(Object::Ptr)) {
    return Error{"malformed_json", "an event must be a JSON object"};
  }
  return ParseEvent(*parsed.extract<Object::Ptr>(), options);
}

}  // namespace presence::agent
