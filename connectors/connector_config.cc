#include "connectors/connector_config.h"

#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

namespace presence::connectors {
namespace {

using namespace json;  // the json_read helpers (common/json_read.h)
using namespace reasoncodes;

const std::vector<std::string_view> kCommonKeys = {
    "type",     "name",         "concurrency",      "rate_per_second",   "burst",
    "coalesce", "skip_sources", "retry_initial_ms", "retry_max_seconds", "refresh_seconds",
};

bool IsNameCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

std::optional<std::string> ReadName(const Var& value, const std::string& path, Problems& problems) {
  std::optional<std::string> name = ReadString(value, path, problems);
  if (!name) return std::nullopt;
  if (name->empty() || name->size() > 64 ||
      !std::all_of(name->begin(), name->end(), IsNameCharacter)) {
    Report(problems, path, Quote(*name) + " is not a name (1-64 of A-Z a-z 0-9 - _ .)");
    return std::nullopt;
  }
  return name;
}

std::set<Source> ReadSources(const Var& value, const std::string& path, Problems& problems) {
  std::set<Source> sources;
  Array::Ptr array = AsArray(value);
  if (!array) {
    Report(problems, path,
           "must be an array of sources (" + SourceNames() + "), got " + Describe(value));
    return sources;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    std::optional<std::string> name =
        ReadString(array->get(static_cast<unsigned>(i)), item_path, problems);
    if (!name) continue;
    if (auto source = SourceFromName(*name)) {
      sources.insert(*source);
    } else {
      Report(problems, item_path, Quote(*name) + " is not a source (" + SourceNames() + ")");
    }
  }
  return sources;
}

// The common keys over the type's defaults.
DeliveryPolicy ReadPolicy(const Object& block, const std::string& path, const ConnectorType& type,
                          Problems& problems) {
  DeliveryPolicy policy = type.defaults;
  auto number = [&](std::string_view key, long long min, long long max) {
    return ReadOptionalNumber(block, key, path, min, max, problems);
  };
  if (auto n = number("concurrency", 1, 64)) policy.concurrency = static_cast<int>(*n);
  if (auto n = number("rate_per_second", 0, 10000)) policy.rate_per_second = *n;
  if (auto n = number("burst", 1, 10000)) policy.burst = static_cast<int>(*n);
  if (auto n = number("retry_initial_ms", 100, 600000)) policy.initial_backoff = Millis(*n);
  if (auto n = number("retry_max_seconds", 1, 86400)) policy.max_backoff = Millis(*n * 1000);
  if (block.has("coalesce")) {
    auto flag = ReadBool(block.get("coalesce"), Child(path, "coalesce"), problems);
    if (flag) policy.coalesce = *flag;
  }
  if (block.has("skip_sources")) {
    policy.skip_sources =
        ReadSources(block.get("skip_sources"), Child(path, "skip_sources"), problems);
  }
  if (block.has("refresh_seconds")) {
    if (!type.defaults.refresh_every) {
      Report(problems, Child(path, "refresh_seconds"),
             "is not a setting of type " + Quote(type.type) + " (it keeps no fading presence)");
    } else if (auto n = number("refresh_seconds", 30, 299)) {
      policy.refresh_every = Millis(*n * 1000);
    }
  }
  if (policy.initial_backoff > policy.max_backoff) policy.max_backoff = policy.initial_backoff;
  return policy;
}

std::optional<ConnectorConfig> ReadBlock(const Var& value, const std::string& path,
                                         const Catalog& catalog, const Registry& registry,
                                         Problems& problems) {
  Object::Ptr block = AsObject(value);
  if (!block) {
    Report(problems, path, "must be an object with a type, got " + Describe(value));
    return std::nullopt;
  }
  std::vector<std::string_view> types = registry.Names();
  std::string type_list = JoinWords(types);
  if (!block->has("type")) {
    Report(problems, Child(path, "type"), "missing (one of " + type_list + ")");
    return std::nullopt;
  }
  std::optional<std::string> type_name =
      ReadString(block->get("type"), Child(path, "type"), problems);
  if (!type_name) return std::nullopt;
  const ConnectorType* type = registry.Find(*type_name);
  if (!type) {
    std::string hint;
    if (auto close = ClosestWord(*type_name, types)) hint = "; did you mean " + Quote(*close) + "?";
    Report(problems, Child(path, "type"),
           Quote(*type_name) + " is not a connector type (" + type_list + ")" + hint);
    return std::nullopt;
  }
  std::vector<std::string_view> keys = kCommonKeys;
  keys.insert(keys.end(), type->keys.begin(), type->keys.end());
  CheckKeys(*block, path, keys, problems);
  ConnectorConfig config;
  config.type = *type_name;
  config.name = *type_name;
  if (block->has("name")) {
    if (auto name = ReadName(block->get("name"), Child(path, "name"), problems))
      config.name = *name;
  }
  config.policy = ReadPolicy(*block, path, *type, problems);
  BlockContext context{*block, path, catalog, config.name};
  const size_t before = problems.size();
  config.settings = type->parse(context, problems);
  if (!config.settings) {
    if (problems.size() == before)
      Report(problems, path, "is not a valid " + config.type + " block");
    return std::nullopt;
  }
  return config;
}

// Mode and connectors must agree (seed 004: the mode decides what reaches the phone system).
void CheckModes(const std::vector<ConnectorConfig>& connectors, const Catalog& catalog,
                const Registry& registry, Problems& problems, Problems& warnings) {
  const std::string mode(reasoncodes::ModeName(catalog.settings().mode));
  std::map<std::string, std::vector<std::string_view>> types_by_mode;
  bool has_omni = false;
  for (size_t i = 0; i < connectors.size(); ++i) {
    const ConnectorType* type = registry.Find(connectors[i].type);
    if (connectors[i].type == "omni_channel") has_omni = true;
    if (!type || type->mode.empty()) continue;
    const bool reads = connectors[i].settings && connectors[i].settings->ReadsItsSystem();
    if (type->mode != mode && !reads) {
      Report(problems, "connectors[" + std::to_string(i) + "].type",
             Quote(connectors[i].type) + " needs settings.mode " + Quote(type->mode) +
                 " (settings.mode is " + Quote(mode) +
                 (mode == "none" ? ": time tracking only, nothing is sent to the phone system)"
                                 : ")"));
    }
    types_by_mode[std::string(type->mode)].push_back(type->type);
  }
  if (mode == "dial_command" && types_by_mode["dial_command"].empty()) {
    Report(warnings, "connectors",
           "settings.mode \"dial_command\" needs a connector of type \"ami\" or \"desk_phone\" "
           "to dial the reason codes; until then changes are tracked only");
  }
  if (mode == "skype_for_business" && types_by_mode["skype_for_business"].empty()) {
    Report(warnings, "connectors",
           "settings.mode \"skype_for_business\" needs a connector of type \"teams\" (Microsoft "
           "Graph presence); until then changes are tracked only");
  }
  if (catalog.settings().omni_channel && !has_omni) {
    Report(warnings, "connectors",
           "settings.omni_channel is on: add a connector of type \"omni_channel\" (Salesforce "
           "credentials); until then nothing is sent to Omni-Channel");
  }
  if (!catalog.settings().omni_channel && has_omni) {
    Report(problems, "settings.omni_channel",
           "is off but an \"omni_channel\" connector is configured: turn it on or remove the "
           "connector");
  }
}

// A member of a mapping block as the JSON value it was read from.
Var MappingVar(const reasoncodes::MappingValue& value) {
  return std::visit(
      [](const auto& held) -> Var {
        using T = std::decay_t<decltype(held)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return Var();
        } else if constexpr (std::is_same_v<T, reasoncodes::MappingJson>) {
          return Poco::JSON::Parser().parse(held.text);
        } else {
          return Var(held);
        }
      },
      value);
}

// A state's mapping block must belong to a known connector type (a typo would silently
// map nothing).
void CheckMappingKeys(const Catalog& catalog, const Registry& registry, Problems& problems) {
  std::vector<std::string_view> types = registry.MappingKeys();
  for (size_t i = 0; i < catalog.states().size(); ++i) {
    for (const auto& [key, block] : catalog.states()[i].mappings) {
      if (registry.FindByMappingKey(key)) continue;
      std::string hint;
      if (auto close = ClosestWord(key, types)) hint = "; did you mean " + Quote(*close) + "?";
      Report(problems, "states[" + std::to_string(i) + "].mappings." + key,
             "is not a connector type (" + JoinWords(types) + ")" + hint);
    }
  }
}

}  // namespace

std::vector<ConnectorConfig> ReadConnectors(const Var* value, const Catalog& catalog,
                                            const Registry& registry, Problems& problems,
                                            Problems& warnings) {
  std::vector<ConnectorConfig> connectors;
  CheckMappingKeys(catalog, registry, problems);
  if (value) {
    Array::Ptr array = AsArray(*value);
    if (!array) {
      Report(problems, "connectors",
             "must be an array of connector blocks, got " + Describe(*value));
      return connectors;
    }
    std::set<std::string> names;
    for (size_t i = 0; i < array->size(); ++i) {
      const std::string path = "connectors[" + std::to_string(i) + "]";
      auto config =
          ReadBlock(array->get(static_cast<unsigned>(i)), path, catalog, registry, problems);
      if (!config) continue;
      if (!names.insert(config->name).second) {
        Report(problems, Child(path, "name"),
               Quote(config->name) + " is used by another connector; give each a unique name");
        continue;
      }
      connectors.push_back(std::move(*config));
    }
  }
  CheckModes(connectors, catalog, registry, problems, warnings);
  return connectors;
}

std::optional<std::string> ReadSecret(const Var& value, std::string_view path, Problems& problems) {
  if (value.isString()) {
    std::string text = value.extract<std::string>();
    if (text.empty())
      Report(problems, path, "is empty (a secret, {\"env\": NAME} or {\"file\": PATH})");
    return text.empty() ? std::nullopt : std::optional<std::string>(text);
  }
  Object::Ptr object = AsObject(value);
  if (!object || object->size() != 1 || !(object->has("env") || object->has("file"))) {
    Report(problems, path,
           "must be a string, {\"env\": \"NAME\"} or {\"file\": \"PATH\"}, got " + Describe(value));
    return std::nullopt;
  }
  if (object->has("env")) {
    auto name = ReadString(object->get("env"), Child(path, "env"), problems);
    if (!name) return std::nullopt;
    const char* text = std::getenv(name->c_str());
    if (text == nullptr || *text == '\0') {
      Report(problems, Child(path, "env"), "environment variable " + Quote(*name) + " is not set");
      return std::nullopt;
    }
    return std::string(text);
  }
  auto file = ReadString(object->get("file"), Child(path, "file"), problems);
  if (!file) return std::nullopt;
  std::ifstream in(*file, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    Report(problems, Child(path, "file"), Quote(*file) + " cannot be read");
    return std::nullopt;
  }
  std::string secret = text.str();
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) {
    Report(problems, Child(path, "file"), Quote(*file) + " is empty");
    return std::nullopt;
  }
  return secret;
}

std::optional<Object> StateMapping(const reasoncodes::State& state, std::string_view type) {
  auto found = state.mappings.find(type);
  if (found == state.mappings.end()) return std::nullopt;
  Object block;
  for (const auto& [name, value] : found->second) block.set(name, MappingVar(value));
  return block;
}

void ForEachStateMapping(
    const Catalog& catalog, std::string_view type,
    const std::function<void(const Object& block, const std::string& path)>& check) {
  const std::vector<reasoncodes::State>& states = catalog.states();
  for (size_t i = 0; i < states.size(); ++i) {
    if (std::optional<Object> block = StateMapping(states[i], type)) {
      check(*block, "states[" + std::to_string(i) + "].mappings." + std::string(type));
    }
  }
}

void RefuseStateMappings(const Catalog& catalog, std::string_view type, std::string_view why,
                         Problems& problems) {
  ForEachStateMapping(catalog, type, [&](const Object& block, const std::string& path) {
    for (const auto& entry : block) {
      Report(problems, Child(path, entry.first),
             "unknown key (" + std::string(type) +
                 " takes no per-state settings: " + std::string(why) + ")");
    }
  });
}

std::optional<std::string> ReadHttpUrl(const Var& value, std::string_view path,
                                       Problems& problems) {
  std::optional<std::string> text = ReadString(value, path, problems);
  if (!text) return std::nullopt;
  try {
    Poco::URI uri(*text);
    if ((uri.getScheme() == "http" || uri.getScheme() == "https") && !uri.getHost().empty()) {
      return text;
    }
  } catch (const Poco::Exception&) {
  }
  Report(problems, path, Quote(*text) + " is not an http:// or https:// URL with a host");
  return std::nullopt;
}

}  // namespace presence::connectors
