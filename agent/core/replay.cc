#include "agent/core/replay.h"

#include <algorithm>

#include "agent/core/batch_builder.h"
#include "agent/core/event_json.h"
#include "agent/core/restore.h"
#include "agent/engine/timer_queue.h"

namespace presence::agent {
namespace {

// The replay loop's state: engine, timers, the batch being built and the report.
class Replayer {
 public:
  Replayer(std::shared_ptr<const Catalog> catalog, tracking::TimeStore& store,
           const ReplayOptions& options)
      : engine_(std::move(catalog)), store_(store), options_(options) {}

  Status Restore() { return RestoreFromStore(store_, engine_, timers_).status(); }

  // One input line; returns a storage failure only (bad lines go to the report).
  Status Line(int number, const std::string& text) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) return Status::Ok();
    Result<TimedEvent> parsed = ParseEventText(text, {.require_at = true, .require_agent = true});
    if (!parsed.ok()) {
      report_.errors.push_back({number, parsed.error()});
      return Status::Ok();
    }
    const Timestamp at = *parsed->at;
    if (options_.until && at > *options_.until) {
      ++report_.skipped_after_until;
      return Status::Ok();
    }
    FireTimers(at);
    Result<Outcome> outcome = engine_.Handle(parsed->event, at);
    if (!outcome.ok()) {
      report_.errors.push_back({number, outcome.error()});
      return Status::Ok();
    }
    Record(*outcome, parsed->event.agent);
    ++report_.events;
    report_.from = report_.from ? std::min(*report_.from, at) : at;
    last_ = last_ ? std::max(*last_, at) : at;
    if (++batched_ >= options_.batch_events) return Flush();
    return Status::Ok();
  }

  Result<ReplayReport> Finish() {
    const std::optional<Timestamp> until = options_.until ? options_.until : last_;
    if (until) FireTimers(*until);
    if (Status status = Flush(); !status.ok()) return status.error();
    report_.until = until;
    if (report_.from && until && *until > *report_.from) {
      Result<std::vector<tracking::Total>> totals =
          store_.Totals({.from = *report_.from, .to = *until, .now = *until, .agent = {}});
      if (!totals.ok()) return totals.error();
      report_.totals = std::move(totals).value();
    }
    return std::move(report_);
  }

 private:
  void FireTimers(Timestamp at) {
    for (const TimerEntry& entry : timers_.PopDue(at)) {
      Result<Outcome> outcome = engine_.Handle(TimerEvent(entry), entry.due);
      if (outcome.ok()) Record(*outcome, entry.agent);
    }
  }

  void Record(const Outcome& outcome, const std::string& agent) {
    batch_.Add(outcome, *engine_.Find(agent));
    timers_.Arm(outcome, agent);
    report_.transitions.insert(report_.transitions.end(), outcome.changes.begin(),
                               outcome.changes.end());
  }

  Status Flush() {
    batched_ = 0;
    if (batch_.empty()) return Status::Ok();
    Status status = store_.Commit(batch_.batch());
    batch_.Clear();
    return status;
  }

  Engine engine_;
  tracking::TimeStore& store_;
  const ReplayOptions& options_;
  TimerQueue timers_;
  BatchBuilder batch_;
  size_t batched_ = 0;
  std::optional<Timestamp> last_;
  ReplayReport report_;
};

}  // namespace

Result<ReplayReport> Replay(std::shared_ptr<const Catalog> catalog, std::istream& lines,
                            tracking::TimeStore& store, const ReplayOptions& options) {
  Replayer replayer(std::move(catalog), store, options);
  if (Status status = replayer.Restore(); !status.ok()) return status.error();
  std::string text;
  for (int number = 1; std::getline(lines, text); ++number) {
    if (Status status = replayer.Line(number, text); !status.ok()) return status.error();
  }
  return replayer.Finish();
}

}  // namespace presence::agent
