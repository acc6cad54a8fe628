// The sip_presence connector's configuration block, its state mappings and the document it
// publishes per change (without a server; tests/e2e/sip_presence_test.cc runs it against
// Kamailio).

#include "connectors/sip/sip_connector.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>

#include "connectors/connector_config.h"
#include "connectors/sip/documents/pidf.h"
#include "connectors/sip/sip_stack.h"
#include "tests/fakes/connector_block.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors::sip {
namespace {

using testing::JoinProblems;
using testing::ParseBlock;
using testing::ParsedBlock;
using testing::ParseObject;

ParsedBlock Parse(const std::string& json, const reasoncodes::Catalog& catalog) {
  return ParseBlock(SipPresenceConnectorType(), *ParseObject(json), catalog);
}

ParsedBlock Parse(const std::string& json) {
  static auto catalog = testing::MakeTestCatalog({});
  return Parse(json, *catalog);
}

const SipSettings& Settings(const ParsedBlock& parsed) {
  return dynamic_cast<const SipSettings&>(*parsed.settings);
}

BOOST_AUTO_TEST_SUITE(sip_connector_test)

BOOST_AUTO_TEST_CASE(a_minimal_block_gets_the_defaults) {
  ParsedBlock parsed = Parse(R"({"server": "sip:127.0.0.1"})");
  BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
  const SipSettings& settings = Settings(parsed);
  BOOST_TEST(settings.stack.server_host == "127.0.0.1");
  BOOST_TEST(settings.stack.server_port == 5060);
  BOOST_TEST((settings.stack.transport == Transport::kUdp));
  BOOST_TEST(settings.stack.expires.count() == 600);
  BOOST_TEST(settings.domain == "127.0.0.1");
  BOOST_TEST(settings.stack.agent_uri == "sip:presence-agent@127.0.0.1");
  BOOST_TEST(!settings.watch_presence);
  BOOST_TEST(!settings.watch_dialog);
}

BOOST_AUTO_TEST_CASE(a_full_block) {
  ParsedBlock parsed = Parse(R"({"server": "sips:[::1]:5071", "transport": "tls",
      "domain": "pbx.example", "username": "presence", "password": "s3cret", "expires": 120,
      "watch": ["presence", "dialog"], "on_logout": "remove", "keepalive_seconds": 5,
      "local_address": "127.0.0.1:5099", "request_timeout_ms": 2000,
      "from_presence": [{"activity": "busy", "label": "Do Not Disturb"},
                        {"basic": "closed", "note": "Out", "label": "Offline"}]})");
  BOOST_TEST_REQUIRE(parsed.problems.empty(), JoinProblems(parsed.problems));
  const SipSettings& settings = Settings(parsed);
  BOOST_TEST(settings.stack.server_host == "::1");
  BOOST_TEST(settings.stack.server_port == 5071);
  BOOST_TEST((settings.stack.transport == Transport::kTls));
  BOOST_TEST(settings.stack.agent_uri == "sip:presence@pbx.example");
  BOOST_TEST(settings.stack.password == "s3cret");
  BOOST_TEST(settings.watch_presence);
  BOOST_TEST(settings.watch_dialog);
  BOOST_TEST((settings.on_logout == OnLogout::kRemove));
  BOOST_TEST(settings.stack.local_host == "127.0.0.1");
  BOOST_TEST(settings.stack.local_port == 5099);
  BOOST_TEST_REQUIRE(settings.from_presence.size() == 2u);
  BOOST_TEST(settings.from_presence[0].activity == "busy");
  BOOST_TEST((settings.from_presence[1].open == std::optional<bool>(false)));
  BOOST_TEST(settings.from_presence[1].label == "Offline");
}

struct BadCase {
  const char* block;
  const char* problem;  // a part of the one message expected
};

BOOST_AUTO_TEST_CASE(every_bad_value_is_named_with_what_is_allowed) {
  const BadCase cases[] = {
      {R"({})", "connectors[0].server: missing"},
      {R"({"server": "http://x"})", "must start with sip: or sips:"},
      {R"({"server": "sip:1001@pbx"})", "without user or parameters"},
      {R"({"server": "sip:pbx:99999"})", "port must be 1-65535"},
      {R"({"server": "sip:[::1"})", "closing ']'"},
      {R"({"server": "sip:pbx", "transport": "sctp"})", "connectors[0].transport"},
      {R"({"server": "sips:pbx", "transport": "udp"})", "must be \"tls\" with a sips: server"},
      {R"({"server": "sip:pbx", "expires": 10})", "connectors[0].expires"},
      {R"({"server": "sip:pbx", "password": "x"})", "connectors[0].username: missing"},
      {R"({"server": "sip:pbx", "username": "x"})", "connectors[0].password: missing"},
      {R"({"server": "sip:pbx", "watch": ["presence", "presence"]})", "is listed twice"},
      {R"({"server": "sip:pbx", "watch": ["reg"]})", "connectors[0].watch[0]"},
      {R"({"server": "sip:pbx", "from_presence": [{"activity": "busy", "label": "Lunch"}]})",
       "needs \"watch\" to include \"presence\""},
      {R"({"server": "sip:pbx", "watch": ["presence"], "from_presence": [{"label": "Lunch"}]})",
       "needs at least one of basic, activity and note"},
      {R"({"server": "sip:pbx", "watch": ["presence"],
           "from_presence": [{"activity": "bussy", "label": "Lunch"}]})",
       "did you mean \"busy\"?"},
      {R"({"server": "sip:pbx", "watch": ["presence"],
           "from_presence": [{"activity": "busy", "label": "Nap"}]})",
       "\"Nap\" is not a state of the catalog"},
      {R"({"server": "sip:pbx", "watch": ["presence"],
           "from_presence": [{"activity": "busy", "label": "Wrap-up"}]})",
       "is not selectable"},
      {R"({"server": "sip:pbx", "local_address": "pbx.example"})", "must be an IP address"},
      {R"({"server": "sip:pbx", "tls_ca_file": "/x.pem"})", "only with transport \"tls\""},
      {R"({"server": "sip:pbx", "on_logout": "vanish"})", "connectors[0].on_logout"},
  };
  for (const BadCase& test : cases) {
    BOOST_TEST_CONTEXT(test.block) {
      ParsedBlock parsed = Parse(test.block);
      BOOST_TEST(!parsed.settings);
      BOOST_TEST_REQUIRE(!parsed.problems.empty());
      BOOST_TEST(JoinProblems(parsed.problems).find(test.problem) != std::string::npos,
                 JoinProblems(parsed.problems));
    }
  }
}

const char* kMappedCatalog = R"({
  "settings": {"mode": "none"},
  "states": [
    {"label": "Ready for Calls", "reason_code": "*60", "status": 1},
    {"label": "Lunch", "reason_code": "*62", "status": 3,
     "mappings": {"sip": {"activity": "meal", "note": "At lunch"}}},
    {"label": "Training", "reason_code": "*63", "status": 5,
     "mappings": {"sip": {"basic": "closed"}}},
    {"label": "Logout", "reason_code": "*67", "status": 7}
  ]})";

BOOST_AUTO_TEST_CASE(state_mapping_blocks_are_checked_at_load) {
  auto catalog = testing::CatalogFromJson(R"({"settings": {"mode": "none"}, "states": [
      {"label": "Ready", "reason_code": "", "status": 1,
       "mappings": {"sip": {"activity": "napping", "basic": "ajar", "colour": 1}}},
      {"label": "Logout", "reason_code": "", "status": 7}]})");
  ParsedBlock parsed = Parse(R"({"server": "sip:pbx"})", *catalog);
  std::string problems = JoinProblems(parsed.problems);
  BOOST_TEST(problems.find("states[0].mappings.sip.activity") != std::string::npos, problems);
  BOOST_TEST(problems.find("states[0].mappings.sip.basic") != std::string::npos, problems);
  BOOST_TEST(problems.find("states[0].mappings.sip.colour: unknown key") != std::string::npos,
             problems);
}

Change ChangeTo(const std::string& label, reasoncodes::StatusCode status) {
  return Change{.agent = "alice",
                .at = *ParseTime("2026-12-06T09:30:00.000Z"),
                .label = label,
                .status = status};
}

BOOST_AUTO_TEST_CASE(the_document_follows_the_mapping_or_the_status) {
  Directory directory;
  directory.catalog = testing::CatalogFromJson(kMappedCatalog);
  const std::string aor = "sip:1001@pbx.example";
  struct Case {
    const char* label;
    reasoncodes::StatusCode status;
    bool open;
    std::string activity;
    std::string note;
  };
  const Case cases[] = {
      {"Ready for Calls", reasoncodes::StatusCode::kOnline, true, "", "Ready for Calls"},
      {"Lunch", reasoncodes::StatusCode::kAway, true, "meal", "At lunch"},
      {"Training", reasoncodes::StatusCode::kBusy, false, "busy", "Training"},
      {"Logout", reasoncodes::StatusCode::kLogout, false, "", "Logout"},
      {"On a call", reasoncodes::StatusCode::kOnCall, true, "on-the-phone", "On a call"},
  };
  for (const Case& test : cases) {
    BOOST_TEST_CONTEXT(test.label) {
      Result<Pidf> read = ReadPidf(DocumentFor(ChangeTo(test.label, test.status), aor, directory));
      BOOST_TEST_REQUIRE(read.ok());
      BOOST_TEST(read->entity == aor);
      BOOST_TEST_REQUIRE(read->tuples.size() == 1u);
      BOOST_TEST(read->tuples[0].id == "pa-alice");
      BOOST_TEST((read->tuples[0].open == std::optional<bool>(test.open)));
      BOOST_TEST_REQUIRE(!read->notes.empty());
      BOOST_TEST(read->notes[0] == test.note);
      std::vector<std::string> activities;
      for (const PidfPerson& person : read->persons) {
        activities.insert(activities.end(), person.activities.begin(), person.activities.end());
      }
      BOOST_TEST(activities == (test.activity.empty() ? std::vector<std::string>{}
                                                      : std::vector<std::string>{test.activity}));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_users_presentity) {
  reasoncodes::User user{.id = "alice"};
  BOOST_TEST(!UserAor(user, "pbx.example"));
  user.identities["sip"] = "1001";
  BOOST_TEST(*UserAor(user, "pbx.example") == "sip:1001@pbx.example");
  user.identities["sip"] = "1001@other.example";
  BOOST_TEST(*UserAor(user, "pbx.example") == "sip:1001@other.example");
  user.identities["sip"] = "sip:alice@x.example";
  BOOST_TEST(*UserAor(user, "pbx.example") == "sip:alice@x.example");
  // Nothing that could add a header or break the message.
  for (const char* bad : {"1001\r\nVia: x", "a b", "<sip:x>", "\"x\"", "1001\n"}) {
    user.identities["sip"] = bad;
    BOOST_TEST(!UserAor(user, "pbx.example"), bad);
  }
}

// The CAs for TLS are loaded at start: a file that cannot be read stops the stack with a message
// naming it (the connector then shows it as its error), rather than TLS running unchecked.
BOOST_AUTO_TEST_CASE(tls_with_an_unreadable_ca_file_does_not_start) {
  testing::TempDir dir;
  const std::string not_pem = dir.File("not-a-ca.pem");
  std::ofstream(not_pem) << "not a certificate\n";
  for (const std::string& file : {dir.File("missing.pem"), not_pem}) {
    StackOptions options;
    options.server_host = "127.0.0.1";
    options.server_port = 5061;
    options.transport = Transport::kTls;
    options.local_host = "127.0.0.1";
    options.agent_uri = "sip:presence-agent@127.0.0.1";
    options.tls_ca_file = file;
    SipStack stack(options, nullptr, nullptr);
    Status started = stack.Start();
    BOOST_TEST_REQUIRE(!started.ok(), file);
    BOOST_TEST(started.error().message.find("tls_ca_file " + file) != std::string::npos,
               started.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors::sip
