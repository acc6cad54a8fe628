#pragma once

// Parses one connector block the way ReadConnectors hands it to its type, for tests of a
// type's own keys and of its mapping blocks.

#include <Poco/JSON/Object.h>

#include <memory>
#include <string>

#include "common/json_read.h"
#include "connectors/registry.h"
#include "reasoncodes/catalog.h"

namespace presence::testing {

struct ParsedBlock {
  std::shared_ptr<const connectors::ConnectorSettings> settings;  // nullptr when problems
  json::Problems problems;
};

// `path` and `name` are what problems and settings are reported under; an empty `name` is
// the type's own, as ReadConnectors names an unnamed block.
ParsedBlock ParseBlock(const connectors::ConnectorType& type, const Poco::JSON::Object& block,
                       const reasoncodes::Catalog& catalog, std::string path = "connectors[0]",
                       std::string name = "");

}  // namespace presence::testing
