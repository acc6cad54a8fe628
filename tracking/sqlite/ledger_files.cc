#include "tracking/sqlite/ledger_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace presence::tracking {
namespace {

// What to change, by the reason open(2) gave.
std::string Remedy(int error) {
  switch (error) {
    case EACCES:
      return "give the user the agent runs as write access to it (chown, chmod u+w)";
    case EPERM:
      return "it is marked immutable or append-only: see lsattr, and chattr -i";
    case EROFS:
      return "its file system is mounted read-only: mount it read-write, or move the ledger";
    default:
      return "make it writable for the user the agent runs as";
  }
}

std::string Reason(int error) { return std::strerror(error); }

Status CheckFolder(const std::string& path) {
  const std::string folder = LedgerFolder(path);
  std::error_code ignored;
  if (!std::filesystem::is_directory(folder, ignored)) {
    return Error{"storage_error", "the folder '" + folder + "' of the time ledger '" + path +
                                      "' does not exist (or is not a folder)"};
  }
  // Creating a file is the only test that tells for root too (access(2) ignores mode bits).
  std::string probe = folder + "/.presence-write-test-XXXXXX";
  const int fd = ::mkostemp(probe.data(), O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return Error{"ledger_not_writable",
                 "the folder '" + folder + "' of the time ledger '" + path + "' is not writable (" +
                     Reason(error) +
                     "); the ledger needs it for its -wal, -shm and .lock files: " + Remedy(error)};
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::Ok();
}

Status CheckFile(const std::string& ledger, const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd >= 0) {
    ::close(fd);
    return Status::Ok();
  }
  const int error = errno;
  const std::string what = file == ledger ? "the time ledger '" + ledger + "'"
                                          : "'" + file + "' (a file of the time ledger)";
  return Error{"ledger_not_writable", what + " cannot be opened for writing (" + Reason(error) +
                                          "); every change is written there: " + Remedy(error)};
}

}  // namespace

std::string LedgerFolder(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  return folder.empty() ? "." : folder;
}

std::vector<std::string> ExistingLedgerFiles(const std::string& path) {
  std::vector<std::string> files;
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) {
    std::error_code ignored;
    if (std::filesystem::exists(path + suffix, ignored)) files.push_back(path + suffix);
  }
  return files;
}

Status CheckLedgerWritable(const std::string& path) {
  if (Status folder = CheckFolder(path); !folder.ok()) return folder;
  for (const std::string& file : ExistingLedgerFiles(path)) {
    if (Status status = CheckFile(path, file); !status.ok()) return status;
  }
  return Status::Ok();
}

Status CreateLedgerFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Status::Ok();
  }
  const int error = errno;
  if (error == EEXIST) return Status::Ok();
  return Error{"storage_error", "cannot create the time ledger '" + path + "': " + Reason(error)};
}

bool IsEmptyLedgerFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && info.st_size == 0;
}

}  // namespace presence::tracking
