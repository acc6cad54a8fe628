#pragma once

// Every user's state, for snapshots: a persistent B+ tree ordered by user id. Set copies only
// the nodes on the path from the root to the user's leaf (a handful of nodes of at most
// kFanout entries each: 4 levels hold 100,000 users) and shares every other node with the
// directory it was copied from, so publishing a change costs about the same whatever the
// number of users. Nodes are never changed once made: a copy of a directory (a published
// snapshot) stays exactly as it was while later copies are Set, and readers on any thread walk
// it without locks.
//
// A state is filed under its own id (AgentState::agent): the tree keeps no separate keys.

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/engine/engine.h"

namespace presence::agent {

class AgentDirectory {
 public:
  using StatePtr = std::shared_ptr<const AgentState>;
  using Map = std::map<std::string, StatePtr>;

  // Entries per node at most. Nodes made by Set or split hold at least half of it.
  static constexpr int kFanout = 32;

  AgentDirectory() = default;
  // Every state at once, in O(n log n) (the sort) rather than n Sets. Throws
  // std::invalid_argument for a null state or two states of one user.
  explicit AgentDirectory(std::vector<StatePtr> states);
  // Throws std::invalid_argument for a null state or one filed under another user's id.
  AgentDirectory& operator=(const Map& all);

  // The user's state, or null.
  StatePtr Find(const std::string& id) const;
  bool contains(const std::string& id) const { return Find(id) != nullptr; }
  size_t size() const { return size_; }

  // Adds or replaces the user's state, copying O(log n) nodes. Throws std::invalid_argument
  // for a null state or one whose agent is not `id`.
  void Set(const std::string& id, StatePtr state);

  // Calls `visit` with every user's state, in id order, without copying.
  template <class Visit>
  void ForEach(Visit&& visit) const {
    if (!root_) return;
    auto each = [&](const StatePtr& state) { visit(*state); };
    Walk(*root_, each);
  }

  // Every user, in id order.
  Map Sorted() const;

  // Levels of the tree (0 when empty): the nodes a Set copies.
  int height() const;

 private:
  struct Node {
    bool leaf = true;
    int count = 0;
  };
  struct Leaf : Node {
    std::array<StatePtr, kFanout> states;  // [0, count), by id
  };
  struct Inner : Node {
    std::array<std::shared_ptr<const Node>, kFanout> children;  // [0, count), by id
    // Each child's smallest id: points into a state that child holds, so it lives as long as
    // the child does.
    std::array<const std::string*, kFanout> lows{};
  };
  using NodePtr = std::shared_ptr<const Node>;
  // What putting a state into a subtree made: its copy, and a right sibling when it split.
  struct Put {
    NodePtr left;
    NodePtr right;
    bool added = false;  // a new user rather than a new state of a known one
  };

  static const std::string& Low(const Node& node);
  // The child of `inner` whose ids `id` falls among: the last one whose smallest id is at most
  // `id`, or the first.
  static int ChildFor(const Inner& inner, const std::string& id);
  static Put PutInto(const Node& node, StatePtr state);
  static Put PutIntoLeaf(const Leaf& leaf, StatePtr state);
  static Put PutIntoInner(const Inner& inner, StatePtr state);
  // Nodes one level up holding `nodes` in order, each as full as an even spread allows.
  static std::vector<NodePtr> LevelAbove(const std::vector<NodePtr>& nodes);

  // Calls `visit` with each state's pointer, in id order.
  template <class Visit>
  static void Walk(const Node& node, Visit& visit) {
    if (node.leaf) {
      const auto& leaf = static_cast<const Leaf&>(node);
      for (int i = 0; i < leaf.count; ++i) visit(leaf.states[i]);
      return;
    }
    const auto& inner = static_cast<const Inner&>(node);
    for (int i = 0; i < inner.count; ++i) Walk(*inner.children[i], visit);
  }

  NodePtr root_;
  size_t size_ = 0;
};

}  // namespace presence::agent
