// samples/grafana/presence-agent.json against a real /metrics: every metric the dashboard
// queries must be one the agent exports, so a renamed metric fails here, not on a wallboard.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/test_json.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string DashboardText() {
  std::ifstream in(std::string(PRESENCE_SOURCE_DIR) + "/samples/grafana/presence-agent.json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every name in an exposition: sample names, and families announced by # TYPE (a family with
// no series yet, such as a connector's before it has one, still has its TYPE line).
std::set<std::string> ExportedNames(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      names.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (!line.empty() && line[0] != '#') {
      names.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return names;
}

// An agent with something behind every family: a connector and the CRM sync (neither reachable;
// their series exist all the same).
std::function<void(Object&)> WithConnectorAndSync() {
  return [](Object& config) {
    config.getObject("settings")->set("time_tracking", true);
    Object::Ptr webhook = new Object();
    webhook->set("type", "webhook");
    webhook->set("name", "helpdesk");
    webhook->set("url", "http://127.0.0.1:9/hook");
    webhook->set("secret", "0123456789abcdef0123");
    Array::Ptr connectors = new Array();
    connectors->add(webhook);
    config.set("connectors", connectors);
    Object::Ptr sync = new Object();
    sync->set("login_url", "http://127.0.0.1:9");
    sync->set("auth", "client_credentials");
    sync->set("client_id", "test-client");
    sync->set("client_secret", "test-secret");
    config.set("crm_sync", sync);
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(grafana_dashboard_test)

BOOST_AUTO_TEST_CASE(every_metric_the_dashboard_queries_is_exported) {
  const std::string dashboard = DashboardText();
  std::set<std::string> queried;
  const std::regex metric("presence_[a-zA-Z0-9_:]+");
  for (std::sregex_iterator it(dashboard.begin(), dashboard.end(), metric), end; it != end; ++it) {
    queried.insert(it->str());
  }
  BOOST_TEST_REQUIRE(queried.size() >= 20u);

  testing::AgentServer server(WithConnectorAndSync());
  server.Start();
  testing::HttpResponse metrics = server.Client().Get("/metrics", server.tokens().supervisor);
  BOOST_REQUIRE_EQUAL(metrics.status, 200);
  const std::set<std::string> exported = ExportedNames(metrics.body);
  for (const std::string& name : queried) {
    BOOST_TEST(exported.count(name) == 1u, name << " is queried but not exported");
  }
  BOOST_TEST(server.Stop(SIGTERM) == 0);
}

BOOST_AUTO_TEST_CASE(the_dashboard_imports_with_a_prometheus_data_source_of_your_choice) {
  Object::Ptr dashboard = testing::ParseObject(DashboardText());
  Object::Ptr input = dashboard->getArray("__inputs")->getObject(0);
  BOOST_TEST(input->getValue<std::string>("name") == "DS_PROMETHEUS");
  BOOST_TEST(input->getValue<std::string>("pluginId") == "prometheus");
  Array::Ptr panels = dashboard->getArray("panels");
  BOOST_TEST_REQUIRE(panels->size() > 10u);
  for (unsigned i = 0; i < panels->size(); ++i) {
    Object::Ptr panel = panels->getObject(i);
    if (panel->getValue<std::string>("type") == "row") continue;
    const std::string title = panel->getValue<std::string>("title");
    BOOST_TEST(panel->getObject("datasource")->getValue<std::string>("uid") == "${DS_PROMETHEUS}",
               title);
    BOOST_TEST(panel->getArray("targets")->size() > 0u, title);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
