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

namespace presence::reasoncodes {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;
using Problems = std::vector<std::string>;

constexpr std::string_view kRootPath = "config";
constexpr std::size_t kMaxLabelLength = 64;
constexpr std::size_t kMaxReasonCodeLength = 64;
constexpr long long kMaxWrapUpSeconds = 999;
constexpr long long kMaxTrackingUpdateSeconds = 999;
constexpr long long kMaxAlertAfterSeconds = 86400;
constexpr std::size_t kMaxQuotedLength = 40;

constexpr std::array<std::string_view, 14> kSettingsKeys = {
    "mode",          "wrap_up_seconds",         "wrap_up_locked", "active_call_state",
    "time_tracking", "tracking_update_seconds", "omni_channel",   "return_after_call",
    "ready_state",   "wrap_up_state",           "on_call_state",  "login_state",
    "logout_state",  "initial_state",
};

constexpr std::array<std::string_view, 7> kStateKeys = {
    "label", "reason_code", "status", "selectable", "color", "alert_after_seconds", "mappings",
};

constexpr std::array<std::pair<std::string_view, Mode>, 3> kModes = {{
    {"none", Mode::kNone},
    {"dial_command", Mode::kDialCommand},
    {"skype_for_business", Mode::kSkypeForBusiness},
}};

constexpr std::array<std::pair<std::string_view, ReturnAfterCall>, 2> kReturnAfterCall = {{
    {"ready", ReturnAfterCall::kReady},
    {"previous", ReturnAfterCall::kPrevious},
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

// ---- text helpers ----------------------------------------------------------------------------

void Report(Problems& problems, std::string_view path, std::string_view text) {
  std::string problem(path);
  problem += ": ";
  problem += text;
  problems.push_back(std::move(problem));
}

std::string Child(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}

bool IsUtf8Continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

// Lengths are in characters (UTF-8 code points), as a person counts them.
std::size_t CountCharacters(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsUtf8Continuation(c); }));
}

// "\"text\"", cut after kMaxQuotedLength characters so one long value cannot flood a message.
std::string Quote(std::string_view text) {
  std::size_t characters = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (IsUtf8Continuation(text[i])) continue;
    if (++characters > kMaxQuotedLength) return "\"" + std::string(text.substr(0, i)) + "...\"";
  }
  return "\"" + std::string(text) + "\"";
}

std::string JoinWords(std::span<const std::string_view> words) {
  std::string joined;
  for (std::string_view word : words) {
    if (!joined.empty()) joined += ", ";
    joined += word;
  }
  return joined;
}

// "7 (Logout) or 2 (Offline)".
std::string StatusList(const std::vector<StatusCode>& statuses) {
  std::string text;
  for (StatusCode status : statuses) {
    if (!text.empty()) text += " or ";
    text += std::to_string(ToInt(status)) + " (" + std::string(StatusName(status)) + ")";
  }
  return text;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

// The candidate a typo most likely meant ("colour" -> "color"), if one is close enough.
std::optional<std::string_view> ClosestWord(std::string_view word,
                                            std::span<const std::string_view> candidates) {
  std::size_t limit = std::min<std::size_t>(2, word.size() / 2);
  std::optional<std::string_view> best;
  std::size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    std::size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// ---- typed reads from Poco values ------------------------------------------------------------

// Parsed JSON holds nested values as Ptr; objects built in code may hold them by value.
Object::Ptr AsObject(const Var& value) {
  if (value.type() == typeid(Object::Ptr)) return value.extract<Object::Ptr>();
  if (value.type() == typeid(Object)) return new Object(value.extract<Object>());
  return nullptr;
}

Array::Ptr AsArray(const Var& value) {
  if (value.type() == typeid(Array::Ptr)) return value.extract<Array::Ptr>();
  if (value.type() == typeid(Array)) return new Array(value.extract<Array>());
  return nullptr;
}

// What a wrong value was, for "got ..." in messages. Poco counts a bool as an integer, so
// booleans are tested first.
std::string Describe(const Var& value) {
  if (value.isEmpty()) return "null";
  if (value.isBoolean()) return value.extract<bool>() ? "true" : "false";
  if (value.isString()) return "string " + Quote(value.convert<std::string>());
  if (value.isNumeric()) return "number " + value.convert<std::string>();
  if (AsObject(value)) return "an object";
  if (AsArray(value)) return "an array";
  return "a value of an unsupported type";
}

// JSON has one number type, so 30.0 is accepted as 30; 3.5 is not. Values beyond long long are
// clamped, which every range check here rejects.
std::optional<long long> ReadWholeNumber(const Var& value, std::string_view path,
                                         std::string_view range, Problems& problems) {
  if (value.isBoolean() || !value.isNumeric()) {
    Report(problems, path,
           "must be a whole number (" + std::string(range) + "), got " + Describe(value));
    return std::nullopt;
  }
  if (value.isInteger()) {
    if (value.isSigned()) return value.convert<std::int64_t>();
    auto number = value.convert<std::uint64_t>();
    return number > static_cast<std::uint64_t>(LLONG_MAX) ? LLONG_MAX
                                                          : static_cast<long long>(number);
  }
  double number = value.convert<double>();
  if (!std::isfinite(number) || std::trunc(number) != number) {
    Report(problems, path,
           value.convert<std::string>() + " must be a whole number (" + std::string(range) + ")");
    return std::nullopt;
  }
  if (std::fabs(number) >= 9e18) return number < 0 ? LLONG_MIN : LLONG_MAX;
  return static_cast<long long>(number);
}

std::optional<long long> ReadNumberInRange(const Var& value, std::string_view path, long long min,
                                           long long max, Problems& problems) {
  std::string range = std::to_string(min) + "-" + std::to_string(max);
  std::optional<long long> number = ReadWholeNumber(value, path, range, problems);
  if (number && (*number < min || *number > max)) {
    Report(problems, path, value.convert<std::string>() + " is out of range (" + range + ")");
    return std::nullopt;
  }
  return number;
}

std::optional<bool> ReadBool(const Var& value, std::string_view path, Problems& problems) {
  if (value.isBoolean()) return value.extract<bool>();
  Report(problems, path, "must be true or false, got " + Describe(value));
  return std::nullopt;
}

std::optional<std::string> ReadString(const Var& value, std::string_view path, Problems& problems) {
  if (value.isString()) return value.convert<std::string>();
  Report(problems, path, "must be a string, got " + Describe(value));
  return std::nullopt;
}

template <class T, std::size_t N>
std::optional<T> ReadChoice(const Var& value, std::string_view path, std::string_view what,
                            const std::array<std::pair<std::string_view, T>, N>& choices,
                            Problems& problems) {
  std::optional<std::string> text = ReadString(value, path, problems);
  if (!text) return std::nullopt;
  std::array<std::string_view, N> names;
  for (std::size_t i = 0; i < N; ++i) {
    if (choices[i].first == *text) return choices[i].second;
    names[i] = choices[i].first;
  }
  Report(problems, path,
         Quote(*text) + " is not " + std::string(what) + " (" + JoinWords(names) + ")");
  return std::nullopt;
}

void CheckKeys(const Object& object, std::string_view path,
               std::span<const std::string_view> allowed, Problems& problems) {
  for (const auto& entry : object) {
    const std::string& key = entry.first;
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string text = "unknown key";
    if (std::optional<std::string_view> near = ClosestWord(key, allowed)) {
      text += ", did you mean " + Quote(*near) + "?";
    }
    Report(problems, Child(path, key), text + " (allowed: " + JoinWords(allowed) + ")");
  }
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

// The catalog must not change when the caller later edits its configuration, and copies of a
// Poco object share their nested values, so a block is copied through its JSON text.
Object::Ptr DeepCopy(const Object& object) {
  std::ostringstream text;
  object.stringify(text);
  Poco::JSON::Parser parser;
  return parser.parse(text.str()).extract<Object::Ptr>();
}

std::map<std::string, Object::Ptr> ReadMappings(const Var& value, std::string_view path,
                                                Problems& problems) {
  std::map<std::string, Object::Ptr> mappings;
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
    mappings[connector] = DeepCopy(*block);
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
  if (object.has("mappings")) {
    state.mappings = ReadMappings(object.get("mappings"), Child(path, "mappings"), problems);
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
    std::vector<StateDraft> drafts = ReadStates(config, settings.mode, load.problems);
    if (!drafts.empty()) {
      CheckUniqueLabels(drafts, load.problems);
      CheckRoles(drafts, settings, load.problems);
    }
    if (load.problems.empty()) load.catalog.emplace(TakeStates(std::move(drafts)), settings);
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
