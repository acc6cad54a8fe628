#pragma once

// The pure half of `presence-agent simulate`: what a crowd of softphones does, and when. No
// I/O and no clock reads: the model runs on simulated seconds and the pacer is handed the time,
// so tests drive both with made-up times. simulate.cc sends what they produce over HTTP.
//
// Each simulated agent logs in, then lives a call-center day: inbound calls (ringing a few
// seconds, then answered or ring-only, talk 30-300 s), outbound calls, internal calls (about
// 10%), picklist choices (Lunch, Break, meetings, Do Not Disturb, back to Ready), an outbound
// call now and then while in Do Not Disturb, a choice made during a call (it waits for the call's
// end on the agent), and occasionally a logout and a later login. One call at a time per agent.

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "agent/engine/engine.h"
#include "common/result.h"

namespace presence::agent {

// The selectable states the simulator picks from, by role (GET /api/v1/states).
struct SimPicklist {
  std::string ready;              // status 1 (Online): where agents come back to
  std::vector<std::string> dnd;   // status 4 (DND), chosen: outbound calls happen from here
  std::vector<std::string> away;  // status 3 (Away): Lunch, Break
  std::vector<std::string> busy;  // status 5 (Busy): meetings, training, back office
};

struct SimState {
  std::string label;
  int status = 0;  // 1-7
  bool selectable = true;
};

// The first selectable status-1 state is Ready. Error "no_ready_state" when there is none.
Result<SimPicklist> MakeSimPicklist(const std::vector<SimState>& states);

struct SimAction {
  double at_s = 0;  // simulated seconds since the model started
  Event event;      // agent, type, label, call_id, direction, internal, duration_s
};

// An action as an API request: select is PUT /api/v1/agents/{id}/state {"label"}, every other
// type POST /api/v1/agents/{id}/events {"type",...}.
struct SimRequest {
  std::string method;
  std::string path;
  std::string body;  // JSON
};
SimRequest RequestFor(const Event& event);

// The agents' random process. Deterministic: the same agents, picklist, seed and prefix give
// the same actions. Not thread-safe (one per worker thread).
class TrafficModel {
 public:
  // `agents`: distinct user ids. Call ids are "<call_prefix>-<n>", n counting from 1, so
  // they are unique within one model; give each model (and each run) its own prefix.
  TrafficModel(std::vector<std::string> agents, SimPicklist picklist, uint64_t seed,
               std::string call_prefix);

  // The earliest next action of any agent (ties: the agent listed first); the simulated clock
  // moves to its time. Never runs out.
  SimAction Next();

  // call_ended for every call in progress (answered ones with their talk time so far), so a
  // stopped run leaves no call open on the server. The agents are back to Ready.
  std::vector<SimAction> EndCalls();

  double now_s() const { return now_s_; }  // the time of the last action

 private:
  enum class Phase { kLoggedOut, kReady, kChosen, kRinging, kTalking };
  struct Agent {
    std::string id;
    Phase phase = Phase::kLoggedOut;
    bool in_dnd = false;  // kChosen: the chosen state is a DND one
    std::string call_id;
    bool will_answer = false;
    double answered_at = 0;
    double talk_end = 0;
    std::optional<std::string> pending;  // a choice made (or to make) during the call
    double pending_at = 0;
    bool pending_sent = false;
  };
  using Slot = std::pair<double, size_t>;  // next action time, agent index

  double Uniform(double low, double high);
  bool Chance(double p) { return Uniform(0, 1) < p; }
  const std::string& Pick(const std::vector<std::string>& labels);
  double ChosenLength(const std::string& label, bool dnd);

  // Each makes the agent's action at now_s_ and returns the time of its next one.
  double Step(Agent& agent, Event& event);
  double FromLoggedOut(Agent& agent, Event& event);
  double FromReady(Agent& agent, Event& event);
  double FromChosen(Agent& agent, Event& event);
  double FromRinging(Agent& agent, Event& event);
  double FromTalking(Agent& agent, Event& event);
  double StartCall(Agent& agent, Event& event, Direction direction);
  double Choose(Agent& agent, Event& event, const std::string& label, bool dnd);

  std::vector<Agent> agents_;
  SimPicklist picklist_;
  std::mt19937_64 random_;  // its output is fixed by the standard; Uniform maps it portably
  std::string call_prefix_;
  uint64_t calls_ = 0;
  double now_s_ = 0;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> queue_;
};

// Spreads actions evenly at `per_second`, against whatever time the caller passes. After a
// stall (a slow server) it catches up by at most `max_backlog` worth of actions, then forgets
// the rest, so a recovering server is not hit by a burst.
class Pacer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  Pacer(double per_second, TimePoint start,
        std::chrono::milliseconds max_backlog = std::chrono::milliseconds(1000));

  // True when an action is due at `now` (and counts it as taken).
  bool TryTake(TimePoint now);
  // When the next action is due.
  TimePoint NextAt() const;

 private:
  std::chrono::duration<double> interval_;
  std::chrono::duration<double> max_backlog_;
  TimePoint start_;
  std::chrono::duration<double> due_{0};  // since start_
};

}  // namespace presence::agent
