// Loading and validating catalog configuration: defaults, every rule with its message, several
// problems at once, JSON syntax errors, and mapping blocks.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "reasoncodes/catalog.h"
#include "reasoncodes/catalog_loader.h"

namespace presence::reasoncodes {
namespace {

namespace data = boost::unit_test::data;

// Ready (0), DND (1), Lunch (2), On a call (3), Logout (4): every role resolves, so a test
// that adds one bad state (index 5) or one bad setting gets exactly one problem.
const std::string kStates = R"(
    {"label": "Ready for Calls", "reason_code": "*60", "status": 1},
    {"label": "Do Not Disturb", "reason_code": "*61", "status": 4},
    {"label": "Lunch", "reason_code": "*62", "status": 3},
    {"label": "On a call", "reason_code": "*69", "status": 6, "selectable": false},
    {"label": "Logout", "reason_code": "*67", "status": 7})";

std::string WithSettings(const std::string& settings) {
  return R"({"settings": {)" + settings + R"(}, "states": [)" + kStates + "]}";
}

std::string WithState(const std::string& state) {
  return R"({"states": [)" + kStates + ", " + state + "]}";
}

std::string Joined(const std::vector<std::string>& problems) {
  std::string text;
  for (const std::string& problem : problems) text += problem + "\n";
  return text;
}

struct MessageCase {
  std::string name;
  std::string config;
  std::string expected;
};

std::ostream& operator<<(std::ostream& out, const MessageCase& test) { return out << test.name; }

const std::string kStateKeys =
    "label, reason_code, status, selectable, color, alert_after_seconds, mappings, actions, "
    "budget_seconds_per_day";
const std::string kSettingsKeys =
    "mode, wrap_up_seconds, wrap_up_locked, active_call_state, time_tracking, "
    "tracking_update_seconds, omni_channel, return_after_call, ready_state, wrap_up_state, "
    "on_call_state, login_state, logout_state, initial_state, time_zone, missed_calls";
const std::string kLabel65(65, 'x');

const std::vector<MessageCase> kStateMessages = {
    {"status_not_a_code",
     R"({"states": [{"label": "Ready", "status": 1}, {"label": "Lunch", "status": 3},
                    {"label": "Logout", "status": 7}, {"label": "Coffee", "status": 9}]})",
     "states[3].status: 9 is not a status code (1-7)"},
    {"status_fraction", WithState(R"({"label": "Coffee", "status": 3.5})"),
     "states[5].status: 3.5 must be a whole number (1-7)"},
    {"status_string", WithState(R"({"label": "Coffee", "status": "3"})"),
     "states[5].status: must be a whole number (1-7), got string \"3\""},
    {"status_bool", WithState(R"({"label": "Coffee", "status": true})"),
     "states[5].status: must be a whole number (1-7), got true"},
    {"status_missing", WithState(R"({"label": "Coffee"})"),
     "states[5].status: missing (a status code 1-7 is required)"},
    {"reason_code_number", WithState(R"({"label": "Coffee", "reason_code": 61, "status": 3})"),
     "states[5].reason_code: must be a string, got number 61 (quote it: \"61\")"},
    {"reason_code_too_long",
     WithState(R"({"label": "Coffee", "status": 3, "reason_code": ")" + kLabel65 + "\"}"),
     "states[5].reason_code: 65 characters is too long (at most 64)"},
    {"state_unknown_key_with_suggestion",
     WithState(R"({"label": "Coffee", "status": 3, "colour": "#ffffff"})"),
     "states[5].colour: unknown key, did you mean \"color\"? (allowed: " + kStateKeys + ")"},
    {"duplicate_label", WithState(R"({"label": "Lunch", "status": 3})"),
     "states[5].label: \"Lunch\" is already the label of states[2] (labels must be unique)"},
    {"label_whitespace", WithState(R"({"label": "Coffee ", "status": 3})"),
     "states[5].label: \"Coffee \" starts or ends with whitespace (remove it)"},
    {"label_empty", WithState(R"({"label": "", "status": 3})"),
     "states[5].label: must not be empty (1-64 characters)"},
    {"label_too_long", WithState(R"({"status": 3, "label": ")" + kLabel65 + "\"}"),
     "states[5].label: 65 characters is too long (1-64 characters)"},
    {"label_missing", WithState(R"({"status": 3})"),
     "states[5].label: missing (a label of 1-64 characters is required)"},
    {"label_number", WithState(R"({"label": 5, "status": 3})"),
     "states[5].label: must be a string, got number 5"},
    {"selectable_string", WithState(R"({"label": "Coffee", "status": 3, "selectable": "no"})"),
     "states[5].selectable: must be true or false, got string \"no\""},
    {"color_not_hex", WithState(R"({"label": "Coffee", "status": 3, "color": "green"})"),
     "states[5].color: \"green\" is not a color (#rrggbb in hex, e.g. \"#2e7d32\")"},
    {"alert_out_of_range",
     WithState(R"({"label": "Coffee", "status": 3, "alert_after_seconds": 86401})"),
     "states[5].alert_after_seconds: 86401 is out of range (0-86400)"},
    {"budget_out_of_range",
     WithState(R"({"label": "Coffee", "status": 3, "budget_seconds_per_day": 86401})"),
     "states[5].budget_seconds_per_day: 86401 is out of range (0-86400)"},
    {"budget_not_a_number",
     WithState(R"({"label": "Coffee", "status": 3, "budget_seconds_per_day": "30 min"})"),
     "states[5].budget_seconds_per_day: must be a whole number (0-86400), got string "
     "\"30 min\""},
    {"mappings_array", WithState(R"({"label": "Coffee", "status": 3, "mappings": []})"),
     "states[5].mappings: must be an object of per-connector blocks (e.g. {\"teams\": {...}}), "
     "got an array"},
    {"mapping_block_string",
     WithState(R"({"label": "Coffee", "status": 3, "mappings": {"teams": "Busy"}})"),
     "states[5].mappings.teams: must be an object (the connector's settings for this state), got "
     "string \"Busy\""},
    {"state_not_object", WithState(R"("Coffee")"),
     "states[5]: must be an object with label, reason_code and status, got string \"Coffee\""},
    {"skype_code_not_publishable",
     R"({"settings": {"mode": "skype_for_business"},
         "states": [{"label": "Available", "reason_code": "3500", "status": 1},
                    {"label": "Idle", "reason_code": "5000", "status": 3},
                    {"label": "Logout", "reason_code": "", "status": 7}]})",
     "states[1].reason_code: \"5000\" is not a Skype for Business availability code (3500 "
     "Available, 6500 Busy, 9500 Do Not Disturb, 12500 Be Right Back, 15500 Away, 18500 Offline, "
     "or empty)"},
};

const std::vector<MessageCase> kSettingsMessages = {
    {"wrap_up_too_long", WithSettings(R"("wrap_up_seconds": 1000)"),
     "settings.wrap_up_seconds: 1000 is out of range (0-999)"},
    {"wrap_up_negative", WithSettings(R"("wrap_up_seconds": -1)"),
     "settings.wrap_up_seconds: -1 is out of range (0-999)"},
    {"tracking_update_zero", WithSettings(R"("tracking_update_seconds": 0)"),
     "settings.tracking_update_seconds: 0 is out of range (1-999)"},
    {"flag_string", WithSettings(R"("time_tracking": "yes")"),
     "settings.time_tracking: must be true or false, got string \"yes\""},
    {"flag_number", WithSettings(R"("omni_channel": 1)"),
     "settings.omni_channel: must be true or false, got number 1"},
    {"flag_null", WithSettings(R"("wrap_up_locked": null)"),
     "settings.wrap_up_locked: must be true or false, got null"},
    {"mode_unknown", WithSettings(R"("mode": "sip")"),
     "settings.mode: \"sip\" is not a mode (none, dial_command, skype_for_business)"},
    {"return_after_call_unknown", WithSettings(R"("return_after_call": "last")"),
     "settings.return_after_call: \"last\" is not a choice (ready, previous)"},
    {"settings_unknown_key", WithSettings(R"("pbx_host": "10.0.0.1")"),
     "settings.pbx_host: unknown key (allowed: " + kSettingsKeys + ")"},
    {"settings_not_object", R"({"settings": [], "states": [)" + kStates + "]}",
     "settings: must be an object, got an array"},
    {"role_label_not_string", WithSettings(R"("ready_state": 1)"),
     "settings.ready_state: must be a string, got number 1"},
    {"role_label_typo", WithSettings(R"("ready_state": "Ready for calls")"),
     "settings.ready_state: \"Ready for calls\" is not the label of any state (did you mean "
     "\"Ready for Calls\"?)"},
    {"role_label_unknown", WithSettings(R"("initial_state": "Home")"),
     "settings.initial_state: \"Home\" is not the label of any state (use the exact label of a "
     "state)"},
    {"ready_state_wrong_status", WithSettings(R"("ready_state": "Lunch")"),
     "settings.ready_state: \"Lunch\" has status 3 (Away), but the ready state needs status 1 "
     "(Online)"},
    {"wrap_up_state_wrong_status", WithSettings(R"("wrap_up_state": "Lunch")"),
     "settings.wrap_up_state: \"Lunch\" has status 3 (Away), but the wrap-up state needs status 4 "
     "(DND)"},
    {"on_call_state_wrong_status", WithSettings(R"("on_call_state": "Do Not Disturb")"),
     "settings.on_call_state: \"Do Not Disturb\" has status 4 (DND), but the On a call state "
     "needs status 6 (On a call)"},
    {"logout_state_wrong_status", WithSettings(R"("logout_state": "Ready for Calls")"),
     "settings.logout_state: \"Ready for Calls\" has status 1 (Online), but the logout state "
     "needs status 7 (Logout) or 2 (Offline)"},
};

std::string WithMissed(const std::string& missed, const std::string& more = "") {
  return WithSettings(more + R"("missed_calls": )" + missed);
}

const std::string kMissedShape =
    "{\"after\": 1-20, \"state\": \"<label>\", \"return_after_seconds\": 0-3600}";

const std::vector<MessageCase> kMissedCallsMessages = {
    {"not_an_object", WithMissed("3"),
     "settings.missed_calls: must be an object " + kMissedShape + ", got number 3"},
    {"null", WithMissed("null"),
     "settings.missed_calls: must be an object " + kMissedShape + ", got null"},
    {"unknown_key", WithMissed(R"({"after": 3, "state": "Lunch", "return_after": 60})"),
     "settings.missed_calls.return_after: unknown key (allowed: after, state, "
     "return_after_seconds)"},
    {"after_missing", WithMissed(R"({"state": "Lunch"})"),
     "settings.missed_calls.after: missing (how many ring-only calls in a row, 1-20)"},
    {"after_zero", WithMissed(R"({"after": 0, "state": "Lunch"})"),
     "settings.missed_calls.after: 0 is out of range (1-20)"},
    {"after_too_many", WithMissed(R"({"after": 21, "state": "Lunch"})"),
     "settings.missed_calls.after: 21 is out of range (1-20)"},
    {"after_fraction", WithMissed(R"({"after": 2.5, "state": "Lunch"})"),
     "settings.missed_calls.after: 2.5 must be a whole number (1-20)"},
    {"after_string", WithMissed(R"({"after": "3", "state": "Lunch"})"),
     "settings.missed_calls.after: must be a whole number (1-20), got string \"3\""},
    {"state_missing", WithMissed(R"({"after": 3})"),
     "settings.missed_calls.state: missing (the label of the state to move the agent to)"},
    {"state_not_string", WithMissed(R"({"after": 3, "state": 3})"),
     "settings.missed_calls.state: must be a string, got number 3"},
    {"state_unknown", WithMissed(R"({"after": 3, "state": "Lnch"})"),
     "settings.missed_calls.state: \"Lnch\" is not the label of any state (did you mean "
     "\"Lunch\"?)"},
    {"state_is_ready", WithMissed(R"({"after": 3, "state": "Ready for Calls"})"),
     "settings.missed_calls.state: \"Ready for Calls\" is the ready state; the agent must be "
     "taken out of Ready (use a state such as a break)"},
    {"state_is_logout", WithMissed(R"({"after": 3, "state": "Logout"})"),
     "settings.missed_calls.state: \"Logout\" has status 7 (Logout): a signed-off agent's calls "
     "are never counted and only a login brings them back (use a state such as a break)"},
    {"state_is_on_call", WithMissed(R"({"after": 3, "state": "On a call"})"),
     "settings.missed_calls.state: \"On a call\" has status 6 (On a call): that state means a "
     "call is in progress and calls set and clear it (use a state such as a break)"},
    {"state_is_wrap_up",
     WithMissed(R"({"after": 3, "state": "Do Not Disturb"})", R"("wrap_up_seconds": 30, )"),
     "settings.missed_calls.state: \"Do Not Disturb\" is the wrap-up state, which its timer "
     "ends after wrap_up_seconds (use a state such as a break)"},
    {"return_too_long",
     WithMissed(R"({"after": 3, "state": "Lunch", "return_after_seconds": 3601})"),
     "settings.missed_calls.return_after_seconds: 3601 is out of range (0-3600)"},
    {"return_negative", WithMissed(R"({"after": 3, "state": "Lunch", "return_after_seconds": -1})"),
     "settings.missed_calls.return_after_seconds: -1 is out of range (0-3600)"},
    {"return_not_number",
     WithMissed(R"({"after": 3, "state": "Lunch", "return_after_seconds": true})"),
     "settings.missed_calls.return_after_seconds: must be a whole number (0-3600), got true"},
};

const std::vector<MessageCase> kStructureMessages = {
    {"no_logout_state", R"({"states": [{"label": "Ready", "status": 1}]})",
     "states: a logout state is needed: add a state with status 7 (Logout) or 2 (Offline)"},
    {"no_ready_state", R"({"states": [{"label": "Logout", "status": 7}]})",
     "states: a ready state is needed: add a state with status 1 (Online)"},
    {"wrap_up_without_dnd_state",
     R"({"settings": {"wrap_up_seconds": 30},
         "states": [{"label": "Ready", "status": 1}, {"label": "Logout", "status": 7}]})",
     "settings.wrap_up_seconds: a wrap-up state is needed: add a state with status 4 (DND)"},
    {"active_call_without_on_call_state",
     R"({"settings": {"active_call_state": true},
         "states": [{"label": "Ready", "status": 1}, {"label": "Logout", "status": 7}]})",
     "settings.active_call_state: an On a call state is needed: add a state with status 6 (On a "
     "call)"},
    {"states_missing", R"({"settings": {}})",
     "states: missing (an array of at least one state is required)"},
    {"states_empty", R"({"states": []})", "states: is empty (at least one state is required)"},
    {"states_not_array", R"({"states": {"label": "Ready"}})",
     "states: must be an array of states, got an object"},
    {"config_a_single_value", "42",
     "config: must be a JSON object with \"settings\" and \"states\", got a single value"},
    {"config_not_object", R"([{"label": "Ready", "status": 1}])",
     "config: must be a JSON object with \"settings\" and \"states\", got an array"},
};

// Top-level members (profiles, actions) before the states, and optionally one more state.
std::string WithTop(const std::string& members, const std::string& state = "") {
  return "{" + members + R"(, "states": [)" + kStates + (state.empty() ? "" : ", " + state) + "]}";
}

const std::string kTwoProfiles = R"("profiles": {"away": {"dnd": true}, "office": {}})";

const std::vector<MessageCase> kActionMessages = {
    {"profiles_not_an_object", WithTop(R"("profiles": [])"),
     "profiles: must be an object of profile name to action block, e.g. {\"office\": {\"dnd\": "
     "false}}, got an array"},
    {"profile_name_with_space", WithTop(R"("profiles": {"at home": {}})"),
     "profiles.at home: is not a profile name (1-64 of A-Z a-z 0-9 . _ -)"},
    {"profile_block_bad", WithTop(R"("profiles": {"away": {"dnd": 1}})"),
     "profiles.away.dnd: must be true or false, got number 1"},
    {"actions_not_an_object", WithTop(R"("actions": true)"),
     "actions: must be an object {\"default_profile\": name, \"on_login\": {...}, "
     "\"on_logout\": {...}}, got true"},
    {"actions_unknown_key", WithTop(R"("actions": {"on_logon": {}})"),
     "actions.on_logon: unknown key, did you mean \"on_login\"? (allowed: default_profile, "
     "on_login, on_logout)"},
    {"default_profile_typo", WithTop(kTwoProfiles + R"(, "actions": {"default_profile": "ofice"})"),
     "actions.default_profile: \"ofice\" is not a profile (did you mean \"office\"?)"},
    {"default_profile_without_profiles", WithTop(R"("actions": {"default_profile": "office"})"),
     "actions.default_profile: \"office\" is not a profile (no profiles are configured; add it "
     "to \"profiles\")"},
    {"default_profile_not_a_string", WithTop(R"("actions": {"default_profile": 1})"),
     "actions.default_profile: must be a string, got number 1"},
    {"on_login_bad_queue", WithTop(R"("actions": {"on_login": {"queues": {"add": [1]}}})"),
     "actions.on_login.queues.add[0]: must be a queue name or {\"queue\": name, \"penalty\": "
     "0-1000}, got number 1"},
    {"on_logout_not_a_block", WithTop(R"("actions": {"on_logout": false})"),
     "actions.on_logout: must be an object (an action block with dnd, forward, follow_me, "
     "queues), got false"},
    {"state_actions_bad", WithState(R"({"label": "Coffee", "status": 3, "actions": {"dnd": "y"}})"),
     "states[5].actions.dnd: must be true or false, got string \"y\""},
    {"state_profile_typo",
     WithTop(kTwoProfiles, R"({"label": "Coffee", "status": 3, "actions": {"profile": "awya"}})"),
     "states[5].actions.profile: \"awya\" is not a profile (did you mean \"away\"?)"},
    {"state_profile_unknown",
     WithTop(kTwoProfiles, R"({"label": "Coffee", "status": 3, "actions": {"profile": "lunch"}})"),
     "states[5].actions.profile: \"lunch\" is not a profile (profiles: away, office)"},
    {"state_names_a_profile_with_problems_once",
     WithTop(R"("profiles": {"away": {"dnd": 1}})",
             R"({"label": "Coffee", "status": 3, "actions": {"profile": "away"}})"),
     "profiles.away.dnd: must be true or false, got number 1"},
};

void CheckSingleProblem(const MessageCase& test) {
  CatalogLoad load = LoadCatalogText(test.config);
  BOOST_TEST(!load.ok());
  BOOST_TEST(!load.catalog.has_value());
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, Joined(load.problems));
  BOOST_TEST(load.problems[0] == test.expected);
}

CatalogLoad LoadOk(const std::string& config) {
  CatalogLoad load = LoadCatalogText(config);
  BOOST_TEST_REQUIRE(load.ok(), Joined(load.problems));
  return load;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(catalog_validation_test)

BOOST_DATA_TEST_CASE(a_bad_state_field_is_reported_with_its_path_and_what_is_allowed,
                     data::make(kStateMessages), test) {
  CheckSingleProblem(test);
}

BOOST_DATA_TEST_CASE(a_bad_setting_is_reported_with_its_path_and_what_is_allowed,
                     data::make(kSettingsMessages), test) {
  CheckSingleProblem(test);
}

BOOST_DATA_TEST_CASE(a_bad_missed_calls_setting_is_reported_with_what_is_allowed,
                     data::make(kMissedCallsMessages), test) {
  CheckSingleProblem(test);
}

BOOST_DATA_TEST_CASE(a_bad_profile_or_action_block_is_reported_with_what_is_allowed,
                     data::make(kActionMessages), test) {
  CheckSingleProblem(test);
}

BOOST_AUTO_TEST_CASE(profiles_actions_and_state_actions_are_read) {
  CatalogLoad load = LoadOk(WithTop(
      R"("profiles": {"office": {"dnd": false, "queues": {"add": [{"queue": "support",
                                                                    "penalty": 2}]}},
                      "away": {"forward": {"unconditional": "voicemail"}}},
         "actions": {"default_profile": "office", "on_login": {"queues": {"pause": false}},
                     "on_logout": {"follow_me": false}})",
      R"({"label": "Coffee", "status": 3, "actions": {"profile": "away", "dnd": true}})"));
  const Catalog& catalog = *load.catalog;
  BOOST_TEST_REQUIRE(catalog.profiles().size() == 2u);
  BOOST_TEST(ActionSetJson(catalog.profiles().at("office")) ==
             R"({"dnd":false,"queues":{"support":2}})");
  BOOST_TEST_REQUIRE(catalog.FindProfile("away") != nullptr);
  BOOST_TEST(ActionSetJson(*catalog.FindProfile("away")) ==
             R"({"forward":{"unconditional":"voicemail"}})");
  BOOST_TEST(catalog.FindProfile("home") == nullptr);
  const ActionSettings& settings = catalog.action_settings();
  BOOST_TEST(settings.default_profile == "office");
  BOOST_TEST_REQUIRE(settings.on_login.has_value());
  BOOST_TEST(ActionSetJson(*settings.on_login) == R"({"queue_pause":false})");
  BOOST_TEST_REQUIRE(settings.on_logout.has_value());
  BOOST_TEST(ActionSetJson(*settings.on_logout) == R"({"follow_me":false})");
  const State* coffee = catalog.Find("Coffee");
  BOOST_TEST(coffee->profile == "away");
  BOOST_TEST_REQUIRE(coffee->actions.has_value());
  BOOST_TEST(ActionSetJson(*coffee->actions) == R"({"dnd":true})");
  BOOST_TEST(!catalog.ready().actions.has_value());
  BOOST_TEST(catalog.ready().profile.empty());
}

BOOST_AUTO_TEST_CASE(a_state_block_with_only_a_profile_has_an_empty_set) {
  CatalogLoad load = LoadOk(WithTop(kTwoProfiles, R"({"label": "Coffee", "status": 3,
                                                     "actions": {"profile": "away"}})"));
  const State* coffee = load.catalog->Find("Coffee");
  BOOST_TEST(coffee->profile == "away");
  BOOST_TEST_REQUIRE(coffee->actions.has_value());
  BOOST_TEST(coffee->actions->empty());
  BOOST_TEST(!load.catalog->action_settings().on_login.has_value());
}

BOOST_AUTO_TEST_CASE(a_catalog_built_in_code_refuses_an_unknown_profile) {
  std::vector<State> states = LoadOk(WithSettings("")).catalog->states();
  states[2].profile = "away";
  BOOST_CHECK_THROW(Catalog(states, Settings{}), std::invalid_argument);
  BOOST_CHECK_NO_THROW(Catalog(states, Settings{}, {{"away", ActionSet{}}}));
  BOOST_CHECK_THROW(Catalog(LoadOk(WithSettings("")).catalog->states(), Settings{}, {},
                            ActionSettings{.default_profile = "office"}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(missed_calls_is_off_unless_configured) {
  CatalogLoad load = LoadOk(WithSettings(""));
  BOOST_TEST(!load.catalog->settings().missed_calls.has_value());
  BOOST_TEST(load.catalog->missed_calls_state() == nullptr);
}

BOOST_AUTO_TEST_CASE(missed_calls_is_read_with_its_state) {
  CatalogLoad load =
      LoadOk(WithMissed(R"({"after": 3, "state": "Lunch", "return_after_seconds": 600})"));
  const auto& missed = load.catalog->settings().missed_calls;
  BOOST_REQUIRE(missed.has_value());
  BOOST_TEST(missed->after == 3);
  BOOST_TEST(missed->state == "Lunch");
  BOOST_TEST(missed->return_after_seconds == 600);
  BOOST_REQUIRE(load.catalog->missed_calls_state() != nullptr);
  BOOST_TEST(load.catalog->missed_calls_state()->label == "Lunch");
}

BOOST_AUTO_TEST_CASE(missed_calls_return_defaults_to_staying) {
  CatalogLoad load = LoadOk(WithMissed(R"({"after": 1, "state": "Do Not Disturb"})"));
  BOOST_REQUIRE(load.catalog->settings().missed_calls.has_value());
  BOOST_TEST(load.catalog->settings().missed_calls->return_after_seconds == 0);
}

BOOST_DATA_TEST_CASE(a_missing_state_or_list_is_reported_with_what_to_add,
                     data::make(kStructureMessages), test) {
  CheckSingleProblem(test);
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  CatalogLoad load = LoadCatalogText(R"({
    "settings": {"mode": "sip", "wrap_up_seconds": 1000},
    "states": [
      {"label": "Ready", "status": 1},
      {"label": "Lunch", "status": 9},
      {"label": "Break", "status": 3, "colour": "#ffffff"},
      {"label": "Ready", "status": 1},
      {"label": "Logout", "status": 7}
    ]})");
  BOOST_TEST(!load.catalog.has_value());
  BOOST_TEST_REQUIRE(load.problems.size() == 5u, Joined(load.problems));
  BOOST_TEST(load.problems[0].starts_with("settings.mode: "));
  BOOST_TEST(load.problems[1].starts_with("settings.wrap_up_seconds: "));
  BOOST_TEST(load.problems[2] == "states[1].status: 9 is not a status code (1-7)");
  BOOST_TEST(load.problems[3].starts_with("states[2].colour: unknown key"));
  BOOST_TEST(
      load.problems[4].starts_with("states[3].label: \"Ready\" is already the label of "
                                   "states[0]"));
}

BOOST_AUTO_TEST_CASE(problems_in_several_states_are_each_reported) {
  CatalogLoad load = LoadCatalogText(R"({"states": [
      {"label": " Ready", "status": 1, "selectable": 1},
      {"label": "Lunch", "status": 0, "alert_after_seconds": -5},
      {"label": "Logout", "status": 7, "color": "#12345"}]})");
  BOOST_TEST(load.problems.size() == 5u, Joined(load.problems));
}

BOOST_AUTO_TEST_CASE(a_bad_status_is_not_followed_by_a_guess_that_a_role_has_no_state) {
  CatalogLoad load = LoadCatalogText(
      R"({"states": [{"label": "Ready", "status": 11}, {"label": "Logout", "status": 7}]})");
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, Joined(load.problems));
  BOOST_TEST(load.problems[0] == "states[0].status: 11 is not a status code (1-7)");
}

BOOST_AUTO_TEST_CASE(settings_have_their_documented_defaults) {
  CatalogLoad load =
      LoadOk(R"({"states": [{"label": "Ready", "status": 1}, {"label": "Logout", "status": 7}]})");
  const Settings& settings = load.catalog->settings();
  BOOST_TEST(ModeName(settings.mode) == "none");
  BOOST_TEST(settings.wrap_up_seconds == 0);
  BOOST_TEST(!settings.wrap_up_locked);
  BOOST_TEST(!settings.active_call_state);
  BOOST_TEST(!settings.time_tracking);
  BOOST_TEST(settings.tracking_update_seconds == 60);
  BOOST_TEST(!settings.omni_channel);
  BOOST_TEST((settings.return_after_call == ReturnAfterCall::kReady));
  BOOST_TEST(settings.ready_state.empty());
  BOOST_TEST(settings.wrap_up_state.empty());
  BOOST_TEST(settings.on_call_state.empty());
  BOOST_TEST(settings.login_state.empty());
  BOOST_TEST(settings.logout_state.empty());
  BOOST_TEST(settings.initial_state.empty());
}

BOOST_AUTO_TEST_CASE(every_setting_is_read) {
  CatalogLoad load = LoadOk(WithSettings(R"(
      "mode": "dial_command", "wrap_up_seconds": 999, "wrap_up_locked": true,
      "active_call_state": true, "time_tracking": true, "tracking_update_seconds": 1,
      "omni_channel": true, "return_after_call": "previous", "ready_state": "Ready for Calls",
      "wrap_up_state": "Do Not Disturb", "on_call_state": "On a call", "login_state": "Lunch",
      "logout_state": "Logout", "initial_state": "Lunch")"));
  const Settings& settings = load.catalog->settings();
  BOOST_TEST(ModeName(settings.mode) == "dial_command");
  BOOST_TEST(settings.wrap_up_seconds == 999);
  BOOST_TEST(settings.wrap_up_locked);
  BOOST_TEST(settings.active_call_state);
  BOOST_TEST(settings.time_tracking);
  BOOST_TEST(settings.tracking_update_seconds == 1);
  BOOST_TEST(settings.omni_channel);
  BOOST_TEST((settings.return_after_call == ReturnAfterCall::kPrevious));
  BOOST_TEST(load.catalog->login().label == "Lunch");
  BOOST_TEST(load.catalog->initial().label == "Lunch");
  BOOST_TEST(settings.wrap_up_state == "Do Not Disturb");
}

BOOST_AUTO_TEST_CASE(state_fields_have_their_documented_defaults) {
  CatalogLoad load =
      LoadOk(R"({"states": [{"label": "Ready", "status": 1}, {"label": "Logout", "status": 7}]})");
  const State& ready = load.catalog->ready();
  BOOST_TEST(ready.reason_code.empty());
  BOOST_TEST(ready.selectable);
  BOOST_TEST(ready.alert_after_seconds == 0);
  BOOST_TEST(ready.mappings.empty());
  BOOST_TEST(ready.color == "#2e7d32");
}

const std::vector<int> kStatuses = {1, 2, 3, 4, 5, 6, 7};
const std::vector<std::string> kDefaultColors = {"#2e7d32", "#9e9e9e", "#f9a825", "#c62828",
                                                 "#ef6c00", "#1565c0", "#616161"};

BOOST_DATA_TEST_CASE(color_defaults_by_status, data::make(kStatuses) ^ data::make(kDefaultColors),
                     status, color) {
  CatalogLoad load =
      LoadOk(WithState(R"({"label": "Probe", "status": )" + std::to_string(status) + "}"));
  BOOST_TEST(load.catalog->Find("Probe")->color == color);
}

BOOST_AUTO_TEST_CASE(state_fields_are_read_as_given) {
  CatalogLoad load = LoadOk(WithState(R"({"label": "Coffee", "reason_code": "*70",
      "status": 3, "selectable": false, "color": "#A1b2C3", "alert_after_seconds": 86400})"));
  const State* coffee = load.catalog->Find("Coffee");
  BOOST_TEST_REQUIRE(coffee != nullptr);
  BOOST_TEST(coffee->reason_code == "*70");
  BOOST_TEST(ToInt(coffee->status) == 3);
  BOOST_TEST(!coffee->selectable);
  BOOST_TEST(coffee->color == "#A1b2C3");
  BOOST_TEST(coffee->alert_after_seconds == 86400);
}

BOOST_AUTO_TEST_CASE(a_label_of_64_characters_is_accepted_counting_characters_not_bytes) {
  std::string accented;
  for (int i = 0; i < 64; ++i) accented += "\xc3\xa9";  // é, two bytes each
  CatalogLoad load = LoadOk(WithState(R"({"label": ")" + accented + R"(", "status": 3})"));
  BOOST_TEST(load.catalog->Find(accented) != nullptr);
  LoadOk(WithState(R"({"label": ")" + std::string(64, 'x') + R"(", "status": 3})"));
}

BOOST_AUTO_TEST_CASE(a_whole_number_written_with_a_decimal_point_is_accepted) {
  CatalogLoad load = LoadOk(WithSettings(R"("wrap_up_seconds": 30.0)"));
  BOOST_TEST(load.catalog->settings().wrap_up_seconds == 30);
}

BOOST_DATA_TEST_CASE(numbers_too_large_for_any_integer_are_out_of_range,
                     data::make(std::vector<std::string>{"1e30", "18446744073709551615",
                                                         "-9223372036854775808"}),
                     number) {
  CatalogLoad load = LoadCatalogText(WithSettings(R"("wrap_up_seconds": )" + number));
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, Joined(load.problems));
  BOOST_TEST(load.problems[0].starts_with("settings.wrap_up_seconds: "));
  BOOST_TEST(load.problems[0].ends_with(" is out of range (0-999)"));
}

BOOST_AUTO_TEST_CASE(dial_command_mode_accepts_a_selectable_state_without_reason_code) {
  CatalogLoad load = LoadOk(R"({"settings": {"mode": "dial_command"},
      "states": [{"label": "Ready", "reason_code": "*60", "status": 1},
                 {"label": "Paperwork", "reason_code": "", "status": 5},
                 {"label": "Logout", "status": 7}]})");
  BOOST_TEST(load.catalog->Find("Paperwork")->reason_code.empty());
  BOOST_TEST(load.catalog->Find("Logout")->reason_code.empty());
}

BOOST_AUTO_TEST_CASE(skype_mode_accepts_every_publishable_code_and_an_empty_one) {
  CatalogLoad load = LoadOk(R"({"settings": {"mode": "skype_for_business"}, "states": [
      {"label": "Available", "reason_code": "3500", "status": 1},
      {"label": "Busy", "reason_code": "6500", "status": 5},
      {"label": "Do Not Disturb", "reason_code": "9500", "status": 4},
      {"label": "Be Right Back", "reason_code": "12500", "status": 3},
      {"label": "Away", "reason_code": "15500", "status": 3},
      {"label": "Offline", "reason_code": "18500", "status": 2},
      {"label": "Paperwork", "reason_code": "", "status": 5}]})");
  BOOST_TEST(load.catalog->states().size() == 7u);
  BOOST_TEST(load.catalog->logout().label == "Offline");
}

BOOST_AUTO_TEST_CASE(skype_codes_are_not_required_in_other_modes) {
  LoadOk(WithState(R"({"label": "Coffee", "reason_code": "5000", "status": 3})"));
}

BOOST_AUTO_TEST_CASE(a_logout_state_may_be_an_offline_state) {
  CatalogLoad load = LoadOk(R"({"settings": {"logout_state": "Gone"}, "states": [
      {"label": "Ready", "status": 1}, {"label": "Gone", "status": 2},
      {"label": "Logout", "status": 7}]})");
  BOOST_TEST(load.catalog->logout().label == "Gone");
}

BOOST_AUTO_TEST_CASE(a_configured_wrap_up_state_is_checked_even_when_wrap_up_is_off) {
  CatalogLoad load = LoadCatalogText(WithSettings(R"("wrap_up_seconds": 0,
                                                     "wrap_up_state": "Nowhere")"));
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, Joined(load.problems));
  BOOST_TEST(load.problems[0].starts_with("settings.wrap_up_state: \"Nowhere\" is not the label"));
}

BOOST_AUTO_TEST_CASE(top_level_keys_for_other_parts_are_ignored) {
  CatalogLoad load = LoadOk(R"({"server": {"port": 8080}, "connectors": [{"type": "ami"}],
      "states": [)" + kStates +
                            "]}");
  BOOST_TEST(load.catalog->states().size() == 5u);
}

BOOST_AUTO_TEST_CASE(mapping_blocks_are_kept_per_connector_as_json) {
  CatalogLoad load = LoadOk(WithState(R"({"label": "Coffee", "status": 3, "mappings": {
      "teams": {"availability": "Away", "activity": "Away"},
      "omni_channel": {"presence_status_id": "0N5xx0000000001", "extra": [1, 2]}}})"));
  const State* coffee = load.catalog->Find("Coffee");
  BOOST_TEST_REQUIRE(coffee->mappings.size() == 2u);
  BOOST_TEST(std::get<std::string>(coffee->mappings.at("teams").at("availability")) == "Away");
  const auto& omni = coffee->mappings.at("omni_channel");
  BOOST_TEST(std::get<std::string>(omni.at("presence_status_id")) == "0N5xx0000000001");
  BOOST_TEST(std::get<reasoncodes::MappingJson>(omni.at("extra")).text == "[1,2]");
}

BOOST_AUTO_TEST_CASE(mapping_values_keep_their_json_type) {
  CatalogLoad load = LoadOk(WithState(R"({"label": "Coffee", "status": 3, "mappings": {
      "webhook": {"none": null, "yes": true, "whole": -42, "big": 18446744073709551615,
                  "half": 2.5, "round": 5.0, "text": "x", "nested": {"b": [1], "a": "2"}}}})"));
  const MappingBlock& block = load.catalog->Find("Coffee")->mappings.at("webhook");
  BOOST_TEST(std::holds_alternative<std::nullptr_t>(block.at("none")));
  BOOST_TEST(std::get<bool>(block.at("yes")));
  BOOST_TEST(std::get<std::int64_t>(block.at("whole")) == -42);
  BOOST_TEST(std::get<std::uint64_t>(block.at("big")) == 18446744073709551615u);
  BOOST_TEST(std::get<double>(block.at("half")) == 2.5);
  BOOST_TEST(std::get<double>(block.at("round")) == 5.0);
  BOOST_TEST(std::get<std::string>(block.at("text")) == "x");
  BOOST_TEST(std::get<MappingJson>(block.at("nested")).text == R"({"a":"2","b":[1]})");
}

// Builds {"states": [...]} in code, the way another part of the configuration might.
Poco::JSON::Object ConfigObject(const Poco::JSON::Object::Ptr& teams) {
  Poco::JSON::Object ready;
  ready.set("label", "Ready");
  ready.set("status", 1);
  Poco::JSON::Object mappings;
  mappings.set("teams", teams);
  ready.set("mappings", mappings);
  Poco::JSON::Object logout;
  logout.set("label", "Logout");
  logout.set("status", 7);
  Poco::JSON::Array states;
  states.add(ready);
  states.add(logout);
  Poco::JSON::Object config;
  config.set("states", states);
  return config;
}

BOOST_AUTO_TEST_CASE(a_loaded_mapping_does_not_change_when_the_configuration_does) {
  Poco::JSON::Object::Ptr teams = new Poco::JSON::Object;
  teams->set("availability", "Available");
  CatalogLoad load = LoadCatalog(ConfigObject(teams));
  BOOST_TEST_REQUIRE(load.ok(), Joined(load.problems));
  teams->set("availability", "Busy");
  const auto& kept = load.catalog->ready().mappings.at("teams");
  BOOST_TEST(std::get<std::string>(kept.at("availability")) == "Available");
}

BOOST_AUTO_TEST_CASE(a_json_syntax_error_is_one_problem_with_line_and_column) {
  CatalogLoad load =
      LoadCatalogText("{\n  \"states\": [\n    {\"label\": \"Ready\", \"status\": }\n  ]\n}");
  BOOST_TEST(!load.catalog.has_value());
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, Joined(load.problems));
  BOOST_TEST(load.problems[0] ==
             "config: JSON syntax error at line 3, column 34: unexpected byte '}' in value");
}

BOOST_AUTO_TEST_CASE(text_that_ends_too_early_is_reported_as_such) {
  CatalogLoad load = LoadCatalogText("{\"states\": [");
  BOOST_TEST_REQUIRE(load.problems.size() == 1u, Joined(load.problems));
  BOOST_TEST(load.problems[0].starts_with("config: JSON syntax error at line 1, column 13: "));
  BOOST_TEST(load.problems[0].ends_with("end of text"));
}

const std::vector<std::string> kOddInputs = {
    "",
    "null",
    "42",
    R"({"states": [null, 1, [], {}]})",
    R"({"states": [{"label": "A", "status": 99999999999999999999999}]})",
    R"({"states": [{"label": "\u0000", "status": 1e400}]})",
    R"({"settings": null, "states": null})",
    "{\"states\": [{\"label\": \"\xff\xfe\", \"status\": 1}]}",
};

BOOST_DATA_TEST_CASE(odd_input_gives_problems_and_never_throws, data::make(kOddInputs), text) {
  CatalogLoad load;
  BOOST_CHECK_NO_THROW(load = LoadCatalogText(text));
  BOOST_TEST(!load.ok());
  BOOST_TEST(!load.problems.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::reasoncodes
