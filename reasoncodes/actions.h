#pragma once

// What a state asks of the phone system around the agent (issue 14): DND, call forwarding,
// Find Me/Follow Me and queue membership. Written once in the catalog, carried out by the
// connectors that can (the AMI connector today).
//
// Configuration (every member optional; a member that is absent is not managed: it is never
// sent and never compared):
//   "profiles": {"office": {"dnd": false, "forward": {"unconditional": null},
//                           "queues": {"pause": false, "add": [{"queue": "support"}]}},
//                "meeting": {"forward": {"unconditional": "{mobile}"}}},
//   "actions": {"default_profile": "office",
//               "on_login": {...action block...}, "on_logout": {...action block...}},
//   "states": [{"label": "Lunch", ..., "actions": {"profile": "away", "dnd": true}}],
//   "users": [{"id": "ann", ..., "profile": "home", "fields": {"mobile": "+4917..."},
//              "actions": {...action block...} | false}]
//
// An action block: "dnd": bool; "forward": {"unconditional"|"busy"|"no_answer": target|null}
// (target: a number of digits with an optional leading + and * or #, "voicemail", or one
// "{field}" of the user's fields; null = forwarding off); "follow_me": bool; "queues":
// {"pause": bool, "add": [{"queue": name, "penalty": 0-1000}|name], "remove": [name]}.
//
// Resolution of one change of one user into the state `to` (from `from`, null for the user's
// first change), each step overlaying the previous one member by member:
//   1. the user's "profile", or else actions.default_profile (none: an empty set);
//   2. the profile the state names ("actions.profile") when it names one (it replaces 1);
//   3. the state's own members;
//   4. actions.on_login when `from` is null or has status Logout and `to` does not;
//   5. actions.on_logout when `to` has status Logout;
//   6. the user's own "actions" block (their forward target wins over everything).
// A user with "actions": false takes no part: the set is empty. Then "{field}" targets are
// replaced by the user's field ("{extension}" and "{id}" are always there); the loader makes
// sure every target any state can produce for any user resolves, by a slightly stricter rule
// stated in actions_loader.h (CheckUserActions).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Declared, not included: the engine reaches this header through catalog.h and stays free of
// Poco (the engine_is_pure test). Callers of ReadActionSet include common/json_read.h.
namespace Poco::Dynamic {
class Var;
}  // namespace Poco::Dynamic

namespace presence::json {
using Problems = std::vector<std::string>;  // as common/json_read.h declares it
}  // namespace presence::json

namespace presence::reasoncodes {

class Catalog;
struct State;
struct User;

// The forward kinds, as FreePBX names them in AstDB: CF, CFB, CFU.
enum class ForwardKind { kUnconditional, kBusy, kNoAnswer };
constexpr ForwardKind kForwardKinds[] = {ForwardKind::kUnconditional, ForwardKind::kBusy,
                                         ForwardKind::kNoAnswer};
// "unconditional", "busy", "no_answer".
std::string_view ForwardKindName(ForwardKind kind);

// A forward target as configured or resolved: "" = forwarding off, "voicemail", a number, or
// (before resolution) "{field}".
inline constexpr std::string_view kVoicemailTarget = "voicemail";

// One action block as configured (a profile, a state's actions, a user's overlay, on_login,
// on_logout), or the resolved set for one change.
struct ActionSet {
  std::optional<bool> dnd;
  std::map<ForwardKind, std::string> forward;  // absent kind = not managed; "" = off
  std::optional<bool> follow_me;
  std::optional<bool> queue_pause;  // paused with the state's label as the reason, or not
  // Queue membership by queue name: a penalty = member with that penalty, nullopt = removed.
  std::map<std::string, std::optional<int>> queues;

  bool empty() const {
    return !dnd && forward.empty() && !follow_me && !queue_pause && queues.empty();
  }
  // `over`'s members replace this set's (queues and forward kinds one by one).
  void Overlay(const ActionSet& over);
  bool operator==(const ActionSet&) const = default;
};

// Reads one action block (a JSON object) at `path`; every problem is reported with what is
// allowed. `allow_profile`: whether a "profile" member may name a profile (a state's block);
// its value is returned in *profile.
std::optional<ActionSet> ReadActionSet(const Poco::Dynamic::Var& value, const std::string& path,
                                       json::Problems& problems, bool allow_profile = false,
                                       std::string* profile = nullptr);

// The set as compact JSON, the form stored with a change's outbox row:
// {"dnd":true,"forward":{"unconditional":"+49..."},"follow_me":false,
//  "queue_pause":true,"queues":{"support":0,"sales":null}}; members absent when not managed.
std::string ActionSetJson(const ActionSet& set);
// Reads what ActionSetJson wrote, byte for byte; nullopt for anything else (other spacing or
// order included). Never throws, whatever the text.
std::optional<ActionSet> ParseActionSetJson(std::string_view text);

// The top-level "actions" block: what every user gets unless their own "profile" says otherwise,
// and what logging in and out adds (steps 1, 4 and 5 above).
struct ActionSettings {
  std::string default_profile;  // "" = none
  std::optional<ActionSet> on_login;
  std::optional<ActionSet> on_logout;
  bool operator==(const ActionSettings&) const = default;
};

// A profile or queue name: 1-64 of [A-Za-z0-9._-].
bool IsActionName(std::string_view name);
// The field a "{field}" target names ("mobile" for "{mobile}"); nullopt for any other target.
std::optional<std::string_view> TargetField(std::string_view target);
// Whether `target` may be configured: a number, "voicemail" or one "{field}" (not "": null is
// how a configuration turns forwarding off).
bool IsConfigTarget(std::string_view target);

// The resolved set for a change of `user` from `from` (null: the user's first change) into
// `to`, as described at the top. Targets are expanded; a "{field}" the user lacks (which the
// loader prevents) drops that forward.
ActionSet ResolveActions(const Catalog& catalog, const User& user, const State* from,
                         const State& to);

}  // namespace presence::reasoncodes
