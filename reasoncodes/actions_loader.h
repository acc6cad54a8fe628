#pragma once

// Reads the action configuration (actions.h) around single blocks: the top-level "profiles" and
// "actions", a user's "profile", "fields" and "actions", and the checks that need the catalog
// and the users together. Problems are reported as "path: what is wrong (what is allowed)".
//
// The cross-check (CheckUserActions) makes sure every "{field}" forward target a user can meet
// resolves, with a rule that is a little stricter than resolution itself, so that it is cheap
// (each profile and block is scanned once) and easy to explain: a user who takes part must have
// every field named by
//   - every state's own block, every profile a state names, actions.on_login and on_logout;
//   - their base profile (their "profile", else actions.default_profile), even when every
//     state names a profile of its own;
//   - their own "actions" block;
// except in a forward kind their own block sets, since that target wins over everything.
// "{extension}" needs a non-empty extension; "{id}" always resolves.

#include <map>
#include <span>
#include <string>

#include "common/json_read.h"
#include "reasoncodes/actions.h"

namespace presence::reasoncodes {

class Catalog;
struct User;

// The top-level "profiles" object (name -> action block); absent = none.
std::map<std::string, ActionSet> ReadProfiles(const json::Object& config, json::Problems& problems);

// The top-level "actions" object; absent = no default profile, nothing on login or logout.
// Whether default_profile exists is checked by CheckProfileName.
ActionSettings ReadActionSettings(const json::Object& config, json::Problems& problems);

// A name given for a profile must be one of `profiles`; a typo gets a suggestion.
void CheckProfileName(const std::map<std::string, ActionSet>& profiles, const std::string& name,
                      const std::string& path, json::Problems& problems);

// A user's "profile", "fields" and "actions" members of the user object at `path`, into `user`
// (whether the profile exists is checked by CheckUserActions).
void ReadUserActions(const json::Object& object, const std::string& path, User& user,
                     json::Problems& problems);

// Every user's profile exists, and every "{field}" target they can meet resolves (see the top).
// `paths[i]` is where users[i] was read ("users[2]").
void CheckUserActions(const Catalog& catalog, std::span<const User> users,
                      std::span<const std::string> paths, json::Problems& problems);

}  // namespace presence::reasoncodes
