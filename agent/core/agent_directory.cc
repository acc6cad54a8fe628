#include "agent/core/agent_directory.h"

#include <algorithm>
#include <stdexcept>

namespace presence::agent {
namespace {

// Index of the first of id_at(0), ..., id_at(count - 1) (ascending) that is not less than `id`
// (`or_equal` false) or greater than it (`or_equal` true).
template <class IdAt>
int Bound(int count, const std::string& id, IdAt id_at, bool or_equal = false) {
  int low = 0;
  int high = count;
  while (low < high) {
    const int middle = (low + high) / 2;
    const int order = id_at(middle).compare(id);
    if (order < 0 || (or_equal && order == 0)) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

void CheckState(const std::string& id, const AgentDirectory::StatePtr& state) {
  if (!state) throw std::invalid_argument("AgentDirectory: no state for user '" + id + "'");
  if (state->agent != id) {
    throw std::invalid_argument("AgentDirectory: the state of user '" + state->agent +
                                "' filed under '" + id + "'");
  }
}

// Sizes of `parts` consecutive groups of `total` entries, as even as can be.
int GroupSize(size_t total, size_t parts, size_t part) {
  return static_cast<int>(total / parts + (part < total % parts ? 1 : 0));
}

}  // namespace

AgentDirectory::AgentDirectory(std::vector<StatePtr> states) {
  for (const StatePtr& state : states) {
    if (!state) throw std::invalid_argument("AgentDirectory: a null state");
  }
  std::sort(states.begin(), states.end(),
            [](const StatePtr& a, const StatePtr& b) { return a->agent < b->agent; });
  for (size_t i = 1; i < states.size(); ++i) {
    if (states[i - 1]->agent == states[i]->agent) {
      throw std::invalid_argument("AgentDirectory: two states of user '" + states[i]->agent + "'");
    }
  }
  if (states.empty()) return;
  size_ = states.size();
  const size_t leaves = (states.size() + kFanout - 1) / kFanout;
  std::vector<NodePtr> level;
  level.reserve(leaves);
  size_t next = 0;
  for (size_t part = 0; part < leaves; ++part) {
    auto leaf = std::make_shared<Leaf>();
    leaf->count = GroupSize(states.size(), leaves, part);
    for (int i = 0; i < leaf->count; ++i) leaf->states[i] = std::move(states[next++]);
    level.push_back(std::move(leaf));
  }
  while (level.size() > 1) level = LevelAbove(level);
  root_ = std::move(level.front());
}

std::vector<AgentDirectory::NodePtr> AgentDirectory::LevelAbove(const std::vector<NodePtr>& nodes) {
  const size_t parents = (nodes.size() + kFanout - 1) / kFanout;
  std::vector<NodePtr> above;
  above.reserve(parents);
  size_t next = 0;
  for (size_t part = 0; part < parents; ++part) {
    auto inner = std::make_shared<Inner>();
    inner->leaf = false;
    inner->count = GroupSize(nodes.size(), parents, part);
    for (int i = 0; i < inner->count; ++i) {
      inner->children[i] = nodes[next++];
      inner->lows[i] = &Low(*inner->children[i]);
    }
    above.push_back(std::move(inner));
  }
  return above;
}

AgentDirectory& AgentDirectory::operator=(const Map& all) {
  std::vector<StatePtr> states;
  states.reserve(all.size());
  for (const auto& [id, state] : all) {
    CheckState(id, state);
    states.push_back(state);
  }
  return *this = AgentDirectory(std::move(states));
}

const std::string& AgentDirectory::Low(const Node& node) {
  if (node.leaf) return static_cast<const Leaf&>(node).states[0]->agent;
  return *static_cast<const Inner&>(node).lows[0];
}

int AgentDirectory::ChildFor(const Inner& inner, const std::string& id) {
  const int above = Bound(
      inner.count, id, [&](int i) -> const std::string& { return *inner.lows[i]; }, true);
  return std::max(above - 1, 0);
}

AgentDirectory::StatePtr AgentDirectory::Find(const std::string& id) const {
  const Node* node = root_.get();
  if (node == nullptr) return nullptr;
  while (!node->leaf) {
    const auto& inner = static_cast<const Inner&>(*node);
    node = inner.children[ChildFor(inner, id)].get();
  }
  const auto& leaf = static_cast<const Leaf&>(*node);
  const int at =
      Bound(leaf.count, id, [&](int i) -> const std::string& { return leaf.states[i]->agent; });
  if (at < leaf.count && leaf.states[at]->agent == id) return leaf.states[at];
  return nullptr;
}

void AgentDirectory::Set(const std::string& id, StatePtr state) {
  CheckState(id, state);
  if (!root_) {
    auto leaf = std::make_shared<Leaf>();
    leaf->count = 1;
    leaf->states[0] = std::move(state);
    root_ = std::move(leaf);
    size_ = 1;
    return;
  }
  Put put = PutInto(*root_, std::move(state));
  if (put.added) ++size_;
  if (!put.right) {
    root_ = std::move(put.left);
    return;
  }
  // The root split: the tree grows a level.
  auto root = std::make_shared<Inner>();
  root->leaf = false;
  root->count = 2;
  root->children[0] = std::move(put.left);
  root->children[1] = std::move(put.right);
  root->lows[0] = &Low(*root->children[0]);
  root->lows[1] = &Low(*root->children[1]);
  root_ = std::move(root);
}

AgentDirectory::Put AgentDirectory::PutInto(const Node& node, StatePtr state) {
  if (node.leaf) return PutIntoLeaf(static_cast<const Leaf&>(node), std::move(state));
  return PutIntoInner(static_cast<const Inner&>(node), std::move(state));
}

AgentDirectory::Put AgentDirectory::PutIntoLeaf(const Leaf& leaf, StatePtr state) {
  const std::string& id = state->agent;
  const int at =
      Bound(leaf.count, id, [&](int i) -> const std::string& { return leaf.states[i]->agent; });
  if (at < leaf.count && leaf.states[at]->agent == id) {
    auto copy = std::make_shared<Leaf>(leaf);
    copy->states[at] = std::move(state);
    return {std::move(copy), nullptr, false};
  }
  // Entry j of the leaf with the new state inserted at `at`.
  auto entry = [&](int j) -> const StatePtr& {
    return j < at ? leaf.states[j] : j == at ? state : leaf.states[j - 1];
  };
  const int total = leaf.count + 1;
  if (total <= kFanout) {
    auto copy = std::make_shared<Leaf>();
    copy->count = total;
    for (int j = 0; j < total; ++j) copy->states[j] = entry(j);
    return {std::move(copy), nullptr, true};
  }
  auto left = std::make_shared<Leaf>();
  auto right = std::make_shared<Leaf>();
  left->count = total / 2;
  right->count = total - left->count;
  for (int j = 0; j < left->count; ++j) left->states[j] = entry(j);
  for (int j = 0; j < right->count; ++j) right->states[j] = entry(left->count + j);
  return {std::move(left), std::move(right), true};
}

AgentDirectory::Put AgentDirectory::PutIntoInner(const Inner& inner, StatePtr state) {
  const std::string& id = state->agent;
  const int child = ChildFor(inner, id);
  Put below = PutInto(*inner.children[child], std::move(state));
  if (!below.right) {
    auto copy = std::make_shared<Inner>(inner);
    copy->children[child] = std::move(below.left);
    copy->lows[child] = &Low(*copy->children[child]);
    return {std::move(copy), nullptr, below.added};
  }
  // The child split in two: entry j of this node with both halves in the child's place.
  auto entry = [&](int j) -> const NodePtr& {
    return j < child        ? inner.children[j]
           : j == child     ? below.left
           : j == child + 1 ? below.right
                            : inner.children[j - 1];
  };
  const int total = inner.count + 1;
  auto fill = [&](Inner& node, int first, int count) {
    node.leaf = false;
    node.count = count;
    for (int j = 0; j < count; ++j) {
      node.children[j] = entry(first + j);
      node.lows[j] = &Low(*node.children[j]);
    }
  };
  if (total <= kFanout) {
    auto copy = std::make_shared<Inner>();
    fill(*copy, 0, total);
    return {std::move(copy), nullptr, below.added};
  }
  auto left = std::make_shared<Inner>();
  auto right = std::make_shared<Inner>();
  fill(*left, 0, total / 2);
  fill(*right, total / 2, total - total / 2);
  return {std::move(left), std::move(right), below.added};
}

AgentDirectory::Map AgentDirectory::Sorted() const {
  Map all;
  if (!root_) return all;
  // In id order: each goes in at the end, in constant time.
  auto add = [&](const StatePtr& state) { all.emplace_hint(all.end(), state->agent, state); };
  Walk(*root_, add);
  return all;
}

int AgentDirectory::height() const {
  int levels = 0;
  for (const Node* node = root_.get(); node != nullptr;) {
    ++levels;
    node = node->leaf ? nullptr : static_cast<const Inner&>(*node).children[0].get();
  }
  return levels;
}

}  // namespace presence::agent
