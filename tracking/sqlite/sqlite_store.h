#pragma once

// Opening the SQLite ledger: the one way in to tracking/sqlite/ from outside it.

#include <memory>
#include <string>

#include "common/result.h"
#include "tracking/time_store.h"

namespace presence::tracking {

// SQLite (WAL, versioned migrations, prepared statements). The file is created if missing;
// it must be a real file (not ":memory:"), since readers open it again on their own
// connection. Errors opening or migrating are returned, not thrown: "schema_too_new" for a
// database written by a newer program, "ledger_damaged" and "ledger_not_writable" (below),
// "storage_error" for anything else (unreadable, no such folder).
//
// Only one process may write a ledger: the writer holds an exclusive lock on "<path>.lock"
// while the store is open; a second writer gets "ledger_in_use". Before anything is written:
// "ledger_not_writable" when the folder or one of the ledger's files cannot be written
// (ledger_files.h), "ledger_damaged" when the check finds damage or the file is not a SQLite
// database; both messages name the file and say what to do. A new ledger file is created
// with mode 0600 (its -wal and -shm follow it).
Result<std::unique_ptr<TimeStore>> OpenSqliteTimeStore(const std::string& path,
                                                       const LedgerOptions& options);
inline Result<std::unique_ptr<TimeStore>> OpenSqliteTimeStore(
    const std::string& path, Durability durability = Durability::kPowerLoss) {
  return OpenSqliteTimeStore(path, LedgerOptions{.durability = durability});
}

// Reading only (reports next to a running agent): never creates, migrates or locks the file.
// Reads ledgers of schema version 1 up to this program's (an older agent's ledger included;
// before version 3 it has no sync state). "not_a_ledger" for a missing file, one that is not a
// ledger, or one of a newer schema; Commit, SaveSyncState and RemoveOutbox fail with
// "read_only". Beside a running agent it sees each commit once the agent has folded it from its
// change journal (journaled_time_store.h), within moments. "ledger_not_folded" when no agent
// runs and the journal still holds acknowledged commits the file lacks (the agent was killed):
// starting the agent writes them in.
Result<std::unique_ptr<TimeStore>> OpenSqliteTimeStoreReadOnly(const std::string& path);

}  // namespace presence::tracking
