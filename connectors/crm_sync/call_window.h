#pragma once

// REST calls counted over a rolling 24 hours, for the CRM sync's API budget
// (time_tracking_sync.h): the org's daily allocation is shared with every integration, and
// exhausting it blocks all of them (field-notes "API limits").

#include <chrono>
#include <cstdint>
#include <map>

#include "common/time.h"

namespace presence::connectors {

// Calls are kept in one-minute buckets, so memory stays bounded whatever the budget. A call
// stays counted from its minute until 24 hours after the end of that minute: between 24 h and
// 24 h + 1 min, never less, so no true 24-hour window ever holds more than the count allows.
// Not thread-safe.
class CallWindow {
 public:
  static constexpr std::chrono::minutes kSpan{24 * 60};

  void Add(Timestamp at, long long calls);
  // Calls still counted at `now`.
  long long Count(Timestamp now) const;
  // The first moment from `now` on at which fewer than `budget` calls are counted (`now`
  // itself when that is already so).
  Timestamp ReopensAt(Timestamp now, long long budget) const;

 private:
  static int64_t MinuteOf(Timestamp t);
  // The first moment the bucket of `minute` is no longer counted.
  static Timestamp ExpiresAt(int64_t minute);

  std::map<int64_t, long long> buckets_;  // minute since the epoch -> calls
};

}  // namespace presence::connectors
