#include "agent/agent_view.h"

#include <Poco/JSON/Array.h>

#include <sstream>

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr NewObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Object::Ptr StatePart(const AgentState& state, const reasoncodes::Catalog& catalog) {
  Object::Ptr json = NewObject();
  json->set("label", state.label);
  const reasoncodes::State* known = catalog.Find(state.label);
  if (known == nullptr) {  // removed from the catalog by a reload; the user is still in it
    json->set("reason_code", Poco::Dynamic::Var());
    json->set("status", Poco::Dynamic::Var());
    return json;
  }
  json->set("reason_code", known->reason_code);
  json->set("status", reasoncodes::ToInt(known->status));
  json->set("status_name", std::string(reasoncodes::StatusName(known->status)));
  json->set("color", known->color);
  json->set("alert_after_seconds", known->alert_after_seconds);
  return json;
}

Array::Ptr CallsPart(const AgentState& state) {
  Array::Ptr calls = new Array();
  for (const ActiveCall& call : state.calls) {
    Object::Ptr json = NewObject();
    json->set("id", call.id);
    json->set("direction", std::string(DirectionName(call.direction)));
    json->set("internal", call.internal);
    json->set("started", tracking::FormatTime(call.started));
    if (call.answered) {
      json->set("answered", tracking::FormatTime(*call.answered));
    } else {
      json->set("answered", Poco::Dynamic::Var());
    }
    calls->add(json);
  }
  return calls;
}

}  // namespace

Object::Ptr AgentViewJson(const AgentState& state, const reasoncodes::Catalog& catalog,
                          const User* user) {
  Object::Ptr json = NewObject();
  json->set("id", state.agent);
  json->set("name", user ? user->name : state.agent);
  json->set("extension", user ? user->extension : std::string());
  json->set("team", user ? user->team : std::string());
  json->set("state", StatePart(state, catalog));
  json->set("since", tracking::FormatTime(state.since));
  json->set("source", std::string(reasoncodes::SourceName(state.source)));
  json->set("cause", state.cause);
  json->set("active_calls", CallsPart(state));
  if (state.pending_label) {
    Object::Ptr pending = NewObject();
    pending->set("label", *state.pending_label);
    pending->set("source", std::string(reasoncodes::SourceName(state.pending_source)));
    json->set("pending", pending);
  } else {
    json->set("pending", Poco::Dynamic::Var());
  }
  if (state.wrap_up_until) {
    json->set("wrap_up_until", tracking::FormatTime(*state.wrap_up_until));
  } else {
    json->set("wrap_up_until", Poco::Dynamic::Var());
  }
  return json;
}

std::string AgentViewText(const AgentState& state, const reasoncodes::Catalog& catalog,
                          const User* user) {
  std::ostringstream out;
  AgentViewJson(state, catalog, user)->stringify(out);
  return out.str();
}

}  // namespace presence::agent
