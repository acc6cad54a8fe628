#pragma once

// Browser sessions for the dashboard: POST /api/v1/session exchanges a token for an HttpOnly
// cookie, so the token never sits in a URL, in page script or in logs. A session remembers
// which token opened it (by hash) and is re-checked against the configuration on every use:
// removing the token from the configuration ends its sessions at the next reload.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace presence::agent {

class SessionStore {
 public:
  explicit SessionStore(std::chrono::seconds idle_limit = std::chrono::hours(12))
      : idle_limit_(idle_limit) {}

  // A new session for the token with this hash; returns the session id (random, 43 chars).
  std::string Open(const std::string& token_hash, std::chrono::steady_clock::time_point now);
  // The token hash behind a live session, sliding its expiry; nullopt if unknown or expired.
  std::optional<std::string> Use(const std::string& session_id,
                                 std::chrono::steady_clock::time_point now);
  void Close(const std::string& session_id);

 private:
  struct Entry {
    std::string token_hash;
    std::chrono::steady_clock::time_point last_used;
  };
  void Prune(std::chrono::steady_clock::time_point now);  // with mutex_ held

  std::chrono::seconds idle_limit_;
  std::mutex mutex_;  // sessions are opened and checked rarely compared to events
  std::unordered_map<std::string, Entry> sessions_;
  size_t opens_since_prune_ = 0;
};

}  // namespace presence::agent
