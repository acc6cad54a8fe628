#include "connectors/registry.h"

namespace presence::connectors {

void Registry::Add(ConnectorType type) { types_.push_back(std::move(type)); }

const ConnectorType* Registry::Find(std::string_view type) const {
  for (const ConnectorType& entry : types_) {
    if (entry.type == type) return &entry;
  }
  return nullptr;
}

const ConnectorType* Registry::FindByMappingKey(std::string_view key) const {
  for (const ConnectorType& entry : types_) {
    if (entry.MappingKey() == key) return &entry;
  }
  return nullptr;
}

std::vector<std::string_view> Registry::MappingKeys() const {
  std::vector<std::string_view> keys;
  for (const ConnectorType& entry : types_) keys.push_back(entry.MappingKey());
  return keys;
}

std::vector<std::string_view> Registry::Names() const {
  std::vector<std::string_view> names;
  for (const ConnectorType& entry : types_) names.push_back(entry.type);
  return names;
}

}  // namespace presence::connectors
