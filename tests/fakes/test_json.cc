#include "tests/fakes/test_json.h"

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>
#include <stdexcept>

namespace presence::testing {

Poco::JSON::Object::Ptr ParseObject(const std::string& json) {
  Poco::JSON::Object::Ptr object = json::AsObject(Poco::JSON::Parser().parse(json));
  if (!object) throw std::invalid_argument("not a JSON object: " + json::Quote(json));
  return object;
}

std::string Stringify(const Poco::Dynamic::Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(value, out);
  return out.str();
}

std::string JoinProblems(const json::Problems& problems) {
  std::string text;
  for (const std::string& problem : problems) text += problem + "\n";
  return text;
}

}  // namespace presence::testing
