// The desk_phone connector: action URLs byte for byte (integrations.md 6), the phone's answers,
// configuration problems, and dials against fake Yealink and Grandstream phones on loopback.

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "connectors/builtin/builtin_connectors.h"
#include "connectors/desk_phone/desk_phone_connector.h"
#include "connectors/desk_phone/desk_phone_protocol.h"
#include "connectors/http/http_client.h"
#include "connectors/registry.h"
#include "reasoncodes/catalog_loader.h"
#include "tests/fakes/connector_block.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_desk_phone.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using testing::FakeDeskPhone;
using testing::JoinProblems;
using testing::ParseBlock;
using testing::ParsedBlock;
using testing::ParseObject;
using testing::Stringify;

const Timestamp kStart = *ParseTime("2026-11-21T09:30:00.000Z");

// A desk_phone connector built the way the service builds it, on a real HTTP client.
class Rig {
 public:
  explicit Rig(const std::string& block_json) : clock_(kStart), http_(NewHttpClient()) {
    directory.catalog = testing::MakeTestCatalog({});
    ParsedBlock parsed = ParseBlock(DeskPhoneConnectorType(), *ParseObject(block_json),
                                    *directory.catalog, "connectors[0]", "phones");
    BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
    ConnectorEnv env{&clock_,
                     [this](LogLevel, std::string_view text) {
                       std::lock_guard lock(log_mutex_);
                       logs_.push_back(std::string(text));
                     },
                     http_.get()};
    connector = DeskPhoneConnectorType().create(parsed.settings, env);
  }

  void AddUser(const std::string& id, const std::string& phone) {
    reasoncodes::User user{.id = id, .name = "User " + id, .extension = id, .team = "Sales"};
    if (!phone.empty()) user.identities["desk_phone"] = phone;
    users.push_back(user);
    directory.SetUsers(users);
  }

  static Change ChangeTo(const std::string& user, const std::string& label,
                         const std::string& code) {
    return Change{.agent = user,
                  .at = kStart,
                  .from_label = "Ready for Calls",
                  .label = label,
                  .reason_code = code,
                  .status = reasoncodes::StatusCode::kDnd,
                  .source = reasoncodes::Source::kAgent,
                  .cause = "select"};
  }

  DeliveryResult Dial(const std::string& user, const std::string& code) {
    Delivery delivery{.id = 7, .change = ChangeTo(user, "Do Not Disturb", code)};
    return connector->Deliver(delivery, directory);
  }

  // Everything the connector shows: no secret may be in any of it.
  std::string Shown(const DeliveryResult& result) const {
    std::lock_guard lock(log_mutex_);
    std::string text = result.detail + "\n" + DetailsJson(*connector->Details());
    for (const std::string& line : logs_) text += "\n" + line;
    return text;
  }

  std::vector<reasoncodes::User> users;
  Directory directory;
  std::unique_ptr<Connector> connector;

 private:
  testing::FakeClock clock_;
  std::unique_ptr<HttpClient> http_;
  mutable std::mutex log_mutex_;
  std::vector<std::string> logs_;
};

std::string YealinkBlock(const std::string& password, const std::string& extra = "") {
  return R"({"type": "desk_phone", "vendor": "yealink", "password": ")" + password + "\"" + extra +
         "}";
}

std::string GrandstreamBlock(const std::string& password, const std::string& extra = "") {
  return R"({"type": "desk_phone", "vendor": "grandstream", "password": ")" + password + "\"" +
         extra + "}";
}

// --- URLs and headers, byte for byte -------------------------------------------------------

struct UrlCase {
  std::string name;
  DeskPhoneAccess access;
  DialTarget target;
  std::string url;
  std::string authorization;  // "" = no Authorization header
};
std::ostream& operator<<(std::ostream& out, const UrlCase& test) { return out << test.name; }

DeskPhoneAccess Access(DeskPhoneVendor vendor) {
  DeskPhoneAccess access;
  access.vendor = vendor;
  access.username = "admin";
  access.password = "secret";
  return access;
}

DialTarget Target(std::string address, std::string code) {
  return DialTarget{.address = std::move(address),
                    .code = std::move(code),
                    .extension = "1001",
                    .user_id = "ann@example.com"};
}

std::vector<UrlCase> UrlCases() {
  std::vector<UrlCase> cases;
  cases.push_back({"yealink dials the percent-encoded code with Basic auth",
                   Access(DeskPhoneVendor::kYealink), Target("192.0.2.10", "*61"),
                   "http://192.0.2.10/servlet?key=number=%2A61", "Basic YWRtaW46c2VjcmV0"});
  UrlCase https{"yealink over https on the configured port encodes #",
                Access(DeskPhoneVendor::kYealink), Target("192.0.2.10", "#31"),
                "https://192.0.2.10:8443/servlet?key=number=%2331", "Basic YWRtaW46c2VjcmV0"};
  https.access.scheme = "https";
  https.access.port = 8443;
  cases.push_back(https);
  UrlCase own_port{"an address with its own port keeps it", Access(DeskPhoneVendor::kYealink),
                   Target("192.0.2.10:81", "5551234"),
                   "http://192.0.2.10:81/servlet?key=number=5551234", "Basic YWRtaW46c2VjcmV0"};
  own_port.access.port = 8080;
  cases.push_back(own_port);
  UrlCase v6{"an IPv6 address in brackets gets the port", Access(DeskPhoneVendor::kYealink),
             Target("[2001:db8::5]", "*60"), "http://[2001:db8::5]:8080/servlet?key=number=%2A60",
             "Basic YWRtaW46c2VjcmV0"};
  v6.access.port = 8080;
  cases.push_back(v6);
  UrlCase grandstream{"grandstream passes the encoded passcode and number, no auth header",
                      Access(DeskPhoneVendor::kGrandstream), Target("192.0.2.11", "*78"),
                      "http://192.0.2.11/cgi-bin/api-make_call?passcode=p%26ss%20w%2Frd"
                      "&phonenumber=%2A78",
                      ""};
  grandstream.access.password = "p&ss w/rd";
  cases.push_back(grandstream);
  UrlCase custom{"custom fills the template and sends Basic auth", Access(DeskPhoneVendor::kCustom),
                 Target("192.0.2.12", "*60"),
                 "http://192.0.2.12/dial?n=%2A60&ext=1001&u=ann%40example.com",
                 "Basic YWRtaW46c2VjcmV0"};
  custom.access.url_template = "http://{host}/dial?n={code}&ext={extension}&u={user}";
  cases.push_back(custom);
  UrlCase custom_open{"custom without a password sends no auth", Access(DeskPhoneVendor::kCustom),
                      Target("192.0.2.12", "*60"),
                      "https://dialer.example.com/phones/192.0.2.12/dial/%2A60", ""};
  custom_open.access.password = "";
  custom_open.access.url_template = "https://dialer.example.com/phones/{host}/dial/{code}";
  cases.push_back(custom_open);
  return cases;
}

BOOST_AUTO_TEST_SUITE(desk_phone_test)

BOOST_DATA_TEST_CASE(dial_requests_match_the_vendor_action_url, data::make(UrlCases()), test) {
  Result<HttpRequest> request = BuildDialRequest(test.access, test.target, Millis(5000));
  BOOST_TEST_REQUIRE(request.ok());
  BOOST_TEST(request->method == "GET");
  BOOST_TEST(request->url == test.url);
  BOOST_TEST(request->body.empty());
  BOOST_TEST(request->timeout.count() == 5000);
  std::string authorization;
  for (const auto& [name, value] : request->headers) {
    if (name == "Authorization") authorization = value;
  }
  BOOST_TEST(authorization == test.authorization);
}

BOOST_AUTO_TEST_CASE(basic_authorization_is_base64_of_user_colon_password) {
  BOOST_TEST(BasicAuthorization("admin", "secret") == "Basic YWRtaW46c2VjcmV0");
  // RFC 7617 section 2's example.
  BOOST_TEST(BasicAuthorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

const std::vector<std::string> kBadAddresses = {"",
                                                "http://192.0.2.1",
                                                "192.0.2.1/servlet",
                                                "admin@192.0.2.1",
                                                "2001:db8::1",
                                                "192.0.2.1:0",
                                                "192.0.2.1:99999",
                                                "192.0.2.1:abc",
                                                "[2001:db8::1",
                                                "[2001:db8::1]x",
                                                "192.0.2.1 ",
                                                ":80"};

BOOST_DATA_TEST_CASE(addresses_that_are_not_a_bare_host_are_refused, data::make(kBadAddresses),
                     address) {
  Result<std::string> authority = PhoneAuthority(address, 80);
  BOOST_TEST_REQUIRE(!authority.ok());
  BOOST_TEST(authority.error().code == "bad_phone_address");
  BOOST_TEST(authority.error().message.find("host:port") != std::string::npos);
}

struct TemplateCase {
  std::string url_template;
  std::string problem;  // "" = usable
};
std::ostream& operator<<(std::ostream& out, const TemplateCase& test) {
  return out << test.url_template;
}

const std::vector<TemplateCase> kTemplates = {
    {"http://{host}/dial?n={code}", ""},
    {"https://{host}:8443/cgi?u={user}&e={extension}&n={code}", ""},
    {"http://{host}/dial", "has no {code}"},
    {"http://{host}/d?n={code}&p={password}", "unknown placeholder \"{password}\""},
    {"ftp://{host}/{code}", "http:// or https:// URL"},
    {"{host}/dial?n={code}", "http:// or https:// URL"},
    {"http:///dial?n={code}", "http:// or https:// URL"},
    {"http://{host}/dial?n={code} now", "http:// or https:// URL"},
};

BOOST_DATA_TEST_CASE(custom_templates_need_code_and_an_http_url, data::make(kTemplates), test) {
  std::vector<std::string> problems = CheckUrlTemplate(test.url_template);
  if (test.problem.empty()) {
    BOOST_TEST(problems.empty());
  } else {
    BOOST_TEST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].find(test.problem) != std::string::npos, problems[0]);
  }
}

struct AnswerCase {
  std::string name;
  DeskPhoneVendor vendor;
  std::optional<int> status;  // nullopt = a network error
  std::string body;
  DeliveryResult::Kind kind;
  std::string detail;  // a fragment of the detail
};
std::ostream& operator<<(std::ostream& out, const AnswerCase& test) { return out << test.name; }

using Kind = DeliveryResult::Kind;
const std::vector<AnswerCase> kAnswers = {
    {"yealink 200 is dialled", DeskPhoneVendor::kYealink, 200, "", Kind::kDelivered, "HTTP 200"},
    {"yealink 401 is refused credentials", DeskPhoneVendor::kYealink, 401, "", Kind::kRejected,
     "refused the credentials"},
    {"yealink 403 is refused credentials", DeskPhoneVendor::kYealink, 403, "", Kind::kRejected,
     "refused the credentials"},
    {"yealink 404 is rejected", DeskPhoneVendor::kYealink, 404, "", Kind::kRejected, "HTTP 404"},
    {"yealink 503 is retried", DeskPhoneVendor::kYealink, 503, "", Kind::kRetry, "HTTP 503"},
    {"custom 204 is dialled", DeskPhoneVendor::kCustom, 204, "", Kind::kDelivered, "HTTP 204"},
    {"grandstream success JSON is dialled", DeskPhoneVendor::kGrandstream, 200,
     R"({"response":"success","body":true})", Kind::kDelivered, "dialled"},
    {"grandstream spaced success JSON is dialled", DeskPhoneVendor::kGrandstream, 200,
     "{ \"response\" : \"success\" }\n", Kind::kDelivered, "dialled"},
    {"grandstream error JSON is rejected", DeskPhoneVendor::kGrandstream, 200,
     R"({"response":"error","body":false})", Kind::kRejected, "{\"response\":\"error\"}"},
    {"grandstream 200 without JSON is rejected", DeskPhoneVendor::kGrandstream, 200, "OK",
     Kind::kRejected, "not the GRP CTI JSON"},
    {"grandstream 401 is refused credentials", DeskPhoneVendor::kGrandstream, 401, "",
     Kind::kRejected, "refused the credentials"},
    {"a network error is retried", DeskPhoneVendor::kYealink, std::nullopt, "", Kind::kRetry,
     "cannot reach"},
};

BOOST_DATA_TEST_CASE(phone_answers_are_read_per_vendor, data::make(kAnswers), test) {
  Result<HttpResponse> answer =
      test.status ? Result<HttpResponse>(HttpResponse{*test.status, {}, test.body})
                  : Result<HttpResponse>(Error{"network", "cannot reach http://192.0.2.10"});
  DeliveryResult result = ReadDialAnswer(test.vendor, answer, kStart, "dial \"*61\" for 1001");
  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(test.kind));
  BOOST_TEST(result.detail.find(test.detail) != std::string::npos, result.detail);
  BOOST_TEST(result.detail.starts_with("dial \"*61\" for 1001"), result.detail);
}

// --- configuration -------------------------------------------------------------------------

struct ConfigCase {
  std::string name;
  std::string block;
  std::string path;
  std::string problem;
};
std::ostream& operator<<(std::ostream& out, const ConfigCase& test) { return out << test.name; }

const std::vector<ConfigCase> kBadConfigs = {
    {"unknown vendor", R"({"vendor": "polycom", "password": "pw"})", "connectors[0].vendor",
     "\"polycom\" is not a desk phone vendor (yealink, grandstream, custom)"},
    {"no vendor", R"({"password": "pw"})", "connectors[0].vendor", "missing"},
    {"yealink without password", R"({"vendor": "yealink"})", "connectors[0].password", "missing"},
    {"grandstream without password", R"({"vendor": "grandstream"})", "connectors[0].password",
     "missing"},
    {"custom without template", R"({"vendor": "custom"})", "connectors[0].url_template", "missing"},
    {"custom template without code", R"({"vendor": "custom", "url_template": "http://{host}/x"})",
     "connectors[0].url_template", "has no {code}"},
    {"custom template not http", R"({"vendor": "custom", "url_template": "sip:{code}@{host}"})",
     "connectors[0].url_template", "http:// or https:// URL"},
    {"template for yealink",
     R"({"vendor": "yealink", "password": "pw", "url_template": "http://{host}/{code}"})",
     "connectors[0].url_template", "only for vendor \"custom\""},
    {"scheme for custom",
     R"({"vendor": "custom", "scheme": "https", "url_template": "http://{host}/{code}"})",
     "connectors[0].scheme", "not used with vendor \"custom\""},
    {"bad scheme", R"({"vendor": "yealink", "password": "pw", "scheme": "ftp"})",
     "connectors[0].scheme", "is not a scheme (http, https)"},
    {"port out of range", R"({"vendor": "yealink", "password": "pw", "port": 70000})",
     "connectors[0].port", "70000"},
    {"timeout too short", R"({"vendor": "yealink", "password": "pw", "request_timeout_ms": 5})",
     "connectors[0].request_timeout_ms", "5"},
    {"username for grandstream", R"({"vendor": "grandstream", "password": "pw", "username": "x"})",
     "connectors[0].username", "not used by vendor \"grandstream\""},
    {"username with a colon", R"({"vendor": "yealink", "password": "pw", "username": "a:b"})",
     "connectors[0].username", "without ':'"},
    {"empty password", R"({"vendor": "yealink", "password": ""})", "connectors[0].password",
     "empty"},
};

BOOST_DATA_TEST_CASE(bad_blocks_are_reported_where_they_are, data::make(kBadConfigs), test) {
  auto catalog = testing::MakeTestCatalog({});
  ParsedBlock parsed = ParseBlock(DeskPhoneConnectorType(), *ParseObject(test.block), *catalog,
                                  "connectors[0]", "phones");
  BOOST_TEST(!parsed.settings);
  BOOST_TEST_REQUIRE(parsed.problems.size() == 1u, JoinProblems(parsed.problems));
  const std::string& problem = parsed.problems[0];
  BOOST_TEST(problem.starts_with(test.path + ": "), problem);
  BOOST_TEST(problem.find(test.problem) != std::string::npos, problem);
}

BOOST_AUTO_TEST_CASE(a_yealink_block_takes_the_documented_defaults) {
  auto catalog = testing::MakeTestCatalog({});
  ParsedBlock parsed = ParseBlock(DeskPhoneConnectorType(),
                                  *ParseObject(R"({"vendor": "yealink", "password": "pw"})"),
                                  *catalog, "connectors[0]", "phones");
  BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
  auto settings = std::dynamic_pointer_cast<const DeskPhoneSettings>(parsed.settings);
  BOOST_TEST_REQUIRE(settings != nullptr);
  BOOST_TEST(settings->access.username == "admin");
  BOOST_TEST(settings->access.scheme == "http");
  BOOST_TEST(!settings->access.port.has_value());
  BOOST_TEST(settings->request_timeout.count() == 5000);
  BOOST_TEST(settings->access.password == "pw");
}

BOOST_AUTO_TEST_CASE(the_type_dials_in_dial_command_mode_and_skips_the_pbx_echo) {
  ConnectorType type = DeskPhoneConnectorType();
  BOOST_TEST(type.type == "desk_phone");
  BOOST_TEST(type.mode == "dial_command");
  BOOST_TEST(type.defaults.coalesce);
  BOOST_TEST(type.defaults.concurrency == 8);
  BOOST_TEST((type.defaults.skip_sources == std::set{reasoncodes::Source::kPbx}));
  BOOST_TEST(BuiltinConnectors().Find("desk_phone") != nullptr);
}

BOOST_AUTO_TEST_CASE(a_desk_phone_mapping_block_is_reported_per_state) {
  reasoncodes::CatalogLoad load = reasoncodes::LoadCatalogText(R"({
    "settings": {"mode": "dial_command"},
    "states": [
      {"label": "Ready for Calls", "reason_code": "*60", "status": 1},
      {"label": "Do Not Disturb", "reason_code": "*61", "status": 4,
       "mappings": {"desk_phone": {"code": "*9"}}},
      {"label": "Logout", "reason_code": "*67", "status": 7}
    ]})");
  BOOST_TEST_REQUIRE(load.ok(), JoinProblems(load.problems));
  ParsedBlock parsed = ParseBlock(DeskPhoneConnectorType(),
                                  *ParseObject(R"({"vendor": "yealink", "password": "pw"})"),
                                  *load.catalog, "connectors[0]", "phones");
  BOOST_TEST(!parsed.settings);
  BOOST_TEST_REQUIRE(parsed.problems.size() == 1u, JoinProblems(parsed.problems));
  BOOST_TEST(parsed.problems[0].starts_with("states[1].mappings.desk_phone.code: unknown key"));
}

// --- dialling real (fake) phones -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(yealink_dial_sends_basic_auth_and_the_reason_code) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kYealink, "admin", "yealink-pw");
  std::string phone = phones.AddPhone();
  Rig rig(YealinkBlock("yealink-pw"));
  rig.AddUser("1001", phone);

  DeliveryResult result = rig.Dial("1001", "*61");

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kDelivered), result.detail);
  BOOST_TEST(phones.Dialled(phone) == std::vector<std::string>{"*61"});
  std::vector<testing::RecordedRequest> requests = phones.server(phone).requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].target == "/servlet?key=number=%2A61");
  BOOST_TEST(requests[0].Header("Authorization") == BasicAuthorization("admin", "yealink-pw"));
}

BOOST_AUTO_TEST_CASE(each_user_dials_on_their_own_phone) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kYealink, "ops", "yealink-pw");
  std::string ann = phones.AddPhone();
  std::string bob = phones.AddPhone();
  Rig rig(YealinkBlock("yealink-pw", R"(, "username": "ops")"));
  rig.AddUser("1001", ann);
  rig.AddUser("1002", bob);

  BOOST_TEST(static_cast<int>(rig.Dial("1001", "*61").kind) == static_cast<int>(Kind::kDelivered));
  BOOST_TEST(static_cast<int>(rig.Dial("1002", "*62").kind) == static_cast<int>(Kind::kDelivered));
  BOOST_TEST(static_cast<int>(rig.Dial("1001", "*60").kind) == static_cast<int>(Kind::kDelivered));

  BOOST_TEST(phones.WaitForDialled(ann, 2));
  BOOST_TEST(phones.Dialled(ann) == (std::vector<std::string>{"*61", "*60"}));
  BOOST_TEST(phones.Dialled(bob) == std::vector<std::string>{"*62"});
}

BOOST_AUTO_TEST_CASE(grandstream_dial_passes_the_passcode_and_reads_success) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kGrandstream, "", "gs pass&1");
  std::string phone = phones.AddPhone();
  Rig rig(GrandstreamBlock("gs pass&1"));
  rig.AddUser("1001", phone);

  DeliveryResult result = rig.Dial("1001", "#31");

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kDelivered), result.detail);
  BOOST_TEST(phones.Dialled(phone) == std::vector<std::string>{"#31"});
  std::vector<testing::RecordedRequest> requests = phones.server(phone).requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].path == "/cgi-bin/api-make_call");
  BOOST_TEST(requests[0].Header("Authorization").empty());
  BOOST_TEST(rig.Shown(result).find("gs pass&1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(grandstream_error_answer_is_rejected_without_the_passcode) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kGrandstream, "", "right-passcode");
  std::string phone = phones.AddPhone();
  Rig rig(GrandstreamBlock("wrong-passcode-42"));
  rig.AddUser("1001", phone);

  DeliveryResult result = rig.Dial("1001", "*61");

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRejected));
  BOOST_TEST(result.detail.find("{\"response\":\"error\"}") != std::string::npos, result.detail);
  BOOST_TEST(phones.refused() == 1);
  BOOST_TEST(phones.Dialled(phone).empty());
  BOOST_TEST(rig.Shown(result).find("wrong-passcode") == std::string::npos, rig.Shown(result));
}

BOOST_AUTO_TEST_CASE(yealink_bad_password_is_rejected_without_the_password) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kYealink, "admin", "right-password");
  std::string phone = phones.AddPhone();
  Rig rig(YealinkBlock("wrong-password-42"));
  rig.AddUser("1001", phone);

  DeliveryResult result = rig.Dial("1001", "*61");

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRejected));
  BOOST_TEST(result.detail.find("the phone refused the credentials") != std::string::npos,
             result.detail);
  BOOST_TEST(phones.refused() == 1);
  std::string shown = rig.Shown(result);
  BOOST_TEST(shown.find("wrong-password-42") == std::string::npos, shown);
  BOOST_TEST(shown.find(BasicAuthorization("admin", "wrong-password-42").substr(6)) ==
             std::string::npos);
  BOOST_TEST(shown.find("Authorization") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(custom_template_dials_through_the_configured_url) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kYealink, "admin", "pw-custom");
  std::string phone = phones.AddPhone();
  Rig rig(R"({"type": "desk_phone", "vendor": "custom", "password": "pw-custom",
              "url_template": "http://{host}/servlet?key=number={code}&ext={extension}"})");
  rig.AddUser("1001", phone);

  DeliveryResult result = rig.Dial("1001", "*64");

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kDelivered), result.detail);
  BOOST_TEST(phones.Dialled(phone) == std::vector<std::string>{"*64"});
  BOOST_TEST(phones.server(phone).requests().at(0).Param("ext") == "1001");
}

BOOST_AUTO_TEST_CASE(an_empty_reason_code_is_not_wanted) {
  Rig rig(YealinkBlock("pw"));
  BOOST_TEST(!rig.connector->Wants(Rig::ChangeTo("1001", "Quiet", ""), rig.directory));
  BOOST_TEST(rig.connector->Wants(Rig::ChangeTo("1001", "Do Not Disturb", "*61"), rig.directory));
}

BOOST_AUTO_TEST_CASE(a_user_without_a_desk_phone_is_rejected_clearly) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kYealink, "admin", "pw");
  std::string phone = phones.AddPhone();
  Rig rig(YealinkBlock("pw"));
  rig.AddUser("1001", "");

  DeliveryResult no_phone = rig.Dial("1001", "*61");
  DeliveryResult unknown = rig.Dial("9999", "*61");

  BOOST_TEST(static_cast<int>(no_phone.kind) == static_cast<int>(Kind::kRejected));
  BOOST_TEST(no_phone.detail.find("\"1001\" has no desk phone") != std::string::npos,
             no_phone.detail);
  BOOST_TEST(no_phone.detail.find("identities.desk_phone") != std::string::npos);
  BOOST_TEST(static_cast<int>(unknown.kind) == static_cast<int>(Kind::kRejected));
  BOOST_TEST(unknown.detail.find("\"9999\" is not configured") != std::string::npos);
  BOOST_TEST(phones.server(phone).count() == 0u);
}

BOOST_AUTO_TEST_CASE(a_malformed_phone_address_is_rejected) {
  Rig rig(YealinkBlock("pw"));
  rig.AddUser("1001", "http://192.0.2.10/");
  DeliveryResult result = rig.Dial("1001", "*61");
  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRejected));
  BOOST_TEST(result.detail.find("not a bare host") != std::string::npos, result.detail);
}

BOOST_AUTO_TEST_CASE(a_hanging_phone_is_retried_for_its_user_within_the_timeout) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kGrandstream, "", "hang-passcode");
  std::string phone = phones.AddPhone();
  phones.server(phone).FailAll(testing::FakeFailure::Hang());
  Rig rig(GrandstreamBlock("hang-passcode", R"(, "request_timeout_ms": 300)"));
  rig.AddUser("1001", phone);

  auto started = std::chrono::steady_clock::now();
  DeliveryResult result = rig.Dial("1001", "*61");
  auto took = std::chrono::steady_clock::now() - started;

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRetry), result.detail);
  BOOST_TEST(!result.whole_connector);
  BOOST_TEST(took < std::chrono::seconds(3));
  BOOST_TEST(phones.server(phone).count() == 1u);
  BOOST_TEST(rig.Shown(result).find("hang-passcode") == std::string::npos, rig.Shown(result));
  phones.server(phone).ReleaseHung();
}

BOOST_AUTO_TEST_CASE(a_phone_that_is_off_is_retried_for_its_user_only) {
  FakeDeskPhone phones(FakeDeskPhone::Vendor::kYealink, "admin", "pw");
  std::string phone = phones.AddPhone();
  phones.server(phone).Refuse();
  Rig rig(YealinkBlock("pw"));
  rig.AddUser("1001", phone);

  DeliveryResult result = rig.Dial("1001", "*61");

  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(Kind::kRetry), result.detail);
  BOOST_TEST(!result.whole_connector);
  BOOST_TEST(phones.Dialled(phone).empty());
}

BOOST_AUTO_TEST_CASE(details_show_how_phones_are_reached_but_no_password) {
  Rig rig(YealinkBlock("details-pw", R"(, "scheme": "https", "request_timeout_ms": 2500)"));

  Poco::JSON::Object::Ptr details = ParseObject(DetailsJson(*rig.connector->Details()));
  BOOST_TEST(details->getValue<std::string>("vendor") == "yealink");
  BOOST_TEST(details->getValue<std::string>("scheme") == "https");
  BOOST_TEST(details->getValue<int64_t>("request_timeout_ms") == 2500);
  BOOST_TEST(Stringify(details).find("details-pw") == std::string::npos, Stringify(details));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
