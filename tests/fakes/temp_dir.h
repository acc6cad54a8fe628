#pragma once

// A fresh directory under the system temp folder, removed with everything in it when the
// object goes away. Tests write their databases and configuration files here.

#include <filesystem>
#include <string>

namespace presence::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace presence::testing
