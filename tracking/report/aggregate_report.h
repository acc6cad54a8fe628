#pragma once

// Totals reports served from pre-aggregated time (tracking/day_aggregate.h) instead of every
// interval of the range: a year of 1,000 users reads 365,000 day rows, not 5.8 million
// intervals. The figures and the sink calls are exactly those of ReportBuilder over the
// intervals of the same snapshot (time_report.h): the same buckets, cut at the same edges, in
// the same order, with the same states.
//
// Per user, [from, min(now, to)) is served in time order from:
// - the aggregates, for whole UTC quarter hours from the first quarter edge at or after `from`
//   to the last one at or before min(now, to) and before the user's open interval began (the
//   aggregates hold closed time only, and a commit after `now` may have closed an interval
//   there). A whole UTC day inside one bucket takes the day's totals; otherwise quarters are
//   summed per bucket (every bucket edge is a quarter edge: every offset in use is a multiple
//   of 15 minutes);
// - the intervals, for the rest: the edges of the range, the open interval, and days where
//   the zone's history has an offset off the quarter grid (local mean time before about 1900),
//   or whose stored day is damaged.

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "tracking/aggregate_snapshot.h"
#include "tracking/report/time_report.h"

namespace presence::tracking {

struct AggregateReportProgress {
  size_t users_done = 0;
  long long intervals = 0;  // intervals read so far (at the edges)
  long long days = 0;       // day rows read so far
};

// Called after each user; returning false stops the report (the client went away).
using AggregateReportTick = std::function<bool(const AggregateReportProgress&)>;

// Reports `users` in that order (BeginUser, buckets, UserTotals each, as ReportBuilder). Errors
// from the snapshot come back as they are; by then the sink may have had part of the report.
// Returns Ok, having stopped, when `tick` says so.
Status BuildAggregateReport(const ReportSpec& spec, const std::vector<std::string>& users,
                            AggregateSnapshot& snapshot, ReportSink& sink,
                            const AggregateReportTick& tick = {});

}  // namespace presence::tracking
