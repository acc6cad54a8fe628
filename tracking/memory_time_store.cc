#include "tracking/memory_time_store.h"

#include <algorithm>
#include <unordered_map>

#include "tracking/ledger_math.h"

namespace presence::tracking {

std::unique_ptr<TimeStore> NewMemoryTimeStore() { return std::make_unique<MemoryTimeStore>(); }

Status MemoryTimeStore::Validate(const CommitBatch& batch) const {
  // Start of each user's open interval as the batch would leave it, change by change.
  std::unordered_map<std::string, Timestamp> open_start;
  for (const Change& change : batch.changes) {
    auto pending = open_start.find(change.agent);
    std::optional<Timestamp> start;
    if (pending != open_start.end()) {
      start = pending->second;
    } else if (auto entry = agents_.find(change.agent);
               entry != agents_.end() && entry->second.open) {
      start = intervals_[*entry->second.open].start;
    }
    if (start && change.at < *start) return OutOfOrderError(change, *start);
    open_start[change.agent] = change.at;
  }
  int64_t last_id = outbox_last_id_;
  for (const OutboxItem& item : batch.outbox) {
    if (item.id <= last_id) {
      return Error{"storage_error", "outbox id " + std::to_string(item.id) +
                                        " is not above the last one (" + std::to_string(last_id) +
                                        ")"};
    }
    last_id = item.id;
  }
  return Status::Ok();
}

void MemoryTimeStore::Apply(const Change& change) {
  AgentEntry& entry = agents_[change.agent];
  if (entry.open) intervals_[*entry.open].end = change.at;
  Interval next;
  next.id = static_cast<int64_t>(intervals_.size()) + 1;
  next.agent = change.agent;
  next.label = change.label;
  next.reason_code = change.reason_code;
  next.status = change.status;
  next.source = change.source;
  next.cause = change.cause;
  next.start = change.at;
  intervals_.push_back(std::move(next));
  entry.open = intervals_.size() - 1;
}

Status MemoryTimeStore::Commit(const CommitBatch& batch) {
  std::lock_guard lock(mutex_);
  if (Status status = Validate(batch); !status.ok()) return status;
  for (const Change& change : batch.changes) Apply(change);
  for (const AgentRecord& record : batch.agents) {
    agents_[record.agent].engine_state = record.engine_state;
  }
  for (const OutboxItem& item : batch.outbox) {
    outbox_[item.id] = item;
    outbox_last_id_ = item.id;
  }
  return Status::Ok();
}

Result<OutboxState> MemoryTimeStore::LoadOutbox() {
  std::lock_guard lock(mutex_);
  OutboxState state;
  for (const auto& [id, item] : outbox_) state.items.push_back(item);
  state.last_id = outbox_last_id_;
  return state;
}

Status MemoryTimeStore::RemoveOutbox(const std::vector<int64_t>& ids) {
  std::lock_guard lock(mutex_);
  for (int64_t id : ids) outbox_.erase(id);
  return Status::Ok();
}

Result<std::vector<StoredAgent>> MemoryTimeStore::LoadAgents() {
  std::lock_guard lock(mutex_);
  std::vector<StoredAgent> agents;
  for (const auto& [agent, entry] : agents_) {
    StoredAgent stored{agent, entry.engine_state, std::nullopt};
    if (entry.open) stored.open = intervals_[*entry.open];
    agents.push_back(std::move(stored));
  }
  return agents;
}

Result<std::vector<Interval>> MemoryTimeStore::Intervals(const std::optional<std::string>& agent,
                                                         Timestamp from, Timestamp to) {
  std::lock_guard lock(mutex_);
  std::vector<Interval> found;
  for (const Interval& interval : intervals_) {
    if (agent && interval.agent != *agent) continue;
    if (InIntervalsRange(interval, from, to)) found.push_back(interval);
  }
  std::stable_sort(found.begin(), found.end(), [](const Interval& a, const Interval& b) {
    return a.start != b.start ? a.start < b.start : a.id < b.id;
  });
  return found;
}

Result<std::vector<Total>> MemoryTimeStore::Totals(const TotalsQuery& query) {
  std::lock_guard lock(mutex_);
  TotalsBuilder totals;
  for (const Interval& interval : intervals_) {
    if (query.agent && interval.agent != *query.agent) continue;
    Millis time = Overlap(interval.start, CountedEnd(interval, query), query.from, query.to);
    totals.Add(interval.agent, interval.label, interval.status, time);
  }
  return totals.Finish();
}

}  // namespace presence::tracking
