#include "agent/core/core.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "agent/core/restore.h"
#include "common/thread_name.h"

namespace presence::agent {

Core::Core(std::shared_ptr<const Catalog> catalog, tracking::TimeStore& store, const Clock& clock,
           CoreOptions options)
    : catalog_(std::move(catalog)),
      store_(store),
      clock_(clock),
      options_(options),
      engine_(catalog_) {
  SetZone();
}

Core::~Core() { Stop(); }

Status Core::Reload() {
  engine_ = Engine(catalog_);
  timers_ = TimerQueue();
  budgets_.clear();
  // Users whose stored budget count cannot be used: their day is added up from the store.
  std::vector<std::string> uncounted;
  auto restored = [&](const AgentState& state, std::optional<StoredBudget> budget) {
    if (budgeted_.empty()) return;
    if (!budget || !RestoreBudget(state, *budget)) uncounted.push_back(state.agent);
  };
  Result<std::optional<Timestamp>> latest = RestoreFromStore(store_, engine_, timers_, restored);
  if (!latest.ok()) return latest.error();
  if (*latest) last_now_ = std::max(last_now_, **latest);
  if (uncounted.empty()) return Status::Ok();
  return RebuildBudgets(&uncounted);
}

void Core::SetZone() {
  Result<tracking::ReportZone> zone = tracking::ReportZone::Find(catalog_->settings().time_zone);
  // The configuration checked the name against tzdata; should tzdata have lost it since, the
  // budgets' day is UTC's rather than none.
  zone_ = zone.ok() ? *zone : tracking::ReportZone::Utc();
  budgeted_.clear();
  for (const reasoncodes::State& state : catalog_->states()) {
    if (state.budget_seconds_per_day > 0) {
      budgeted_.emplace_back(state.label, state.budget_seconds_per_day);
    }
  }
}

int Core::BudgetIndex(const std::string& label) const {
  for (size_t i = 0; i < budgeted_.size(); ++i) {
    if (budgeted_[i].first == label) return static_cast<int>(i);
  }
  return -1;
}

bool Core::RestoreBudget(const AgentState& state, const StoredBudget& stored) {
  // Counted in the days of another time zone: not today's use in this one.
  if (zone_.DayStart(stored.day_start) != stored.day_start ||
      zone_.NextDayStart(stored.day_start) != stored.day_end) {
    return false;
  }
  BudgetTally tally{.day_start = stored.day_start,
                    .day_end = stored.day_end,
                    .open_since = state.since,
                    .used = std::vector<Millis>(budgeted_.size(), Millis(0))};
  std::vector<bool> found(budgeted_.size(), false);
  for (const auto& [label, used] : stored.used) {
    if (int i = BudgetIndex(label); i >= 0) {
      tally.used[i] = used;
      found[i] = true;
    }
  }
  // A state budgeted since it was stored was not counted.
  if (std::find(found.begin(), found.end(), false) != found.end()) return false;
  budgets_[state.agent] = std::move(tally);
  return true;
}

Status Core::RebuildBudgets(const std::vector<std::string>* users) {
  if (!users) budgets_.clear();
  if (budgeted_.empty()) return Status::Ok();
  std::vector<std::string> everyone;
  if (!users) {
    everyone = engine_.AgentIds();
    users = &everyone;
  }
  const Timestamp now = std::max(clock_.Now(), last_now_);
  const Timestamp day_start = zone_.DayStart(now);
  std::unordered_map<std::string, BudgetTally> fresh;
  for (const std::string& agent : *users) {
    if (const AgentState* state = engine_.Find(agent)) {
      fresh[agent] = BudgetTally{.day_start = day_start,
                                 .day_end = zone_.NextDayStart(now),
                                 .open_since = state->since,
                                 .used = std::vector<Millis>(budgeted_.size(), Millis(0))};
    }
  }
  // A few users: each one's own totals; more: everyone's at once.
  constexpr size_t kOneByOne = 16;
  std::vector<std::optional<std::string>> asks;
  if (fresh.size() <= kOneByOne) {
    for (const auto& [agent, tally] : fresh) asks.emplace_back(agent);
  } else {
    asks.emplace_back(std::nullopt);
  }
  for (const std::optional<std::string>& agent : asks) {
    auto totals =
        store_.Totals({.from = day_start, .to = now + Millis(1), .now = now, .agent = agent});
    if (!totals.ok()) return totals.error();
    // Totals come per label and status: a label whose status a reload changed has two rows.
    for (const tracking::Total& total : *totals) {
      auto tally = fresh.find(total.agent);
      const int i = BudgetIndex(total.label);
      if (tally != fresh.end() && i >= 0) tally->second.used[i] += total.duration;
    }
  }
  for (auto& [agent, tally] : fresh) {
    // The open interval is counted from open_since when the view is made, not here.
    if (int i = BudgetIndex(engine_.Find(agent)->label); i >= 0) {
      tally.used[i] =
          std::max(tally.used[i] - (now - std::max(tally.open_since, day_start)), Millis(0));
    }
    budgets_[agent] = std::move(tally);
  }
  return Status::Ok();
}

void Core::CountBudgets(const std::vector<tracking::Change>& changes) {
  if (budgeted_.empty()) return;
  for (const tracking::Change& change : changes) {
    BudgetTally& tally = budgets_[change.agent];
    if (tally.used.size() != budgeted_.size()) tally.used.assign(budgeted_.size(), Millis(0));
    if (change.at >= tally.day_end) {  // a new day (or the user's first change)
      tally.day_start = zone_.DayStart(change.at);
      tally.day_end = zone_.NextDayStart(change.at);
      std::fill(tally.used.begin(), tally.used.end(), Millis(0));
    }
    // The state the change ends is change.from_label, open since the previous change (not
    // known for a user first seen, or whose tally the store could not give).
    const int i = BudgetIndex(change.from_label);
    if (i >= 0 && tally.open_since != Timestamp{}) {
      const Timestamp from = std::max(tally.open_since, tally.day_start);
      if (change.at > from) tally.used[i] += change.at - from;
    }
    tally.open_since = change.at;
  }
}

void Core::StoreBudgets(BatchBuilder& batch) const {
  if (budgeted_.empty()) return;
  for (tracking::AgentRecord& record : batch.agents()) {
    auto tally = budgets_.find(record.agent);
    if (tally == budgets_.end()) continue;  // the next start adds up this user's day
    StoredBudget stored{.day_start = tally->second.day_start, .day_end = tally->second.day_end};
    for (size_t i = 0; i < budgeted_.size(); ++i) {
      stored.used.emplace_back(budgeted_[i].first, tally->second.used[i]);
    }
    record.engine_state = AddStoredBudget(std::move(record.engine_state), stored);
  }
}

void Core::AddBudgets(AgentState& view) const {
  view.budgets.clear();
  if (budgeted_.empty()) return;
  const Timestamp now = std::max(clock_.Now(), last_now_);
  auto tally = budgets_.find(view.agent);
  // A tally from an earlier day counts nothing today.
  const bool today =
      tally != budgets_.end() && now < tally->second.day_end && now >= tally->second.day_start;
  const Timestamp day_start = today ? tally->second.day_start : zone_.DayStart(now);
  view.budget_day_ends = today ? tally->second.day_end : zone_.NextDayStart(now);
  for (const auto& [label, seconds] : budgeted_) {
    AgentState::BudgetUse use{.label = label, .budget_seconds = seconds};
    const size_t i = view.budgets.size();
    if (today && i < tally->second.used.size()) use.used = tally->second.used[i];
    if (view.label == label) use.counting_since = std::max(view.since, day_start);
    view.budgets.push_back(std::move(use));
  }
}

Status Core::Start() {
  if (Status status = Reload(); !status.ok()) return status;
  PublishAll();
  ReturnFreeMemory();  // what reading every user took
  thread_ = std::thread([this] {
    NameThisThread("core");
    Run();
  });
  return Status::Ok();
}

std::future<Result<Reply>> Core::Post(Event event) {
  auto promise = std::make_shared<std::promise<Result<Reply>>>();
  std::future<Result<Reply>> future = promise->get_future();
  std::vector<Posting> one;
  one.push_back(
      {std::move(event), [promise](Result<Reply> reply) { promise->set_value(std::move(reply)); }});
  PostBatch(std::move(one));
  return future;
}

void Core::PostBatch(std::vector<Posting> postings) {
  std::vector<Pending> accepted;
  accepted.reserve(postings.size());
  for (Posting& posting : postings) {
    if (IsTimerEvent(posting.event.type)) {  // only the core's own timers fire these
      posting.done(
          Error{"invalid_event",
                "type: " + std::string(EventTypeName(posting.event.type)) + " cannot be posted"});
      continue;
    }
    Pending& pending = accepted.emplace_back();
    pending.event = std::move(posting.event);
    pending.done = std::move(posting.done);
  }
  if (accepted.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      std::move(accepted.begin(), accepted.end(), std::back_inserter(queue_));
      wake_.notify_one();
      return;
    }
  }
  for (Pending& pending : accepted) {
    pending.done(Error{"stopped", "the agent is shutting down; try again"});
  }
}

bool Core::Enqueue(Pending& pending) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return false;
  queue_.push_back(std::move(pending));
  wake_.notify_one();
  return true;
}

std::future<Status> Core::SetCatalog(std::shared_ptr<const Catalog> catalog) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  Pending pending;
  pending.new_catalog = std::move(catalog);
  pending.reloaded = [promise](Status status) { promise->set_value(std::move(status)); };
  if (!Enqueue(pending)) pending.reloaded(Error{"stopped", "the agent is shutting down"});
  return future;
}

void Core::ReportPbx(std::string agent, std::string connector,
                     std::vector<reasoncodes::ActionMismatch> mismatches) {
  Pending pending;
  pending.pbx = PbxReport{std::move(agent), std::move(connector), std::move(mismatches)};
  Enqueue(pending);  // when stopping, the report is dropped: nothing is stored anyway
}

bool Core::ApplyPbx(PbxReport report) {
  auto user = pbx_.find(report.agent);
  if (report.mismatches.empty()) {
    if (user == pbx_.end() || !user->second.erase(report.connector)) return false;
    if (user->second.empty()) pbx_.erase(user);
    return true;
  }
  auto& by_connector = pbx_[report.agent];
  auto it = by_connector.find(report.connector);
  const bool had = it != by_connector.end();
  if (had && it->second == report.mismatches) return false;
  by_connector[report.connector] = std::move(report.mismatches);
  return true;
}

std::shared_ptr<const AgentState> Core::View(const std::string& agent) {
  // The engine's own state, shared: no copy per view.
  return engine_.Share(agent, [this](AgentState& state) {
    state.pbx_mismatches.clear();
    if (auto it = pbx_.find(state.agent); it != pbx_.end()) {
      for (const auto& [connector, mismatches] : it->second) {
        state.pbx_mismatches.insert(state.pbx_mismatches.end(), mismatches.begin(),
                                    mismatches.end());
      }
    }
    AddBudgets(state);
  });
}

void Core::Wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  woken_ = true;
  wake_.notify_one();
}

void Core::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Core::Beat() {
  if (!heartbeat_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_beat_) return;
  heartbeat_();
  next_beat_ = now + heartbeat_every_;
}

void Core::Run() {
  for (;;) {
    Beat();
    std::deque<Pending> work;
    std::deque<Status> arrived;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        std::optional<Timestamp> due = timers_.NextDue();
        const bool timer_due = due && *due <= clock_.Now();
        const bool room = in_flight_.size() < kMaxInFlight;
        if (!durable_.empty() || (room && !queue_.empty()) || woken_ || timer_due) break;
        if (stopping_ && queue_.empty() && in_flight_.empty()) break;
        // Idle after a burst: give back the memory it took.
        if (published_since_trim_ >= kTrimAfterUpdates && in_flight_.empty()) {
          lock.unlock();
          ReturnFreeMemory();
          lock.lock();
          continue;
        }
        Millis wait = std::chrono::hours(1);
        if (due) {
          wait = std::clamp<Millis>(std::chrono::duration_cast<Millis>(*due - clock_.Now()),
                                    Millis(1), wait);
        }
        if (heartbeat_) {
          // Rounded up: waking a little early would only loop back here.
          const auto until_beat =
              std::chrono::ceil<Millis>(next_beat_ - std::chrono::steady_clock::now());
          if (until_beat <= Millis(0)) break;  // beat first, then wait again
          wait = std::min(wait, until_beat);
        }
        if (due || heartbeat_) {
          wake_.wait_for(lock, wait);
        } else {
          wake_.wait(lock);
        }
      }
      woken_ = false;
      arrived.swap(durable_);
      if (stopping_ && queue_.empty() && in_flight_.empty() && arrived.empty()) break;
      if (in_flight_.size() < kMaxInFlight) {
        size_t take = std::min(queue_.size(), options_.max_batch);
        std::move(queue_.begin(), queue_.begin() + take, std::back_inserter(work));
        queue_.erase(queue_.begin(), queue_.begin() + take);
      }
    }
    Settle(arrived);
    Process(work);
  }
}

void Core::FireTimers(Timestamp now, BatchBuilder& batch) {
  for (const TimerEntry& entry : timers_.PopDue(now)) {
    // Dated at the deadline, so a wrap-up (or a missed-calls state) lasts exactly its configured
    // time even when the process was busy or down when it expired.
    Result<Outcome> outcome = engine_.Handle(TimerEvent(entry), entry.due);
    if (!outcome.ok()) continue;  // a stale timer
    batch.Add(*outcome, *engine_.Find(entry.agent));
    CountBudgets(outcome->changes);
  }
}

void Core::Process(std::deque<Pending>& work) {
  // A connector's report or a reload publishes views outside a batch, and a failed batch
  // reloads the engine: those wait until every batch ahead of them is settled, and settle
  // their own at once.
  bool alone = !healthy_;
  for (const Pending& pending : work) alone = alone || pending.pbx || pending.new_catalog;
  if (alone) Drain();
  if (!healthy_ && !Recover()) {
    for (Pending& pending : work) {
      if (pending.pbx) continue;  // a report waits for nothing; it is dropped like the rest
      if (pending.new_catalog) {
        pending.reloaded(Error{"storage_error", "the ledger cannot be read"});
      } else {
        pending.done(Error{"storage_error", "the ledger cannot be read; retrying"});
      }
    }
    return;
  }
  InFlight flight;
  const Timestamp now = std::max(clock_.Now(), last_now_);
  last_now_ = now;
  FireTimers(now, flight.batch);
  for (Pending& pending : work) {
    if (pending.pbx) {
      std::string agent = pending.pbx->agent;
      if (ApplyPbx(std::move(*pending.pbx)) && engine_.Find(agent)) {
        flight.reported.push_back(std::move(agent));
      }
      continue;
    }
    if (pending.new_catalog) {
      catalog_ = pending.new_catalog;
      engine_.SetCatalog(catalog_);
      SetZone();
      if (!RebuildBudgets().ok()) budgets_.clear();  // counts from now on rather than stop
      // Readers (GET /states, stream views) see the new catalog at once, not at the next change.
      PublishAll();
      flight.reloaded.push_back(std::move(pending.reloaded));
      continue;
    }
    ++flight.events;
    Result<Outcome> outcome = engine_.Handle(pending.event, now);
    if (!outcome.ok()) {
      flight.answers.emplace_back(std::move(pending.done), outcome.error());
      continue;
    }
    const AgentState& state = *engine_.Find(pending.event.agent);
    flight.batch.Add(*outcome, state);
    CountBudgets(outcome->changes);  // a failed commit rebuilds the tallies from the store
    timers_.Arm(*outcome, state.agent);
    flight.answers.emplace_back(std::move(pending.done),
                                Reply{std::move(outcome->changes), View(state.agent)});
  }
  Submit(flight);
  const bool nothing = !flight.submitted && !flight.refused && flight.answers.empty() &&
                       flight.reloaded.empty() && flight.reported.empty();
  if (!nothing) in_flight_.push_back(std::move(flight));
  SettleArrived();  // a store that answers at once has answered
  if (alone) Drain();
}

void Core::Submit(InFlight& flight) {
  BatchBuilder& batch = flight.batch;
  if (batch.empty()) return;
  flight.started = std::chrono::steady_clock::now();
  if (planner_) {
    planner_(batch.batch().changes, batch.outbox());
    for (tracking::OutboxItem& row : batch.outbox()) row.id = ++outbox_id_;
  }
  StoreBudgets(batch);
  flight.views.reserve(batch.batch().agents.size());
  for (const tracking::AgentRecord& record : batch.batch().agents) {
    flight.views.push_back(View(record.agent));
  }
  Status status = store_.Submit(batch.batch(), [this](Status stored) {
    std::lock_guard<std::mutex> lock(mutex_);
    durable_.push_back(std::move(stored));
    wake_.notify_one();
  });
  if (status.ok()) {
    flight.submitted = true;
    return;
  }
  flight.refused = status.error();
  // The engine has this batch and the store has not: nothing more is applied to it until the
  // engine is reloaded (once the batches ahead of this one are settled).
  healthy_ = false;
}

void Core::SettleArrived() {
  std::deque<Status> arrived;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    arrived.swap(durable_);
  }
  Settle(arrived);
}

void Core::Settle(std::deque<Status>& arrived) {
  while (!in_flight_.empty()) {
    InFlight& front = in_flight_.front();
    Status stored = Status::Ok();
    if (front.submitted) {
      if (arrived.empty()) break;
      stored = std::move(arrived.front());
      arrived.pop_front();
    }
    Finish(front, stored);
    in_flight_.pop_front();
  }
}

void Core::Drain() {
  SettleArrived();
  while (!in_flight_.empty()) {
    Beat();  // a slow disk is no reason for a watchdog to restart the agent
    std::deque<Status> arrived;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto arrived_any = [&] { return !durable_.empty(); };
      if (heartbeat_) {
        // Until the next beat is due (rounded up: waking early would only wait again).
        const auto until_beat = std::max(
            std::chrono::ceil<Millis>(next_beat_ - std::chrono::steady_clock::now()), Millis(1));
        wake_.wait_for(lock, until_beat, arrived_any);
      } else {
        wake_.wait(lock, arrived_any);
      }
      arrived.swap(durable_);
    }
    Settle(arrived);
  }
}

// Called with `flight` still first in in_flight_.
void Core::Finish(InFlight& flight, const Status& stored) {
  // A batch behind a lost one was worked out from what never happened: even its answers that
  // changed nothing, or said no, are not what the store holds.
  const bool behind_lost = lost_;
  std::optional<Error> error = flight.refused;
  if (!error && !stored.ok()) error = stored.error();
  if (!error && behind_lost) {
    error = Error{"storage_error",
                  "an earlier change could not be stored, and this one was worked out after it; "
                  "nothing of it happened"};
  }
  if (error) {
    lost_ = true;
    // The store is the truth: forget what the engine did in this batch (and in the ones after
    // it, which the store loses too: TimeStore::Submit). Until the engine is back in step with
    // the store, every event is refused rather than applied to a guess.
    healthy_ = false;
  } else if (flight.submitted) {
    Publish(std::move(flight.views), flight.batch.batch(),
            std::chrono::steady_clock::now() - flight.started, flight.events);
  }
  if (!healthy_ && in_flight_.size() == 1) Recover();  // the last batch in flight is settled
  if (!flight.reported.empty()) PublishReported(std::move(flight.reported), flight.batch);
  for (auto& [done, result] : flight.answers) {
    if (error && (result.ok() || behind_lost)) result = *error;
    done(std::move(result));
  }
  for (auto& reloaded : flight.reloaded) reloaded(Status::Ok());
}

void Core::Publish(std::vector<std::shared_ptr<const AgentState>> views,
                   const tracking::CommitBatch& batch, std::chrono::nanoseconds commit_time,
                   size_t events, bool durable) {
  std::shared_ptr<const Snapshot> previous = snapshot_.load();
  auto next = std::make_shared<Snapshot>(*previous);
  next->catalog = catalog_;
  std::vector<AgentUpdate> updates;
  updates.reserve(views.size());
  for (std::shared_ptr<const AgentState>& state : views) {
    const std::string& agent = state->agent;
    updates.push_back(AgentUpdate{++seq_, state});
    next->agents.Set(agent, std::move(state));
  }
  next->seq = seq_;
  published_since_trim_ += updates.size();
  // Listeners first: a stream viewer joining now gets a snapshot that is never ahead of what
  // the stream has been told.
  CommitNotice notice{batch.changes, updates, commit_time, events, batch.outbox, durable};
  for (const Listener& listener : listeners_) listener(notice);
  snapshot_.store(std::move(next));
}

// Users whose view only a connector's report changed (the batch with the report has already
// published the ones it touched, with the report in).
void Core::PublishReported(std::vector<std::string> reported, const BatchBuilder& batch) {
  // A failed commit's recovery published every user (with the reports) when it could read the
  // store; when it could not, the engine is empty and there is nothing to show.
  if (reported.empty() || !healthy_) return;
  std::sort(reported.begin(), reported.end());
  reported.erase(std::unique(reported.begin(), reported.end()), reported.end());
  std::vector<std::shared_ptr<const AgentState>> left;
  for (const std::string& agent : reported) {
    bool committed = false;
    for (const tracking::AgentRecord& record : batch.batch().agents) {
      if (record.agent == agent) committed = true;
    }
    if (!committed && engine_.Find(agent)) left.push_back(View(agent));
  }
  if (left.empty()) return;
  tracking::CommitBatch nothing;
  Publish(std::move(left), nothing, std::chrono::nanoseconds(0), 0, /*durable=*/false);
}

bool Core::Recover() {
  if (!Reload().ok()) return false;
  healthy_ = true;
  lost_ = false;
  PublishAll();
  return true;
}

// After start-up or a failed commit: every user as the engine now has them.
void Core::PublishAll() {
  auto next = std::make_shared<Snapshot>();
  next->catalog = catalog_;
  std::vector<std::shared_ptr<const AgentState>> views;
  views.reserve(engine_.size());
  for (const std::string& agent : engine_.AgentIds()) views.push_back(View(agent));
  published_since_trim_ += views.size();
  next->agents = AgentDirectory(std::move(views));  // built at once, not one Set per user
  next->seq = seq_;  // nothing new happened: no sequence number is used up
  snapshot_.store(std::move(next));
}

void Core::ReturnFreeMemory() {
#if defined(__GLIBC__)
  // glibc keeps freed memory for reuse; after a burst (every user's state replaced, start-up's
  // reading) most of it is free pages that an idle agent would hold for nothing.
  malloc_trim(0);
#endif
  published_since_trim_ = 0;
}

}  // namespace presence::agent
