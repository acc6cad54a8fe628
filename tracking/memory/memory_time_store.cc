#include "tracking/memory/memory_time_store.h"

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

std::vector<MemoryTimeStore::UserIntervals> MemoryTimeStore::SnapshotScan(
    const IntervalScan& scan) {
  std::lock_guard lock(mutex_);
  std::vector<UserIntervals> users;
  if (scan.agents.empty()) {
    for (const auto& [agent, entry] : agents_) users.push_back({agent, {}});
  } else {
    for (const std::string& agent : scan.agents) users.push_back({agent, {}});
  }
  std::unordered_map<std::string, std::vector<Interval>> by_agent;
  for (const Interval& interval : intervals_) {
    if (InIntervalsRange(interval, scan.from, scan.to)) {
      by_agent[interval.agent].push_back(interval);
    }
  }
  for (UserIntervals& user : users) {
    auto found = by_agent.find(user.agent);
    if (found == by_agent.end()) continue;
    // Copied, not moved: scan.agents may name a user twice.
    user.intervals = found->second;
    std::stable_sort(user.intervals.begin(), user.intervals.end(),
                     [](const Interval& a, const Interval& b) {
                       return a.start != b.start ? a.start < b.start : a.id < b.id;
                     });
  }
  return users;
}

Status MemoryTimeStore::ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) {
  // The copy is the snapshot: commits made while the visitor runs are neither seen nor blocked.
  for (const UserIntervals& user : SnapshotScan(scan)) {
    if (!visitor.BeginUser(user.agent)) return Status::Ok();
    for (const Interval& interval : user.intervals) {
      if (!visitor.Add(interval)) return Status::Ok();
    }
  }
  return Status::Ok();
}

Result<SyncState> MemoryTimeStore::LoadSyncState(const std::string& target) {
  std::lock_guard lock(mutex_);
  SyncState state;
  auto found = sync_.find(target);
  if (found == sync_.end()) return state;
  state.done_through = found->second.done_through;
  for (const auto& [key, figure] : found->second.figures) state.figures.push_back(figure);
  std::stable_sort(state.figures.begin(), state.figures.end(),
                   [](const SyncedFigure& a, const SyncedFigure& b) {
                     return a.day != b.day ? a.day < b.day : a.key < b.key;
                   });
  return state;
}

Status MemoryTimeStore::SaveSyncState(const std::string& target,
                                      const std::vector<SyncedFigure>& figures,
                                      const std::optional<std::string>& done_through) {
  std::lock_guard lock(mutex_);
  SyncTarget& state = sync_[target];
  for (const SyncedFigure& figure : figures) state.figures[figure.key] = figure;
  if (done_through) {
    state.done_through = done_through;
    std::erase_if(state.figures,
                  [&](const auto& entry) { return entry.second.day <= *done_through; });
  }
  return Status::Ok();
}

Result<std::unique_ptr<AggregateSnapshot>> MemoryTimeStore::OpenAggregates() {
  return Error{"not_available", "the in-memory store keeps no report aggregates"};
}

}  // namespace presence::tracking
