// Action sets (issue 14): reading a block with every problem it can have, the compact JSON the
// outbox stores (and that untrusted text never makes the reader throw), and the resolution of
// one change through profiles, the state, login and logout and the user's own block.

#include "reasoncodes/actions.h"

#include <Poco/JSON/Parser.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/json_read.h"
#include "reasoncodes/catalog.h"
#include "reasoncodes/catalog_loader.h"
#include "reasoncodes/user.h"

namespace presence::reasoncodes {
namespace {

namespace data = boost::unit_test::data;

Poco::Dynamic::Var Parse(const std::string& json) {
  Poco::JSON::Parser parser;
  return parser.parse(json);
}

// `json` as a member value, so that a lone scalar parses too (Poco 1.11 cannot parse one alone).
Poco::Dynamic::Var Member(const std::string& json) {
  return Parse(R"({"v": )" + json + "}").extract<Poco::JSON::Object::Ptr>()->get("v");
}

std::string Joined(const json::Problems& problems) {
  std::string text;
  for (const std::string& problem : problems) text += problem + "\n";
  return text;
}

struct BlockCase {
  std::string name;
  std::string block;
  std::string expected;  // the one problem, after "block"
  bool allow_profile = false;
};
std::ostream& operator<<(std::ostream& out, const BlockCase& test) { return out << test.name; }

const std::string kTargetRule =
    "a number of 1-32 digits with an optional leading + and * or #, \"voicemail\", or one "
    "\"{field}\" of the user's fields; null turns forwarding off";
const std::string kBlockKeys = "dnd, forward, follow_me, queues";
const std::string kName65(65, 'q');

std::string BadTarget(const std::string& target) {
  return ".forward.busy: \"" + target + "\" is not a forward target (" + kTargetRule + ")";
}

const std::vector<BlockCase> kBlockMessages = {
    {"not_an_object", "[]",
     ": must be an object (an action block with dnd, forward, follow_me, queues), got an array"},
    {"state_block_not_an_object", R"("away")",
     ": must be an object (an action block with dnd, forward, follow_me, queues, profile), got "
     "string \"away\"",
     true},
    {"unknown_key", R"({"forwrd": {}})",
     ".forwrd: unknown key, did you mean \"forward\"? (allowed: " + kBlockKeys + ")"},
    {"profile_outside_a_state", R"({"profile": "away"})",
     ".profile: unknown key (allowed: " + kBlockKeys + ")"},
    {"state_block_unknown_key", R"({"profle": "away"})",
     ".profle: unknown key, did you mean \"profile\"? (allowed: profile, " + kBlockKeys + ")",
     true},
    {"dnd_string", R"({"dnd": "yes"})", ".dnd: must be true or false, got string \"yes\""},
    {"follow_me_number", R"({"follow_me": 1})", ".follow_me: must be true or false, got number 1"},
    {"forward_not_an_object", R"({"forward": "+4917012345"})",
     ".forward: must be an object {\"unconditional\"|\"busy\"|\"no_answer\": target or null}, got "
     "string \"+4917012345\""},
    {"forward_unknown_kind", R"({"forward": {"always": null}})",
     ".forward.always: unknown key (allowed: unconditional, busy, no_answer)"},
    {"forward_kind_typo", R"({"forward": {"noanswer": null}})",
     ".forward.noanswer: unknown key, did you mean \"no_answer\"? (allowed: unconditional, busy, "
     "no_answer)"},
    {"forward_empty_string", R"({"forward": {"busy": ""}})",
     ".forward.busy: \"\" is not a forward target (use null to turn forwarding off)"},
    {"forward_number_not_string", R"({"forward": {"busy": 4917012345}})",
     ".forward.busy: must be a forward target (" + kTargetRule + "), got number 4917012345"},
    {"forward_false", R"({"forward": {"busy": false}})",
     ".forward.busy: must be a forward target (" + kTargetRule + "), got false"},
    {"target_with_space", R"({"forward": {"busy": "+49 170"}})", BadTarget("+49 170")},
    {"target_word", R"({"forward": {"busy": "mobile"}})", BadTarget("mobile")},
    {"target_plus_inside", R"({"forward": {"busy": "49+170"}})", BadTarget("49+170")},
    {"target_plus_only", R"({"forward": {"busy": "+"}})", BadTarget("+")},
    {"target_no_digit", R"({"forward": {"busy": "*#"}})", BadTarget("*#")},
    {"target_33_digits", R"({"forward": {"busy": ")" + std::string(33, '1') + "\"}}",
     BadTarget(std::string(33, '1'))},
    {"placeholder_unclosed", R"({"forward": {"busy": "{mobile"}})", BadTarget("{mobile")},
    {"placeholder_upper_case", R"({"forward": {"busy": "{Mobile}"}})", BadTarget("{Mobile}")},
    {"placeholder_empty", R"({"forward": {"busy": "{}"}})", BadTarget("{}")},
    {"two_placeholders", R"({"forward": {"busy": "{a}{b}"}})", BadTarget("{a}{b}")},
    {"placeholder_with_prefix", R"({"forward": {"busy": "0{mobile}"}})", BadTarget("0{mobile}")},
    {"voicemail_capitalised", R"({"forward": {"busy": "Voicemail"}})", BadTarget("Voicemail")},
    {"queues_not_an_object", R"({"queues": ["support"]})",
     ".queues: must be an object {\"pause\": bool, \"add\": [...], \"remove\": [...]}, got an "
     "array"},
    {"queues_unknown_key", R"({"queues": {"join": []}})",
     ".queues.join: unknown key (allowed: pause, add, remove)"},
    {"pause_string", R"({"queues": {"pause": "on"}})",
     ".queues.pause: must be true or false, got string \"on\""},
    {"add_not_an_array", R"({"queues": {"add": "support"}})",
     ".queues.add: must be an array of queue names or {\"queue\": name, \"penalty\": 0-1000}, got "
     "string \"support\""},
    {"add_a_number", R"({"queues": {"add": [5]}})",
     ".queues.add[0]: must be a queue name or {\"queue\": name, \"penalty\": 0-1000}, got number "
     "5"},
    {"add_without_queue", R"({"queues": {"add": [{"penalty": 1}]}})",
     ".queues.add[0].queue: missing (the queue's name, 1-64 of A-Z a-z 0-9 . _ -)"},
    {"add_unknown_key", R"({"queues": {"add": [{"queue": "support", "prio": 1}]}})",
     ".queues.add[0].prio: unknown key (allowed: queue, penalty)"},
    {"penalty_too_high", R"({"queues": {"add": [{"queue": "support", "penalty": 1001}]}})",
     ".queues.add[0].penalty: 1001 is out of range (0-1000)"},
    {"penalty_negative", R"({"queues": {"add": [{"queue": "support", "penalty": -1}]}})",
     ".queues.add[0].penalty: -1 is out of range (0-1000)"},
    {"penalty_fraction", R"({"queues": {"add": [{"queue": "support", "penalty": 1.5}]}})",
     ".queues.add[0].penalty: 1.5 must be a whole number (0-1000)"},
    {"queue_name_with_space", R"({"queues": {"add": ["first line"]}})",
     ".queues.add[0]: \"first line\" is not a queue name (1-64 of A-Z a-z 0-9 . _ -)"},
    {"queue_name_empty", R"({"queues": {"add": [{"queue": ""}]}})",
     ".queues.add[0].queue: \"\" is not a queue name (1-64 of A-Z a-z 0-9 . _ -)"},
    {"queue_name_too_long", R"({"queues": {"remove": [")" + kName65 + R"("]}})",
     ".queues.remove[0]: \"" + kName65.substr(0, 40) +
         "...\" is not a queue name (1-64 of A-Z a-z 0-9 . _ -)"},
    {"queue_added_twice", R"({"queues": {"add": ["support", {"queue": "support"}]}})",
     ".queues.add[1]: \"support\" is already listed at block.queues.add[0]"},
    {"queue_added_and_removed", R"({"queues": {"add": ["support"], "remove": ["support"]}})",
     ".queues.remove[0]: \"support\" is already listed at block.queues.add[0] (a queue is either "
     "added or removed, not both)"},
    {"queue_removed_twice", R"({"queues": {"remove": ["sales", "sales"]}})",
     ".queues.remove[1]: \"sales\" is already listed at block.queues.remove[0]"},
    {"remove_not_an_array", R"({"queues": {"remove": {"sales": true}}})",
     ".queues.remove: must be an array of queue names, got an object"},
    {"remove_a_number", R"({"queues": {"remove": [7]}})",
     ".queues.remove[0]: must be a string, got number 7"},
    {"profile_name_with_space", R"({"profile": "at home"})",
     ".profile: \"at home\" is not a profile name (1-64 of A-Z a-z 0-9 . _ -)", true},
    {"profile_not_a_string", R"({"profile": null})", ".profile: must be a string, got null", true},
};

const std::vector<std::string> kGoodTargets = {
    "+4917012345", "1001",     "*72",      "#31#1",       "+*31#4930", std::string(32, '9'),
    "voicemail",   "{mobile}", "{home_2}", "{extension}", "{id}",
};

ActionSet Set(const std::string& json) {
  std::optional<ActionSet> set = ParseActionSetJson(json);
  BOOST_TEST_REQUIRE(set.has_value(), json);
  return *set;
}

// ---- resolution ------------------------------------------------------------------------------

// Profiles and states that make every step visible in the result:
//   office (the default): DND off, forwarding off, in "support" with penalty 1, not paused;
//   home: forwards everything to {home}, Follow Me on; away: DND on, voicemail, busy to {mobile}.
// on_login adds "sales"; on_logout leaves "support" and "vip" (not "sales", so that a wrong
// on_login shows), turns Follow Me off and DND on.
const std::string kResolutionCatalog = R"({
  "profiles": {
    "office": {"dnd": false, "forward": {"unconditional": null},
               "queues": {"pause": false, "add": [{"queue": "support", "penalty": 1}]}},
    "home": {"forward": {"unconditional": "{home}"}, "follow_me": true},
    "away": {"dnd": true, "forward": {"unconditional": "voicemail", "busy": "{mobile}"}},
    "unused": {"forward": {"no_answer": "{id}"}}},
  "actions": {"default_profile": "office",
              "on_login": {"queues": {"add": ["sales"]}},
              "on_logout": {"dnd": true, "follow_me": false,
                            "queues": {"remove": ["support", "vip"]}}},
  "states": [
    {"label": "Ready", "status": 1},
    {"label": "Lunch", "status": 3, "actions": {"profile": "away"}},
    {"label": "Meeting", "status": 5,
     "actions": {"profile": "away", "forward": {"busy": "{extension}"}, "queues": {"pause": true}}},
    {"label": "Paperwork", "status": 5, "actions": {"dnd": true}},
    {"label": "Desk", "status": 5, "actions": {"profile": "unused"}},
    {"label": "Logout", "status": 7}]})";

std::shared_ptr<const Catalog> ResolutionCatalog() {
  static const std::shared_ptr<const Catalog> catalog = [] {
    CatalogLoad load = LoadCatalogText(kResolutionCatalog);
    if (!load.ok()) throw std::runtime_error(Joined(load.problems));
    return std::make_shared<const Catalog>(std::move(*load.catalog));
  }();
  return catalog;
}

User Ann() {  // the default profile
  return User{
      .id = "4001", .extension = "1001", .fields = {{"home", "+4930111"}, {"mobile", "+49170111"}}};
}
User Bob() {  // works from home
  return User{.id = "bob",
              .extension = "1002",
              .profile = "home",
              .fields = {{"home", "+4930222"}, {"mobile", "+49170222"}}};
}
User Cy() {  // their own block: DND off and their own number, whatever the state
  ActionSet own;
  own.dnd = false;
  own.forward[ForwardKind::kUnconditional] = "+4940333";
  return User{.id = "cy", .extension = "1003", .fields = {{"mobile", "+49170333"}}, .actions = own};
}
User Dee() {  // "actions": false
  User dee = Ann();
  dee.id = "dee";
  dee.takes_actions = false;
  return dee;
}
User Eve() {  // no fields at all
  return User{.id = "eve", .extension = "1005"};
}

struct ResolveCase {
  std::string name;
  User (*user)();
  std::string from;  // "" = the user's first change
  std::string to;
  std::string expected;  // ActionSetJson of the resolved set
};
std::ostream& operator<<(std::ostream& out, const ResolveCase& test) { return out << test.name; }

const std::string kOffice =
    R"({"dnd":false,"forward":{"unconditional":""},"queue_pause":false,"queues":{"support":1}})";
const std::string kOfficeLoggedOut =
    R"({"dnd":true,"forward":{"unconditional":""},"follow_me":false,"queue_pause":false,)"
    R"("queues":{"support":null,"vip":null}})";

const std::vector<ResolveCase> kResolution = {
    {"1_the_default_profile", Ann, "Lunch", "Ready", kOffice},
    {"1_the_users_own_profile_instead", Bob, "Lunch", "Ready",
     R"({"forward":{"unconditional":"+4930222"},"follow_me":true})"},
    {"2_a_state_profile_replaces_the_default", Ann, "Ready", "Lunch",
     R"({"dnd":true,"forward":{"unconditional":"voicemail","busy":"+49170111"}})"},
    {"2_a_state_profile_replaces_the_users_profile", Bob, "Ready", "Lunch",
     R"({"dnd":true,"forward":{"unconditional":"voicemail","busy":"+49170222"}})"},
    {"2_id_expands_to_the_user_id", Ann, "Ready", "Desk", R"({"forward":{"no_answer":"4001"}})"},
    {"3_state_members_over_its_profile", Ann, "Ready", "Meeting",
     R"({"dnd":true,"forward":{"unconditional":"voicemail","busy":"1001"},"queue_pause":true})"},
    {"3_state_members_over_the_default_profile", Ann, "Ready", "Paperwork",
     R"({"dnd":true,"forward":{"unconditional":""},"queue_pause":false,"queues":{"support":1}})"},
    {"4_on_login_at_the_first_change", Ann, "", "Ready",
     R"({"dnd":false,"forward":{"unconditional":""},"queue_pause":false,)"
     R"("queues":{"sales":0,"support":1}})"},
    {"4_on_login_when_coming_from_logout", Ann, "Logout", "Lunch",
     R"({"dnd":true,"forward":{"unconditional":"voicemail","busy":"+49170111"},)"
     R"("queues":{"sales":0}})"},
    {"4_no_on_login_between_signed_in_states", Ann, "Paperwork", "Ready", kOffice},
    {"5_on_logout_into_logout", Ann, "Ready", "Logout", kOfficeLoggedOut},
    {"5_a_first_change_into_logout_is_no_login", Ann, "", "Logout", kOfficeLoggedOut},
    {"5_logout_again_is_no_login", Ann, "Logout", "Logout", kOfficeLoggedOut},
    {"6_the_users_block_over_a_state_profile", Cy, "Ready", "Lunch",
     R"({"dnd":false,"forward":{"unconditional":"+4940333","busy":"+49170333"}})"},
    {"6_the_users_block_over_on_logout", Cy, "Ready", "Logout",
     R"({"dnd":false,"forward":{"unconditional":"+4940333"},"follow_me":false,)"
     R"("queue_pause":false,"queues":{"support":null,"vip":null}})"},
    {"6_the_users_block_over_on_login", Cy, "", "Meeting",
     R"({"dnd":false,"forward":{"unconditional":"+4940333","busy":"1003"},"queue_pause":true,)"
     R"("queues":{"sales":0}})"},
    {"opted_out_gets_nothing", Dee, "Ready", "Meeting", "{}"},
    {"opted_out_gets_nothing_at_login", Dee, "", "Ready", "{}"},
    {"opted_out_gets_nothing_at_logout", Dee, "Ready", "Logout", "{}"},
    {"a_missing_field_drops_that_forward", Eve, "Ready", "Lunch",
     R"({"dnd":true,"forward":{"unconditional":"voicemail"}})"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(actions_test)

BOOST_DATA_TEST_CASE(a_change_resolves_through_the_six_steps, data::make(kResolution), test) {
  std::shared_ptr<const Catalog> catalog = ResolutionCatalog();
  const State* from = test.from.empty() ? nullptr : catalog->Find(test.from);
  const State* to = catalog->Find(test.to);
  BOOST_TEST_REQUIRE((test.from.empty() || from != nullptr));
  BOOST_TEST_REQUIRE(to != nullptr);
  BOOST_TEST(ActionSetJson(ResolveActions(*catalog, test.user(), from, *to)) == test.expected);
}

BOOST_AUTO_TEST_CASE(an_empty_extension_drops_a_forward_to_it_rather_than_turning_it_off) {
  std::shared_ptr<const Catalog> catalog = ResolutionCatalog();
  User ann = Ann();
  ann.extension.clear();
  ActionSet set = ResolveActions(*catalog, ann, catalog->Find("Ready"), *catalog->Find("Meeting"));
  BOOST_TEST(!set.forward.contains(ForwardKind::kBusy));
  BOOST_TEST(set.forward.at(ForwardKind::kUnconditional) == "voicemail");
}

BOOST_AUTO_TEST_CASE(without_profiles_or_actions_nothing_is_managed) {
  CatalogLoad load = LoadCatalogText(
      R"({"states": [{"label": "Ready", "status": 1}, {"label": "Logout", "status": 7}]})");
  BOOST_TEST_REQUIRE(load.ok(), Joined(load.problems));
  const Catalog& catalog = *load.catalog;
  BOOST_TEST(catalog.profiles().empty());
  BOOST_TEST(catalog.action_settings().default_profile.empty());
  BOOST_TEST(ResolveActions(catalog, Ann(), nullptr, catalog.ready()).empty());
  BOOST_TEST(ResolveActions(catalog, Ann(), &catalog.ready(), catalog.logout()).empty());
}

// ---- reading a block -------------------------------------------------------------------------

BOOST_DATA_TEST_CASE(a_bad_block_is_one_problem_with_its_path_and_what_is_allowed,
                     data::make(kBlockMessages), test) {
  json::Problems problems;
  std::string profile = "untouched";
  std::optional<ActionSet> set =
      ReadActionSet(Member(test.block), "block", problems, test.allow_profile, &profile);
  BOOST_TEST(!set.has_value());
  BOOST_TEST_REQUIRE(problems.size() == 1u, Joined(problems));
  BOOST_TEST(problems[0] == "block" + test.expected);
}

BOOST_DATA_TEST_CASE(every_documented_kind_of_target_is_accepted, data::make(kGoodTargets),
                     target) {
  json::Problems problems;
  std::optional<ActionSet> set =
      ReadActionSet(Parse(R"({"forward": {"no_answer": ")" + target + "\"}}"), "b", problems);
  BOOST_TEST_REQUIRE(set.has_value(), Joined(problems));
  BOOST_TEST(set->forward.at(ForwardKind::kNoAnswer) == target);
  BOOST_TEST(IsConfigTarget(target));
}

BOOST_AUTO_TEST_CASE(a_full_block_is_read_member_by_member) {
  json::Problems problems;
  std::optional<ActionSet> set = ReadActionSet(Parse(R"({
      "dnd": true, "follow_me": false,
      "forward": {"unconditional": null, "busy": "{mobile}", "no_answer": "voicemail"},
      "queues": {"pause": true, "add": ["support", {"queue": "sales.2", "penalty": 1000},
                                         {"queue": "b-line", "penalty": 0.0}],
                 "remove": ["old_q"]}})"),
                                               "b", problems);
  BOOST_TEST_REQUIRE(set.has_value(), Joined(problems));
  BOOST_TEST(*set->dnd);
  BOOST_TEST(!*set->follow_me);
  BOOST_TEST(*set->queue_pause);
  BOOST_TEST(set->forward.at(ForwardKind::kUnconditional) == "");
  BOOST_TEST(set->forward.at(ForwardKind::kBusy) == "{mobile}");
  BOOST_TEST(set->forward.at(ForwardKind::kNoAnswer) == "voicemail");
  BOOST_TEST(set->queues.size() == 4u);
  BOOST_TEST((set->queues.at("support") == 0));
  BOOST_TEST((set->queues.at("sales.2") == 1000));
  BOOST_TEST((set->queues.at("b-line") == 0));
  BOOST_TEST(!set->queues.at("old_q").has_value());
}

BOOST_AUTO_TEST_CASE(an_absent_member_is_not_managed) {
  json::Problems problems;
  std::optional<ActionSet> set = ReadActionSet(Parse("{}"), "b", problems);
  BOOST_TEST_REQUIRE(set.has_value());
  BOOST_TEST(set->empty());
  set = ReadActionSet(Parse(R"({"forward": {"busy": null}})"), "b", problems);
  BOOST_TEST_REQUIRE(set.has_value());
  BOOST_TEST(set->forward.size() == 1u);
  BOOST_TEST(!set->dnd.has_value());
  BOOST_TEST(!set->empty());
}

BOOST_AUTO_TEST_CASE(a_state_block_gives_its_profile_apart_from_the_set) {
  json::Problems problems;
  std::string profile;
  std::optional<ActionSet> set =
      ReadActionSet(Parse(R"({"profile": "away", "dnd": true})"), "b", problems, true, &profile);
  BOOST_TEST_REQUIRE(set.has_value(), Joined(problems));
  BOOST_TEST(profile == "away");
  BOOST_TEST(*set->dnd);
  ActionSet only_dnd;
  only_dnd.dnd = true;
  BOOST_TEST((*set == only_dnd));
}

BOOST_AUTO_TEST_CASE(every_problem_of_a_block_is_reported_at_once) {
  json::Problems problems;
  std::optional<ActionSet> set = ReadActionSet(
      Parse(R"({"dnd": 1, "forward": {"busy": "x"}, "queues": {"add": [""], "pause": 0}})"), "b",
      problems);
  BOOST_TEST(!set.has_value());
  BOOST_TEST(problems.size() == 4u, Joined(problems));
}

// ---- overlay and JSON ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_overlay_replaces_only_the_members_it_manages) {
  ActionSet base = Set(R"({"dnd":false,"forward":{"unconditional":"","busy":"1001"},)"
                       R"("follow_me":true,"queues":{"sales":0,"support":1}})");
  base.Overlay(Set(R"({"dnd":true,"forward":{"busy":"voicemail"},"queue_pause":true,)"
                   R"("queues":{"support":null,"vip":5}})"));
  BOOST_TEST(ActionSetJson(base) ==
             R"({"dnd":true,"forward":{"unconditional":"","busy":"voicemail"},"follow_me":true,)"
             R"("queue_pause":true,"queues":{"sales":0,"support":null,"vip":5}})");
  ActionSet same = base;
  same.Overlay(ActionSet{});
  BOOST_TEST((same == base));
}

BOOST_AUTO_TEST_CASE(json_is_compact_in_a_fixed_order_and_reads_back) {
  ActionSet set;
  set.queues["support"] = 3;
  set.queues["sales"] = std::nullopt;
  set.queue_pause = true;
  set.follow_me = false;
  set.forward[ForwardKind::kNoAnswer] = "voicemail";
  set.forward[ForwardKind::kUnconditional] = "+4917012345";
  set.forward[ForwardKind::kBusy] = "";
  set.dnd = true;
  const std::string text = ActionSetJson(set);
  BOOST_TEST(text ==
             R"({"dnd":true,"forward":{"unconditional":"+4917012345","busy":"","no_answer":)"
             R"("voicemail"},"follow_me":false,"queue_pause":true,"queues":{"sales":null,)"
             R"("support":3}})");
  std::optional<ActionSet> back = ParseActionSetJson(text);
  BOOST_TEST_REQUIRE(back.has_value());
  BOOST_TEST((*back == set));
  BOOST_TEST(ActionSetJson(ActionSet{}) == "{}");
  BOOST_TEST((ParseActionSetJson("{}") == ActionSet{}));
}

// What resolution stores is expanded: an id, an extension with letters, a long field value.
// Each must read back, or the change's row could never be delivered.
BOOST_AUTO_TEST_CASE(resolved_targets_read_back_whatever_the_users_values) {
  for (const std::string& target :
       std::vector<std::string>{"ann", "1001a", std::string(64, '9'), "+49+1", "**"}) {
    ActionSet set;
    set.forward[ForwardKind::kUnconditional] = target;
    std::optional<ActionSet> back = ParseActionSetJson(ActionSetJson(set));
    BOOST_TEST_REQUIRE(back.has_value(), target);
    BOOST_TEST(back->forward.at(ForwardKind::kUnconditional) == target);
  }
  ActionSet control;
  control.forward[ForwardKind::kBusy] = "12\n34";
  BOOST_TEST(!ParseActionSetJson(ActionSetJson(control)).has_value());
}

BOOST_AUTO_TEST_CASE(every_single_member_reads_back_alone) {
  for (const std::string text :
       {R"({"dnd":false})", R"({"follow_me":true})", R"({"queue_pause":false})",
        R"({"forward":{"busy":"+4917012345"}})", R"({"queues":{"q":1000}})",
        R"({"queues":{"q":null}})", R"({"forward":{"no_answer":""}})"}) {
    std::optional<ActionSet> set = ParseActionSetJson(text);
    BOOST_TEST_REQUIRE(set.has_value(), text);
    BOOST_TEST(ActionSetJson(*set) == text);
  }
}

const std::vector<std::string> kNotActionSetJson = {
    "",
    " ",
    "null",
    "true",
    "42",
    "\"dnd\"",
    "[]",
    "[{\"dnd\":true}]",
    "{",
    "{\"dnd\":true",
    "{\"dnd\":1}",
    "{\"dnd\":null}",
    "{\"dnd\":\"true\"}",
    "{\"dnd\":true,\"extra\":1}",
    "{\"forward\":[]}",
    "{\"forward\":{\"always\":\"1\"}}",
    "{\"forward\":{\"busy\":null}}",
    "{\"forward\":{\"busy\":1001}}",
    "{\"forward\":{\"busy\":\"call me\"}}",
    "{\"forward\":{\"busy\":{\"x\":1}}}",
    "{\"queues\":[]}",
    "{\"queues\":{\"a b\":1}}",
    "{\"queues\":{\"\":1}}",
    "{\"queues\":{\"q\":1001}}",
    "{\"queues\":{\"q\":-1}}",
    "{\"queues\":{\"q\":1.5}}",
    "{\"queues\":{\"q\":1e400}}",
    "{\"queues\":{\"q\":99999999999999999999999}}",
    "{\"queues\":{\"q\":18446744073709551615}}",
    "{\"queues\":{\"q\":true}}",
    "{\"queues\":{\"q\":\"1\"}}",
    "{\"queues\":{\"q\":[1]}}",
    "{\"dnd\":true}garbage",
    "{\"dnd\":tru}",
    std::string("{\"dnd\":true\0}", 13),
    "{\"queues\":{\"\xff\xfe\":1}}",
    "{\"forward\":{\"busy\":\"\xc3\x28\"}}",
    "{\"queues\":{\"q\\u0000\":1}}",
    "{\"queues\":{\"\\u0071\":1}}",  // "q", but not as ActionSetJson writes it
    "{ \"dnd\":true}",
    "{\"follow_me\":true,\"dnd\":true}",
    "{\"queues\":{\"b\":1,\"a\":2}}",
    "{\"queues\":{\"q\":1.0}}",
    "{\"dnd\":true,\"dnd\":true}",
    std::string(100000, '['),
    std::string(100000, '{'),
    "{\"queues\":{\"q\":{\"q\":{\"q\":1}}}}",
};

BOOST_DATA_TEST_CASE(anything_but_its_own_json_is_refused_without_throwing,
                     data::make(kNotActionSetJson), text) {
  std::optional<ActionSet> set;
  BOOST_CHECK_NO_THROW(set = ParseActionSetJson(text));
  BOOST_TEST(!set.has_value(), text.substr(0, 60));
}

BOOST_AUTO_TEST_CASE(every_cut_and_every_changed_byte_of_good_json_reads_safely) {
  const std::string good =
      R"({"dnd":true,"forward":{"unconditional":"+49170","busy":"","no_answer":"voicemail"},)"
      R"("follow_me":false,"queue_pause":true,"queues":{"sales":null,"support":3}})";
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    std::optional<ActionSet> set;
    BOOST_CHECK_NO_THROW(set = ParseActionSetJson(good.substr(0, cut)));
    BOOST_TEST(!set.has_value(), good.substr(0, cut));
  }
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (char byte : {'\0', '"', '{', '}', ',', ':', '\\', 'x', '9', '\xff'}) {
      std::string changed = good;
      changed[at] = byte;
      std::optional<ActionSet> set;
      BOOST_CHECK_NO_THROW(set = ParseActionSetJson(changed));
      // Whatever reads back must be a set ActionSetJson would write the same way.
      if (set) BOOST_TEST(ParseActionSetJson(ActionSetJson(*set)).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(forward_kinds_have_their_configuration_names) {
  BOOST_TEST(ForwardKindName(ForwardKind::kUnconditional) == "unconditional");
  BOOST_TEST(ForwardKindName(ForwardKind::kBusy) == "busy");
  BOOST_TEST(ForwardKindName(ForwardKind::kNoAnswer) == "no_answer");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::reasoncodes
