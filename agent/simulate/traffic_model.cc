#include "agent/simulate/traffic_model.h"

#include <Poco/JSON/Object.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "common/poco_json.h"

namespace presence::agent {
namespace {

// Simulated seconds. Ready agents get a call or make a choice within this gap.
constexpr double kIdleLow = 10, kIdleHigh = 90;
// After a call ends: the pause (wrap-up on the agent, notes) before the next action.
constexpr double kAfterCallLow = 15, kAfterCallHigh = 60;
constexpr double kInboundRingLow = 2, kInboundRingHigh = 15;
constexpr double kOutboundRingLow = 3, kOutboundRingHigh = 20;
constexpr double kTalkLow = 30, kTalkHigh = 300;
constexpr double kLoggedOutLow = 120, kLoggedOutHigh = 900;

constexpr double kInboundAnswered = 0.85;   // the rest only rang
constexpr double kOutboundAnswered = 0.80;  // the rest were not picked up
constexpr double kInternal = 0.10;
constexpr double kChoiceDuringCall = 0.06;  // e.g. Lunch chosen while still talking
constexpr double kOutboundFromDnd = 0.40;   // a DND stretch ends with a dial-out, not Ready

bool ContainsNoCase(const std::string& text, std::string_view word) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find(word) != std::string::npos;
}

std::string Stringify(const Poco::JSON::Object& object) { return json::JsonText(object); }

}  // namespace

Result<SimPicklist> MakeSimPicklist(const std::vector<SimState>& states) {
  SimPicklist picklist;
  for (const SimState& state : states) {
    if (!state.selectable) continue;
    if (state.status == 1 && picklist.ready.empty()) picklist.ready = state.label;
    if (state.status == 4) picklist.dnd.push_back(state.label);
    if (state.status == 3) picklist.away.push_back(state.label);
    if (state.status == 5) picklist.busy.push_back(state.label);
  }
  if (picklist.ready.empty()) {
    return Error{"no_ready_state", "the catalog has no selectable state of status 1 (Online)"};
  }
  return picklist;
}

SimRequest RequestFor(const Event& event) {
  std::string id;
  Poco::URI::encode(event.agent, "/?#%", id);
  SimRequest request;
  Poco::JSON::Object body;
  if (event.type == EventType::kSelect) {
    request.method = "PUT";
    request.path = "/api/v1/agents/" + id + "/state";
    body.set("label", event.label);
    request.body = Stringify(body);
    return request;
  }
  request.method = "POST";
  request.path = "/api/v1/agents/" + id + "/events";
  body.set("type", std::string(EventTypeName(event.type)));
  if (!event.label.empty()) body.set("label", event.label);
  if (!event.call_id.empty()) body.set("call_id", event.call_id);
  if (event.type == EventType::kCallStarted) {
    body.set("direction", std::string(DirectionName(event.direction)));
    body.set("internal", event.internal);
  }
  if (event.duration_s) body.set("duration_s", static_cast<int>(std::lround(*event.duration_s)));
  request.body = Stringify(body);
  return request;
}

TrafficModel::TrafficModel(std::vector<std::string> agents, SimPicklist picklist, uint64_t seed,
                           std::string call_prefix)
    : picklist_(std::move(picklist)), random_(seed), call_prefix_(std::move(call_prefix)) {
  for (size_t i = 0; i < agents.size(); ++i) {
    agents_.push_back(Agent{.id = std::move(agents[i])});
    queue_.push({Uniform(0, 10), i});  // everyone logs in within the first seconds
  }
}

double TrafficModel::Uniform(double low, double high) {
  // 53 random bits make a double in [0, 1); std::uniform_real_distribution is not the same
  // on every standard library, this is.
  double unit = static_cast<double>(random_() >> 11) * 0x1.0p-53;
  return low + (high - low) * unit;
}

const std::string& TrafficModel::Pick(const std::vector<std::string>& labels) {
  size_t i = static_cast<size_t>(Uniform(0, static_cast<double>(labels.size())));
  return labels[std::min(i, labels.size() - 1)];
}

double TrafficModel::ChosenLength(const std::string& label, bool dnd) {
  if (dnd) return Uniform(120, 600);
  if (ContainsNoCase(label, "lunch")) return Uniform(1800, 3600);
  if (ContainsNoCase(label, "break")) return Uniform(300, 900);
  return Uniform(600, 1800);  // meetings, training, back office
}

SimAction TrafficModel::Next() {
  auto [at, index] = queue_.top();
  queue_.pop();
  now_s_ = at;
  SimAction action{.at_s = at};
  action.event.agent = agents_[index].id;
  queue_.push({Step(agents_[index], action.event), index});
  return action;
}

std::vector<SimAction> TrafficModel::EndCalls() {
  std::vector<SimAction> actions;
  for (Agent& agent : agents_) {
    if (agent.phase != Phase::kRinging && agent.phase != Phase::kTalking) continue;
    SimAction action{.at_s = now_s_};
    action.event =
        Event{.type = EventType::kCallEnded, .agent = agent.id, .call_id = agent.call_id};
    if (agent.phase == Phase::kTalking) {
      action.event.duration_s = std::max(1.0, std::round(now_s_ - agent.answered_at));
    }
    actions.push_back(std::move(action));
    agent.phase = Phase::kReady;
    agent.pending.reset();
  }
  return actions;
}

double TrafficModel::Step(Agent& agent, Event& event) {
  switch (agent.phase) {
    case Phase::kLoggedOut:
      return FromLoggedOut(agent, event);
    case Phase::kReady:
      return FromReady(agent, event);
    case Phase::kChosen:
      return FromChosen(agent, event);
    case Phase::kRinging:
      return FromRinging(agent, event);
    case Phase::kTalking:
      return FromTalking(agent, event);
  }
  return now_s_;
}

double TrafficModel::FromLoggedOut(Agent& agent, Event& event) {
  event.type = EventType::kLogin;
  agent.phase = Phase::kReady;
  return now_s_ + Uniform(kIdleLow, kIdleHigh);
}

double TrafficModel::FromReady(Agent& agent, Event& event) {
  // Relative weights of what a Ready agent does next; a role the catalog lacks weighs 0.
  const double inbound = 60, outbound = 15, logout = 2;
  const double away = picklist_.away.empty() ? 0 : 6;
  const double busy = picklist_.busy.empty() ? 0 : 4;
  const double dnd = picklist_.dnd.empty() ? 0 : 6;
  double draw = Uniform(0, inbound + outbound + logout + away + busy + dnd);
  if ((draw -= inbound) < 0) return StartCall(agent, event, Direction::kInbound);
  if ((draw -= outbound) < 0) return StartCall(agent, event, Direction::kOutbound);
  if ((draw -= away) < 0) return Choose(agent, event, Pick(picklist_.away), false);
  if ((draw -= busy) < 0) return Choose(agent, event, Pick(picklist_.busy), false);
  if ((draw -= dnd) < 0) return Choose(agent, event, Pick(picklist_.dnd), true);
  event.type = EventType::kLogout;
  agent.phase = Phase::kLoggedOut;
  return now_s_ + Uniform(kLoggedOutLow, kLoggedOutHigh);
}

double TrafficModel::FromChosen(Agent& agent, Event& event) {
  // Dialling out from DND: the engine itself first returns the agent to Ready (rule 5).
  if (agent.in_dnd && Chance(kOutboundFromDnd)) {
    return StartCall(agent, event, Direction::kOutbound);
  }
  event.type = EventType::kSelect;
  event.label = picklist_.ready;
  agent.phase = Phase::kReady;
  return now_s_ + Uniform(kIdleLow, kIdleHigh);
}

double TrafficModel::StartCall(Agent& agent, Event& event, Direction direction) {
  bool inbound = direction == Direction::kInbound;
  agent.phase = Phase::kRinging;
  agent.call_id = call_prefix_ + "-" + std::to_string(++calls_);
  agent.will_answer = Chance(inbound ? kInboundAnswered : kOutboundAnswered);
  agent.pending.reset();
  event.type = EventType::kCallStarted;
  event.call_id = agent.call_id;
  event.direction = direction;
  event.internal = Chance(kInternal);
  return now_s_ + (inbound ? Uniform(kInboundRingLow, kInboundRingHigh)
                           : Uniform(kOutboundRingLow, kOutboundRingHigh));
}

double TrafficModel::Choose(Agent& agent, Event& event, const std::string& label, bool dnd) {
  event.type = EventType::kSelect;
  event.label = label;
  agent.phase = Phase::kChosen;
  agent.in_dnd = dnd;
  return now_s_ + ChosenLength(label, dnd);
}

double TrafficModel::FromRinging(Agent& agent, Event& event) {
  event.call_id = agent.call_id;
  if (!agent.will_answer) {  // ring-only: ended without an answer, nothing changes
    event.type = EventType::kCallEnded;
    agent.phase = Phase::kReady;
    return now_s_ + Uniform(kIdleLow, kIdleHigh);
  }
  event.type = EventType::kCallAnswered;
  agent.phase = Phase::kTalking;
  agent.answered_at = now_s_;
  agent.talk_end = now_s_ + Uniform(kTalkLow, kTalkHigh);
  const std::vector<std::string>& later = picklist_.away.empty() ? picklist_.busy : picklist_.away;
  if (!later.empty() && Chance(kChoiceDuringCall)) {
    agent.pending = Pick(later);
    agent.pending_at = now_s_ + (agent.talk_end - now_s_) * Uniform(0.2, 0.8);
    agent.pending_sent = false;
    return agent.pending_at;
  }
  return agent.talk_end;
}

double TrafficModel::FromTalking(Agent& agent, Event& event) {
  if (agent.pending && !agent.pending_sent) {  // the choice made mid-call
    event.type = EventType::kSelect;
    event.label = *agent.pending;
    agent.pending_sent = true;
    return agent.talk_end;
  }
  event.type = EventType::kCallEnded;
  event.call_id = agent.call_id;
  event.duration_s = std::round(agent.talk_end - agent.answered_at);
  if (agent.pending) {  // the engine applies it when the call (and any wrap-up) is over
    std::string label = *agent.pending;
    agent.pending.reset();
    agent.phase = Phase::kChosen;
    agent.in_dnd = false;
    return now_s_ + ChosenLength(label, false);
  }
  agent.phase = Phase::kReady;
  return now_s_ + Uniform(kAfterCallLow, kAfterCallHigh);
}

Pacer::Pacer(double per_second, TimePoint start, std::chrono::milliseconds max_backlog)
    : interval_(1.0 / per_second), max_backlog_(max_backlog), start_(start) {}

bool Pacer::TryTake(TimePoint now) {
  std::chrono::duration<double> elapsed = now - start_;
  if (elapsed < due_) return false;
  if (elapsed - due_ > max_backlog_) due_ = elapsed - max_backlog_;
  due_ += interval_;
  return true;
}

Pacer::TimePoint Pacer::NextAt() const {
  return start_ + std::chrono::duration_cast<TimePoint::duration>(due_);
}

}  // namespace presence::agent
