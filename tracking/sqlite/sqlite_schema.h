#pragma once

// Connection settings and versioned schema migrations of the SQLite time ledger. The version
// lives in PRAGMA user_version; each migration step runs in its own transaction and moves the
// version up by one, so a crash mid-migration leaves a database at a well-defined version.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "common/result.h"
#include "tracking/time_store.h"

namespace presence::tracking {

// The schema version this program writes; a database with a higher one is refused.
inline constexpr int kLedgerSchemaVersion = 8;

// The first version whose (agent, start) index covers what exports read.
inline constexpr int kLedgerReportIndexVersion = 6;

// The first version that records how much of the change journal its tables hold.
inline constexpr int kLedgerJournalVersion = 7;

// The first version whose totals of whole days come from the day aggregates (daily_totals is
// gone).
inline constexpr int kLedgerDayTotalsInAggregatesVersion = 8;

// The first version that has the sync tables (sync_marks, sync_figures).
inline constexpr int kLedgerSyncStateVersion = 3;

inline constexpr int kLedgerBusyTimeoutMs = 5000;

// The last change-journal record the ledger's tables hold (journal_folds); 0 when none, also on
// a ledger older than kLedgerJournalVersion.
uint64_t LedgerFoldedSeq(SQLite::Database& db, int version = kLedgerSchemaVersion);

// For the writer connection: refuses a database newer than this program (code
// "schema_too_new"), switches to WAL with synchronous=FULL for kPowerLoss (every commit is
// synced, so an acknowledged batch survives a process kill and power loss) or NORMAL for
// kProcessCrash (commits reach the OS before the answer; synced at checkpoints), enables foreign
// keys and migrates to kLedgerSchemaVersion. Throws SQLite::Exception for I/O errors and files that
// are not SQLite databases. A long migration step (building the report aggregates, 4 -> 5) logs
// its progress to `log` (may be empty).
Status PrepareLedgerWriter(SQLite::Database& db, Durability durability, const LogSink& log = {});

// Runs PRAGMA quick_check or integrity_check on `db` (the ledger at `path`) and returns
// "ledger_damaged" (DamagedLedgerError) with its first findings when it reports anything but
// "ok". Throws SQLite::Exception when the check cannot run (see IsDamageError).
Status CheckLedgerIntegrity(SQLite::Database& db, const std::string& path, LedgerCheck check);

// True for the SQLite errors that mean a damaged file or not a database at all (SQLITE_CORRUPT,
// SQLITE_NOTADB), as opposed to I/O, permission or locking errors.
bool IsDamageError(const SQLite::Exception& e);

// What a failed query says: e.what(), and for damage (IsDamageError) where to read how to recover.
std::string StorageFailureText(const std::exception& e);

// "ledger_damaged": `finding` (what the check or SQLite said), and how to recover (restore a
// backup, or salvage into a new file), naming the file. `version` is the damaged file's schema
// version when it could be read (a salvage by .dump must set it again).
Error DamagedLedgerError(const std::string& path, const std::string& finding,
                         std::optional<int> version = std::nullopt);

// For a reader connection opened after PrepareLedgerWriter on the same file.
void PrepareLedgerReader(SQLite::Database& db);

// Readies a kept statement for its next run. tryReset, not reset: after a failed step
// sqlite3_reset repeats that step's error, and reset() would throw it again on the next run.
SQLite::Statement& Reuse(SQLite::Statement& statement);

// The schema version of the file behind `db` (PRAGMA user_version; 0 for a new file).
int LedgerSchemaVersion(SQLite::Database& db);

// Tests only: runs the first `version` migration steps on a new database, leaving it as a
// program of that schema version would have (to test upgrades and readers of older ledgers).
// Throws std::invalid_argument for a version outside 1..kLedgerSchemaVersion.
void MigrateLedgerForTesting(SQLite::Database& db, int version, const LogSink& log = {});

}  // namespace presence::tracking
