#pragma once

// Loads and validates a catalog from the configuration's JSON. Validation reports every
// problem at once, each with where it is and what is allowed:
//   states[3].status: 9 is not a status code (1-7)

#include <Poco/JSON/Object.h>

#include <optional>
#include <string>
#include <vector>

#include "reasoncodes/catalog.h"

namespace presence::reasoncodes {

struct CatalogLoad {
  std::optional<Catalog> catalog;     // set when there are no problems
  std::vector<std::string> problems;  // "path: what is wrong (what is allowed)"
  bool ok() const { return problems.empty() && catalog.has_value(); }
};

// Reads "settings", "states", "profiles" and "actions" (actions.h) from the configuration's
// top-level object. Other top-level keys belong to other parts of the configuration and are not
// looked at here.
CatalogLoad LoadCatalog(const Poco::JSON::Object& config);

// Parses JSON text first; a syntax error is reported as a problem with its line and column.
CatalogLoad LoadCatalogText(const std::string& json_text);

}  // namespace presence::reasoncodes
