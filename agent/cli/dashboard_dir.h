#pragma once

// Where `serve` finds the supervisor page's files. First match wins:
//   1. the folder given with --dashboard;
//   2. <folder of the executable>/../share/presence-agent/dashboard: an installed copy
//      (`cmake --install`, the .deb's /usr/bin/presence-agent and /usr/share/presence-agent);
//   3. the source tree's dashboard/ the binary was built from (running from the build tree).
// A candidate counts when it holds index.html. When neither 2 nor 3 does, the answer is 2, so
// the start-up log names where the files are expected.

#include <filesystem>
#include <string>

namespace presence::agent {

std::string FindDashboardDir(const std::string& given, const std::filesystem::path& executable,
                             const std::string& source_dir);

// This process's executable (/proc/self/exe, symbolic links resolved); empty when unknown.
std::filesystem::path ExecutablePath();

}  // namespace presence::agent
