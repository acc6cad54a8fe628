#pragma once

// Engine timers (wrap-up, missed-calls return) waiting to fire, earliest first. Not
// thread-safe: owned by one loop.

#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "agent/engine/engine.h"
#include "common/time.h"

namespace presence::agent {

struct TimerEntry {
  Timestamp due;
  std::string agent;
  EventType type = EventType::kWrapUpTimer;
};

class TimerQueue {
 public:
  void Push(Timestamp due, std::string agent, EventType type = EventType::kWrapUpTimer) {
    heap_.push({due, std::move(agent), type});
  }
  // Arms every timer an engine outcome asks for.
  void Arm(const Outcome& outcome, const std::string& agent) {
    if (outcome.timer) Push(*outcome.timer, agent, EventType::kWrapUpTimer);
    if (outcome.missed_calls_timer) {
      Push(*outcome.missed_calls_timer, agent, EventType::kMissedCallsTimer);
    }
  }
  bool empty() const { return heap_.empty(); }
  std::optional<Timestamp> NextDue() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.top().due;
  }
  // Removes and returns every entry due at or before `now`, earliest first. A stale entry
  // (its wrap-up already ended, its user no longer in the missed-calls state) is still
  // returned: the engine ignores it (rules 4 and 11). Fire one with TimerEvent(entry).
  std::vector<TimerEntry> PopDue(Timestamp now) {
    std::vector<TimerEntry> due;
    while (!heap_.empty() && heap_.top().due <= now) {
      due.push_back(heap_.top());
      heap_.pop();
    }
    return due;
  }

 private:
  struct Later {
    bool operator()(const TimerEntry& a, const TimerEntry& b) const { return a.due > b.due; }
  };
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, Later> heap_;
};

// The event a due entry posts.
inline Event TimerEvent(const TimerEntry& entry) {
  return TimerEvent(entry.type, entry.agent, entry.due);
}

}  // namespace presence::agent
