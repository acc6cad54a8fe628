#pragma once

// A read of a ledger's pre-aggregated time (tracking/day_aggregate.h) together with the
// intervals a report needs at its edges, all from one consistent snapshot, so the aggregates
// and the intervals agree. Obtained from TimeStore::OpenAggregates; used by one thread; the
// snapshot lasts until the object is destroyed (on SQLite: one read transaction on a
// connection of its own, so it holds up neither the writer nor other readers).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "tracking/ledger_types.h"

namespace presence::tracking {

// A state as reports group time: the day blobs name it by its id.
struct StateKey {
  int64_t id = 0;
  std::string label;
  std::string reason_code;
  StatusCode status = StatusCode::kOnline;
};

class AggregateSnapshot {
 public:
  virtual ~AggregateSnapshot() = default;

  // Every state the day blobs may name.
  virtual Result<std::vector<StateKey>> States() = 0;

  // The user's open interval in this snapshot; nullopt when the user has none. Its time is
  // never in the aggregates (they hold closed time only).
  virtual Result<std::optional<Interval>> OpenInterval(const std::string& agent) = 0;

  // The user's intervals overlapping [from, to), with the rule of TimeStore::Intervals, in
  // start-then-id order. `visit` returning false stops the read (Ok).
  virtual Status Intervals(const std::string& agent, Timestamp from, Timestamp to,
                           const std::function<bool(const Interval&)>& visit) = 0;

  // The user's stored days in [first_day, end_day) (UtcDayNumber), ascending: each day's blob,
  // valid during the call. Days without closed time have no blob. `visit` returning false stops.
  virtual Status Days(const std::string& agent, int64_t first_day, int64_t end_day,
                      const std::function<bool(int64_t day, std::string_view blob)>& visit) = 0;
};

}  // namespace presence::tracking
