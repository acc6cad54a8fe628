#include "connectors/connector.h"

namespace presence::connectors {

const User* Directory::FindUser(const std::string& id) const {
  auto it = users.find(id);
  return it == users.end() ? nullptr : &it->second;
}

const reasoncodes::State* Directory::FindState(const std::string& label) const {
  return catalog ? catalog->Find(label) : nullptr;
}

}  // namespace presence::connectors
