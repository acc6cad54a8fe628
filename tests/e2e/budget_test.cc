// State budgets (issue 15) through the real service: the figures in GET /api/v1/agents/{id},
// the day of settings.time_zone, and the over-budget count in /metrics.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "common/time.h"
#include "tests/fakes/agent_server.h"

namespace presence::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Lunch 1,800 s and Break 1 s a day, in India (+05:30): the day ends at 18:30 UTC.
void WithBudgets(Object& config) {
  Object::Ptr settings = config.getObject("settings");
  settings->set("time_zone", "Asia/Kolkata");
  Array::Ptr states = config.getArray("states");
  for (size_t i = 0; i < states->size(); ++i) {
    Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    const std::string label = state->getValue<std::string>("label");
    if (label == "Lunch") state->set("budget_seconds_per_day", 1800);
    if (label == "Break") state->set("budget_seconds_per_day", 1);
  }
}

Object::Ptr Agent(AgentServer& server, const std::string& id) {
  HttpResponse response = server.Client().Get("/api/v1/agents/" + id, server.tokens().supervisor);
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
  Poco::JSON::Parser parser;
  return parser.parse(response.body).extract<Object::Ptr>();
}

// The budget item of `label` in a view.
Object::Ptr Budget(const Object::Ptr& view, const std::string& label) {
  Object::Ptr budgets = view->getObject("budgets");
  BOOST_REQUIRE(budgets);
  Array::Ptr states = budgets->getArray("states");
  for (size_t i = 0; states && i < states->size(); ++i) {
    Object::Ptr item = states->getObject(static_cast<unsigned>(i));
    if (item->getValue<std::string>("label") == label) return item;
  }
  BOOST_FAIL("no budget for " + label);
  return nullptr;
}

void Select(AgentServer& server, const std::string& label) {
  HttpResponse response = server.Client().Put("/api/v1/agents/1001/state", server.tokens().agent,
                                              R"({"label": ")" + label + R"("})");
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(budget_test)

BOOST_AUTO_TEST_CASE(budgets_count_down_today_and_count_users_over_budget) {
  AgentServer server(WithBudgets);
  server.Start();

  // Never seen yet: every budget whole, the day ending at the zone's midnight.
  Object::Ptr unseen = Agent(server, "1001");
  const std::string day_ends = unseen->getObject("budgets")->getValue<std::string>("day_ends");
  BOOST_TEST(day_ends.substr(10) == "T18:30:00.000Z", day_ends);
  // "today" follows the same day, and says when it ends.
  BOOST_TEST(unseen->getValue<std::string>("today_ends") == day_ends);
  const Timestamp ends = *ParseTime(day_ends);
  const Timestamp now = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  BOOST_TEST((ends > now && ends <= now + std::chrono::hours(24)));
  BOOST_TEST(Budget(unseen, "Lunch")->getValue<int>("left_seconds") == 1800);
  BOOST_TEST(!Budget(unseen, "Lunch")->getValue<bool>("over"));
  BOOST_TEST(Budget(unseen, "Break")->getValue<int>("budget_seconds") == 1);

  // GET /states gives the budget with the state.
  Poco::JSON::Parser parser;
  Array::Ptr states =
      parser.parse(server.Client().Get("/api/v1/states", server.tokens().agent).body)
          .extract<Array::Ptr>();
  int lunch_budget = -1;
  for (size_t i = 0; i < states->size(); ++i) {
    Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    if (state->getValue<std::string>("label") == "Lunch") {
      lunch_budget = state->getValue<int>("budget_seconds_per_day");
    }
  }
  BOOST_TEST(lunch_budget == 1800);

  Select(server, "Lunch");
  Object::Ptr lunch = Budget(Agent(server, "1001"), "Lunch");
  BOOST_TEST(!lunch->isNull("counting_since"));
  BOOST_TEST(lunch->getValue<int>("left_seconds") <= 1800);
  BOOST_TEST(lunch->getValue<int>("left_seconds") >= 1780);

  // Break's one second runs out while the user is in it.
  Select(server, "Break");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  Object::Ptr view;
  for (;;) {
    view = Agent(server, "1001");
    if (Budget(view, "Break")->getValue<bool>("over")) break;
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    // The budget runs out with the passing of time itself; nothing else marks it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_TEST(Budget(view, "Break")->getValue<int>("left_seconds") < 0);
  BOOST_TEST(Budget(view, "Lunch")->isNull("counting_since"));
  BOOST_TEST(!Budget(view, "Lunch")->getValue<bool>("over"));

  HttpResponse metrics = server.Client().Get("/metrics", server.tokens().supervisor);
  BOOST_TEST(metrics.body.find("\npresence_over_budget_users 1\n") != std::string::npos,
             metrics.body);
  // Users per status, for the Grafana sample's "Users by status": 1001 in Break (Away).
  BOOST_TEST(
      metrics.body.find("\npresence_users_by_status{status=\"Away\"} 1\n") != std::string::npos,
      metrics.body);
  BOOST_TEST(
      metrics.body.find("\npresence_users_by_status{status=\"Online\"} 0\n") != std::string::npos,
      metrics.body);

  // The time spent stays after a restart: the budget is today's, not the process's.
  Select(server, "Ready for Calls");
  const double used = Budget(Agent(server, "1001"), "Break")->getValue<double>("used_seconds");
  BOOST_TEST(used >= 1);
  BOOST_TEST(server.Stop(SIGTERM) == 0);
  server.Start();
  Object::Ptr after = Agent(server, "1001");
  BOOST_TEST(Budget(after, "Break")->getValue<double>("used_seconds") == used);
  BOOST_TEST(Budget(after, "Break")->getValue<bool>("over"));
}

BOOST_AUTO_TEST_CASE(no_budget_no_budgets_key) {
  AgentServer server([](Object& config) {
    Array::Ptr states = config.getArray("states");
    for (size_t i = 0; i < states->size(); ++i) {
      states->getObject(static_cast<unsigned>(i))->remove("budget_seconds_per_day");
    }
  });
  server.Start();
  Select(server, "Lunch");
  BOOST_TEST(!Agent(server, "1001")->has("budgets"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::testing
