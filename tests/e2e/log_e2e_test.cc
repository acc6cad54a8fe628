// The service's log end to end through the real `presence-agent serve`: with logging.format
// "json", every line of its stderr is one JSON object with time, level, component and
// message; secrets handed to it (connector passwords and client secrets, API tokens, session
// ids, wrong tokens a client tried) never appear in it, also when the remote systems refuse
// them; a reload applies a new level.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/fake_ami_server.h"
#include "tests/fakes/fake_graph.h"
#include "tests/fakes/fake_http_server.h"

namespace presence::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr auto kWait = std::chrono::seconds(20);

constexpr char kAmiSecret[] = "ami-secret-Xq81";       // what the agent is configured with
constexpr char kAmiServerSecret[] = "ami-right-Pz44";  // what the fake PBX wants
constexpr char kTeamsSecret[] = "teams-secret-Wm27";   // refused by the fake Graph
constexpr char kWebhookSecret[] = "webhook-secret-0123456789abcdefghij";
constexpr char kWrongToken[] = "wrong-api-token-Kd93";
constexpr char kQueryToken[] = "query-token-Lr55";
constexpr char kEntraId[] = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of the pa_session cookie a Set-Cookie header sets.
std::string SessionId(const std::string& set_cookie) {
  const std::string prefix = "pa_session=";
  if (set_cookie.rfind(prefix, 0) != 0) return "";
  return set_cookie.substr(prefix.size(), set_cookie.find(';') - prefix.size());
}

// Every line of `log` is one JSON object with string members time (with milliseconds),
// level, component and message; none of `secrets` occurs anywhere in it.
void CheckJsonLog(const std::string& log, const std::vector<std::string>& secrets) {
  const std::vector<std::string> lines = Lines(log);
  BOOST_TEST(lines.size() > 3u, log);
  for (const std::string& line : lines) {
    BOOST_TEST_CONTEXT(line) {
      Object::Ptr object;
      BOOST_CHECK_NO_THROW(object = Poco::JSON::Parser().parse(line).extract<Object::Ptr>());
      if (!object) continue;
      for (const char* member : {"time", "level", "component", "message"}) {
        BOOST_TEST((object->has(member) && object->get(member).isString()), member);
      }
      BOOST_TEST(object->optValue<std::string>("time", "").size() == 24u);  // ...T09:30:00.000Z
    }
  }
  for (const std::string& secret : secrets) {
    BOOST_TEST(log.find(secret) == std::string::npos, "the log holds " << secret);
  }
}

// Whether some line is a delivery of `connector` logged with the user and the label.
bool HasDeliveryWithFields(const std::string& log, const std::string& connector) {
  for (const std::string& line : Lines(log)) {
    Object::Ptr object = Poco::JSON::Parser().parse(line).extract<Object::Ptr>();
    if (object->optValue<std::string>("connector", "") == connector &&
        object->optValue<std::string>("user", "") == "1001" && object->has("label")) {
      return true;
    }
  }
  return false;
}

void JsonLogging(Object& config) {
  Object::Ptr logging = new Object();
  logging->set("format", "json");
  config.set("logging", logging);
}

BOOST_AUTO_TEST_SUITE(log_e2e_test)

// An AMI connector whose login the PBX refuses, a webhook, wrong API tokens (one in a URL), a
// dashboard session opened, used and closed, and a reload to level debug.
BOOST_AUTO_TEST_CASE(json_log_lines_are_objects_and_never_hold_a_secret) {
  FakeAmiServer pbx("presence", kAmiServerSecret);
  FakeHttpServer receiver;
  receiver.SetHandler([](const RecordedRequest&) { return FakeResponse::Empty(204); });
  AgentServer server([&](Object& config) {
    JsonLogging(config);
    Object::Ptr ami = new Object();
    ami->set("type", "ami");
    ami->set("name", "pbx");
    ami->set("port", static_cast<int>(pbx.port()));
    ami->set("username", "presence");
    ami->set("secret", std::string(kAmiSecret));
    Object::Ptr hook = new Object();
    hook->set("type", "webhook");
    hook->set("name", "hook");
    hook->set("url", receiver.url() + "/hooks/presence");
    hook->set("secret", std::string(kWebhookSecret));
    Array::Ptr connectors = new Array();
    connectors->add(ami);
    connectors->add(hook);
    config.set("connectors", connectors);
  });
  server.Start();
  HttpClient http = server.Client();

  BOOST_TEST(server.WaitForLog(R"("level":"error","component":"ami")", kWait), server.Log());
  HttpResponse changed =
      http.Put("/api/v1/agents/1001/state", server.tokens().agent, R"({"label": "Lunch"})");
  BOOST_TEST(changed.status == 200, changed.body);
  BOOST_TEST(receiver.WaitFor([](const auto& requests) { return !requests.empty(); }, kWait));

  BOOST_TEST(http.Get("/api/v1/agents", kWrongToken).status == 401);
  BOOST_TEST(http.Get(std::string("/api/v1/agents?access_token=") + kQueryToken).status == 401);
  BOOST_TEST(http.Post("/api/v1/session", "", std::string(R"({"token": ")") + kWrongToken + "\"}")
                 .status == 401);
  HttpResponse opened =
      http.Post("/api/v1/session", "", R"({"token": ")" + server.tokens().supervisor + "\"}");
  BOOST_REQUIRE(opened.status == 200);
  const std::string session = SessionId(opened.Header("Set-Cookie"));
  BOOST_REQUIRE(session.size() >= 32u);
  const HttpHeaders cookie = {{"Cookie", "pa_session=" + session}};
  BOOST_TEST(http.Send({.path = "/api/v1/agents", .headers = cookie}).status == 200);
  BOOST_TEST(http.Send({.method = "DELETE", .path = "/api/v1/session", .headers = cookie}).status ==
             204);

  // Level info leaves the deliveries out; after a reload to debug they are logged one by one.
  BOOST_TEST(server.CountInLog(R"("level":"debug")") == 0u, server.Log());
  Object::Ptr config = server.Config();
  config->getObject("logging")->set("level", "debug");
  server.WriteConfig(config);
  server.Signal(SIGHUP);
  BOOST_REQUIRE(server.WaitForLog("configuration reloaded", kWait));
  BOOST_TEST(http.Put("/api/v1/agents/1001/state", server.tokens().agent, R"({"label": "Break"})")
                 .status == 200);
  BOOST_TEST(
      server.WaitForLog(R"("level":"debug","component":"connector","message":"delivered)", kWait),
      server.Log());
  BOOST_TEST(server.Stop(SIGTERM) == 0);
  BOOST_TEST(HasDeliveryWithFields(server.Log(), "hook"), server.Log());
  CheckJsonLog(server.Log(),
               {kAmiSecret, kAmiServerSecret, kWebhookSecret, kWrongToken, kQueryToken, session,
                server.tokens().agent, server.tokens().integration, server.tokens().supervisor,
                server.tokens().admin});
}

// A Teams connector whose client secret Entra ID refuses when a change is delivered.
BOOST_AUTO_TEST_CASE(a_refused_oauth_client_secret_is_logged_without_it) {
  FakeGraph graph(FakeGraph::Options{});
  graph.AddUser(kEntraId);
  AgentServer server([&](Object& config) {
    JsonLogging(config);
    Object::Ptr preset = ReadSample("skype-for-business.json");
    config.set("settings", preset->getObject("settings"));
    config.set("states", preset->getArray("states"));
    Object::Ptr identities = new Object();
    identities->set("teams", std::string(kEntraId));
    config.getArray("users")->getObject(0)->set("identities", identities);
    Object::Ptr teams = new Object();
    teams->set("type", "teams");
    teams->set("tenant", graph.options().tenant);
    teams->set("client_id", graph.options().client_id);
    teams->set("client_secret", std::string(kTeamsSecret));
    teams->set("login_url", graph.login_url());
    teams->set("graph_url", graph.graph_url());
    Array::Ptr connectors = new Array();
    connectors->add(teams);
    config.set("connectors", connectors);
  });
  server.Start();
  HttpResponse changed = server.Client().Put("/api/v1/agents/1001/state", server.tokens().agent,
                                             R"({"label": "Do Not Disturb"})");
  BOOST_TEST(changed.status == 200, changed.body);
  BOOST_TEST(server.WaitForLog("invalid_client", kWait), server.Log());
  BOOST_TEST(server.Stop(SIGTERM) == 0);
  BOOST_TEST(server.Log().find(R"("component":"connector","message":"token request refused)") !=
                 std::string::npos,
             server.Log());
  CheckJsonLog(server.Log(),
               {kTeamsSecret, graph.options().client_secret, server.tokens().agent,
                server.tokens().integration, server.tokens().supervisor, server.tokens().admin});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::testing
