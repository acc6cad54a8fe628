#include "connectors/http/token_cache.h"

namespace presence::connectors {

Result<AccessToken> TokenCache::Get() {
  // Held while fetching: the other workers wait for this one token instead of each asking.
  std::lock_guard<std::mutex> lock(mutex_);
  if (token_ && (!token_->expires_at || clock_.Now() + margin_ < *token_->expires_at)) {
    return *token_;
  }
  token_.reset();
  ++fetches_;
  Result<AccessToken> fetched = fetch_();
  if (fetched.ok()) token_ = *fetched;
  return fetched;
}

void TokenCache::Invalidate(const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (token_ && token_->value == value) token_.reset();
}

}  // namespace presence::connectors
