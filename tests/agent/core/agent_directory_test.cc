// The snapshots' user directory: a persistent map that must read exactly like a std::map of the
// same Sets, leave every earlier copy as it was, and copy only a path of small nodes per Set.

#include "agent/core/agent_directory.h"

#include <boost/test/unit_test.hpp>
#include <random>
#include <stdexcept>

namespace presence::agent {
namespace {

using StatePtr = AgentDirectory::StatePtr;
using Map = AgentDirectory::Map;

StatePtr State(const std::string& id, const std::string& label) {
  auto state = std::make_shared<AgentState>();
  state->agent = id;
  state->label = label;
  return state;
}

// Everything the directory answers, checked against `expected`: size, the walk in id order,
// Sorted, Find of every user and of ids next to theirs that are not there ("u12!" sorts between
// "u12" and "u120"). Per-user checks are plain ifs: thousands of Boost assertions are slow.
void CheckSame(const AgentDirectory& directory, const Map& expected) {
  BOOST_REQUIRE_EQUAL(directory.size(), expected.size());
  std::vector<const AgentState*> walked;
  directory.ForEach([&](const AgentState& state) { walked.push_back(&state); });
  BOOST_REQUIRE_EQUAL(walked.size(), expected.size());
  size_t i = 0;
  for (const auto& [id, state] : expected) {
    if (walked[i++] != state.get()) BOOST_FAIL("the walk differs at user " << id);
    if (directory.Find(id) != state) BOOST_FAIL("Find differs for user " << id);
    if (!directory.contains(id)) BOOST_FAIL("contains is false for user " << id);
    if (directory.contains(id + "!")) BOOST_FAIL("found " << id << "!, never set");
  }
  BOOST_REQUIRE(directory.Sorted() == expected);
  BOOST_REQUIRE(!directory.contains(""));
  BOOST_REQUIRE(!directory.contains("~~~"));  // after every id
}

BOOST_AUTO_TEST_SUITE(agent_directory_test)

BOOST_AUTO_TEST_CASE(an_empty_directory_has_nobody) {
  AgentDirectory directory;
  CheckSame(directory, {});
  BOOST_CHECK_EQUAL(directory.height(), 0);
  BOOST_CHECK(directory.Find("a") == nullptr);
}

// Random Sets (new users and new states of known ones, in random order) read back exactly as
// the same Sets into a std::map; copies taken along the way still read as they did then.
BOOST_AUTO_TEST_CASE(random_sets_read_like_a_std_map_and_earlier_copies_stay_as_they_were) {
  std::mt19937 random(20261121);
  AgentDirectory directory;
  Map expected;
  std::vector<std::pair<AgentDirectory, Map>> copies;
  for (int step = 1; step <= 20000; ++step) {
    // From 8,000 ids: most Sets add a user early on, replace a state later.
    const std::string id = "user" + std::to_string(random() % 8000);
    StatePtr state = State(id, "label" + std::to_string(step));
    directory.Set(id, state);
    expected[id] = state;
    if (step % 997 == 0) {
      CheckSame(directory, expected);
      copies.emplace_back(directory, expected);
    }
  }
  CheckSame(directory, expected);
  for (const auto& [copy, then] : copies) CheckSame(copy, then);
  BOOST_CHECK_LE(directory.height(), 4);
}

// Ids in ascending and in descending order split nodes at their ends, over and over.
BOOST_AUTO_TEST_CASE(ids_set_in_order_or_in_reverse_read_back_in_order) {
  for (bool reverse : {false, true}) {
    AgentDirectory directory;
    Map expected;
    for (int i = 0; i < 5000; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "u%05d", reverse ? 4999 - i : i);
      StatePtr state = State(id, "Ready");
      directory.Set(id, state);
      expected[id] = state;
    }
    CheckSame(directory, expected);
  }
}

BOOST_AUTO_TEST_CASE(a_copy_set_afterwards_leaves_the_original_as_it_was) {
  AgentDirectory original;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "u" + std::to_string(i);
    original.Set(id, State(id, "Ready"));
  }
  const Map before = original.Sorted();
  AgentDirectory copy = original;
  copy.Set("u500", State("u500", "Lunch"));
  copy.Set("new", State("new", "Break"));
  CheckSame(original, before);
  BOOST_CHECK_EQUAL(copy.Find("u500")->label, "Lunch");
  BOOST_CHECK_EQUAL(copy.size(), 1001u);
  BOOST_CHECK(copy.Find("u499") == original.Find("u499"));  // shared, not copied
}

// What publishing costs: a Set on a copy of a directory of 20,000 users takes new references to
// the states of one leaf at most (a copied leaf), not to a share of the floor.
BOOST_AUTO_TEST_CASE(a_set_copies_one_leaf_of_states_whatever_the_number_of_users) {
  AgentDirectory directory;
  std::vector<StatePtr> states;
  for (int i = 0; i < 20000; ++i) {
    states.push_back(State("user" + std::to_string(i), "Ready"));
    directory.Set(states.back()->agent, states.back());
  }
  std::vector<long> before;
  for (const StatePtr& state : states) before.push_back(state.use_count());
  AgentDirectory copy = directory;
  copy.Set("user12345", State("user12345", "Lunch"));
  int referenced_again = 0;
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i].use_count() > before[i]) ++referenced_again;
  }
  BOOST_CHECK_LE(referenced_again, AgentDirectory::kFanout);
  BOOST_CHECK_LE(directory.height(), 4);
}

BOOST_AUTO_TEST_CASE(every_state_at_once_reads_like_the_same_sets) {
  for (int users : {0, 1, 31, 32, 33, 1000, 33000}) {
    std::vector<StatePtr> states;
    Map expected;
    for (int i = 0; i < users; ++i) {
      states.push_back(State("user" + std::to_string(i * 7919 % std::max(users, 1)), "Ready"));
      expected[states.back()->agent] = states.back();
    }
    AgentDirectory built(states);
    CheckSame(built, expected);
    AgentDirectory assigned;
    assigned = expected;
    CheckSame(assigned, expected);
    // Sets after the bulk build go where they belong.
    built.Set("user5", State("user5", "Lunch"));
    built.Set("zzz", State("zzz", "Lunch"));
    expected["user5"] = built.Find("user5");
    expected["zzz"] = built.Find("zzz");
    CheckSame(built, expected);
  }
}

BOOST_AUTO_TEST_CASE(a_state_filed_wrongly_is_refused_and_changes_nothing) {
  AgentDirectory directory;
  directory.Set("a", State("a", "Ready"));
  BOOST_CHECK_THROW(directory.Set("b", State("a", "Lunch")), std::invalid_argument);
  BOOST_CHECK_THROW(directory.Set("b", nullptr), std::invalid_argument);
  const std::vector<StatePtr> twice = {State("a", "Ready"), State("a", "Lunch")};
  BOOST_CHECK_THROW(AgentDirectory{twice}, std::invalid_argument);
  const Map misfiled = {{"x", State("y", "Ready")}};
  BOOST_CHECK_THROW(directory = misfiled, std::invalid_argument);
  BOOST_CHECK_EQUAL(directory.size(), 1u);
  BOOST_CHECK_EQUAL(directory.Find("a")->label, "Ready");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::agent
