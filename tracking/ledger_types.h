#pragma once

// What the ledger records. A Change is one transition of one user; applying it closes the
// user's open interval and opens the next at the same instant, so each user's time is
// continuous with no gaps or overlaps.

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "reasoncodes/source.h"
#include "reasoncodes/status_code.h"

namespace presence::tracking {

using reasoncodes::Source;
using reasoncodes::StatusCode;

struct Change {
  std::string agent;       // user id
  Timestamp at;            // must not be before the user's open interval started
  std::string from_label;  // empty for the first change of a user
  std::string label;
  std::string reason_code;
  StatusCode status = StatusCode::kOnline;
  Source source = Source::kSystem;
  std::string cause;  // the event that caused it: "select", "call_answered:c7", "wrap_up_end"
};

struct Interval {
  int64_t id = 0;  // increasing in commit order
  std::string agent;
  std::string label;
  std::string reason_code;
  StatusCode status = StatusCode::kOnline;
  Source source = Source::kSystem;
  std::string cause;
  Timestamp start;
  std::optional<Timestamp> end;  // nullopt while open
};

// The persisted part of a user's live state. engine_state is owned by the engine (pending
// choice, wrap-up deadline, active calls) and stored as opaque text.
struct AgentRecord {
  std::string agent;
  std::string engine_state;
};

// A user's current state as the store sees it: the open interval plus the engine's text.
struct StoredAgent {
  std::string agent;
  std::string engine_state;
  std::optional<Interval> open;  // nullopt if the user never had a change
};

// One change waiting to be delivered to one connector (the durable outbox). Written in the
// same transaction as the change itself, removed once delivered (or given up on).
struct OutboxItem {
  int64_t id = 0;         // unique over the ledger's life, increasing in commit order
  std::string connector;  // the connector's configured name
  Change change;
  // What the connector worked out for this change at commit time (Connector::Payload), in
  // its own text form; empty for most connectors.
  std::string payload;
};

// Outbox rows still waiting, in id order, and the highest id ever written (0 if none), so
// new ids never reuse one a remote system may already have seen.
struct OutboxState {
  std::vector<OutboxItem> items;
  int64_t last_id = 0;
};

// One group commit: changes in order, then the final engine state of each user touched, and
// the outbox rows the changes produced.
struct CommitBatch {
  std::vector<Change> changes;
  std::vector<AgentRecord> agents;
  std::vector<OutboxItem> outbox;
  bool empty() const { return changes.empty() && agents.empty() && outbox.empty(); }
};

// Time one user spent in one state within a range.
struct Total {
  std::string agent;
  std::string label;
  StatusCode status = StatusCode::kOnline;
  Millis duration{0};
};

struct TotalsQuery {
  Timestamp from;
  Timestamp to;                      // exclusive
  Timestamp now;                     // open intervals count up to min(now, to)
  std::optional<std::string> agent;  // one user, or all
};

// A streamed read of intervals (TimeStore::ScanIntervals).
struct IntervalScan {
  Timestamp from;
  Timestamp to;  // exclusive
  // The users to visit, in this order; empty: every user in the ledger, ordered by id.
  std::vector<std::string> agents;
};

// Receives a scan. For each user in turn: BeginUser (also for a user without any interval in
// the range), then that user's intervals in start-then-id order. Returning false stops the
// scan (the client went away); the scan then returns Ok.
class IntervalVisitor {
 public:
  virtual ~IntervalVisitor() = default;
  virtual bool BeginUser(const std::string& agent) = 0;
  virtual bool Add(const Interval& interval) = 0;
};

// A figure the CRM time-tracking sync has delivered (what the remote system acknowledged),
// kept so a restart sends only what changed and finishes the days that ended meanwhile.
struct SyncedFigure {
  std::string key;  // the remote record's external id
  std::string day;  // local date of the figure, "2026-11-21"
  Millis duration{0};
  bool final = false;  // sent after the day ended: the day's last word
};

// One sync target's progress: the last day whose final figures have all been delivered, and
// the delivered figures of the days after it.
struct SyncState {
  std::optional<std::string> done_through;  // "2026-11-20"; nullopt before the first full day
  std::vector<SyncedFigure> figures;        // ordered by day, then key
};

}  // namespace presence::tracking
