#pragma once

// The CRM time-tracking sync's progress in the SQLite ledger (tables sync_marks and
// sync_figures, schema version kLedgerSyncStateVersion and later).

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <optional>
#include <string>
#include <vector>

#include "tracking/ledger_types.h"

namespace presence::tracking {

// `target`'s state, figures ordered by day then key; run it inside a read transaction so the
// mark and the figures agree. Throws SQLite::Exception.
SyncState ReadSyncState(SQLite::Database& db, const std::string& target);

// Saves sync state on a read-write connection with kept statements. Not synchronised: the
// owner serialises calls together with everything else it runs on that connection.
class SqliteSyncStateWriter {
 public:
  // Throws SQLite::Exception when the statements cannot be prepared (e.g. an old schema).
  explicit SqliteSyncStateWriter(SQLite::Database& db);

  // TimeStore::SaveSyncState in one transaction: upserts the figures by key, then, when
  // `done_through` is set, moves the mark there and deletes the figures of days up to it.
  // Throws SQLite::Exception (the transaction is rolled back).
  void Save(const std::string& target, const std::vector<SyncedFigure>& figures,
            const std::optional<std::string>& done_through);

 private:
  SQLite::Database& db_;
  SQLite::Statement upsert_figure_;
  SQLite::Statement set_mark_;
  SQLite::Statement forget_done_days_;
};

}  // namespace presence::tracking
