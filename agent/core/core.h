#pragma once

// The core: one thread that owns the engine and is the ledger's only writer. Producers
// (stdin reader, HTTP handlers, PBX readers) Post events and get a future that resolves once
// the event's changes are durable. The thread drains whatever is queued, runs it through the
// engine and submits it as one batch (group commit: one sync for many events). While the store
// syncs it, the thread goes on with the next batch (up to kMaxInFlight batches wait for their
// sync); a batch is published to readers and listeners, and answered, only once it is durable,
// in order (a catalog reload publishes every user at once, as the engine has them, after the
// batches ahead of it). Wrap-up timers fire on the same thread, stamped at their due time.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/core/agent_directory.h"
#include "agent/core/batch_builder.h"
#include "agent/core/engine_state.h"
#include "agent/engine/engine.h"
#include "agent/engine/timer_queue.h"
#include "common/atomic_shared.h"
#include "tracking/report/report_zone.h"
#include "tracking/time_store.h"

namespace presence::agent {

struct Reply {
  std::vector<tracking::Change> changes;    // what this event changed, in order
  std::shared_ptr<const AgentState> state;  // the user's state after it (as published)
};

// One user's state after a commit, numbered: every update the core publishes gets the next
// sequence number, so a stream viewer can tell what it missed. `state` is shared and immutable:
// anyone may keep it (and so the update) for as long as they like.
struct AgentUpdate {
  uint64_t seq = 0;
  std::shared_ptr<const AgentState> state;
};

// Every user's state as of update `seq`. Immutable: readers on any thread hold it as long as
// they like while the core publishes newer ones.
struct Snapshot {
  uint64_t seq = 0;
  AgentDirectory agents;                   // by user id
  std::shared_ptr<const Catalog> catalog;  // the catalog in force
};

// What one durable commit did, for listeners (streams, metrics, the connectors' workers).
// Every reference in it points into the core thread's batch and is valid only during the
// listener call: a listener copies what it keeps (the AgentUpdates may be copied as they are).
struct CommitNotice {
  const std::vector<tracking::Change>& changes;
  const std::vector<AgentUpdate>& updates;
  std::chrono::nanoseconds commit_time;
  size_t events = 0;
  const std::vector<tracking::OutboxItem>& outbox;  // rows written with the changes
  // False for updates that wrote nothing (a connector's report of the phone system).
  bool durable = true;
};

struct CoreOptions {
  size_t max_batch = 1024;  // events per transaction at most
};

class Core {
 public:
  // Listener: called on the core thread after each durable commit. Must not block. The
  // notice is valid only during the call (see CommitNotice).
  using Listener = std::function<void(const CommitNotice&)>;

  // `catalog` is shared (the core keeps its own reference). `store` and `clock` are borrowed:
  // both must outlive the core (Stop joins the thread that uses them; the destructor calls
  // it). The wrap-up timers are the core's own. Listeners and the planner, and whatever they
  // capture, are called until Stop returns.
  Core(std::shared_ptr<const Catalog> catalog, tracking::TimeStore& store, const Clock& clock,
       CoreOptions options = {});
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Before Start.
  void AddListener(Listener listener) { listeners_.push_back(std::move(listener)); }

  // Outbox planner: called on the core thread with each batch's changes before the commit,
  // it appends the connectors' rows (ids 0), which the core numbers after `last_outbox_id`
  // and writes in the same transaction. Before Start.
  using OutboxPlanner =
      std::function<void(const std::vector<tracking::Change>&, std::vector<tracking::OutboxItem>&)>;
  void SetOutboxPlanner(OutboxPlanner planner, int64_t last_outbox_id) {
    planner_ = std::move(planner);
    outbox_id_ = last_outbox_id;
  }

  // Heartbeat: called on the core thread at least every `every` while the loop runs (and once
  // right after Start), so a watchdog (systemd's WatchdogSec) sees the thread that applies
  // changes alive, not merely the process. Must not block. Before Start.
  void SetHeartbeat(std::function<void()> beat, std::chrono::milliseconds every) {
    heartbeat_ = std::move(beat);
    heartbeat_every_ = every;
  }

  // Restores every user from the store, re-arms wrap-up timers (a deadline that passed while
  // the process was down ends its wrap-up at once, dated at the deadline) and starts the thread.
  Status Start();

  // Thread-safe. The future holds the outcome once durable, or the engine's error, or
  // "storage_error" (then nothing of that batch happened in the running agent, nor of the
  // batches worked out after it; should the journal's failed sync have reached the disk after
  // all, a restart after a kill replays them), or "stopped".
  std::future<Result<Reply>> Post(Event event);

  // Thread-safe, does not wait: queues every event in order with one lock and one wake-up
  // for the whole batch (the event-loop HTTP server posts what one wake-up of a loop brought).
  // Each `done` is called once, with what Post's future would hold: on the core thread after
  // the commit, or on the calling thread before PostBatch returns when the event is refused
  // at once (a timer type, "stopped"). `done` must not block.
  using Done = std::function<void(Result<Reply>)>;
  struct Posting {
    Event event;
    Done done;
  };
  void PostBatch(std::vector<Posting> postings);

  // Thread-safe. Replaces the catalog on the core thread (SIGHUP reload): later events use it;
  // users keep their current state. Resolves once in force.
  std::future<Status> SetCatalog(std::shared_ptr<const Catalog> catalog);

  // Thread-safe, does not wait: what connector `connector` found differing on the phone
  // system for `agent` (empty: nothing differs any more). Replaces that connector's earlier
  // report for the user and publishes the user's view when it changed; nothing is stored.
  // Reports for users without a state are kept until they have one.
  void ReportPbx(std::string agent, std::string connector,
                 std::vector<reasoncodes::ActionMismatch> mismatches);

  // Thread-safe, lock-free: the latest published snapshot (never null after Start).
  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_.load(); }

  // Makes the loop look at the clock again now (tests advance a fake clock, then Wake).
  void Wake();

  // Finishes what is queued, commits it and joins the thread. Idempotent.
  void Stop();

 private:
  struct PbxReport {
    std::string agent;
    std::string connector;
    std::vector<reasoncodes::ActionMismatch> mismatches;
  };
  struct Pending {
    Event event;
    std::optional<PbxReport> pbx;                // a connector's report instead of an event
    Done done;                                   // the event's outcome
    std::shared_ptr<const Catalog> new_catalog;  // a reload instead of an event
    std::function<void(Status)> reloaded;        // the reload's outcome
  };
  // A batch the engine has applied, waiting for the store's word before it is published and
  // answered (a batch without changes waits for those ahead of it).
  struct InFlight {
    BatchBuilder batch;
    bool submitted = false;        // the store will call back
    std::optional<Error> refused;  // Submit's error: nothing of it was written
    size_t events = 0;
    std::chrono::steady_clock::time_point started;
    // The batch's users as they are after it, to publish.
    std::vector<std::shared_ptr<const AgentState>> views;
    std::vector<std::pair<Done, Result<Reply>>> answers;  // in order
    std::vector<std::function<void(Status)>> reloaded;    // catalog reloads in the batch
    std::vector<std::string> reported;                    // users a connector's report changed
  };
  static constexpr size_t kMaxInFlight = 8;

  // Queues the item unless stopping (then returns false and leaves it with the caller).
  bool Enqueue(Pending& pending);
  void Run();
  void Process(std::deque<Pending>& work);
  void FireTimers(Timestamp now, BatchBuilder& batch);
  // Plans the outbox, stores the budgets and submits the batch (nothing when it is empty).
  void Submit(InFlight& flight);
  // Finishes the batches in flight that the store's word in `arrived` (in order) settles.
  void Settle(std::deque<Status>& arrived);
  void SettleArrived();  // Settle with what has arrived so far
  void Drain();          // waits until no batch is in flight
  void Finish(InFlight& flight, const Status& stored);
  void Publish(std::vector<std::shared_ptr<const AgentState>> views,
               const tracking::CommitBatch& batch, std::chrono::nanoseconds commit_time,
               size_t events, bool durable = true);
  void PublishReported(std::vector<std::string> reported, const BatchBuilder& batch);
  void PublishAll();
  void Beat();  // the heartbeat, when one is due
  // Hands memory freed since the last call back to the system (the loop calls it when it goes
  // idle after kTrimAfterUpdates updates or more).
  void ReturnFreeMemory();
  static constexpr size_t kTrimAfterUpdates = 1000;
  // The state the views show: the engine's plus the connectors' reports.
  std::shared_ptr<const AgentState> View(const std::string& agent);
  // Applies a report; returns whether the user's view changed.
  bool ApplyPbx(PbxReport report);
  // State budgets: today's closed time per budgeted state, kept per user from the changes the
  // core commits, so a published view carries it without reading the ledger. Stored with the
  // user's record in each commit, so a restart reads it back instead of adding up the day.
  struct BudgetTally {
    Timestamp day_start{};
    Timestamp day_end{};
    Timestamp open_since{};    // the current state's start; the epoch when not known
    std::vector<Millis> used;  // by budgeted_ index: time that day before open_since
  };
  void SetZone();  // zone_ and budgeted_ from catalog_
  // The tallies of `users` (every user when null) from the store's totals for today
  // (start-up, reload of the store or of the catalog).
  Status RebuildBudgets(const std::vector<std::string>* users = nullptr);
  // The user's tally from their stored count; false when it does not fit the catalog now in
  // force (another time zone's day, a state budgeted since) and the store must be asked.
  bool RestoreBudget(const AgentState& state, const StoredBudget& stored);
  int BudgetIndex(const std::string& label) const;  // in budgeted_, or -1
  void CountBudgets(const std::vector<tracking::Change>& changes);
  void StoreBudgets(BatchBuilder& batch) const;  // each record of the batch gets its tally
  void AddBudgets(AgentState& view) const;
  Status Reload();  // the engine and timers from the store
  bool Recover();   // after a failed commit: Reload; false while the store cannot be read

  std::shared_ptr<const Catalog> catalog_;
  tracking::TimeStore& store_;
  const Clock& clock_;
  CoreOptions options_;
  Engine engine_;
  TimerQueue timers_;  // core thread only
  Timestamp last_now_{};
  std::vector<Listener> listeners_;
  OutboxPlanner planner_;
  std::function<void()> heartbeat_;
  std::chrono::milliseconds heartbeat_every_{0};
  std::chrono::steady_clock::time_point next_beat_{};  // core thread only
  int64_t outbox_id_ = 0;  // core thread only: the last outbox id handed out
  uint64_t seq_ = 0;       // core thread only
  // Core thread only: each user's mismatches by connector name.
  std::map<std::string, std::map<std::string, std::vector<reasoncodes::ActionMismatch>>> pbx_;
  // Core thread only: the engine is the store's state plus the batches in flight (false: a
  // batch was lost or refused, and the engine waits to be reloaded).
  bool healthy_ = true;
  // Core thread only: batches submitted (or waiting behind those), oldest first; and whether
  // one was lost since the engine was last reloaded (the batches behind it fail too).
  std::deque<InFlight> in_flight_;
  bool lost_ = false;
  // Core thread only: settings.time_zone of catalog_, the budgeted states in catalog order,
  // and each user's tally (empty while no state has a budget).
  tracking::ReportZone zone_ = tracking::ReportZone::Utc();
  std::vector<std::pair<std::string, int>> budgeted_;
  std::unordered_map<std::string, BudgetTally> budgets_;
  // Core thread only: updates published since ReturnFreeMemory.
  size_t published_since_trim_ = 0;
  AtomicShared<const Snapshot> snapshot_;

  std::mutex mutex_;  // guards queue_, durable_, stopping_, woken_ (never the engine)
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::deque<Status> durable_;  // the store's word on submitted batches, in order
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace presence::agent
