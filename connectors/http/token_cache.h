#pragma once

// An OAuth access token shared by a connector's delivery workers: fetched once, reused until
// shortly before it expires (or until the remote system says it is no longer valid), then
// fetched again by exactly one worker while the others wait for it.

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/time.h"
#include "connectors/connector.h"

namespace presence::connectors {

struct AccessToken {
  std::string value;
  std::optional<Timestamp> expires_at;  // nullopt: valid until refused (Salesforce)
  std::string instance_url;             // Salesforce: where the org's REST API lives
};

class TokenCache {
 public:
  using Fetch = std::function<Result<AccessToken>()>;
  // Renewed `margin` before expires_at.
  TokenCache(const Clock& clock, Fetch fetch, Millis margin = Millis(300000))
      : clock_(clock), fetch_(std::move(fetch)), margin_(margin) {}

  // The cached token, or a new one. Thread-safe.
  Result<AccessToken> Get();
  // The remote system refused `value` (401): the next Get fetches a new token, unless another
  // worker already replaced it.
  void Invalidate(const std::string& value);
  // Tokens asked for so far (for status and tests). Never waits for a fetch under way.
  int fetches() const { return fetches_.load(); }

 private:
  const Clock& clock_;
  Fetch fetch_;
  Millis margin_;
  mutable std::mutex mutex_;
  std::optional<AccessToken> token_;
  std::atomic<int> fetches_{0};
};

}  // namespace presence::connectors
