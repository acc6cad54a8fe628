#pragma once

// The agent's configuration file (JSON). Today: the catalog ("settings", "states"). Every
// problem in the file is reported at once; an unknown top-level key is a problem.

#include <memory>
#include <string>
#include <vector>

#include "reasoncodes/catalog.h"

namespace presence::agent {

struct Config {
  std::shared_ptr<const reasoncodes::Catalog> catalog;
};

struct ConfigLoad {
  std::shared_ptr<Config> config;     // set when there are no problems
  std::vector<std::string> problems;  // "path: what is wrong (what is allowed)"
  bool ok() const { return config != nullptr && problems.empty(); }
};

ConfigLoad LoadConfigText(const std::string& json_text);
ConfigLoad LoadConfigFile(const std::string& path);

}  // namespace presence::agent
