#pragma once

// The time ledger's storage. One writer (the core thread) calls Submit (or Commit); readers
// may call the query methods from any thread. No SQLite type leaks through this interface: a
// PostgreSQL implementation is planned.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "tracking/aggregate_snapshot.h"
#include "tracking/ledger_types.h"

namespace presence::tracking {

class TimeStore {
 public:
  virtual ~TimeStore() = default;

  // Applies the whole batch atomically and durably (one transaction, one sync), in order:
  // each change closes the user's open interval at change.at and opens a new one there, and
  // folds the closed interval's time into the per-day totals; the outbox rows are stored with
  // the ids they carry (ids must be new and increasing). A change dated before the
  // user's open interval started is refused (code "out_of_order") and nothing is written.
  // Returns only after the batch survives a process kill.
  virtual Status Commit(const CommitBatch& batch) = 0;
  // Commit as a pipeline, for the one writer: may return before the batch is durable, so the
  // writer can prepare the next batch meanwhile. An error returned means nothing of the batch
  // was written, and `durable` is not called. Otherwise `durable` is called exactly once, with
  // Ok once the batch survives what Commit promises, or with the error that lost it; then every
  // batch submitted after it is lost too (its `durable` gets an error as well). Calls come in
  // the order of submission, on a thread of the store's or on the caller's before Submit
  // returns; `durable` must not block. A batch's order check counts the batches submitted
  // before it, durable yet or not. The default commits at once and calls `durable` before
  // returning.
  using Durable = std::function<void(Status)>;
  virtual Status Submit(const CommitBatch& batch, Durable durable) {
    if (Status status = Commit(batch); !status.ok()) return status;
    durable(Status::Ok());
    return Status::Ok();
  }
  // Every user with a record or an interval, with its open interval: what start-up restores.
  virtual Result<std::vector<StoredAgent>> LoadAgents() = 0;

  // Intervals of one user (or all when agent is nullopt) that overlap [from, to), ordered by
  // start then id. Open intervals are returned with end = nullopt. An interval that starts
  // inside the range is included even when it is zero-length; one that ends exactly at `from`
  // is not. Empty when to <= from.
  virtual Result<std::vector<Interval>> Intervals(const std::optional<std::string>& agent,
                                                  Timestamp from, Timestamp to) = 0;

  // Time per user per state (label + status) within [from, to), open intervals counted up to
  // min(now, to). Must not scan all history: whole UTC days come from per-day totals kept as
  // intervals close. Ordered by agent, then label, then status; groups that sum to zero are
  // left out. Empty when to <= from.
  virtual Result<std::vector<Total>> Totals(const TotalsQuery& query) = 0;

  // The outbox as stored: what start-up hands to the connectors' delivery workers.
  virtual Result<OutboxState> LoadOutbox() = 0;

  // Removes delivered (or abandoned) outbox rows; unknown ids are ignored. May be called from
  // any thread, also while the core thread commits (the store serialises its writes). Does not
  // sync to disk on its own: a row whose removal is lost in a power cut is delivered again
  // (every connector's delivery is idempotent), never lost.
  virtual Status RemoveOutbox(const std::vector<int64_t>& ids) = 0;

  // Streams the intervals that overlap [from, to) (the rule of Intervals) user by user, as
  // IntervalVisitor describes, from one consistent snapshot, holding one row in memory at a
  // time: a year of 1,000 users exports without loading it. Runs on a connection of its own,
  // so a long export holds up neither the writer nor other readers. Users in scan.agents that
  // the ledger does not know still get BeginUser. Empty range: BeginUser calls only.
  virtual Status ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) = 0;

  // A snapshot of the pre-aggregated time per user and UTC day (Commit keeps it in the same
  // transaction as the intervals), for totals reports over long ranges
  // (tracking/report/aggregate_report.h). "not_available" when this store keeps none (the
  // in-memory store, a ledger read before its upgrade to schema 5): the caller then reads the
  // intervals instead.
  virtual Result<std::unique_ptr<AggregateSnapshot>> OpenAggregates() = 0;

  // The CRM time-tracking sync's progress for `target` (the sync's name); an empty state when
  // nothing was saved yet.
  virtual Result<SyncState> LoadSyncState(const std::string& target) = 0;

  // Records delivered figures (upserted by key) and, when `done_through` is set, moves the
  // target's finished-day mark there and forgets the figures of days up to it. Any thread,
  // also while the core commits; like RemoveOutbox it does not sync to disk on its own (a lost
  // save means figures are sent again: the remote upsert is idempotent).
  virtual Status SaveSyncState(const std::string& target, const std::vector<SyncedFigure>& figures,
                               const std::optional<std::string>& done_through) = 0;
};

// Options for opening a durable ledger (tracking/sqlite/sqlite_store.h).

// How far an acknowledged commit is guaranteed to survive.
enum class Durability {
  kPowerLoss,     // every commit is synced to disk (the SQLite ledger's change journal, or
                  // synchronous=FULL where a store writes its tables directly): survives power loss
  kProcessCrash,  // commits reach the OS, synced at checkpoints (synchronous=NORMAL): survives
                  // kill -9 and crashes of the agent, not of the machine; much faster on slow disks
};

// How thoroughly a writer checks the ledger's file before it writes to it.
enum class LedgerCheck {
  kQuick,  // PRAGMA quick_check: every page's structure and records; O(file size)
  kFull,   // PRAGMA integrity_check: that, and every index against its table; slower
};

struct LedgerOptions {
  Durability durability = Durability::kPowerLoss;
  LedgerCheck check = LedgerCheck::kQuick;
  // Told about what opens but deserves a line in the log (a 0-byte file taken as a new,
  // empty ledger). May be empty.
  // Long upgrades of an existing ledger report their progress here too.
  LogSink log;
};

}  // namespace presence::tracking
