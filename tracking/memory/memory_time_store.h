#pragma once

// A TimeStore in plain containers. Every query is a straightforward scan of all intervals, which
// makes it the reference the SQLite store is tested against; it is not meant for long
// histories. One mutex guards everything, so the writer and readers may be on different threads.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tracking/time_store.h"

namespace presence::tracking {

class MemoryTimeStore final : public TimeStore {
 public:
  Status Commit(const CommitBatch& batch) override;
  Result<std::vector<StoredAgent>> LoadAgents() override;
  Result<std::vector<Interval>> Intervals(const std::optional<std::string>& agent, Timestamp from,
                                          Timestamp to) override;
  Result<std::vector<Total>> Totals(const TotalsQuery& query) override;
  Result<OutboxState> LoadOutbox() override;
  Status RemoveOutbox(const std::vector<int64_t>& ids) override;
  Status ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) override;
  // Always "not_available": every query here scans all intervals anyway, and so do its reports.
  Result<std::unique_ptr<AggregateSnapshot>> OpenAggregates() override;
  Result<SyncState> LoadSyncState(const std::string& target) override;
  Status SaveSyncState(const std::string& target, const std::vector<SyncedFigure>& figures,
                       const std::optional<std::string>& done_through) override;

 private:
  struct AgentEntry {
    std::string engine_state;
    std::optional<size_t> open;  // index into intervals_
  };

  // Checks the whole batch before anything changes, so a refused batch leaves no trace.
  Status Validate(const CommitBatch& batch) const;
  void Apply(const Change& change);

  struct SyncTarget {
    std::optional<std::string> done_through;
    std::map<std::string, SyncedFigure> figures;  // by key
  };
  // One user's part of a scan, copied under the lock so the visitor runs without it.
  struct UserIntervals {
    std::string agent;
    std::vector<Interval> intervals;
  };

  // The scan's snapshot: the users in visiting order with their intervals in the range.
  std::vector<UserIntervals> SnapshotScan(const IntervalScan& scan);

  std::mutex mutex_;
  std::vector<Interval> intervals_;  // in commit order; id = index + 1
  std::map<std::string, AgentEntry> agents_;
  std::map<int64_t, OutboxItem> outbox_;
  int64_t outbox_last_id_ = 0;
  std::map<std::string, SyncTarget> sync_;  // by target
};

// Everything in memory: for tests and for replay without --db.
std::unique_ptr<TimeStore> NewMemoryTimeStore();

}  // namespace presence::tracking
