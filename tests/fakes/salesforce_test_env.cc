#include "tests/fakes/salesforce_test_env.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/fakes/test_json.h"

namespace presence::testing {
namespace {

// The text of <tag>...</tag> in a metadata file, or "".
std::string Element(const std::string& xml, const std::string& tag) {
  std::size_t start = xml.find("<" + tag + ">");
  if (start == std::string::npos) return "";
  start += tag.size() + 2;
  std::size_t end = xml.find("</" + tag + ">", start);
  return end == std::string::npos ? "" : xml.substr(start, end - start);
}

}  // namespace

FakeFields SampleObjectFields(const std::string& object) {
  const std::map<std::string, FakeFieldType> kTypes = {
      {"Text", FakeFieldType::kText},     {"Checkbox", FakeFieldType::kCheckbox},
      {"Number", FakeFieldType::kNumber}, {"DateTime", FakeFieldType::kDateTime},
      {"Date", FakeFieldType::kDate},     {"Lookup", FakeFieldType::kLookup}};
  std::filesystem::path dir = std::filesystem::path(PRESENCE_SOURCE_DIR) /
                              "samples/salesforce/force-app/main/default/objects" / object /
                              "fields";
  FakeFields fields;
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream file(entry.path());
    std::stringstream xml;
    xml << file.rdbuf();
    auto type = kTypes.find(Element(xml.str(), "type"));
    if (type == kTypes.end()) {
      throw std::runtime_error(entry.path().string() + ": a field type the fake does not model");
    }
    fields[Element(xml.str(), "fullName")] = type->second;
  }
  return fields;
}

Poco::JSON::Object::Ptr SalesforceBlock(const std::string& url, const std::string& extra) {
  FakeSalesforceConfig defaults;
  Poco::JSON::Object::Ptr block = new Poco::JSON::Object;
  block->set("auth", "client_credentials");
  block->set("client_id", defaults.client_id);
  block->set("client_secret", defaults.client_secret);
  block->set("login_url", url);
  Poco::JSON::Object::Ptr changes = ParseObject(extra);  // kept alive through the loop
  for (const auto& [key, value] : *changes) {
    if (value.isEmpty()) {
      block->remove(key);
    } else {
      block->set(key, value);
    }
  }
  return block;
}

}  // namespace presence::testing
