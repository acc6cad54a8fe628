#include "reasoncodes/actions.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "common/json_read.h"
#include "common/json_writer.h"
#include "reasoncodes/catalog.h"
#include "reasoncodes/user.h"

namespace presence::reasoncodes {

using namespace json;  // the json_read helpers (common/json_read.h)
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxNumberLength = 32;
constexpr std::size_t kMaxFieldLength = 32;
constexpr long long kMaxPenalty = 1000;
// ActionSetJson never nests deeper than {"queues":{...}}; anything deeper is not its text.
constexpr int kMaxJsonDepth = 2;
constexpr std::size_t kMaxJsonBytes = 1 << 20;

constexpr std::array<std::string_view, 4> kBlockKeys = {"dnd", "forward", "follow_me", "queues"};
constexpr std::array<std::string_view, 5> kStateBlockKeys = {"profile", "dnd", "forward",
                                                             "follow_me", "queues"};
constexpr std::array<std::string_view, 3> kForwardKeys = {"unconditional", "busy", "no_answer"};
constexpr std::array<std::string_view, 3> kQueuesKeys = {"pause", "add", "remove"};
constexpr std::array<std::string_view, 2> kQueueEntryKeys = {"queue", "penalty"};
constexpr std::array<std::string_view, 5> kJsonKeys = {"dnd", "forward", "follow_me", "queue_pause",
                                                       "queues"};

constexpr std::string_view kBlockShape = "an action block with dnd, forward, follow_me, queues";
constexpr std::string_view kTargetRule =
    "a number of 1-32 digits with an optional leading + and * or #, \"voicemail\", or one "
    "\"{field}\" of the user's fields; null turns forwarding off";
constexpr std::string_view kNameRule = "1-64 of A-Z a-z 0-9 . _ -";

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsFieldCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsDialCharacter(char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; }

// Digits with an optional leading + and * or #; at least one digit.
bool IsNumberTarget(std::string_view target) {
  if (target.empty() || target.size() > kMaxNumberLength) return false;
  std::string_view rest = target.front() == '+' ? target.substr(1) : target;
  return std::all_of(rest.begin(), rest.end(), IsDialCharacter) &&
         std::any_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<ForwardKind> ForwardKindFromName(std::string_view name) {
  for (ForwardKind kind : kForwardKinds) {
    if (ForwardKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// ---- reading a block -------------------------------------------------------------------------

std::optional<std::string> ReadName(const Var& value, const std::string& path,
                                    std::string_view what, Problems& problems) {
  std::optional<std::string> name = ReadString(value, path, problems);
  if (!name) return std::nullopt;
  if (!IsActionName(*name)) {
    Report(problems, path,
           Quote(*name) + " is not " + std::string(what) + " (" + std::string(kNameRule) + ")");
    return std::nullopt;
  }
  return name;
}

void ReadForward(const Var& value, const std::string& path, ActionSet& set, Problems& problems) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object {\"unconditional\"|\"busy\"|\"no_answer\": target or null}, got " +
               Describe(value));
    return;
  }
  CheckKeys(*object, path, kForwardKeys, problems);
  for (ForwardKind kind : kForwardKinds) {
    const std::string key(ForwardKindName(kind));
    if (!object->has(key)) continue;
    const Var target = object->get(key);
    const std::string target_path = Child(path, key);
    if (target.isEmpty()) {
      set.forward[kind] = "";
    } else if (!target.isString()) {
      Report(
          problems, target_path,
          "must be a forward target (" + std::string(kTargetRule) + "), got " + Describe(target));
    } else if (std::string text = target.convert<std::string>(); text.empty()) {
      Report(problems, target_path,
             "\"\" is not a forward target (use null to turn forwarding off)");
    } else if (!IsConfigTarget(text)) {
      Report(problems, target_path,
             Quote(text) + " is not a forward target (" + std::string(kTargetRule) + ")");
    } else {
      set.forward[kind] = text;
    }
  }
}

// One member of "add": "support" or {"queue": "support", "penalty": 2}.
void ReadQueueToAdd(const Var& value, const std::string& path, ActionSet& set,
                    std::map<std::string, std::string>& seen, Problems& problems) {
  std::optional<std::string> name;
  int penalty = 0;
  if (value.isString()) {
    name = ReadName(value, path, "a queue name", problems);
  } else if (Object::Ptr entry = AsObject(value)) {
    CheckKeys(*entry, path, kQueueEntryKeys, problems);
    if (!entry->has("queue")) {
      Report(problems, Child(path, "queue"),
             "missing (the queue's name, " + std::string(kNameRule) + ")");
    } else {
      name = ReadName(entry->get("queue"), Child(path, "queue"), "a queue name", problems);
    }
    if (auto number = ReadOptionalNumber(*entry, "penalty", path, 0, kMaxPenalty, problems)) {
      penalty = static_cast<int>(*number);
    }
  } else {
    Report(
        problems, path,
        "must be a queue name or {\"queue\": name, \"penalty\": 0-1000}, got " + Describe(value));
  }
  if (!name) return;
  if (auto [it, inserted] = seen.emplace(*name, path); !inserted) {
    Report(problems, path, Quote(*name) + " is already listed at " + it->second);
    return;
  }
  set.queues[*name] = penalty;
}

void ReadQueueToRemove(const Var& value, const std::string& path, ActionSet& set,
                       std::map<std::string, std::string>& seen, Problems& problems) {
  std::optional<std::string> name = ReadName(value, path, "a queue name", problems);
  if (!name) return;
  if (auto [it, inserted] = seen.emplace(*name, path); !inserted) {
    bool added = it->second.find(".add[") != std::string::npos;
    Report(problems, path,
           Quote(*name) + " is already listed at " + it->second +
               (added ? " (a queue is either added or removed, not both)" : ""));
    return;
  }
  set.queues[*name] = std::nullopt;
}

Array::Ptr ReadNameList(const Object& object, std::string_view key, const std::string& path,
                        std::string_view shape, Problems& problems) {
  const std::string name(key);
  if (!object.has(name)) return nullptr;
  Array::Ptr array = AsArray(object.get(name));
  if (!array) {
    Report(problems, Child(path, key),
           "must be an array of " + std::string(shape) + ", got " + Describe(object.get(name)));
  }
  return array;
}

void ReadQueues(const Var& value, const std::string& path, ActionSet& set, Problems& problems) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object {\"pause\": bool, \"add\": [...], \"remove\": [...]}, got " +
               Describe(value));
    return;
  }
  CheckKeys(*object, path, kQueuesKeys, problems);
  if (object->has("pause")) {
    set.queue_pause = ReadBool(object->get("pause"), Child(path, "pause"), problems);
  }
  std::map<std::string, std::string> seen;  // queue name -> where it was first listed
  const std::string add_shape = "queue names or {\"queue\": name, \"penalty\": 0-1000}";
  if (Array::Ptr add = ReadNameList(*object, "add", path, add_shape, problems)) {
    for (std::size_t i = 0; i < add->size(); ++i) {
      ReadQueueToAdd(add->get(static_cast<unsigned>(i)),
                     Child(path, "add") + "[" + std::to_string(i) + "]", set, seen, problems);
    }
  }
  if (Array::Ptr remove = ReadNameList(*object, "remove", path, "queue names", problems)) {
    for (std::size_t i = 0; i < remove->size(); ++i) {
      ReadQueueToRemove(remove->get(static_cast<unsigned>(i)),
                        Child(path, "remove") + "[" + std::to_string(i) + "]", set, seen, problems);
    }
  }
}

// ---- JSON text -------------------------------------------------------------------------------

// Whether `text` nests no deeper than kMaxJsonDepth outside strings: the parser is never handed
// text that could make it (or the destruction of what it built) recurse deeply.
bool ShallowEnough(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

bool OnlyKeys(const Object& object, std::span<const std::string_view> allowed) {
  return std::all_of(object.begin(), object.end(), [&](const auto& entry) {
    return std::find(allowed.begin(), allowed.end(), entry.first) != allowed.end();
  });
}

std::optional<bool> JsonBool(const Var& value) {
  if (!value.isBoolean()) return std::nullopt;
  return value.extract<bool>();
}

bool ParseJsonForward(const Var& value, ActionSet& set) {
  Object::Ptr object = AsObject(value);
  if (!object) return false;
  for (const auto& [key, target] : *object) {
    std::optional<ForwardKind> kind = ForwardKindFromName(key);
    if (!kind || !target.isString()) return false;
    std::string text = target.convert<std::string>();
    // A stored target is already resolved: "voicemail", a number, or a user's field, extension
    // or id as configured, so letters, digits and + * # . _ @ - are taken (no spaces, no
    // control characters), up to 256 bytes.
    if (text.size() > 256 || std::any_of(text.begin(), text.end(), [](char c) {
          return !std::isalnum(static_cast<unsigned char>(c)) &&
                 std::string_view("+*#._@-").find(c) == std::string_view::npos;
        })) {
      return false;
    }
    set.forward[*kind] = std::move(text);
  }
  return true;
}

bool ParseJsonQueues(const Var& value, ActionSet& set) {
  Object::Ptr object = AsObject(value);
  if (!object) return false;
  for (const auto& [name, penalty] : *object) {
    if (!IsActionName(name)) return false;
    if (penalty.isEmpty()) {
      set.queues[name] = std::nullopt;
      continue;
    }
    if (penalty.isBoolean() || !penalty.isInteger()) return false;
    auto number = penalty.isSigned() ? penalty.convert<std::int64_t>() : -1;
    if (number < 0 || number > kMaxPenalty) return false;
    set.queues[name] = static_cast<int>(number);
  }
  return true;
}

std::optional<ActionSet> ParseJsonObject(const Object& object) {
  if (!OnlyKeys(object, kJsonKeys)) return std::nullopt;
  ActionSet set;
  for (auto [key, member] :
       {std::pair{"dnd", &ActionSet::dnd}, std::pair{"follow_me", &ActionSet::follow_me},
        std::pair{"queue_pause", &ActionSet::queue_pause}}) {
    if (!object.has(key)) continue;
    set.*member = JsonBool(object.get(key));
    if (!(set.*member)) return std::nullopt;
  }
  if (object.has("forward") && !ParseJsonForward(object.get("forward"), set)) return std::nullopt;
  if (object.has("queues") && !ParseJsonQueues(object.get("queues"), set)) return std::nullopt;
  return set;
}

// ---- resolution ------------------------------------------------------------------------------

// The value a "{field}" target stands for in `user`; nullopt when the user has none.
std::optional<std::string> FieldValue(const User& user, std::string_view field) {
  const std::string* value = nullptr;
  if (field == "extension") {
    value = &user.extension;
  } else if (field == "id") {
    value = &user.id;
  } else if (auto it = user.fields.find(std::string(field)); it != user.fields.end()) {
    value = &it->second;
  }
  if (value == nullptr || value->empty()) return std::nullopt;
  return *value;
}

void ExpandTargets(const User& user, ActionSet& set) {
  for (auto it = set.forward.begin(); it != set.forward.end();) {
    std::optional<std::string_view> field = TargetField(it->second);
    if (!field) {
      ++it;
      continue;
    }
    if (std::optional<std::string> value = FieldValue(user, *field)) {
      it->second = std::move(*value);
      ++it;
    } else {
      it = set.forward.erase(it);
    }
  }
}

}  // namespace

std::string_view ForwardKindName(ForwardKind kind) {
  switch (kind) {
    case ForwardKind::kUnconditional:
      return "unconditional";
    case ForwardKind::kBusy:
      return "busy";
    case ForwardKind::kNoAnswer:
      return "no_answer";
  }
  return "unknown";
}

void ActionSet::Overlay(const ActionSet& over) {
  if (over.dnd) dnd = over.dnd;
  if (over.follow_me) follow_me = over.follow_me;
  if (over.queue_pause) queue_pause = over.queue_pause;
  for (const auto& [kind, target] : over.forward) forward[kind] = target;
  for (const auto& [queue, penalty] : over.queues) queues[queue] = penalty;
}

bool IsActionName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), IsNameCharacter);
}

std::optional<std::string_view> TargetField(std::string_view target) {
  if (target.size() < 3 || target.front() != '{' || target.back() != '}') return std::nullopt;
  std::string_view field = target.substr(1, target.size() - 2);
  if (field.size() > kMaxFieldLength ||
      !std::all_of(field.begin(), field.end(), IsFieldCharacter)) {
    return std::nullopt;
  }
  return field;
}

bool IsConfigTarget(std::string_view target) {
  return target == kVoicemailTarget || IsNumberTarget(target) || TargetField(target).has_value();
}

std::optional<ActionSet> ReadActionSet(const Poco::Dynamic::Var& value, const std::string& path,
                                       json::Problems& problems, bool allow_profile,
                                       std::string* profile) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object (" + std::string(kBlockShape) + (allow_profile ? ", profile" : "") +
               "), got " + Describe(value));
    return std::nullopt;
  }
  const std::size_t before = problems.size();
  if (allow_profile) {
    CheckKeys(*object, path, kStateBlockKeys, problems);
  } else {
    CheckKeys(*object, path, kBlockKeys, problems);
  }
  ActionSet set;
  if (object->has("dnd")) set.dnd = ReadBool(object->get("dnd"), Child(path, "dnd"), problems);
  if (object->has("follow_me")) {
    set.follow_me = ReadBool(object->get("follow_me"), Child(path, "follow_me"), problems);
  }
  if (object->has("forward"))
    ReadForward(object->get("forward"), Child(path, "forward"), set, problems);
  if (object->has("queues"))
    ReadQueues(object->get("queues"), Child(path, "queues"), set, problems);
  if (allow_profile && object->has("profile")) {
    auto name =
        ReadName(object->get("profile"), Child(path, "profile"), "a profile name", problems);
    if (name && profile != nullptr) *profile = *name;
  }
  if (problems.size() != before) return std::nullopt;
  return set;
}

std::string ActionSetJson(const ActionSet& set) {
  JsonWriter out;
  out.BeginObject();
  if (set.dnd) out.Key("dnd").Bool(*set.dnd);
  if (!set.forward.empty()) {
    out.Key("forward").BeginObject();
    for (const auto& [kind, target] : set.forward) out.Key(ForwardKindName(kind)).String(target);
    out.EndObject();
  }
  if (set.follow_me) out.Key("follow_me").Bool(*set.follow_me);
  if (set.queue_pause) out.Key("queue_pause").Bool(*set.queue_pause);
  if (!set.queues.empty()) {
    out.Key("queues").BeginObject();
    for (const auto& [queue, penalty] : set.queues) {
      out.Key(queue);
      if (penalty) {
        out.Int(*penalty);
      } else {
        out.Null();
      }
    }
    out.EndObject();
  }
  out.EndObject();
  return out.Take();
}

std::optional<ActionSet> ParseActionSetJson(std::string_view text) {
  if (text.size() > kMaxJsonBytes || !ShallowEnough(text)) return std::nullopt;
  try {
    Poco::JSON::Parser parser;
    Var parsed = parser.parse(std::string(text));
    Object::Ptr object = AsObject(parsed);
    if (!object) return std::nullopt;
    std::optional<ActionSet> set = ParseJsonObject(*object);
    // Only the exact text ActionSetJson writes: no other spacing, order, escapes or duplicate
    // members, whatever the parser lets through.
    if (!set || ActionSetJson(*set) != text) return std::nullopt;
    return set;
  } catch (...) {
    // Anything the parser or a conversion throws means the text is not ActionSetJson's.
    return std::nullopt;
  }
}

ActionSet ResolveActions(const Catalog& catalog, const User& user, const State* from,
                         const State& to) {
  if (!user.takes_actions) return {};
  const ActionSettings& settings = catalog.action_settings();
  ActionSet set;
  const std::string& base = user.profile.empty() ? settings.default_profile : user.profile;
  const std::string& profile = to.profile.empty() ? base : to.profile;
  if (const ActionSet* named = catalog.FindProfile(profile)) set = *named;
  if (to.actions) set.Overlay(*to.actions);
  const bool to_logout = to.status == StatusCode::kLogout;
  const bool from_logout = from == nullptr || from->status == StatusCode::kLogout;
  if (from_logout && !to_logout && settings.on_login) set.Overlay(*settings.on_login);
  if (to_logout && settings.on_logout) set.Overlay(*settings.on_logout);
  if (user.actions) set.Overlay(*user.actions);
  ExpandTargets(user, set);
  return set;
}

}  // namespace presence::reasoncodes
