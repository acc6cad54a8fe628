#include "agent/core/restore.h"

#include <algorithm>

#include "agent/core/engine_state.h"

namespace presence::agent {

Result<std::optional<Timestamp>> RestoreFromStore(tracking::TimeStore& store, Engine& engine,
                                                  TimerQueue& timers,
                                                  const RestoredUser& restored) {
  Result<std::vector<tracking::StoredAgent>> stored = store.LoadAgents();
  if (!stored.ok()) return stored.error();
  std::optional<Timestamp> latest;
  for (const tracking::StoredAgent& record : *stored) {
    std::optional<StoredBudget> budget;
    Result<AgentState> state = RestoreAgentState(record, restored ? &budget : nullptr);
    if (!state.ok()) return state.error();
    if (restored) restored(*state, std::move(budget));
    if (state->wrap_up_until) timers.Push(*state->wrap_up_until, state->agent);
    if (state->missed_return_at) {
      timers.Push(*state->missed_return_at, state->agent, EventType::kMissedCallsTimer);
    }
    latest = latest ? std::max(*latest, state->since) : state->since;
    engine.Restore(std::move(state).value());
  }
  return latest;
}

}  // namespace presence::agent
