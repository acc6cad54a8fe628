// The Teams connector against the fake Graph on loopback: tokens, the session and preferred
// presence paths, keep-alive refreshes, Graph's failures, and configuration problems.

#include "connectors/teams/teams_connector.h"

#include <Poco/JSON/Object.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "connectors/connector.h"
#include "connectors/http/http_client.h"
#include "tests/fakes/connector_block.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_graph.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using testing::CatalogFromJson;
using testing::FakeClock;
using testing::FakeFailure;
using testing::FakeGraph;
using testing::GraphCall;
using testing::GraphPresence;
using testing::JoinProblems;
using testing::ParseBlock;
using testing::ParsedBlock;
using testing::ParseObject;
using testing::Stringify;
using Kind = DeliveryResult::Kind;

constexpr char kClientId[] = "22553876-f5ab-4529-bffb-cfe50aa89f87";
constexpr char kSecret[] = "graph-secret-value";
constexpr char kObjectId[] = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";
constexpr char kUnknownObjectId[] = "0d9c3a5e-1111-4222-8333-944455556666";
const Timestamp kStart = FromEpochMillis(1'795'000'000'000);

// Skype for Business preset: each reason code is the availability it publishes (2.1).
constexpr char kSkypeCatalog[] = R"({
  "settings": {"mode": "skype_for_business", "wrap_up_seconds": 30, "wrap_up_state": "Wrap-up"},
  "states": [
    {"label": "Ready for Calls", "reason_code": "3500", "status": 1},
    {"label": "Do Not Disturb", "reason_code": "9500", "status": 4},
    {"label": "Wrap-up", "reason_code": "9500", "status": 4, "selectable": false},
    {"label": "Busy", "reason_code": "6500", "status": 5},
    {"label": "Be Right Back", "reason_code": "12500", "status": 3},
    {"label": "Away", "reason_code": "15500", "status": 3},
    {"label": "On a call", "reason_code": "6500", "status": 6, "selectable": false,
     "mappings": {"teams": {"availability": "Busy", "activity": "InACall"}}},
    {"label": "Offline", "reason_code": "18500", "status": 2},
    {"label": "Logout", "reason_code": "18500", "status": 7}
  ]})";

// A block's problems when parsed against `catalog`.
json::Problems ParseProblems(const json::Object& block, const Catalog& catalog) {
  ParsedBlock parsed = ParseBlock(TeamsConnectorType(), block, catalog);
  BOOST_TEST((parsed.settings == nullptr) == !parsed.problems.empty());
  return parsed.problems;
}

struct Fixture {
  explicit Fixture(const std::string& catalog_json = kSkypeCatalog, std::string extra_keys = "")
      : graph(FakeGraph::Options{.clock = &clock}), catalog(CatalogFromJson(catalog_json)) {
    graph.AddUser(kObjectId);
    directory.catalog = catalog;
    directory.SetUsers(
        std::vector<User>{User{"1001", "Ada", "1001", "blue", {{"teams", kObjectId}}},
                          User{"1002", "Bob", "1002", "blue", {}},
                          User{"1003", "Cy", "1003", "blue", {{"teams", kUnknownObjectId}}},
                          User{"1004", "Di", "1004", "blue", {{"teams", "di@contoso.com"}}}});
    block = ParseObject(R"({"type": "teams", "tenant": "contoso.onmicrosoft.com", "client_id": ")" +
                        std::string(kClientId) + R"(", "client_secret": ")" + kSecret +
                        R"(", "login_url": ")" + graph.login_url() + R"(", "graph_url": ")" +
                        graph.graph_url() + "/\"" + extra_keys + "}");
    connector = Create();
  }

  ~Fixture() { graph.http().ReleaseHung(); }

  // A connector as the service makes one (a second one plays a restarted process).
  std::unique_ptr<Connector> Create() {
    ConnectorType type = TeamsConnectorType();
    ParsedBlock parsed = ParseBlock(type, *block, *catalog);
    BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
    ConnectorEnv env{&clock,
                     [this](LogLevel level, std::string_view text) {
                       std::lock_guard lock(log_mutex);
                       logs.push_back(std::string(LogLevelName(level)) + " " + std::string(text));
                     },
                     http.get()};
    return type.create(parsed.settings, env);
  }

  DeliveryResult Deliver(const std::string& label, bool refresh = false,
                         const std::string& user = "1001", Connector* to = nullptr) {
    const reasoncodes::State* state = catalog->Find(label);
    BOOST_TEST_REQUIRE(state != nullptr);
    Delivery delivery;
    delivery.id = refresh ? 0 : next_id++;
    delivery.refresh = refresh;
    delivery.change = Change{user,
                             clock.Now(),
                             "",
                             state->label,
                             state->reason_code,
                             state->status,
                             reasoncodes::Source::kAgent,
                             "select"};
    return (to ? to : connector.get())->Deliver(delivery, directory);
  }

  // Graph actions other than token fetches, in order.
  std::vector<std::string> GraphActions() const {
    std::vector<std::string> out;
    for (const std::string& action : graph.actions()) {
      if (action != "token") out.push_back(action);
    }
    return out;
  }

  GraphCall LastCall(const std::string& action) const {
    std::vector<GraphCall> calls = graph.calls();
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
      if (it->action == action) return *it;
    }
    BOOST_FAIL("no " + action + " call");
    return {};
  }

  FakeClock clock{kStart};
  FakeGraph graph;
  std::shared_ptr<const Catalog> catalog;
  std::unique_ptr<HttpClient> http = NewHttpClient();
  Directory directory;
  json::Object::Ptr block;
  std::mutex log_mutex;
  std::vector<std::string> logs;
  std::unique_ptr<Connector> connector;
  int64_t next_id = 1;
};

std::string SetPresenceBodyFor(const std::string& availability, const std::string& activity,
                               const std::string& duration = "PT1H") {
  return R"({"sessionId":")" + std::string(kClientId) + R"(","availability":")" + availability +
         R"(","activity":")" + activity + R"(","expirationDuration":")" + duration + R"("})";
}

FakeFailure GraphFailure(int status, const std::string& code, testing::FakeHeaders headers = {}) {
  return FakeFailure::Status(status, std::move(headers),
                             R"({"error":{"code":")" + code +
                                 R"(","message":"Graph said no.","innerError":{"date":"x"}}})");
}

struct StateCase {
  std::string label;
  GraphPresence visible;
  bool preferred;  // reached through setUserPreferredPresence
};
std::ostream& operator<<(std::ostream& out, const StateCase& c) { return out << c.label; }

const std::vector<StateCase> kStateCases = {
    {"Ready for Calls", {"Available", "Available"}, false},
    {"Away", {"Away", "Away"}, false},
    {"On a call", {"Busy", "InACall"}, false},
    {"Do Not Disturb", {"DoNotDisturb", "DoNotDisturb"}, true},
    {"Wrap-up", {"DoNotDisturb", "DoNotDisturb"}, true},
    {"Busy", {"Busy", "Busy"}, true},
    {"Be Right Back", {"BeRightBack", "BeRightBack"}, true},
    {"Offline", {"Offline", "OffWork"}, true},
    {"Logout", {"Offline", "OffWork"}, true},
};

struct ConfigCase {
  std::string name;
  std::string block;     // the block's JSON
  std::string expected;  // the one problem, or its start when it ends with "..."
};
std::ostream& operator<<(std::ostream& out, const ConfigCase& c) { return out << c.name; }

std::string Block(const std::string& members) {
  return R"({"type": "teams", "tenant": "contoso.onmicrosoft.com",)"
         R"( "client_id": "22553876-f5ab-4529-bffb-cfe50aa89f87",)"
         R"( "client_secret": "s")" +
         members + "}";
}

const std::vector<ConfigCase> kConfigCases = {
    {"missing tenant",
     R"({"client_id": "22553876-f5ab-4529-bffb-cfe50aa89f87", "client_secret": "s"})",
     "connectors[0].tenant: missing (the Entra tenant: a GUID or a domain such as "
     "contoso.onmicrosoft.com)"},
    {"tenant neither GUID nor domain",
     R"({"tenant": "contoso", "client_id": "22553876-f5ab-4529-bffb-cfe50aa89f87",)"
     R"( "client_secret": "s"})",
     "connectors[0].tenant: \"contoso\" is neither a tenant GUID nor a domain such as "
     "contoso.onmicrosoft.com"},
    {"bad client_id",
     R"({"tenant": "contoso.onmicrosoft.com", "client_id": "my-app", "client_secret": "s"})",
     "connectors[0].client_id: \"my-app\" is not an application (client) id (a GUID such as "
     "22553876-f5ab-4529-bffb-cfe50aa89f87)"},
    {"missing client_id", R"({"tenant": "contoso.onmicrosoft.com", "client_secret": "s"})",
     "connectors[0].client_id: missing (the application (client) id, a GUID such as "
     "22553876-f5ab-4529-bffb-cfe50aa89f87)"},
    {"missing client_secret",
     R"({"tenant": "contoso.onmicrosoft.com", "client_id": "22553876-f5ab-4529-bffb-cfe50aa89f87"})",
     "connectors[0].client_secret: missing (the application's client secret: \"text\", "
     "{\"env\": \"NAME\"} or {\"file\": \"path\"})"},
    {"empty client_secret",
     R"({"tenant": "contoso.onmicrosoft.com", "client_id": "22553876-f5ab-4529-bffb-cfe50aa89f87",)"
     R"( "client_secret": ""})",
     "connectors[0].client_secret: is empty (a secret, {\"env\": NAME} or {\"file\": PATH})"},
    {"expiration above four hours", Block(R"(, "expiration": "PT4H1M")"),
     "connectors[0].expiration: \"PT4H1M\" is out of range (PT5M..PT4H)"},
    {"expiration below five minutes", Block(R"(, "expiration": "PT299S")"),
     "connectors[0].expiration: \"PT299S\" is out of range (PT5M..PT4H)"},
    {"expiration not ISO", Block(R"(, "expiration": "1 hour")"),
     "connectors[0].expiration: \"1 hour\" is not an ISO-8601 duration (PT5M..PT4H, e.g. "
     "\"PT1H\")"},
    {"request timeout too small", Block(R"(, "request_timeout_ms": 5)"),
     "connectors[0].request_timeout_ms: ..."},
    {"graph_url not http", Block(R"(, "graph_url": "ftp://graph.example")"),
     "connectors[0].graph_url: ..."},
};

void CheckOneProblem(const json::Problems& problems, const std::string& expected) {
  BOOST_TEST_REQUIRE(problems.size() == 1u, JoinProblems(problems));
  if (expected.ends_with("...")) {
    BOOST_TEST(problems[0].starts_with(expected.substr(0, expected.size() - 3)), problems[0]);
  } else {
    BOOST_TEST(problems[0] == expected);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(teams_connector_test)

BOOST_AUTO_TEST_CASE(available_fetches_a_token_once_then_sets_the_session_presence) {
  Fixture f;
  DeliveryResult result = f.Deliver("Ready for Calls");
  BOOST_TEST((result.kind == Kind::kDelivered), result.detail);
  // Nothing is known about a preferred presence left before this process: it is cleared once.
  BOOST_TEST(f.graph.actions() ==
                 (std::vector<std::string>{"token", "setPresence", "clearUserPreferredPresence"}),
             boost::test_tools::per_element());
  std::vector<testing::RecordedRequest> requests = f.graph.http().requests();
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  BOOST_TEST(requests[0].path == "/contoso.onmicrosoft.com/oauth2/v2.0/token");
  BOOST_TEST(requests[0].Header("Content-Type").starts_with("application/x-www-form-urlencoded"));
  BOOST_TEST(requests[0].body ==
             "client_id=22553876-f5ab-4529-bffb-cfe50aa89f87"
             "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
             "&client_secret=graph-secret-value&grant_type=client_credentials");
  BOOST_TEST(requests[1].path == "/v1.0/users/" + std::string(kObjectId) + "/presence/setPresence");
  BOOST_TEST(requests[1].Header("Authorization") == "Bearer fake-graph-token-1");
  BOOST_TEST(requests[1].Header("Content-Type").starts_with("application/json"));
  BOOST_TEST(requests[1].body == SetPresenceBodyFor("Available", "Available"));
  BOOST_TEST(requests[2].body == "{}");
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
}

BOOST_AUTO_TEST_CASE(dnd_keeps_the_session_available_and_sets_the_preferred_presence) {
  Fixture f;
  BOOST_TEST((f.Deliver("Do Not Disturb").kind == Kind::kDelivered));
  BOOST_TEST(
      f.GraphActions() == (std::vector<std::string>{"setPresence", "setUserPreferredPresence"}),
      boost::test_tools::per_element());
  BOOST_TEST(f.LastCall("setPresence").body == SetPresenceBodyFor("Available", "Available"));
  BOOST_TEST(f.LastCall("setUserPreferredPresence").body ==
             R"({"availability":"DoNotDisturb","activity":"DoNotDisturb"})");
  BOOST_TEST(f.graph.AppSession(kObjectId).value_or(GraphPresence{}) ==
             (GraphPresence{"Available", "Available"}));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"DoNotDisturb", "DoNotDisturb"}));

  f.graph.ClearCalls();
  BOOST_TEST((f.Deliver("Ready for Calls").kind == Kind::kDelivered));
  BOOST_TEST(
      f.GraphActions() == (std::vector<std::string>{"setPresence", "clearUserPreferredPresence"}),
      boost::test_tools::per_element());
  BOOST_TEST(!f.graph.PreferredPresence(kObjectId).has_value());
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
}

BOOST_AUTO_TEST_CASE(a_session_state_after_a_session_state_clears_nothing) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.graph.ClearCalls();
  BOOST_TEST((f.Deliver("On a call").kind == Kind::kDelivered));
  BOOST_TEST(f.GraphActions() == (std::vector<std::string>{"setPresence"}),
             boost::test_tools::per_element());
  BOOST_TEST(f.LastCall("setPresence").body == SetPresenceBodyFor("Busy", "InACall"));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Busy", "InACall"}));
}

BOOST_DATA_TEST_CASE(each_state_shows_in_teams_as_its_pair, data::make(kStateCases), c) {
  Fixture f;
  DeliveryResult result = f.Deliver(c.label);
  BOOST_TEST((result.kind == Kind::kDelivered), result.detail);
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == c.visible);
  BOOST_TEST(f.graph.PreferredPresence(kObjectId).has_value() == c.preferred);
  GraphPresence session = c.preferred ? GraphPresence{"Available", "Available"} : c.visible;
  BOOST_TEST(f.graph.AppSession(kObjectId).value_or(GraphPresence{}) == session);
}

BOOST_AUTO_TEST_CASE(wrap_up_then_ready_arrive_as_two_deliveries_in_order) {
  Fixture f;
  f.Deliver("On a call");
  BOOST_TEST((f.Deliver("Wrap-up").kind == Kind::kDelivered));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"DoNotDisturb", "DoNotDisturb"}));
  f.clock.Advance(std::chrono::seconds(30));
  BOOST_TEST((f.Deliver("Ready for Calls").kind == Kind::kDelivered));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
}

BOOST_AUTO_TEST_CASE(without_skype_for_business_mode_the_status_decides) {
  Fixture f(testing::TestCatalogJson({}));
  f.Deliver("Meeting");  // *64, status 5
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Busy", "Busy"}));
  f.Deliver("Lunch");  // *62, status 3
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Away", "Away"}));
}

BOOST_AUTO_TEST_CASE(the_configured_expiration_is_the_set_presence_duration) {
  Fixture f(kSkypeCatalog, R"(, "expiration": "PT30M")");
  f.Deliver("Away");
  BOOST_TEST(f.LastCall("setPresence").body == SetPresenceBodyFor("Away", "Away", "PT30M"));
}

BOOST_AUTO_TEST_CASE(the_token_is_reused_and_renewed_five_minutes_before_it_expires) {
  Fixture f;
  f.graph.SetExpiresIn(3600);
  f.Deliver("Ready for Calls");
  f.clock.Advance(std::chrono::minutes(54) + std::chrono::seconds(59));
  f.Deliver("Away");
  BOOST_TEST(f.graph.tokens_issued() == 1);
  f.clock.Advance(std::chrono::seconds(1));  // expiry - 5 min
  BOOST_TEST((f.Deliver("Ready for Calls").kind == Kind::kDelivered));
  BOOST_TEST(f.graph.tokens_issued() == 2);
  BOOST_TEST(f.LastCall("setPresence").status == 200);
  BOOST_TEST(f.graph.http().requests().back().Header("Authorization") ==
             "Bearer fake-graph-token-2");
}

BOOST_AUTO_TEST_CASE(a_revoked_token_is_replaced_once_within_the_same_delivery) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.graph.RevokeTokens();
  f.graph.ClearCalls();
  DeliveryResult result = f.Deliver("Do Not Disturb");
  BOOST_TEST((result.kind == Kind::kDelivered), result.detail);
  BOOST_TEST(f.graph.tokens_issued() == 2);
  std::vector<GraphCall> calls = f.graph.calls();
  BOOST_TEST_REQUIRE(calls.size() == 4u);
  BOOST_TEST(calls[0].action == "setPresence");
  BOOST_TEST(calls[0].status == 401);
  BOOST_TEST(calls[1].action == "token");
  BOOST_TEST(calls[2].action == "setPresence");
  BOOST_TEST(calls[2].status == 200);
  BOOST_TEST(calls[3].action == "setUserPreferredPresence");
  BOOST_TEST(calls[3].status == 200);
}

BOOST_AUTO_TEST_CASE(a_refused_client_secret_is_retried_and_names_the_aad_error) {
  Fixture f;
  f.block->set("client_secret", "wrong-secret");
  f.connector = f.Create();
  DeliveryResult result = f.Deliver("Ready for Calls");
  BOOST_TEST((result.kind == Kind::kRetry));
  BOOST_TEST(result.whole_connector);
  BOOST_TEST(result.detail.find("invalid_client") != std::string::npos, result.detail);
  BOOST_TEST(result.detail.find("wrong-secret") == std::string::npos);
  BOOST_TEST(f.GraphActions().empty());
}

BOOST_DATA_TEST_CASE(throttling_is_retried_after_the_retry_after_wait,
                     data::make(std::vector<int>{429, 503}), status) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.graph.http().FailNext(1, GraphFailure(status, "TooManyRequests", {{"Retry-After", "2"}}));
  DeliveryResult result = f.Deliver("Away");
  BOOST_TEST((result.kind == Kind::kRetry));
  BOOST_TEST_REQUIRE(result.retry_after.has_value());
  BOOST_TEST(result.retry_after->count() == 2000);
  BOOST_TEST(result.detail.find("TooManyRequests") != std::string::npos, result.detail);
}

BOOST_AUTO_TEST_CASE(a_server_error_is_retried) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.graph.http().FailNext(1, FakeFailure::Status(500));
  DeliveryResult result = f.Deliver("Away");
  BOOST_TEST((result.kind == Kind::kRetry));
  BOOST_TEST(!result.retry_after.has_value());
  BOOST_TEST(result.detail == "setPresence for 1001: HTTP 500");
}

BOOST_AUTO_TEST_CASE(a_failed_preferred_presence_fails_the_delivery_for_another_try) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.graph.FailAction("setUserPreferredPresence", testing::FakeResponse::Empty(500));
  DeliveryResult result = f.Deliver("Do Not Disturb");
  BOOST_TEST((result.kind == Kind::kRetry));
  BOOST_TEST(result.detail == "setUserPreferredPresence for 1001: HTTP 500");
  BOOST_TEST(!f.graph.PreferredPresence(kObjectId).has_value());
  f.graph.ClearCalls();
  BOOST_TEST((f.Deliver("Do Not Disturb").kind == Kind::kDelivered));
  BOOST_TEST(
      f.GraphActions() == (std::vector<std::string>{"setPresence", "setUserPreferredPresence"}),
      boost::test_tools::per_element());
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"DoNotDisturb", "DoNotDisturb"}));
}

BOOST_AUTO_TEST_CASE(a_preference_whose_clearing_failed_is_cleared_by_the_next_refresh) {
  Fixture f;
  f.Deliver("Do Not Disturb");
  f.graph.FailAction("clearUserPreferredPresence", testing::FakeResponse::Empty(503));
  BOOST_TEST((f.Deliver("Ready for Calls").kind == Kind::kRetry));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"DoNotDisturb", "DoNotDisturb"}));
  f.graph.ClearCalls();
  BOOST_TEST((f.Deliver("Ready for Calls", true).kind == Kind::kDelivered));
  BOOST_TEST(
      f.GraphActions() == (std::vector<std::string>{"setPresence", "clearUserPreferredPresence"}),
      boost::test_tools::per_element());
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
}

BOOST_DATA_TEST_CASE(network_failures_are_retried,
                     data::make(std::vector<std::string>{"drop", "refuse", "hang"}), how) {
  // The timeout bounds the hung request; it is also every later request's, so it leaves room
  // for a slow machine (a sanitizer build under load) to answer the ones after recovery.
  Fixture f(kSkypeCatalog, R"(, "request_timeout_ms": 1000)");
  f.Deliver("Ready for Calls");
  // FailAll: the HTTP client may resend once on a fresh connection after a reused one fails.
  if (how == "drop") f.graph.http().FailAll(FakeFailure::Drop());
  if (how == "hang") f.graph.http().FailAll(FakeFailure::Hang());
  if (how == "refuse") f.graph.http().Refuse();
  DeliveryResult result = f.Deliver("Away");
  BOOST_TEST((result.kind == Kind::kRetry), result.detail);
  BOOST_TEST(result.whole_connector);
  f.graph.http().ClearFailures();
  f.graph.http().ReleaseHung();
  if (how == "refuse") f.graph.http().Accept();
  // The HTTP client may first try a pooled connection the server closed while refusing
  // ("Broken pipe"): that attempt is a retry too, and the dispatcher's next one gets through.
  DeliveryResult again = f.Deliver("Away");
  if (how == "refuse" && again.kind == Kind::kRetry) again = f.Deliver("Away");
  BOOST_TEST((again.kind == Kind::kDelivered), again.detail);
}

BOOST_DATA_TEST_CASE(a_refusal_is_rejected_with_the_graph_code,
                     data::make(std::vector<int>{400, 403, 404}), status) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.graph.http().FailNext(1, GraphFailure(status, "InvalidRequest"));
  DeliveryResult result = f.Deliver("Away");
  BOOST_TEST((result.kind == Kind::kRejected));
  BOOST_TEST(result.detail == "setPresence for 1001: HTTP " + std::to_string(status) +
                                  " InvalidRequest: Graph said no.");
}

BOOST_AUTO_TEST_CASE(a_user_graph_does_not_know_is_rejected_with_not_found) {
  Fixture f;
  DeliveryResult result = f.Deliver("Ready for Calls", false, "1003");
  BOOST_TEST((result.kind == Kind::kRejected));
  BOOST_TEST(result.detail == "setPresence for 1003: HTTP 404 NotFound: User not found.");
}

BOOST_AUTO_TEST_CASE(a_user_without_a_teams_identity_is_rejected_without_calling_graph) {
  Fixture f;
  DeliveryResult result = f.Deliver("Ready for Calls", false, "1002");
  BOOST_TEST((result.kind == Kind::kRejected));
  BOOST_TEST(result.detail == "user 1002 has no identities.teams (Entra object id)");
  BOOST_TEST(f.graph.http().count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_teams_identity_that_is_not_an_object_id_is_rejected) {
  Fixture f;
  DeliveryResult result = f.Deliver("Ready for Calls", false, "1004");
  BOOST_TEST((result.kind == Kind::kRejected));
  BOOST_TEST(result.detail ==
             "user 1004: identities.teams \"di@contoso.com\" is not an Entra object id (a GUID)");
  BOOST_TEST(f.graph.http().count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_refresh_of_a_session_state_re_sends_only_set_presence) {
  Fixture f;
  f.Deliver("On a call");
  f.graph.ClearCalls();
  f.clock.Advance(std::chrono::minutes(4));
  BOOST_TEST((f.Deliver("On a call", true).kind == Kind::kDelivered));
  BOOST_TEST(f.GraphActions() == (std::vector<std::string>{"setPresence"}),
             boost::test_tools::per_element());
  BOOST_TEST(f.LastCall("setPresence").body == SetPresenceBodyFor("Busy", "InACall"));
}

BOOST_AUTO_TEST_CASE(refreshes_keep_an_available_session_from_fading) {
  Fixture f;
  f.Deliver("Ready for Calls");
  f.clock.Advance(std::chrono::minutes(6));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) ==
             (GraphPresence{"Available", "AvailableInactive"}));
  f.Deliver("Ready for Calls", true);
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
  f.clock.Advance(std::chrono::minutes(4));
  f.Deliver("Ready for Calls", true);
  f.clock.Advance(std::chrono::minutes(4));
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
}

BOOST_AUTO_TEST_CASE(a_refresh_of_a_preferred_state_sets_the_preference_again_after_12_hours) {
  Fixture f;
  f.Deliver("Do Not Disturb");
  f.graph.ClearCalls();
  f.clock.Advance(std::chrono::hours(12));
  BOOST_TEST((f.Deliver("Do Not Disturb", true).kind == Kind::kDelivered));
  BOOST_TEST(f.GraphActions() == (std::vector<std::string>{"setPresence"}),
             boost::test_tools::per_element());
  BOOST_TEST(f.LastCall("setPresence").body == SetPresenceBodyFor("Available", "Available"));
  f.graph.ClearCalls();
  f.clock.Advance(std::chrono::milliseconds(1));
  BOOST_TEST((f.Deliver("Do Not Disturb", true).kind == Kind::kDelivered));
  BOOST_TEST(
      f.GraphActions() == (std::vector<std::string>{"setPresence", "setUserPreferredPresence"}),
      boost::test_tools::per_element());
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"DoNotDisturb", "DoNotDisturb"}));
}

BOOST_AUTO_TEST_CASE(after_a_restart_the_first_refresh_clears_a_preference_left_behind) {
  Fixture f;
  f.Deliver("Do Not Disturb");
  std::unique_ptr<Connector> restarted = f.Create();
  f.graph.ClearCalls();
  BOOST_TEST(
      (f.Deliver("Ready for Calls", true, "1001", restarted.get()).kind == Kind::kDelivered));
  BOOST_TEST(
      f.GraphActions() == (std::vector<std::string>{"setPresence", "clearUserPreferredPresence"}),
      boost::test_tools::per_element());
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Available", "Available"}));
  f.graph.ClearCalls();
  f.Deliver("Ready for Calls", true, "1001", restarted.get());
  BOOST_TEST(f.GraphActions() == (std::vector<std::string>{"setPresence"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(details_show_tokens_and_preferences_but_never_a_secret) {
  Fixture f;
  f.graph.SetExpiresIn(3600);
  f.Deliver("Do Not Disturb");
  f.Deliver("Ready for Calls", false, "1003");
  std::optional<ConnectorDetails> reported = f.connector->Details();
  BOOST_TEST_REQUIRE(reported.has_value());
  Poco::JSON::Object::Ptr details = ParseObject(DetailsJson(*reported));
  BOOST_TEST(details->getValue<int>("token_fetches") == 1);
  BOOST_TEST(details->getValue<std::string>("token_expires_at") ==
             FormatTime(kStart + std::chrono::hours(1)));
  std::string text = Stringify(*details);
  BOOST_TEST(text.find(R"("users_with_preferred_presence":["1001"])") != std::string::npos, text);
  BOOST_TEST(text.find(kSecret) == std::string::npos);
  BOOST_TEST(text.find("fake-graph-token") == std::string::npos);
  for (const std::string& line : f.logs) {
    BOOST_TEST(line.find(kSecret) == std::string::npos, line);
    BOOST_TEST(line.find("fake-graph-token") == std::string::npos, line);
  }
}

BOOST_AUTO_TEST_CASE(the_fake_graph_refuses_clearing_a_session_that_does_not_exist) {
  Fixture f;
  f.Deliver("Ready for Calls");
  HttpRequest request;
  request.method = "POST";
  request.url = f.graph.graph_url() + "/users/" + kObjectId + "/presence/clearPresence";
  request.headers = {{"Authorization", "Bearer fake-graph-token-1"},
                     {"Content-Type", "application/json"}};
  request.body = R"({"sessionId":")" + std::string(kClientId) + R"("})";
  Result<HttpResponse> first = f.http->Send(request);
  Result<HttpResponse> second = f.http->Send(request);
  BOOST_TEST_REQUIRE(first.ok());
  BOOST_TEST_REQUIRE(second.ok());
  BOOST_TEST(first->status == 200);
  BOOST_TEST(second->status == 404);
  BOOST_TEST(f.graph.VisiblePresence(kObjectId) == (GraphPresence{"Offline", "Offline"}));
}

BOOST_AUTO_TEST_CASE(the_fake_graph_reads_back_what_a_teams_user_sees) {
  Fixture f;
  f.graph.SetClientSession(kObjectId, "teams-desktop", {"Available", "Available"});
  f.Deliver("On a call");
  HttpRequest request;
  request.url = f.graph.graph_url() + "/users/" + kObjectId + "/presence";
  request.headers = {{"Authorization", "Bearer fake-graph-token-1"}};
  Result<HttpResponse> response = f.http->Send(request);
  BOOST_TEST_REQUIRE(response.ok());
  BOOST_TEST(response->status == 200);
  Poco::JSON::Object::Ptr body = ParseObject(response->body);
  BOOST_TEST(body->getValue<std::string>("availability") == "Busy");
  BOOST_TEST(body->getValue<std::string>("activity") == "InACall");
}

BOOST_AUTO_TEST_CASE(the_type_declares_its_keys_mode_and_delivery_defaults) {
  ConnectorType type = TeamsConnectorType();
  BOOST_TEST(type.type == "teams");
  BOOST_TEST(type.mode == "skype_for_business");
  BOOST_TEST(type.keys ==
                 (std::vector<std::string_view>{"tenant", "client_id", "client_secret", "login_url",
                                                "graph_url", "expiration", "request_timeout_ms"}),
             boost::test_tools::per_element());
  BOOST_TEST(type.defaults.coalesce);
  BOOST_TEST(type.defaults.concurrency == 4);
  BOOST_TEST(type.defaults.rate_per_second == 40.0);
  BOOST_TEST(type.defaults.burst == 40);
  BOOST_TEST_REQUIRE(type.defaults.refresh_every.has_value());
  BOOST_TEST(type.defaults.refresh_every->count() == 240000);
  BOOST_TEST(type.defaults.skip_sources.empty());
}

BOOST_DATA_TEST_CASE(a_bad_block_is_reported_with_its_path, data::make(kConfigCases), c) {
  std::shared_ptr<const Catalog> catalog = CatalogFromJson(kSkypeCatalog);
  CheckOneProblem(ParseProblems(*ParseObject(c.block), *catalog), c.expected);
}

BOOST_AUTO_TEST_CASE(a_state_mapping_no_call_accepts_is_a_load_problem) {
  std::string catalog_json = kSkypeCatalog;
  std::string good = R"("availability": "Busy", "activity": "InACall")";
  catalog_json.replace(catalog_json.find(good), good.size(),
                       R"("availability": "Busy", "activity": "InAMeeting")");
  std::shared_ptr<const Catalog> catalog = CatalogFromJson(catalog_json);
  json::Problems problems = ParseProblems(*ParseObject(Block("")), *catalog);
  CheckOneProblem(problems,
                  "states[6].mappings.teams: Busy/InAMeeting is accepted neither by setPresence "
                  "(Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, "
                  "DoNotDisturb/Presenting) nor by setUserPreferredPresence "
                  "(Available/Available, Busy/Busy, DoNotDisturb/DoNotDisturb, "
                  "BeRightBack/BeRightBack, Away/Away, Offline/OffWork)");
}

BOOST_AUTO_TEST_CASE(the_shipped_skype_for_business_sample_passes_the_teams_checks) {
  std::ifstream file(std::string(PRESENCE_SOURCE_DIR) + "/samples/skype-for-business.json");
  BOOST_TEST_REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  std::shared_ptr<const Catalog> catalog = CatalogFromJson(text.str());
  BOOST_TEST(ParseProblems(*ParseObject(Block("")), *catalog).empty());
}

BOOST_AUTO_TEST_CASE(a_good_block_parses_with_the_defaults) {
  std::shared_ptr<const Catalog> catalog = CatalogFromJson(kSkypeCatalog);
  BOOST_TEST(ParseProblems(*ParseObject(Block("")), *catalog).empty());
  json::Object::Ptr guid_tenant = ParseObject(Block(""));
  guid_tenant->set("tenant", "fa8bf3dc-eca7-46b7-bad1-db199b62afc3");
  BOOST_TEST(ParseProblems(*guid_tenant, *catalog).empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
