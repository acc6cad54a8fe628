#include "tracking/report/aggregate_report.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

#include "tracking/day_aggregate.h"

namespace presence::tracking {
namespace {

using Span = std::pair<Timestamp, Timestamp>;

std::string StateText(const std::string& label, const std::string& reason_code, StatusCode status) {
  return std::to_string(label.size()) + ":" + label + std::to_string(reasoncodes::ToInt(status)) +
         ":" + reason_code;
}

// Time per state (index into the report's state table); a handful per user, so a short vector
// searched in place.
class StateSums {
 public:
  void Add(int state, Millis time) {
    for (auto& [s, sum] : sums_) {
      if (s == state) {
        sum += time;
        return;
      }
    }
    sums_.emplace_back(state, time);
  }
  void Clear() { sums_.clear(); }
  const std::vector<std::pair<int, Millis>>& sums() const { return sums_; }

 private:
  std::vector<std::pair<int, Millis>> sums_;
};

class AggregateReport {
 public:
  AggregateReport(const ReportSpec& spec, AggregateSnapshot& snapshot, ReportSink& sink)
      : spec_(spec), snapshot_(snapshot), sink_(sink), limit_(std::min(spec.now, spec.to)) {}

  Status Init();
  Status User(const std::string& agent);
  const AggregateReportProgress& progress() const { return progress_; }

 private:
  int LocalState(const std::string& label, const std::string& reason_code, StatusCode status);
  // Maps the parsed day's state ids to local ones; false when one is unknown (damage).
  bool MapDayStates();

  Status Segments(Timestamp from, Timestamp to);
  Status Intervals(Timestamp from, Timestamp to);
  Status Days(Timestamp from, Timestamp to);
  Status Day(int64_t day, std::string_view blob, Timestamp from, Timestamp to);

  const Bucket& BucketFor(Timestamp t);
  void Add(int state, Millis time);
  void FlushBucket();
  void FinishUser();
  void Fill(const StateSums& sums, std::vector<StateTime>& out) const;

  const ReportSpec& spec_;
  AggregateSnapshot& snapshot_;
  ReportSink& sink_;
  const Timestamp limit_;  // nothing counts from here on: min(now, to)

  std::vector<StateKey> states_;  // local index -> state
  std::unordered_map<int64_t, int> by_id_;
  std::unordered_map<std::string, int> by_text_;
  std::vector<Span> off_grid_;  // whole UTC days served by intervals, in time order

  std::string agent_;
  bool bucket_open_ = false;
  Bucket bucket_;
  Millis bucket_covered_{0};
  StateSums bucket_sums_;
  Millis user_covered_{0};
  StateSums user_sums_;
  BucketFigures bucket_figures_;
  UserFigures user_figures_;
  DayAggregateView view_;
  std::vector<int> day_states_;  // local index of each state of view_
  AggregateReportProgress progress_;
};

Status AggregateReport::Init() {
  Result<std::vector<StateKey>> states = snapshot_.States();
  if (!states.ok()) return states.error();
  for (StateKey& state : *states) {
    const int local = static_cast<int>(states_.size());
    by_id_[state.id] = local;
    by_text_[StateText(state.label, state.reason_code, state.status)] = local;
    states_.push_back(std::move(state));
  }
  // Buckets of the whole range are one span: only grouped reports care about the zone.
  const Timestamp first = QuarterCeil(spec_.from);
  const Timestamp last = QuarterFloor(limit_);
  if (spec_.grouping == Grouping::kNone || first >= last) return Status::Ok();
  for (const auto& [begin, end] : spec_.zone.OffQuarterSpans(first, last)) {
    Span days{UtcDayStart(begin), UtcDayStart(end - Millis(1)) + std::chrono::days(1)};
    if (!off_grid_.empty() && off_grid_.back().second >= days.first) {
      off_grid_.back().second = std::max(off_grid_.back().second, days.second);
    } else {
      off_grid_.push_back(days);
    }
  }
  return Status::Ok();
}

int AggregateReport::LocalState(const std::string& label, const std::string& reason_code,
                                StatusCode status) {
  std::string text = StateText(label, reason_code, status);
  if (auto it = by_text_.find(text); it != by_text_.end()) return it->second;
  // A state the snapshot's table does not name (only on intervals): local ids go on from there.
  const int local = static_cast<int>(states_.size());
  states_.push_back(StateKey{-1, label, reason_code, status});
  by_text_.emplace(std::move(text), local);
  return local;
}

bool AggregateReport::MapDayStates() {
  day_states_.clear();
  for (size_t i = 0; i < view_.size(); ++i) {
    auto it = by_id_.find(view_.state(i));
    if (it == by_id_.end()) return false;
    day_states_.push_back(it->second);
  }
  return true;
}

Status AggregateReport::User(const std::string& agent) {
  agent_ = agent;
  if (limit_ > spec_.from) {
    Result<std::optional<Interval>> open = snapshot_.OpenInterval(agent);
    if (!open.ok()) return open.error();
    // The aggregates end where the open interval's time begins.
    Timestamp last = QuarterFloor(limit_);
    if (*open) last = std::min(last, QuarterFloor((*open)->start));
    const Timestamp first = QuarterCeil(spec_.from);
    if (first >= last) {
      if (Status status = Intervals(spec_.from, limit_); !status.ok()) return status;
    } else {
      if (Status status = Intervals(spec_.from, first); !status.ok()) return status;
      if (Status status = Segments(first, last); !status.ok()) return status;
      if (Status status = Intervals(last, limit_); !status.ok()) return status;
    }
  }
  FinishUser();
  ++progress_.users_done;
  return Status::Ok();
}

// [from, to) on quarter edges: days from the aggregates, save where the zone leaves the grid.
Status AggregateReport::Segments(Timestamp from, Timestamp to) {
  Timestamp t = from;
  for (const auto& [begin, end] : off_grid_) {
    if (end <= t) continue;
    if (begin >= to) break;
    if (begin > t) {
      if (Status status = Days(t, begin); !status.ok()) return status;
    }
    const Timestamp stop = std::min(end, to);
    if (Status status = Intervals(std::max(t, begin), stop); !status.ok()) return status;
    t = stop;
  }
  return t < to ? Days(t, to) : Status::Ok();
}

// The time of the intervals overlapping [from, to), cut at bucket edges as ReportBuilder cuts.
Status AggregateReport::Intervals(Timestamp from, Timestamp to) {
  if (to <= from) return Status::Ok();
  return snapshot_.Intervals(agent_, from, to, [&](const Interval& interval) {
    ++progress_.intervals;
    Timestamp end = interval.end ? std::min(*interval.end, limit_) : limit_;
    end = std::min(end, to);
    const Timestamp start = std::max(interval.start, from);
    if (end <= start) return true;
    const int state = LocalState(interval.label, interval.reason_code, interval.status);
    for (Timestamp t = start; t < end;) {
      const Timestamp piece_end = std::min(end, BucketFor(t).end);
      Add(state, piece_end - t);
      t = piece_end;
    }
    return true;
  });
}

Status AggregateReport::Days(Timestamp from, Timestamp to) {
  Status inner = Status::Ok();
  Status read = snapshot_.Days(agent_, UtcDayNumber(from), UtcDayNumber(to - Millis(1)) + 1,
                               [&](int64_t day, std::string_view blob) {
                                 ++progress_.days;
                                 inner = Day(day, blob, from, to);
                                 return inner.ok();
                               });
  return inner.ok() ? read : inner;
}

Status AggregateReport::Day(int64_t day, std::string_view blob, Timestamp from, Timestamp to) {
  const Timestamp day_start = FromEpochMillis(day * kDayMs);
  const Timestamp day_end = day_start + std::chrono::days(1);
  const Timestamp start = std::max(day_start, from);
  const Timestamp end = std::min(day_end, to);
  if (end <= start) return Status::Ok();
  if (start == day_start && end == day_end && BucketFor(start).end >= day_end) {
    // The whole day in one bucket: its totals are enough.
    if (!view_.Parse(blob, false).ok() || !MapDayStates()) return Intervals(start, end);
    for (size_t i = 0; i < view_.size(); ++i) Add(day_states_[i], view_.total(i));
    return Status::Ok();
  }
  // A damaged day is read from its intervals instead, which are exact too.
  if (!view_.Parse(blob, true).ok() || !MapDayStates()) return Intervals(start, end);
  view_.Seek(static_cast<int>((start - day_start).count() / kQuarterMs));
  for (Timestamp t = start; t < end;) {
    const Timestamp stop = std::min(BucketFor(t).end, end);
    const int64_t into = (stop - day_start).count();
    if (into % kQuarterMs != 0) {
      return Error{"internal", "a bucket edge off the quarter-hour grid at " + FormatTime(stop)};
    }
    const int quarter = static_cast<int>(into / kQuarterMs);
    for (size_t i = 0; i < view_.size(); ++i) {
      const Millis time = view_.TakeUntil(i, quarter);
      if (time > Millis(0)) Add(day_states_[i], time);
    }
    t = stop;
  }
  return Status::Ok();
}

const Bucket& AggregateReport::BucketFor(Timestamp t) {
  if (!bucket_open_ || t < bucket_.start || t >= bucket_.end) {
    FlushBucket();
    bucket_ = spec_.grouping == Grouping::kNone ? Bucket{spec_.from, spec_.to}
                                                : BucketAt(spec_.zone, spec_.grouping, t);
    bucket_open_ = true;
  }
  return bucket_;
}

// Into the open bucket (BucketFor was called for the time's start).
void AggregateReport::Add(int state, Millis time) {
  bucket_covered_ += time;
  bucket_sums_.Add(state, time);
  user_covered_ += time;
  user_sums_.Add(state, time);
}

// The states the report shows, as ReportBuilder's Finalise leaves them: selected, with time,
// by label, reason code, status.
void AggregateReport::Fill(const StateSums& sums, std::vector<StateTime>& out) const {
  out.clear();
  for (const auto& [state, time] : sums.sums()) {
    const StateKey& key = states_[state];
    if (time <= Millis(0)) continue;
    if (!spec_.statuses.empty() && spec_.statuses.count(key.status) == 0) continue;
    out.push_back(StateTime{key.label, key.status, time, key.reason_code});
  }
  std::sort(out.begin(), out.end(), [](const StateTime& a, const StateTime& b) {
    if (a.label != b.label) return a.label < b.label;
    if (a.reason_code != b.reason_code) return a.reason_code < b.reason_code;
    return a.status < b.status;
  });
}

void AggregateReport::FlushBucket() {
  if (!bucket_open_) return;
  bucket_open_ = false;
  if (bucket_covered_ > Millis(0)) {
    bucket_figures_.agent = agent_;
    bucket_figures_.bucket_start = bucket_.start;
    bucket_figures_.bucket_end = bucket_.end;
    bucket_figures_.covered = bucket_covered_;
    Fill(bucket_sums_, bucket_figures_.states);
    sink_.Bucket(bucket_figures_);
  }
  bucket_covered_ = Millis(0);
  bucket_sums_.Clear();
}

void AggregateReport::FinishUser() {
  FlushBucket();
  user_figures_.agent = agent_;
  user_figures_.covered = user_covered_;
  Fill(user_sums_, user_figures_.states);
  sink_.UserTotals(user_figures_);
  user_covered_ = Millis(0);
  user_sums_.Clear();
}

}  // namespace

Status BuildAggregateReport(const ReportSpec& spec, const std::vector<std::string>& users,
                            AggregateSnapshot& snapshot, ReportSink& sink,
                            const AggregateReportTick& tick) {
  AggregateReport report(spec, snapshot, sink);
  if (Status status = report.Init(); !status.ok()) return status;
  for (const std::string& agent : users) {
    if (Status status = report.User(agent); !status.ok()) return status;
    if (tick && !tick(report.progress())) break;
  }
  return Status::Ok();
}

}  // namespace presence::tracking
