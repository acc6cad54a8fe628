#pragma once

// A person with a softphone, as the configuration names them. Shared by the agent (API,
// dashboard) and the connectors (extension to dial, identities in other systems).

#include <map>
#include <string>

namespace presence::reasoncodes {

struct User {
  std::string id;         // stable key, 1-64 of [A-Za-z0-9._@-]
  std::string name;       // shown on the dashboard
  std::string extension;  // phone extension
  std::string team;
  // Identities in other systems, by system: "teams" (Entra object id), "salesforce" (user id
  // 005...), "desk_phone" (the phone's address), ...
  std::map<std::string, std::string> identities;
};

}  // namespace presence::reasoncodes
