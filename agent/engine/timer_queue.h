#pragma once

// Wrap-up timers waiting to fire, earliest first. Not thread-safe: owned by one loop.

#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "common/time.h"

namespace presence::agent {

struct TimerEntry {
  Timestamp due;
  std::string agent;
};

class TimerQueue {
 public:
  void Push(Timestamp due, std::string agent) { heap_.push({due, std::move(agent)}); }
  bool empty() const { return heap_.empty(); }
  std::optional<Timestamp> NextDue() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.top().due;
  }
  // Removes and returns every entry due at or before `now`, earliest first. A stale entry
  // (its wrap-up already ended) is still returned: the engine ignores it (rule 4).
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

}  // namespace presence::agent
