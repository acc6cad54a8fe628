#pragma once

// Pre-aggregated time: per user and UTC day, the closed time per state (label, reason code,
// status), as the day's total per state and the time per quarter hour (96 a day), exact to the
// millisecond. Every UTC offset in use today is a multiple of 15 minutes, so every report
// bucket edge (local day, hour, 30 and 15 minutes) falls on a UTC quarter-hour edge: a local
// bucket is a sum of whole quarters, in any zone.
//
// A day is stored as one blob (EncodeDay), states named by small ids the store interns:
//   byte 1 (format), varint n (states, >= 1),
//   n x (varint state id (strictly increasing), varint day total ms (> 0)),
//   n x (varint item count, items), the items of each state in quarter order:
//     varint (skip << 1 | full): skip = quarters without time before the item;
//     full: varint (run length - 1), quarters of 900,000 ms each;
//     else: varint ms (1 to 899,999) of one quarter.
// The totals come first, so a report that needs only whole days stops reading there. A day of
// an agent with 16 changes is about 100 bytes.
//
// Pure code, no I/O.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace presence::tracking {

inline constexpr int kQuartersPerDay = 96;
inline constexpr int64_t kQuarterMs = 900000;
inline constexpr int64_t kDayMs = 86400000;

// The UTC quarter-hour edge at or before t, and at or after it.
Timestamp QuarterFloor(Timestamp t);
Timestamp QuarterCeil(Timestamp t);

// One user's closed time of one UTC day, for building and changing a day (the writer's side).
class DayAggregate {
 public:
  // Adds [start, end) in state `state`; both must lie within UTC day `day` (end may be the next
  // midnight). An empty or inverted piece adds nothing.
  void Add(int64_t day, int64_t state, Timestamp start, Timestamp end);
  void Merge(const DayAggregate& other);
  bool empty() const { return quarters_.empty(); }
  bool operator==(const DayAggregate& other) const { return quarters_ == other.quarters_; }

  // The blob described above. Must not be empty.
  std::string Encode() const;
  // Reads a blob, checking all of it. "damaged_aggregate" for anything Encode cannot have
  // written (never reads past the blob).
  static Result<DayAggregate> Decode(std::string_view blob);

  // State id -> milliseconds per quarter.
  const std::map<int64_t, std::array<int32_t, kQuartersPerDay>>& quarters() const {
    return quarters_;
  }

 private:
  std::map<int64_t, std::array<int32_t, kQuartersPerDay>> quarters_;
};

// Adds the closed interval [start, end) in `state` to the days it touches: `add(day, piece
// start, piece end)` once per UTC day, in order.
template <class AddPiece>
void ForEachUtcDayPiece(Timestamp start, Timestamp end, AddPiece add) {
  for (Timestamp cursor = start; cursor < end;) {
    Timestamp next = UtcDayStart(cursor) + std::chrono::days(1);
    Timestamp stop = next < end ? next : end;
    add(UtcDayNumber(cursor), cursor, stop);
    cursor = stop;
  }
}

// Reads a day blob for reports without building maps: the totals alone, or also the quarters,
// summed over consecutive quarter ranges (TakeUntil). Reusable: Parse again for the next day
// keeps the buffers.
class DayAggregateView {
 public:
  // Checks what it reads; with_quarters also checks the rest of the blob. "damaged_aggregate"
  // for a blob Encode cannot have written.
  Status Parse(std::string_view blob, bool with_quarters);

  size_t size() const { return states_.size(); }
  int64_t state(size_t i) const { return states_[i].id; }
  Millis total(size_t i) const { return Millis(states_[i].total); }

  // Only after Parse with quarters: state i's runs in quarter order, as
  // run(first quarter, quarter count, ms per quarter).
  template <class Run>
  void ForEachRun(size_t i, Run run) const {
    for (size_t r = states_[i].runs_begin; r < states_[i].runs_end; ++r) {
      run(runs_[r].first, runs_[r].count, runs_[r].ms);
    }
  }
  // Only after Parse with quarters. Sets every state's cursor to quarter `first`.
  void Seek(int first);
  // State i's time from its cursor up to quarter `end` (> the cursor, <= 96); moves the cursor
  // there. Calls for one state must come with increasing ends.
  Millis TakeUntil(size_t i, int end);

 private:
  struct Run {
    int first = 0;
    int count = 0;
    int64_t ms = 0;  // per quarter
  };
  struct StateDay {
    int64_t id = 0;
    int64_t total = 0;
    size_t runs_begin = 0;
    size_t runs_end = 0;
    size_t cursor = 0;  // the next run to read
    int position = 0;   // quarters before this are taken
  };

  Status ParseQuarters(std::string_view blob, size_t& at);

  std::vector<StateDay> states_;
  std::vector<Run> runs_;
};

}  // namespace presence::tracking
