#include "agent/cli/dashboard_dir.h"

#include <system_error>

namespace presence::agent {

std::string FindDashboardDir(const std::string& given, const std::filesystem::path& executable,
                             const std::string& source_dir) {
  if (!given.empty()) return given;
  auto has_page = [](const std::filesystem::path& dir) {
    std::error_code error;
    return std::filesystem::is_regular_file(dir / "index.html", error);
  };
  std::filesystem::path installed;
  if (!executable.empty()) {
    installed = (executable.parent_path() / ".." / "share" / "presence-agent" / "dashboard")
                    .lexically_normal();
    if (has_page(installed)) return installed.string();
  }
  if (!source_dir.empty() && has_page(source_dir)) return source_dir;
  return installed.empty() ? source_dir : installed.string();
}

std::filesystem::path ExecutablePath() {
  std::error_code error;
  std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : path;
}

}  // namespace presence::agent
