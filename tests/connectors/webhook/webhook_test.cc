// The webhook connector: the body and signature byte for byte (checked against RFC 4231 and
// OpenSSL's HMAC), configuration problems, and deliveries to a receiver on loopback that
// fails the ways real receivers fail.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/builtin/builtin_connectors.h"
#include "connectors/http/http_client.h"
#include "connectors/registry.h"
#include "connectors/webhook/webhook_connector.h"
#include "connectors/webhook/webhook_protocol.h"
#include "reasoncodes/catalog_loader.h"
#include "tests/fakes/connector_block.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_server.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using Kind = DeliveryResult::Kind;
using testing::FakeFailure;
using testing::FakeHttpServer;
using testing::JoinProblems;
using testing::ParseBlock;
using testing::ParsedBlock;
using testing::ParseObject;
using testing::RecordedRequest;

const Timestamp kStart = *ParseTime("2026-11-21T09:30:00.000Z");
constexpr std::string_view kStartSeconds = "1795253400";  // kStart as unix seconds
const std::string kSecret = "whsec-0123456789abcdef";

// Computed apart from the code under test: OpenSSL's one-shot HMAC.
std::string OpenSslHmacHex(std::string_view key, std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  return hex;
}

// What a receiver does (samples/webhook/README.md).
bool SignatureVerifies(const RecordedRequest& request, std::string_view secret) {
  std::string timestamp = request.Header("X-Presence-Timestamp");
  return request.Header("X-Presence-Signature") ==
         "sha256=" + OpenSslHmacHex(secret, timestamp + "." + request.body);
}

reasoncodes::User Ann() {
  return reasoncodes::User{.id = "1001", .name = "Ann Lee", .extension = "1001", .team = "Sales"};
}

Change LunchChange() {
  return Change{.agent = "1001",
                .at = *ParseTime("2026-11-21T09:30:00.250Z"),
                .from_label = "Ready for Calls",
                .label = "Lunch",
                .reason_code = "*62",
                .status = reasoncodes::StatusCode::kAway,
                .source = reasoncodes::Source::kAgent,
                .cause = "select"};
}

const std::string kLunchBody =
    R"({"type":"presence.changed","delivery":"crm-hook-42",)"
    R"("user":{"id":"1001","name":"Ann Lee","extension":"1001","team":"Sales"},)"
    R"("change":{"at":"2026-11-21T09:30:00.250Z","from_label":"Ready for Calls",)"
    R"("label":"Lunch","reason_code":"*62","status":3,"status_name":"Away",)"
    R"("source":"agent","cause":"select"}})";

// A webhook connector built the way the service builds it, posting to a FakeHttpServer.
class Rig {
 public:
  explicit Rig(const std::string& extra_keys = "") : clock(kStart), http_(NewHttpClient()) {
    directory.catalog = testing::MakeTestCatalog({});
    directory.SetUsers(std::vector<User>{Ann()});
    ParsedBlock parsed =
        ParseBlock(WebhookConnectorType(),
                   *ParseObject(R"({"type": "webhook", "url": ")" + receiver.url() +
                                R"(/hooks/presence?tenant=acme", "secret": ")" + kSecret + "\"" +
                                extra_keys + "}"),
                   *directory.catalog, "connectors[1]", "crm-hook");
    BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
    ConnectorEnv env{&clock, [](LogLevel, std::string_view) {}, http_.get()};
    connector = WebhookConnectorType().create(parsed.settings, env);
  }

  DeliveryResult Deliver(int attempt = 1) {
    Delivery delivery{.id = 42, .change = LunchChange(), .attempt = attempt};
    return connector->Deliver(delivery, directory);
  }

  FakeHttpServer receiver;
  testing::FakeClock clock;
  Directory directory;
  std::unique_ptr<Connector> connector;

 private:
  std::unique_ptr<HttpClient> http_;
};

BOOST_AUTO_TEST_SUITE(webhook_test)

// --- body and signature, byte for byte -----------------------------------------------------

BOOST_AUTO_TEST_CASE(body_lists_the_change_in_the_documented_order) {
  BOOST_TEST(WebhookDeliveryId("crm-hook", 42) == "crm-hook-42");
  BOOST_TEST(WebhookBody("crm-hook-42", Ann(), LunchChange()) == kLunchBody);
}

BOOST_AUTO_TEST_CASE(a_first_change_has_an_empty_from_label) {
  Change change = LunchChange();
  change.from_label.clear();
  Poco::JSON::Object::Ptr body = ParseObject(WebhookBody("h-1", Ann(), change));
  BOOST_TEST(body->getObject("change")->getValue<std::string>("from_label").empty());
}

BOOST_AUTO_TEST_CASE(hmac_matches_the_rfc_4231_vectors) {
  // RFC 4231 test cases 1 and 2, HMAC-SHA-256.
  BOOST_TEST(HmacSha256Hex(std::string(20, '\x0b'), "Hi There") ==
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  BOOST_TEST(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_CASE(signature_is_hmac_of_timestamp_dot_body) {
  std::string signature = WebhookSignature(kSecret, kStartSeconds, kLunchBody);
  BOOST_TEST(signature ==
             "sha256=" + OpenSslHmacHex(kSecret, std::string(kStartSeconds) + "." + kLunchBody));
  BOOST_TEST(signature != WebhookSignature(kSecret, "1795253401", kLunchBody));
}

// --- configuration -------------------------------------------------------------------------

struct ConfigCase {
  std::string name;
  std::string block;
  std::string path;
  std::string problem;
};
std::ostream& operator<<(std::ostream& out, const ConfigCase& test) { return out << test.name; }

const std::string kGoodSecret = R"("secret": "0123456789abcdef")";

const std::vector<ConfigCase> kBadConfigs = {
    {"no url", "{" + kGoodSecret + "}", "connectors[1].url", "missing"},
    {"url not http", R"({"url": "ftp://example.com/x", )" + kGoodSecret + "}", "connectors[1].url",
     "is not an http:// or https:// URL"},
    {"url without host", R"({"url": "https:///hook", )" + kGoodSecret + "}", "connectors[1].url",
     "is not an http:// or https:// URL"},
    {"no secret", R"({"url": "https://example.com/hook"})", "connectors[1].secret", "missing"},
    {"short secret", R"({"url": "https://example.com/hook", "secret": "0123456789abcde"})",
     "connectors[1].secret", "shorter than 16 bytes"},
    {"secret from an unset variable",
     R"({"url": "https://example.com/hook", "secret": {"env": "PRESENCE_TEST_UNSET_HOOK_KEY"}})",
     "connectors[1].secret.env", "is not set"},
    {"headers not an object",
     R"({"url": "https://example.com/hook", "headers": [1], )" + kGoodSecret + "}",
     "connectors[1].headers", "must be an object"},
    {"our own content type",
     R"({"url": "https://example.com/hook", )" + kGoodSecret +
         R"(, "headers": {"content-type": "text/plain"}})",
     "connectors[1].headers.content-type", "set by the connector itself"},
    {"our own signature header",
     R"({"url": "https://example.com/hook", )" + kGoodSecret +
         R"(, "headers": {"X-Presence-Signature": "x"}})",
     "connectors[1].headers.X-Presence-Signature", "set by the connector itself"},
    {"header name with a space",
     R"({"url": "https://example.com/hook", )" + kGoodSecret +
         R"(, "headers": {"X Tenant": "acme"}})",
     "connectors[1].headers.X Tenant", "is not a header name"},
    {"header value with a line break",
     R"({"url": "https://example.com/hook", )" + kGoodSecret +
         R"(, "headers": {"X-Tenant": "a\r\nEvil: 1"}})",
     "connectors[1].headers.X-Tenant", "line break"},
    {"header given twice",
     R"({"url": "https://example.com/hook", )" + kGoodSecret +
         R"(, "headers": {"X-Tenant": "a", "x-tenant": "b"}})",
     "connectors[1].headers.", "given twice"},
    {"timeout too long",
     R"({"url": "https://example.com/hook", "request_timeout_ms": 999999, )" + kGoodSecret + "}",
     "connectors[1].request_timeout_ms", "999999"},
};

BOOST_DATA_TEST_CASE(bad_blocks_are_reported_where_they_are, data::make(kBadConfigs), test) {
  auto catalog = testing::MakeTestCatalog({});
  ParsedBlock parsed = ParseBlock(WebhookConnectorType(), *ParseObject(test.block), *catalog,
                                  "connectors[1]", "crm-hook");
  BOOST_TEST(!parsed.settings);
  BOOST_TEST_REQUIRE(parsed.problems.size() == 1u, JoinProblems(parsed.problems));
  const std::string& problem = parsed.problems[0];
  BOOST_TEST(problem.starts_with(test.path), problem);
  BOOST_TEST(problem.find(test.problem) != std::string::npos, problem);
}

BOOST_AUTO_TEST_CASE(a_short_secret_is_not_echoed_in_the_problem) {
  auto catalog = testing::MakeTestCatalog({});
  ParsedBlock parsed =
      ParseBlock(WebhookConnectorType(),
                 *ParseObject(R"({"url": "https://example.com/hook", "secret": "tiny-key-xyz"})"),
                 *catalog, "connectors[1]", "crm-hook");
  BOOST_TEST_REQUIRE(parsed.problems.size() == 1u);
  BOOST_TEST(parsed.problems[0].find("tiny-key-xyz") == std::string::npos, parsed.problems[0]);
}

BOOST_AUTO_TEST_CASE(a_good_block_reads_headers_from_secrets_and_defaults_the_timeout) {
  ::setenv("PRESENCE_TEST_HOOK_TOKEN", "Bearer tok-123", 1);
  auto catalog = testing::MakeTestCatalog({});
  ParsedBlock parsed =
      ParseBlock(WebhookConnectorType(),
                 *ParseObject(R"({"url": "https://example.com/hook", )" + kGoodSecret +
                              R"(, "headers": {"Authorization": {"env": "PRESENCE_TEST_HOOK_TOKEN"},
                                             "X-Tenant": "acme"}})"),
                 *catalog, "connectors[1]", "crm-hook");
  ::unsetenv("PRESENCE_TEST_HOOK_TOKEN");
  BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
  auto settings = std::dynamic_pointer_cast<const WebhookSettings>(parsed.settings);
  BOOST_TEST_REQUIRE(settings != nullptr);
  BOOST_TEST(settings->name == "crm-hook");
  BOOST_TEST(settings->secret == "0123456789abcdef");
  BOOST_TEST(settings->request_timeout.count() == 10000);
  BOOST_TEST(settings->headers ==
             (Headers{{"Authorization", "Bearer tok-123"}, {"X-Tenant", "acme"}}));
}

BOOST_AUTO_TEST_CASE(a_webhook_mapping_block_is_reported_per_state) {
  reasoncodes::CatalogLoad load = reasoncodes::LoadCatalogText(R"({
    "states": [
      {"label": "Ready for Calls", "reason_code": "*60", "status": 1,
       "mappings": {"webhook": {"skip": true}}},
      {"label": "Logout", "reason_code": "*67", "status": 7}
    ]})");
  BOOST_TEST_REQUIRE(load.ok(), JoinProblems(load.problems));
  ParsedBlock parsed =
      ParseBlock(WebhookConnectorType(),
                 *ParseObject(R"({"url": "https://example.com/hook", )" + kGoodSecret + "}"),
                 *load.catalog, "connectors[1]", "crm-hook");
  BOOST_TEST(!parsed.settings);
  BOOST_TEST_REQUIRE(parsed.problems.size() == 1u, JoinProblems(parsed.problems));
  BOOST_TEST(parsed.problems[0].starts_with("states[0].mappings.webhook.skip: unknown key"));
}

BOOST_AUTO_TEST_CASE(the_type_sends_every_change_in_order_and_skips_the_crm_echo) {
  ConnectorType type = WebhookConnectorType();
  BOOST_TEST(type.type == "webhook");
  BOOST_TEST(type.mode.empty());
  BOOST_TEST(!type.defaults.coalesce);
  BOOST_TEST(type.defaults.concurrency == 4);
  BOOST_TEST((type.defaults.skip_sources == std::set{reasoncodes::Source::kCrm}));
  BOOST_TEST(BuiltinConnectors().Find("webhook") != nullptr);
}

// --- deliveries to a receiver --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_change_is_posted_signed_with_the_documented_headers) {
  Rig rig(R"(, "headers": {"X-Tenant": "acme"})");

  DeliveryResult result = rig.Deliver();

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kDelivered), result.detail);
  std::vector<RecordedRequest> requests = rig.receiver.requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  const RecordedRequest& request = requests[0];
  BOOST_TEST(request.method == "POST");
  BOOST_TEST(request.target == "/hooks/presence?tenant=acme");
  BOOST_TEST(request.body == kLunchBody);
  BOOST_TEST(request.Header("Content-Type").starts_with("application/json"));
  BOOST_TEST(request.Header("User-Agent") == "presence-agent");
  BOOST_TEST(request.Header("X-Presence-Delivery") == "crm-hook-42");
  BOOST_TEST(request.Header("X-Presence-Timestamp") == kStartSeconds);
  BOOST_TEST(request.Header("X-Presence-Signature") ==
             WebhookSignature(kSecret, kStartSeconds, kLunchBody));
  BOOST_TEST(SignatureVerifies(request, kSecret));
  BOOST_TEST(!SignatureVerifies(request, "another-secret-of-16+"));
  BOOST_TEST(request.Header("X-Tenant") == "acme");
}

BOOST_AUTO_TEST_CASE(a_retry_after_500_resends_the_same_delivery_with_a_fresh_signature) {
  Rig rig;
  rig.receiver.FailNext(1, FakeFailure::Status(500, {}, "{\"error\":\"db down\"}"));

  DeliveryResult first = rig.Deliver(1);
  rig.clock.Advance(std::chrono::seconds(5));
  DeliveryResult second = rig.Deliver(2);

  BOOST_TEST(static_cast<int>(first.kind) == static_cast<int>(Kind::kRetry), first.detail);
  BOOST_TEST(first.detail.find("HTTP 500") != std::string::npos, first.detail);
  BOOST_TEST(static_cast<int>(second.kind) == static_cast<int>(Kind::kDelivered), second.detail);
  std::vector<RecordedRequest> requests = rig.receiver.requests();
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(requests[0].Header("X-Presence-Delivery") == "crm-hook-42");
  BOOST_TEST(requests[1].Header("X-Presence-Delivery") == "crm-hook-42");
  BOOST_TEST(requests[0].body == requests[1].body);
  BOOST_TEST(requests[0].Header("X-Presence-Timestamp") == kStartSeconds);
  BOOST_TEST(requests[1].Header("X-Presence-Timestamp") == "1795253405");
  BOOST_TEST(requests[0].Header("X-Presence-Signature") !=
             requests[1].Header("X-Presence-Signature"));
  BOOST_TEST(SignatureVerifies(requests[0], kSecret));
  BOOST_TEST(SignatureVerifies(requests[1], kSecret));
}

BOOST_AUTO_TEST_CASE(throttling_is_retried_after_the_receivers_retry_after) {
  Rig rig;
  rig.receiver.FailNext(1, FakeFailure::Status(429, {{"Retry-After", "120"}}));

  DeliveryResult result = rig.Deliver();

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRetry), result.detail);
  BOOST_TEST(result.whole_connector);
  BOOST_TEST_REQUIRE(result.retry_after.has_value());
  BOOST_TEST(result.retry_after->count() == 120000);
}

BOOST_AUTO_TEST_CASE(gone_is_rejected_for_good) {
  Rig rig;
  rig.receiver.FailNext(1, FakeFailure::Status(410));

  DeliveryResult result = rig.Deliver();

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRejected), result.detail);
  BOOST_TEST(result.detail.find("410 Gone") != std::string::npos, result.detail);
  BOOST_TEST(result.detail.find("tenant=acme") == std::string::npos, result.detail);
}

BOOST_AUTO_TEST_CASE(other_client_errors_are_rejected) {
  Rig rig;
  rig.receiver.FailNext(1, FakeFailure::Status(400, {}, "{\"error\":\"bad body\"}"));
  DeliveryResult result = rig.Deliver();
  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRejected), result.detail);
  BOOST_TEST(result.detail.find("HTTP 400") != std::string::npos, result.detail);
}

BOOST_AUTO_TEST_CASE(a_dropped_connection_is_retried) {
  Rig rig;
  rig.receiver.FailNext(1, FakeFailure::Drop());

  DeliveryResult result = rig.Deliver();

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRetry), result.detail);
  BOOST_TEST(result.whole_connector);
  BOOST_TEST(rig.receiver.count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_is_down_is_retried) {
  Rig rig;
  rig.receiver.Refuse();
  DeliveryResult result = rig.Deliver();
  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRetry), result.detail);
}

BOOST_AUTO_TEST_CASE(a_hanging_receiver_is_retried_within_the_timeout) {
  Rig rig(R"(, "request_timeout_ms": 300)");
  rig.receiver.FailAll(FakeFailure::Hang());

  auto started = std::chrono::steady_clock::now();
  DeliveryResult result = rig.Deliver();
  auto took = std::chrono::steady_clock::now() - started;

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRetry), result.detail);
  BOOST_TEST(took < std::chrono::seconds(3));
  rig.receiver.ReleaseHung();
}

BOOST_AUTO_TEST_CASE(a_change_of_a_user_removed_by_a_reload_is_still_sent) {
  Rig rig;
  rig.directory.SetUsers(std::vector<User>{});

  DeliveryResult result = rig.Deliver();

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kDelivered), result.detail);
  Poco::JSON::Object::Ptr body = ParseObject(rig.receiver.requests().at(0).body);
  BOOST_TEST(body->getObject("user")->getValue<std::string>("id") == "1001");
  BOOST_TEST(body->getObject("user")->getValue<std::string>("name").empty());
}

BOOST_AUTO_TEST_CASE(every_change_is_wanted_and_details_hide_secrets) {
  ::setenv("PRESENCE_TEST_HOOK_TOKEN", "Bearer tok-hidden", 1);
  Rig rig(R"(, "headers": {"Authorization": {"env": "PRESENCE_TEST_HOOK_TOKEN"}})");
  ::unsetenv("PRESENCE_TEST_HOOK_TOKEN");
  Change quiet = LunchChange();
  quiet.reason_code.clear();
  BOOST_TEST(rig.connector->Wants(quiet, rig.directory));

  rig.Deliver();
  BOOST_TEST(rig.receiver.requests().at(0).Header("Authorization") == "Bearer tok-hidden");

  const std::string details = DetailsJson(*rig.connector->Details());
  BOOST_TEST(details.find(kSecret) == std::string::npos, details);
  BOOST_TEST(details.find("tok-hidden") == std::string::npos, details);
  BOOST_TEST(details.find("tenant=acme") == std::string::npos, details);
  BOOST_TEST(details.find("Authorization") != std::string::npos, details);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
