#pragma once

// Start-up: puts every user the store knows back into the engine and re-arms their wrap-up
// timers. Shared by the core loop and replay.

#include <functional>
#include <optional>

#include "agent/core/engine_state.h"
#include "agent/engine/engine.h"
#include "agent/engine/timer_queue.h"
#include "tracking/time_store.h"

namespace presence::agent {

// Told about each user restored, with the budget count stored beside their state (if any).
using RestoredUser =
    std::function<void(const AgentState& state, std::optional<StoredBudget> budget)>;

// Returns the latest change among the restored users (nullopt when the store is empty), or
// the store's error, or "corrupt_state" when a user's stored state cannot be read.
Result<std::optional<Timestamp>> RestoreFromStore(tracking::TimeStore& store, Engine& engine,
                                                  TimerQueue& timers,
                                                  const RestoredUser& restored = {});

}  // namespace presence::agent
