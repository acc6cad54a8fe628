#pragma once

// Makes a file or folder unwritable for this process, and undoes it when destroyed. Mode bits
// (chmod a-w) stop every user but root; tests here often run as root, so where the file system
// and the process's capabilities allow it the immutable attribute is set instead (what
// `chattr +i` does, through FS_IOC_SETFLAGS), which stops root too.

#include <string>

namespace presence::testing {

class WriteProtect {
 public:
  explicit WriteProtect(std::string path);
  ~WriteProtect();
  WriteProtect(const WriteProtect&) = delete;
  WriteProtect& operator=(const WriteProtect&) = delete;

  // True when this process can no longer write the file (open it for writing) or the folder
  // (create a file in it); false when nothing available here could stop it, so a test has
  // nothing to check and should say so.
  bool effective() const;
  // "chmod a-w" or "chattr +i": how it was done, for test messages.
  const std::string& how() const { return how_; }

 private:
  std::string path_;
  std::string how_;
  unsigned old_mode_ = 0;
  bool immutable_ = false;
};

// The permission bits (mode & 0777) of `path`; 0 when it cannot be read.
unsigned ModeOf(const std::string& path);

}  // namespace presence::testing
