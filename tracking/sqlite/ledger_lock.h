#pragma once

// The one-writer rule across processes: two processes writing one ledger would each trust
// their own record of every user's latest change (the journal's order check) and corrupt the
// timeline. The writer holds an exclusive
// advisory lock (flock) on "<ledger>.lock"; the kernel drops it if the process dies, so a
// kill -9 never leaves a stale lock behind.

#include <string>

#include "common/result.h"

namespace presence::tracking {

class LedgerLock {
 public:
  // "ledger_in_use" when another process holds it; "storage_error" when the file cannot be
  // created.
  static Result<LedgerLock> Acquire(const std::string& ledger_path);

  LedgerLock(LedgerLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  LedgerLock& operator=(LedgerLock&& other) noexcept;
  LedgerLock(const LedgerLock&) = delete;
  LedgerLock& operator=(const LedgerLock&) = delete;
  ~LedgerLock();

 private:
  explicit LedgerLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// True while a writer process holds the ledger's lock; tests without taking any lock.
bool IsLedgerWriterRunning(const std::string& ledger_path);

}  // namespace presence::tracking
