// The Salesforce REST client against the fake org on loopback: both OAuth flows, one token
// renewal on 401, call counting, collections and composite end to end, and its configuration.

#include "connectors/salesforce/salesforce_client.h"

#include <atomic>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "connectors/http/http_client.h"
#include "connectors/salesforce/salesforce_protocol.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_salesforce.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using testing::FakeFieldType;
using testing::FakeSalesforce;
using testing::FakeSalesforceConfig;
using testing::JoinProblems;
using testing::ParseObject;
using testing::SharedRsaKeyPair;
using testing::Stringify;

const Timestamp kStart = *ParseTime("2026-11-21T09:30:00.000Z");
const long long kStartSeconds = ToEpochMillis(kStart) / 1000;

SalesforceAuth MustParse(const Poco::JSON::Object::Ptr& block) {
  json::Problems problems;
  std::optional<SalesforceAuth> auth = ParseSalesforceAuth(*block, "connectors[0]", problems);
  BOOST_TEST_REQUIRE(problems.empty(), JoinProblems(problems));
  BOOST_TEST_REQUIRE(auth.has_value());
  return *auth;
}

// A fake org and a client on a real HTTP client, sharing a fake clock (JWT exp is checked
// against it).
class Rig {
 public:
  explicit Rig(FakeSalesforceConfig config = {})
      : clock(kStart), fake(WithKey(std::move(config)), clock), http(NewHttpClient()) {
    fake.DefineEvent("Test_Event__e", {{"Note__c", FakeFieldType::kText}});
    fake.DefineObject(
        "Agent_Presence__c", "Agent_Key__c",
        {{"Status__c", FakeFieldType::kText}, {"Seconds__c", FakeFieldType::kNumber}});
  }

  Poco::JSON::Object::Ptr ClientCredentialsBlock(const std::string& secret = "") const {
    FakeSalesforceConfig defaults;
    auto block =
        ParseObject(R"({"auth": "client_credentials", "client_id": "3MVG9fake.consumer.key"})");
    block->set("login_url", fake.url());
    block->set("client_secret", secret.empty() ? defaults.client_secret : secret);
    return block;
  }

  // The key travels as a file, the way an admin would configure it.
  Poco::JSON::Object::Ptr JwtBlock() {
    std::ofstream(dir.File("sf.pem")) << SharedRsaKeyPair().private_pem;
    auto block = ParseObject(R"({"auth": "jwt_bearer", "client_id": "3MVG9fake.consumer.key",
                                 "username": "integration@example.com"})");
    Poco::JSON::Object::Ptr file = new Poco::JSON::Object;
    file->set("file", dir.File("sf.pem"));
    block->set("private_key", file);
    block->set("login_url", fake.url());
    return block;
  }

  std::unique_ptr<SalesforceClient> Client(const Poco::JSON::Object::Ptr& block) {
    return std::make_unique<SalesforceClient>(MustParse(block), *http, clock);
  }

  testing::FakeClock clock;
  testing::TempDir dir;
  FakeSalesforce fake;
  std::unique_ptr<HttpClient> http;

 private:
  static FakeSalesforceConfig WithKey(FakeSalesforceConfig config) {
    if (config.public_key_pem.empty()) config.public_key_pem = SharedRsaKeyPair().public_pem;
    return config;
  }
};

std::vector<testing::RecordedRequest> RequestsTo(FakeSalesforce& fake, const std::string& path) {
  std::vector<testing::RecordedRequest> found;
  for (const auto& request : fake.server().requests()) {
    if (request.path == path) found.push_back(request);
  }
  return found;
}

const std::string kEventPath = "/services/data/v59.0/sobjects/Test_Event__e/";

}  // namespace

BOOST_AUTO_TEST_SUITE(salesforce_client_test)

BOOST_AUTO_TEST_CASE(client_credentials_token_then_the_request_goes_to_the_instance_url) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  Result<HttpResponse> response =
      client->Send("POST", "/sobjects/Test_Event__e/", R"({"Note__c":"hello"})");
  BOOST_TEST_REQUIRE(response.ok(), (response.ok() ? "" : response.error().message));
  BOOST_TEST(response->status == 201);

  auto tokens = RequestsTo(rig.fake, "/services/oauth2/token");
  BOOST_TEST_REQUIRE(tokens.size() == 1u);
  BOOST_TEST(tokens[0].body ==
             "grant_type=client_credentials&client_id=3MVG9fake.consumer.key"
             "&client_secret=fake-consumer-secret");
  BOOST_TEST(tokens[0].Header("Content-Type") == "application/x-www-form-urlencoded");
  auto posts = RequestsTo(rig.fake, kEventPath);
  BOOST_TEST_REQUIRE(posts.size() == 1u);
  BOOST_TEST(posts[0].method == "POST");
  BOOST_TEST(posts[0].Header("Authorization") == "Bearer 00D000000000001!AQfake.1");
  BOOST_TEST(posts[0].Header("Content-Type") == "application/json");
  BOOST_TEST(posts[0].Header("Accept") == "application/json");
  BOOST_TEST(posts[0].body == R"({"Note__c":"hello"})");
  BOOST_TEST(rig.fake.events().size() == 1u);

  SalesforceClient::Usage usage = client->usage();
  BOOST_TEST(usage.api_calls == 1);
  BOOST_TEST(usage.token_requests == 1);
  BOOST_TEST(usage.instance_url == rig.fake.url());
}

BOOST_AUTO_TEST_CASE(jwt_bearer_assertion_carries_the_claims_and_is_accepted) {
  Rig rig;
  auto client = rig.Client(rig.JwtBlock());
  Result<HttpResponse> response = client->Send("POST", "/sobjects/Test_Event__e/", "{}");
  BOOST_TEST_REQUIRE(response.ok(), (response.ok() ? "" : response.error().message));
  BOOST_TEST(response->status == 201);

  auto tokens = RequestsTo(rig.fake, "/services/oauth2/token");
  BOOST_TEST_REQUIRE(tokens.size() == 1u);
  BOOST_TEST(tokens[0].FormField("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer");
  BOOST_TEST(tokens[0].FormField("client_secret") == "");
  std::string assertion = tokens[0].FormField("assertion");
  std::string claims = assertion.substr(assertion.find('.') + 1);
  claims = claims.substr(0, claims.find('.'));
  BOOST_TEST(Base64UrlDecode(claims).value_or("") ==
             R"({"iss":"3MVG9fake.consumer.key","sub":"integration@example.com",)"
             R"("aud":"https://login.salesforce.com","exp":)" +
                 std::to_string(kStartSeconds + 120) + "}");
  BOOST_TEST(rig.fake.tokens_issued() == 1);
}

BOOST_AUTO_TEST_CASE(jwt_signed_with_a_key_the_app_does_not_know_is_refused) {
  FakeSalesforceConfig config;
  config.public_key_pem = testing::GenerateRsaKeyPair().public_pem;
  Rig rig(config);
  auto client = rig.Client(rig.JwtBlock());
  Result<HttpResponse> response = client->Send("POST", "/sobjects/Test_Event__e/", "{}");
  BOOST_TEST_REQUIRE(!response.ok());
  BOOST_TEST(response.error().code == "invalid_grant");
  BOOST_TEST(response.error().message ==
             "token request refused: HTTP 400 invalid_grant (invalid assertion)");
  BOOST_TEST(client->usage().api_calls == 0);
}

BOOST_AUTO_TEST_CASE(jwt_from_a_clock_far_behind_salesforce_is_expired) {
  Rig rig;
  // Our clock signs exp = now + 2 minutes; Salesforce's is 5 minutes ahead of ours.
  testing::FakeClock salesforce_clock(kStart + std::chrono::minutes(5));
  FakeSalesforce ahead({.public_key_pem = SharedRsaKeyPair().public_pem}, salesforce_clock);
  auto block = rig.JwtBlock();
  block->set("login_url", ahead.url());
  SalesforceClient behind(MustParse(block), *rig.http, rig.clock);
  Result<HttpResponse> response = behind.Send("GET", "/limits");
  BOOST_TEST_REQUIRE(!response.ok());
  BOOST_TEST(response.error().message ==
             "token request refused: HTTP 400 invalid_grant (expired authorization code)");
}

BOOST_AUTO_TEST_CASE(expired_session_renews_the_token_once_and_the_request_succeeds) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  BOOST_TEST_REQUIRE(client->Send("POST", "/sobjects/Test_Event__e/", "{}").ok());
  rig.fake.RevokeTokens();
  Result<HttpResponse> response = client->Send("POST", "/sobjects/Test_Event__e/", "{}");
  BOOST_TEST_REQUIRE(response.ok());
  BOOST_TEST(response->status == 201);

  auto posts = RequestsTo(rig.fake, kEventPath);
  BOOST_TEST_REQUIRE(posts.size() == 3u);
  BOOST_TEST(posts[1].Header("Authorization") == "Bearer 00D000000000001!AQfake.1");
  BOOST_TEST(posts[2].Header("Authorization") == "Bearer 00D000000000001!AQfake.2");
  BOOST_TEST(client->usage().token_requests == 2);
  BOOST_TEST(client->usage().api_calls == 3);
  BOOST_TEST(rig.fake.events().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_second_401_is_returned_without_a_third_try) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  rig.fake.RefuseAllSessions(true);
  Result<HttpResponse> response = client->Send("POST", "/sobjects/Test_Event__e/", "{}");
  BOOST_TEST_REQUIRE(response.ok());
  BOOST_TEST(response->status == 401);
  BOOST_TEST(ParseErrorArray(response->body).at(0).code == "INVALID_SESSION_ID");
  BOOST_TEST(RequestsTo(rig.fake, kEventPath).size() == 2u);
  BOOST_TEST(client->usage().token_requests == 2);
  BOOST_TEST(client->usage().api_calls == 2);
}

BOOST_AUTO_TEST_CASE(refused_credentials_are_an_error_and_no_rest_call_is_made) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock("wrong-secret"));
  Result<HttpResponse> response = client->Send("POST", "/sobjects/Test_Event__e/", "{}");
  BOOST_TEST_REQUIRE(!response.ok());
  BOOST_TEST(response.error().code == "invalid_client");
  BOOST_TEST(response.error().message.find("wrong-secret") == std::string::npos);
  BOOST_TEST(rig.fake.api_requests() == 0);
  BOOST_TEST(client->usage().api_calls == 0);
  BOOST_TEST(client->usage().token_requests == 1);
}

BOOST_AUTO_TEST_CASE(unreachable_token_endpoint_is_a_network_error) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  rig.fake.server().Refuse();
  Result<HttpResponse> response = client->Send("GET", "/limits");
  BOOST_TEST_REQUIRE(!response.ok());
  BOOST_TEST(response.error().code == "network");
}

BOOST_AUTO_TEST_CASE(concurrent_workers_share_one_token) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  std::vector<std::thread> workers;
  std::atomic<int> created{0};
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto response = client->Send("POST", "/sobjects/Test_Event__e/", "{}");
        if (response.ok() && response->status == 201) ++created;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  BOOST_TEST(created.load() == 20);
  BOOST_TEST(client->usage().token_requests == 1);
  BOOST_TEST(client->usage().api_calls == 20);
  BOOST_TEST(rig.fake.api_requests() == 20);
}

BOOST_AUTO_TEST_CASE(collection_upsert_creates_then_updates_with_aligned_results) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  std::vector<Fields> records = {
      {{"Agent_Key__c", std::string("1001")}, {"Status__c", std::string("DND")}},
      {{"Agent_Key__c", std::string("1002")}, {"Seconds__c", 95.5}},
  };
  std::string path = CollectionUpsertPath("Agent_Presence__c", "Agent_Key__c");
  std::string body = CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", records).value();
  Result<HttpResponse> first = client->Send("PATCH", path, body);
  BOOST_TEST_REQUIRE(first.ok());
  BOOST_TEST(first->status == 200);
  auto created = ParseCollectionResults(first->body, 2);
  BOOST_TEST_REQUIRE(created.ok());
  BOOST_TEST(((*created)[0].success && (*created)[1].success));
  BOOST_TEST(((*created)[0].created == std::optional<bool>(true)));

  records[0][1].value = std::string("Ready");
  records.push_back({{"Status__c", std::string("no key")}});  // refused on its own
  body = R"({"allOrNone":false,"records":[)";
  for (std::size_t i = 0; i < records.size(); ++i) {
    body += (i ? "," : "") + std::string(R"({"attributes":{"type":"Agent_Presence__c"},)") +
            FieldsJson(records[i]).substr(1);
  }
  body += "]}";
  Result<HttpResponse> second = client->Send("PATCH", path, body);
  BOOST_TEST_REQUIRE(second.ok());
  auto updated = ParseCollectionResults(second->body, 3);
  BOOST_TEST_REQUIRE(updated.ok());
  BOOST_TEST(((*updated)[0].created == std::optional<bool>(false)));
  BOOST_TEST((*updated)[0].id == (*created)[0].id);
  BOOST_TEST(!(*updated)[2].success);
  BOOST_TEST((*updated)[2].errors.at(0).code == "MISSING_ARGUMENT");
  auto stored = rig.fake.Record("Agent_Presence__c", "1001");
  BOOST_TEST_REQUIRE(stored.has_value());
  BOOST_TEST(stored->fields->getValue<std::string>("Status__c") == "Ready");
  BOOST_TEST(rig.fake.RecordCount("Agent_Presence__c") == 2u);
}

BOOST_AUTO_TEST_CASE(collection_upsert_all_or_none_rolls_back_and_limits_are_enforced) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  std::string path = CollectionUpsertPath("Agent_Presence__c", "Agent_Key__c");
  std::vector<Fields> records = {
      {{"Agent_Key__c", std::string("1001")}, {"Status__c", std::string("DND")}},
      {{"Agent_Key__c", std::string("1002")}, {"Colour__c", std::string("red")}},  // no such field
  };
  std::string body =
      CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", records, true).value();
  Result<HttpResponse> response = client->Send("PATCH", path, body);
  BOOST_TEST_REQUIRE(response.ok());
  auto results = ParseCollectionResults(response->body, 2);
  BOOST_TEST_REQUIRE(results.ok());
  BOOST_TEST((*results)[0].errors.at(0).code == "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  BOOST_TEST((*results)[1].errors.at(0).code == "INVALID_FIELD");
  BOOST_TEST(rig.fake.RecordCount("Agent_Presence__c") == 0u);

  // 201 records: the protocol refuses to build it, and so does Salesforce.
  std::string many = R"({"allOrNone":false,"records":[)";
  for (int i = 0; i <= 200; ++i) {
    many += (i ? "," : "") + std::string(R"({"attributes":{"type":"Agent_Presence__c"},)") +
            R"("Agent_Key__c":")" + std::to_string(i) + R"("})";
  }
  response = client->Send("PATCH", path, many + "]}");
  BOOST_TEST_REQUIRE(response.ok());
  BOOST_TEST(response->status == 400);
  BOOST_TEST(ParseErrorArray(response->body).at(0).code == "EXCEEDED_ID_LIMIT");
  response = client->Send("PATCH", path, R"({"records":[{"Agent_Key__c":"1"}]})");
  BOOST_TEST_REQUIRE(response.ok());
  BOOST_TEST(response->status == 400);
  BOOST_TEST(ParseErrorArray(response->body).at(0).code == "INVALID_TYPE");
  BOOST_TEST(rig.fake.RecordCount("Agent_Presence__c") == 0u);
}

BOOST_AUTO_TEST_CASE(composite_upserts_and_publishes_in_one_call) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  std::string data = client->DataPath();
  std::vector<CompositeSubrequest> subrequests = {
      {"PATCH", data + "/sobjects/Agent_Presence__c/Agent_Key__c/1001", "pres",
       FieldsJson({{"Status__c", std::string("DND")}})},
      {"POST", data + "/sobjects/Test_Event__e", "evt",
       FieldsJson({{"Note__c", std::string("@{pres.id}")}})},
  };
  Result<HttpResponse> response =
      client->Send("POST", "/composite", CompositeBody(subrequests, true).value());
  BOOST_TEST_REQUIRE(response.ok());
  BOOST_TEST(response->status == 200);
  auto results = ParseCompositeResponse(response->body);
  BOOST_TEST_REQUIRE(results.ok());
  BOOST_TEST_REQUIRE(results->size() == 2u);
  BOOST_TEST((*results)[0].http_status == 201);
  BOOST_TEST((*results)[1].http_status == 201);
  std::string record_id = rig.fake.Record("Agent_Presence__c", "1001")->id;
  BOOST_TEST_REQUIRE(rig.fake.events().size() == 1u);
  BOOST_TEST(rig.fake.events()[0].fields->getValue<std::string>("Note__c") == record_id);
  BOOST_TEST(client->usage().api_calls == 1);  // one call for both

  // allOrNone: a bad second subrequest rolls the first back.
  subrequests[0].body_json = FieldsJson({{"Status__c", std::string("Lunch")}});
  subrequests[1].body_json = FieldsJson({{"Unknown__c", true}});
  response = client->Send("POST", "/composite", CompositeBody(subrequests, true).value());
  BOOST_TEST_REQUIRE(response.ok());
  results = ParseCompositeResponse(response->body);
  BOOST_TEST_REQUIRE(results.ok());
  BOOST_TEST((*results)[0].errors.at(0).code == "PROCESSING_HALTED");
  BOOST_TEST((*results)[1].errors.at(0).code == "INVALID_FIELD");
  BOOST_TEST(
      rig.fake.Record("Agent_Presence__c", "1001")->fields->getValue<std::string>("Status__c") ==
      "DND");
  BOOST_TEST(rig.fake.events().size() == 1u);
}

BOOST_AUTO_TEST_CASE(details_show_counts_and_org_usage_but_no_secret_or_token) {
  Rig rig;
  auto client = rig.Client(rig.ClientCredentialsBlock());
  BOOST_TEST_REQUIRE(client->Send("POST", "/sobjects/Test_Event__e/", "{}").ok());
  BOOST_TEST_REQUIRE(client->Send("POST", "/sobjects/Test_Event__e/", "{}").ok());
  std::string details = DetailsJson(client->Details());
  BOOST_TEST(details.find("fake-consumer-secret") == std::string::npos);
  BOOST_TEST(details.find("AQfake") == std::string::npos);
  auto parsed = ParseObject(details);
  BOOST_TEST(parsed->getValue<std::string>("auth") == "client_credentials");
  BOOST_TEST(parsed->getValue<std::string>("instance_url") == rig.fake.url());
  BOOST_TEST(parsed->getValue<int>("api_calls") == 2);
  BOOST_TEST(parsed->getValue<int>("token_requests") == 1);
  BOOST_TEST(parsed->getObject("org_api_usage")->getValue<int>("used") == 2);
  BOOST_TEST(parsed->getObject("org_api_usage")->getValue<int>("max") == 15000);
}

// ---- configuration -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(jwt_defaults_send_tokens_to_the_audience) {
  Rig rig;
  auto block = rig.JwtBlock();
  block->remove("login_url");
  SalesforceAuth auth = MustParse(block);
  BOOST_TEST(auth.login_url == "https://login.salesforce.com");
  BOOST_TEST(auth.audience == "https://login.salesforce.com");
  BOOST_TEST(auth.api_version == "59.0");
  BOOST_TEST(auth.request_timeout.count() == 10000);
  // The file's last newline goes.
  BOOST_TEST(auth.private_key_pem + "\n" == SharedRsaKeyPair().private_pem);

  block->set("audience", "https://test.salesforce.com/");
  block->set("api_version", "61.0");
  block->set("request_timeout_ms", 2500);
  auth = MustParse(block);
  BOOST_TEST(auth.login_url == "https://test.salesforce.com");
  BOOST_TEST(auth.audience == "https://test.salesforce.com");
  BOOST_TEST(auth.api_version == "61.0");
  BOOST_TEST(auth.request_timeout.count() == 2500);
}

struct ConfigCase {
  std::string name;
  std::string block;  // JSON; "KEY" is replaced by a valid PEM private key
  std::string problem;
};
std::ostream& operator<<(std::ostream& out, const ConfigCase& c) { return out << c.name; }

const std::string kCc = R"("auth": "client_credentials", "client_id": "k", "client_secret": "s", )";
const std::string kJwt = R"("auth": "jwt_bearer", "client_id": "k", "username": "u@x", )";

const std::vector<ConfigCase> kConfigCases = {
    {"missing_client_id",
     R"({"auth": "client_credentials", "client_secret": "s", "login_url": "https://a.my.salesforce.com"})",
     "connectors[0].client_id: missing (the app's consumer key)"},
    {"missing_auth", R"({"client_id": "k"})",
     "connectors[0].auth: missing (client_credentials, jwt_bearer)"},
    {"unknown_auth", R"({"client_id": "k", "auth": "password"})",
     "connectors[0].auth: \"password\" is not an auth type (client_credentials, jwt_bearer)"},
    {"client_credentials_on_login_host",
     "{" + kCc + R"("login_url": "https://login.salesforce.com"})",
     "connectors[0].login_url: client credentials must go to the org's My Domain "
     "(https://yourorg.my.salesforce.com), login.salesforce.com refuses them"},
    {"client_credentials_on_test_host_in_capitals",
     "{" + kCc + R"("login_url": "https://Test.Salesforce.com"})",
     "connectors[0].login_url: client credentials must go to the org's My Domain "
     "(https://yourorg.my.salesforce.com), test.salesforce.com refuses them"},
    {"client_credentials_without_login_url", "{" + kCc + R"("api_version": "59.0"})",
     "connectors[0].login_url: missing (the org's My Domain, e.g. "
     "https://yourorg.my.salesforce.com)"},
    {"login_url_with_token_path",
     "{" + kCc + R"("login_url": "https://a.my.salesforce.com/services/oauth2/token"})",
     "connectors[0].login_url: \"https://a.my.salesforce.com/services/oau...\" must be the site "
     "only (e.g. https://yourorg.my.salesforce.com)"},
    {"login_url_not_http", "{" + kCc + R"("login_url": "ftp://a.my.salesforce.com"})",
     "connectors[0].login_url: \"ftp://a.my.salesforce.com\" is not an http:// or https:// URL "
     "with a host"},
    {"missing_client_secret",
     R"({"auth": "client_credentials", "client_id": "k", "login_url": "https://a.my.salesforce.com"})",
     "connectors[0].client_secret: missing (the app's consumer secret)"},
    {"username_with_client_credentials",
     "{" + kCc + R"("login_url": "https://a.my.salesforce.com", "username": "u"})",
     "connectors[0].username: only used with auth jwt_bearer"},
    {"jwt_without_username", R"({"auth": "jwt_bearer", "client_id": "k", "private_key": "KEY"})",
     "connectors[0].username: missing (the Salesforce username the agent acts as)"},
    {"jwt_without_private_key", "{" + kJwt + R"("audience": "https://login.salesforce.com"})",
     "connectors[0].private_key: missing (PEM text of the app's RSA key)"},
    {"jwt_private_key_not_pem", "{" + kJwt + R"("private_key": "-----BEGIN nonsense"})",
     "connectors[0].private_key: not an unencrypted RSA private key in PEM form"},
    {"jwt_with_client_secret", "{" + kJwt + R"("private_key": "KEY", "client_secret": "s"})",
     "connectors[0].client_secret: only used with auth client_credentials"},
    {"api_version_without_minor", "{" + kJwt + R"("private_key": "KEY", "api_version": "59"})",
     "connectors[0].api_version: \"59\" is not an API version (\"NN.0\", 46.0 or later)"},
    {"api_version_too_old", "{" + kJwt + R"("private_key": "KEY", "api_version": "45.0"})",
     "connectors[0].api_version: \"45.0\" is not an API version (\"NN.0\", 46.0 or later)"},
    {"timeout_too_short", "{" + kJwt + R"("private_key": "KEY", "request_timeout_ms": 10})",
     "connectors[0].request_timeout_ms: 10 is out of range (1000-120000)"},
};

BOOST_DATA_TEST_CASE(configuration_problems_name_the_key_and_what_is_allowed,
                     data::make(kConfigCases), c) {
  Poco::JSON::Object::Ptr block = ParseObject(c.block);
  if (block->has("private_key") && block->getValue<std::string>("private_key") == "KEY") {
    block->set("private_key", SharedRsaKeyPair().private_pem);
  }
  json::Problems problems;
  std::optional<SalesforceAuth> auth = ParseSalesforceAuth(*block, "connectors[0]", problems);
  BOOST_TEST(!auth.has_value());
  BOOST_TEST(problems == std::vector<std::string>{c.problem}, JoinProblems(problems));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
