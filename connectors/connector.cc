#include "connectors/connector.h"

#include <algorithm>

namespace presence::connectors {

void Directory::SetUsers(std::shared_ptr<const std::vector<User>> users) {
  users_ = std::move(users);
  by_id_.clear();
  if (!users_) return;
  by_id_.reserve(users_->size());
  for (const User& user : *users_) by_id_.push_back(&user);
  std::stable_sort(by_id_.begin(), by_id_.end(),
                   [](const User* a, const User* b) { return a->id < b->id; });
  // Ids are unique in a configuration; of repeats elsewhere the first one counts.
  by_id_.erase(std::unique(by_id_.begin(), by_id_.end(),
                           [](const User* a, const User* b) { return a->id == b->id; }),
               by_id_.end());
}

void Directory::SetUsers(std::vector<User> users) {
  SetUsers(std::make_shared<const std::vector<User>>(std::move(users)));
}

const User* Directory::FindUser(const std::string& id) const {
  auto it =
      std::lower_bound(by_id_.begin(), by_id_.end(), id,
                       [](const User* user, const std::string& key) { return user->id < key; });
  return it != by_id_.end() && (*it)->id == id ? *it : nullptr;
}

const reasoncodes::State* Directory::FindState(const std::string& label) const {
  return catalog ? catalog->Find(label) : nullptr;
}

}  // namespace presence::connectors
