// The omni_channel connector against the fake Salesforce org: one platform event per mapped
// change (integrations.md 3.6, 3.7), what is not sent, how answers are read, configuration.

#include "connectors/omni_channel/omni_channel_connector.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/http/http_client.h"
#include "tests/fakes/connector_block.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_salesforce.h"
#include "tests/fakes/salesforce_test_env.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using reasoncodes::Source;
using testing::CatalogFromJson;
using testing::FakeFailure;
using testing::FakeSalesforce;
using testing::JoinProblems;
using testing::ParseBlock;
using testing::ParsedBlock;
using testing::SalesforceBlock;

const Timestamp kStart = *ParseTime("2026-11-21T09:30:00.000Z");
const std::string kEvent = "Presence_Agent_Status__e";
const std::string kEventPath = "/services/data/v59.0/sobjects/Presence_Agent_Status__e/";
const std::string kDndMapping = R"({"status_id": "0N5000000000002CAA"})";

// The event's fields as samples/salesforce/ defines them.
testing::FakeFields EventFields() {
  testing::FakeFields fields = testing::SampleObjectFields(kEvent);
  BOOST_TEST_REQUIRE(fields.size() == 9u);
  return fields;
}

// states[1] (Do Not Disturb) takes `dnd_mapping`; On a call and Meeting have no block.
std::string CatalogJson(const std::string& dnd_mapping) {
  return R"({"settings": {"omni_channel": true}, "states": [
    {"label": "Ready for Calls", "reason_code": "*60", "status": 1,
     "mappings": {"omni_channel": {"status_id": "0N5000000000001"}}},
    {"label": "Do Not Disturb", "reason_code": "*61", "status": 4,
     "mappings": {"omni_channel": )" +
         dnd_mapping + R"(}},
    {"label": "Lunch", "reason_code": "*62", "status": 3,
     "mappings": {"omni_channel": {"status_id": "0N5000000000003"}}},
    {"label": "Meeting", "reason_code": "", "status": 5},
    {"label": "On a call", "reason_code": "*69", "status": 6, "selectable": false},
    {"label": "Logout", "reason_code": "*67", "status": 7,
     "mappings": {"omni_channel": {"logout": true}}}
  ]})";
}

User MakeUser(const std::string& id, const std::string& salesforce) {
  User user;
  user.id = id;
  user.name = "Agent " + id;
  if (!salesforce.empty()) user.identities["salesforce"] = salesforce;
  return user;
}

// An omni_channel connector built the way the service builds it, on a real HTTP client.
class Rig {
 public:
  explicit Rig(const std::string& extra = "{}")
      : clock(kStart), fake({}, clock), http(NewHttpClient()) {
    fake.DefineEvent(kEvent, EventFields());
    directory.catalog = CatalogFromJson(CatalogJson(kDndMapping));
    directory.SetUsers(std::vector<User>{MakeUser("1001", "005000000000001AAA"),
                                         MakeUser("1002", ""),
                                         MakeUser("1003", "00Q000000000001")});
    ParsedBlock parsed = ParseBlock(OmniChannelConnectorType(), *SalesforceBlock(fake.url(), extra),
                                    *directory.catalog, "connectors[0]", "omni");
    BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
    ConnectorEnv env{&clock, nullptr, http.get()};
    connector = OmniChannelConnectorType().create(parsed.settings, env);
  }

  Change MakeChange(const std::string& label, const std::string& agent = "1001",
                    Source source = Source::kAgent) const {
    Change change;
    change.agent = agent;
    change.at = kStart + Millis(250);
    change.from_label = "Ready for Calls";
    change.label = label;
    if (const reasoncodes::State* state = directory.FindState(label)) {
      change.reason_code = state->reason_code;
      change.status = state->status;
    }
    change.source = source;
    change.cause = "select";
    return change;
  }

  DeliveryResult Deliver(const std::string& label, const std::string& agent = "1001") {
    return connector->Deliver(Delivery{1, MakeChange(label, agent)}, directory);
  }

  // A first delivery gets the token, so a failure queued next hits the event request.
  void Prime() { BOOST_TEST_REQUIRE((Deliver("Lunch").kind == DeliveryResult::Kind::kDelivered)); }

  testing::FakeClock clock;
  FakeSalesforce fake;
  std::unique_ptr<HttpClient> http;
  Directory directory;
  std::unique_ptr<Connector> connector;
};

std::string Kind(DeliveryResult::Kind kind) {
  switch (kind) {
    case DeliveryResult::Kind::kDelivered:
      return "delivered";
    case DeliveryResult::Kind::kRetry:
      return "retry";
    case DeliveryResult::Kind::kRejected:
      return "rejected";
  }
  return "?";
}

struct WantsCase {
  std::string label;
  bool wants;
};
std::ostream& operator<<(std::ostream& out, const WantsCase& c) { return out << c.label; }

struct AnswerCase {
  std::string name;
  FakeFailure failure;
  std::string kind;
  std::optional<long long> retry_after_ms;
  std::string detail;
  bool every_request = false;  // FailAll instead of the next request only
};
std::ostream& operator<<(std::ostream& out, const AnswerCase& c) { return out << c.name; }

struct ConfigCase {
  std::string name;
  std::string extra;        // block keys
  std::string dnd_mapping;  // states[1].mappings.omni_channel
  std::string problem;
};
std::ostream& operator<<(std::ostream& out, const ConfigCase& c) { return out << c.name; }

const std::string kWhat = "Presence_Agent_Status__e for 1001 (Do Not Disturb): ";

}  // namespace

BOOST_AUTO_TEST_SUITE(omni_channel_connector_test)

BOOST_AUTO_TEST_CASE(picklist_change_publishes_one_platform_event_with_the_fields) {
  Rig rig;
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == "delivered", result.detail);
  BOOST_TEST(result.detail == kWhat + "published (event 00000000-0000-4000-8000-000000000001)");
  std::vector<testing::RecordedRequest> requests = rig.fake.server().requests();
  BOOST_TEST_REQUIRE(requests.size() == 2u);  // the token, then the event
  BOOST_TEST(requests[1].method == "POST");
  BOOST_TEST(requests[1].path == kEventPath);
  BOOST_TEST(
      requests[1].body ==
      R"({"User_Id__c":"005000000000001AAA","Agent_Key__c":"1001",)"
      R"("Status_Id__c":"0N5000000000002CAA","Logout__c":false,"Label__c":"Do Not Disturb",)"
      R"("Reason_Code__c":"*61","Status_Code__c":4,"Changed_At__c":"2026-11-21T09:30:00.250Z",)"
      R"("Source__c":"agent"})");
  BOOST_TEST(rig.fake.events().size() == 1u);
}

BOOST_AUTO_TEST_CASE(logout_state_publishes_logout_true_without_a_status_id) {
  Rig rig;
  BOOST_TEST_REQUIRE((rig.Deliver("Logout").kind == DeliveryResult::Kind::kDelivered));
  std::vector<testing::PublishedEvent> events = rig.fake.events();
  BOOST_TEST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].body ==
             R"({"User_Id__c":"005000000000001AAA","Agent_Key__c":"1001","Status_Id__c":null,)"
             R"("Logout__c":true,"Label__c":"Logout","Reason_Code__c":"*67","Status_Code__c":7,)"
             R"("Changed_At__c":"2026-11-21T09:30:00.250Z","Source__c":"agent"})");
}

const std::vector<WantsCase> kWants = {
    {"Ready for Calls", true}, {"Do Not Disturb", true},       {"Lunch", true},
    {"Logout", true},          {"On a call", false},  // Omni-Channel has no on-call status (3.7)
    {"Meeting", false},        {"Removed by a reload", false},
};

BOOST_DATA_TEST_CASE(only_states_with_a_mapping_are_wanted, data::make(kWants), c) {
  Rig rig;
  BOOST_TEST(rig.connector->Wants(rig.MakeChange(c.label), rig.directory) == c.wants);
}

BOOST_AUTO_TEST_CASE(an_unmapped_state_that_reaches_deliver_publishes_nothing) {
  Rig rig;
  DeliveryResult result = rig.Deliver("On a call");
  BOOST_TEST(Kind(result.kind) == "delivered");
  BOOST_TEST(result.detail == "state \"On a call\" has no omni_channel mapping: nothing published");
  BOOST_TEST(rig.fake.server().count() == 0u);
}

// The dispatcher drops changes of the policy's skip_sources before Wants (dispatcher_test).
BOOST_AUTO_TEST_CASE(changes_made_by_the_crm_are_not_echoed_back) {
  BOOST_TEST((OmniChannelConnectorType().defaults.skip_sources == std::set<Source>{Source::kCrm}));
}

BOOST_AUTO_TEST_CASE(type_defaults_coalesce_two_workers_and_no_mode) {
  ConnectorType type = OmniChannelConnectorType();
  BOOST_TEST(type.type == "omni_channel");
  BOOST_TEST(type.defaults.coalesce);
  BOOST_TEST(type.defaults.concurrency == 2);
  BOOST_TEST(!type.defaults.refresh_every.has_value());
  BOOST_TEST(type.mode == "");
  std::vector<std::string> keys(type.keys.begin(), type.keys.end());
  BOOST_TEST(keys == (std::vector<std::string>{"login_url", "auth", "client_id", "client_secret",
                                               "username", "private_key", "audience", "api_version",
                                               "request_timeout_ms", "event_object"}));
}

const std::vector<AnswerCase> kAnswers = {
    {"throttled", FakeFailure::Status(429, {{"Retry-After", "7"}}), "retry", 7000,
     kWhat + "HTTP 429"},
    {"server_error", FakeFailure::Status(500), "retry", std::nullopt, kWhat + "HTTP 500"},
    {"busy_with_retry_after",
     FakeFailure::Status(503, {{"Retry-After", "30"}},
                         R"([{"message":"Server too busy","errorCode":"SERVER_UNAVAILABLE"}])"),
     "retry", 30000, kWhat + "HTTP 503 SERVER_UNAVAILABLE: Server too busy"},
    {"org_api_limit",
     FakeFailure::Status(403, {},
                         R"([{"message":"TotalRequests Limit exceeded.",)"
                         R"("errorCode":"REQUEST_LIMIT_EXCEEDED"}])"),
     "retry", std::nullopt,
     kWhat + "HTTP 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."},
    // cpprestsdk sends again on another connection when a reused one drops: drop them all.
    {"dropped_connection", FakeFailure::Drop(), "retry", std::nullopt, "", true},
    {"bad_request",
     FakeFailure::Status(400, {},
                         R"([{"message":"Value too long for field","errorCode":"STRING_TOO_LONG",)"
                         R"("fields":["Label__c"]}])"),
     "rejected", std::nullopt,
     kWhat + "HTTP 400 STRING_TOO_LONG: Value too long for field (fields: Label__c)"},
    {"not_published",
     FakeFailure::Status(201, {},
                         R"({"success":false,"errors":[{"statusCode":"INVALID_FIELD",)"
                         R"("message":"bad value","fields":["Status_Code__c"]}]})"),
     "rejected", std::nullopt,
     kWhat + "not published: INVALID_FIELD: bad value (fields: Status_Code__c)"},
    {"no_permission",
     FakeFailure::Status(403, {},
                         R"([{"message":"insufficient access rights on object id",)"
                         R"("errorCode":"INSUFFICIENT_ACCESS_OR_READONLY"}])"),
     "rejected", std::nullopt,
     kWhat + "HTTP 403 INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id"},
};

BOOST_DATA_TEST_CASE(answers_are_delivered_retried_or_rejected, data::make(kAnswers), c) {
  Rig rig;
  rig.Prime();
  if (c.every_request) {
    rig.fake.server().FailAll(c.failure);
  } else {
    rig.fake.server().FailNext(1, c.failure);
  }
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == c.kind, result.detail);
  if (!c.detail.empty()) BOOST_TEST(result.detail == c.detail);
  std::optional<long long> waited;
  if (result.retry_after) waited = result.retry_after->count();
  BOOST_TEST(waited.value_or(-1) == c.retry_after_ms.value_or(-1));
  if (result.kind == DeliveryResult::Kind::kRetry) BOOST_TEST(result.whole_connector);
}

BOOST_AUTO_TEST_CASE(an_event_field_the_org_does_not_have_is_rejected_with_its_error) {
  Rig rig;
  testing::FakeFields fields = EventFields();
  fields.erase("Source__c");
  rig.fake.DefineEvent(kEvent, fields);
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == "rejected");
  BOOST_TEST(result.detail == kWhat +
                                  "HTTP 400 INVALID_FIELD: No such column 'Source__c' on sobject "
                                  "of type Presence_Agent_Status__e (fields: Source__c)");
}

BOOST_AUTO_TEST_CASE(an_unreachable_org_is_retried) {
  Rig rig;
  rig.Prime();
  rig.fake.server().Refuse();
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == "retry", result.detail);
  BOOST_TEST(result.detail.rfind(kWhat, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(an_expired_session_is_renewed_and_the_event_delivered) {
  Rig rig;
  rig.Prime();
  rig.fake.RevokeTokens();
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == "delivered", result.detail);
  BOOST_TEST(rig.fake.events().size() == 2u);
  BOOST_TEST(rig.fake.tokens_issued() == 2);
}

BOOST_AUTO_TEST_CASE(a_session_refused_after_renewal_is_retried) {
  Rig rig;
  rig.fake.RefuseAllSessions(true);
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == "retry");
  BOOST_TEST(result.detail == kWhat + "HTTP 401 INVALID_SESSION_ID: Session expired or invalid");
  BOOST_TEST(rig.fake.tokens_issued() == 2);
}

BOOST_AUTO_TEST_CASE(refused_credentials_are_retried_without_showing_the_secret) {
  Rig rig(R"({"client_secret": "wrong-secret"})");
  DeliveryResult result = rig.Deliver("Do Not Disturb");
  BOOST_TEST(Kind(result.kind) == "retry");
  BOOST_TEST(result.detail ==
             kWhat + "token request refused: HTTP 400 invalid_client (invalid client credentials)");
  BOOST_TEST(rig.fake.events().empty());
}

BOOST_AUTO_TEST_CASE(users_without_a_salesforce_user_id_are_rejected_without_a_request) {
  Rig rig;
  DeliveryResult missing = rig.Deliver("Lunch", "1002");
  BOOST_TEST(Kind(missing.kind) == "rejected");
  BOOST_TEST(missing.detail ==
             "user \"1002\" has no identities.salesforce (the Salesforce user "
             "id, 005..., 15 or 18 characters)");
  DeliveryResult wrong = rig.Deliver("Lunch", "1003");
  BOOST_TEST(Kind(wrong.kind) == "rejected");
  BOOST_TEST(wrong.detail ==
             "user \"1003\": identities.salesforce \"00Q000000000001\" is not a "
             "Salesforce user id (005..., 15 or 18 characters)");
  DeliveryResult unknown = rig.Deliver("Lunch", "9999");
  BOOST_TEST(Kind(unknown.kind) == "rejected");
  BOOST_TEST(unknown.detail == "unknown user \"9999\"");
  BOOST_TEST(rig.fake.server().count() == 0u);
}

BOOST_AUTO_TEST_CASE(event_object_from_the_block_names_the_request_path) {
  Rig rig(R"({"event_object": "Omni_Sync__e"})");
  rig.fake.DefineEvent("Omni_Sync__e", EventFields());
  BOOST_TEST_REQUIRE((rig.Deliver("Lunch").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(rig.fake.events().at(0).object == "Omni_Sync__e");
  BOOST_TEST(rig.fake.server().requests().back().path ==
             "/services/data/v59.0/sobjects/Omni_Sync__e/");
}

BOOST_AUTO_TEST_CASE(details_show_auth_counts_and_event_object_but_no_secret_or_token) {
  Rig rig;
  rig.Prime();
  BOOST_TEST_REQUIRE((rig.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kDelivered));
  std::optional<ConnectorDetails> reported = rig.connector->Details();
  BOOST_TEST_REQUIRE(reported.has_value());
  const std::string text = DetailsJson(*reported);
  BOOST_TEST(text.find("fake-consumer-secret") == std::string::npos);
  BOOST_TEST(text.find("AQfake") == std::string::npos);
  Poco::JSON::Object::Ptr details = testing::ParseObject(text);
  BOOST_TEST(details->getValue<std::string>("auth") == "client_credentials");
  BOOST_TEST(details->getValue<std::string>("instance_url") == rig.fake.url());
  BOOST_TEST(details->getValue<std::string>("event_object") == kEvent);
  BOOST_TEST(details->getValue<int>("token_requests") == 1);
  BOOST_TEST(details->getValue<int>("api_calls") == 2);
}

const std::vector<ConfigCase> kConfigCases = {
    {"status_id_of_another_object", "{}", R"({"status_id": "0N6000000000002"})",
     "states[1].mappings.omni_channel.status_id: \"0N6000000000002\" is not a "
     "ServicePresenceStatus id (15 or 18 characters, 0N5...)"},
    {"status_id_with_a_wrong_checksum", "{}", R"({"status_id": "0N5000000000002AAA"})",
     "states[1].mappings.omni_channel.status_id: \"0N5000000000002AAA\" is not a "
     "ServicePresenceStatus id (15 or 18 characters, 0N5...)"},
    {"status_id_number", "{}", R"({"status_id": 5})",
     "states[1].mappings.omni_channel.status_id: must be a string, got number 5"},
    {"status_id_and_logout", "{}", R"({"status_id": "0N5000000000002", "logout": true})",
     "states[1].mappings.omni_channel: status_id and \"logout\": true exclude each other"},
    {"neither_status_id_nor_logout", "{}", R"({"logout": false})",
     "states[1].mappings.omni_channel: needs \"status_id\" (a ServicePresenceStatus id, 0N5...) "
     "or \"logout\": true"},
    {"misspelt_key", "{}", R"({"statusId": "0N5000000000002"})",
     "states[1].mappings.omni_channel.statusId: unknown key, did you mean \"status_id\"? "
     "(allowed: status_id, logout)"},
    {"event_object_not_an_event", R"({"event_object": "Presence_Agent_Status__c"})", kDndMapping,
     "connectors[0].event_object: \"Presence_Agent_Status__c\" is not a platform event API name "
     "(e.g. Presence_Agent_Status__e)"},
    {"event_object_with_a_space", R"({"event_object": "Presence Status__e"})", kDndMapping,
     "connectors[0].event_object: \"Presence Status__e\" is not a platform event API name "
     "(e.g. Presence_Agent_Status__e)"},
    {"missing_client_id", R"({"client_id": null})", kDndMapping,
     "connectors[0].client_id: missing (the app's consumer key)"},
};

BOOST_DATA_TEST_CASE(configuration_problems_name_the_key_and_what_is_allowed,
                     data::make(kConfigCases), c) {
  auto catalog = CatalogFromJson(CatalogJson(c.dnd_mapping));
  ParsedBlock parsed = ParseBlock(OmniChannelConnectorType(),
                                  *SalesforceBlock("https://acme.my.salesforce.com", c.extra),
                                  *catalog, "connectors[0]", "omni");
  BOOST_TEST(!parsed.settings);
  BOOST_TEST(parsed.problems == std::vector<std::string>{c.problem}, JoinProblems(parsed.problems));
}

BOOST_AUTO_TEST_CASE(a_valid_block_parses_with_the_default_event_object) {
  auto catalog = CatalogFromJson(CatalogJson(kDndMapping));
  ParsedBlock parsed =
      ParseBlock(OmniChannelConnectorType(), *SalesforceBlock("https://acme.my.salesforce.com"),
                 *catalog, "connectors[0]", "omni");
  BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
  auto settings = std::dynamic_pointer_cast<const OmniChannelSettings>(parsed.settings);
  BOOST_TEST_REQUIRE(settings);
  BOOST_TEST(settings->event_object == "Presence_Agent_Status__e");
  BOOST_TEST(settings->auth.login_url == "https://acme.my.salesforce.com");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
