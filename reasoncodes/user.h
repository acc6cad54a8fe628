#pragma once

// A person with a softphone, as the configuration names them. Shared by the agent (API,
// dashboard) and the connectors (extension to dial, identities in other systems).

#include <map>
#include <optional>
#include <string>

#include "reasoncodes/actions.h"

namespace presence::reasoncodes {

struct User {
  std::string id;         // stable key, 1-64 of [A-Za-z0-9._@-]
  std::string name;       // shown on the dashboard
  std::string extension;  // phone extension
  std::string team;
  // Identities in other systems, by system: "teams" (Entra object id), "salesforce" (user id
  // 005...), "desk_phone" (the phone's address), ...
  std::map<std::string, std::string> identities;
  // Actions (actions.h): the user's profile ("" = actions.default_profile), the values their
  // "{field}" forward targets expand to (name [a-z0-9_]{1,32} -> 1-64 of digits + * #), whether
  // they take part at all ("actions": false), and their own block, which wins over the rest.
  std::string profile;
  std::map<std::string, std::string> fields;
  bool takes_actions = true;
  std::optional<ActionSet> actions;
};

}  // namespace presence::reasoncodes
