#include "tracking/sqlite/sqlite_schema.h"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <array>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tracking/sqlite/sqlite_aggregates.h"

namespace presence::tracking {
namespace {

// Step i brings the schema from version i to i + 1. Append new steps; never edit old ones:
// databases in the field have already run them.
constexpr std::array<const char*, kLedgerSchemaVersion> kMigrations = {
    // 0 -> 1: intervals, each user's live row, and per-day totals kept as intervals close.
    R"sql(
      CREATE TABLE intervals (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        label TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        status INTEGER NOT NULL,
        source TEXT NOT NULL,
        cause TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        CHECK (end_ms IS NULL OR end_ms >= start_ms)
      );
      CREATE INDEX intervals_by_agent_start ON intervals (agent, start_ms);
      CREATE INDEX intervals_by_start ON intervals (start_ms);
      CREATE TABLE agents (
        agent TEXT PRIMARY KEY,
        engine_state TEXT NOT NULL DEFAULT '',
        open_interval_id INTEGER REFERENCES intervals (id)
      );
      CREATE TABLE daily_totals (
        agent TEXT NOT NULL,
        day INTEGER NOT NULL,
        label TEXT NOT NULL,
        status INTEGER NOT NULL,
        ms INTEGER NOT NULL,
        PRIMARY KEY (agent, day, label, status)
      ) WITHOUT ROWID;
      CREATE INDEX daily_totals_by_day ON daily_totals (day);
    )sql",
    // 1 -> 2: the connectors' durable outbox. AUTOINCREMENT keeps the highest id ever used in
    // sqlite_sequence, so ids are never reused once delivered rows are gone.
    R"sql(
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        connector TEXT NOT NULL,
        agent TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        from_label TEXT NOT NULL,
        label TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        status INTEGER NOT NULL,
        source TEXT NOT NULL,
        cause TEXT NOT NULL
      );
    )sql",
    // 2 -> 3: the CRM time-tracking sync's progress per target: its finished-day mark and the
    // figures it delivered for later days (keyed by the remote record's external id).
    R"sql(
      CREATE TABLE sync_marks (
        target TEXT PRIMARY KEY,
        done_through TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sync_figures (
        target TEXT NOT NULL,
        key TEXT NOT NULL,
        day TEXT NOT NULL,
        ms INTEGER NOT NULL,
        final INTEGER NOT NULL,
        PRIMARY KEY (target, key)
      ) WITHOUT ROWID;
      CREATE INDEX sync_figures_by_day ON sync_figures (target, day);
    )sql",
    // 3 -> 4: what a connector worked out for a change when it was committed (the phone-system
    // actions the state asked for), so a delivery carries out exactly what was acknowledged.
    R"sql(
      ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '';
    )sql",
    // 4 -> 5: pre-aggregated closed time per user and UTC day for reports
    // (tracking/day_aggregate.h), with the states the day blobs name by id. The step then fills
    // them from the existing intervals (FillDayAggregates), in the same transaction: a step
    // killed half-way leaves a version-4 ledger, and the next start builds them again.
    R"sql(
      CREATE TABLE states (
        id INTEGER PRIMARY KEY,
        label TEXT NOT NULL,
        reason_code TEXT NOT NULL,
        status INTEGER NOT NULL,
        UNIQUE (label, reason_code, status)
      );
      CREATE TABLE day_aggregates (
        agent TEXT NOT NULL,
        day INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (agent, day)
      ) WITHOUT ROWID;
    )sql",
    // 5 -> 6: the (agent, start) index holds every column an export reads, in the order it
    // reads them (id breaks ties of start), so a report reads each user's intervals from the
    // index alone. The table's rows lie in commit order, everyone's interleaved: looking each
    // one up cost about a page read per row (a year's detail export 3x slower). About a third
    // more file; the index is as many writes per change as the one it replaces.
    R"sql(
      CREATE INDEX intervals_for_reports ON intervals
        (agent, start_ms, id, label, reason_code, status, source, cause, end_ms);
      DROP INDEX intervals_by_agent_start;
    )sql",
    // 6 -> 7: the last change-journal record (change_journal.h) whose batch the tables hold,
    // written in the same transaction as the batch, so a start replays exactly the rest.
    R"sql(
      CREATE TABLE journal_folds (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
      );
    )sql",
    // 7 -> 8: whole days of totals come from the day aggregates (each day's row starts with its
    // totals per state) rather than from daily_totals, which held the same time again: one
    // write fewer per user and fold (at 100,000 users nearly one per change). Found by day for
    // totals over every user.
    R"sql(
      CREATE INDEX day_aggregates_by_day ON day_aggregates (day);
      DROP TABLE daily_totals;
    )sql",
};

Error TooNew(int version) {
  return Error{"schema_too_new", "database schema version " + std::to_string(version) +
                                     " is newer than this program supports (" +
                                     std::to_string(kLedgerSchemaVersion) + ")"};
}

// The steps 5 -> 6 (one CREATE INDEX over the intervals) and 7 -> 8 (an index over the day rows,
// and daily_totals dropped) have no progress of their own: a line before each says what is
// built and how big it is, as a ledger of a year of a large floor takes a while. `rows` counts
// `table`, and the line is "indexing <rows><what>".
void LogLongStep(SQLite::Database& db, const LogSink& log, int version, const char* table,
                 const char* what) {
  if (!log) return;
  const int64_t rows = db.execAndGet(std::string("SELECT COUNT(*) FROM ") + table).getInt64();
  if (rows == 0) return;
  log(LogLevel::kInfo, "upgrading the time ledger to schema " + std::to_string(version) +
                           ": indexing " + std::to_string(rows) + what);
}

// Runs the steps up to schema version `target` (at most kLedgerSchemaVersion).
Status Migrate(SQLite::Database& db, int target, const LogSink& log) {
  for (;;) {
    // IMMEDIATE takes the write lock before reading the version, so two processes starting
    // on the same file cannot both run a step.
    SQLite::Transaction step(db, SQLite::TransactionBehavior::IMMEDIATE);
    int version = LedgerSchemaVersion(db);
    if (version > kLedgerSchemaVersion) return TooNew(version);
    if (version >= target) return Status::Ok();
    if (version + 1 == kLedgerReportIndexVersion) {
      LogLongStep(db, log, kLedgerReportIndexVersion, "intervals",
                  " intervals for exports (once; about 10 s per million intervals)");
    }
    if (version + 1 == kLedgerDayTotalsInAggregatesVersion) {
      LogLongStep(db, log, kLedgerDayTotalsInAggregatesVersion, "day_aggregates",
                  " day rows by day and dropping daily_totals (once; the file keeps its size "
                  "until a VACUUM)");
    }
    db.exec(kMigrations[version]);
    if (version + 1 == kLedgerAggregatesVersion) FillDayAggregates(db, log);
    db.exec("PRAGMA user_version = " + std::to_string(version + 1));
    step.commit();
  }
}

}  // namespace

SQLite::Statement& Reuse(SQLite::Statement& statement) {
  statement.tryReset();
  statement.clearBindings();
  return statement;
}

int LedgerSchemaVersion(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

uint64_t LedgerFoldedSeq(SQLite::Database& db, int version) {
  if (version < kLedgerJournalVersion) return 0;
  SQLite::Statement row(db, "SELECT seq FROM journal_folds WHERE id = 1");
  return row.executeStep() ? static_cast<uint64_t>(row.getColumn(0).getInt64()) : 0;
}

Status PrepareLedgerWriter(SQLite::Database& db, Durability durability, const LogSink& log) {
  db.setBusyTimeout(kLedgerBusyTimeoutMs);
  // Checked before anything else touches the file: a newer program's database is left as is.
  if (int version = LedgerSchemaVersion(db); version > kLedgerSchemaVersion) return TooNew(version);
  std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
  if (mode != "wal") {
    return Error{"storage_error",
                 "the time ledger needs a file that supports WAL (journal mode "
                 "is '" +
                     mode + "')"};
  }
  // WAL with NORMAL still writes every commit to the log before answering (so a killed
  // process loses nothing); only the sync to the disk waits for a checkpoint.
  db.exec(durability == Durability::kPowerLoss ? "PRAGMA synchronous = FULL"
                                               : "PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  return Migrate(db, kLedgerSchemaVersion, log);
}

Status CheckLedgerIntegrity(SQLite::Database& db, const std::string& path, LedgerCheck check) {
  // At most this many findings: the first few say enough, and a badly damaged file has
  // thousands.
  constexpr int kFindings = 5;
  const char* pragma = check == LedgerCheck::kFull ? "integrity_check" : "quick_check";
  SQLite::Statement rows(db,
                         std::string("PRAGMA ") + pragma + "(" + std::to_string(kFindings) + ")");
  std::string findings;
  while (rows.executeStep()) {
    // A finding may span lines ("*** in database main ***\nPage 192: ..."): one line in a log.
    std::istringstream lines(rows.getColumn(0).getString());
    for (std::string line; std::getline(lines, line);) {
      if (line == "ok" || line.rfind("*** in database", 0) == 0) continue;
      findings += (findings.empty() ? "" : "; ") + line;
    }
  }
  if (findings.empty()) return Status::Ok();
  std::optional<int> version;
  try {
    version = LedgerSchemaVersion(db);
  } catch (const SQLite::Exception&) {
    // Unreadable too: the message then suggests this program's version.
  }
  return DamagedLedgerError(path, std::string("PRAGMA ") + pragma + " found: " + findings, version);
}

bool IsDamageError(const SQLite::Exception& e) {
  const int primary = e.getErrorCode() & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

std::string StorageFailureText(const std::exception& e) {
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  if (sqlite == nullptr || !IsDamageError(*sqlite)) return e.what();
  return std::string(e.what()) +
         " (the ledger file is damaged: see \"Damaged ledger\" in README.md to recover it)";
}

Error DamagedLedgerError(const std::string& path, const std::string& finding,
                         std::optional<int> version) {
  const std::string salvaged = path + ".salvaged";
  const std::string user_version = std::to_string(version.value_or(kLedgerSchemaVersion));
  return Error{"ledger_damaged",
               "the time ledger '" + path + "' is damaged (" + finding +
                   "); nothing was written to it. Restore the ledger from a backup, or salvage "
                   "what is readable into a new file: copy '" +
                   path + "' (and '" + path + "-wal' if there is one) aside, then sqlite3 '" +
                   path + "' \".clone " + salvaged + "\" and sqlite3 '" + salvaged +
                   "' 'PRAGMA user_version = " + user_version + "', and move '" + salvaged +
                   "' to '" + path + "' (see \"Damaged ledger\" in README.md)"};
}

void PrepareLedgerReader(SQLite::Database& db) {
  db.setBusyTimeout(kLedgerBusyTimeoutMs);
  db.exec("PRAGMA query_only = ON");
}

void MigrateLedgerForTesting(SQLite::Database& db, int version, const LogSink& log) {
  if (version < 1 || version > kLedgerSchemaVersion) {
    throw std::invalid_argument("no ledger schema version " + std::to_string(version));
  }
  db.setBusyTimeout(kLedgerBusyTimeoutMs);
  db.execAndGet("PRAGMA journal_mode = WAL");
  if (Status status = Migrate(db, version, log); !status.ok()) {
    throw std::runtime_error(status.error().message);
  }
}

}  // namespace presence::tracking
