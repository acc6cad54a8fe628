#include "agent/config/config.h"

#include <Poco/JSON/Parser.h>
#include <Poco/RandomStream.h>
#include <Poco/SHA2Engine.h>

#include <array>
#include <fstream>
#include <set>

#include "common/base64.h"
#include "common/enum_names.h"
#include "common/json_read.h"
#include "common/poco_json.h"
#include "common/web_origin.h"
#include "connectors/builtin/builtin_connectors.h"
#include "reasoncodes/actions_loader.h"
#include "reasoncodes/catalog_loader.h"

namespace presence::agent {
namespace {

using namespace json;  // the json_read helpers (common/json_read.h)

constexpr std::array<std::string_view, 10> kTopLevelKeys = {
    "settings",   "states",   "server",   "users",   "tokens",
    "connectors", "crm_sync", "profiles", "actions", "logging"};
constexpr std::array<std::string_view, 17> kServerKeys = {"listen",
                                                          "data_dir",
                                                          "workers",
                                                          "max_viewers",
                                                          "viewer_buffer_bytes",
                                                          "max_body_bytes",
                                                          "tls",
                                                          "port",
                                                          "durability",
                                                          "io_timeout_seconds",
                                                          "keep_alive_seconds",
                                                          "max_connections_per_client",
                                                          "max_streams_per_agent_token",
                                                          "auth_failures_per_minute",
                                                          "stream_history_bytes",
                                                          "allowed_origins",
                                                          "frame_ancestors"};
constexpr EnumNames<tracking::Durability, 2> kDurability = {{
    {tracking::Durability::kPowerLoss, "power_loss"},
    {tracking::Durability::kProcessCrash, "process_crash"},
}};
constexpr std::array<std::string_view, 2> kLoggingKeys = {"format", "level"};
constexpr std::array<std::string_view, 2> kTlsKeys = {"certificate", "private_key"};
constexpr std::array<std::string_view, 8> kUserKeys = {
    "id", "name", "extension", "team", "identities", "profile", "fields", "actions"};
constexpr std::array<std::string_view, 4> kTokenKeys = {"name", "role", "user", "sha256"};
constexpr EnumNames<Role, 4> kRoles = {{
    {Role::kAgent, "agent"},
    {Role::kIntegration, "integration"},
    {Role::kSupervisor, "supervisor"},
    {Role::kAdmin, "admin"},
}};

bool IsIdCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
         c == '-';
}

// "host:port" or ":port" or "port".
void ReadListen(const Var& value, ServerSettings& server, Problems& problems) {
  std::optional<std::string> text = ReadString(value, "server.listen", problems);
  if (!text) return;
  std::string host = server.host;
  std::string port_text = *text;
  if (size_t colon = text->rfind(':'); colon != std::string::npos) {
    host = text->substr(0, colon);
    port_text = text->substr(colon + 1);
  }
  bool digits = !port_text.empty() && port_text.size() <= 5 &&
                std::all_of(port_text.begin(), port_text.end(), ::isdigit);
  if (!digits || std::stoi(port_text) > 65535) {
    Report(problems, "server.listen",
           Quote(*text) + " is not an address (host:port, port 0-65535; 0 picks a free port)");
    return;
  }
  server.host = host.empty() ? "0.0.0.0" : host;
  server.port = std::stoi(port_text);
}

void ReadTls(const Var& value, ServerSettings& server, Problems& problems) {
  Object::Ptr tls = AsObject(value);
  if (!tls) {
    Report(problems, "server.tls", "must be an object with certificate and private_key");
    return;
  }
  CheckKeys(*tls, "server.tls", kTlsKeys, problems);
  TlsSettings settings;
  for (auto [key, field] : {std::pair{"certificate", &TlsSettings::certificate},
                            std::pair{"private_key", &TlsSettings::private_key}}) {
    std::string path = Child("server.tls", key);
    if (!tls->has(key)) {
      Report(problems, path, "required (a PEM file)");
    } else if (auto text = ReadString(tls->get(key), path, problems)) {
      settings.*field = *text;
    }
  }
  server.tls = settings;
}

// "https://dashboard.example.com" or "http://10.0.0.5:8080": kept as browsers send the Origin
// header (RFC 6454 6.1): lowercase, without a default port, no path. `key` is the list's name
// under "server" (allowed_origins, frame_ancestors).
std::vector<std::string> ReadOrigins(const Var& value, const std::string& key, Problems& problems) {
  std::vector<std::string> list;
  const std::string place = "server." + key;
  Array::Ptr origins = AsArray(value);
  if (!origins) {
    Report(problems, place, "must be an array of origins like \"https://dashboard.example.com\"");
    return list;
  }
  for (size_t i = 0; i < origins->size(); ++i) {
    const std::string path = place + "[" + std::to_string(i) + "]";
    std::optional<std::string> text =
        ReadString(origins->get(static_cast<unsigned>(i)), path, problems);
    if (!text) continue;
    std::optional<std::string> origin = NormalOrigin(*text);
    if (!origin) {
      const std::string allowed = "(http:// or https://, a host, an optional port, no path)";
      Report(problems, path, Quote(*text) + " is not an origin " + allowed);
      continue;
    }
    list.push_back(*origin);
  }
  return list;
}

void ReadServer(const Var& value, ServerSettings& server, Problems& problems) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, "server", "must be an object, got " + Describe(value));
    return;
  }
  CheckKeys(*object, "server", kServerKeys, problems);
  if (object->has("listen")) ReadListen(object->get("listen"), server, problems);
  if (object->has("port")) {
    if (auto port = ReadNumberInRange(object->get("port"), "server.port", 0, 65535, problems)) {
      server.port = static_cast<int>(*port);
    }
  }
  if (object->has("data_dir")) {
    if (auto dir = ReadString(object->get("data_dir"), "server.data_dir", problems)) {
      if (dir->empty()) Report(problems, "server.data_dir", "must not be empty");
      server.data_dir = *dir;
    }
  }
  struct Limit {
    std::string_view key;
    int ServerSettings::*field;
    long long min, max;
  };
  for (const Limit& limit :
       {Limit{"workers", &ServerSettings::workers, 2, 1024},
        Limit{"max_viewers", &ServerSettings::max_viewers, 1, 100000},
        Limit{"viewer_buffer_bytes", &ServerSettings::viewer_buffer_bytes, 4096, 64 << 20},
        Limit{"max_body_bytes", &ServerSettings::max_body_bytes, 1024, 16 << 20},
        Limit{"io_timeout_seconds", &ServerSettings::io_timeout_seconds, 1, 300},
        Limit{"keep_alive_seconds", &ServerSettings::keep_alive_seconds, 1, 3600},
        Limit{"max_connections_per_client", &ServerSettings::max_connections_per_client, 0, 1024},
        Limit{"max_streams_per_agent_token", &ServerSettings::max_streams_per_agent_token, 1, 1000},
        Limit{"auth_failures_per_minute", &ServerSettings::auth_failures_per_minute, 0, 100000},
        Limit{"stream_history_bytes", &ServerSettings::stream_history_bytes, 64 << 10, 1 << 30}}) {
    std::string key(limit.key);
    if (!object->has(key)) continue;
    auto number =
        ReadNumberInRange(object->get(key), Child("server", key), limit.min, limit.max, problems);
    if (number) server.*limit.field = static_cast<int>(*number);
  }
  if (object->has("tls")) ReadTls(object->get("tls"), server, problems);
  if (object->has("allowed_origins")) {
    server.allowed_origins =
        ReadOrigins(object->get("allowed_origins"), "allowed_origins", problems);
  }
  if (object->has("frame_ancestors")) {
    server.frame_ancestors =
        ReadOrigins(object->get("frame_ancestors"), "frame_ancestors", problems);
  }
  if (object->has("durability")) {
    auto durability = ReadChoice(object->get("durability"), "server.durability",
                                 "a durability level", kDurability, problems);
    if (durability) server.durability = *durability;
  }
}

// {"format": "text" | "json", "level": "debug" | "info" | "warning" | "error"}
void ReadLogging(const Var& value, LogSettings& logging, Problems& problems) {
  Object::Ptr object = AsObject(value);
  if (!object) {
    Report(problems, "logging", "must be an object, got " + Describe(value));
    return;
  }
  CheckKeys(*object, "logging", kLoggingKeys, problems);
  if (object->has("format")) {
    auto format =
        ReadChoice(object->get("format"), "logging.format", "a log format", kLogFormats, problems);
    if (format) logging.format = *format;
  }
  if (object->has("level")) {
    auto level =
        ReadChoice(object->get("level"), "logging.level", "a log level", kLogLevels, problems);
    if (level) logging.level = *level;
  }
}

std::optional<User> ReadUser(const Object& object, const std::string& path, Problems& problems) {
  CheckKeys(object, path, kUserKeys, problems);
  User user;
  if (!object.has("id")) {
    Report(problems, Child(path, "id"), "required (1-64 of A-Z a-z 0-9 . _ @ -)");
    return std::nullopt;
  }
  auto id = ReadString(object.get("id"), Child(path, "id"), problems);
  if (!id) return std::nullopt;
  if (id->empty() || id->size() > 64 || !std::all_of(id->begin(), id->end(), IsIdCharacter)) {
    Report(problems, Child(path, "id"),
           Quote(*id) + " is not a user id (1-64 of A-Z a-z 0-9 . _ @ -)");
    return std::nullopt;
  }
  user.id = *id;
  for (auto [key, field] :
       {std::pair{"name", &User::name}, std::pair{"extension", &User::extension},
        std::pair{"team", &User::team}}) {
    if (!object.has(key)) continue;
    if (auto text = ReadString(object.get(key), Child(path, key), problems)) user.*field = *text;
  }
  if (user.name.empty()) user.name = user.id;
  if (object.has("identities")) {
    Object::Ptr identities = AsObject(object.get("identities"));
    if (!identities) {
      Report(problems, Child(path, "identities"),
             "must be an object of system name to id, e.g. {\"teams\": \"<guid>\"}");
    } else {
      for (const auto& [system, value] : *identities) {
        auto text = ReadString(value, Child(Child(path, "identities"), system), problems);
        if (text) user.identities[system] = *text;
      }
    }
  }
  reasoncodes::ReadUserActions(object, path, user, problems);
  return user;
}

// `paths` gets where each user of config.users was read, for the checks against the catalog.
void ReadUsers(const Var& value, Config& config, std::vector<std::string>& paths,
               Problems& problems) {
  Array::Ptr users = AsArray(value);
  if (!users) {
    Report(problems, "users", "must be an array of users, got " + Describe(value));
    return;
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < users->size(); ++i) {
    std::string path = "users[" + std::to_string(i) + "]";
    Object::Ptr object = AsObject(users->get(static_cast<unsigned>(i)));
    if (!object) {
      Report(problems, path, "must be an object with id, name, extension, team, identities");
      continue;
    }
    std::optional<User> user = ReadUser(*object, path, problems);
    if (!user) continue;
    if (auto [it, inserted] = seen.emplace(user->id, i); !inserted) {
      Report(problems, Child(path, "id"),
             Quote(user->id) + " is already the id of users[" + std::to_string(it->second) + "]");
      continue;
    }
    config.AddUser(std::move(*user));
    paths.push_back(path);
  }
}

std::optional<TokenEntry> ReadToken(const Object& object, const std::string& path,
                                    const Config& config, Problems& problems) {
  CheckKeys(object, path, kTokenKeys, problems);
  TokenEntry token;
  bool ok = true;
  for (const char* key : {"name", "role", "sha256"}) {
    if (!object.has(key)) {
      Report(problems, Child(path, key), "required");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  auto name = ReadString(object.get("name"), Child(path, "name"), problems);
  auto role = ReadChoice(object.get("role"), Child(path, "role"), "a role", kRoles, problems);
  auto hash = ReadString(object.get("sha256"), Child(path, "sha256"), problems);
  if (!name || !role || !hash) return std::nullopt;
  if (hash->size() != 64 || !std::all_of(hash->begin(), hash->end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
      })) {
    Report(problems, Child(path, "sha256"),
           "must be 64 lowercase hex digits (as printed by 'presence-agent token')");
    return std::nullopt;
  }
  token.name = *name;
  token.role = *role;
  token.sha256 = *hash;
  if (object.has("user")) {
    auto user = ReadString(object.get("user"), Child(path, "user"), problems);
    if (!user) return std::nullopt;
    if (!config.FindUser(*user)) {
      Report(problems, Child(path, "user"), Quote(*user) + " is not a configured user");
      return std::nullopt;
    }
    token.user = *user;
  }
  if (token.role == Role::kAgent && token.user.empty()) {
    Report(problems, Child(path, "user"), "required for an agent token (the user it acts for)");
    return std::nullopt;
  }
  return token;
}

void ReadTokens(const Var& value, Config& config, Problems& problems) {
  Array::Ptr tokens = AsArray(value);
  if (!tokens) {
    Report(problems, "tokens", "must be an array of tokens, got " + Describe(value));
    return;
  }
  for (size_t i = 0; i < tokens->size(); ++i) {
    std::string path = "tokens[" + std::to_string(i) + "]";
    Object::Ptr object = AsObject(tokens->get(static_cast<unsigned>(i)));
    if (!object) {
      Report(problems, path, "must be an object with name, role, user, sha256");
      continue;
    }
    if (auto token = ReadToken(*object, path, config, problems)) {
      if (config.FindTokenHash(token->sha256)) {
        Report(problems, Child(path, "sha256"), "the same token is listed twice");
        continue;
      }
      config.AddToken(std::move(*token));
    }
  }
}

// settings.time_zone against tzdata, and the "crm_sync" block, which needs time tracking on.
void ReadCalendarAndSync(const Object& root, const reasoncodes::Catalog& catalog, Config& config,
                         ConfigLoad& load) {
  const reasoncodes::Settings& settings = catalog.settings();
  Result<tracking::ReportZone> zone = tracking::ReportZone::Find(settings.time_zone);
  if (zone.ok()) {
    config.zone = *zone;
  } else {
    load.problems.push_back("settings.time_zone: " + zone.error().message);
  }
  if (!root.has("crm_sync")) return;
  Var block = root.get("crm_sync");
  config.crm_sync_text = json::JsonText(block);
  Object::Ptr object = AsObject(block);
  if (!object) {
    Report(load.problems, "crm_sync", "must be an object, got " + Describe(block));
    return;
  }
  config.crm_sync = connectors::ParseCrmSync(*object, "crm_sync", load.problems);
  if (!settings.time_tracking) {
    load.problems.push_back(
        "crm_sync: the CRM time-tracking sync needs settings.time_tracking set to true");
  }
}

}  // namespace

std::string_view RoleName(Role role) { return kRoles.Name(role); }

const User* Config::FindUser(const std::string& id) const {
  if (user_index_.size() == users.size()) {
    auto it = user_index_.find(id);
    if (it == user_index_.end() || it->second >= users.size()) return nullptr;
    const User& user = users[it->second];
    if (user.id == id) return &user;
  }
  for (const User& user : users) {
    if (user.id == id) return &user;
  }
  return nullptr;
}

const TokenEntry* Config::FindTokenHash(const std::string& sha256) const {
  if (token_index_.size() == tokens.size()) {
    auto it = token_index_.find(sha256);
    if (it == token_index_.end() || it->second >= tokens.size()) return nullptr;
    const TokenEntry& token = tokens[it->second];
    if (token.sha256 == sha256) return &token;
  }
  for (const TokenEntry& token : tokens) {
    if (token.sha256 == sha256) return &token;
  }
  return nullptr;
}

void Config::AddUser(User user) {
  const bool indexed = user_index_.size() == users.size();
  users.push_back(std::move(user));
  if (indexed) user_index_.emplace(users.back().id, users.size() - 1);
}

void Config::AddToken(TokenEntry token) {
  const bool indexed = token_index_.size() == tokens.size();
  tokens.push_back(std::move(token));
  if (indexed) token_index_.emplace(tokens.back().sha256, tokens.size() - 1);
}

void Config::Index() {
  user_index_.clear();
  token_index_.clear();
  for (size_t i = 0; i < users.size(); ++i) user_index_.emplace(users[i].id, i);
  for (size_t i = 0; i < tokens.size(); ++i) token_index_.emplace(tokens[i].sha256, i);
}

ConfigLoad LoadConfigText(const std::string& json_text) {
  ConfigLoad load;
  reasoncodes::CatalogLoad catalog = reasoncodes::LoadCatalogText(json_text);
  load.problems = catalog.problems;
  Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    root = AsObject(parser.parse(json_text));
  } catch (const Poco::Exception&) {
    return load;  // the catalog loader has reported the syntax error
  }
  if (!root) return load;
  auto config = std::make_shared<Config>();
  CheckKeys(*root, "config", kTopLevelKeys, load.problems);
  if (root->has("server")) ReadServer(root->get("server"), config->server, load.problems);
  if (root->has("logging")) ReadLogging(root->get("logging"), config->logging, load.problems);
  std::vector<std::string> user_paths;
  if (root->has("users")) ReadUsers(root->get("users"), *config, user_paths, load.problems);
  if (root->has("tokens")) ReadTokens(root->get("tokens"), *config, load.problems);
  if (!catalog.catalog) return load;
  reasoncodes::CheckUserActions(*catalog.catalog, config->users, user_paths, load.problems);
  if (root->has("connectors")) config->connectors_text = json::JsonText(root->get("connectors"));
  Var connectors = root->has("connectors") ? root->get("connectors") : Var();
  config->connectors =
      connectors::ReadConnectors(root->has("connectors") ? &connectors : nullptr, *catalog.catalog,
                                 connectors::BuiltinConnectors(), load.problems, load.warnings);
  ReadCalendarAndSync(*root, *catalog.catalog, *config, load);
  if (!load.problems.empty()) return load;
  config->catalog = std::make_shared<const reasoncodes::Catalog>(std::move(*catalog.catalog));
  load.config = std::move(config);
  return load;
}

Result<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"unreadable", path + ": cannot be read (missing or not permitted)"};
  // Read in pieces up to one byte past the limit: a device or a pipe has no size to ask for
  // (check-config -c /dev/zero would otherwise read until memory runs out).
  std::string text;
  char piece[64 * 1024];
  while (text.size() <= kMaxConfigFileBytes) {
    in.read(piece, sizeof piece);
    text.append(piece, static_cast<std::size_t>(in.gcount()));
    if (!in) break;
  }
  if (text.size() > kMaxConfigFileBytes) {
    return Error{"too_large", path + ": larger than " + std::to_string(kMaxConfigFileBytes >> 20) +
                                  " MiB, the limit for a configuration file"};
  }
  if (in.bad()) return Error{"unreadable", path + ": cannot be read (a read error)"};
  return text;
}

ConfigLoad LoadConfigFile(const std::string& path) {
  Result<std::string> text = ReadConfigFile(path);
  if (!text.ok()) {
    ConfigLoad load;
    load.problems.push_back(text.error().message);
    return load;
  }
  return LoadConfigText(*text);
}

std::string TokenHash(const std::string& token) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(token);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

std::string NewToken() {
  char bytes[32];
  Poco::RandomInputStream random;
  random.read(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(bytes, sizeof bytes));
}

}  // namespace presence::agent
