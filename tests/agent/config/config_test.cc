// The service configuration around the catalog: server, users, tokens, connectors. Every problem
// is listed with its place and what is allowed; a good file gives the settings it says.

#include "agent/config/config.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <set>

#include "tests/fakes/test_catalog.h"

namespace presence::agent {
namespace {

// The test catalog with more top-level members spliced in.
std::string WithCatalog(const std::string& members, const testing::TestSettings& settings = {}) {
  std::string json = testing::TestCatalogJson(settings);
  return json.substr(0, json.rfind('}')) + (members.empty() ? "" : ", " + members) + "}";
}

const std::string kHash(64, 'a');
const std::string kSyncBlock =
    R"({"login_url": "https://example.my.salesforce.com", "auth": "client_credentials",
        "client_id": "3MVG9.key", "client_secret": "fake-consumer-secret"})";

struct BadCase {
  std::string name;
  std::string members;
  std::string problem;  // a substring of one reported problem
};
std::ostream& operator<<(std::ostream& out, const BadCase& c) { return out << c.name; }

const std::vector<BadCase> kBad = {
    {"unknown_top_level_key", R"("sever": {})", "config.sever: unknown key"},
    {"listen_without_a_port", R"("server": {"listen": "localhost:http"})",
     "server.listen: \"localhost:http\" is not an address"},
    {"port_out_of_range", R"("server": {"port": 70000})", "server.port: 70000 is out of range"},
    {"too_few_workers", R"("server": {"workers": 1})",
     "server.workers: 1 is out of range (2-1024)"},
    {"unknown_durability", R"("server": {"durability": "paranoid"})",
     "server.durability: \"paranoid\" is not a durability level (power_loss, process_crash)"},
    {"tls_without_a_key", R"("server": {"tls": {"certificate": "c.pem"}})",
     "server.tls.private_key: required"},
    {"unknown_server_key", R"("server": {"threads": 4})", "server.threads: unknown key"},
    {"io_timeout_zero", R"("server": {"io_timeout_seconds": 0})",
     "server.io_timeout_seconds: 0 is out of range (1-300)"},
    {"keep_alive_too_long", R"("server": {"keep_alive_seconds": 3601})",
     "server.keep_alive_seconds: 3601 is out of range (1-3600)"},
    {"no_stream_per_agent_token", R"("server": {"max_streams_per_agent_token": 0})",
     "server.max_streams_per_agent_token: 0 is out of range (1-1000)"},
    {"negative_connections_per_client", R"("server": {"max_connections_per_client": -1})",
     "server.max_connections_per_client: -1 is out of range (0-1024)"},
    {"origins_not_a_list", R"("server": {"allowed_origins": "https://a.example"})",
     "server.allowed_origins: must be an array of origins"},
    {"origin_with_a_path", R"("server": {"allowed_origins": ["https://a.example/dash"]})",
     "server.allowed_origins[0]: \"https://a.example/dash\" is not an origin"},
    {"frame_ancestors_not_a_list", R"("server": {"frame_ancestors": "https://a.example"})",
     "server.frame_ancestors: must be an array of origins"},
    {"frame_ancestor_with_a_path",
     R"("server": {"frame_ancestors": ["https://org.example/lightning"]})",
     "server.frame_ancestors[0]: \"https://org.example/lightning\" is not an origin "
     "(http:// or https://, a host, an optional port, no path)"},
    {"frame_ancestor_wildcard", R"("server": {"frame_ancestors": ["https://*.force.com"]})",
     "server.frame_ancestors[0]: \"https://*.force.com\" is not an origin"},
    {"frame_ancestor_keyword", R"("server": {"frame_ancestors": ["'self'"]})",
     "server.frame_ancestors[0]: \"'self'\" is not an origin"},
    {"frame_ancestor_not_a_string", R"("server": {"frame_ancestors": [5]})",
     "server.frame_ancestors[0]: must be a string"},
    {"user_id_with_a_space", R"("users": [{"id": "10 01"}])",
     "users[0].id: \"10 01\" is not a user id"},
    {"duplicate_user_id", R"("users": [{"id": "1001"}, {"id": "1001"}])",
     "users[1].id: \"1001\" is already the id of users[0]"},
    {"identities_not_strings", R"("users": [{"id": "1001", "identities": {"teams": 5}}])",
     "users[0].identities.teams: must be a string"},
    {"unknown_role", R"("tokens": [{"name": "x", "role": "boss", "sha256": ")" + kHash + R"("}])",
     "tokens[0].role: \"boss\" is not a role (agent, integration, supervisor, admin)"},
    {"agent_token_without_user",
     R"("tokens": [{"name": "x", "role": "agent", "sha256": ")" + kHash + R"("}])",
     "tokens[0].user: required for an agent token"},
    {"token_for_an_unknown_user",
     R"("tokens": [{"name": "x", "role": "agent", "user": "9", "sha256": ")" + kHash + R"("}])",
     "tokens[0].user: \"9\" is not a configured user"},
    {"hash_not_hex", R"("tokens": [{"name": "x", "role": "admin", "sha256": "secret"}])",
     "tokens[0].sha256: must be 64 lowercase hex digits"},
    {"same_token_twice",
     R"("tokens": [{"name": "a", "role": "admin", "sha256": ")" + kHash +
         R"("}, {"name": "b", "role": "admin", "sha256": ")" + kHash + R"("}])",
     "tokens[1].sha256: the same token is listed twice"},
    {"connectors_null", R"("connectors": null)",
     "connectors: must be an array of connector blocks, got null"},
    {"unknown_connector_type", R"("connectors": [{"type": "webhok"}])",
     "connectors[0].type: \"webhok\" is not a connector type"},
    {"crm_sync_not_an_object", R"("crm_sync": [])", "crm_sync: must be an object, got"},
    {"logging_not_an_object", R"("logging": "json")", "logging: must be an object, got"},
    {"unknown_log_format", R"("logging": {"format": "xml"})",
     "logging.format: \"xml\" is not a log format (text, json)"},
    {"unknown_log_level", R"("logging": {"level": "verbose"})",
     "logging.level: \"verbose\" is not a log level (debug, info, warning, error)"},
    {"log_level_not_a_string", R"("logging": {"level": 3})", "logging.level: must be a string"},
    {"unknown_logging_key", R"("logging": {"file": "/var/log/x"})", "logging.file: unknown key"},
    {"crm_sync_without_time_tracking", R"("crm_sync": )" + kSyncBlock,
     "crm_sync: the CRM time-tracking sync needs settings.time_tracking set to true"},
};

// A webhook block named `name` posting to `url`, its secret inline.
std::string Webhook(const std::string& name, const std::string& url) {
  return R"({"type": "webhook", "name": ")" + name + R"(", "url": ")" + url +
         R"(", "secret": "0123456789abcdef0123456789abcdef"})";
}

bool HasProblem(const ConfigLoad& load, const std::string& text) {
  for (const std::string& problem : load.problems) {
    if (problem.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string AllProblems(const ConfigLoad& load) {
  std::string text;
  for (const std::string& problem : load.problems) text += problem + " | ";
  return text;
}

// Actions (reasoncodes/actions.h): "Lunch" uses the "away" profile (busy to {mobile}),
// "Meeting" forwards everything to {mobile}, "Desk" no-answer to {extension}; the "home"
// profile forwards to {home}; "spare" (to {pager}) is named by no state and no user.
std::string ActionsConfig(const std::string& users, const std::string& on_login = "") {
  return R"({"profiles": {"office": {"dnd": false},
                          "home": {"forward": {"unconditional": "{home}"}},
                          "away": {"forward": {"busy": "{mobile}"}},
                          "spare": {"forward": {"busy": "{pager}"}}},
             "actions": {"default_profile": "office")" +
         (on_login.empty() ? "" : R"(, "on_login": )" + on_login) + R"(},
             "states": [{"label": "Ready", "status": 1},
                        {"label": "Lunch", "status": 3, "actions": {"profile": "away"}},
                        {"label": "Meeting", "status": 5,
                         "actions": {"forward": {"unconditional": "{mobile}"}}},
                        {"label": "Desk", "status": 5,
                         "actions": {"forward": {"no_answer": "{extension}"}}},
                        {"label": "Logout", "status": 7}],
             "users": [)" +
         users + "]}";
}

const std::string kAnn = R"({"id": "ann", "extension": "1001", "fields": {"mobile": "+49170111"}})";

// A user who has what every state needs, with more members.
std::string UserU(const std::string& more) {
  return R"({"id": "u", "extension": "1", "fields": {"mobile": "1"}, )" + more + "}";
}

const std::vector<BadCase> kBadUserActions = {
    {"unknown_profile", UserU(R"("profile": "hme")"),
     "users[1].profile: \"hme\" is not a profile (did you mean \"home\"?)"},
    {"profile_not_a_name", UserU(R"("profile": "at home")"),
     "users[1].profile: \"at home\" is not a profile name (1-64 of A-Z a-z 0-9 . _ -)"},
    {"fields_not_an_object", R"({"id": "u", "fields": ["+49"], "actions": false})",
     "users[1].fields: must be an object of field name to number, e.g. {\"mobile\": "
     "\"+4917012345\"}, got an array"},
    {"field_name_upper_case", R"({"id": "u", "fields": {"Mobile": "+49"}, "actions": false})",
     "users[1].fields.Mobile: is not a field name (1-32 of a-z 0-9 _)"},
    {"field_name_too_long",
     R"({"id": "u", "actions": false, "fields": {")" + std::string(33, 'f') + R"(": "1"}})",
     "users[1].fields." + std::string(33, 'f') + ": is not a field name (1-32 of a-z 0-9 _)"},
    {"field_named_extension", R"({"id": "u", "fields": {"extension": "1"}, "actions": false})",
     "users[1].fields.extension: is built in (\"{extension}\" is the user's extension); choose "
     "another name"},
    {"field_value_with_space", R"({"id": "u", "fields": {"mobile": "+49 170"}, "actions": false})",
     "users[1].fields.mobile: \"+49 170\" is not a field value (1-64 of 0-9 + * #: fields are "
     "forward targets, so only numbers)"},
    {"field_value_empty", R"({"id": "u", "fields": {"mobile": ""}, "actions": false})",
     "users[1].fields.mobile: \"\" is not a field value (1-64 of 0-9 + * #"},
    {"field_value_65",
     R"({"id": "u", "actions": false, "fields": {"m": ")" + std::string(65, '1') + R"("}})",
     "users[1].fields.m: \"" + std::string(40, '1') + "...\" is not a field value (1-64 of 0-9"},
    {"field_value_number", R"({"id": "u", "fields": {"mobile": 49170}, "actions": false})",
     "users[1].fields.mobile: must be a string, got number 49170"},
    // A bad value is one problem: the field is not also reported missing.
    {"field_value_bad_but_needed", R"({"id": "u", "extension": "1", "fields": {"mobile": "x"}})",
     "users[1].fields.mobile: \"x\" is not a field value"},
    {"actions_true", UserU(R"("actions": true)"),
     "users[1].actions: must be false (the user takes no part) or an action block, got true"},
    {"actions_bad_block", UserU(R"("actions": {"dnd": "on"})"),
     "users[1].actions.dnd: must be true or false, got string \"on\""},
    {"actions_with_a_profile", UserU(R"("actions": {"profile": "home"})"),
     "users[1].actions.profile: unknown key"},
    {"no_field_a_state_forwards_to", R"({"id": "u", "extension": "1"})",
     "users[1].fields: no \"mobile\", which state \"Meeting\" forwards to ({mobile})"},
    {"no_field_a_state_profile_forwards_to",
     R"({"id": "u", "extension": "1", "actions": {"forward": {"unconditional": "1"}}})",
     "users[1].fields: no \"mobile\", which profile \"away\" forwards to ({mobile})"},
    {"no_field_their_profile_forwards_to",
     R"({"id": "u", "extension": "1", "profile": "home", "fields": {"mobile": "1"}})",
     "users[1].fields: no \"home\", which profile \"home\" forwards to ({home})"},
    {"no_field_their_own_block_forwards_to",
     R"({"id": "u", "extension": "1", "fields": {"mobile": "1"},
         "actions": {"forward": {"no_answer": "{car}"}}})",
     "users[1].fields: no \"car\", which users[1].actions forwards to ({car})"},
    {"no_extension_a_state_forwards_to", R"({"id": "u", "fields": {"mobile": "1"}})",
     "users[1].extension: empty, which state \"Desk\" forwards to ({extension})"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_test)

BOOST_DATA_TEST_CASE(a_bad_user_action_setting_is_one_problem_with_what_is_allowed,
                     boost::unit_test::data::make(kBadUserActions), c) {
  ConfigLoad load = LoadConfigText(ActionsConfig(kAnn + ", " + c.members));
  BOOST_TEST(!load.ok());
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, AllProblems(load));
  BOOST_TEST(load.problems[0].starts_with(c.problem), AllProblems(load));
}

BOOST_AUTO_TEST_CASE(users_get_their_profile_fields_and_own_actions) {
  ConfigLoad load =
      LoadConfigText(ActionsConfig(kAnn + R"(, {"id": "bob", "extension": "1002", "profile": "home",
                   "fields": {"home": "+4930222", "mobile": "*31#0170", "car_2": "0049"},
                   "actions": {"dnd": false, "forward": {"busy": "voicemail"}}},
                  {"id": "cy", "actions": false})"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  const User& ann = *load.config->FindUser("ann");
  BOOST_TEST(ann.profile.empty());
  BOOST_TEST(ann.takes_actions);
  BOOST_TEST(!ann.actions.has_value());
  const User& bob = *load.config->FindUser("bob");
  BOOST_TEST(bob.profile == "home");
  BOOST_TEST(bob.fields == (std::map<std::string, std::string>{
                               {"car_2", "0049"}, {"home", "+4930222"}, {"mobile", "*31#0170"}}));
  BOOST_TEST_REQUIRE(bob.actions.has_value());
  BOOST_TEST(reasoncodes::ActionSetJson(*bob.actions) ==
             R"({"dnd":false,"forward":{"busy":"voicemail"}})");
  const User& cy = *load.config->FindUser("cy");
  BOOST_TEST(!cy.takes_actions);
  BOOST_TEST(cy.fields.empty());
  // What the engine will hand the connector when bob is back from lunch: his profile's
  // target with his own field, and his own busy target over everything.
  const reasoncodes::Catalog& catalog = *load.config->catalog;
  reasoncodes::ActionSet ready =
      reasoncodes::ResolveActions(catalog, bob, catalog.Find("Lunch"), catalog.ready());
  BOOST_TEST(reasoncodes::ActionSetJson(ready) ==
             R"({"dnd":false,"forward":{"unconditional":"+4930222","busy":"voicemail"}})");
}

BOOST_AUTO_TEST_CASE(a_user_who_takes_no_part_needs_no_fields) {
  ConfigLoad load = LoadConfigText(ActionsConfig(kAnn + R"(, {"id": "lobby", "actions": false})"));
  BOOST_TEST(load.ok(), AllProblems(load));
}

BOOST_AUTO_TEST_CASE(a_field_only_an_unused_profile_or_another_users_profile_names_is_not_needed) {
  // "spare" forwards to {pager} and "home" to {home}; neither is ann's nor any state's.
  ConfigLoad load = LoadConfigText(ActionsConfig(kAnn));
  BOOST_TEST(load.ok(), AllProblems(load));
}

BOOST_AUTO_TEST_CASE(the_users_own_target_spares_them_the_fields_of_that_kind_only) {
  // Their own unconditional target hides Meeting's {mobile}; their busy comes from "away".
  ConfigLoad load = LoadConfigText(ActionsConfig(kAnn + R"(, {"id": "u", "extension": "1",
                   "actions": {"forward": {"unconditional": "1", "busy": null}}})"));
  BOOST_TEST(load.ok(), AllProblems(load));
}

BOOST_AUTO_TEST_CASE(the_fields_on_login_and_on_logout_forward_to_are_needed_by_everyone) {
  ConfigLoad load = LoadConfigText(
      ActionsConfig(kAnn + R"(, {"id": "u", "extension": "1", "fields": {"mobile": "1",
                                 "desk": "2"}})",
                    R"({"forward": {"no_answer": "{desk}"}})"));
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, AllProblems(load));
  BOOST_TEST(load.problems[0] ==
             "users[0].fields: no \"desk\", which actions.on_login forwards to ({desk})");
}

BOOST_AUTO_TEST_CASE(every_missing_field_of_every_user_is_listed_once_at_its_own_place) {
  // users[0] is refused for its id, so the one lacking fields is still called users[1].
  ConfigLoad load = LoadConfigText(ActionsConfig(R"({"id": "a b"}, {"id": "u"})"));
  BOOST_TEST(HasProblem(load, "users[0].id: \"a b\" is not a user id"), AllProblems(load));
  BOOST_TEST_REQUIRE(load.problems.size() == 3u, AllProblems(load));
  BOOST_TEST(load.problems[1] ==
             "users[1].fields: no \"mobile\", which state \"Meeting\" forwards to ({mobile})");
  BOOST_TEST(load.problems[2] ==
             "users[1].extension: empty, which state \"Desk\" forwards to ({extension})");
}

BOOST_AUTO_TEST_CASE(profiles_and_actions_are_top_level_keys_of_the_file) {
  ConfigLoad load = LoadConfigText(WithCatalog(R"("profiles": {"office": {"dnd": false}},
                     "actions": {"default_profile": "office"})"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  BOOST_TEST(load.config->catalog->action_settings().default_profile == "office");
  ConfigLoad typo = LoadConfigText(WithCatalog(R"("profile": {})"));
  BOOST_TEST(HasProblem(typo, "config.profile: unknown key, did you mean \"profiles\"?"),
             AllProblems(typo));
}

BOOST_DATA_TEST_CASE(bad_service_settings_are_reported_with_place_and_allowed_values,
                     boost::unit_test::data::make(kBad), c) {
  ConfigLoad load = LoadConfigText(WithCatalog(c.members));
  BOOST_TEST(!load.ok());
  BOOST_TEST(HasProblem(load, c.problem), AllProblems(load));
}

BOOST_AUTO_TEST_CASE(the_time_zone_is_checked_against_tzdata_with_a_suggestion) {
  testing::TestSettings settings;
  settings.extra_settings = R"("time_zone": "Europe/Berln")";
  ConfigLoad load = LoadConfigText(WithCatalog("", settings));
  BOOST_TEST(!load.ok());
  BOOST_TEST(HasProblem(load, "settings.time_zone: "), AllProblems(load));
  BOOST_TEST(HasProblem(load, "did you mean 'Europe/Berlin'"), AllProblems(load));
  settings.extra_settings = R"("time_zone": "America/New_York")";
  ConfigLoad good = LoadConfigText(WithCatalog("", settings));
  BOOST_REQUIRE_MESSAGE(good.ok(), AllProblems(good));
  BOOST_TEST(good.config->zone.name() == "America/New_York");
  BOOST_TEST(!good.config->crm_sync.has_value());
}

BOOST_AUTO_TEST_CASE(a_crm_sync_block_with_time_tracking_on_is_read_with_its_defaults) {
  testing::TestSettings settings;
  settings.extra_settings = R"("time_tracking": true)";
  ConfigLoad load = LoadConfigText(WithCatalog(R"("crm_sync": )" + kSyncBlock, settings));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  BOOST_REQUIRE(load.config->crm_sync.has_value());
  BOOST_TEST(load.config->crm_sync->object == "Presence_Time__c");
  BOOST_TEST(load.config->crm_sync->batch_size == 200);
  BOOST_TEST(!load.config->crm_sync_text.empty());
  BOOST_TEST(load.config->zone.name() == "UTC");
}

BOOST_AUTO_TEST_CASE(every_problem_of_a_file_is_listed_at_once) {
  ConfigLoad load =
      LoadConfigText(WithCatalog(R"("server": {"port": -1, "workers": 0}, "users": [{"id": ""}],
                     "tokens": [{"role": "x"}], "connectors": [{"type": "fax"}])"));
  BOOST_TEST(load.problems.size() >= 6u, AllProblems(load));
  BOOST_TEST(HasProblem(load, "connectors[0].type: \"fax\""), AllProblems(load));
  BOOST_TEST(!load.config);
}

// The reload compares connectors_text to tell that connector blocks changed (they apply at the
// next start): the same block gives the same text, any edit another.
BOOST_AUTO_TEST_CASE(connectors_are_read_in_file_order_with_their_text_for_reloads) {
  const std::string a = Webhook("crm", "https://crm.example.com/hook");
  const std::string b = Webhook("helpdesk", "https://help.example.com/hook");
  ConfigLoad load = LoadConfigText(WithCatalog(R"("connectors": [)" + a + ", " + b + "]"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  BOOST_TEST(load.warnings.empty());
  const std::vector<connectors::ConnectorConfig>& read = load.config->connectors;
  BOOST_REQUIRE_EQUAL(read.size(), 2u);
  BOOST_TEST(read[0].name == "crm");
  BOOST_TEST(read[1].name == "helpdesk");
  BOOST_TEST(read[1].type == "webhook");
  BOOST_TEST(read[1].settings != nullptr);

  const std::string text = load.config->connectors_text;
  BOOST_TEST(!text.empty());
  ConfigLoad again = LoadConfigText(WithCatalog(R"("connectors": [)" + a + ", " + b + "]"));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again.config->connectors_text == text);
  ConfigLoad edited = LoadConfigText(WithCatalog(R"("connectors": [)" + a + ", " +
                                                 Webhook("helpdesk", "https://x.example/h") + "]"));
  BOOST_REQUIRE(edited.ok());
  BOOST_TEST(edited.config->connectors_text != text);
  ConfigLoad none = LoadConfigText(WithCatalog(""));
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(none.config->connectors.empty());
  BOOST_TEST(none.config->connectors_text.empty());
}

BOOST_AUTO_TEST_CASE(a_setting_without_the_connector_it_needs_loads_with_a_warning) {
  ConfigLoad load = LoadConfigText(WithCatalog("", {.extra_settings = R"("omni_channel": true)"}));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  BOOST_REQUIRE_EQUAL(load.warnings.size(), 1u);
  BOOST_TEST(load.warnings[0].starts_with("connectors: settings.omni_channel is on"),
             load.warnings[0]);
}

BOOST_AUTO_TEST_CASE(a_good_file_gives_its_settings) {
  const std::string hash = TokenHash("s3cret");
  ConfigLoad load = LoadConfigText(WithCatalog(
      R"("server": {"listen": "0.0.0.0:9443", "data_dir": "/srv/pa", "workers": 8,
                     "durability": "process_crash",
                     "tls": {"certificate": "c.pem", "private_key": "k.pem"}},
         "users": [{"id": "anna.berg@example.com", "name": "Anna Berg", "extension": "1001",
                    "team": "Support", "identities": {"teams": "fa8b"}}],
         "tokens": [{"name": "anna", "role": "agent", "user": "anna.berg@example.com",
                     "sha256": ")" +
      hash + R"("}])"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  const Config& config = *load.config;
  BOOST_TEST(config.server.host == "0.0.0.0");
  BOOST_TEST(config.server.port == 9443);
  BOOST_TEST(config.server.data_dir == "/srv/pa");
  BOOST_TEST(config.server.workers == 8);
  BOOST_TEST((config.server.durability == tracking::Durability::kProcessCrash));
  BOOST_REQUIRE(config.server.tls.has_value());
  BOOST_TEST(config.server.tls->private_key == "k.pem");
  const User* user = config.FindUser("anna.berg@example.com");
  BOOST_REQUIRE(user != nullptr);
  BOOST_TEST(user->identities.at("teams") == "fa8b");
  const TokenEntry* token = config.FindTokenHash(TokenHash("s3cret"));
  BOOST_REQUIRE(token != nullptr);
  BOOST_TEST((token->role == Role::kAgent));
  BOOST_TEST(token->user == "anna.berg@example.com");
  BOOST_TEST(config.FindTokenHash(TokenHash("s3cret ")) == nullptr);
}

BOOST_AUTO_TEST_CASE(connection_limits_are_read_and_origins_kept_as_browsers_send_them) {
  ConfigLoad load = LoadConfigText(WithCatalog(
      R"("server": {"io_timeout_seconds": 30, "max_connections_per_client": 0,
                     "keep_alive_seconds": 120, "max_streams_per_agent_token": 2, "auth_failures_per_minute": 0,
                     "stream_history_bytes": 1048576,
                     "allowed_origins": ["HTTPS://Wall.Example.com:443", "http://10.0.0.5:8080"]})"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  const ServerSettings& server = load.config->server;
  BOOST_TEST(server.io_timeout_seconds == 30);
  BOOST_TEST(server.keep_alive_seconds == 120);
  BOOST_TEST(server.max_connections_per_client == 0);
  BOOST_TEST(server.max_streams_per_agent_token == 2);
  BOOST_TEST(server.auth_failures_per_minute == 0);
  BOOST_TEST(server.stream_history_bytes == 1048576);
  BOOST_TEST(server.allowed_origins ==
                 (std::vector<std::string>{"https://wall.example.com", "http://10.0.0.5:8080"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(frame_ancestors_are_kept_as_origins_apart_from_allowed_origins) {
  ConfigLoad load = LoadConfigText(WithCatalog(
      R"("server": {"frame_ancestors": ["HTTPS://MyOrg.Lightning.Force.com:443",
                                        "https://myorg.my.salesforce.com"]})"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  const ServerSettings& server = load.config->server;
  BOOST_TEST(
      server.frame_ancestors == (std::vector<std::string>{"https://myorg.lightning.force.com",
                                                          "https://myorg.my.salesforce.com"}),
      boost::test_tools::per_element());
  BOOST_TEST(server.allowed_origins.empty());  // framing the page is not opening the stream
}

BOOST_AUTO_TEST_CASE(defaults_without_a_server_block) {
  ConfigLoad load = LoadConfigText(WithCatalog(""));
  BOOST_REQUIRE(load.ok());
  BOOST_TEST(load.config->server.host == "127.0.0.1");
  BOOST_TEST(load.config->server.port == 8080);
  BOOST_TEST((load.config->server.durability == tracking::Durability::kPowerLoss));
  BOOST_TEST(!load.config->server.tls.has_value());
  BOOST_TEST(load.config->server.io_timeout_seconds == 10);
  BOOST_TEST(load.config->server.max_connections_per_client == 32);
  BOOST_TEST(load.config->server.max_streams_per_agent_token == 4);
  BOOST_TEST(load.config->server.auth_failures_per_minute == 10);
  BOOST_TEST(load.config->server.stream_history_bytes == 16 << 20);
  BOOST_TEST(load.config->server.allowed_origins.empty());
  BOOST_TEST(load.config->server.frame_ancestors.empty());
  BOOST_TEST(load.config->users.empty());
  BOOST_TEST((load.config->logging.format == LogFormat::kText));
  BOOST_TEST((load.config->logging.level == LogLevel::kInfo));
}

BOOST_AUTO_TEST_CASE(the_logging_block_gives_the_log_format_and_level) {
  ConfigLoad load =
      LoadConfigText(WithCatalog(R"("logging": {"format": "json", "level": "debug"})"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  BOOST_TEST((load.config->logging.format == LogFormat::kJson));
  BOOST_TEST((load.config->logging.level == LogLevel::kDebug));
  load = LoadConfigText(WithCatalog(R"("logging": {"level": "warning"})"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  BOOST_TEST((load.config->logging.format == LogFormat::kText));
  BOOST_TEST((load.config->logging.level == LogLevel::kWarning));
}

BOOST_AUTO_TEST_CASE(token_hash_is_sha256_hex_and_new_tokens_are_random) {
  // FIPS 180-2 test vector for "abc".
  BOOST_TEST(TokenHash("abc") ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    std::string token = NewToken();
    BOOST_TEST(token.size() == 43u);
    BOOST_TEST(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-_") == std::string::npos);
    tokens.insert(token);
  }
  BOOST_TEST(tokens.size() == 100u);
}

BOOST_AUTO_TEST_CASE(a_large_floor_finds_every_user_and_token_and_a_hand_added_user_too) {
  // 20,000 users, each with an agent token: found by index (loading scans nothing per user).
  std::string users;
  std::string tokens;
  constexpr int kUsers = 20000;
  for (int i = 0; i < kUsers; ++i) {
    const std::string id = std::to_string(100000 + i);
    users += std::string(i ? "," : "") + R"({"id": ")" + id + R"(", "name": "U", "extension": ")" +
             id + R"("})";
    char hash[65];
    std::snprintf(hash, sizeof hash, "%064x", i + 1);
    tokens += std::string(i ? "," : "") + R"({"name": "t)" + id +
              R"(", "role": "agent", "user": ")" + id + R"(", "sha256": ")" + hash + R"("})";
  }
  ConfigLoad load =
      LoadConfigText(WithCatalog(R"("users": [)" + users + R"(], "tokens": [)" + tokens + "]"));
  BOOST_REQUIRE_MESSAGE(load.ok(), AllProblems(load));
  Config config = *load.config;
  for (int i : {0, 1, kUsers / 2, kUsers - 1}) {
    const std::string id = std::to_string(100000 + i);
    BOOST_REQUIRE(config.FindUser(id) != nullptr);
    BOOST_TEST(config.FindUser(id)->id == id);
    char hash[65];
    std::snprintf(hash, sizeof hash, "%064x", i + 1);
    BOOST_REQUIRE(config.FindTokenHash(hash) != nullptr);
    BOOST_TEST(config.FindTokenHash(hash)->user == id);
  }
  BOOST_TEST(config.FindUser("99") == nullptr);
  BOOST_TEST(config.FindTokenHash(std::string(64, 'f')) == nullptr);
  // Changed by hand: still found (in order) until indexed again, and after.
  User extra;
  extra.id = "extra";
  config.users.push_back(extra);
  BOOST_TEST(config.FindUser("extra") != nullptr);
  config.Index();
  BOOST_TEST(config.FindUser("extra") != nullptr);
  BOOST_TEST(config.FindUser(std::to_string(100000 + 7))->id == std::to_string(100000 + 7));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
