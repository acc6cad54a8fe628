#include "tracking/report/time_report.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <utility>

namespace presence::tracking {
namespace {

// The part of an interval that counts: [max(start, from), min(end, now, to)).
struct Window {
  Timestamp start;
  Timestamp end;
};

std::optional<Window> CountedWindow(const ReportSpec& spec, const Interval& interval) {
  Timestamp limit = std::min(spec.now, spec.to);
  Timestamp end = interval.end ? std::min(*interval.end, limit) : limit;
  Timestamp start = std::max(interval.start, spec.from);
  if (end <= start) return std::nullopt;
  return Window{start, end};
}

// The report's bucket around t: the range itself when the report is not grouped.
Bucket ReportBucket(const ReportSpec& spec, Timestamp t) {
  if (spec.grouping == Grouping::kNone) return {spec.from, spec.to};
  return BucketAt(spec.zone, spec.grouping, t);
}

bool Selected(const ReportSpec& spec, StatusCode status) {
  return spec.statuses.empty() || spec.statuses.count(status) > 0;
}

// A user sees a handful of states, so a short vector searched in place beats a map.
void AddTime(std::vector<StateTime>& states, const Interval& interval, Millis duration) {
  for (StateTime& state : states) {
    if (state.status == interval.status && state.label == interval.label &&
        state.reason_code == interval.reason_code) {
      state.duration += duration;
      return;
    }
  }
  states.push_back(StateTime{interval.label, interval.status, duration, interval.reason_code});
}

// Leaves the states the report shows: selected, with time, by label, reason code, status.
void Finalise(const ReportSpec& spec, std::vector<StateTime>& states) {
  std::erase_if(states, [&spec](const StateTime& state) {
    return state.duration <= Millis(0) || !Selected(spec, state.status);
  });
  std::sort(states.begin(), states.end(), [](const StateTime& a, const StateTime& b) {
    if (a.label != b.label) return a.label < b.label;
    if (a.reason_code != b.reason_code) return a.reason_code < b.reason_code;
    return a.status < b.status;
  });
}

}  // namespace

ReportBuilder::ReportBuilder(ReportSpec spec, ReportSink& sink)
    : spec_(std::move(spec)), sink_(sink) {}

void ReportBuilder::BeginUser(const std::string& agent) {
  if (in_user_) FinishUser();
  in_user_ = true;
  agent_ = agent;
  user_.covered = Millis(0);
  user_states_.clear();
}

// Intervals of one user do not overlap (the ledger keeps each user's time continuous), so
// pieces arrive in time order and a bucket, once left, is never entered again.
void ReportBuilder::Add(const Interval& interval) {
  assert(in_user_);
  std::optional<Window> window = CountedWindow(spec_, interval);
  if (!window) return;
  for (Timestamp t = window->start; t < window->end;) {
    if (!bucket_open_ || t < bucket_.bucket_start || t >= bucket_.bucket_end) {
      FlushBucket();
      Bucket bucket = ReportBucket(spec_, t);
      bucket_.bucket_start = bucket.start;
      bucket_.bucket_end = bucket.end;
      bucket_open_ = true;
    }
    Timestamp piece_end = std::min(window->end, bucket_.bucket_end);
    AddPiece(interval, t, piece_end);
    t = piece_end;
  }
}

void ReportBuilder::AddPiece(const Interval& interval, Timestamp start, Timestamp end) {
  Millis duration = end - start;
  bucket_.covered += duration;
  AddTime(bucket_.states, interval, duration);
  user_.covered += duration;
  AddTime(user_states_, interval, duration);
}

void ReportBuilder::FlushBucket() {
  if (!bucket_open_) return;
  bucket_open_ = false;
  if (bucket_.covered > Millis(0)) {
    bucket_.agent = agent_;
    Finalise(spec_, bucket_.states);
    sink_.Bucket(bucket_);
  }
  bucket_.covered = Millis(0);
  bucket_.states.clear();
}

void ReportBuilder::FinishUser() {
  FlushBucket();
  user_.agent = agent_;
  Finalise(spec_, user_states_);
  user_.states = std::move(user_states_);
  sink_.UserTotals(user_);
  user_states_ = std::move(user_.states);
  user_states_.clear();
  user_.covered = Millis(0);
  in_user_ = false;
}

void ReportBuilder::Finish() {
  if (in_user_) FinishUser();
}

DetailPieces::DetailPieces(const ReportSpec& spec, const Interval& interval)
    : spec_(spec), interval_(interval) {
  if (!Selected(spec, interval.status)) return;
  if (std::optional<Window> window = CountedWindow(spec, interval)) {
    next_ = window->start;
    end_ = window->end;
    left_ = Left::kPieces;
  } else if (interval.start >= spec.from && interval.start < spec.to) {
    // Counts nothing, yet a change recorded inside the range still gets its line.
    next_ = end_ = interval.start;
    left_ = Left::kEmptyLine;
  }
}

bool DetailPieces::Next(DetailLine& line) {
  if (left_ == Left::kNothing) return false;
  line.interval = &interval_;
  Bucket bucket = ReportBucket(spec_, next_);
  line.bucket_start = bucket.start;
  line.bucket_end = bucket.end;
  line.counted_start = next_;
  if (left_ == Left::kEmptyLine) {
    line.counted_end = next_;
    left_ = Left::kNothing;
    return true;
  }
  // Cut exactly where ReportBuilder::Add cuts, so lines add up to the report's figures.
  line.counted_end = std::min(end_, bucket.end);
  next_ = line.counted_end;
  if (next_ >= end_) left_ = Left::kNothing;
  return true;
}

}  // namespace presence::tracking
