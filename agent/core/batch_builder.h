#pragma once

// Collects the engine's outcomes into one group commit: the changes in order and, once per
// user, that user's latest engine state.

#include <string>
#include <unordered_map>

#include "agent/core/engine_state.h"
#include "agent/engine/engine.h"
#include "tracking/ledger_types.h"

namespace presence::agent {

class BatchBuilder {
 public:
  void Add(const Outcome& outcome, const AgentState& state) {
    batch_.changes.insert(batch_.changes.end(), outcome.changes.begin(), outcome.changes.end());
    if (!outcome.state_touched) return;
    auto [it, inserted] = index_.try_emplace(state.agent, batch_.agents.size());
    if (inserted) batch_.agents.push_back({state.agent, ""});
    batch_.agents[it->second].engine_state = SerializeEngineState(state);
  }
  // Each user's record (the core adds its own part to the engine's text before the commit).
  std::vector<tracking::AgentRecord>& agents() { return batch_.agents; }
  // The connectors' outbox rows for this batch's changes (numbered by the core).
  std::vector<tracking::OutboxItem>& outbox() { return batch_.outbox; }
  bool empty() const { return batch_.empty(); }
  const tracking::CommitBatch& batch() const { return batch_; }
  void Clear() {
    batch_ = {};
    index_.clear();
  }

 private:
  tracking::CommitBatch batch_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace presence::agent
