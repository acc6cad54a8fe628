#include "agent/config.h"

#include <Poco/JSON/Parser.h>

#include <fstream>
#include <set>
#include <sstream>

#include "reasoncodes/catalog_loader.h"

namespace presence::agent {
namespace {

const std::set<std::string> kTopLevelKeys = {"settings", "states"};

}  // namespace

ConfigLoad LoadConfigText(const std::string& json_text) {
  ConfigLoad load;
  Poco::JSON::Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(json_text);
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
      load.problems.push_back("(top): the configuration must be a JSON object");
      return load;
    }
    root = parsed.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    load.problems.push_back("(top): not valid JSON: " + e.displayText());
    return load;
  }
  for (const auto& [key, value] : *root) {
    if (!kTopLevelKeys.contains(key)) {
      load.problems.push_back(key + ": unknown key; allowed: settings, states");
    }
  }
  reasoncodes::CatalogLoad catalog = reasoncodes::LoadCatalog(*root);
  load.problems.insert(load.problems.end(), catalog.problems.begin(), catalog.problems.end());
  if (!load.problems.empty() || !catalog.catalog) return load;
  load.config = std::make_shared<Config>();
  load.config->catalog = std::make_shared<const reasoncodes::Catalog>(std::move(*catalog.catalog));
  return load;
}

ConfigLoad LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoad load;
    load.problems.push_back(path + ": cannot be read (missing or not permitted)");
    return load;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadConfigText(text.str());
}

}  // namespace presence::agent
