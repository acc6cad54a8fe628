#pragma once

// Slows down guessing: a client address whose credentials (bearer token, session cookie) were
// wrong `limit` times within a minute is refused (429 with Retry-After) until that minute is
// over, before its credentials are even looked at, so it cannot tell a right guess from a
// wrong one meanwhile. Nothing waits: the answer is immediate and holds no worker thread.
//
// Addresses are compared as given (one IPv6 client can change its address within its /64).
// Behind a reverse proxy every client has the proxy's address: there the proxy should limit,
// and `limit` 0 turns this off. At most `max_clients` addresses are remembered; past that the
// oldest window is forgotten first.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/time.h"

namespace presence::agent {

class AuthThrottle {
 public:
  static constexpr std::chrono::seconds kWindow{60};

  // `clock` outlives the throttle.
  explicit AuthThrottle(const Clock& clock, size_t max_clients = 10000)
      : clock_(clock), max_clients_(max_clients) {}
  AuthThrottle(const AuthThrottle&) = delete;
  AuthThrottle& operator=(const AuthThrottle&) = delete;

  // Before checking credentials: how long `client` must wait (whole seconds, at least 1) when
  // it has `limit` failures in its current window, else nullopt. A refusal is counted in
  // throttled(). `limit` 0: never. Thread-safe.
  std::optional<std::chrono::seconds> Refuse(const std::string& client, int limit);
  // Counts a failed authentication of `client` (in failures(), and in its window when `limit`
  // is not 0). Thread-safe.
  void Failed(const std::string& client, int limit);

  // Whether any address has a window open: while none has (nearly always), Refuse answers
  // without the clock, the lock or the caller formatting its address. Thread-safe.
  bool Watching() const { return watched_.load(std::memory_order_relaxed) != 0; }

  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t throttled() const { return throttled_.load(std::memory_order_relaxed); }
  size_t tracked() const;  // addresses remembered now

 private:
  struct Window {
    Timestamp start;  // the first failure of the window
    int failures = 0;
  };
  void MakeRoom(Timestamp now);  // with mutex_ held
  void Counted() { watched_.store(windows_.size(), std::memory_order_relaxed); }  // mutex_ held

  const Clock& clock_;
  const size_t max_clients_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::atomic<size_t> watched_{0};  // windows_.size(), for Watching
  Timestamp next_sweep_{};          // when Refuse next forgets finished windows
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> throttled_{0};
};

}  // namespace presence::agent
