// The connectors end to end through the real `presence-agent serve`: state changes made over
// the API reach fake remote systems on loopback; a receiver that is down gets every change
// (or, coalescing, the latest) in order and once when it returns; a restart with undelivered
// changes loses none; a hung receiver does not delay another; status and metrics show it all.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <set>
#include <thread>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/fake_ami_server.h"
#include "tests/fakes/fake_graph.h"
#include "tests/fakes/fake_http_server.h"
#include "tests/fakes/fake_salesforce.h"

namespace presence::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr auto kWait = std::chrono::seconds(20);

Object::Ptr Webhook(const std::string& name, const std::string& url, bool coalesce) {
  Object::Ptr block = new Object();
  block->set("type", "webhook");
  block->set("name", name);
  block->set("url", url + "/hooks/presence");
  block->set("secret", "0123456789abcdef0123456789abcdef");
  block->set("retry_initial_ms", 100);
  block->set("retry_max_seconds", 1);
  block->set("coalesce", coalesce);
  return block;
}

std::function<void(Object&)> WithConnectors(std::vector<Object::Ptr> blocks) {
  return [blocks](Object& config) {
    Array::Ptr connectors = new Array();
    for (const Object::Ptr& block : blocks) connectors->add(block);
    config.set("connectors", connectors);
  };
}

void SetState(AgentServer& server, const std::string& user, const std::string& label) {
  HttpResponse response =
      server.Client().Put("/api/v1/agents/" + user + "/state", server.tokens().agent,
                          R"({"label": ")" + label + R"("})");
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
}

// The labels of the changes a receiver accepted (the handler only sees accepted requests).
struct Receiver {
  std::mutex mutex;
  std::vector<std::string> labels;
  std::vector<std::string> deliveries;  // X-Presence-Delivery of each accepted request
  // Last, so it is destroyed first: its threads (which run the handler) are joined before the
  // members the handler writes go (TSan saw the vectors freed after a handler's unjoined write).
  FakeHttpServer server;

  Receiver() {
    server.SetHandler([this](const RecordedRequest& request) {
      Object::Ptr body = Poco::JSON::Parser().parse(request.body).extract<Object::Ptr>();
      std::lock_guard<std::mutex> lock(mutex);
      labels.push_back(body->getObject("change")->getValue<std::string>("label"));
      deliveries.push_back(request.Header("X-Presence-Delivery"));
      return FakeResponse::Empty(204);
    });
  }
  std::vector<std::string> Labels() {
    std::lock_guard<std::mutex> lock(mutex);
    return labels;
  }
  bool WaitForLabels(size_t n) {
    return server.WaitFor([&](const std::vector<RecordedRequest>&) { return Labels().size() >= n; },
                          kWait);
  }
};

Object::Ptr ConnectorStatus(AgentServer& server, const std::string& name) {
  HttpResponse response = server.Client().Get("/api/v1/connectors", server.tokens().supervisor);
  BOOST_REQUIRE(response.status == 200);
  Array::Ptr all = response.Json()->getArray("connectors");
  for (size_t i = 0; i < all->size(); ++i) {
    Object::Ptr entry = all->getObject(static_cast<unsigned>(i));
    if (entry->getValue<std::string>("name") == name) return entry;
  }
  BOOST_FAIL("no connector " + name);
  return nullptr;
}

void PostEvent(AgentServer& server, const std::string& user, const std::string& event) {
  HttpResponse response = server.Client().Post("/api/v1/agents/" + user + "/events",
                                               server.tokens().integration, event);
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
}

// The reason codes the fake PBX was asked to dial, in order.
std::vector<std::string> Dialled(const std::vector<connectors::AmiMessage>& actions) {
  std::vector<std::string> codes;
  for (const auto& action : actions) {
    if (action.Is("Action", "Originate")) codes.push_back(action.Get("Exten"));
  }
  return codes;
}

bool EndsWith(const std::vector<std::string>& all, const std::vector<std::string>& tail) {
  return all.size() >= tail.size() && std::equal(tail.begin(), tail.end(), all.end() - tail.size());
}

// Waits until the connector has nothing waiting or in flight. A delivery ends in the agent
// after the remote system has answered, and only the status shows that, so it is re-read
// (like AgentServer::WaitForLog) until it holds or the deadline passes.
bool Settled(AgentServer& server, const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  for (;;) {
    Object::Ptr status = ConnectorStatus(server, name);
    if (status->getValue<int>("queue_depth") == 0 && status->getValue<int>("in_flight") == 0) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

BOOST_AUTO_TEST_SUITE(connectors_e2e_test)

// Seed 004: the reason code is dialled on the agent's phone; a call brings On a call, then the
// wrap-up state (DND) for the wrap-up time, then Ready, each dialled in that order; FreePBX's
// DND follows through AstDB.
BOOST_AUTO_TEST_CASE(picklist_changes_and_a_call_are_dialled_on_the_pbx_in_order) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server([&](Object& config) {
    config.getObject("settings")->set("wrap_up_seconds", 1);
    Object::Ptr ami = new Object();
    ami->set("type", "ami");
    ami->set("name", "pbx");
    ami->set("port", static_cast<int>(pbx.port()));
    ami->set("username", "presence");
    ami->set("secret", "s3cret");
    ami->set("astdb_dnd", true);
    WithConnectors({ami})(config);
  });
  server.Start();
  auto dialled = [&](std::vector<std::string> tail) {
    return pbx.WaitFor([&](const auto& actions) { return EndsWith(Dialled(actions), tail); },
                       kWait);
  };
  PostEvent(server, "1001", R"({"type": "login"})");
  BOOST_REQUIRE(dialled({"*60"}));
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(dialled({"*60", "*62"}));
  const auto lunch = pbx.actions("Originate").back();
  BOOST_TEST(lunch.Get("Channel") == "PJSIP/2001");
  BOOST_TEST(lunch.Get("Context") == "from-internal");
  BOOST_TEST(lunch.Get("Priority") == "1");
  BOOST_TEST(lunch.Get("Async") == "true");
  PostEvent(server, "1001", R"({"type": "call_started", "call_id": "c1", "direction": "inbound"})");
  PostEvent(server, "1001", R"({"type": "call_answered", "call_id": "c1"})");
  BOOST_REQUIRE(dialled({"*62", "*69"}));
  PostEvent(server, "1001", R"({"type": "call_ended", "call_id": "c1", "duration_s": 60})");
  BOOST_REQUIRE(dialled({"*62", "*69", "*61", "*60"}));  // wrap-up (DND), then Ready after 1 s
  // FreePBX's DND: on (DBPut YES) for the wrap-up, off (key deleted) with Ready.
  BOOST_TEST(pbx.WaitFor(
      [](const auto& actions) {
        std::vector<std::string> dnd;
        for (const auto& action : actions) {
          if (action.Get("Family") == "DND") dnd.push_back(action.Get("Action"));
        }
        return EndsWith(dnd, {"DBPut", "DBDel"});
      },
      kWait));
  BOOST_REQUIRE(Settled(server, "pbx"));
  BOOST_TEST(!pbx.DbGet("DND", "2001").has_value());
  Object::Ptr status = ConnectorStatus(server, "pbx");
  BOOST_TEST(status->getObject("details")->getValue<std::string>("session") == "connected");
  BOOST_TEST(server.Log().find("s3cret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_was_down_gets_every_change_in_order_once_when_it_returns) {
  Receiver every;
  Receiver latest;
  AgentServer server(WithConnectors(
      {Webhook("every", every.server.url(), false), Webhook("latest", latest.server.url(), true)}));
  every.server.FailAll(FakeFailure::Status(503));
  latest.server.FailAll(FakeFailure::Status(503));
  server.Start();
  for (const char* label : {"Lunch", "Break", "Training", "Ready for Calls"}) {
    SetState(server, "1001", label);
  }
  BOOST_REQUIRE(every.server.WaitForCount(2, kWait));  // tried, failed, retried
  Object::Ptr down = ConnectorStatus(server, "every");
  BOOST_TEST(down->getValue<int>("queue_depth") >= 1);
  BOOST_TEST(!down->isNull("last_error"));
  every.server.ClearFailures();
  latest.server.ClearFailures();
  // A user's first event first puts them in the initial state (Logout), then in Lunch.
  BOOST_REQUIRE(every.WaitForLabels(5));
  BOOST_REQUIRE(latest.WaitForLabels(1));
  BOOST_TEST(every.Labels() ==
             (std::vector<std::string>{"Logout", "Lunch", "Break", "Training", "Ready for Calls"}));
  // Once: no delivery id twice (a retried request that failed is not an accepted one).
  std::set<std::string> ids(every.deliveries.begin(), every.deliveries.end());
  BOOST_TEST(ids.size() == every.deliveries.size());
  BOOST_REQUIRE(Settled(server, "every"));
  BOOST_REQUIRE(Settled(server, "latest"));
  // The coalescing receiver ends on the newest state. (A retry already under way when the
  // receiver came back may still carry an older one first: seen under TSan's slowness.)
  BOOST_TEST(latest.Labels().back() == "Ready for Calls");
  Object::Ptr up = ConnectorStatus(server, "every");
  BOOST_TEST(up->getValue<int>("delivered") == 5);
  BOOST_TEST(up->getValue<int>("retried") >= 1);
  BOOST_TEST(!up->isNull("last_success"));
  std::string metrics = server.Client().Get("/metrics", server.tokens().supervisor).body;
  BOOST_TEST(metrics.find("presence_connector_deliveries_total{connector=\"every\",result="
                          "\"delivered\"} 5") != std::string::npos);
  BOOST_TEST(metrics.find("presence_connector_queue_depth{connector=\"latest\"} 0") !=
             std::string::npos);
  BOOST_TEST(server.Stop(SIGTERM) == 0);
}

BOOST_AUTO_TEST_CASE(a_hung_receiver_does_not_delay_another) {
  Receiver hung;
  Receiver fine;
  AgentServer server(WithConnectors(
      {Webhook("hung", hung.server.url(), false), Webhook("fine", fine.server.url(), false)}));
  hung.server.FailAll(FakeFailure::Hang());
  server.Start();
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(hung.server.WaitForCount(1, kWait));
  BOOST_REQUIRE(fine.WaitForLabels(1));
  BOOST_TEST(hung.Labels().empty());
  hung.server.ClearFailures();
  hung.server.ReleaseHung();  // answers 503: the change is retried and then accepted
  BOOST_REQUIRE(hung.WaitForLabels(2));
  BOOST_TEST(hung.Labels() == (std::vector<std::string>{"Logout", "Lunch"}));
}

BOOST_AUTO_TEST_CASE(a_restart_with_undelivered_changes_loses_none) {
  Receiver receiver;
  AgentServer server(WithConnectors({Webhook("hook", receiver.server.url(), false)}));
  receiver.server.Refuse();
  server.Start();
  for (const char* label : {"Lunch", "Break", "Training"}) SetState(server, "1001", label);
  BOOST_TEST(ConnectorStatus(server, "hook")->getValue<int>("queue_depth") == 4);
  BOOST_TEST(server.Stop(SIGKILL) == 128 + SIGKILL);
  receiver.server.Accept();
  server.Start();
  BOOST_REQUIRE(receiver.WaitForLabels(4));
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(receiver.WaitForLabels(5));
  BOOST_TEST(receiver.Labels() ==
             (std::vector<std::string>{"Logout", "Lunch", "Break", "Training", "Ready for Calls"}));
  std::set<std::string> ids(receiver.deliveries.begin(), receiver.deliveries.end());
  BOOST_TEST(ids.size() == 5u);  // the change after the restart got a new id
  BOOST_TEST(server.Log().find("4 change(s) from before the restart") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_connector_block_stops_the_start_with_a_clear_message) {
  Object::Ptr bad = new Object();
  bad->set("type", "webhok");
  AgentServer server(WithConnectors({bad}));
  BOOST_CHECK_THROW(server.Start(), std::runtime_error);
  BOOST_TEST(server.Log().find("connectors[0].type: \"webhok\" is not a connector type") !=
             std::string::npos);
  BOOST_TEST(server.Log().find("did you mean \"webhook\"") != std::string::npos);
}

// The Skype for Business preset with Teams and Omni-Channel: a picklist change sets the Teams
// presence through Graph and publishes the Omni-Channel Platform Event; a call gives In a call,
// then Do Not Disturb at once when it ends, then Available after the wrap-up time.
BOOST_AUTO_TEST_CASE(picklist_changes_and_a_call_reach_teams_and_omni_channel_in_order) {
  const std::string kEntraId = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";
  const std::string kSalesforceId = "005000000000001AAA";
  FakeGraph graph(FakeGraph::Options{});
  graph.AddUser(kEntraId);
  SystemClock clock;
  FakeSalesforce salesforce(FakeSalesforceConfig{}, clock);
  salesforce.DefineEvent("Presence_Agent_Status__e", {{"User_Id__c", FakeFieldType::kText},
                                                      {"Agent_Key__c", FakeFieldType::kText},
                                                      {"Status_Id__c", FakeFieldType::kText},
                                                      {"Logout__c", FakeFieldType::kCheckbox},
                                                      {"Label__c", FakeFieldType::kText},
                                                      {"Reason_Code__c", FakeFieldType::kText},
                                                      {"Status_Code__c", FakeFieldType::kNumber},
                                                      {"Changed_At__c", FakeFieldType::kDateTime},
                                                      {"Source__c", FakeFieldType::kText}});
  AgentServer server([&](Object& config) {
    Object::Ptr preset = ReadSample("skype-for-business.json");
    Object::Ptr settings = preset->getObject("settings");
    settings->set("wrap_up_seconds", 1);
    settings->set("omni_channel", true);
    config.set("settings", settings);
    Array::Ptr states = preset->getArray("states");
    const std::map<std::string, std::string> omni = {{"Available", "0N5000000000001"},
                                                     {"Be Right Back", "0N5000000000002"},
                                                     {"Do Not Disturb", "0N5000000000003"}};
    for (size_t i = 0; i < states->size(); ++i) {
      Object::Ptr state = states->getObject(static_cast<unsigned>(i));
      auto found = omni.find(state->getValue<std::string>("label"));
      if (found == omni.end()) continue;
      Object::Ptr block = new Object();
      block->set("status_id", found->second);
      state->getObject("mappings")->set("omni_channel", block);
    }
    config.set("states", states);
    Object::Ptr identities = new Object();
    identities->set("teams", kEntraId);
    identities->set("salesforce", kSalesforceId);
    config.getArray("users")->getObject(0)->set("identities", identities);
    Object::Ptr teams = new Object();
    teams->set("type", "teams");
    teams->set("tenant", graph.options().tenant);
    teams->set("client_id", graph.options().client_id);
    teams->set("client_secret", graph.options().client_secret);
    teams->set("login_url", graph.login_url());
    teams->set("graph_url", graph.graph_url());
    Object::Ptr sf = new Object();
    sf->set("type", "omni_channel");
    sf->set("auth", "client_credentials");
    sf->set("login_url", salesforce.url());
    sf->set("client_id", FakeSalesforceConfig{}.client_id);
    sf->set("client_secret", FakeSalesforceConfig{}.client_secret);
    WithConnectors({teams, sf})(config);
  });
  server.Start();
  auto visible = [&](const std::string& availability, const std::string& activity) {
    return graph.http().WaitFor(
        [&](const auto&) {
          return graph.VisiblePresence(kEntraId) == GraphPresence{availability, activity};
        },
        kWait);
  };
  auto published = [&](const std::string& status_id) {
    return salesforce.server().WaitFor(
        [&](const auto&) {
          auto events = salesforce.events();
          return !events.empty() &&
                 events.back().fields->getValue<std::string>("Status_Id__c") == status_id;
        },
        kWait);
  };
  PostEvent(server, "1001", R"({"type": "login"})");
  BOOST_REQUIRE(visible("Available", "Available"));
  SetState(server, "1001", "Be Right Back");
  BOOST_REQUIRE(visible("BeRightBack", "BeRightBack"));
  BOOST_REQUIRE(published("0N5000000000002"));
  Object::Ptr event = salesforce.events().back().fields;
  BOOST_TEST(event->getValue<std::string>("User_Id__c") == kSalesforceId);
  BOOST_TEST(event->getValue<std::string>("Agent_Key__c") == "1001");
  BOOST_TEST(event->getValue<std::string>("Label__c") == "Be Right Back");
  BOOST_TEST(event->getValue<int>("Status_Code__c") == 3);

  PostEvent(server, "1001", R"({"type": "call_started", "call_id": "c1", "direction": "inbound"})");
  PostEvent(server, "1001", R"({"type": "call_answered", "call_id": "c1"})");
  BOOST_REQUIRE(visible("Busy", "InACall"));
  graph.ClearCalls();
  PostEvent(server, "1001", R"({"type": "call_ended", "call_id": "c1", "duration_s": 60})");
  BOOST_REQUIRE(published("0N5000000000001"));  // Ready again after the 1 s wrap-up
  BOOST_REQUIRE(visible("Available", "Available"));
  // Do Not Disturb came first, at once, then Available: in the order Graph received them.
  std::vector<std::string> order;
  for (const GraphCall& call : graph.calls()) {
    if (call.action == "setUserPreferredPresence" &&
        call.body.find("DoNotDisturb") != std::string::npos) {
      order.push_back("dnd");
    } else if (call.action == "clearUserPreferredPresence") {
      order.push_back("clear");
    }
  }
  BOOST_TEST(EndsWith(order, {"dnd", "clear"}));
  std::vector<std::string> omni_order;
  for (const PublishedEvent& published_event : salesforce.events()) {
    omni_order.push_back(published_event.fields->getValue<std::string>("Status_Id__c"));
  }
  BOOST_TEST(EndsWith(omni_order, {"0N5000000000002", "0N5000000000003", "0N5000000000001"}));
  const std::string log = server.Log();
  BOOST_TEST(log.find(graph.options().client_secret) == std::string::npos);
  BOOST_TEST(log.find(FakeSalesforceConfig{}.client_secret) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::testing
