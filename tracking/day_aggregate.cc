#include "tracking/day_aggregate.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <optional>

#include "tracking/varint.h"

namespace presence::tracking {
namespace {

constexpr unsigned char kFormat = 1;
// Ten 7-bit groups hold 64 bits; every value here is far smaller, so more is damage.
constexpr int kMaxVarintBytes = 9;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

Error Damaged(const std::string& what) {
  return Error{"damaged_aggregate", "a day of pre-aggregated time is damaged: " + what};
}

}  // namespace

Timestamp QuarterFloor(Timestamp t) {
  return FromEpochMillis(FloorDiv(ToEpochMillis(t), kQuarterMs) * kQuarterMs);
}

Timestamp QuarterCeil(Timestamp t) {
  Timestamp floor = QuarterFloor(t);
  return floor == t ? t : floor + Millis(kQuarterMs);
}

void DayAggregate::Add(int64_t day, int64_t state, Timestamp start, Timestamp end) {
  if (end <= start) return;
  const int64_t day_ms = day * kDayMs;
  int64_t from = ToEpochMillis(start) - day_ms;
  const int64_t to = ToEpochMillis(end) - day_ms;
  assert(from >= 0 && to <= kDayMs);
  auto& quarters = quarters_[state];  // value-initialised (zeros) when new
  while (from < to) {
    const int64_t quarter = from / kQuarterMs;
    const int64_t stop = std::min(to, (quarter + 1) * kQuarterMs);
    quarters[quarter] += static_cast<int32_t>(stop - from);
    from = stop;
  }
}

void DayAggregate::Merge(const DayAggregate& other) {
  for (const auto& [state, theirs] : other.quarters_) {
    auto& mine = quarters_[state];
    for (int q = 0; q < kQuartersPerDay; ++q) mine[q] += theirs[q];
  }
}

std::string DayAggregate::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  PutVarint(out, quarters_.size());
  for (const auto& [state, quarters] : quarters_) {
    int64_t total = 0;
    for (int32_t ms : quarters) total += ms;
    PutVarint(out, static_cast<uint64_t>(state));
    PutVarint(out, static_cast<uint64_t>(total));
  }
  std::string items;
  for (const auto& [state, quarters] : quarters_) {
    items.clear();
    uint64_t count = 0;
    int end = 0;  // quarters before this are written
    for (int q = 0; q < kQuartersPerDay;) {
      if (quarters[q] == 0) {
        ++q;
        continue;
      }
      const uint64_t skip = static_cast<uint64_t>(q - end);
      if (quarters[q] == kQuarterMs) {
        int run = 1;
        while (q + run < kQuartersPerDay && quarters[q + run] == kQuarterMs) ++run;
        PutVarint(items, skip << 1 | 1);
        PutVarint(items, static_cast<uint64_t>(run - 1));
        q += run;
      } else {
        PutVarint(items, skip << 1);
        PutVarint(items, static_cast<uint64_t>(quarters[q]));
        ++q;
      }
      end = q;
      ++count;
    }
    PutVarint(out, count);
    out += items;
  }
  return out;
}

Result<DayAggregate> DayAggregate::Decode(std::string_view blob) {
  DayAggregateView view;
  if (Status parsed = view.Parse(blob, true); !parsed.ok()) return parsed.error();
  DayAggregate day;
  for (size_t i = 0; i < view.size(); ++i) {
    auto& quarters = day.quarters_[view.state(i)];
    view.ForEachRun(i, [&quarters](int first, int count, int64_t ms) {
      for (int q = first; q < first + count; ++q) quarters[q] = static_cast<int32_t>(ms);
    });
  }
  // Per state the quarters are checked; together they must not hold more than a quarter, since
  // a user's intervals never overlap.
  for (int q = 0; q < kQuartersPerDay; ++q) {
    int64_t sum = 0;
    for (const auto& [state, quarters] : day.quarters_) sum += quarters[q];
    if (sum > kQuarterMs) return Damaged("quarter " + std::to_string(q) + " holds too much time");
  }
  return day;
}

Status DayAggregateView::Parse(std::string_view blob, bool with_quarters) {
  states_.clear();
  runs_.clear();
  size_t at = 0;
  if (blob.empty() || static_cast<unsigned char>(blob[0]) != kFormat) {
    return Damaged("unknown format");
  }
  at = 1;
  std::optional<uint64_t> count = GetVarint(blob, at, kMaxVarintBytes);
  // Each state takes at least two bytes, which bounds the count by the blob's size.
  if (!count || *count == 0 || *count > blob.size() / 2) return Damaged("bad state count");
  int64_t day_total = 0;
  for (uint64_t i = 0; i < *count; ++i) {
    std::optional<uint64_t> id = GetVarint(blob, at, kMaxVarintBytes);
    std::optional<uint64_t> total = GetVarint(blob, at, kMaxVarintBytes);
    if (!id || !total) return Damaged("cut short in the totals");
    if (*id > INT32_MAX || (!states_.empty() && static_cast<int64_t>(*id) <= states_.back().id)) {
      return Damaged("state ids out of order");
    }
    if (*total == 0 || *total > static_cast<uint64_t>(kDayMs)) return Damaged("bad day total");
    day_total += static_cast<int64_t>(*total);
    states_.push_back(StateDay{static_cast<int64_t>(*id), static_cast<int64_t>(*total)});
  }
  if (day_total > kDayMs) return Damaged("more time than a day");
  if (!with_quarters) return Status::Ok();
  if (Status quarters = ParseQuarters(blob, at); !quarters.ok()) return quarters;
  if (at != blob.size()) return Damaged("bytes after the last state");
  return Status::Ok();
}

Status DayAggregateView::ParseQuarters(std::string_view blob, size_t& at) {
  // All states together hold at most a quarter's time in each quarter (Decode checks the same):
  // a blob whose states overlap would give a bucket more time than it lasts.
  std::array<int64_t, kQuartersPerDay> in_quarter{};
  for (StateDay& state : states_) {
    std::optional<uint64_t> items = GetVarint(blob, at, kMaxVarintBytes);
    if (!items || *items == 0 || *items > kQuartersPerDay) return Damaged("bad item count");
    state.runs_begin = runs_.size();
    int end = 0;
    int64_t sum = 0;
    bool last_full = false;
    for (uint64_t i = 0; i < *items; ++i) {
      std::optional<uint64_t> head = GetVarint(blob, at, kMaxVarintBytes);
      std::optional<uint64_t> value = GetVarint(blob, at, kMaxVarintBytes);
      if (!head || !value) return Damaged("cut short in the quarters");
      const uint64_t skip = *head >> 1;
      if (skip >= static_cast<uint64_t>(kQuartersPerDay - end)) return Damaged("quarter past 96");
      Run run;
      run.first = end + static_cast<int>(skip);
      if ((*head & 1) != 0) {
        // Encode joins adjacent full quarters into one run.
        if (skip == 0 && last_full) return Damaged("split run");
        if (*value >= static_cast<uint64_t>(kQuartersPerDay - run.first)) {
          return Damaged("run past 96");
        }
        run.count = static_cast<int>(*value) + 1;
        run.ms = kQuarterMs;
      } else {
        if (*value == 0 || *value >= static_cast<uint64_t>(kQuarterMs)) {
          return Damaged("bad quarter time");
        }
        run.count = 1;
        run.ms = static_cast<int64_t>(*value);
      }
      end = run.first + run.count;
      for (int q = run.first; q < end; ++q) {
        in_quarter[q] += run.ms;
        if (in_quarter[q] > kQuarterMs) return Damaged("more time than a quarter");
      }
      last_full = run.ms == kQuarterMs;
      sum += run.ms * run.count;
      runs_.push_back(run);
    }
    if (sum != state.total) return Damaged("quarters do not add up to the day total");
    state.runs_end = runs_.size();
  }
  return Status::Ok();
}

void DayAggregateView::Seek(int first) {
  for (StateDay& state : states_) {
    state.cursor = state.runs_begin;
    state.position = 0;
    if (first > 0) TakeUntil(static_cast<size_t>(&state - states_.data()), first);
  }
}

Millis DayAggregateView::TakeUntil(size_t i, int end) {
  StateDay& state = states_[i];
  int64_t sum = 0;
  while (state.cursor < state.runs_end) {
    const Run& run = runs_[state.cursor];
    const int run_end = run.first + run.count;
    const int lo = std::max(run.first, state.position);
    const int hi = std::min(run_end, end);
    if (hi > lo) sum += run.ms * (hi - lo);
    if (run_end > end) break;
    ++state.cursor;
  }
  state.position = end;
  return Millis(sum);
}

}  // namespace presence::tracking
