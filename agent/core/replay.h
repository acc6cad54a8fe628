#pragma once

// Replay: runs a recorded day (JSON lines, one event each, with its own time) through the
// engine and the ledger, the events' times as the clock. Wrap-up timers fire at their due
// time between events. Bad lines are reported with their number and do not stop the rest.
// Also a what-if tool: replay last Tuesday with another catalog (say a 30 s wrap-up).

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine/engine.h"
#include "tracking/time_store.h"

namespace presence::agent {

struct LineError {
  int line = 0;
  Error error;
};

struct ReplayReport {
  std::vector<tracking::Change> transitions;
  std::vector<tracking::Total> totals;  // from the first event to `until`
  std::vector<LineError> errors;
  int events = 0;                 // lines applied
  int skipped_after_until = 0;    // lines later than --until
  std::optional<Timestamp> from;  // first event
  std::optional<Timestamp> until;
};

struct ReplayOptions {
  std::optional<Timestamp> until;  // default: the last event's time
  size_t batch_events = 1000;      // events per ledger transaction
};

// Users already in the store continue from their stored state (replaying the next day into
// the same database). Fails only when the store does.
Result<ReplayReport> Replay(std::shared_ptr<const Catalog> catalog, std::istream& lines,
                            tracking::TimeStore& store, const ReplayOptions& options);

}  // namespace presence::agent
