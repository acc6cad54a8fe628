#pragma once

// Time reports computed from ledger intervals, pure (no I/O, no clock). Intervals are pushed in
// user by user, each user's in start order (what TimeStore::ScanIntervals yields), and figures
// come out through a sink as soon as they are complete, so memory stays constant whatever the
// range: a year of 15-minute buckets for 1,000 users never sits in memory at once.
//
// Counting rules, shared by the grouped report and the detail export so they always agree:
// - an interval counts from max(start, from) to min(end, now, to); an open interval (no end)
//   to min(now, to). Nothing after `now` counts, even if a later commit already closed an
//   interval there: one report is one moment.
// - time is cut exactly at bucket edges (report_zone.h): each millisecond lands in exactly one
//   bucket, so buckets add up to the range's totals.
// - a user's covered time is the time the ledger accounts for in the range (all states, the
//   status filter does not apply); without the filter, a user's states add up to it exactly.
//   Percentages are of covered time.

#include <set>
#include <string>
#include <vector>

#include "tracking/ledger_types.h"
#include "tracking/report/report_zone.h"

namespace presence::tracking {

struct ReportSpec {
  Timestamp from;
  Timestamp to;  // exclusive
  Timestamp now;
  Grouping grouping = Grouping::kNone;
  ReportZone zone = ReportZone::Utc();
  std::set<StatusCode> statuses;  // only states with these status codes; empty: all
};

// Time in one state, as the intervals name it: a label whose reason code or status a reload
// changed shows once per combination.
struct StateTime {
  std::string label;
  StatusCode status = StatusCode::kOnline;
  Millis duration{0};
  std::string reason_code;
};

// One user's time in one bucket. For Grouping::kNone the single bucket is [from, to).
struct BucketFigures {
  std::string agent;
  Timestamp bucket_start;  // the bucket's own edges, not clipped to the range
  Timestamp bucket_end;
  Millis covered{0};              // > 0: buckets without covered time are not reported
  std::vector<StateTime> states;  // by label, reason code, status; filtered; no zero times
};

// One user's time over the whole range.
struct UserFigures {
  std::string agent;
  Millis covered{0};              // 0 for a user without time in the range
  std::vector<StateTime> states;  // by label, reason code, status; filtered; no zero times
};

class ReportSink {
 public:
  virtual ~ReportSink() = default;
  // A user's buckets in time order, then that user's totals, then the next user.
  virtual void Bucket(const BucketFigures& figures) = 0;
  virtual void UserTotals(const UserFigures& figures) = 0;
};

class ReportBuilder {
 public:
  // `sink` must outlive the builder.
  ReportBuilder(ReportSpec spec, ReportSink& sink);

  // Starts the next user (finishing the previous one). Every user named gets UserTotals, also
  // one without any interval.
  void BeginUser(const std::string& agent);
  // An interval of the current user; intervals arrive in start order. Time outside the range
  // (or after now) adds nothing.
  void Add(const Interval& interval);
  // Finishes the last user. The builder must not be used afterwards.
  void Finish();

 private:
  void FlushBucket();
  void FinishUser();
  void AddPiece(const Interval& interval, Timestamp start, Timestamp end);

  ReportSpec spec_;
  ReportSink& sink_;
  bool in_user_ = false;
  std::string agent_;
  UserFigures user_;
  std::vector<StateTime> user_states_;  // unfiltered sums of the current user, then filtered
  BucketFigures bucket_;
  bool bucket_open_ = false;
};

// One line of the detail export: an interval, or the piece of it inside one bucket when the
// export is grouped, with the time it adds to the report.
struct DetailLine {
  const Interval* interval = nullptr;  // valid during the callback only
  Timestamp bucket_start;              // the bucket's own edges ([from, to) for kNone)
  Timestamp bucket_end;
  Timestamp counted_start;  // the piece that counts (same rules as the report)
  Timestamp counted_end;    // == counted_start for a zero-length piece
};

// The lines of `interval` that lie in the range and pass the status filter, one at a time, in
// time order. An interval that starts inside the range but counts no time (a zero-length
// interval, or one starting at or after `now`) gives one line with no time, so every recorded
// change is visible. Summing counted time over all lines of a user gives exactly the report's
// figures. `spec` and `interval` must outlive the object.
class DetailPieces {
 public:
  DetailPieces(const ReportSpec& spec, const Interval& interval);
  // The next line into `line` (interval included); false when there are no more.
  bool Next(DetailLine& line);

 private:
  const ReportSpec& spec_;
  const Interval& interval_;
  Timestamp next_;  // where the next piece starts
  Timestamp end_;   // where counted time ends
  enum class Left { kNothing, kEmptyLine, kPieces } left_ = Left::kNothing;
};

// Calls `line(const DetailLine&)` for each line DetailPieces gives: a template, so exports of
// millions of rows pay no std::function per interval.
template <class LineFunction>
void ForEachDetailLine(const ReportSpec& spec, const Interval& interval, LineFunction&& line) {
  DetailPieces pieces(spec, interval);
  DetailLine piece;
  while (pieces.Next(piece)) line(static_cast<const DetailLine&>(piece));
}

}  // namespace presence::tracking
