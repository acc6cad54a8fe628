#pragma once

// Browser sessions for the dashboard: POST /api/v1/session exchanges a token for an HttpOnly
// cookie, so the token never sits in a URL, in page script or in logs. A session remembers
// which token opened it (by hash) and is re-checked against the configuration on every use:
// removing the token from the configuration ends its sessions at the next reload.
//
// With Persist(file), sessions survive a restart: a dashboard reconnecting to the restarted
// service keeps its session. The file holds, per session, the SHA-256 of its id (never the id
// itself, so the file opens no session), the token hash and the last use; mode 0600.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace presence::agent {

class SessionStore {
 public:
  using Clock = std::chrono::system_clock;  // wall time: expiry must hold across restarts

  explicit SessionStore(std::chrono::seconds idle_limit = std::chrono::hours(12))
      : idle_limit_(idle_limit) {}

  // Loads the sessions kept in `path` (if it exists) and keeps them there from now on.
  // Returns false when the file exists but cannot be read (sessions then start empty).
  bool Persist(const std::string& path, Clock::time_point now);

  // A new session for the token with this hash; returns the session id (random, 43 chars).
  std::string Open(const std::string& token_hash, Clock::time_point now);
  // The token hash behind a live session, sliding its expiry; nullopt if unknown or expired.
  std::optional<std::string> Use(const std::string& session_id, Clock::time_point now);
  void Close(const std::string& session_id);
  // Ends every session opened with one of these tokens (removed by a reload), so they stay
  // ended should the same token be configured again.
  void DropTokens(const std::vector<std::string>& token_hashes);

 private:
  struct Entry {
    std::string token_hash;
    Clock::time_point last_used;
    Clock::time_point last_saved;  // the last_used the file holds
  };
  void Prune(Clock::time_point now);  // with mutex_ held
  // Drops the least recently used sessions (of one token, or of all) until `keep` remain.
  void EvictOldest(const std::optional<std::string>& token_hash, size_t keep);
  void Save();  // with mutex_ held; no-op without a file

  std::chrono::seconds idle_limit_;
  std::mutex mutex_;  // sessions are opened and checked rarely compared to events
  std::unordered_map<std::string, Entry> sessions_;  // by SHA-256 of the session id
  size_t opens_since_prune_ = 0;
  std::string path_;
};

}  // namespace presence::agent
