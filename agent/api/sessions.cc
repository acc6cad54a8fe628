#include "agent/api/sessions.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/config/config.h"

namespace presence::agent {
namespace {

// A sliding expiry need not be written on every request: once a minute per session is enough.
constexpr auto kSaveEvery = std::chrono::minutes(1);
// Bounds, so no token can grow the table (and the file rewritten on every open) without end:
// a supervisor rarely has more than a few browsers open.
constexpr size_t kMaxPerToken = 20;
constexpr size_t kMaxSessions = 2000;

int64_t ToMillis(SessionStore::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

bool SessionStore::Persist(const std::string& path, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  path_ = path;
  std::ifstream in(path);
  if (!in) return !std::filesystem::exists(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id_hash, token_hash;
    int64_t last_used_ms = 0;
    if (!(fields >> id_hash >> token_hash >> last_used_ms)) continue;
    const Clock::time_point last_used{std::chrono::milliseconds(last_used_ms)};
    if (now - last_used > idle_limit_) continue;
    sessions_[id_hash] = Entry{token_hash, last_used, last_used};
  }
  return true;
}

std::string SessionStore::Open(const std::string& token_hash, Clock::time_point now) {
  std::string id = NewToken();
  std::lock_guard<std::mutex> lock(mutex_);
  if (++opens_since_prune_ >= 256) Prune(now);
  EvictOldest(token_hash, kMaxPerToken - 1);
  EvictOldest(std::nullopt, kMaxSessions - 1);
  sessions_[TokenHash(id)] = Entry{token_hash, now, now};
  Save();
  return id;
}

std::optional<std::string> SessionStore::Use(const std::string& session_id, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(TokenHash(session_id));
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_used > idle_limit_) {
    sessions_.erase(it);
    Save();
    return std::nullopt;
  }
  it->second.last_used = now;
  if (now - it->second.last_saved > kSaveEvery) Save();
  return it->second.token_hash;
}

void SessionStore::Close(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sessions_.erase(TokenHash(session_id)) > 0) Save();
}

void SessionStore::DropTokens(const std::vector<std::string>& token_hashes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t dropped = std::erase_if(sessions_, [&token_hashes](const auto& entry) {
    return std::find(token_hashes.begin(), token_hashes.end(), entry.second.token_hash) !=
           token_hashes.end();
  });
  if (dropped > 0) Save();
}

void SessionStore::EvictOldest(const std::optional<std::string>& token_hash, size_t keep) {
  for (;;) {
    auto oldest = sessions_.end();
    size_t count = 0;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (token_hash && it->second.token_hash != *token_hash) continue;
      ++count;
      if (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used) oldest = it;
    }
    if (count <= keep) return;
    sessions_.erase(oldest);
  }
}

void SessionStore::Prune(Clock::time_point now) {
  opens_since_prune_ = 0;
  std::erase_if(sessions_,
                [&](const auto& entry) { return now - entry.second.last_used > idle_limit_; });
}

// Writes the whole table to a temporary file and renames it over the old one, so a crash
// leaves either the old or the new table. A failure only costs sessions at the next restart.
void SessionStore::Save() {
  if (path_.empty()) return;
  const std::string temp = path_ + ".tmp";
  const mode_t old_mask = umask(077);
  std::remove(temp.c_str());  // so the new file is created with the mask, mode 0600
  bool written = false;
  {
    std::ofstream out(temp, std::ios::trunc);
    for (auto& [id_hash, entry] : sessions_) {
      out << id_hash << ' ' << entry.token_hash << ' ' << ToMillis(entry.last_used) << '\n';
      entry.last_saved = entry.last_used;
    }
    out.flush();
    written = out.good();
  }
  umask(old_mask);
  // A failed write must not replace the good file.
  if (written) std::rename(temp.c_str(), path_.c_str());
}

}  // namespace presence::agent
