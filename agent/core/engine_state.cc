// Persisted form of the engine-owned part of AgentState. Stored by the ledger as opaque
// text next to the user's open interval; read back at start-up. It lives beside the core,
// which stores and restores it, so that the engine needs no JSON parser (Poco).

#include "agent/core/engine_state.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <limits>
#include <sstream>

#include "common/json_writer.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string TimeOrEmpty(const std::optional<Timestamp>& t) {
  return t ? FormatTime(*t) : std::string();
}

std::optional<Timestamp> ReadTime(const Object& object, const std::string& key) {
  if (!object.has(key)) return std::nullopt;
  std::string text = object.getValue<std::string>(key);
  if (text.empty()) return std::nullopt;
  return ParseTime(text);
}

}  // namespace

std::string SerializeEngineState(const AgentState& state) {
  JsonWriter out;
  out.BeginObject().Key("calls").BeginArray();
  for (const ActiveCall& call : state.calls) {
    out.BeginObject();
    out.Key("id").String(call.id);
    out.Key("direction").String(DirectionName(call.direction));
    out.Key("internal").Bool(call.internal);
    out.Key("started").String(FormatTime(call.started));
    out.Key("answered").String(TimeOrEmpty(call.answered));
    if (call.counts_if_missed) out.Key("counts_if_missed").Bool(true);
    out.EndObject();
  }
  out.EndArray();
  out.Key("calls_own_state").Bool(state.calls_own_state);
  out.Key("call_qualified").Bool(state.call_qualified);
  out.Key("resume_label").String(state.resume_label);
  if (state.pending_label) {
    out.Key("pending_label").String(*state.pending_label);
    out.Key("pending_source").String(reasoncodes::SourceName(state.pending_source));
  }
  out.Key("wrap_up_until").String(TimeOrEmpty(state.wrap_up_until));
  if (state.owed_wrap_up) {
    out.Key("owed_wrap_up_ms").Int(state.owed_wrap_up->count());
    out.Key("owed_cause").String(state.owed_cause);
  }
  out.Key("ended_calls").BeginArray();
  for (const std::string& id : state.ended_calls) out.String(id);
  out.EndArray();
  out.Key("last_event").String(FormatTime(state.last_event));
  // Rule 11, only when in use: a stored state from before it reads as none.
  if (state.missed_calls > 0) out.Key("missed_calls").Int(state.missed_calls);
  if (state.missed_return_at) {
    out.Key("missed_return_at").String(FormatTime(*state.missed_return_at));
  }
  out.EndObject();
  return out.Take();
}

Result<AgentState> RestoreAgentState(const tracking::StoredAgent& stored) {
  if (!stored.open) {
    return Error{"corrupt_state", "user '" + stored.agent + "' has no open interval"};
  }
  AgentState state;
  state.agent = stored.agent;
  state.label = stored.open->label;
  state.since = stored.open->start;
  state.source = stored.open->source;
  state.cause = stored.open->cause;
  if (stored.engine_state.empty()) return state;
  try {
    Poco::JSON::Parser parser;
    Object::Ptr root = parser.parse(stored.engine_state).extract<Object::Ptr>();
    Array::Ptr calls = root->getArray("calls");
    for (size_t i = 0; calls && i < calls->size(); ++i) {
      Object::Ptr item = calls->getObject(static_cast<unsigned>(i));
      ActiveCall call;
      call.id = item->getValue<std::string>("id");
      call.direction = item->getValue<std::string>("direction") == "outbound" ? Direction::kOutbound
                                                                              : Direction::kInbound;
      call.internal = item->getValue<bool>("internal");
      call.started = ReadTime(*item, "started").value_or(state.since);
      call.answered = ReadTime(*item, "answered");
      call.counts_if_missed = item->optValue<bool>("counts_if_missed", false);
      state.calls.push_back(std::move(call));
    }
    state.calls_own_state = root->optValue<bool>("calls_own_state", false);
    state.call_qualified = root->optValue<bool>("call_qualified", false);
    state.resume_label = root->optValue<std::string>("resume_label", "");
    if (root->has("pending_label")) {
      state.pending_label = root->getValue<std::string>("pending_label");
      state.pending_source =
          reasoncodes::SourceFromName(root->optValue<std::string>("pending_source", "agent"))
              .value_or(Source::kAgent);
    }
    state.wrap_up_until = ReadTime(*root, "wrap_up_until");
    if (root->has("owed_wrap_up_ms")) {
      state.owed_wrap_up = std::chrono::milliseconds(root->getValue<int64_t>("owed_wrap_up_ms"));
      state.owed_cause = root->optValue<std::string>("owed_cause", "");
    }
    if (Array::Ptr ended = root->getArray("ended_calls")) {
      for (size_t i = 0; i < ended->size(); ++i) {
        state.ended_calls.push_back(ended->getElement<std::string>(static_cast<unsigned>(i)));
      }
    }
    state.last_event = ReadTime(*root, "last_event").value_or(state.since);
    state.missed_calls = static_cast<int>(std::clamp<int64_t>(
        root->optValue<int64_t>("missed_calls", 0), 0, std::numeric_limits<int>::max()));
    state.missed_return_at = ReadTime(*root, "missed_return_at");
  } catch (const Poco::Exception& e) {
    return Error{"corrupt_state",
                 "user '" + stored.agent + "': stored engine state unreadable: " + e.displayText()};
  }
  return state;
}

}  // namespace presence::agent
