// A TimeStore that only reads a ledger: for reports run beside a live agent. It never creates,
// migrates or locks the file, so it cannot turn an unrelated SQLite file into a ledger.

#include <SQLiteCpp/Database.h>

#include <filesystem>

#include "tracking/sqlite/change_journal.h"
#include "tracking/sqlite/ledger_lock.h"
#include "tracking/sqlite/sqlite_aggregates.h"
#include "tracking/sqlite/sqlite_interval_scan.h"
#include "tracking/sqlite/sqlite_ledger_reader.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::tracking {
namespace {

class ReadOnlySqliteTimeStore final : public TimeStore {
 public:
  explicit ReadOnlySqliteTimeStore(const std::string& path) : path_(path), reader_(path) {}

  Status Commit(const CommitBatch&) override {
    return Error{"read_only", "this ledger was opened for reading only"};
  }
  Result<std::vector<StoredAgent>> LoadAgents() override { return reader_.LoadAgents(); }
  Result<std::vector<Interval>> Intervals(const std::optional<std::string>& agent, Timestamp from,
                                          Timestamp to) override {
    return reader_.Intervals(agent, from, to);
  }
  Result<std::vector<Total>> Totals(const TotalsQuery& query) override {
    return reader_.Totals(query);
  }
  Result<OutboxState> LoadOutbox() override {
    return Error{"read_only", "the outbox is not read through a read-only ledger"};
  }
  Status RemoveOutbox(const std::vector<int64_t>&) override {
    return Error{"read_only", "this ledger was opened for reading only"};
  }
  Status ScanIntervals(const IntervalScan& scan, IntervalVisitor& visitor) override {
    return ScanLedgerIntervals(path_, scan, visitor);
  }
  // "not_available" on a ledger its agent has not upgraded yet: reports read intervals then.
  Result<std::unique_ptr<AggregateSnapshot>> OpenAggregates() override {
    return OpenSqliteAggregates(path_);
  }
  Result<SyncState> LoadSyncState(const std::string& target) override {
    return reader_.LoadSyncState(target);
  }
  Status SaveSyncState(const std::string&, const std::vector<SyncedFigure>&,
                       const std::optional<std::string>&) override {
    return Error{"read_only", "this ledger was opened for reading only"};
  }

 private:
  std::string path_;
  SqliteLedgerReader reader_;
};

// The ledger's journal holds acknowledged changes its tables lack, and no agent is running to
// write them in: a report would leave them out without a word.
Status CheckNothingLeftInJournal(SQLite::Database& db, const std::string& path, int version) {
  // A running agent folds its journal into the file within moments.
  if (IsLedgerWriterRunning(path)) return Status::Ok();
  Result<uint64_t> unfolded = CountUnfoldedRecords(path, LedgerFoldedSeq(db, version));
  if (!unfolded.ok()) return unfolded.error();
  if (*unfolded == 0) return Status::Ok();
  return Error{"ledger_not_folded",
               "the ledger '" + path + "' lacks its last " + std::to_string(*unfolded) +
                   " acknowledged commits: they are still in its change journal (" + path +
                   ".changes-*), left by an agent that stopped without writing them in (killed "
                   "or crashed). Start the agent once, which writes them into the ledger, then "
                   "read it again"};
}

}  // namespace

Result<std::unique_ptr<TimeStore>> OpenSqliteTimeStoreReadOnly(const std::string& path) {
  const std::string prefix = "cannot read the ledger '" + path + "': ";
  if (!std::filesystem::is_regular_file(path)) {
    return Error{"not_a_ledger", prefix + "no such file"};
  }
  try {
    SQLite::Database probe(path, SQLite::OPEN_READONLY);
    // Older ledgers are readable too: reports may run beside an agent not yet upgraded. Steps
    // add tables the reader does without, and the reader asks the version at each query where
    // a step changed what it reads (8 dropped daily_totals; an older program's report beside an
    // agent that upgraded the file meanwhile fails its whole-day totals with "no such table").
    const int version = LedgerSchemaVersion(probe);
    if (version < 1 || version > kLedgerSchemaVersion) {
      return Error{"not_a_ledger", prefix + "not a time ledger of schema version 1 to " +
                                       std::to_string(kLedgerSchemaVersion) + " (found version " +
                                       std::to_string(version) + ")"};
    }
    if (Status complete = CheckNothingLeftInJournal(probe, path, version); !complete.ok()) {
      return complete.error();
    }
    return std::unique_ptr<TimeStore>(std::make_unique<ReadOnlySqliteTimeStore>(path));
  } catch (const std::exception& e) {
    return Error{"not_a_ledger", prefix + e.what()};
  }
}

}  // namespace presence::tracking
