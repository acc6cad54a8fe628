#include "agent/api/agent_view.h"

#include <Poco/JSON/Parser.h>

#include "common/json_writer.h"
#include "connectors/connector_config.h"
#include "connectors/omni_channel/omni_channel_connector.h"

namespace presence::agent {
namespace {

// A time, or null when there is none.
void WriteTimeOrNull(JsonWriter& out, const std::optional<Timestamp>& time) {
  if (time) {
    out.String(FormatTime(*time));
  } else {
    out.Null();
  }
}

void WriteStatePart(JsonWriter& out, const AgentState& state, const reasoncodes::Catalog& catalog) {
  out.BeginObject().Key("label").String(state.label);
  const reasoncodes::State* known = catalog.Find(state.label);
  if (known == nullptr) {  // removed from the catalog by a reload; the user is still in it
    out.Key("reason_code").Null().Key("status").Null().EndObject();
    return;
  }
  out.Key("reason_code").String(known->reason_code);
  out.Key("status").Int(reasoncodes::ToInt(known->status));
  out.Key("status_name").String(reasoncodes::StatusName(known->status));
  out.Key("color").String(known->color);
  out.Key("alert_after_seconds").Int(known->alert_after_seconds);
  out.EndObject();
}

void WriteCalls(JsonWriter& out, const AgentState& state) {
  out.BeginArray();
  for (const ActiveCall& call : state.calls) {
    out.BeginObject();
    out.Key("id").String(call.id);
    out.Key("direction").String(DirectionName(call.direction));
    out.Key("internal").Bool(call.internal);
    out.Key("started").String(FormatTime(call.started));
    out.Key("answered");
    WriteTimeOrNull(out, call.answered);
    out.EndObject();
  }
  out.EndArray();
}

// The state's mappings.omni_channel block as the omni_channel connector reads it; nullopt
// without a valid one. Without that connector nothing validated the blocks at load, so an
// invalid block gives no instruction rather than a half-read one.
std::optional<connectors::OmniChannelMapping> OmniChannelMappingOf(
    const reasoncodes::State* known) {
  if (known == nullptr) return std::nullopt;
  std::optional<json::Object> block = connectors::StateMapping(*known, "omni_channel");
  if (!block) return std::nullopt;
  json::Problems ignored;
  return connectors::ReadOmniChannelMapping(*block, "", ignored);
}

// What a softphone applies with the Omni-Channel toolkit (integrations.md 3.7: the status can
// be set only in the agent's browser): {"status_id"} or {"logout": true}, null without a block.
void WriteOmniChannel(JsonWriter& out, const reasoncodes::State* known) {
  std::optional<connectors::OmniChannelMapping> mapping = OmniChannelMappingOf(known);
  if (!mapping) {
    out.Null();
  } else if (mapping->logout) {
    out.BeginObject().Key("logout").Bool(true).EndObject();
  } else {
    out.BeginObject().Key("status_id").String(mapping->status_id).EndObject();
  }
}

// What the phone system holds that the state did not ask for (issue 14), per connector.
void WritePbxMismatches(JsonWriter& out, const AgentState& state) {
  out.BeginArray();
  for (const reasoncodes::ActionMismatch& mismatch : state.pbx_mismatches) {
    out.BeginObject();
    out.Key("connector").String(mismatch.connector);
    out.Key("item").String(mismatch.item);
    out.Key("wanted").String(mismatch.wanted);
    out.Key("actual").String(mismatch.actual);
    out.Key("manual").Bool(mismatch.manual);
    out.Key("since").String(FormatTime(mismatch.since));
    out.EndObject();
  }
  out.EndArray();
}

void WriteBudgets(JsonWriter& out, const AgentState& state) {
  out.BeginObject().Key("day_ends").String(FormatTime(state.budget_day_ends));
  out.Key("states").BeginArray();
  for (const AgentState::BudgetUse& use : state.budgets) {
    out.BeginObject();
    out.Key("label").String(use.label);
    out.Key("budget_seconds").Int(use.budget_seconds);
    // Milliseconds kept (1.9, not 1): a client adding the time since counting_since must not
    // lose up to a second per stretch.
    out.Key("used_seconds").Seconds(use.used.count());
    out.Key("counting_since");
    WriteTimeOrNull(out, use.counting_since);
    out.EndObject();
  }
  out.EndArray().EndObject();
}

}  // namespace

Millis BudgetUsedNow(const AgentState::BudgetUse& use, Timestamp day_ends, Timestamp now,
                     const tracking::ReportZone& zone) {
  if (now >= day_ends) {  // the view is from an earlier day: today starts afresh
    return use.counting_since ? now - std::max(*use.counting_since, zone.DayStart(now)) : Millis(0);
  }
  Millis used = use.used;
  if (use.counting_since && now > *use.counting_since) used += now - *use.counting_since;
  return used;
}

bool OverBudget(const AgentState& state, Timestamp now, const tracking::ReportZone& zone) {
  for (const AgentState::BudgetUse& use : state.budgets) {
    if (BudgetUsedNow(use, state.budget_day_ends, now, zone) >
        std::chrono::seconds(use.budget_seconds)) {
      return true;
    }
  }
  return false;
}

void AddBudgetFigures(Poco::JSON::Object& view, const AgentState* state, Timestamp now,
                      const tracking::ReportZone& zone) {
  Poco::JSON::Object::Ptr budgets = view.getObject("budgets");
  if (!budgets || state == nullptr) return;
  Poco::JSON::Array::Ptr items = budgets->getArray("states");
  for (size_t i = 0; items && i < items->size() && i < state->budgets.size(); ++i) {
    const AgentState::BudgetUse& use = state->budgets[i];
    const Millis used = BudgetUsedNow(use, state->budget_day_ends, now, zone);
    // Whole seconds rounded down: a fraction of a second over is -1, never 0.
    const int64_t left =
        std::chrono::floor<std::chrono::seconds>(std::chrono::seconds(use.budget_seconds) - used)
            .count();
    Poco::JSON::Object::Ptr item = items->getObject(static_cast<unsigned>(i));
    item->set("left_seconds", left);
    item->set("over", used > std::chrono::seconds(use.budget_seconds));
  }
}

void WriteAgentView(JsonWriter& out, const AgentState& state, const reasoncodes::Catalog& catalog,
                    const User* user) {
  out.BeginObject();
  out.Key("id").String(state.agent);
  out.Key("name").String(user ? user->name : state.agent);
  out.Key("extension").String(user ? user->extension : std::string());
  out.Key("team").String(user ? user->team : std::string());
  out.Key("state");
  WriteStatePart(out, state, catalog);
  out.Key("since").String(FormatTime(state.since));
  out.Key("source").String(reasoncodes::SourceName(state.source));
  out.Key("cause").String(state.cause);
  out.Key("active_calls");
  WriteCalls(out, state);
  out.Key("pending");
  if (state.pending_label) {
    out.BeginObject().Key("label").String(*state.pending_label);
    out.Key("source").String(reasoncodes::SourceName(state.pending_source)).EndObject();
  } else {
    out.Null();
  }
  out.Key("wrap_up_until");
  WriteTimeOrNull(out, state.wrap_up_until);
  out.Key("pbx_mismatches");
  WritePbxMismatches(out, state);
  if (catalog.settings().omni_channel) {
    out.Key("omni_channel");
    WriteOmniChannel(out, catalog.Find(state.label));
  }
  if (!state.budgets.empty()) {
    out.Key("budgets");
    WriteBudgets(out, state);
  }
  out.EndObject();
}

std::string AgentViewText(const AgentState& state, const reasoncodes::Catalog& catalog,
                          const User* user) {
  JsonWriter out;
  WriteAgentView(out, state, catalog, user);
  return out.Take();
}

Poco::JSON::Object::Ptr AgentViewJson(const AgentState& state, const reasoncodes::Catalog& catalog,
                                      const User* user) {
  Poco::JSON::Parser parser;
  return parser.parse(AgentViewText(state, catalog, user)).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace presence::agent
