// The simulator's pure half: the softphones' random process (same seed, same actions; calls
// started, answered and ended properly; the mix a real floor produces), the requests it turns
// into, and the pacer on made-up times. No server, no sleeping.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "agent/simulate/traffic_model.h"

namespace presence::agent {
namespace {

using Time = Pacer::TimePoint;
using std::chrono::milliseconds;

const SimPicklist kPicklist{.ready = "Ready for Calls",
                            .dnd = {"Do Not Disturb"},
                            .away = {"Lunch", "Break"},
                            .busy = {"In a meeting", "Training", "Back office"}};

std::vector<std::string> Agents(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(std::to_string(1001 + i));
  return ids;
}

std::string Describe(const SimAction& action) {
  const Event& e = action.event;
  std::string text = std::to_string(action.at_s) + " " + e.agent + " " +
                     std::string(EventTypeName(e.type)) + " " + e.label + " " + e.call_id;
  if (e.type == EventType::kCallStarted) {
    text += " " + std::string(DirectionName(e.direction)) + (e.internal ? " internal" : "");
  }
  if (e.duration_s) text += " " + std::to_string(*e.duration_s);
  return text;
}

std::vector<SimAction> Run(TrafficModel& model, int count) {
  std::vector<SimAction> actions;
  for (int i = 0; i < count; ++i) actions.push_back(model.Next());
  return actions;
}

std::vector<std::string> Sequence(uint64_t seed, int count) {
  TrafficModel model(Agents(10), kPicklist, seed, "c");
  std::vector<std::string> lines;
  for (const SimAction& action : Run(model, count)) lines.push_back(Describe(action));
  return lines;
}

// Follows every call through its events and counts what the mix contains; problems are the
// ways the stream could be wrong.
struct CallAudit {
  struct Call {
    std::string agent;
    bool answered = false;
    bool ended = false;
  };
  std::map<std::string, Call> calls;
  std::map<std::string, std::string> open_call;  // agent -> call in progress
  std::map<std::string, bool> in_dnd;            // agent -> last choice was a DND state
  std::map<std::string, bool> logged_in;         // agent -> after login, before logout
  std::map<std::string, int> chosen;             // label -> times selected
  int ring_only = 0, internal = 0, outbound = 0, outbound_from_dnd = 0, choice_during_call = 0;
  int logouts = 0, logins = 0, started = 0;
  std::vector<std::string> problems;

  void Add(const SimAction& action) {
    const Event& e = action.event;
    auto open = open_call.find(e.agent);
    bool has_call = open != open_call.end();
    switch (e.type) {
      case EventType::kCallStarted:
        Expect(!has_call, "a second call while one is open: " + e.call_id);
        Expect(calls.emplace(e.call_id, Call{.agent = e.agent}).second, "reused id " + e.call_id);
        open_call[e.agent] = e.call_id;
        ++started;
        internal += e.internal;
        if (e.direction == Direction::kOutbound) {
          ++outbound;
          outbound_from_dnd += in_dnd[e.agent];
        }
        in_dnd[e.agent] = false;
        break;
      case EventType::kCallAnswered:
        Expect(has_call && open->second == e.call_id, "answer of a call not open: " + e.call_id);
        Expect(!calls[e.call_id].answered, "answered twice: " + e.call_id);
        calls[e.call_id].answered = true;
        break;
      case EventType::kCallEnded:
        Expect(has_call && open->second == e.call_id, "end of a call not open: " + e.call_id);
        End(e);
        break;
      case EventType::kSelect:
        ++chosen[e.label];
        choice_during_call += has_call;
        in_dnd[e.agent] = e.label == kPicklist.dnd[0];
        break;
      case EventType::kLogin:
        Expect(!logged_in[e.agent], "login while logged in: " + e.agent);
        logged_in[e.agent] = true;
        ++logins;
        break;
      case EventType::kLogout:
        Expect(!has_call, "logout during a call: " + e.agent);
        logged_in[e.agent] = false;
        in_dnd[e.agent] = false;
        ++logouts;
        break;
      default:
        problems.push_back("unexpected type " + std::string(EventTypeName(e.type)));
    }
  }

  void End(const Event& e) {
    Call& call = calls[e.call_id];
    Expect(!call.ended, "ended twice: " + e.call_id);
    call.ended = true;
    open_call.erase(e.agent);
    if (!call.answered) {
      ++ring_only;
      Expect(!e.duration_s, "a ring-only call with a duration: " + e.call_id);
    } else {
      Expect(e.duration_s && *e.duration_s >= 1, "an answered call without duration: " + e.call_id);
    }
  }

  void Expect(bool condition, const std::string& problem) {
    if (!condition) problems.push_back(problem);
  }
};

std::string FirstOf(const std::vector<std::string>& problems) {
  return problems.empty() ? "" : problems.front();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simulate_test)

BOOST_AUTO_TEST_CASE(same_seed_gives_the_same_action_sequence) {
  std::vector<std::string> first = Sequence(42, 3000);
  BOOST_TEST(first == Sequence(42, 3000), boost::test_tools::per_element());
  BOOST_TEST(first != Sequence(43, 3000));
}

BOOST_AUTO_TEST_CASE(every_agent_logs_in_first_and_time_never_goes_back) {
  TrafficModel model(Agents(25), kPicklist, 7, "c");
  std::set<std::string> seen;
  double last = 0;
  for (const SimAction& action : Run(model, 5000)) {
    if (seen.insert(action.event.agent).second) {
      BOOST_TEST(EventTypeName(action.event.type) == "login", Describe(action));
    }
    BOOST_TEST(action.at_s >= last, Describe(action));
    last = action.at_s;
  }
  BOOST_TEST(seen.size() == 25u);
  BOOST_TEST(model.now_s() == last);
}

BOOST_AUTO_TEST_CASE(calls_are_started_answered_and_ended_once_with_unique_ids) {
  TrafficModel model(Agents(20), kPicklist, 3, "run1");
  CallAudit audit;
  for (const SimAction& action : Run(model, 30000)) audit.Add(action);
  BOOST_TEST(!audit.open_call.empty());  // some calls are in progress when the run stops
  for (const SimAction& action : model.EndCalls()) {
    BOOST_TEST(EventTypeName(action.event.type) == "call_ended");
    audit.Add(action);
  }
  BOOST_TEST(audit.problems.empty(), FirstOf(audit.problems));
  BOOST_TEST(audit.open_call.empty());
  BOOST_TEST(audit.started > 1000);
  for (const auto& [id, call] : audit.calls) {
    BOOST_TEST(call.ended, id);
    BOOST_TEST(id.starts_with("run1-"), id);
  }
  BOOST_TEST(model.EndCalls().empty());  // nothing left to end
}

BOOST_AUTO_TEST_CASE(the_mix_has_ring_only_internal_outbound_from_dnd_and_every_choice) {
  TrafficModel model(Agents(30), kPicklist, 11, "c");
  CallAudit audit;
  for (const SimAction& action : Run(model, 40000)) audit.Add(action);
  BOOST_TEST(audit.problems.empty(), FirstOf(audit.problems));
  BOOST_TEST(audit.ring_only > 0);
  BOOST_TEST(audit.outbound_from_dnd > 0);
  BOOST_TEST(audit.choice_during_call > 0);
  BOOST_TEST(audit.logouts > 0);
  BOOST_TEST(audit.logins > 30);  // logged in again after a logout
  // About 10% internal, about 20% outbound, about 15% ring-only: wide bounds, fixed seed.
  BOOST_TEST(audit.internal > audit.started * 0.05);
  BOOST_TEST(audit.internal < audit.started * 0.15);
  BOOST_TEST(audit.outbound > audit.started * 0.10);
  BOOST_TEST(audit.outbound < audit.started * 0.40);
  BOOST_TEST(audit.ring_only < audit.started * 0.30);
  for (std::string label : {"Ready for Calls", "Do Not Disturb", "Lunch", "Break", "In a meeting",
                            "Training", "Back office"}) {
    BOOST_TEST(audit.chosen[label] > 0, label);
  }
}

BOOST_AUTO_TEST_CASE(answered_calls_last_30_to_300_simulated_seconds) {
  TrafficModel model(Agents(10), kPicklist, 5, "c");
  std::map<std::string, double> answered_at;
  int checked = 0;
  for (const SimAction& action : Run(model, 20000)) {
    const Event& e = action.event;
    if (e.type == EventType::kCallAnswered) answered_at[e.call_id] = action.at_s;
    if (e.type != EventType::kCallEnded || !answered_at.count(e.call_id)) continue;
    BOOST_TEST(*e.duration_s >= 30);
    BOOST_TEST(*e.duration_s <= 300);
    BOOST_TEST(std::abs(action.at_s - answered_at[e.call_id] - *e.duration_s) <= 0.5);
    ++checked;
  }
  BOOST_TEST(checked > 500);
}

BOOST_AUTO_TEST_CASE(a_catalog_without_some_roles_still_simulates) {
  TrafficModel model(Agents(5), SimPicklist{.ready = "Available"}, 9, "c");
  CallAudit audit;
  for (const SimAction& action : Run(model, 5000)) {
    audit.Add(action);
    if (action.event.type == EventType::kSelect) {
      BOOST_TEST(action.event.label == "Available");
    }
  }
  BOOST_TEST(audit.problems.empty(), FirstOf(audit.problems));
  BOOST_TEST(audit.started > 500);
}

BOOST_AUTO_TEST_CASE(picklist_sorts_selectable_states_by_status) {
  Result<SimPicklist> picklist = MakeSimPicklist({{"Logout", 7, true},
                                                  {"Ready for Calls", 1, true},
                                                  {"Also online", 1, true},
                                                  {"Do Not Disturb", 4, true},
                                                  {"Wrap-up", 4, false},
                                                  {"Lunch", 3, true},
                                                  {"In a meeting", 5, true},
                                                  {"On a call", 6, false}});
  BOOST_REQUIRE(picklist.ok());
  BOOST_TEST(picklist->ready == "Ready for Calls");
  BOOST_TEST(picklist->dnd == std::vector<std::string>{"Do Not Disturb"});
  BOOST_TEST(picklist->away == std::vector<std::string>{"Lunch"});
  BOOST_TEST(picklist->busy == std::vector<std::string>{"In a meeting"});

  Result<SimPicklist> none = MakeSimPicklist({{"Ready", 1, false}, {"Lunch", 3, true}});
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST(none.error().code == "no_ready_state");
}

BOOST_AUTO_TEST_CASE(actions_become_api_requests) {
  SimRequest select =
      RequestFor(Event{.type = EventType::kSelect, .agent = "1001", .label = "Lunch"});
  BOOST_TEST(select.method == "PUT");
  BOOST_TEST(select.path == "/api/v1/agents/1001/state");
  BOOST_TEST(select.body == R"({"label":"Lunch"})");

  SimRequest started = RequestFor(Event{.type = EventType::kCallStarted,
                                        .agent = "a b",
                                        .call_id = "c1",
                                        .direction = Direction::kOutbound,
                                        .internal = true});
  BOOST_TEST(started.method == "POST");
  BOOST_TEST(started.path == "/api/v1/agents/a%20b/events");
  auto body = Poco::JSON::Parser().parse(started.body).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(body->getValue<std::string>("type") == "call_started");
  BOOST_TEST(body->getValue<std::string>("call_id") == "c1");
  BOOST_TEST(body->getValue<std::string>("direction") == "outbound");
  BOOST_TEST(body->getValue<bool>("internal"));

  Event ended{.type = EventType::kCallEnded, .agent = "1001", .call_id = "c1"};
  body = Poco::JSON::Parser().parse(RequestFor(ended).body).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(!body->has("duration_s"));
  ended.duration_s = 95;
  body = Poco::JSON::Parser().parse(RequestFor(ended).body).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(body->getValue<int>("duration_s") == 95);

  BOOST_TEST(RequestFor(Event{.type = EventType::kLogin, .agent = "1001"}).body ==
             R"({"type":"login"})");
}

BOOST_AUTO_TEST_CASE(pacer_yields_about_the_rate_on_a_fake_clock) {
  for (double rate : {5.0, 50.0, 2000.0}) {
    for (int step_ms : {1, 37, 250}) {
      const Time start{};
      Pacer pacer(rate, start);
      int taken = 0;
      for (Time now = start; now < start + milliseconds(10000); now += milliseconds(step_ms)) {
        while (pacer.TryTake(now)) ++taken;
      }
      BOOST_TEST(std::abs(taken - rate * 10) <= rate * step_ms / 1000.0 + 1,
                 "rate " << rate << ", step " << step_ms << " ms: " << taken);
    }
  }
}

BOOST_AUTO_TEST_CASE(pacer_says_when_the_next_action_is_due) {
  const Time start{};
  Pacer pacer(4, start);  // one every 250 ms
  BOOST_TEST(pacer.TryTake(start));
  BOOST_TEST(!pacer.TryTake(start + milliseconds(249)));
  BOOST_TEST((pacer.NextAt() == start + milliseconds(250)));
  BOOST_TEST(pacer.TryTake(start + milliseconds(250)));
  BOOST_TEST((pacer.NextAt() == start + milliseconds(500)));
}

BOOST_AUTO_TEST_CASE(pacer_catches_up_at_most_its_backlog_after_a_stall) {
  const Time start{};
  Pacer pacer(100, start, milliseconds(1000));
  BOOST_TEST(pacer.TryTake(start));
  int burst = 0;
  while (pacer.TryTake(start + milliseconds(30000))) ++burst;
  BOOST_TEST(burst >= 100);
  BOOST_TEST(burst <= 101);
  // Then the rate is back to normal.
  int next_second = 0;
  for (int ms = 30001; ms <= 31000; ++ms) {
    while (pacer.TryTake(start + milliseconds(ms))) ++next_second;
  }
  BOOST_TEST(std::abs(next_second - 100) <= 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
