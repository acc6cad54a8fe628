#include "tests/fakes/write_protect.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace presence::testing {
namespace {

// Sets or clears FS_IMMUTABLE_FL; false when the file system or the capabilities refuse.
bool SetImmutable(const std::string& path, bool on) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  int flags = 0;
  bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok) {
    flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  ::close(fd);
  return ok;
}

bool IsFolder(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

WriteProtect::WriteProtect(std::string path) : path_(std::move(path)) {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) return;
  old_mode_ = info.st_mode & 07777;
  if (::geteuid() == 0) {
    immutable_ = SetImmutable(path_, true);
    if (immutable_) how_ = "chattr +i";
    return;
  }
  if (::chmod(path_.c_str(), old_mode_ & ~0222u) == 0) how_ = "chmod a-w";
}

WriteProtect::~WriteProtect() {
  if (immutable_) SetImmutable(path_, false);
  if (how_ == "chmod a-w") ::chmod(path_.c_str(), old_mode_);
}

bool WriteProtect::effective() const {
  if (how_.empty()) return false;
  if (IsFolder(path_)) {
    std::string probe = path_ + "/probe-XXXXXX";
    const int fd = ::mkstemp(probe.data());
    if (fd < 0) return true;
    ::close(fd);
    ::unlink(probe.c_str());
    return false;
  }
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return true;
  ::close(fd);
  return false;
}

unsigned ModeOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 0777;
}

}  // namespace presence::testing
