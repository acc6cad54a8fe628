#pragma once

// The files of a SQLite ledger as the operating system sees them, checked before SQLite opens
// them: SQLite quietly falls back to reading only when the file is write-protected, and then
// every commit fails one by one; these checks refuse the start instead, naming the file.
// The ledger is "<path>" with "<path>-wal", "<path>-shm" (SQLite's, created with the ledger's
// permissions) and "<path>.lock" (ledger_lock.h), all in the ledger's folder.

#include <string>
#include <vector>

#include "common/result.h"

namespace presence::tracking {

// The ledger's folder ("." for a bare file name).
std::string LedgerFolder(const std::string& path);

// The ledger's files that exist now: the ledger, -wal, -shm, .lock (in that order).
std::vector<std::string> ExistingLedgerFiles(const std::string& path);

// "storage_error" when the folder does not exist; "ledger_not_writable" when a file cannot be
// created in it, or when one of the ledger's files that exist cannot be opened for writing
// (mode bits for anyone but root; an immutable flag or a read-only mount for root too). The message
// names the file or folder, gives the system's reason, and says what to change.
Status CheckLedgerWritable(const std::string& path);

// Creates a missing ledger file with mode 0600 (before SQLite would create it 0644), so the
// -wal and -shm files SQLite creates beside it get 0600 too. An existing file is left as it
// is. "storage_error" when it cannot be created.
Status CreateLedgerFile(const std::string& path);

// True when the ledger file exists and holds no bytes at all: SQLite takes such a file for a
// new database, so whatever it held before is gone without a word unless someone says so.
bool IsEmptyLedgerFile(const std::string& path);

}  // namespace presence::tracking
