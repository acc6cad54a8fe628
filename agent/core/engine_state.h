#pragma once

// The persisted form of the engine-owned part of AgentState (calls, pending choice, wrap-up,
// owed wrap-up): stored by the ledger as opaque JSON text next to the user's open interval
// (batch_builder.h), read back at start-up (restore.h). The engine itself knows nothing of it.

//
// Next to it the core keeps its count of the user's day for the state budgets (StoredBudget),
// so that a restart reads each user's record and nothing of the day's history.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/engine/engine.h"
#include "common/result.h"
#include "tracking/ledger_types.h"

namespace presence::agent {

std::string SerializeEngineState(const AgentState& state);

// The core's count of one user's day for the state budgets: the day (in the catalog's time
// zone) and, for each budgeted state, the time the user spent in it that day before the
// current state began (closed intervals only).
struct StoredBudget {
  Timestamp day_start{};
  Timestamp day_end{};
  std::vector<std::pair<std::string, Millis>> used;  // by label
};

// `engine_state` (SerializeEngineState's text) with `budget` added.
std::string AddStoredBudget(std::string engine_state, const StoredBudget& budget);

// The user's state from their stored record: "corrupt_state" when there is no open interval
// or the stored text cannot be read. The stored budget count, when there is one and `budget`
// is given, goes to *budget.
Result<AgentState> RestoreAgentState(const tracking::StoredAgent& stored,
                                     std::optional<StoredBudget>* budget = nullptr);

}  // namespace presence::agent
