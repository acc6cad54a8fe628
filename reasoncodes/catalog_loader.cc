#include "reasoncodes/catalog_loader.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <numeric>
#include <span>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/enum_names.h"
#include "common/json_read.h"
#include "common/poco_json.h"
#include "reasoncodes/actions_loader.h"

namespace presence::reasoncodes {

using namespace json;  // the json_read helpers (common/json_read.h)
namespace {

constexpr std::string_view kRootPath = "config";
constexpr std::size_t kMaxLabelLength = 64;
constexpr std::size_t kMaxReasonCodeLength = 64;
constexpr long long kMaxWrapUpSeconds = 999;
constexpr long long kMaxTrackingUpdateSeconds = 999;
constexpr long long kMaxAlertAfterSeconds = 86400;
constexpr long long kMaxMissedCalls = 20;
constexpr long long kMaxMissedReturnSeconds = 3600;

constexpr std::array<std::string_view, 16> kSettingsKeys = {
    "mode",          "wrap_up_seconds",         "wrap_up_locked", "active_call_state",
    "time_tracking", "tracking_update_seconds", "omni_channel",   "return_after_call",
    "ready_state",   "wrap_up_state",           "on_call_state",  "login_state",
    "logout_state",  "initial_state",           "time_zone",      "missed_calls",
};

constexpr std::array<std::string_view, 3> kMissedCallsKeys = {
    "after",
    "state",
    "return_after_seconds",
};
constexpr std::string_view kMissedCallsPath = "settings.missed_calls";

constexpr std::array<std::string_view, 9> kStateKeys = {
    "label",      "reason_code", "status",
    "selectable", "color",       "alert_after_seconds",
    "mappings",   "actions",     "budget_seconds_per_day",
};

constexpr EnumNames<Mode, 3> kModes = {{
    {Mode::kNone, "none"},
    {Mode::kDialCommand, "dial_command"},
    {Mode::kSkypeForBusiness, "skype_for_business"},
}};

constexpr EnumNames<ReturnAfterCall, 2> kReturnAfterCall = {{
    {ReturnAfterCall::kReady, "ready"},
    {ReturnAfterCall::kPrevious, "previous"},
}};

// The availability numbers a user may publish (integrations.md 2.1). The idle values (5000,
// 7500) are machine states and cannot be chosen, so they are not reason codes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kSkypeAvailability = {{
    {"3500", "Available"},
    {"6500", "Busy"},
    {"9500", "Do Not Disturb"},
    {"12500", "Be Right Back"},
    {"15500", "Away"},
    {"18500", "Offline"},
}};

constexpr std::array<std::pair<std::string_view, bool Settings::*>, 4> kFlagSettings = {{
    {"wrap_up_locked", &Settings::wrap_up_locked},
    {"active_call_state", &Settings::active_call_state},
    {"time_tracking", &Settings::time_tracking},
    {"omni_channel", &Settings::omni_channel},
}};

// A role the engine looks up by purpose rather than by label (see Catalog's accessors).
struct RoleRule {
  std::string_view key;  // the setting that names it
  std::string Settings::*label;
  std::string_view role;             // "ready", for messages
  std::vector<StatusCode> statuses;  // allowed statuses, in order of preference; empty = any
  std::string_view needed_by;        // the path that needs a default, or empty
  bool (*needed)(const Settings&);   // whether a state must exist; nullptr = never checked
};

const std::vector<RoleRule>& RoleRules() {
  static const std::vector<RoleRule> rules = {
      {"ready_state",
       &Settings::ready_state,
       "ready",
       {StatusCode::kOnline},
       "states",
       [](const Settings&) { return true; }},
      {"wrap_up_state",
       &Settings::wrap_up_state,
       "wrap-up",
       {StatusCode::kDnd},
       "settings.wrap_up_seconds",
       [](const Settings& s) { return s.wrap_up_seconds > 0; }},
      {"on_call_state",
       &Settings::on_call_state,
       "On a call",
       {StatusCode::kOnCall},
       "settings.active_call_state",
       [](const Settings& s) { return s.active_call_state; }},
      {"login_state", &Settings::login_state, "login", {}, "", nullptr},
      {"logout_state",
       &Settings::logout_state,
       "logout",
       {StatusCode::kLogout, StatusCode::kOffline},
       "states",
       [](const Settings&) { return true; }},
      {"initial_state", &Settings::initial_state, "initial", {}, "", nullptr},
  };
  return rules;
}

// A state as read so far; a field that had a problem keeps its default.
struct StateDraft {
  State state;
  bool has_label = false;
  bool has_status = false;
};

// ---- catalog-specific text -----------------------------------------------------------------

// "7 (Logout) or 2 (Offline)".
std::string StatusList(const std::vector<StatusCode>& statuses) {
  std::string text;
  for (StatusCode status : statuses) {
    if (!text.empty()) text += " or ";
    text += std::to_string(ToInt(status)) + " (" + std::string(StatusName(status)) + ")";
  }
  return text;
}

// ---- settings --------------------------------------------------------------------------------

void ReadSettingsValues(const Object& object, Settings& settings, Problems& problems) {
  if (object.has("mode")) {
    auto mode = ReadChoice(object.get("mode"), "settings.mode", "a mode", kModes, problems);
    if (mode) settings.mode = *mode;
  }
  if (object.has("return_after_call")) {
    auto choice = ReadChoice(object.get("return_after_call"), "settings.return_after_call",
                             "a choice", kReturnAfterCall, problems);
    if (choice) settings.return_after_call = *choice;
  }
  if (object.has("wrap_up_seconds")) {
    auto seconds = ReadNumberInRange(object.get("wrap_up_seconds"), "settings.wrap_up_seconds", 0,
                                     kMaxWrapUpSeconds, problems);
    if (seconds) settings.wrap_up_seconds = static_cast<int>(*seconds);
  }
  if (object.has("tracking_update_seconds")) {
    auto seconds =
        ReadNumberInRange(object.get("tracking_update_seconds"), "settings.tracking_update_seconds",
                          1, kMaxTrackingUpdateSeconds, problems);
    if (seconds) settings.tracking_update_seconds = static_cast<int>(*seconds);
  }
  // Checked against tzdata by the agent's configuration loader (reasoncodes has no calendar).
  if (object.has("time_zone")) {
    if (auto zone = ReadString(object.get("time_zone"), "settings.time_zone", problems)) {
      settings.time_zone = *zone;
    }
  }
  for (const auto& [key, member] : kFlagSettings) {
    std::string name(key);
    if (!object.has(name)) continue;
    if (auto flag = ReadBool(object.get(name), Child("settings", key), problems)) {
      settings.*member = *flag;
    }
  }
}

void ReadRoleLabels(const Object& object, Settings& settings, Problems& problems) {
  for (const RoleRule& rule : RoleRules()) {
    std::string name(rule.key);
    if (!object.has(name)) continue;
    if (auto label = ReadString(object.get(name), Child("settings", rule.key), problems)) {
      settings.*rule.label = *label;
    }
  }
}

// settings.missed_calls: read only when every member is valid; whether the state fits is
// checked against the states (CheckMissedCalls).
void ReadMissedCalls(const Var& value, Settings& settings, Problems& problems) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, kMissedCallsPath,
           "must be an object {\"after\": 1-20, \"state\": \"<label>\", "
           "\"return_after_seconds\": 0-3600}, got " +
               Describe(value));
    return;
  }
  CheckKeys(*object, kMissedCallsPath, kMissedCallsKeys, problems);
  const std::size_t before = problems.size();
  MissedCalls missed;
  const std::string after_path = Child(kMissedCallsPath, "after");
  if (!object->has("after")) {
    Report(problems, after_path, "missing (how many ring-only calls in a row, 1-20)");
  } else if (auto after = ReadNumberInRange(object->get("after"), after_path, 1, kMaxMissedCalls,
                                            problems)) {
    missed.after = static_cast<int>(*after);
  }
  const std::string state_path = Child(kMissedCallsPath, "state");
  if (!object->has("state")) {
    Report(problems, state_path, "missing (the label of the state to move the agent to)");
  } else if (auto state = ReadString(object->get("state"), state_path, problems)) {
    missed.state = *state;
  }
  if (auto seconds = ReadOptionalNumber(*object, "return_after_seconds", kMissedCallsPath, 0,
                                        kMaxMissedReturnSeconds, problems)) {
    missed.return_after_seconds = static_cast<int>(*seconds);
  }
  if (problems.size() == before) settings.missed_calls = std::move(missed);
}

Settings ReadSettings(const Object& config, Problems& problems) {
  Settings settings;
  if (!config.has("settings")) return settings;
  Object::Ptr object = AsObject(config.get("settings"));
  if (!object) {
    Report(problems, "settings", "must be an object, got " + Describe(config.get("settings")));
    return settings;
  }
  CheckKeys(*object, "settings", kSettingsKeys, problems);
  ReadSettingsValues(*object, settings, problems);
  ReadRoleLabels(*object, settings, problems);
  if (object->has("missed_calls")) ReadMissedCalls(object->get("missed_calls"), settings, problems);
  return settings;
}

// ---- states ----------------------------------------------------------------------------------

std::string DefaultColor(StatusCode status) {
  switch (status) {
    case StatusCode::kOnline:
      return "#2e7d32";  // green
    case StatusCode::kOffline:
      return "#9e9e9e";  // grey
    case StatusCode::kAway:
      return "#f9a825";  // amber
    case StatusCode::kDnd:
      return "#c62828";  // red
    case StatusCode::kBusy:
      return "#ef6c00";  // orange
    case StatusCode::kOnCall:
      return "#1565c0";  // blue
    case StatusCode::kLogout:
      return "#616161";  // dark grey
  }
  return "#9e9e9e";
}

bool IsHexColor(std::string_view text) {
  return text.size() == 7 && text[0] == '#' &&
         std::all_of(text.begin() + 1, text.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::optional<std::string> ReadLabel(const Var& value, std::string_view path, Problems& problems) {
  std::optional<std::string> label = ReadString(value, path, problems);
  if (!label) return std::nullopt;
  std::string limits = "1-" + std::to_string(kMaxLabelLength) + " characters";
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (label->empty()) {
    Report(problems, path, "must not be empty (" + limits + ")");
  } else if (is_space(label->front()) || is_space(label->back())) {
    Report(problems, path, Quote(*label) + " starts or ends with whitespace (remove it)");
  } else if (std::size_t length = CountCharacters(*label); length > kMaxLabelLength) {
    Report(problems, path, std::to_string(length) + " characters is too long (" + limits + ")");
  } else {
    return label;
  }
  return std::nullopt;
}

std::string SkypeCodeList() {
  std::string text;
  for (const auto& [code, name] : kSkypeAvailability) {
    text += std::string(code) + " " + std::string(name) + ", ";
  }
  return text + "or empty";
}

std::optional<std::string> ReadReasonCode(const Var& value, std::string_view path, Mode mode,
                                          Problems& problems) {
  if (value.isNumeric() && !value.isBoolean()) {
    std::string number = value.convert<std::string>();
    Report(problems, path,
           "must be a string, got number " + number + " (quote it: \"" + number + "\")");
    return std::nullopt;
  }
  std::optional<std::string> code = ReadString(value, path, problems);
  if (!code) return std::nullopt;
  if (std::size_t length = CountCharacters(*code); length > kMaxReasonCodeLength) {
    Report(problems, path,
           std::to_string(length) + " characters is too long (at most " +
               std::to_string(kMaxReasonCodeLength) + ")");
    return std::nullopt;
  }
  bool skype_code = std::any_of(kSkypeAvailability.begin(), kSkypeAvailability.end(),
                                [&](const auto& entry) { return entry.first == *code; });
  if (mode == Mode::kSkypeForBusiness && !code->empty() && !skype_code) {
    Report(
        problems, path,
        Quote(*code) + " is not a Skype for Business availability code (" + SkypeCodeList() + ")");
    return std::nullopt;
  }
  return code;
}

std::optional<StatusCode> ReadStatus(const Var& value, std::string_view path, Problems& problems) {
  std::string range = std::to_string(kMinStatusCode) + "-" + std::to_string(kMaxStatusCode);
  std::optional<long long> number = ReadWholeNumber(value, path, range, problems);
  if (!number) return std::nullopt;
  std::optional<StatusCode> status = StatusFromInt(*number);
  if (!status) {
    Report(problems, path, value.convert<std::string>() + " is not a status code (" + range + ")");
  }
  return status;
}

// A block member as a plain value of the same JSON type (mapping.h). Poco's parser gives
// whole numbers as Int64, or UInt64 above its range; a nested value keeps its JSON text.
MappingValue ToMappingValue(const Var& value) {
  if (value.isEmpty()) return nullptr;
  if (value.isBoolean()) return value.extract<bool>();
  if (value.isString()) return value.convert<std::string>();
  if (value.isNumeric()) {
    if (!value.isInteger()) return value.convert<double>();
    if (value.isSigned()) return value.convert<std::int64_t>();
    return value.convert<std::uint64_t>();
  }
  return MappingJson{JsonText(value)};
}

Mappings ReadMappings(const Var& value, std::string_view path, Problems& problems) {
  Mappings mappings;
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object of per-connector blocks (e.g. {\"teams\": {...}}), got " +
               Describe(value));
    return mappings;
  }
  for (const auto& [connector, block_value] : *object) {
    Object::Ptr block = AsObject(block_value);
    if (!block) {
      Report(problems, Child(path, connector),
             "must be an object (the connector's settings for this state), got " +
                 Describe(block_value));
      continue;
    }
    MappingBlock& members = mappings[connector];
    for (const auto& [name, member] : *block) members[name] = ToMappingValue(member);
  }
  return mappings;
}

// Label, reason code and status: what the state is.
void ReadStateIdentity(const Object& object, const std::string& path, Mode mode, StateDraft& draft,
                       Problems& problems) {
  if (!object.has("label")) {
    Report(problems, Child(path, "label"), "missing (a label of 1-64 characters is required)");
  } else if (auto label = ReadLabel(object.get("label"), Child(path, "label"), problems)) {
    draft.state.label = *label;
    draft.has_label = true;
  }
  if (object.has("reason_code")) {
    auto code =
        ReadReasonCode(object.get("reason_code"), Child(path, "reason_code"), mode, problems);
    if (code) draft.state.reason_code = *code;
  }
  if (!object.has("status")) {
    Report(problems, Child(path, "status"), "missing (a status code 1-7 is required)");
  } else if (auto status = ReadStatus(object.get("status"), Child(path, "status"), problems)) {
    draft.state.status = *status;
    draft.has_status = true;
  }
}

// Picklist, dashboard and connector data: how the state is shown and passed on.
void ReadStateExtras(const Object& object, const std::string& path, StateDraft& draft,
                     Problems& problems) {
  State& state = draft.state;
  if (object.has("selectable")) {
    if (auto flag = ReadBool(object.get("selectable"), Child(path, "selectable"), problems)) {
      state.selectable = *flag;
    }
  }
  state.color = DefaultColor(state.status);
  if (object.has("color")) {
    std::optional<std::string> color =
        ReadString(object.get("color"), Child(path, "color"), problems);
    if (color && IsHexColor(*color)) {
      state.color = *color;
    } else if (color) {
      Report(problems, Child(path, "color"),
             Quote(*color) + " is not a color (#rrggbb in hex, e.g. \"#2e7d32\")");
    }
  }
  if (object.has("alert_after_seconds")) {
    auto seconds =
        ReadNumberInRange(object.get("alert_after_seconds"), Child(path, "alert_after_seconds"), 0,
                          kMaxAlertAfterSeconds, problems);
    if (seconds) state.alert_after_seconds = static_cast<int>(*seconds);
  }
  if (object.has("budget_seconds_per_day")) {
    auto seconds = ReadNumberInRange(object.get("budget_seconds_per_day"),
                                     Child(path, "budget_seconds_per_day"), 0, 86400, problems);
    if (seconds) state.budget_seconds_per_day = static_cast<int>(*seconds);
  }
  if (object.has("mappings")) {
    state.mappings = ReadMappings(object.get("mappings"), Child(path, "mappings"), problems);
  }
  if (object.has("actions")) {
    state.actions = ReadActionSet(object.get("actions"), Child(path, "actions"), problems,
                                  /*allow_profile=*/true, &state.profile);
  }
}

StateDraft ReadState(const Var& value, std::size_t index, Mode mode, Problems& problems) {
  std::string path = "states[" + std::to_string(index) + "]";
  StateDraft draft;
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object with label, reason_code and status, got " + Describe(value));
    return draft;
  }
  CheckKeys(*object, path, kStateKeys, problems);
  ReadStateIdentity(*object, path, mode, draft, problems);
  ReadStateExtras(*object, path, draft, problems);
  return draft;
}

std::vector<StateDraft> ReadStates(const Object& config, Mode mode, Problems& problems) {
  std::vector<StateDraft> drafts;
  if (!config.has("states")) {
    Report(problems, "states", "missing (an array of at least one state is required)");
    return drafts;
  }
  Array::Ptr array = AsArray(config.get("states"));
  if (!array) {
    Report(problems, "states", "must be an array of states, got " + Describe(config.get("states")));
    return drafts;
  }
  if (array->size() == 0) {
    Report(problems, "states", "is empty (at least one state is required)");
    return drafts;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    drafts.push_back(ReadState(array->get(static_cast<unsigned>(i)), i, mode, problems));
  }
  return drafts;
}

// ---- checks across states --------------------------------------------------------------------

void CheckUniqueLabels(const std::vector<StateDraft>& drafts, Problems& problems) {
  std::map<std::string, std::size_t> first_use;
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    if (!drafts[i].has_label) continue;
    auto [it, inserted] = first_use.emplace(drafts[i].state.label, i);
    if (inserted) continue;
    Report(problems, "states[" + std::to_string(i) + "].label",
           Quote(drafts[i].state.label) + " is already the label of states[" +
               std::to_string(it->second) + "] (labels must be unique)");
  }
}

const StateDraft* FindDraft(const std::vector<StateDraft>& drafts, const std::string& label) {
  for (const StateDraft& draft : drafts) {
    if (draft.has_label && draft.state.label == label) return &draft;
  }
  return nullptr;
}

void ReportUnknownLabel(const std::vector<StateDraft>& drafts, const std::string& path,
                        const std::string& label, Problems& problems) {
  std::vector<std::string_view> labels;
  for (const StateDraft& draft : drafts) {
    if (draft.has_label) labels.push_back(draft.state.label);
  }
  std::string hint = "use the exact label of a state";
  if (std::optional<std::string_view> near = ClosestWord(label, labels)) {
    hint = "did you mean " + Quote(*near) + "?";
  }
  Report(problems, path, Quote(label) + " is not the label of any state (" + hint + ")");
}

void CheckConfiguredRole(const RoleRule& rule, const std::string& label,
                         const std::vector<StateDraft>& drafts, Problems& problems) {
  std::string path = Child("settings", rule.key);
  const StateDraft* draft = FindDraft(drafts, label);
  if (!draft) {
    ReportUnknownLabel(drafts, path, label, problems);
    return;
  }
  if (!draft->has_status || rule.statuses.empty()) return;
  StatusCode status = draft->state.status;
  if (std::find(rule.statuses.begin(), rule.statuses.end(), status) != rule.statuses.end()) return;
  Report(problems, path,
         Quote(label) + " has status " + StatusList({status}) + ", but the " +
             std::string(rule.role) + " state needs status " + StatusList(rule.statuses));
}

bool HasAnyStatus(const std::vector<StateDraft>& drafts, const std::vector<StatusCode>& statuses) {
  return std::any_of(drafts.begin(), drafts.end(), [&](const StateDraft& draft) {
    return draft.has_status &&
           std::find(statuses.begin(), statuses.end(), draft.state.status) != statuses.end();
  });
}

// Every role the engine relies on must resolve; a configured label must also fit the role.
// Whether a status is missing is only known when every state's status could be read, so a bad
// status is not followed by a guess that some role has no state.
void CheckRoles(const std::vector<StateDraft>& drafts, const Settings& settings,
                Problems& problems) {
  bool statuses_known = std::all_of(drafts.begin(), drafts.end(),
                                    [](const StateDraft& draft) { return draft.has_status; });
  for (const RoleRule& rule : RoleRules()) {
    const std::string& label = settings.*rule.label;
    if (!label.empty()) {
      CheckConfiguredRole(rule, label, drafts, problems);
    } else if (statuses_known && rule.needed && rule.needed(settings) &&
               !HasAnyStatus(drafts, rule.statuses)) {
      std::string article = rule.role.front() == 'O' ? "an " : "a ";
      Report(problems, rule.needed_by,
             article + std::string(rule.role) + " state is needed: add a state with status " +
                 StatusList(rule.statuses));
    }
  }
}

// The label a role resolves to: the configured one, else the first state of its status.
std::string RoleLabel(const std::vector<StateDraft>& drafts, const std::string& configured,
                      StatusCode status) {
  if (!configured.empty()) return configured;
  for (const StateDraft& draft : drafts) {
    if (draft.has_label && draft.has_status && draft.state.status == status) {
      return draft.state.label;
    }
  }
  return {};
}

// The missed-calls state takes the agent out of Ready until they (or its timer) bring them
// back, so it must be a state of its own: not Ready, not signed off, not one calls or the
// wrap-up timer set and end.
void CheckMissedCalls(const std::vector<StateDraft>& drafts, const Settings& settings,
                      Problems& problems) {
  if (!settings.missed_calls) return;
  const std::string& label = settings.missed_calls->state;
  const std::string path = Child(kMissedCallsPath, "state");
  const StateDraft* draft = FindDraft(drafts, label);
  if (!draft) {
    ReportUnknownLabel(drafts, path, label, problems);
    return;
  }
  const std::string use = " (use a state such as a break)";
  const StatusCode status = draft->state.status;
  if (label == RoleLabel(drafts, settings.ready_state, StatusCode::kOnline)) {
    Report(problems, path,
           Quote(label) + " is the ready state; the agent must be taken out of Ready" + use);
  } else if (draft->has_status &&
             (status == StatusCode::kLogout || status == StatusCode::kOffline)) {
    Report(problems, path,
           Quote(label) + " has status " + StatusList({status}) +
               ": a signed-off agent's calls are never counted and only a login brings them back" +
               use);
  } else if ((draft->has_status && status == StatusCode::kOnCall) ||
             label == settings.on_call_state) {
    Report(problems, path,
           Quote(label) + " has status " + StatusList({StatusCode::kOnCall}) +
               ": that state means a call is in progress and calls set and clear it" + use);
  } else if ((settings.wrap_up_seconds > 0 || !settings.wrap_up_state.empty()) &&
             label == RoleLabel(drafts, settings.wrap_up_state, StatusCode::kDnd)) {
    Report(
        problems, path,
        Quote(label) + " is the wrap-up state, which its timer ends after wrap_up_seconds" + use);
  }
}

// Every profile a state or actions.default_profile names must exist.
void CheckProfileNames(const std::vector<StateDraft>& drafts,
                       const std::map<std::string, ActionSet>& profiles,
                       const ActionSettings& action_settings, Problems& problems) {
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    CheckProfileName(profiles, drafts[i].state.profile,
                     "states[" + std::to_string(i) + "].actions.profile", problems);
  }
  CheckProfileName(profiles, action_settings.default_profile, "actions.default_profile", problems);
}

std::vector<State> TakeStates(std::vector<StateDraft> drafts) {
  std::vector<State> states;
  states.reserve(drafts.size());
  for (StateDraft& draft : drafts) states.push_back(std::move(draft.state));
  return states;
}

// ---- JSON text -------------------------------------------------------------------------------

// Bytes a terminal would mangle (control, non-ASCII) are shown as \xNN.
std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

// Poco's parser reads a stream byte by byte and stops just after the byte it rejects, but its
// messages carry no position: the stream position gives the line and column.
std::string SyntaxErrorText(const std::string& text, std::istringstream& in,
                            const Poco::Exception& error) {
  in.clear();
  std::streamoff read = in.tellg();
  bool at_end = read < 0 || static_cast<std::size_t>(read) >= text.size();
  std::size_t offset =
      at_end ? text.size() : static_cast<std::size_t>(std::max<std::streamoff>(read - 1, 0));
  std::string message = error.message().empty() ? error.displayText() : error.message();
  // At the end of the text the parser names its end-of-input marker as a byte.
  if (at_end && message.starts_with("unexpected byte")) message = "unexpected end of text";
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] != '\n') continue;
    ++line;
    line_start = i + 1;
  }
  std::size_t column =
      1 + CountCharacters(std::string_view(text).substr(line_start, offset - line_start));
  return "JSON syntax error at line " + std::to_string(line) + ", column " +
         std::to_string(column) + ": " + Printable(message);
}

std::string NotAnObject(std::string_view what) {
  return "must be a JSON object with \"settings\" and \"states\", got " + std::string(what);
}

CatalogLoad OneProblem(std::string_view path, std::string_view text) {
  CatalogLoad load;
  Report(load.problems, path, text);
  return load;
}

}  // namespace

CatalogLoad LoadCatalog(const Poco::JSON::Object& config) {
  CatalogLoad load;
  try {
    Settings settings = ReadSettings(config, load.problems);
    std::map<std::string, ActionSet> profiles = ReadProfiles(config, load.problems);
    ActionSettings action_settings = ReadActionSettings(config, load.problems);
    std::vector<StateDraft> drafts = ReadStates(config, settings.mode, load.problems);
    if (!drafts.empty()) {
      CheckUniqueLabels(drafts, load.problems);
      CheckRoles(drafts, settings, load.problems);
      CheckMissedCalls(drafts, settings, load.problems);
    }
    CheckProfileNames(drafts, profiles, action_settings, load.problems);
    if (load.problems.empty()) {
      load.catalog.emplace(TakeStates(std::move(drafts)), settings, std::move(profiles),
                           std::move(action_settings));
    }
  } catch (const Poco::Exception& error) {
    load.catalog.reset();
    Report(load.problems, kRootPath, "could not be loaded: " + error.displayText());
  } catch (const std::exception& error) {
    load.catalog.reset();
    Report(load.problems, kRootPath, std::string("could not be loaded: ") + error.what());
  }
  return load;
}

CatalogLoad LoadCatalogText(const std::string& json_text) {
  std::istringstream in(json_text);
  Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(in);
  } catch (const Poco::Exception& error) {
    // Poco 1.11 cannot hold a lone scalar ("42", "null") as a result and says so obscurely.
    if (error.message() == "Attempt to set value on an empty stack") {
      return OneProblem(kRootPath, NotAnObject("a single value"));
    }
    return OneProblem(kRootPath, SyntaxErrorText(json_text, in, error));
  } catch (const std::exception& error) {
    return OneProblem(kRootPath, std::string("could not be parsed: ") + error.what());
  }
  Object::Ptr root = AsObject(parsed);
  if (!root) {
    return OneProblem(kRootPath, NotAnObject(Describe(parsed)));
  }
  return LoadCatalog(*root);
}

}  // namespace presence::reasoncodes
