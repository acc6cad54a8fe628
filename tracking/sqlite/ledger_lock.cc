#include "tracking/sqlite/ledger_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace presence::tracking {

Result<LedgerLock> LedgerLock::Acquire(const std::string& ledger_path) {
  const std::string path = ledger_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"storage_error",
                 "cannot create the lock file '" + path + "': " + std::strerror(errno)};
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error{"ledger_in_use", "the ledger '" + ledger_path +
                                      "' is in use by another presence-agent process; stop it "
                                      "first, or give this one another data directory"};
  }
  // The same lock once more as an open-file-description lock, which a reader can test without
  // taking it (IsLedgerWriterRunning): a flock can only be tested by taking it, which would
  // make a writer starting at that moment fail. Released with the descriptor as well.
  struct flock whole {};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  ::fcntl(fd, F_OFD_SETLK, &whole);
  return LedgerLock(fd);
}

bool IsLedgerWriterRunning(const std::string& ledger_path) {
  int fd = ::open((ledger_path + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock probe {};
  probe.l_type = F_RDLCK;
  probe.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

LedgerLock& LedgerLock::operator=(LedgerLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

LedgerLock::~LedgerLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace presence::tracking
