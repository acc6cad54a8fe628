#pragma once

// The JSON a client sees for one user, the same in GET /api/v1/agents/{id}, GET /agents and
// every live-stream update:
// {"id","name","extension","team",
//  "state":{"label","reason_code","status","status_name","color","alert_after_seconds"},
//  "since","source","cause",
//  "active_calls":[{"id","direction","internal","started","answered"}],
//  "pending":{"label","source"}|null, "wrap_up_until":time|null,
//  "pbx_mismatches":[{"connector","item","wanted","actual","manual","since"}]  what the phone
//                                                      system holds that the state did not ask for
//  "omni_channel":{"status_id"}|{"logout":true}|null   only with settings.omni_channel on: what
//                                                      the user's softphone sets in Omni-Channel
//  "budgets":{"day_ends":time,                         only when a state has
//             "states":[{"label","budget_seconds",     budget_seconds_per_day: today's use
//                        "used_seconds",               (settings.time_zone day) per budgeted
//                        "counting_since":time|null}]} state, in catalog order
//    used_seconds is today's time in the state before counting_since; counting_since is set
//    while the user is in that state (the later of `since` and today's start): the time used
//    now is used_seconds + (now - counting_since). At day_ends a new day starts (used 0, and
//    a state still running counts from day_ends). GET /agents and /agents/{id} add, per state,
//    "left_seconds" (budget - used as of the request; negative when over) and "over".

#include <Poco/JSON/Object.h>

#include <string>

#include "agent/config/config.h"
#include "agent/engine/engine.h"
#include "tracking/report/report_zone.h"

namespace presence {
class JsonWriter;
}  // namespace presence

namespace presence::agent {

// Time used today of one budgeted state as of `now`, from a view made earlier.
Millis BudgetUsedNow(const AgentState::BudgetUse& use, Timestamp day_ends, Timestamp now,
                     const tracking::ReportZone& zone);
// Whether any budgeted state's use today is over its budget as of `now`.
bool OverBudget(const AgentState& state, Timestamp now, const tracking::ReportZone& zone);
// Adds "left_seconds" and "over" to each item of the view's "budgets" (made from `state`).
void AddBudgetFigures(Poco::JSON::Object& view, const AgentState* state, Timestamp now,
                      const tracking::ReportZone& zone);

// `user` may be null (a user seen in the ledger but no longer configured).
void WriteAgentView(JsonWriter& out, const AgentState& state, const reasoncodes::Catalog& catalog,
                    const User* user);
// The same view as text, and as a Poco object for handlers that add to it.
Poco::JSON::Object::Ptr AgentViewJson(const AgentState& state, const reasoncodes::Catalog& catalog,
                                      const User* user);
std::string AgentViewText(const AgentState& state, const reasoncodes::Catalog& catalog,
                          const User* user);

}  // namespace presence::agent
