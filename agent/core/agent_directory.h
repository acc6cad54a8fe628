#pragma once

// Every user's state, for snapshots: a persistent map split into shards so that publishing a
// commit copies only the shards holding the users it touched, not the whole floor. Copies of a
// directory share all untouched shards; a directory is never changed once published.

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/engine/engine.h"

namespace presence::agent {

class AgentDirectory {
 public:
  using Map = std::map<std::string, std::shared_ptr<const AgentState>>;

  AgentDirectory() {
    static const auto empty = std::make_shared<const Map>();
    shards_.fill(empty);
  }
  AgentDirectory& operator=(const Map& all) {
    *this = AgentDirectory();
    for (const auto& [id, state] : all) Set(id, state);
    return *this;
  }

  std::shared_ptr<const AgentState> Find(const std::string& id) const {
    const Map& shard = *shards_[ShardOf(id)];
    auto it = shard.find(id);
    return it == shard.end() ? nullptr : it->second;
  }
  bool contains(const std::string& id) const { return Find(id) != nullptr; }
  size_t size() const { return size_; }

  // Copy on write: only this user's shard is copied.
  void Set(const std::string& id, std::shared_ptr<const AgentState> state) {
    std::shared_ptr<const Map>& shard = shards_[ShardOf(id)];
    auto copy = std::make_shared<Map>(*shard);
    auto [it, inserted] = copy->insert_or_assign(id, std::move(state));
    if (inserted) ++size_;
    shard = std::move(copy);
  }

  // Calls `visit` with every user's state, in no particular order, without copying.
  template <class Visit>
  void ForEach(Visit&& visit) const {
    for (const auto& shard : shards_) {
      for (const auto& [id, state] : *shard) visit(*state);
    }
  }

  // Every user, in id order.
  Map Sorted() const {
    Map all;
    for (const auto& shard : shards_) all.insert(shard->begin(), shard->end());
    return all;
  }

 private:
  static constexpr size_t kShards = 64;
  static size_t ShardOf(const std::string& id) { return std::hash<std::string>{}(id) % kShards; }

  std::array<std::shared_ptr<const Map>, kShards> shards_;
  size_t size_ = 0;
};

}  // namespace presence::agent
