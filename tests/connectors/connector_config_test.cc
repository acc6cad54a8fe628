// The "connectors" part of the configuration: every bad block is a problem that names its
// place and what is allowed; the mode and the connectors must agree; the common keys set the
// delivery policy over the type's defaults; secrets come from text, the environment or a file.
#include "connectors/connector_config.h"

#include <Poco/JSON/Parser.h>
#include <stdlib.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "connectors/builtin/builtin_connectors.h"
#include "reasoncodes/catalog_loader.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using json::Problems;
using testing::JoinProblems;

const std::string kHook =
    R"({"type": "webhook", "url": "https://crm.example.com/hook", "secret": "0123456789abcdef")";

struct Loaded {
  std::vector<ConnectorConfig> connectors;
  Problems problems;
  Problems warnings;
};

Loaded Read(const std::string& connectors_json, const std::string& extra_settings = "") {
  auto catalog = testing::MakeTestCatalog({.extra_settings = extra_settings});
  json::Var value = Poco::JSON::Parser().parse(connectors_json);
  Loaded loaded;
  loaded.connectors =
      ReadConnectors(&value, *catalog, BuiltinConnectors(), loaded.problems, loaded.warnings);
  return loaded;
}

bool Has(const Problems& problems, const std::string& text) {
  for (const std::string& problem : problems) {
    if (problem.find(text) != std::string::npos) return true;
  }
  return false;
}

struct BadBlock {
  std::string connectors;
  std::string problem;  // a part of the one reported
};
std::ostream& operator<<(std::ostream& out, const BadBlock& bad) { return out << bad.connectors; }

const BadBlock kBadBlocks[] = {
    {R"([{"type": "webhok"}])",
     R"(connectors[0].type: "webhok" is not a connector type (omni_channel, )"},
    {R"([{"type": "webhok"}])", R"(did you mean "webhook"?)"},
    {R"([{"name": "x"}])", "connectors[0].type: missing (one of "},
    {R"([42])", "connectors[0]: must be an object with a type, got number 42"},
    {R"({"type": "webhook"})", "connectors: must be an array of connector blocks"},
    {R"([)" + kHook + R"(, "concurency": 2}])", "connectors[0].concurency: unknown key"},
    {R"([)" + kHook + R"(, "concurrency": 0}])",
     "connectors[0].concurrency: 0 is out of range (1-64)"},
    {R"([)" + kHook + R"(, "rate_per_second": -1}])",
     "connectors[0].rate_per_second: -1 is out of range"},
    {R"([)" + kHook + R"(, "retry_initial_ms": 50}])",
     "connectors[0].retry_initial_ms: 50 is out of range"},
    {R"([)" + kHook + R"(, "skip_sources": ["crm", "phone"]}])",
     R"(connectors[0].skip_sources[1]: "phone" is not a source (agent, crm, supervisor, call, wrap_up, system, pbx))"},
    {R"([)" + kHook + R"(, "refresh_seconds": 60}])",
     R"(connectors[0].refresh_seconds: is not a setting of type "webhook")"},
    {R"([)" + kHook + R"(, "name": "a b"}])", R"(connectors[0].name: "a b" is not a name)"},
    {R"([)" + kHook + R"(}, )" + kHook + R"(}])",
     R"(connectors[1].name: "webhook" is used by another connector)"},
    {R"([{"type": "webhook", "url": "ftp://crm.example.com"}])",
     R"(connectors[0].url: "ftp://crm.example.com" is not an http:// or https:// URL)"},
};

BOOST_AUTO_TEST_SUITE(connector_config_test)

BOOST_DATA_TEST_CASE(a_bad_block_is_reported_with_its_place, data::make(kBadBlocks), bad) {
  Loaded loaded = Read(bad.connectors);
  BOOST_TEST(Has(loaded.problems, bad.problem), JoinProblems(loaded.problems));
}

BOOST_AUTO_TEST_CASE(every_problem_of_every_block_is_reported_at_once) {
  Loaded loaded =
      Read(R"([{"type": "nope"}, {"type": "webhook", "concurrency": 99}, {"type": "webhook"}])");
  BOOST_TEST(Has(loaded.problems, "connectors[0].type"));
  BOOST_TEST(Has(loaded.problems, "connectors[1].concurrency"));
  BOOST_TEST(Has(loaded.problems, "connectors[1].url"));
  BOOST_TEST(Has(loaded.problems, "connectors[2].url"));
  BOOST_TEST(loaded.connectors.empty());
}

BOOST_AUTO_TEST_CASE(mode_none_sends_nothing_to_the_phone_system) {
  Loaded loaded = Read(R"([{"type": "ami", "username": "u", "secret": "s"}])");
  BOOST_TEST(
      Has(loaded.problems, R"(connectors[0].type: "ami" needs settings.mode "dial_command")"),
      JoinProblems(loaded.problems));
  BOOST_TEST(Has(loaded.problems, "time tracking only"));
}

BOOST_AUTO_TEST_CASE(a_mode_without_its_connector_is_a_warning_not_a_problem) {
  Loaded dial = Read("[]", R"("mode": "dial_command")");
  BOOST_TEST(dial.problems.empty(), JoinProblems(dial.problems));
  BOOST_TEST(Has(dial.warnings, R"(needs a connector of type "ami" or "desk_phone")"));
  Loaded omni = Read("[]", R"("omni_channel": true)");
  BOOST_TEST(Has(omni.warnings, R"(add a connector of type "omni_channel")"));
  Loaded plain = Read("[" + kHook + "}]");
  BOOST_TEST(plain.problems.empty(), JoinProblems(plain.problems));
  BOOST_TEST(plain.warnings.empty(), JoinProblems(plain.warnings));
}

BOOST_AUTO_TEST_CASE(an_omni_channel_connector_needs_the_setting_on) {
  Loaded loaded = Read(
      R"([{"type": "omni_channel", "auth": "client_credentials", "login_url": "https://acme.my.salesforce.com", "client_id": "id", "client_secret": "s"}])");
  BOOST_TEST(
      Has(loaded.problems, "settings.omni_channel: is off but an \"omni_channel\" connector"),
      JoinProblems(loaded.problems));
}

BOOST_AUTO_TEST_CASE(a_mapping_block_of_an_unknown_type_is_a_problem) {
  reasoncodes::CatalogLoad catalog = reasoncodes::LoadCatalogText(R"({"states": [
    {"label": "Ready", "reason_code": "", "status": 1, "mappings": {"temas": {}}},
    {"label": "Logout", "reason_code": "", "status": 7}]})");
  BOOST_REQUIRE(catalog.ok());
  Problems problems, warnings;
  ReadConnectors(nullptr, *catalog.catalog, BuiltinConnectors(), problems, warnings);
  BOOST_TEST(Has(problems, R"(states[0].mappings.temas: is not a connector type)"),
             JoinProblems(problems));
  BOOST_TEST(Has(problems, R"(did you mean "teams"?)"));
}

// What a connector's check sees of a state's block is the block as written: every JSON type
// (numbers as the parser read them, nested values whole), members in name order.
BOOST_AUTO_TEST_CASE(a_mapping_block_reaches_its_connector_as_written) {
  reasoncodes::CatalogLoad catalog = reasoncodes::LoadCatalogText(R"({"states": [
    {"label": "Ready", "reason_code": "", "status": 1, "mappings": {"webhook": {
      "text": "Gr\u00fc\u00dfe \"quoted\"", "yes": true, "no": false, "none": null,
      "whole": -42, "big": 18446744073709551615, "float": 2.5, "round": 5.0, "huge": 1e300,
      "list": [1, "two", [3], {"b": 1, "a": 2}], "nested": {"z": null, "y": [true]}}}},
    {"label": "Logout", "reason_code": "", "status": 7, "mappings": {"webhook": {}}}]})");
  BOOST_REQUIRE(catalog.ok());
  std::vector<std::string> seen;
  ForEachStateMapping(*catalog.catalog, "webhook",
                      [&](const json::Object& block, const std::string& path) {
                        seen.push_back(path + " " + testing::Stringify(block));
                      });
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_TEST(seen[0] ==
             "states[0].mappings.webhook "
             R"({"big":18446744073709551615,"float":2.5,"huge":1e+300,)"
             R"("list":[1,"two",[3],{"a":2,"b":1}],"nested":{"y":[true],"z":null},"no":false,)"
             R"("none":null,"round":5,"text":"Grüße \"quoted\"","whole":-42,"yes":true})");
  BOOST_TEST(seen[1] == "states[1].mappings.webhook {}");
  Problems problems;
  RefuseStateMappings(*catalog.catalog, "webhook", "no reason", problems);
  BOOST_TEST(JoinProblems(problems) ==
             "states[0].mappings.webhook.big: unknown key (webhook takes no per-state settings: "
             "no reason)\n"
             "states[0].mappings.webhook.float: unknown key (webhook takes no per-state "
             "settings: no reason)\n"
             "states[0].mappings.webhook.huge: unknown key (webhook takes no per-state settings: "
             "no reason)\n"
             "states[0].mappings.webhook.list: unknown key (webhook takes no per-state settings: "
             "no reason)\n"
             "states[0].mappings.webhook.nested: unknown key (webhook takes no per-state "
             "settings: no reason)\n"
             "states[0].mappings.webhook.no: unknown key (webhook takes no per-state settings: "
             "no reason)\n"
             "states[0].mappings.webhook.none: unknown key (webhook takes no per-state settings: "
             "no reason)\n"
             "states[0].mappings.webhook.round: unknown key (webhook takes no per-state "
             "settings: no reason)\n"
             "states[0].mappings.webhook.text: unknown key (webhook takes no per-state settings: "
             "no reason)\n"
             "states[0].mappings.webhook.whole: unknown key (webhook takes no per-state "
             "settings: no reason)\n"
             "states[0].mappings.webhook.yes: unknown key (webhook takes no per-state settings: "
             "no reason)\n");
}

// The values a connector reads from a block keep their JSON type, so a wrong one is named.
BOOST_AUTO_TEST_CASE(a_mapping_value_of_the_wrong_type_is_described_as_written) {
  reasoncodes::CatalogLoad catalog = reasoncodes::LoadCatalogText(R"({"states": [
    {"label": "Ready", "reason_code": "", "status": 1, "mappings": {"ami": {
      "presence": 7.25, "message": ["a"]}}},
    {"label": "Away", "reason_code": "", "status": 3, "mappings": {"ami": {
      "presence": {"a": 1}, "message": null}}},
    {"label": "Logout", "reason_code": "", "status": 7, "mappings": {"ami": {
      "presence": 12, "message": false}}}]})");
  BOOST_REQUIRE(catalog.ok());
  Problems problems;
  ForEachStateMapping(*catalog.catalog, "ami",
                      [&](const json::Object& block, const std::string& path) {
                        json::ReadString(block.get("presence"), path + ".presence", problems);
                        json::ReadString(block.get("message"), path + ".message", problems);
                      });
  BOOST_TEST(JoinProblems(problems) ==
             "states[0].mappings.ami.presence: must be a string, got number 7.25\n"
             "states[0].mappings.ami.message: must be a string, got an array\n"
             "states[1].mappings.ami.presence: must be a string, got an object\n"
             "states[1].mappings.ami.message: must be a string, got null\n"
             "states[2].mappings.ami.presence: must be a string, got number 12\n"
             "states[2].mappings.ami.message: must be a string, got false\n");
}

BOOST_AUTO_TEST_CASE(common_keys_override_the_types_defaults) {
  Loaded defaults = Read("[" + kHook + "}]");
  BOOST_REQUIRE_EQUAL(defaults.connectors.size(), 1u);
  const DeliveryPolicy& hook = defaults.connectors[0].policy;
  BOOST_TEST(defaults.connectors[0].name == "webhook");  // the type when unnamed
  BOOST_TEST(!hook.coalesce);                            // a webhook sends every change
  BOOST_TEST(hook.skip_sources.count(reasoncodes::Source::kCrm) == 1u);

  Loaded tuned = Read("[" + kHook + R"(, "name": "crm", "concurrency": 2, "rate_per_second": 5,
      "burst": 3, "coalesce": true, "skip_sources": [], "retry_initial_ms": 2000,
      "retry_max_seconds": 1}])");
  BOOST_REQUIRE_EQUAL(tuned.connectors.size(), 1u);
  const DeliveryPolicy& policy = tuned.connectors[0].policy;
  BOOST_TEST(tuned.connectors[0].name == "crm");
  BOOST_TEST(policy.concurrency == 2);
  BOOST_TEST(policy.rate_per_second == 5.0);
  BOOST_TEST(policy.burst == 3);
  BOOST_TEST(policy.coalesce);
  BOOST_TEST(policy.skip_sources.empty());
  BOOST_TEST(policy.initial_backoff.count() == 2000);
  BOOST_TEST(policy.max_backoff.count() == 2000);  // never below the first wait
}

BOOST_AUTO_TEST_CASE(secrets_come_from_text_the_environment_or_a_file) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "secret").string();
  std::ofstream(file) << "from-a-file\n";
  ::setenv("PRESENCE_TEST_SECRET", "from-the-environment", 1);
  ::unsetenv("PRESENCE_TEST_UNSET");
  auto read = [](const std::string& json, Problems& problems) {
    auto holder = Poco::JSON::Parser().parse(R"({"v": )" + json + "}");
    return ReadSecret(holder.extract<Poco::JSON::Object::Ptr>()->get("v"), "x.secret", problems);
  };
  Problems problems;
  BOOST_TEST(read(R"("plain")", problems).value_or("") == "plain");
  BOOST_TEST(read(R"({"env": "PRESENCE_TEST_SECRET"})", problems).value_or("") ==
             "from-the-environment");
  BOOST_TEST(read(R"({"file": ")" + file + R"("})", problems).value_or("") == "from-a-file");
  BOOST_TEST(problems.empty(), JoinProblems(problems));

  BOOST_TEST(!read(R"({"env": "PRESENCE_TEST_UNSET"})", problems));
  BOOST_TEST(
      Has(problems, R"(x.secret.env: environment variable "PRESENCE_TEST_UNSET" is not set)"));
  BOOST_TEST(!read(R"({"file": "/nonexistent/secret"})", problems));
  BOOST_TEST(Has(problems, R"(x.secret.file: "/nonexistent/secret" cannot be read)"));
  BOOST_TEST(!read(R"("")", problems));
  BOOST_TEST(Has(problems, "x.secret: is empty"));
  BOOST_TEST(!read(R"({"vault": "k"})", problems));
  BOOST_TEST(Has(problems, R"(x.secret: must be a string, {"env": "NAME"} or {"file": "PATH"})"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
