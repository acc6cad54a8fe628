#include "agent/engine/engine.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/enum_names.h"

namespace presence::agent {
namespace {

using reasoncodes::ReturnAfterCall;
using reasoncodes::State;
using reasoncodes::StatusCode;

constexpr EnumNames<EventType, 9> kEventNames = {{
    {EventType::kSelect, "select"},
    {EventType::kCallStarted, "call_started"},
    {EventType::kCallAnswered, "call_answered"},
    {EventType::kCallEnded, "call_ended"},
    {EventType::kLogin, "login"},
    {EventType::kLogout, "logout"},
    {EventType::kOverride, "override"},
    {EventType::kWrapUpTimer, "wrap_up_timer"},
    {EventType::kMissedCallsTimer, "missed_calls_timer"},
}};

// Logged out or offline: calls are tracked but never change such a user's state (rule 10).
bool IsSignedOff(const State* state) {
  return state != nullptr &&
         (state->status == StatusCode::kLogout || state->status == StatusCode::kOffline);
}

std::string KnownLabels(const Catalog& catalog, bool selectable_only) {
  std::string text;
  for (const State& state : catalog.states()) {
    if (selectable_only && !state.selectable) continue;
    if (!text.empty()) text += ", ";
    text += "'" + state.label + "'";
  }
  return text;
}

}  // namespace

std::string_view EventTypeName(EventType type) { return kEventNames.Name(type); }

std::optional<EventType> EventTypeFromName(std::string_view name) { return kEventNames.Find(name); }

bool IsTimerEvent(EventType type) {
  return type == EventType::kWrapUpTimer || type == EventType::kMissedCallsTimer;
}

std::string_view DirectionName(Direction direction) {
  return direction == Direction::kOutbound ? "outbound" : "inbound";
}

Event WrapUpTimerEvent(const std::string& agent, Timestamp due) {
  return TimerEvent(EventType::kWrapUpTimer, agent, due);
}

Event TimerEvent(EventType type, const std::string& agent, Timestamp due) {
  Event event;
  event.type = type;
  event.agent = agent;
  event.due = due;
  return event;
}

Source DefaultSource(EventType type) {
  switch (type) {
    case EventType::kOverride:
      return Source::kSupervisor;
    case EventType::kCallStarted:
    case EventType::kCallAnswered:
    case EventType::kCallEnded:
      return Source::kPbx;
    case EventType::kWrapUpTimer:
      return Source::kWrapUp;
    case EventType::kMissedCallsTimer:
      return Source::kSystem;
    default:
      return Source::kAgent;
  }
}

// The work of one Handle call on one user's state.
struct Engine::Step {
  const Catalog& catalog;
  const Event& event;
  Timestamp now;
  AgentState& st;
  Outcome out;

  const reasoncodes::Settings& settings() const { return catalog.settings(); }
  const State* Current() const { return catalog.Find(st.label); }
  Source EventSource() const { return event.source.value_or(DefaultSource(event.type)); }
  std::string CallCause() const {
    return std::string(EventTypeName(event.type)) + ":" + event.call_id;
  }

  void Touch() { out.state_touched = true; }

  // Records a transition; the same label is not a change (no interval, nothing dialled).
  void ChangeTo(const State& to, Source source, std::string cause) {
    Touch();
    if (to.label == st.label) return;
    out.changes.push_back(tracking::Change{st.agent, now, st.label, to.label, to.reason_code,
                                           to.status, source, cause});
    st.label = to.label;
    st.since = now;
    st.source = source;
    st.cause = std::move(cause);
    st.missed_return_at.reset();  // rule 11: the return is only for the state it put them in
  }

  // Forgets pending choices, timers and the calls' claim on what follows them.
  void ClearPlans() {
    st.pending_label.reset();
    st.wrap_up_until.reset();
    st.missed_return_at.reset();
    ForgetOwedWrapUp();
    st.calls_own_state = false;
    st.call_qualified = false;
    st.resume_label.clear();
    Touch();
  }

  // Where calls (and their wrap-up) hand the user back when nothing is pending.
  const State& AfterCallState() const {
    if (settings().return_after_call == ReturnAfterCall::kPrevious) {
      const State* previous = catalog.Find(st.resume_label);
      if (previous != nullptr && previous != catalog.wrap_up() && previous != catalog.on_call() &&
          !IsSignedOff(previous)) {
        return *previous;
      }
    }
    return catalog.ready();
  }

  bool InLockedWrapUp() const { return settings().wrap_up_locked && st.wrap_up_until.has_value(); }

  bool InWrapUp() const {
    const State* wrap_up = catalog.wrap_up();
    return st.wrap_up_until.has_value() && wrap_up != nullptr && st.label == wrap_up->label;
  }

  // A call takes the agent out of a running wrap-up: what is left of it is owed, to run when
  // the calls end (rule 3). A wrap-up whose time is up owes nothing.
  void OweWrapUp() {
    if (!InWrapUp()) return;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*st.wrap_up_until - now);
    if (left <= std::chrono::milliseconds::zero()) return;
    st.owed_wrap_up = left;
    st.owed_cause = st.cause;
  }

  void ForgetOwedWrapUp() {
    st.owed_wrap_up.reset();
    st.owed_cause.clear();
  }

  bool Ended(const std::string& id) const {
    return std::find(st.ended_calls.begin(), st.ended_calls.end(), id) != st.ended_calls.end();
  }

  void RememberEnded(const std::string& id) {
    st.ended_calls.push_back(id);
    if (st.ended_calls.size() > kRecentCalls) st.ended_calls.erase(st.ended_calls.begin());
  }

  // Calls the agent is busy with: answered, or dialled out. A call that only rings is not.
  bool Engaged() const {
    return std::any_of(st.calls.begin(), st.calls.end(), [](const ActiveCall& call) {
      return call.answered.has_value() || call.direction == Direction::kOutbound;
    });
  }

  // Drops calls whose end the feed must have lost, so they cannot hold the state forever.
  void DropStaleCalls() {
    auto stale = [&](const ActiveCall& call) { return now - call.started > kMaxCallAge; };
    if (std::none_of(st.calls.begin(), st.calls.end(), stale)) return;
    std::erase_if(st.calls, stale);
    Touch();
    if (st.calls.empty()) {
      st.calls_own_state = false;
      st.call_qualified = false;
    }
  }

  ActiveCall* FindCall(const std::string& id) {
    for (ActiveCall& call : st.calls) {
      if (call.id == id) return &call;
    }
    return nullptr;
  }

  // A new group of overlapping calls begins: remember whether the calls may steer the state.
  void BeginGroup() {
    st.calls_own_state = !IsSignedOff(Current());
    st.call_qualified = false;
    // During wrap-up the state to come back to is still the one before the earlier call.
    if (!(st.wrap_up_until.has_value() && !st.resume_label.empty())) st.resume_label = st.label;
  }

  ActiveCall& AddCall() {
    // Rule 11: offered from outside while Ready, and not while busy with another call.
    const bool counts = settings().missed_calls.has_value() &&
                        event.direction == Direction::kInbound && !event.internal &&
                        st.label == catalog.ready().label && !Engaged();
    if (st.calls.empty()) BeginGroup();
    st.calls.push_back(ActiveCall{event.call_id, event.direction, event.internal, now, {}, counts});
    Touch();
    return st.calls.back();
  }

  // Rule 11: the agent has shown they are there (an answered call, their own change of state):
  // the count starts again, and calls ringing now no longer count.
  void ResetMissedCount() {
    if (st.missed_calls != 0) Touch();
    st.missed_calls = 0;
    for (ActiveCall& call : st.calls) {
      if (call.counts_if_missed) Touch();
      call.counts_if_missed = false;
    }
  }

  void CancelMissedReturn() {
    if (!st.missed_return_at) return;
    st.missed_return_at.reset();
    Touch();
  }

  // Rule 11: a call offered while Ready only rang. At `after` in a row the agent is moved out
  // of the queue's way, and with return_after_seconds a timer brings them back.
  void CountMissed() {
    const State* target = catalog.missed_calls_state();
    if (!settings().missed_calls || target == nullptr || IsSignedOff(Current()) ||
        st.label != catalog.ready().label) {
      return;
    }
    const reasoncodes::MissedCalls& missed = *settings().missed_calls;
    ++st.missed_calls;
    Touch();
    if (st.missed_calls < missed.after) return;
    ResetMissedCount();
    ChangeTo(*target, Source::kCall, "missed_calls:" + std::to_string(missed.after));
    if (missed.return_after_seconds > 0) {
      st.missed_return_at = now + std::chrono::seconds(missed.return_after_seconds);
      out.missed_calls_timer = st.missed_return_at;
    }
  }

  // Rule 11: back to Ready, if still in the state the missed calls put them in (any change of
  // state since then cleared missed_return_at).
  void MissedCallsTimer() {
    if (!st.missed_return_at || *st.missed_return_at != event.due) return;  // stale timer
    st.missed_return_at.reset();
    Touch();
    ChangeTo(catalog.ready(), Source::kSystem, "missed_calls_return");
    // Calls still going come back, when they end, to Ready rather than to the missed state.
    if (!st.resume_label.empty()) st.resume_label = st.label;
  }

  void Select(const State& target) {
    // Rule 11: the agent's own choice (even of the current state) starts the count again and
    // cancels a pending return: choosing the missed-calls state again means staying there.
    ResetMissedCount();
    CancelMissedReturn();
    const bool calls_steer = !st.calls.empty() && st.calls_own_state;
    if ((calls_steer && Engaged()) || InLockedWrapUp()) {
      st.pending_label = target.label;  // rule 6: applied when the call or wrap-up ends
      st.pending_source = EventSource();
      Touch();
      return;
    }
    // Rule 1: the current label makes no new interval. During a timed wrap-up it still counts
    // as a choice: the agent stays, and the timer must not take them away (rule 4).
    const bool changed = target.label != st.label;
    if (!changed && !st.wrap_up_until && !st.pending_label) return;
    ChangeTo(target, EventSource(), "select");
    st.wrap_up_until.reset();
    st.pending_label.reset();
    ForgetOwedWrapUp();
    if (calls_steer) {
      // Chosen while a call only rings: it stands now, and also after the call if answered.
      st.pending_label = target.label;
      st.pending_source = EventSource();
    } else {
      st.resume_label.clear();
    }
  }

  void Override(const State& target) {
    ResetMissedCount();
    ClearPlans();  // rule 7
    ChangeTo(target, EventSource(), "override");
  }

  void CallStarted() {
    // A repeated start is the same call; a start after the end is a late duplicate.
    if (FindCall(event.call_id) != nullptr || Ended(event.call_id)) return;
    const State* current = Current();
    if (event.direction == Direction::kOutbound && current != nullptr &&
        current->status == StatusCode::kDnd) {
      // Rule 5 (seed 004): dialling out from DND first returns the agent to Ready.
      ChangeTo(catalog.ready(), Source::kCall, "dial_out:" + event.call_id);
      st.wrap_up_until.reset();
      st.resume_label.clear();
    }
    AddCall();
  }

  void CallAnswered() {
    if (Ended(event.call_id)) return;  // arrived after the end: too late to matter
    ActiveCall* call = FindCall(event.call_id);
    if (call == nullptr) call = &AddCall();  // the feed missed the start
    if (!call->answered) call->answered = now;
    Touch();
    ResetMissedCount();  // rule 11: any answered call
    const State* on_call = catalog.on_call();
    if (settings().active_call_state && st.calls_own_state && on_call != nullptr) {
      OweWrapUp();                                     // rule 3: taken out of a wrap-up
      ChangeTo(*on_call, Source::kCall, CallCause());  // rule 2; a running wrap-up ends
      st.wrap_up_until.reset();
    }
  }

  void CallEnded() {
    if (Ended(event.call_id)) return;  // a repeated end
    RememberEnded(event.call_id);
    bool internal = event.internal;
    double duration = event.duration_s.value_or(0.0);
    bool engaged = true;  // a complete call reported only at its end (rule 8) was a real call
    bool answered = false;
    bool counts_if_missed = false;
    ActiveCall* call = FindCall(event.call_id);
    if (call != nullptr) {
      internal = internal || call->internal;
      answered = call->answered.has_value();
      counts_if_missed = call->counts_if_missed;
      engaged = call->answered.has_value() || call->direction == Direction::kOutbound;
      if (!event.duration_s && call->answered) {
        duration = std::chrono::duration<double>(now - *call->answered).count();
      }
      st.calls.erase(st.calls.begin() + (call - st.calls.data()));
    } else if (st.calls.empty()) {
      BeginGroup();
    }
    Touch();
    const bool qualifies = duration > 0 && !internal;  // rule 3
    if (qualifies) st.call_qualified = true;
    // Rule 11: a call with a length was answered, even if the feed did not say so at the time.
    if (duration > 0 && !answered) ResetMissedCount();
    // A feed that reports a length but no answer still describes a real call.
    if (!engaged && duration <= 0) {
      RingEnded();
      if (counts_if_missed) CountMissed();
      return;
    }
    if (!Engaged()) FinishCalls();
  }

  // A call that only rang ended: it starts, restarts and extends nothing (rule 3).
  void RingEnded() {
    if (!st.calls.empty()) return;  // the group goes on
    st.calls_own_state = false;
    st.call_qualified = false;
    if (st.wrap_up_until) return;  // a running wrap-up keeps its plans and its end
    // A choice made while it rang already stands; nothing is left to follow the call.
    if (st.pending_label && *st.pending_label == st.label) st.pending_label.reset();
    st.resume_label.clear();
  }

  // No call the agent is engaged in remains (calls that only ring may): wrap-up (earned by a
  // qualifying call, or owed because a call took the agent out of one), the pending choice,
  // or back from On a call.
  void FinishCalls() {
    const bool owns = st.calls_own_state;
    const bool qualified = st.call_qualified;
    const std::optional<std::chrono::milliseconds> owed = st.owed_wrap_up;
    const std::string owed_cause = st.owed_cause;
    ForgetOwedWrapUp();
    st.call_qualified = false;
    if (st.calls.empty()) st.calls_own_state = false;
    if (!owns || IsSignedOff(Current())) return;
    const State* wrap_up = catalog.wrap_up();
    if ((qualified || owed) && settings().wrap_up_seconds > 0 && wrap_up != nullptr) {
      ChangeTo(*wrap_up, Source::kWrapUp, qualified ? CallCause() : owed_cause);
      st.wrap_up_until =
          now + (qualified
                     ? std::chrono::milliseconds(std::chrono::seconds(settings().wrap_up_seconds))
                     : *owed);
      out.timer = st.wrap_up_until;
      return;
    }
    if (InLockedWrapUp()) return;  // an earlier wrap-up goes on; the choice waits for its end
    if (ApplyPending(CallCause())) return;
    const State* on_call = catalog.on_call();
    if (on_call != nullptr && st.label == on_call->label) {
      ChangeTo(AfterCallState(), Source::kCall, CallCause());
    }
    if (!st.wrap_up_until) st.resume_label.clear();
  }

  // Applies the pending choice if there is one that still exists in the catalog.
  bool ApplyPending(const std::string& cause) {
    if (!st.pending_label) return false;
    const State* target = catalog.Find(*st.pending_label);
    st.pending_label.reset();
    Touch();
    if (target == nullptr) return false;  // removed by a catalog reload
    ChangeTo(*target, st.pending_source, cause);
    st.wrap_up_until.reset();
    st.resume_label.clear();
    return true;
  }

  void WrapUpTimer() {
    if (!st.wrap_up_until || *st.wrap_up_until != event.due) return;  // rule 4: stale timer
    st.wrap_up_until.reset();
    Touch();
    const State* wrap_up = catalog.wrap_up();
    if (wrap_up == nullptr || st.label != wrap_up->label) return;
    const bool calls_go_on = Engaged() && st.calls_own_state;
    if (!calls_go_on && ApplyPending("wrap_up_end")) return;
    ChangeTo(AfterCallState(), Source::kWrapUp, "wrap_up_end");
    // Calls that still ring come back, if answered, to the state the wrap-up handed over.
    if (!calls_go_on) st.resume_label = st.calls.empty() ? std::string() : st.label;
  }

  void Login() {
    ResetMissedCount();  // rule 11
    const State* current = Current();
    if (current != nullptr && !IsSignedOff(current)) return;  // already signed in: keep the state
    ClearPlans();
    ChangeTo(catalog.login(), EventSource(), "login");
  }

  void Logout() {
    ResetMissedCount();  // rule 11
    ClearPlans();
    ChangeTo(catalog.logout(), EventSource(), "logout");
  }

  void Run(const State* target) {
    if (st.last_event != now) {
      st.last_event = now;
      Touch();
    }
    DropStaleCalls();
    switch (event.type) {
      case EventType::kSelect:
        return Select(*target);
      case EventType::kOverride:
        return Override(*target);
      case EventType::kCallStarted:
        return CallStarted();
      case EventType::kCallAnswered:
        return CallAnswered();
      case EventType::kCallEnded:
        return CallEnded();
      case EventType::kLogin:
        return Login();
      case EventType::kLogout:
        return Logout();
      case EventType::kWrapUpTimer:
        return WrapUpTimer();
      case EventType::kMissedCallsTimer:
        return MissedCallsTimer();
    }
  }
};

Engine::Engine(std::shared_ptr<const Catalog> catalog) : catalog_(std::move(catalog)) {}

namespace {

// Checks an event's own fields against the catalog; returns the target state for
// select/override (nullptr for other types).
Result<const State*> Validate(const Catalog& catalog, const Event& event) {
  if (event.agent.empty()) return Error{"missing_field", "agent: a user id is required"};
  const bool wants_label = event.type == EventType::kSelect || event.type == EventType::kOverride;
  const bool is_call = event.type == EventType::kCallStarted ||
                       event.type == EventType::kCallAnswered ||
                       event.type == EventType::kCallEnded;
  if (is_call && event.call_id.empty()) {
    return Error{"missing_field", std::string(EventTypeName(event.type)) +
                                      ": call_id is required (any text naming the call)"};
  }
  if (event.call_id.size() > kMaxCallIdBytes) {
    return Error{"too_long", "call_id: at most " + std::to_string(kMaxCallIdBytes) +
                                 " bytes; this one has " + std::to_string(event.call_id.size())};
  }
  if (event.label.size() > kMaxLabelBytes) {
    return Error{"too_long", "label: at most " + std::to_string(kMaxLabelBytes) +
                                 " bytes; this one has " + std::to_string(event.label.size())};
  }
  if (event.duration_s && (!std::isfinite(*event.duration_s) || *event.duration_s < 0)) {
    return Error{"invalid_value", "duration_s: must be a number of seconds >= 0"};
  }
  if (!wants_label) return static_cast<const State*>(nullptr);
  if (event.label.empty()) {
    return Error{"missing_field", "label: the state to change to is required"};
  }
  const State* target = catalog.Find(event.label);
  const bool selecting = event.type == EventType::kSelect;
  if (target == nullptr) {
    return Error{"unknown_label", "no state labelled '" + event.label +
                                      "'; known: " + KnownLabels(catalog, selecting)};
  }
  if (selecting && !target->selectable) {
    return Error{"not_selectable", "'" + event.label +
                                       "' is set by the agent process, not picked; selectable: " +
                                       KnownLabels(catalog, true)};
  }
  return target;
}

// Whether the event would add one call more than kMaxActiveCalls (calls the stale-call rule
// is about to drop do not count).
bool AddsCallOverLimit(const AgentState& state, const Event& event, Timestamp now) {
  if (event.type != EventType::kCallStarted && event.type != EventType::kCallAnswered) {
    return false;
  }
  size_t live = 0;
  for (const ActiveCall& call : state.calls) {
    if (call.id == event.call_id) return false;  // an event of a call it already has
    if (now - call.started <= kMaxCallAge) ++live;
  }
  const bool ended = std::find(state.ended_calls.begin(), state.ended_calls.end(), event.call_id) !=
                     state.ended_calls.end();
  return !ended && live >= kMaxActiveCalls;
}

}  // namespace

Result<Outcome> Engine::Handle(const Event& event, Timestamp now) {
  Result<const State*> target = Validate(*catalog_, event);
  if (!target.ok()) return target.error();
  auto it = agents_.find(event.agent);
  if (it != agents_.end() &&
      now < std::max(it->second.state->since, it->second.state->last_event)) {
    return Error{"time_went_backwards",
                 "event at " + FormatTime(now) + " is before the user's last event at " +
                     FormatTime(std::max(it->second.state->since, it->second.state->last_event))};
  }
  if (it != agents_.end() && AddsCallOverLimit(*it->second.state, event, now)) {
    return Error{"too_many_calls",
                 "user '" + event.agent + "' already has " + std::to_string(kMaxActiveCalls) +
                     " active calls (the most a user may have); end one with call_ended first"};
  }
  Outcome first_sight;
  if (it == agents_.end()) {
    if (IsTimerEvent(event.type)) return Outcome{};  // nothing to time out
    const State& initial = catalog_->initial();
    AgentState fresh;
    fresh.agent = event.agent;
    fresh.label = initial.label;
    fresh.since = now;
    fresh.source = Source::kSystem;
    fresh.cause = "first_seen";
    first_sight.changes.push_back(tracking::Change{event.agent, now, "", initial.label,
                                                   initial.reason_code, initial.status,
                                                   Source::kSystem, "first_seen"});
    it = agents_.emplace(event.agent, Entry{std::make_shared<AgentState>(std::move(fresh))}).first;
  }
  Step step{*catalog_, event, now, Own(it->second), std::move(first_sight)};
  step.Run(*target);
  if (!step.out.changes.empty()) step.out.state_touched = true;
  return std::move(step.out);
}

const AgentState* Engine::Find(const std::string& agent) const {
  auto it = agents_.find(agent);
  return it == agents_.end() ? nullptr : it->second.state.get();
}

std::vector<std::string> Engine::AgentIds() const {
  std::vector<std::string> ids;
  ids.reserve(agents_.size());
  for (const auto& [agent, entry] : agents_) ids.push_back(agent);
  return ids;
}

AgentState& Engine::Own(Entry& entry) {
  if (entry.shared) {
    entry.state = std::make_shared<AgentState>(*entry.state);
    entry.shared = false;
  }
  return *entry.state;
}

std::shared_ptr<const AgentState> Engine::Share(const std::string& agent,
                                                const std::function<void(AgentState&)>& decorate) {
  auto it = agents_.find(agent);
  if (it == agents_.end()) return nullptr;
  decorate(Own(it->second));
  it->second.shared = true;
  return it->second.state;
}

void Engine::Restore(AgentState state) {
  std::string key = state.agent;
  agents_[key] = Entry{std::make_shared<AgentState>(std::move(state))};
}

}  // namespace presence::agent
