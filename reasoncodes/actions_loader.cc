#include "reasoncodes/actions_loader.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "reasoncodes/catalog.h"
#include "reasoncodes/user.h"

namespace presence::reasoncodes {

using namespace json;  // the json_read helpers (common/json_read.h)
namespace {

constexpr std::array<std::string_view, 3> kActionsKeys = {"default_profile", "on_login",
                                                          "on_logout"};
constexpr std::size_t kMaxFieldNameLength = 32;
constexpr std::size_t kMaxFieldValueLength = 64;

bool IsFieldName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxFieldNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

bool IsFieldValue(std::string_view value) {
  return !value.empty() && value.size() <= kMaxFieldValueLength &&
         std::all_of(value.begin(), value.end(), [](char c) {
           return (c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#';
         });
}

std::optional<std::string> ReadProfileName(const Var& value, const std::string& path,
                                           Problems& problems) {
  std::optional<std::string> name = ReadString(value, path, problems);
  if (name && !IsActionName(*name)) {
    Report(problems, path, Quote(*name) + " is not a profile name (1-64 of A-Z a-z 0-9 . _ -)");
    return std::nullopt;
  }
  return name;
}

void ReadFields(const Var& value, const std::string& path, User& user, Problems& problems) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object of field name to number, e.g. {\"mobile\": \"+4917012345\"}, got " +
               Describe(value));
    return;
  }
  for (const auto& [name, field] : *object) {
    const std::string field_path = Child(path, name);
    if (!IsFieldName(name)) {
      Report(problems, field_path, "is not a field name (1-32 of a-z 0-9 _)");
      continue;
    }
    if (name == "extension" || name == "id") {
      Report(problems, field_path,
             "is built in (\"{" + name + "}\" is the user's " + name + "); choose another name");
      continue;
    }
    // A bad value is kept empty, so that the cross-check does not also call the field missing
    // (the configuration is refused anyway).
    std::string& kept = user.fields[name];
    std::optional<std::string> text = ReadString(field, field_path, problems);
    if (!text) continue;
    if (!IsFieldValue(*text)) {
      Report(problems, field_path,
             Quote(*text) +
                 " is not a field value (1-64 of 0-9 + * #: fields are forward targets, so only "
                 "numbers)");
      continue;
    }
    kept = *text;
  }
}

// ---- the cross-check -------------------------------------------------------------------------

// Field name -> the first place that forwards to it ("state \"Meeting\""), per forward kind.
using FieldUses = std::map<ForwardKind, std::map<std::string, std::string>>;

void AddUses(const ActionSet& set, const std::string& source, FieldUses& uses) {
  for (const auto& [kind, target] : set.forward) {
    if (std::optional<std::string_view> field = TargetField(target)) {
      uses[kind].emplace(std::string(*field), source);
    }
  }
}

std::string ProfileSource(const std::string& name) { return "profile " + Quote(name); }

// What every user who takes part may meet, whatever their own profile.
FieldUses SharedUses(const Catalog& catalog) {
  FieldUses uses;
  for (const State& state : catalog.states()) {
    if (!state.profile.empty()) {
      if (const ActionSet* profile = catalog.FindProfile(state.profile)) {
        AddUses(*profile, ProfileSource(state.profile), uses);
      }
    }
    if (state.actions) AddUses(*state.actions, "state " + Quote(state.label), uses);
  }
  const ActionSettings& settings = catalog.action_settings();
  if (settings.on_login) AddUses(*settings.on_login, "actions.on_login", uses);
  if (settings.on_logout) AddUses(*settings.on_logout, "actions.on_logout", uses);
  return uses;
}

// Reports each field of `uses` the user lacks once (`reported` remembers which were). Unless
// `own` (the uses of the user's own block), a kind the user's own block sets is skipped: their
// target wins over everything else (step 6).
void CheckFields(const User& user, const std::string& path, const FieldUses& uses, bool own,
                 std::set<std::string>& reported, Problems& problems) {
  for (const auto& [kind, fields] : uses) {
    if (!own && user.actions && user.actions->forward.contains(kind)) continue;
    for (const auto& [field, source] : fields) {
      if (field == "id" || reported.contains(field)) continue;
      const bool has = field == "extension" ? !user.extension.empty() : user.fields.contains(field);
      if (has) continue;
      reported.insert(field);
      const std::string target = " forwards to ({" + field + "})";
      if (field == "extension") {
        Report(problems, Child(path, "extension"), "empty, which " + source + target);
      } else {
        Report(problems, Child(path, "fields"),
               "no " + Quote(field) + ", which " + source + target);
      }
    }
  }
}

}  // namespace

std::map<std::string, ActionSet> ReadProfiles(const Object& config, Problems& problems) {
  std::map<std::string, ActionSet> profiles;
  if (!config.has("profiles")) return profiles;
  Object::Ptr object = AsObject(config.get("profiles"));
  if (!object) {
    Report(problems, "profiles",
           "must be an object of profile name to action block, e.g. {\"office\": {\"dnd\": "
           "false}}, got " +
               Describe(config.get("profiles")));
    return profiles;
  }
  for (const auto& [name, block] : *object) {
    const std::string path = Child("profiles", name);
    if (!IsActionName(name)) {
      Report(problems, path, "is not a profile name (1-64 of A-Z a-z 0-9 . _ -)");
      continue;
    }
    // A block with problems is kept empty, so that a state naming it gets no second problem.
    profiles.emplace(name, ReadActionSet(block, path, problems).value_or(ActionSet{}));
  }
  return profiles;
}

ActionSettings ReadActionSettings(const Object& config, Problems& problems) {
  ActionSettings settings;
  if (!config.has("actions")) return settings;
  Object::Ptr object = AsObject(config.get("actions"));
  if (!object) {
    Report(problems, "actions",
           "must be an object {\"default_profile\": name, \"on_login\": {...}, \"on_logout\": "
           "{...}}, got " +
               Describe(config.get("actions")));
    return settings;
  }
  CheckKeys(*object, "actions", kActionsKeys, problems);
  if (object->has("default_profile")) {
    auto name =
        ReadProfileName(object->get("default_profile"), "actions.default_profile", problems);
    if (name) settings.default_profile = *name;
  }
  if (object->has("on_login")) {
    settings.on_login = ReadActionSet(object->get("on_login"), "actions.on_login", problems);
  }
  if (object->has("on_logout")) {
    settings.on_logout = ReadActionSet(object->get("on_logout"), "actions.on_logout", problems);
  }
  return settings;
}

void CheckProfileName(const std::map<std::string, ActionSet>& profiles, const std::string& name,
                      const std::string& path, Problems& problems) {
  if (name.empty() || profiles.contains(name)) return;
  std::vector<std::string_view> names;
  for (const auto& entry : profiles) names.push_back(entry.first);
  std::string hint;
  if (names.empty()) {
    hint = "no profiles are configured; add it to \"profiles\"";
  } else if (std::optional<std::string_view> near = ClosestWord(name, names)) {
    hint = "did you mean " + Quote(*near) + "?";
  } else {
    hint = "profiles: " + JoinWords(names);
  }
  Report(problems, path, Quote(name) + " is not a profile (" + hint + ")");
}

void ReadUserActions(const Object& object, const std::string& path, User& user,
                     Problems& problems) {
  if (object.has("profile")) {
    auto name = ReadProfileName(object.get("profile"), Child(path, "profile"), problems);
    if (name) user.profile = *name;
  }
  if (object.has("fields")) ReadFields(object.get("fields"), Child(path, "fields"), user, problems);
  if (!object.has("actions")) return;
  const Var actions = object.get("actions");
  if (actions.isBoolean() && !actions.extract<bool>()) {
    user.takes_actions = false;
  } else if (actions.isBoolean()) {
    Report(problems, Child(path, "actions"),
           "must be false (the user takes no part) or an action block, got true");
  } else {
    user.actions = ReadActionSet(actions, Child(path, "actions"), problems);
  }
}

void CheckUserActions(const Catalog& catalog, std::span<const User> users,
                      std::span<const std::string> paths, Problems& problems) {
  const FieldUses shared = SharedUses(catalog);
  std::map<std::string, FieldUses> by_profile;
  for (const auto& [name, profile] : catalog.profiles()) {
    AddUses(profile, ProfileSource(name), by_profile[name]);
  }
  const std::string& default_profile = catalog.action_settings().default_profile;
  for (std::size_t i = 0; i < users.size() && i < paths.size(); ++i) {
    const User& user = users[i];
    CheckProfileName(catalog.profiles(), user.profile, Child(paths[i], "profile"), problems);
    if (!user.takes_actions) continue;
    std::set<std::string> reported;
    if (user.actions) {
      FieldUses own;
      AddUses(*user.actions, Child(paths[i], "actions"), own);
      CheckFields(user, paths[i], own, true, reported, problems);
    }
    CheckFields(user, paths[i], shared, false, reported, problems);
    const std::string& base = user.profile.empty() ? default_profile : user.profile;
    if (auto it = by_profile.find(base); it != by_profile.end()) {
      CheckFields(user, paths[i], it->second, false, reported, problems);
    }
  }
}

}  // namespace presence::reasoncodes
