#pragma once

// The persisted form of the engine-owned part of AgentState (calls, pending choice, wrap-up,
// owed wrap-up): stored by the ledger as opaque JSON text next to the user's open interval
// (batch_builder.h), read back at start-up (restore.h). The engine itself knows nothing of it.

#include <string>

#include "agent/engine/engine.h"
#include "common/result.h"
#include "tracking/ledger_types.h"

namespace presence::agent {

std::string SerializeEngineState(const AgentState& state);

// The user's state from their stored record: "corrupt_state" when there is no open interval
// or the stored text cannot be read.
Result<AgentState> RestoreAgentState(const tracking::StoredAgent& stored);

}  // namespace presence::agent
