#include "tests/fakes/connector_block.h"

#include <utility>

namespace presence::testing {

ParsedBlock ParseBlock(const connectors::ConnectorType& type, const Poco::JSON::Object& block,
                       const reasoncodes::Catalog& catalog, std::string path, std::string name) {
  if (name.empty()) name = std::string(type.type);
  connectors::BlockContext context{block, std::move(path), catalog, std::move(name)};
  ParsedBlock parsed;
  parsed.settings = type.parse(context, parsed.problems);
  return parsed;
}

}  // namespace presence::testing
