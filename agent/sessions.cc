#include "agent/sessions.h"

#include "agent/config.h"

namespace presence::agent {

std::string SessionStore::Open(const std::string& token_hash,
                               std::chrono::steady_clock::time_point now) {
  std::string id = NewToken();
  std::lock_guard<std::mutex> lock(mutex_);
  if (++opens_since_prune_ >= 256) Prune(now);
  sessions_[id] = Entry{token_hash, now};
  return id;
}

std::optional<std::string> SessionStore::Use(const std::string& session_id,
                                             std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_used > idle_limit_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.token_hash;
}

void SessionStore::Close(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(session_id);
}

void SessionStore::Prune(std::chrono::steady_clock::time_point now) {
  opens_since_prune_ = 0;
  std::erase_if(sessions_,
                [&](const auto& entry) { return now - entry.second.last_used > idle_limit_; });
}

}  // namespace presence::agent
