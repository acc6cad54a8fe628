#pragma once

// Pure arithmetic on intervals shared by every TimeStore implementation, so all of them clip,
// split and group time the same way. No I/O, no clock.

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "tracking/ledger_types.h"

namespace presence::tracking {

// Milliseconds of [start, end) inside [from, to); zero when they do not meet or either range is
// empty or inverted.
Millis Overlap(Timestamp start, Timestamp end, Timestamp from, Timestamp to);

// The first UTC midnight at or after t.
Timestamp UtcDayCeil(Timestamp t);

// [start, end) cut at UTC midnights: one entry per UTC day it touches with the time spent in
// that day. Empty when end <= start, so zero-length intervals add nothing.
struct DayShare {
  int64_t day = 0;  // UtcDayNumber
  Millis duration{0};
};
std::vector<DayShare> SplitAtUtcMidnights(Timestamp start, Timestamp end);

// Whether an interval belongs in TimeStore::Intervals(from, to): it started inside [from, to)
// (zero-length ones included: they record what happened), or started before `from` and was
// still running at `from`.
bool InIntervalsRange(const Interval& interval, Timestamp from, Timestamp to);

// The end an interval counts to in a totals query: its own end, or min(now, to) while open.
Timestamp CountedEnd(const Interval& interval, const TotalsQuery& query);

// The error Commit returns for a change dated before the user's open interval started.
Error OutOfOrderError(const Change& change, Timestamp open_start);

// Sums time per (agent, label, status) and hands the groups back in report order.
class TotalsBuilder {
 public:
  void Add(const std::string& agent, const std::string& label, StatusCode status, Millis time);

  // Ordered by agent, label, status; groups that sum to zero are left out.
  std::vector<Total> Finish() const;

 private:
  std::map<std::tuple<std::string, std::string, int>, Millis> sums_;
};

}  // namespace presence::tracking
