// The stored form of a user's state and of the core's budget count: what is written is read
// back exactly (a restart resumes where the agent stopped), texts of older versions and texts
// written by hand still read, and a damaged text is refused rather than half read.

#include "agent/core/engine_state.h"

#include <boost/test/unit_test.hpp>

namespace presence::agent {
namespace {

const Timestamp kT0 = *ParseTime("2026-11-21T09:00:00.000Z");

Timestamp At(int seconds) { return kT0 + std::chrono::seconds(seconds); }

tracking::StoredAgent Stored(const std::string& text) {
  return {"a", text,
          tracking::Interval{.agent = "a",
                             .label = "Lunch",
                             .source = Source::kAgent,
                             .cause = "select",
                             .start = kT0}};
}

// A state with every persisted field in use, and strings that need escaping.
AgentState Busy() {
  AgentState state;
  state.agent = "a";
  state.label = "Lunch";
  state.since = kT0;
  state.source = Source::kAgent;
  state.cause = "select";
  state.calls.push_back({"c\"1\\", Direction::kOutbound, true, At(1), At(2), false});
  state.calls.push_back({"c\n2\x01/é", Direction::kInbound, false, At(3), std::nullopt, true});
  state.calls_own_state = true;
  state.call_qualified = true;
  state.resume_label = "Ready \"for\" Calls";
  state.pending_label = "Meeting\t";
  state.pending_source = Source::kSupervisor;
  state.wrap_up_until = At(30);
  state.owed_wrap_up = Millis(12345);
  state.owed_cause = "call_ended:c0";
  state.ended_calls = {"x", "y\\z", ""};
  state.last_event = At(5);
  state.missed_calls = 2;
  state.missed_return_at = At(60);
  return state;
}

BOOST_AUTO_TEST_SUITE(engine_state_test)

BOOST_AUTO_TEST_CASE(every_field_reads_back_as_it_was_written) {
  for (const AgentState& state : {Busy(), AgentState{.agent = "a",
                                          .label = "Lunch",
                                          .since = kT0,
                                          .source = Source::kAgent,
                                          .cause = "select",
                                          .last_event = kT0}}) {
    const std::string text = SerializeEngineState(state);
    Result<AgentState> read = RestoreAgentState(Stored(text));
    BOOST_REQUIRE(read.ok());
    BOOST_TEST(SerializeEngineState(*read) == text);
    BOOST_TEST(read->calls.size() == state.calls.size());
    for (size_t i = 0; i < state.calls.size(); ++i) {
      BOOST_TEST(read->calls[i].id == state.calls[i].id);
      BOOST_TEST((read->calls[i].started == state.calls[i].started));
      BOOST_TEST((read->calls[i].answered == state.calls[i].answered));
    }
    BOOST_TEST((read->pending_label == state.pending_label));
    BOOST_TEST(read->ended_calls == state.ended_calls, boost::test_tools::per_element());
    BOOST_TEST((read->owed_wrap_up == state.owed_wrap_up));
  }
}

// Every user's text is written with each change: members at their defaults (no calls, no
// wrap-up...) are left out, and read back as those defaults.
BOOST_AUTO_TEST_CASE(members_at_their_defaults_are_not_written) {
  const AgentState idle{.agent = "a",
                        .label = "Lunch",
                        .since = kT0,
                        .source = Source::kAgent,
                        .cause = "select",
                        .last_event = At(5)};
  const std::string text = SerializeEngineState(idle);
  BOOST_TEST(text == R"({"last_event":"2026-11-21T09:00:05.000Z"})");
  Result<AgentState> read = RestoreAgentState(Stored(text));
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->calls.empty());
  BOOST_TEST(!read->calls_own_state);
  BOOST_TEST(!read->wrap_up_until.has_value());
  BOOST_TEST(read->ended_calls.empty());
  BOOST_TEST((read->last_event == At(5)));
  // The general reader (a text the fast one gives up on: a member it does not know) reads it
  // the same.
  Result<AgentState> general =
      RestoreAgentState(Stored(R"({"last_event":"2026-11-21T09:00:05.000Z","x":1})"));
  BOOST_REQUIRE(general.ok());
  BOOST_TEST(SerializeEngineState(*general) == text);
}

BOOST_AUTO_TEST_CASE(the_budget_count_reads_back_beside_the_state) {
  const StoredBudget budget{.day_start = kT0 - std::chrono::hours(10),
                            .day_end = kT0 + std::chrono::hours(14),
                            .used = {{"Lunch", Millis(600000)}, {"Break \"long\"", Millis(0)}}};
  const std::string text = AddStoredBudget(SerializeEngineState(Busy()), budget);
  std::optional<StoredBudget> read_budget;
  Result<AgentState> read = RestoreAgentState(Stored(text), &read_budget);
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(SerializeEngineState(*read) == SerializeEngineState(Busy()));
  BOOST_REQUIRE(read_budget.has_value());
  BOOST_TEST((read_budget->day_start == budget.day_start));
  BOOST_TEST((read_budget->day_end == budget.day_end));
  BOOST_REQUIRE_EQUAL(read_budget->used.size(), 2u);
  BOOST_TEST(read_budget->used[0].first == "Lunch");
  BOOST_TEST(read_budget->used[0].second.count() == 600000);
  BOOST_TEST(read_budget->used[1].first == "Break \"long\"");
  // Without a place for it, the count is simply not read.
  BOOST_TEST(RestoreAgentState(Stored(text)).ok());
}

// Texts this version does not write: an older one's (no rule 11, no budget), one with an
// unknown member, spaces, types given another way, a budget that cannot be read.
BOOST_AUTO_TEST_CASE(texts_written_otherwise_read_as_before) {
  std::optional<StoredBudget> budget;
  Result<AgentState> old = RestoreAgentState(
      Stored(R"({"calls":[{"id":"c1","direction":"inbound","internal":false,)"
             R"("started":"2026-11-21T09:00:10.000Z","answered":""}],"calls_own_state":true})"),
      &budget);
  BOOST_REQUIRE(old.ok());
  BOOST_TEST(old->calls.size() == 1u);
  BOOST_TEST((old->last_event == kT0));  // none stored: the state's start
  BOOST_TEST(!budget.has_value());

  Result<AgentState> spaced = RestoreAgentState(
      Stored(" {\n \"resume_label\" : \"Lunch\" , \"future_field\": [1, {\"x\": null}],"
             " \"missed_calls\": 3 }\n"));
  BOOST_REQUIRE(spaced.ok());
  BOOST_TEST(spaced->resume_label == "Lunch");
  BOOST_TEST(spaced->missed_calls == 3);

  Result<AgentState> typed = RestoreAgentState(
      Stored(R"({"calls":[{"id":"c1","direction":"outbound","internal":1}],"missed_calls":2.0,)"
             R"("ended_calls":["\u00e9"]})"));
  BOOST_REQUIRE(typed.ok());
  BOOST_TEST(typed->calls[0].internal);
  BOOST_TEST((typed->calls[0].started == kT0));
  BOOST_TEST(typed->missed_calls == 2);
  BOOST_TEST(typed->ended_calls.at(0) == "é");

  Result<AgentState> odd_budget = RestoreAgentState(
      Stored(R"({"resume_label":"x","budget":{"day_start":"yesterday","used_ms":{}}})"), &budget);
  BOOST_REQUIRE(odd_budget.ok());
  BOOST_TEST(odd_budget->resume_label == "x");
  BOOST_TEST(!budget.has_value());
}

BOOST_AUTO_TEST_CASE(a_damaged_text_is_refused) {
  for (const std::string& text :
       {std::string(R"({"calls":[{"direction":"inbound","internal":false}]})"),  // no id
        std::string(R"({"calls":[)"), std::string("not json"),
        SerializeEngineState(Busy()).substr(0, 40)}) {
    Result<AgentState> read = RestoreAgentState(Stored(text));
    BOOST_TEST_CONTEXT(text) {
      BOOST_REQUIRE(!read.ok());
      BOOST_TEST(read.error().code == "corrupt_state");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::agent
