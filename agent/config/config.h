#pragma once

// The agent's configuration file (JSON): the catalog ("settings", "states", and "profiles" and
// "actions", see reasoncodes/actions.h), the service ("server"), the people ("users"), API
// tokens ("tokens") and the connectors to other systems ("connectors", see
// connectors/connector_config.h), and the CRM time-tracking sync ("crm_sync", see
// connectors/crm_sync/time_tracking_sync.h), and the service's log ("logging"). Every problem in
// the file is reported at once; an unknown key is a problem.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "connectors/connector_config.h"
#include "connectors/crm_sync/time_tracking_sync.h"
#include "reasoncodes/catalog.h"
#include "reasoncodes/user.h"
#include "tracking/time_store.h"

namespace presence::agent {

enum class Role { kAgent, kIntegration, kSupervisor, kAdmin };
std::string_view RoleName(Role role);  // "agent", "integration", "supervisor", "admin"

using User = reasoncodes::User;

// An API token as stored: only the SHA-256 of the token, never the token.
struct TokenEntry {
  std::string name;
  Role role = Role::kAgent;
  std::string user;    // the one user an agent token acts for
  std::string sha256;  // lowercase hex of SHA-256(token)
};

struct TlsSettings {
  std::string certificate;  // PEM file
  std::string private_key;  // PEM file
};

struct ServerSettings {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (printed at start)
  std::string data_dir = "var";       // the ledger is data_dir/presence.db (relative to the cwd)
  int workers = 64;                   // HTTP threads for the routes that may block (reports...)
  int max_viewers = 5000;             // live-stream connections (not threads)
  int viewer_buffer_bytes = 1 << 20;  // a viewer further behind than this is disconnected
  int max_body_bytes = 64 * 1024;
  // Hostile and broken clients (see README, Limits).
  int io_timeout_seconds = 10;  // a request must arrive within this of its first byte, and an
                                // answer must make progress within it, or the connection ends
  int keep_alive_seconds = 60;  // an idle connection between requests is closed after this
  int max_connections_per_client = 32;  // HTTP connections per client address; 0: no limit
  int max_streams_per_agent_token = 4;  // live streams one agent token may hold open
  int auth_failures_per_minute = 10;    // bad credentials per client address, then 429; 0: off
  int stream_history_bytes = 16 << 20;  // memory for updates kept for resuming viewers
  // Origins (scheme://host[:port], lowercase, default port left out) whose pages may open the
  // WebSocket besides the one the request was made to.
  std::vector<std::string> allowed_origins;
  // Origins (as allowed_origins) of sites that may show the agent page (/agent/) in a frame, a
  // softphone panel: its answers then carry "frame-ancestors 'self' <origins>". Empty: no site.
  std::vector<std::string> frame_ancestors;
  // "power_loss" (default: every acknowledged change is synced to disk) or "process_crash"
  // (survives kill -9 and agent crashes, not machine crashes; faster on slow disks).
  tracking::Durability durability = tracking::Durability::kPowerLoss;
  std::optional<TlsSettings> tls;
};

struct Config {
  std::shared_ptr<const reasoncodes::Catalog> catalog;
  ServerSettings server;
  std::vector<User> users;  // in file order
  std::vector<TokenEntry> tokens;
  std::vector<connectors::ConnectorConfig> connectors;  // in file order
  std::string connectors_text;  // the "connectors" block as written, to notice edits on reload
  // settings.time_zone, checked against tzdata: report days and buckets, CRM sync days.
  tracking::ReportZone zone = tracking::ReportZone::Utc();
  // The "crm_sync" block; only with settings.time_tracking on (time_tracking_sync.h).
  std::optional<connectors::CrmSyncConfig> crm_sync;
  std::string crm_sync_text;  // as written, to notice edits on reload
  // The "logging" block: the service's log format and level (a reload applies them).
  LogSettings logging;

  // By index while `users` and `tokens` are as the loader (or Index) left them, so a floor of
  // 100,000 users costs one lookup per request, not a scan; a configuration built or changed
  // by hand is searched in order until Index is called again.
  const User* FindUser(const std::string& id) const;
  const TokenEntry* FindTokenHash(const std::string& sha256) const;
  void Index();  // after changing users or tokens
  // Appends and indexes (the loader).
  void AddUser(User user);
  void AddToken(TokenEntry token);

 private:
  std::unordered_map<std::string, size_t> user_index_;
  std::unordered_map<std::string, size_t> token_index_;
};

struct ConfigLoad {
  std::shared_ptr<Config> config;     // set when there are no problems
  std::vector<std::string> problems;  // "path: what is wrong (what is allowed)"
  std::vector<std::string> warnings;  // loads, but probably not what was meant
  bool ok() const { return config != nullptr && problems.empty(); }
};

// The most a configuration file may hold; a larger one (or an endless device) is refused.
inline constexpr std::size_t kMaxConfigFileBytes = 16 << 20;

// The file's text. Errors: "unreadable" (missing, not permitted, a read error) and
// "too_large" (over kMaxConfigFileBytes; read no further than that); the message starts with
// the path.
Result<std::string> ReadConfigFile(const std::string& path);

ConfigLoad LoadConfigText(const std::string& json_text);
// ReadConfigFile, then LoadConfigText; a read error is the one problem.
ConfigLoad LoadConfigFile(const std::string& path);

// SHA-256 of a token as lowercase hex: what the "tokens" entries store.
std::string TokenHash(const std::string& token);
// A new random token: 32 bytes from the system's random source, base64url (43 characters).
std::string NewToken();

}  // namespace presence::agent
