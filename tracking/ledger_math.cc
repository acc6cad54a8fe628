#include "tracking/ledger_math.h"

#include <algorithm>

namespace presence::tracking {

Millis Overlap(Timestamp start, Timestamp end, Timestamp from, Timestamp to) {
  Timestamp lo = std::max(start, from);
  Timestamp hi = std::min(end, to);
  return hi > lo ? hi - lo : Millis(0);
}

Timestamp UtcDayCeil(Timestamp t) {
  Timestamp floor = UtcDayStart(t);
  return floor == t ? t : floor + std::chrono::days(1);
}

std::vector<DayShare> SplitAtUtcMidnights(Timestamp start, Timestamp end) {
  std::vector<DayShare> shares;
  for (Timestamp cursor = start; cursor < end;) {
    Timestamp next_midnight = UtcDayStart(cursor) + std::chrono::days(1);
    Timestamp stop = std::min(next_midnight, end);
    shares.push_back({UtcDayNumber(cursor), stop - cursor});
    cursor = stop;
  }
  return shares;
}

bool InIntervalsRange(const Interval& interval, Timestamp from, Timestamp to) {
  if (to <= from) return false;
  if (interval.start >= from) return interval.start < to;
  return !interval.end || *interval.end > from;
}

Timestamp CountedEnd(const Interval& interval, const TotalsQuery& query) {
  return interval.end ? *interval.end : std::min(query.now, query.to);
}

Error OutOfOrderError(const Change& change, Timestamp open_start) {
  return Error{"out_of_order",
               "change for agent '" + change.agent + "' at " + FormatTime(change.at) +
                   " is before its open interval started at " + FormatTime(open_start) +
                   "; nothing from this batch was written"};
}

void TotalsBuilder::Add(const std::string& agent, const std::string& label, StatusCode status,
                        Millis time) {
  if (time == Millis(0)) return;
  sums_[{agent, label, reasoncodes::ToInt(status)}] += time;
}

std::vector<Total> TotalsBuilder::Finish() const {
  std::vector<Total> totals;
  totals.reserve(sums_.size());
  for (const auto& [key, time] : sums_) {
    if (time == Millis(0)) continue;
    const auto& [agent, label, status] = key;
    totals.push_back({agent, label, static_cast<StatusCode>(status), time});
  }
  return totals;
}

}  // namespace presence::tracking
