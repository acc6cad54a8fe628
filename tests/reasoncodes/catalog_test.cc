// The catalog's model: status names, picklist text, role resolution, lookups, copies, and the
// sample configurations shipped in samples/.

#include "reasoncodes/catalog.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "reasoncodes/catalog_loader.h"
#include "reasoncodes/status_code.h"

namespace presence::reasoncodes {
namespace {

namespace data = boost::unit_test::data;

State MakeState(std::string label, StatusCode status, bool selectable = true) {
  State state;
  state.label = std::move(label);
  state.status = status;
  state.selectable = selectable;
  return state;
}

// Ready, DND, Lunch, On a call (not selectable), Offline, Logout.
std::vector<State> CallCenterStates() {
  return {
      MakeState("Ready for Calls", StatusCode::kOnline),
      MakeState("Do Not Disturb", StatusCode::kDnd),
      MakeState("Lunch", StatusCode::kAway),
      MakeState("On a call", StatusCode::kOnCall, false),
      MakeState("Offline", StatusCode::kOffline),
      MakeState("Logout", StatusCode::kLogout),
  };
}

std::string SamplePath(const std::string& name) {
  return std::string(PRESENCE_SOURCE_DIR) + "/samples/" + name;
}

CatalogLoad LoadSample(const std::string& name) {
  std::ifstream file(SamplePath(name));
  BOOST_TEST_REQUIRE(file.good(), "cannot open " << SamplePath(name));
  std::ostringstream text;
  text << file.rdbuf();
  return LoadCatalogText(text.str());
}

std::string Labels(const std::vector<const State*>& states) {
  std::string labels;
  for (const State* state : states) labels += (labels.empty() ? "" : "|") + state->label;
  return labels;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(catalog_test)

const std::vector<int> kStatusNumbers = {1, 2, 3, 4, 5, 6, 7};
const std::vector<std::string> kStatusNames = {"Online", "Offline",   "Away",  "DND",
                                               "Busy",   "On a call", "Logout"};

BOOST_DATA_TEST_CASE(every_status_code_has_its_fixed_name,
                     data::make(kStatusNumbers) ^ data::make(kStatusNames), number, name) {
  std::optional<StatusCode> code = StatusFromInt(number);
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(ToInt(*code) == number);
  BOOST_TEST(StatusName(*code) == name);
}

BOOST_DATA_TEST_CASE(numbers_outside_one_to_seven_are_not_status_codes,
                     data::make(std::vector<long long>{0, 8, -1, 100}), number) {
  BOOST_TEST(!StatusFromInt(number).has_value());
}

BOOST_AUTO_TEST_CASE(mode_names_are_the_configuration_words) {
  BOOST_TEST(ModeName(Mode::kNone) == "none");
  BOOST_TEST(ModeName(Mode::kDialCommand) == "dial_command");
  BOOST_TEST(ModeName(Mode::kSkypeForBusiness) == "skype_for_business");
}

BOOST_AUTO_TEST_CASE(display_text_is_label_then_status_name_in_brackets) {
  BOOST_TEST(MakeState("Ready for Calls", StatusCode::kOnline).DisplayText() ==
             "Ready for Calls (Online)");
  BOOST_TEST(MakeState("Do Not Disturb", StatusCode::kDnd).DisplayText() == "Do Not Disturb (DND)");
  BOOST_TEST(MakeState("Wrap-up", StatusCode::kOnCall).DisplayText() == "Wrap-up (On a call)");
}

BOOST_AUTO_TEST_CASE(picklist_shows_label_and_status_name) {
  Catalog catalog(CallCenterStates(), Settings{});
  std::vector<std::string> shown;
  for (const State* state : catalog.Picklist()) shown.push_back(state->DisplayText());
  std::vector<std::string> expected = {"Ready for Calls (Online)", "Do Not Disturb (DND)",
                                       "Lunch (Away)", "Offline (Offline)", "Logout (Logout)"};
  BOOST_TEST(shown == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(picklist_leaves_out_states_that_are_not_selectable_and_keeps_order) {
  std::vector<State> states = CallCenterStates();
  states[2].selectable = false;  // Lunch
  Catalog catalog(states, Settings{});
  BOOST_TEST(Labels(catalog.Picklist()) == "Ready for Calls|Do Not Disturb|Offline|Logout");
}

BOOST_AUTO_TEST_CASE(find_returns_the_state_with_that_exact_label) {
  Catalog catalog(CallCenterStates(), Settings{});
  const State* lunch = catalog.Find("Lunch");
  BOOST_TEST_REQUIRE(lunch != nullptr);
  BOOST_TEST(lunch == &catalog.states()[2]);
  BOOST_TEST(catalog.Find("lunch") == nullptr);
  BOOST_TEST(catalog.Find("Lunch ") == nullptr);
  BOOST_TEST(catalog.Find("") == nullptr);
}

BOOST_AUTO_TEST_CASE(roles_default_to_the_first_state_of_their_status) {
  std::vector<State> states = {
      MakeState("Lunch", StatusCode::kAway),      MakeState("Ready A", StatusCode::kOnline),
      MakeState("DND A", StatusCode::kDnd),       MakeState("Ready B", StatusCode::kOnline),
      MakeState("DND B", StatusCode::kDnd),       MakeState("Call A", StatusCode::kOnCall),
      MakeState("Call B", StatusCode::kOnCall),   MakeState("Logout A", StatusCode::kLogout),
      MakeState("Logout B", StatusCode::kLogout),
  };
  Catalog catalog(states, Settings{});
  BOOST_TEST(catalog.ready().label == "Ready A");
  BOOST_TEST_REQUIRE(catalog.wrap_up() != nullptr);
  BOOST_TEST(catalog.wrap_up()->label == "DND A");
  BOOST_TEST_REQUIRE(catalog.on_call() != nullptr);
  BOOST_TEST(catalog.on_call()->label == "Call A");
  BOOST_TEST(catalog.logout().label == "Logout A");
}

BOOST_AUTO_TEST_CASE(login_defaults_to_ready_and_initial_to_logout) {
  Catalog catalog(CallCenterStates(), Settings{});
  BOOST_TEST(&catalog.login() == &catalog.ready());
  BOOST_TEST(&catalog.initial() == &catalog.logout());
  BOOST_TEST(catalog.initial().label == "Logout");
}

BOOST_AUTO_TEST_CASE(logout_prefers_a_logout_state_over_an_earlier_offline_state) {
  Catalog catalog(CallCenterStates(), Settings{});  // Offline comes before Logout
  BOOST_TEST(catalog.logout().label == "Logout");
}

BOOST_AUTO_TEST_CASE(logout_falls_back_to_the_first_offline_state) {
  std::vector<State> states = {MakeState("Ready", StatusCode::kOnline),
                               MakeState("Gone home", StatusCode::kOffline),
                               MakeState("Offline", StatusCode::kOffline)};
  Catalog catalog(states, Settings{});
  BOOST_TEST(catalog.logout().label == "Gone home");
}

BOOST_AUTO_TEST_CASE(wrap_up_and_on_call_are_null_when_no_state_fits) {
  std::vector<State> states = {MakeState("Ready", StatusCode::kOnline),
                               MakeState("Logout", StatusCode::kLogout)};
  Catalog catalog(states, Settings{});
  BOOST_TEST(catalog.wrap_up() == nullptr);
  BOOST_TEST(catalog.on_call() == nullptr);
}

BOOST_AUTO_TEST_CASE(configured_role_labels_win_over_the_defaults) {
  std::vector<State> states = CallCenterStates();
  states.push_back(MakeState("Ready again", StatusCode::kOnline));
  states.push_back(MakeState("Wrap-up", StatusCode::kDnd, false));
  states.push_back(MakeState("Talking", StatusCode::kOnCall, false));
  Settings settings;
  settings.ready_state = "Ready again";
  settings.wrap_up_state = "Wrap-up";
  settings.on_call_state = "Talking";
  settings.login_state = "Lunch";
  settings.logout_state = "Offline";
  settings.initial_state = "Do Not Disturb";
  Catalog catalog(states, settings);
  BOOST_TEST(catalog.ready().label == "Ready again");
  BOOST_TEST(catalog.wrap_up()->label == "Wrap-up");
  BOOST_TEST(catalog.on_call()->label == "Talking");
  BOOST_TEST(catalog.login().label == "Lunch");
  BOOST_TEST(catalog.logout().label == "Offline");
  BOOST_TEST(catalog.initial().label == "Do Not Disturb");
  BOOST_TEST(catalog.settings().ready_state == "Ready again");
}

BOOST_AUTO_TEST_CASE(constructor_rejects_a_configured_label_that_is_not_a_state) {
  Settings settings;
  settings.wrap_up_state = "Wrapup";
  BOOST_CHECK_THROW(Catalog(CallCenterStates(), settings), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(constructor_rejects_states_without_ready_or_logout) {
  std::vector<State> no_ready = {MakeState("Logout", StatusCode::kLogout)};
  std::vector<State> no_logout = {MakeState("Ready", StatusCode::kOnline)};
  BOOST_CHECK_THROW(Catalog(no_ready, Settings{}), std::invalid_argument);
  BOOST_CHECK_THROW(Catalog(no_logout, Settings{}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_copy_keeps_its_roles_after_the_original_is_destroyed) {
  Settings settings;
  settings.login_state = "Lunch";
  auto original = std::make_unique<Catalog>(CallCenterStates(), settings);
  Catalog copy = *original;
  original.reset();
  const std::vector<State>& states = copy.states();
  BOOST_TEST(&copy.ready() == &states[0]);
  BOOST_TEST(copy.wrap_up() == &states[1]);
  BOOST_TEST(copy.login().label == "Lunch");
  BOOST_TEST(&copy.login() == &states[2]);
  BOOST_TEST(copy.on_call() == &states[3]);
  BOOST_TEST(&copy.logout() == &states[5]);
  BOOST_TEST(&copy.initial() == &states[5]);
  BOOST_TEST(copy.Find("Lunch") == &states[2]);
}

BOOST_AUTO_TEST_CASE(copy_and_move_assignment_point_roles_into_the_target) {
  std::vector<State> other_states = {MakeState("Other ready", StatusCode::kOnline),
                                     MakeState("Other logout", StatusCode::kLogout)};
  Catalog target(other_states, Settings{});
  {
    Catalog source(CallCenterStates(), Settings{});
    target = source;
  }
  BOOST_TEST(&target.ready() == &target.states()[0]);
  BOOST_TEST(target.ready().label == "Ready for Calls");
  BOOST_TEST(target.on_call() == &target.states()[3]);

  Catalog moved_to(other_states, Settings{});
  moved_to = std::move(target);
  BOOST_TEST(&moved_to.logout() == &moved_to.states()[5]);
  BOOST_TEST(moved_to.logout().label == "Logout");
}

BOOST_AUTO_TEST_CASE(a_copied_load_result_keeps_roles_valid) {
  std::optional<CatalogLoad> load = LoadSample("dial-command.json");
  BOOST_TEST_REQUIRE(load->ok());
  CatalogLoad copy = *load;
  load.reset();
  const Catalog& catalog = *copy.catalog;
  BOOST_TEST(catalog.wrap_up() == catalog.Find("Wrap-up"));
  BOOST_TEST(&catalog.ready() == catalog.Find("Ready for Calls"));
}

const std::vector<std::string> kSamples = {"dial-command.json", "skype-for-business.json",
                                           "time-tracking-only.json"};

BOOST_DATA_TEST_CASE(every_sample_configuration_loads_without_problems, data::make(kSamples),
                     name) {
  CatalogLoad load = LoadSample(name);
  std::string problems;
  for (const std::string& problem : load.problems) problems += problem + "\n";
  BOOST_TEST(load.problems.empty(), problems);
  BOOST_TEST(load.ok());
}

BOOST_AUTO_TEST_CASE(dial_command_sample_has_its_own_wrap_up_state_hidden_from_the_picklist) {
  CatalogLoad load = LoadSample("dial-command.json");
  BOOST_TEST_REQUIRE(load.ok());
  const Catalog& catalog = *load.catalog;
  BOOST_TEST(ModeName(catalog.settings().mode) == "dial_command");
  BOOST_TEST(catalog.settings().wrap_up_seconds == 30);
  BOOST_TEST(catalog.settings().active_call_state);
  BOOST_TEST(catalog.ready().reason_code == "*60");
  BOOST_TEST_REQUIRE(catalog.wrap_up() != nullptr);
  BOOST_TEST(catalog.wrap_up()->label == "Wrap-up");
  BOOST_TEST(catalog.wrap_up()->reason_code == "*61");
  BOOST_TEST(catalog.on_call()->reason_code == "*69");
  BOOST_TEST(catalog.logout().reason_code == "*67");
  BOOST_TEST(catalog.Find("Lunch")->alert_after_seconds == 1800);
  for (const State* state : catalog.Picklist()) {
    BOOST_TEST(state->label != "Wrap-up");
    BOOST_TEST(state->label != "On a call");
  }
  BOOST_TEST(catalog.Picklist().size() == catalog.states().size() - 2);
}

BOOST_AUTO_TEST_CASE(skype_sample_uses_availability_numbers_and_keeps_teams_mappings) {
  CatalogLoad load = LoadSample("skype-for-business.json");
  BOOST_TEST_REQUIRE(load.ok());
  const Catalog& catalog = *load.catalog;
  BOOST_TEST(ModeName(catalog.settings().mode) == "skype_for_business");
  BOOST_TEST(catalog.ready().reason_code == "3500");
  BOOST_TEST_REQUIRE(catalog.wrap_up() != nullptr);
  BOOST_TEST(catalog.wrap_up()->reason_code == "9500");
  BOOST_TEST_REQUIRE(catalog.on_call() != nullptr);
  const auto& teams = catalog.on_call()->mappings.at("teams");
  BOOST_TEST(std::get<std::string>(teams.at("availability")) == "Busy");
  BOOST_TEST(std::get<std::string>(teams.at("activity")) == "InACall");
  const auto& offline = catalog.logout().mappings.at("teams");
  BOOST_TEST(std::get<std::string>(offline.at("activity")) == "OffWork");
  for (const State& state : catalog.states()) BOOST_TEST(state.mappings.count("teams") == 1u);
}

BOOST_AUTO_TEST_CASE(time_tracking_sample_sends_nothing_to_the_phone_system) {
  CatalogLoad load = LoadSample("time-tracking-only.json");
  BOOST_TEST_REQUIRE(load.ok());
  BOOST_TEST(ModeName(load.catalog->settings().mode) == "none");
  BOOST_TEST(load.catalog->settings().time_tracking);
  BOOST_TEST(load.catalog->settings().wrap_up_seconds == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::reasoncodes
