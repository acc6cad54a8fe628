#include "agent/core/event_json.h"

#include <Poco/JSON/Parser.h>

#include <cmath>

#include "common/json_writer.h"

namespace presence::agent {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;
using presence::Excerpt;

Error Invalid(const std::string& message) { return Error{"invalid_event", message}; }

// "a number", "true or false"...: what a wrong value was, for messages.
std::string KindOf(const Var& value) {
  if (value.isBoolean()) return "true or false";
  if (value.isNumeric()) return "a number";
  if (value.isString()) return "a string";
  if (value.type() == typeid(Object::Ptr)) return "an object";
  if (value.type() == typeid(Poco::JSON::Array::Ptr)) return "an array";
  return "another type";
}

Error WrongType(const std::string& key, std::string_view expected, const Var& value) {
  return Error{"invalid_value",
               key + ": must be " + std::string(expected) + ", got " + KindOf(value)};
}

Result<std::optional<std::string>> StringField(const Object& object, const std::string& key) {
  return ReadStringField(object, key);
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
      return Invalid("direction: '" + Excerpt(**direction) +
                     "' is not a direction (inbound, outbound)");
    }
  }
  if (object.has("internal") && !object.isNull("internal")) {
    Var internal = object.get("internal");
    if (!internal.isBoolean()) return WrongType("internal", "true or false", internal);
    event.internal = internal.extract<bool>();
  }
  if (object.has("duration_s") && !object.isNull("duration_s")) {
    Var duration = object.get("duration_s");
    // A JSON true is not one second: booleans are numeric to Poco, so they are refused first.
    if (duration.isBoolean() || !duration.isNumeric()) {
      return WrongType("duration_s", "a number of seconds", duration);
    }
    const double seconds = duration.convert<double>();
    // Negative durations are the engine's to refuse (the same answer for every feed); a
    // duration past any real call would overflow its milliseconds.
    if (std::isfinite(seconds) && seconds > kMaxDurationSeconds) {
      return Error{"invalid_value", "duration_s: at most " +
                                        std::to_string(static_cast<int>(kMaxDurationSeconds)) +
                                        " seconds (31 days)"};
    }
    event.duration_s = seconds;
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
  if (!parsed || IsTimerEvent(*parsed)) {
    return Invalid("type: '" + Excerpt(**type) +
                   "' is not an event type (select, call_started, call_answered, call_ended, "
                   "login, logout, override)");
  }
  event.type = *parsed;
  Result<std::optional<std::string>> source = StringField(object, "source");
  if (!source) return source.error();
  if (*source) {
    event.source = reasoncodes::SourceFromName(**source);
    if (!event.source) {
      return Invalid("source: '" + Excerpt(**source) + "' is not a source (" +
                     reasoncodes::SourceNames() + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<std::string>> ReadStringField(const Object& object, const std::string& key,
                                                   std::size_t max_bytes) {
  if (!object.has(key) || object.isNull(key)) return std::optional<std::string>();
  Var value = object.get(key);
  if (!value.isString()) return WrongType(key, "a string", value);
  std::string text = value.extract<std::string>();
  if (text.size() > max_bytes) {
    return Error{"too_long", key + ": at most " + std::to_string(max_bytes) + " bytes, got " +
                                 std::to_string(text.size())};
  }
  return std::optional<std::string>(std::move(text));
}

Status CheckFields(const Object& object, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (known) continue;
    std::string list;
    for (std::string_view name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
    return Error{"invalid_value", Excerpt(key) + ": unknown field; allowed: " + list};
  }
  return Status::Ok();
}

Result<TimedEvent> ParseEvent(const Object& object, const EventParseOptions& options) {
  Status fields = CheckFields(object, {"at", "agent", "type", "label", "source", "call_id",
                                       "direction", "internal", "duration_s"});
  if (!fields.ok()) return fields.error();
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
    timed.at = ParseTime(**at);
    if (!timed.at) {
      return Invalid("at: '" + Excerpt(**at) + "' is not a time (like 2026-11-21T09:00:00.000Z)");
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
