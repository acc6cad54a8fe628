#pragma once

// The "connectors" part of the configuration: an array of typed blocks.
//
//   "connectors": [
//     {"type": "ami", "name": "pbx", "host": "127.0.0.1", "port": 5038, ...},
//     {"type": "webhook", "name": "crm-hook", "url": "https://...", "secret": {"env": "HOOK_KEY"}}
//   ]
//
// Common keys of every block (the rest belong to the type, see registry.h):
//   type            required; one of the registered types
//   name            unique; default: the type (so two blocks of one type need names)
//   concurrency     1-64 deliveries in flight
//   rate_per_second 0 (no limit) - 10000; burst 1-10000
//   retry_initial_ms 100-600000, retry_max_seconds 1-86400
//   coalesce        only the latest state of a user is delivered (types that allow it)
//   skip_sources    no echo: changes from these sources are not sent (e.g. ["crm"])
//   refresh_seconds 30-299, types that keep a fading presence alive (defaults.refresh_every)
// Secrets (passwords, client secrets, signing keys) are a string, {"env": "NAME"} or
// {"file": "path"}; they are read at load time and never logged.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_read.h"
#include "connectors/registry.h"

namespace presence::connectors {

struct ConnectorConfig {
  std::string type;
  std::string name;
  DeliveryPolicy policy;
  std::shared_ptr<const ConnectorSettings> settings;
};

// Reads the "connectors" array (`value` may be null: no connectors) and checks it against the
// catalog: each type fits settings.mode (mode "none" sends nothing to the phone system, so no
// ami/desk_phone/teams), an omni_channel connector needs settings.omni_channel, and every
// state's mapping block is keyed by a known type. Every problem is reported. A mode without
// the connector it needs ("dial_command" without ami/desk_phone, "skype_for_business" without
// teams, omni_channel without its connector) is a warning: the agent runs, tracking time only.
std::vector<ConnectorConfig> ReadConnectors(const json::Var* value,
                                            const reasoncodes::Catalog& catalog,
                                            const Registry& registry, json::Problems& problems,
                                            json::Problems& warnings);

// A secret: "text", {"env": "NAME"} or {"file": "path"} (one trailing newline is dropped).
std::optional<std::string> ReadSecret(const json::Var& value, std::string_view path,
                                      json::Problems& problems);

// A state's mapping block for `type` as a JSON object for the type's reader (the values
// keep their JSON types, see reasoncodes/mapping.h); nullopt when the state has no block.
std::optional<json::Object> StateMapping(const reasoncodes::State& state, std::string_view type);

// Calls `check` with every state's mapping block for `type` and its path
// ("states[2].mappings.teams"), for a type's parse to validate them at load.
void ForEachStateMapping(
    const reasoncodes::Catalog& catalog, std::string_view type,
    const std::function<void(const json::Object& block, const std::string& path)>& check);

// For a type that takes no per-state settings: every key of its mapping blocks is a problem,
// "unknown key (<type> takes no per-state settings: <why>)".
void RefuseStateMappings(const reasoncodes::Catalog& catalog, std::string_view type,
                         std::string_view why, json::Problems& problems);

// An absolute http:// or https:// URL with a host (what connectors post to).
std::optional<std::string> ReadHttpUrl(const json::Var& value, std::string_view path,
                                       json::Problems& problems);

}  // namespace presence::connectors
