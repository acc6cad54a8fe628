#pragma once

// The presence engine: Handle(event, now) -> changes + timer requests. Pure and
// deterministic: no I/O, no clock reads, the same events at the same times give the same
// states. It owns every user's live state; only the core thread calls it.
//
// Rules (each is a table test in tests/agent/engine/engine_test.cc):
//  1. select: a known label changes the state; an unknown one is an error that changes
//     nothing; the current label changes nothing.
//  2. With active_call_state, an answered call sets On a call; after the last active call the
//     agent returns to Ready (or the state before the calls, with return_after_call=previous).
//  3. A call that lasted > 0 s and was not internal starts wrap-up when it ends (the last of
//     overlapping calls the agent is engaged in, if any qualified): the wrap-up state until
//     now + wrap_up_seconds. A call that only rang (inbound, never answered, no duration) or
//     an internal call never starts, restarts or extends a wrap-up, whenever it begins or ends.
//     A wrap-up is owed only when a call actually took the agent out of it (answered into
//     On a call before its time was up); what was left of it then runs after the calls end.
//     Once a wrap-up has run its time, nothing more is owed.
//  4. The wrap-up timer acts only if the state is still the wrap-up it started.
//  5. Dialling out from a DND-status state first returns the agent to Ready.
//  6. select during an answered or outbound call (or a locked wrap-up) becomes the pending next
//     state; during a call that only rings it applies at once and also follows the call.
//  7. override applies at once and clears pending state and timers.
//  8. call_ended with no start is a complete call.
//  9. login sets the login state (only when logged out or offline); logout the logout state;
//     a user first seen starts in the initial state at its first event.
// 10. Calls of a user who is logged out (status 7) or offline (status 2) are tracked but never
//     change the state: no On a call, no wrap-up, no return to Ready.
// 11. With settings.missed_calls: an inbound, non-internal call that began while the user was
//     in the ready state (and not busy with another call) and ended having only rung counts as
//     missed; an answered call, a call reported with a length, and a select, override, login or
//     logout start the count again (calls still ringing then no longer count). At `after` in a
//     row the user moves to the missed-calls state (source call, cause "missed_calls:<after>")
//     and the count restarts; with return_after_seconds the missed-calls timer takes them back
//     to Ready (source system, cause "missed_calls_return") only if they are still in the state
//     it put them in: any change of state in between cancels it (as in rule 4).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "reasoncodes/action_mismatch.h"
#include "reasoncodes/catalog.h"
#include "reasoncodes/source.h"
#include "tracking/ledger_types.h"

namespace presence::agent {

using reasoncodes::Catalog;
using reasoncodes::Source;

enum class EventType {
  kSelect,        // a picklist choice (label, source)
  kCallStarted,   // call_id, direction, internal
  kCallAnswered,  // call_id
  kCallEnded,     // call_id, duration_s (optional), internal
  kLogin,
  kLogout,
  kOverride,          // a supervisor's choice (label)
  kWrapUpTimer,       // the wrap-up timer armed for `due`
  kMissedCallsTimer,  // the missed-calls return armed for `due` (rule 11)
};
// "select", "call_started", ..., "wrap_up_timer", "missed_calls_timer"
std::string_view EventTypeName(EventType type);
std::optional<EventType> EventTypeFromName(std::string_view name);
// The timers' own events, which only the agent's timer queue posts, never a client.
bool IsTimerEvent(EventType type);

enum class Direction { kInbound, kOutbound };
std::string_view DirectionName(Direction direction);

struct Event {
  EventType type = EventType::kSelect;
  std::string agent;
  std::string label;             // select, override
  std::optional<Source> source;  // who sent it; defaults per type (see DefaultSource)
  std::string call_id;           // call events
  Direction direction = Direction::kInbound;
  bool internal = false;
  std::optional<double> duration_s;  // call_ended: the call's length if the feed knows it
  Timestamp due{};                   // timer events: the deadline it was armed for
};

// The event a wrap-up timer posts when it fires.
Event WrapUpTimerEvent(const std::string& agent, Timestamp due);
// The event a timer of this type (kWrapUpTimer, kMissedCallsTimer) posts when it fires.
Event TimerEvent(EventType type, const std::string& agent, Timestamp due);

// agent for select/login/logout, supervisor for override, pbx for call events,
// wrap_up for the wrap-up timer, system for the missed-calls timer.
Source DefaultSource(EventType type);

struct ActiveCall {
  std::string id;
  Direction direction = Direction::kInbound;
  bool internal = false;
  Timestamp started{};
  std::optional<Timestamp> answered;
  bool counts_if_missed = false;  // rule 11: offered while Ready; counts if it only rings
};

// One user's live state. Persisted (see SerializeEngineState) so a restart resumes exactly.
struct AgentState {
  std::string agent;
  std::string label;  // current state
  Timestamp since{};
  Source source = Source::kSystem;
  std::string cause;

  std::vector<ActiveCall> calls;
  // About the current group of overlapping calls:
  bool calls_own_state = false;  // the calls decide what follows them (off after override etc.)
  bool call_qualified = false;   // an ended call of the group qualifies for wrap-up
  std::string resume_label;      // the state when the group began (return_after_call=previous)

  std::optional<std::string> pending_label;  // rule 6
  Source pending_source = Source::kAgent;
  std::optional<Timestamp> wrap_up_until;  // set while in a timed wrap-up
  // A wrap-up a call took the agent out of before its time was up (rule 3): what was left of
  // it, and the cause of the wrap-up (the qualifying call's end), to run when the calls end.
  std::optional<std::chrono::milliseconds> owed_wrap_up;
  std::string owed_cause;

  // Ids of calls that ended lately (newest last, at most kRecentCalls): a late or repeated
  // event for one of them is ignored instead of starting a phantom call.
  std::vector<std::string> ended_calls;
  Timestamp last_event{};  // the newest event applied; events may not go back before it

  // Rule 11: calls in a row that only rang while Ready, and when the missed-calls state the
  // user was put in returns them to Ready (cleared by any change of state).
  int missed_calls = 0;
  std::optional<Timestamp> missed_return_at;

  // Not the engine's: what the connectors last reported of the phone system differing from
  // the state's actions (Core::ReportPbx). The core adds it to the views it publishes; it is
  // not stored (connectors read the PBX back again after a restart).
  std::vector<reasoncodes::ActionMismatch> pbx_mismatches;

  // Not the engine's either: today's use of the states with a daily budget (Core::View), in
  // catalog order; empty when no state has one. See agent_view.h, "budgets".
  struct BudgetUse {
    std::string label;
    int budget_seconds = 0;
    Millis used{0};                           // today, before counting_since
    std::optional<Timestamp> counting_since;  // while in this state
  };
  std::vector<BudgetUse> budgets;
  Timestamp budget_day_ends{};
};

// How many ended call ids a user remembers, and how old an active call may grow before it is
// taken for one whose end the feed lost.
inline constexpr size_t kRecentCalls = 32;
inline constexpr std::chrono::hours kMaxCallAge{12};
// Sizes a client controls are bounded (a hostile feed must not grow a user without limit):
// active calls per user (hold, consult, conference and call waiting fit easily), and the
// bytes of a call id or a label.
inline constexpr size_t kMaxActiveCalls = 16;
inline constexpr size_t kMaxCallIdBytes = 256;
inline constexpr size_t kMaxLabelBytes = 256;

struct Outcome {
  std::vector<tracking::Change> changes;        // in order; empty when nothing changed
  std::optional<Timestamp> timer;               // arm a kWrapUpTimer for this user at this time
  std::optional<Timestamp> missed_calls_timer;  // arm a kMissedCallsTimer (rule 11)
  bool state_touched = false;  // the persisted AgentState changed (calls, pending...)
};

class Engine {
 public:
  explicit Engine(std::shared_ptr<const Catalog> catalog);

  // Applies one event at `now`. Errors (nothing changes): "unknown_label", "not_selectable",
  // "missing_field", "too_long" (call id or label over its bound), "too_many_calls" (a new
  // call while kMaxActiveCalls are active), "time_went_backwards" (now is before the user's
  // last event).
  // Late or repeated call events (for a call that already ended) are accepted and ignored.
  Result<Outcome> Handle(const Event& event, Timestamp now);

  const AgentState* Find(const std::string& agent) const;
  // Every user the engine knows, in no particular order.
  std::vector<std::string> AgentIds() const;
  size_t size() const { return agents_.size(); }

  // The user's state to publish, shared with the engine rather than copied, so each user's
  // state is held once however many readers keep it. `decorate` first sets the members that
  // are not the engine's (budgets, the PBX's reports) on it. A shared state never changes
  // again: the engine copies it before the user's next event, so readers may keep it on any
  // thread. nullptr for a user the engine does not know.
  std::shared_ptr<const AgentState> Share(const std::string& agent,
                                          const std::function<void(AgentState&)>& decorate);
  const Catalog& catalog() const { return *catalog_; }

  // Start-up: puts back a user's state as it was stored.
  void Restore(AgentState state);
  // Reload: new events use the new catalog; users keep their current labels.
  void SetCatalog(std::shared_ptr<const Catalog> catalog) { catalog_ = std::move(catalog); }

 private:
  struct Step;  // the work of one Handle call
  friend struct Step;

  struct Entry {
    std::shared_ptr<AgentState> state;
    bool shared = false;  // handed out by Share: copied before it changes
  };
  // The state of `entry`, copied first if it was shared.
  static AgentState& Own(Entry& entry);

  std::shared_ptr<const Catalog> catalog_;
  std::unordered_map<std::string, Entry> agents_;
};

}  // namespace presence::agent
