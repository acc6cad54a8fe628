// Engine rules as tables on a fake clock. Each row: catalog settings, a script of events at
// second offsets, and the transitions expected after the initial login at t=0, written as
// "<second> <label> <source>". Wrap-up timers fire at their due time between steps, the way
// replay and the core fire them.

#include "agent/engine/engine.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>

#include "agent/core/engine_state.h"
#include "agent/engine/timer_queue.h"
#include "tests/fakes/test_catalog.h"

namespace presence::agent {
namespace {

using testing::TestSettings;

const Timestamp kT0 = *ParseTime("2026-11-21T09:00:00.000Z");
constexpr const char* kUser = "1001";

struct Step {
  int t = 0;
  bool tick = false;  // only let timers fire up to t
  Event event;
};

Step Sel(int t, const std::string& label, Source source = Source::kAgent) {
  Event e{.type = EventType::kSelect, .agent = kUser, .label = label, .source = source};
  return {t, false, e};
}
Step Over(int t, const std::string& label) {
  return {t, false, Event{.type = EventType::kOverride, .agent = kUser, .label = label}};
}
Step Start(int t, const std::string& id, Direction dir = Direction::kInbound,
           bool internal = false) {
  Event e{.type = EventType::kCallStarted, .agent = kUser, .call_id = id};
  e.direction = dir;
  e.internal = internal;
  return {t, false, e};
}
Step Out(int t, const std::string& id) { return Start(t, id, Direction::kOutbound); }
Step Answer(int t, const std::string& id) {
  return {t, false, Event{.type = EventType::kCallAnswered, .agent = kUser, .call_id = id}};
}
Step End(int t, const std::string& id, std::optional<double> duration = {}, bool internal = false) {
  Event e{.type = EventType::kCallEnded, .agent = kUser, .call_id = id};
  e.duration_s = duration;
  e.internal = internal;
  return {t, false, e};
}
Step Login(int t) { return {t, false, Event{.type = EventType::kLogin, .agent = kUser}}; }
Step Logout(int t) { return {t, false, Event{.type = EventType::kLogout, .agent = kUser}}; }
Step Tick(int t) { return {t, true, {}}; }

struct Case {
  std::string name;
  TestSettings settings;
  std::vector<Step> steps;
  std::vector<std::string> expected;
};
std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.name; }

std::string Describe(const tracking::Change& change) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(change.at - kT0).count()) +
         " " + change.label + " " + std::string(reasoncodes::SourceName(change.source));
}

// Runs the script; every step must be accepted by the engine.
std::vector<std::string> Run(const Case& c) {
  Engine engine(testing::MakeTestCatalog(c.settings));
  TimerQueue timers;
  std::vector<std::string> seen;
  auto apply = [&](const Event& event, Timestamp at) {
    Result<Outcome> outcome = engine.Handle(event, at);
    BOOST_REQUIRE_MESSAGE(outcome.ok(), (outcome.ok() ? "" : outcome.error().message));
    for (const tracking::Change& change : outcome->changes) {
      if (at > kT0) seen.push_back(Describe(change));
    }
    timers.Arm(*outcome, event.agent);
  };
  apply(Event{.type = EventType::kLogin, .agent = kUser}, kT0);
  for (const Step& step : c.steps) {
    const Timestamp at = kT0 + std::chrono::seconds(step.t);
    for (const TimerEntry& entry : timers.PopDue(at)) {
      apply(TimerEvent(entry), entry.due);
    }
    if (!step.tick) apply(step.event, at);
  }
  return seen;
}

const TestSettings kPlain{};
const TestSettings kOnCall{.active_call_state = true};
const TestSettings kWrap{.wrap_up_seconds = 30};
const TestSettings kWrapOnCall{.wrap_up_seconds = 30, .active_call_state = true};
const TestSettings kLocked{
    .wrap_up_seconds = 30, .active_call_state = true, .wrap_up_locked = true};
const TestSettings kDndWrap{.wrap_up_seconds = 30,
                            .active_call_state = true,
                            .extra_settings = R"("wrap_up_state": "Do Not Disturb")"};
const TestSettings kPrevious{.active_call_state = true, .return_previous = true};
const TestSettings kPreviousWrap{
    .wrap_up_seconds = 30, .active_call_state = true, .return_previous = true};

const std::vector<Case> kRule1 = {
    {"known_label_changes_state", kPlain, {Sel(10, "Lunch")}, {"10 Lunch agent"}},
    {"crm_choice_records_crm_source", kPlain, {Sel(10, "Lunch", Source::kCrm)}, {"10 Lunch crm"}},
    {"selecting_current_state_changes_nothing", kPlain, {Sel(10, "Ready for Calls")}, {}},
    {"repeated_choice_records_one_change",
     kPlain,
     {Sel(10, "Lunch"), Sel(20, "Lunch")},
     {"10 Lunch agent"}},
    {"each_new_choice_is_a_change",
     kPlain,
     {Sel(10, "Lunch"), Sel(20, "Meeting")},
     {"10 Lunch agent", "20 Meeting agent"}},
};

const std::vector<Case> kRule2 = {
    {"answered_call_sets_on_a_call_then_ready",
     kOnCall,
     {Start(10, "c1"), Answer(15, "c1"), End(75, "c1")},
     {"15 On a call call", "75 Ready for Calls call"}},
    {"ringing_call_that_is_never_answered_changes_nothing",
     kOnCall,
     {Start(10, "c1"), End(20, "c1")},
     {}},
    {"ready_only_after_the_last_of_overlapping_calls",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Start(20, "c2"), Answer(21, "c2"), End(30, "c1"),
      End(50, "c2")},
     {"10 On a call call", "50 Ready for Calls call"}},
    {"active_call_state_off_keeps_the_state_during_calls",
     kPlain,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1")},
     {}},
    {"answer_without_start_still_sets_on_a_call",
     kOnCall,
     {Answer(10, "c1"), End(40, "c1")},
     {"10 On a call call", "40 Ready for Calls call"}},
    {"return_previous_goes_back_to_the_state_before_the_call",
     kPrevious,
     {Sel(5, "Meeting"), Start(10, "c1"), Answer(10, "c1"), End(70, "c1")},
     {"5 Meeting agent", "10 On a call call", "70 Meeting call"}},
};

const std::vector<Case> kRule3 = {
    {"qualifying_call_starts_wrap_up_then_ready",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"wrap_up_works_with_active_call_state_off",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Tick(200)},
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"ring_only_call_gets_no_wrap_up",
     kWrapOnCall,
     {Start(10, "c1"), End(20, "c1"), Tick(200)},
     {}},
    {"call_reported_as_zero_seconds_gets_no_wrap_up",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(20, "c1", 0.0), Tick(200)},
     {}},
    {"internal_call_gets_no_wrap_up",
     kWrapOnCall,
     {Start(10, "c1", Direction::kInbound, true), Answer(10, "c1"), End(70, "c1"), Tick(200)},
     {"10 On a call call", "70 Ready for Calls call"}},
    {"internal_flag_on_the_end_event_counts",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1", {}, true), Tick(200)},
     {}},
    {"duration_from_the_feed_counts_without_answer",
     kWrap,
     {Start(10, "c1"), End(70, "c1", 55.0), Tick(200)},
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"overlapping_calls_wrap_up_when_the_last_ends_if_any_qualified",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Start(20, "c2", Direction::kInbound, true),
      Answer(20, "c2"), End(40, "c1"), End(60, "c2"), Tick(200)},
     {"10 On a call call", "60 Wrap-up wrap_up", "90 Ready for Calls wrap_up"}},
    {"overlapping_calls_none_qualified_no_wrap_up",
     kWrapOnCall,
     {Start(10, "c1", Direction::kInbound, true), Answer(10, "c1"),
      Start(20, "c2", Direction::kInbound, true), Answer(20, "c2"), End(40, "c1"), End(60, "c2")},
     {"10 On a call call", "60 Ready for Calls call"}},
    {"wrap_up_then_return_previous",
     kPreviousWrap,
     {Sel(5, "Meeting"), Out(10, "c1"), Answer(12, "c1"), End(70, "c1"), Tick(200)},
     {"5 Meeting agent", "12 On a call call", "70 Wrap-up wrap_up", "100 Meeting wrap_up"}},
    {"call_during_wrap_up_with_active_call_state_off_extends_it",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Start(80, "c2"), Answer(80, "c2"),
      End(90, "c2"), Tick(200)},
     {"70 Wrap-up wrap_up", "120 Ready for Calls wrap_up"}},
};

const std::vector<Case> kRule4 = {
    {"choice_during_wrap_up_is_never_overwritten_by_the_timer",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(80, "Lunch"), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "80 Lunch agent"}},
    {"override_during_wrap_up_cancels_the_timer",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Over(80, "Meeting"), Tick(200)},
     {"70 Wrap-up wrap_up", "80 Meeting supervisor"}},
    {"stale_timer_does_not_end_a_later_wrap_up_early",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(80, "Ready for Calls"), Start(85, "c2"),
      Answer(85, "c2"), End(95, "c2"), Tick(110), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "80 Ready for Calls agent", "85 On a call call",
      "95 Wrap-up wrap_up", "125 Ready for Calls wrap_up"}},
    {"call_during_wrap_up_ends_it_and_the_rest_of_it_runs_after",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Start(80, "c2"), Answer(80, "c2"),
      Tick(150), End(160, "c2", {}, true), Tick(300)},
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "160 Wrap-up wrap_up",
      "180 Ready for Calls wrap_up"}},
    {"choosing_the_wrap_up_state_itself_keeps_the_agent_there",
     kDndWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(80, "Do Not Disturb"), Tick(200)},
     {"10 On a call call", "70 Do Not Disturb wrap_up"}},
};

// Every order of a second call around the wrap-up of 70-100 that the qualifying call c1
// (10-70) earns: it starts before, during or after the wrap-up; rings only or is answered;
// is internal or external; ends before or after the timer. Rule 3: a call that only rings or
// is internal never starts, restarts or extends a wrap-up; what is owed is only what a call
// took the agent out of, and nothing once the wrap-up has run its time.
Step Internal(int t, const std::string& id) { return Start(t, id, Direction::kInbound, true); }
const std::vector<Step> kFirstCall = {Start(10, "c1"), Answer(10, "c1")};
std::vector<Step> AfterFirstCall(std::vector<Step> steps, int first_end = 70) {
  std::vector<Step> all = kFirstCall;
  all.push_back(End(first_end, "c1"));
  all.insert(all.end(), steps.begin(), steps.end());
  all.push_back(Tick(400));
  return all;
}
// The ring (or call) that starts while c1 is still on: it has to start before c1 ends.
std::vector<Step> RingBeforeWrapUp(Step ring, std::vector<Step> rest) {
  std::vector<Step> all = kFirstCall;
  all.push_back(ring);
  all.push_back(End(70, "c1"));
  all.insert(all.end(), rest.begin(), rest.end());
  all.push_back(Tick(400));
  return all;
}

const std::vector<Case> kWrapUpOrders = {
    {"ring_from_before_the_wrap_up_ends_inside_it",
     kWrapOnCall,
     RingBeforeWrapUp(Start(60, "r"), {End(80, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"ring_from_before_the_wrap_up_ends_after_it",
     kWrapOnCall,
     RingBeforeWrapUp(Start(60, "r"), {End(120, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"internal_ring_from_before_the_wrap_up_ends_after_it",
     kWrapOnCall,
     RingBeforeWrapUp(Internal(60, "r"), {End(120, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"ring_from_before_answered_in_the_wrap_up_external",
     kWrapOnCall,
     RingBeforeWrapUp(Start(60, "r"), {Answer(80, "r"), End(90, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "120 Ready for Calls wrap_up"}},
    {"ring_from_before_answered_in_the_wrap_up_internal_owes_the_rest",
     kWrapOnCall,
     RingBeforeWrapUp(Internal(60, "r"), {Answer(80, "r"), End(90, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "110 Ready for Calls wrap_up"}},
    {"ring_in_the_wrap_up_ends_inside_it",
     kWrapOnCall,
     AfterFirstCall({Start(80, "r"), End(90, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"ring_in_the_wrap_up_ends_after_it",
     kWrapOnCall,
     AfterFirstCall({Start(80, "r"), End(130, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"internal_ring_in_the_wrap_up_ends_after_it",
     kWrapOnCall,
     AfterFirstCall({Internal(80, "r"), End(130, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"ring_in_the_wrap_up_answered_after_it",
     kWrapOnCall,
     AfterFirstCall({Start(80, "r"), Answer(110, "r"), End(150, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up",
      "110 On a call call", "150 Wrap-up wrap_up", "180 Ready for Calls wrap_up"}},
    {"external_call_in_the_wrap_up_ends_before_its_timer",
     kWrapOnCall,
     AfterFirstCall({Start(80, "x"), Answer(80, "x"), End(90, "x")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "120 Ready for Calls wrap_up"}},
    {"external_call_in_the_wrap_up_ends_after_its_timer",
     kWrapOnCall,
     AfterFirstCall({Start(80, "x"), Answer(80, "x"), End(150, "x")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "150 Wrap-up wrap_up",
      "180 Ready for Calls wrap_up"}},
    {"internal_call_in_the_wrap_up_ends_before_its_timer",
     kWrapOnCall,
     AfterFirstCall({Internal(80, "i"), Answer(80, "i"), End(90, "i")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "110 Ready for Calls wrap_up"}},
    {"internal_call_in_the_wrap_up_ends_after_its_timer",
     kWrapOnCall,
     AfterFirstCall({Internal(80, "i"), Answer(80, "i"), End(150, "i")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "150 Wrap-up wrap_up",
      "170 Ready for Calls wrap_up"}},
    {"zero_second_call_in_the_wrap_up_owes_only_the_rest",
     kWrapOnCall,
     AfterFirstCall({Start(80, "x"), Answer(80, "x"), End(90, "x", 0.0)}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "110 Ready for Calls wrap_up"}},
    {"ring_after_the_wrap_up",
     kWrapOnCall,
     AfterFirstCall({Start(120, "r"), End(130, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"internal_call_after_the_wrap_up_owes_nothing",
     kWrapOnCall,
     AfterFirstCall({Internal(120, "i"), Answer(120, "i"), End(130, "i")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up",
      "120 On a call call", "130 Ready for Calls call"}},
    {"external_call_after_the_wrap_up_earns_its_own",
     kWrapOnCall,
     AfterFirstCall({Start(120, "x"), Answer(120, "x"), End(130, "x")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Ready for Calls wrap_up",
      "120 On a call call", "130 Wrap-up wrap_up", "160 Ready for Calls wrap_up"}},
    {"owed_wrap_up_that_ran_its_time_owes_nothing_more",
     kWrapOnCall,
     AfterFirstCall({Internal(80, "i"), Answer(80, "i"), End(90, "i"), Internal(120, "j"),
                     Answer(120, "j"), End(130, "j")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "110 Ready for Calls wrap_up", "120 On a call call", "130 Ready for Calls call"}},
    {"second_interruption_owes_what_is_left_of_the_owed_part",
     kWrapOnCall,
     AfterFirstCall({Internal(80, "i"), Answer(80, "i"), End(90, "i"), Internal(95, "j"),
                     Answer(95, "j"), End(130, "j")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "80 On a call call", "90 Wrap-up wrap_up",
      "95 On a call call", "130 Wrap-up wrap_up", "145 Ready for Calls wrap_up"}},
    {"without_on_a_call_a_ring_in_the_wrap_up_changes_nothing",
     kWrap,
     AfterFirstCall({Start(80, "r"), End(90, "r")}),
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"without_on_a_call_an_internal_call_in_the_wrap_up_does_not_extend_it",
     kWrap,
     AfterFirstCall({Internal(80, "i"), Answer(80, "i"), End(90, "i")}),
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"without_on_a_call_an_internal_call_over_the_timer_owes_nothing",
     kWrap,
     AfterFirstCall({Internal(80, "i"), Answer(80, "i"), End(150, "i")}),
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"without_on_a_call_an_external_call_over_the_timer_earns_its_own",
     kWrap,
     AfterFirstCall({Start(80, "x"), Answer(80, "x"), End(150, "x")}),
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up", "150 Wrap-up wrap_up",
      "180 Ready for Calls wrap_up"}},
    {"ring_in_the_wrap_up_keeps_the_state_to_return_to",
     kPreviousWrap,
     {Sel(5, "Meeting"), Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Start(80, "r"),
      End(90, "r"), Tick(400)},
     {"5 Meeting agent", "10 On a call call", "70 Wrap-up wrap_up", "100 Meeting wrap_up"}},
    {"ring_in_a_locked_wrap_up_keeps_the_choice_for_its_end",
     kLocked,
     AfterFirstCall({Start(80, "r"), Sel(85, "Lunch"), End(90, "r")}),
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Lunch agent"}},
    {"choice_during_the_call_waits_for_the_wrap_up_even_if_a_ring_ends",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), Start(60, "r"), End(70, "c1"),
      End(80, "r"), Tick(400)},
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Lunch agent"}},
};

const std::vector<Case> kRule5 = {
    {"dialling_out_from_dnd_returns_to_ready_first",
     kPlain,
     {Sel(5, "Do Not Disturb"), Out(10, "c1")},
     {"5 Do Not Disturb agent", "10 Ready for Calls call"}},
    {"dialling_out_during_wrap_up_returns_to_ready",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Out(80, "c2"), Tick(200)},
     {"70 Wrap-up wrap_up", "80 Ready for Calls call"}},
    {"inbound_call_in_dnd_changes_nothing",
     kPlain,
     {Sel(5, "Do Not Disturb"), Start(10, "c1")},
     {"5 Do Not Disturb agent"}},
    {"dialling_out_from_lunch_changes_nothing",
     kPlain,
     {Sel(5, "Lunch"), Out(10, "c1")},
     {"5 Lunch agent"}},
    {"dial_out_from_dnd_then_call_then_wrap_up",
     kWrapOnCall,
     {Sel(5, "Do Not Disturb"), Out(10, "c1"), Answer(20, "c1"), End(80, "c1"), Tick(200)},
     {"5 Do Not Disturb agent", "10 Ready for Calls call", "20 On a call call",
      "80 Wrap-up wrap_up", "110 Ready for Calls wrap_up"}},
};

const std::vector<Case> kRule6 = {
    {"choice_during_call_waits_for_its_end",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), End(70, "c1")},
     {"10 On a call call", "70 Lunch agent"}},
    {"choice_during_call_applies_after_wrap_up",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), End(70, "c1"), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Lunch agent"}},
    {"later_choice_replaces_the_pending_one",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), Sel(30, "Meeting"), End(70, "c1")},
     {"10 On a call call", "70 Meeting agent"}},
    {"pending_choice_with_active_call_state_off",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), End(70, "c1"), Tick(200)},
     {"70 Wrap-up wrap_up", "100 Lunch agent"}},
    {"locked_wrap_up_keeps_the_choice_for_its_end",
     kLocked,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(80, "Lunch"), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "100 Lunch agent"}},
    {"choice_during_a_ringing_call_applies_at_once",
     kOnCall,
     {Start(10, "c1"), Sel(15, "Lunch"), End(40, "c1")},
     {"15 Lunch agent"}},
    {"choice_during_ringing_then_answered_returns_to_the_choice",
     kWrapOnCall,
     {Start(10, "c1"), Sel(15, "Lunch"), Answer(20, "c1"), End(80, "c1"), Tick(200)},
     {"15 Lunch agent", "20 On a call call", "80 Wrap-up wrap_up", "110 Lunch agent"}},
    {"locked_wrap_up_with_a_call_in_it_keeps_the_choice_for_the_end",
     kLocked,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Start(75, "i1", Direction::kInbound, true),
      Answer(75, "i1"), Sel(78, "Lunch"), End(80, "i1"), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "75 On a call call", "80 Wrap-up wrap_up",
      "105 Lunch agent"}},
    {"unlocked_wrap_up_ends_at_once_on_a_choice",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(80, "Meeting"), Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "80 Meeting agent"}},
};

const std::vector<Case> kRule7 = {
    {"override_during_call_applies_at_once_and_clears_pending",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), Over(30, "Meeting"), End(70, "c1"),
      Tick(200)},
     {"10 On a call call", "30 Meeting supervisor"}},
    {"override_may_set_a_state_agents_cannot_pick",
     kPlain,
     {Over(10, "On a call")},
     {"10 On a call supervisor"}},
    {"override_during_locked_wrap_up_applies_at_once",
     kLocked,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(75, "Lunch"), Over(80, "Meeting"),
      Tick(200)},
     {"10 On a call call", "70 Wrap-up wrap_up", "80 Meeting supervisor"}},
};

const std::vector<Case> kRule8 = {
    {"end_without_start_is_a_complete_call",
     kWrap,
     {End(70, "c9", 95.0), Tick(200)},
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"end_without_start_and_no_duration_is_ring_only", kWrap, {End(70, "c9"), Tick(200)}, {}},
    {"end_without_start_internal_gets_no_wrap_up",
     kWrap,
     {End(70, "c9", 95.0, true), Tick(200)},
     {}},
    {"complete_call_during_another_call_counts_for_the_group",
     kWrapOnCall,
     {Start(10, "c1", Direction::kInbound, true), Answer(10, "c1"), End(30, "c9", 20.0),
      End(60, "c1"), Tick(200)},
     {"10 On a call call", "60 Wrap-up wrap_up", "90 Ready for Calls wrap_up"}},
};

const std::vector<Case> kRule9 = {
    {"logout_sets_the_logout_state", kPlain, {Logout(10)}, {"10 Logout agent"}},
    {"login_when_signed_in_keeps_the_state",
     kPlain,
     {Sel(5, "Lunch"), Login(10)},
     {"5 Lunch agent"}},
    {"login_after_logout_sets_the_login_state",
     kPlain,
     {Logout(10), Login(20)},
     {"10 Logout agent", "20 Ready for Calls agent"}},
    {"login_from_offline_sets_the_login_state",
     kPlain,
     {Sel(10, "Offline"), Login(20)},
     {"10 Offline agent", "20 Ready for Calls agent"}},
    {"logout_ends_wrap_up_and_its_timer",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Logout(80), Tick(200)},
     {"70 Wrap-up wrap_up", "80 Logout agent"}},
    {"logout_drops_a_pending_choice",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(20, "Lunch"), Logout(30), End(70, "c1")},
     {"10 On a call call", "30 Logout agent"}},
};

const std::vector<Case> kRule10 = {
    {"calls_of_a_logged_out_user_change_nothing",
     kWrapOnCall,
     {Logout(5), Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Tick(200)},
     {"5 Logout agent"}},
    {"calls_of_an_offline_user_change_nothing",
     kWrapOnCall,
     {Sel(5, "Offline"), Out(10, "c1"), Answer(12, "c1"), End(70, "c1"), Tick(200)},
     {"5 Offline agent"}},
    {"complete_call_of_a_logged_out_user_changes_nothing",
     kWrap,
     {Logout(5), End(70, "c9", 95.0), Tick(200)},
     {"5 Logout agent"}},
    {"logout_during_a_call_is_kept_after_it",
     kWrapOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Logout(30), End(70, "c1"), Tick(200)},
     {"10 On a call call", "30 Logout agent"}},
    {"choice_while_logged_out_with_a_call_applies_at_once",
     kOnCall,
     {Logout(5), Start(10, "c1"), Sel(20, "Ready for Calls")},
     {"5 Logout agent", "20 Ready for Calls agent"}},
};

// Feeds repeat and reorder events; a late or repeated event for an ended call is ignored.
const std::vector<Case> kCallFeedQuirks = {
    {"late_answer_after_the_end_is_ignored",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Answer(75, "c1"), Sel(80, "Lunch")},
     {"10 On a call call", "70 Ready for Calls call", "80 Lunch agent"}},
    {"repeated_end_does_not_start_another_wrap_up",
     kWrap,
     {Start(10, "c1"), Answer(10, "c1"), End(70, "c1"), Sel(80, "Lunch"), End(85, "c1"), Tick(200)},
     {"70 Wrap-up wrap_up", "80 Lunch agent"}},
    {"repeated_outbound_start_after_the_end_is_ignored",
     kWrap,
     {Out(10, "c1"), Answer(10, "c1"), End(70, "c1"), Out(71, "c1"), Tick(200)},
     {"70 Wrap-up wrap_up", "100 Ready for Calls wrap_up"}},
    {"repeated_start_of_an_active_call_is_the_same_call",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Start(20, "c1"), End(70, "c1")},
     {"10 On a call call", "70 Ready for Calls call"}},
    {"call_whose_end_was_lost_is_dropped_after_12_hours",
     kOnCall,
     {Start(10, "c1"), Answer(10, "c1"), Sel(10 + 13 * 3600, "Lunch")},
     {"10 On a call call", "46810 Lunch agent"}},
};

// Rule 11: Meeting is the missed-calls state of these catalogs.
const TestSettings kMissed3{.extra_settings =
                                R"("missed_calls": {"after": 3, "state": "Meeting"})"};
const TestSettings kMissedBack{
    .extra_settings =
        R"("missed_calls": {"after": 2, "state": "Meeting", "return_after_seconds": 60})"};
const TestSettings kMissedBackOnCall{
    .wrap_up_seconds = 30,
    .active_call_state = true,
    .extra_settings =
        R"("missed_calls": {"after": 2, "state": "Meeting", "return_after_seconds": 60})"};

// A call offered at t that rings for 5 s and is never answered.
std::vector<Step> Ring(int t, const std::string& id) { return {Start(t, id), End(t + 5, id)}; }
std::vector<Step> Script(std::initializer_list<std::vector<Step>> parts) {
  std::vector<Step> all;
  for (const std::vector<Step>& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

const std::vector<Case> kRule11 = {
    {"calls_that_only_ring_while_ready_move_the_agent",
     kMissed3,
     Script({Ring(10, "a"), Ring(20, "b"), Ring(30, "c")}),
     {"35 Meeting call"}},
    {"fewer_than_after_change_nothing", kMissed3, Script({Ring(10, "a"), Ring(20, "b")}), {}},
    {"off_when_the_setting_is_absent",
     kPlain,
     Script({Ring(10, "a"), Ring(20, "b"), Ring(30, "c"), Ring(40, "d")}),
     {}},
    {"an_answered_call_resets_the_count",
     kMissed3,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Start(30, "c"), Answer(31, "c"), End(40, "c")},
             Ring(50, "d"),
             Ring(60, "e"),
             Ring(70, "f")}),
     {"75 Meeting call"}},
    {"an_answered_outbound_call_resets_the_count",
     kMissed3,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Out(30, "o"), Answer(31, "o"), End(40, "o")},
             Ring(50, "d"),
             Ring(60, "e")}),
     {}},
    {"a_call_reported_with_a_length_resets_the_count",
     kMissed3,
     Script({Ring(10, "a"), Ring(20, "b"), {End(30, "x", 25.0)}, Ring(50, "d"), Ring(60, "e")}),
     {}},
    {"outbound_calls_that_are_not_answered_do_not_count",
     kMissed3,
     {Out(10, "o1"), End(15, "o1"), Out(20, "o2"), End(25, "o2"), Out(30, "o3"), End(35, "o3")},
     {}},
    {"outbound_calls_that_are_not_answered_do_not_reset",
     kMissed3,
     Script({Ring(10, "a"), Ring(20, "b"), {Out(30, "o"), End(35, "o")}, Ring(40, "c")}),
     {"45 Meeting call"}},
    {"internal_calls_do_not_count",
     kMissed3,
     {Internal(10, "i1"), End(15, "i1"), Internal(20, "i2"), End(25, "i2"), Internal(30, "i3"),
      End(35, "i3")},
     {}},
    {"calls_offered_outside_ready_do_not_count",
     kMissed3,
     Script({{Sel(5, "Lunch")}, Ring(10, "a"), Ring(20, "b"), Ring(30, "c")}),
     {"5 Lunch agent"}},
    {"calls_offered_while_busy_with_a_call_do_not_count",
     kMissed3,
     Script({{Start(5, "t"), Answer(6, "t")},
             Ring(10, "a"),
             Ring(20, "b"),
             Ring(30, "c"),
             {End(50, "t")}}),
     {}},
    {"a_change_of_state_resets_the_count",
     kMissed3,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Sel(30, "Lunch"), Sel(31, "Ready for Calls")},
             Ring(40, "c"),
             Ring(50, "d")}),
     {"30 Lunch agent", "31 Ready for Calls agent"}},
    {"choosing_ready_again_resets_the_count",
     kMissed3,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Sel(30, "Ready for Calls")},
             Ring(40, "c"),
             Ring(50, "d")}),
     {}},
    {"a_call_ringing_when_the_agent_acts_does_not_count",
     kMissed3,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Start(30, "c"), Sel(31, "Ready for Calls"), End(35, "c")},
             Ring(40, "d"),
             Ring(50, "e")}),
     {}},
    {"logout_and_login_reset_the_count",
     kMissed3,
     Script({Ring(10, "a"), Ring(20, "b"), {Logout(30), Login(31)}, Ring(40, "c"), Ring(50, "d")}),
     {"30 Logout agent", "31 Ready for Calls agent"}},
    {"an_override_resets_the_count",
     kMissed3,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Over(30, "Ready for Calls")},
             Ring(40, "c"),
             Ring(50, "d")}),
     {}},
    {"signed_off_users_never_count",
     kMissedBack,
     Script({{Logout(5)}, Ring(10, "a"), Ring(20, "b"), Ring(30, "c"), {Tick(200)}}),
     {"5 Logout agent"}},
    {"offline_users_never_count",
     kMissedBack,
     Script({{Sel(5, "Offline")}, Ring(10, "a"), Ring(20, "b"), Ring(30, "c"), {Tick(200)}}),
     {"5 Offline agent"}},
    {"the_agent_stays_without_return_after_seconds",
     kMissed3,
     Script({Ring(10, "a"), Ring(20, "b"), Ring(30, "c"), {Tick(5000)}}),
     {"35 Meeting call"}},
    {"the_agent_returns_to_ready_after_return_after_seconds",
     kMissedBack,
     Script({Ring(10, "a"), Ring(20, "b"), {Tick(200)}}),
     {"25 Meeting call", "85 Ready for Calls system"}},
    {"the_count_starts_again_after_the_move",
     kMissedBack,
     Script(
         {Ring(10, "a"), Ring(20, "b"), {Tick(100)}, Ring(110, "c"), Ring(120, "d"), {Tick(300)}}),
     {"25 Meeting call", "85 Ready for Calls system", "125 Meeting call",
      "185 Ready for Calls system"}},
    {"calls_ringing_in_the_missed_state_do_not_count",
     kMissedBack,
     Script(
         {Ring(10, "a"), Ring(20, "b"), Ring(30, "c"), Ring(40, "d"), {Tick(90)}, Ring(90, "e")}),
     {"25 Meeting call", "85 Ready for Calls system"}},
    {"no_return_when_the_agent_changed_state_meanwhile",
     kMissedBack,
     Script({Ring(10, "a"), Ring(20, "b"), {Sel(40, "Lunch"), Tick(200)}}),
     {"25 Meeting call", "40 Lunch agent"}},
    {"no_return_when_the_agent_left_and_came_back",
     kMissedBack,
     Script({Ring(10, "a"), Ring(20, "b"), {Sel(30, "Lunch"), Sel(40, "Meeting"), Tick(200)}}),
     {"25 Meeting call", "30 Lunch agent", "40 Meeting agent"}},
    {"choosing_the_missed_state_again_keeps_the_agent_there",
     kMissedBack,
     Script({Ring(10, "a"), Ring(20, "b"), {Sel(30, "Meeting"), Tick(200)}}),
     {"25 Meeting call"}},
    {"no_return_after_an_override",
     kMissedBack,
     Script({Ring(10, "a"), Ring(20, "b"), {Over(30, "Meeting"), Tick(200)}}),
     {"25 Meeting call"}},
    {"a_call_answered_in_the_missed_state_ends_it_and_the_timer_is_stale",
     kMissedBackOnCall,
     Script({Ring(10, "a"),
             Ring(20, "b"),
             {Start(30, "c"), Answer(31, "c"), End(41, "c"), Tick(200)}}),
     {"25 Meeting call", "31 On a call call", "41 Wrap-up wrap_up", "71 Ready for Calls wrap_up"}},
};

std::string Join(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "[" + line + "] ";
  return text;
}

void Check(const Case& c) { BOOST_TEST(Join(Run(c)) == Join(c.expected)); }

Result<Outcome> HandleAt(Engine& engine, const Event& event, int t) {
  return engine.Handle(event, kT0 + std::chrono::seconds(t));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_test)

namespace data = boost::unit_test::data;

BOOST_DATA_TEST_CASE(rule1_picklist_choice, data::make(kRule1), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule2_on_a_call_while_a_call_is_active, data::make(kRule2), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule3_wrap_up_after_qualifying_calls, data::make(kRule3), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule3_calls_around_a_wrap_up, data::make(kWrapUpOrders), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule4_timer_never_overwrites_a_later_change, data::make(kRule4), c) {
  Check(c);
}
BOOST_DATA_TEST_CASE(rule5_dial_out_from_dnd_returns_to_ready, data::make(kRule5), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule6_choice_during_call_is_pending, data::make(kRule6), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule7_override_applies_at_once, data::make(kRule7), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule8_end_without_start_is_a_complete_call, data::make(kRule8), c) {
  Check(c);
}
BOOST_DATA_TEST_CASE(rule9_login_logout_and_first_sight, data::make(kRule9), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule10_calls_of_signed_off_users, data::make(kRule10), c) { Check(c); }
BOOST_DATA_TEST_CASE(late_and_repeated_call_events, data::make(kCallFeedQuirks), c) { Check(c); }
BOOST_DATA_TEST_CASE(rule11_missed_calls_take_the_agent_out_of_ready, data::make(kRule11), c) {
  Check(c);
}

// Rule 11 across a restart: the count, a ringing call that counts and the pending return are
// part of the stored state, so a restarted engine carries on exactly.
BOOST_AUTO_TEST_CASE(a_restart_resumes_the_missed_count_and_the_pending_return) {
  auto restart = [](const Engine& engine, const TestSettings& settings) {
    const AgentState& state = *engine.Find(kUser);
    Result<AgentState> restored = RestoreAgentState({kUser, SerializeEngineState(state),
                                                     tracking::Interval{.agent = kUser,
                                                                        .label = state.label,
                                                                        .source = state.source,
                                                                        .cause = state.cause,
                                                                        .start = state.since}});
    BOOST_REQUIRE(restored.ok());
    BOOST_TEST(SerializeEngineState(*restored) == SerializeEngineState(state));
    auto fresh = std::make_unique<Engine>(testing::MakeTestCatalog(settings));
    fresh->Restore(std::move(restored).value());
    return fresh;
  };
  const TestSettings settings{
      .extra_settings =
          R"("missed_calls": {"after": 3, "state": "Meeting", "return_after_seconds": 60})"};
  auto engine = std::make_unique<Engine>(testing::MakeTestCatalog(settings));
  for (const Step& step : Script({{Login(0)}, Ring(10, "a"), Ring(20, "b"), {Start(30, "c")}})) {
    BOOST_REQUIRE(HandleAt(*engine, step.event, step.t).ok());
  }
  BOOST_TEST(engine->Find(kUser)->missed_calls == 2);
  engine = restart(*engine, settings);
  BOOST_TEST(engine->Find(kUser)->missed_calls == 2);
  BOOST_REQUIRE_EQUAL(engine->Find(kUser)->calls.size(), 1u);
  BOOST_TEST(engine->Find(kUser)->calls[0].counts_if_missed);

  Result<Outcome> moved = HandleAt(*engine, End(35, "c").event, 35);
  BOOST_REQUIRE(moved.ok());
  BOOST_REQUIRE_EQUAL(moved->changes.size(), 1u);
  BOOST_TEST(moved->changes[0].label == "Meeting");
  BOOST_TEST(moved->changes[0].cause == "missed_calls:3");
  BOOST_TEST((moved->changes[0].source == Source::kCall));
  BOOST_TEST(!moved->timer.has_value());
  BOOST_REQUIRE(moved->missed_calls_timer.has_value());
  const Timestamp due = kT0 + std::chrono::seconds(95);
  BOOST_TEST((*moved->missed_calls_timer == due));

  engine = restart(*engine, settings);
  BOOST_REQUIRE(engine->Find(kUser)->missed_return_at.has_value());
  BOOST_TEST((*engine->Find(kUser)->missed_return_at == due));
  BOOST_TEST(engine->Find(kUser)->missed_calls == 0);
  Result<Outcome> back = engine->Handle(TimerEvent(EventType::kMissedCallsTimer, kUser, due), due);
  BOOST_REQUIRE(back.ok());
  BOOST_REQUIRE_EQUAL(back->changes.size(), 1u);
  BOOST_TEST(back->changes[0].label == "Ready for Calls");
  BOOST_TEST(back->changes[0].cause == "missed_calls_return");
  BOOST_TEST((back->changes[0].source == Source::kSystem));
  BOOST_TEST(!engine->Find(kUser)->missed_return_at.has_value());
}

BOOST_AUTO_TEST_CASE(a_stored_state_from_before_missed_calls_reads_as_none) {
  const std::string old_text =
      R"({"calls":[{"id":"c1","direction":"inbound","internal":false,)"
      R"("started":"2026-11-21T09:00:10.000Z","answered":""}],"calls_own_state":true,)"
      R"("call_qualified":false,"resume_label":"Ready for Calls","wrap_up_until":"",)"
      R"("ended_calls":[],"last_event":"2026-11-21T09:00:10.000Z"})";
  const tracking::Interval open{.agent = kUser,
                                .label = "Ready for Calls",
                                .source = Source::kAgent,
                                .cause = "login",
                                .start = kT0};
  Result<AgentState> state = RestoreAgentState({kUser, old_text, open});
  BOOST_REQUIRE(state.ok());
  BOOST_TEST(state->missed_calls == 0);
  BOOST_TEST(!state->missed_return_at.has_value());
  BOOST_REQUIRE_EQUAL(state->calls.size(), 1u);
  BOOST_TEST(!state->calls[0].counts_if_missed);
  // And a state with nothing of rule 11 in it stores nothing of it (nor the members at their
  // defaults); what it stores reads back the same.
  const std::string text = SerializeEngineState(*state);
  BOOST_TEST(text.find("missed") == std::string::npos, text);
  Result<AgentState> again = RestoreAgentState({kUser, text, open});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(SerializeEngineState(*again) == text);
  BOOST_REQUIRE_EQUAL(again->calls.size(), 1u);
  BOOST_TEST(again->calls_own_state);
  BOOST_TEST(again->resume_label == "Ready for Calls");
}

BOOST_AUTO_TEST_CASE(a_stale_missed_calls_timer_changes_nothing) {
  Engine engine(testing::MakeTestCatalog(kMissedBack));
  for (const Step& step : Script({{Login(0)}, Ring(10, "a"), Ring(20, "b"), {Sel(30, "Lunch")}})) {
    BOOST_REQUIRE(HandleAt(engine, step.event, step.t).ok());
  }
  const Timestamp due = kT0 + std::chrono::seconds(85);
  Result<Outcome> fired = engine.Handle(TimerEvent(EventType::kMissedCallsTimer, kUser, due), due);
  BOOST_REQUIRE(fired.ok());
  BOOST_TEST(fired->changes.empty());
  BOOST_TEST(engine.Find(kUser)->label == "Lunch");
}

BOOST_AUTO_TEST_CASE(call_event_before_the_last_event_is_refused) {
  Engine engine(testing::MakeTestCatalog({}));
  BOOST_REQUIRE(HandleAt(engine, Start(10, "c1").event, 10).ok());
  BOOST_REQUIRE(HandleAt(engine, Answer(100, "c1").event, 100).ok());
  Result<Outcome> result = HandleAt(engine, End(50, "c1").event, 50);
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.error().code == "time_went_backwards");
  BOOST_TEST(engine.Find(kUser)->calls.size() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_label_is_an_error_and_changes_nothing) {
  Engine engine(testing::MakeTestCatalog({}));
  BOOST_REQUIRE(HandleAt(engine, Sel(0, "Lunch").event, 0).ok());
  Result<Outcome> result = HandleAt(engine, Sel(10, "Lnch").event, 10);
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.error().code == "unknown_label");
  BOOST_TEST(result.error().message.find("'Lnch'") != std::string::npos);
  BOOST_TEST(result.error().message.find("'Ready for Calls'") != std::string::npos);
  BOOST_TEST(engine.Find(kUser)->label == "Lunch");
  BOOST_TEST((engine.Find(kUser)->since == kT0));
}

// A published state is the engine's own (one copy per user, however many readers), and it
// never changes under a reader: the engine copies it before the user's next event.
BOOST_AUTO_TEST_CASE(a_shared_state_is_the_engines_own_and_never_changes_afterwards) {
  Engine engine(testing::MakeTestCatalog({}));
  BOOST_REQUIRE(HandleAt(engine, Sel(0, "Lunch").event, 0).ok());
  int decorated = 0;
  std::shared_ptr<const AgentState> shared = engine.Share(kUser, [&decorated](AgentState& state) {
    ++decorated;
    state.missed_calls = 0;  // the core sets its own members (budgets) here
  });
  BOOST_REQUIRE(shared);
  BOOST_TEST(decorated == 1);
  BOOST_TEST(shared.get() == engine.Find(kUser));  // not a copy
  BOOST_REQUIRE(HandleAt(engine, Sel(10, "Meeting").event, 10).ok());
  BOOST_TEST(shared->label == "Lunch");
  BOOST_TEST((shared->since == kT0));
  BOOST_TEST(engine.Find(kUser)->label == "Meeting");
  BOOST_TEST(shared.get() != engine.Find(kUser));
  // Unshared, the next event changes the state in place.
  const AgentState* own = engine.Find(kUser);
  BOOST_REQUIRE(HandleAt(engine, Sel(20, "Lunch").event, 20).ok());
  BOOST_TEST(engine.Find(kUser) == own);
  BOOST_TEST(engine.Share("nobody", [](AgentState&) {}) == nullptr);
}

BOOST_AUTO_TEST_CASE(unknown_label_for_a_new_user_does_not_create_the_user) {
  Engine engine(testing::MakeTestCatalog({}));
  BOOST_TEST(!HandleAt(engine, Sel(0, "Nope").event, 0).ok());
  BOOST_TEST(engine.Find(kUser) == nullptr);
}

BOOST_AUTO_TEST_CASE(agents_cannot_pick_states_the_process_sets) {
  Engine engine(testing::MakeTestCatalog({.active_call_state = true}));
  Result<Outcome> result = HandleAt(engine, Sel(0, "On a call").event, 0);
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.error().code == "not_selectable");
  BOOST_TEST(engine.Find(kUser) == nullptr);
}

BOOST_AUTO_TEST_CASE(first_seen_user_starts_in_the_initial_state_at_its_first_event) {
  Engine engine(testing::MakeTestCatalog({}));
  Result<Outcome> result = HandleAt(engine, Login(0).event, 0);
  BOOST_REQUIRE(result.ok());
  BOOST_REQUIRE_EQUAL(result->changes.size(), 2u);
  const tracking::Change& first = result->changes[0];
  BOOST_TEST(first.from_label == "");
  BOOST_TEST(first.label == "Logout");
  BOOST_TEST((first.source == Source::kSystem));
  BOOST_TEST(first.cause == "first_seen");
  BOOST_TEST(result->changes[1].from_label == "Logout");
  BOOST_TEST(result->changes[1].label == "Ready for Calls");
  BOOST_TEST(result->changes[1].reason_code == "*60");
  BOOST_TEST((result->changes[1].at == kT0));
}

BOOST_AUTO_TEST_CASE(configured_initial_and_login_states_are_used) {
  Engine engine(testing::MakeTestCatalog(
      {.extra_settings = R"("initial_state": "Offline", "login_state": "Meeting")"}));
  Result<Outcome> result = HandleAt(engine, Login(0).event, 0);
  BOOST_REQUIRE(result.ok());
  BOOST_REQUIRE_EQUAL(result->changes.size(), 2u);
  BOOST_TEST(result->changes[0].label == "Offline");
  BOOST_TEST(result->changes[1].label == "Meeting");
}

BOOST_AUTO_TEST_CASE(event_before_the_last_change_is_refused) {
  Engine engine(testing::MakeTestCatalog({}));
  BOOST_REQUIRE(HandleAt(engine, Sel(100, "Lunch").event, 100).ok());
  Result<Outcome> result = HandleAt(engine, Sel(50, "Meeting").event, 50);
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST(result.error().code == "time_went_backwards");
  BOOST_TEST(engine.Find(kUser)->label == "Lunch");
}

BOOST_AUTO_TEST_CASE(call_events_need_a_call_id_and_a_sane_duration) {
  Engine engine(testing::MakeTestCatalog({}));
  Result<Outcome> no_id = HandleAt(engine, Start(0, "").event, 0);
  BOOST_REQUIRE(!no_id.ok());
  BOOST_TEST(no_id.error().code == "missing_field");
  Result<Outcome> negative = HandleAt(engine, End(0, "c1", -3.0).event, 0);
  BOOST_REQUIRE(!negative.ok());
  BOOST_TEST(negative.error().code == "invalid_value");
  BOOST_TEST(engine.Find(kUser) == nullptr);
}

BOOST_AUTO_TEST_CASE(each_change_records_its_cause) {
  Engine engine(testing::MakeTestCatalog({.wrap_up_seconds = 30, .active_call_state = true}));
  std::vector<std::string> causes;
  auto run = [&](const Step& step) {
    Result<Outcome> result = HandleAt(engine, step.event, step.t);
    BOOST_REQUIRE(result.ok());
    for (const auto& change : result->changes) causes.push_back(change.cause);
    return *result;
  };
  run(Login(0));
  run(Sel(1, "Do Not Disturb"));
  run(Out(2, "c7"));
  run(Answer(3, "c7"));
  Outcome ended = run(End(63, "c7"));
  BOOST_REQUIRE(ended.timer.has_value());
  BOOST_TEST((*ended.timer == kT0 + std::chrono::seconds(93)));
  Result<Outcome> fired = engine.Handle(WrapUpTimerEvent(kUser, *ended.timer), *ended.timer);
  BOOST_REQUIRE(fired.ok());
  for (const auto& change : fired->changes) causes.push_back(change.cause);
  const std::vector<std::string> expected = {
      "first_seen",       "login",         "select",     "dial_out:c7",
      "call_answered:c7", "call_ended:c7", "wrap_up_end"};
  BOOST_TEST(causes == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(restoring_the_stored_state_midway_gives_the_same_day) {
  const TestSettings settings{.wrap_up_seconds = 30, .active_call_state = true};
  const std::vector<Step> first = {Login(0),
                                   Start(10, "c1"),
                                   Answer(10, "c1"),
                                   Sel(20, "Lunch"),
                                   Start(30, "c2", Direction::kInbound, true),
                                   Answer(31, "c2")};
  const std::vector<Step> second = {End(70, "c1"), End(75, "c2"), Sel(90, "Meeting"),
                                    Out(120, "c3"), End(130, "c3", 9.0)};
  auto run = [&](Engine& engine, const std::vector<Step>& steps, std::vector<std::string>& seen) {
    for (const Step& step : steps) {
      Result<Outcome> outcome = HandleAt(engine, step.event, step.t);
      BOOST_REQUIRE(outcome.ok());
      for (const auto& change : outcome->changes) seen.push_back(Describe(change));
    }
  };
  std::vector<std::string> straight, restarted;
  Engine once(testing::MakeTestCatalog(settings));
  run(once, first, straight);
  run(once, second, straight);

  Engine before(testing::MakeTestCatalog(settings));
  run(before, first, restarted);
  const AgentState& state = *before.Find(kUser);
  Result<AgentState> restored = RestoreAgentState({kUser, SerializeEngineState(state),
                                                   tracking::Interval{.agent = kUser,
                                                                      .label = state.label,
                                                                      .source = state.source,
                                                                      .cause = state.cause,
                                                                      .start = state.since}});
  BOOST_REQUIRE(restored.ok());
  Engine after(testing::MakeTestCatalog(settings));
  after.Restore(std::move(restored).value());
  run(after, second, restarted);
  BOOST_TEST(Join(restarted) == Join(straight));
  BOOST_TEST(straight.size() == 6u);
}

BOOST_AUTO_TEST_CASE(persisted_state_restores_pending_choice_calls_and_wrap_up) {
  Engine engine(testing::MakeTestCatalog({.wrap_up_seconds = 30}));
  for (const Step& step :
       {Login(0), Start(10, "c1"), Answer(10, "c1"), End(70, "c1"),
        Start(75, "c2", Direction::kInbound, true), Answer(76, "c2"), Sel(80, "Lunch")}) {
    BOOST_REQUIRE(HandleAt(engine, step.event, step.t).ok());
  }
  const AgentState& before = *engine.Find(kUser);
  tracking::StoredAgent stored{kUser, SerializeEngineState(before),
                               tracking::Interval{.agent = kUser,
                                                  .label = before.label,
                                                  .source = before.source,
                                                  .cause = before.cause,
                                                  .start = before.since}};
  Result<AgentState> after = RestoreAgentState(stored);
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->label == "Wrap-up");
  BOOST_REQUIRE(after->pending_label.has_value());
  BOOST_TEST(*after->pending_label == "Lunch");
  BOOST_TEST((after->pending_source == Source::kAgent));
  BOOST_REQUIRE(after->wrap_up_until.has_value());
  BOOST_TEST((*after->wrap_up_until == kT0 + std::chrono::seconds(100)));
  BOOST_REQUIRE_EQUAL(after->calls.size(), 1u);
  BOOST_TEST(after->calls[0].id == "c2");
  BOOST_TEST((after->calls[0].direction == Direction::kInbound));
  BOOST_TEST(after->calls[0].internal);
  BOOST_TEST(after->calls_own_state == before.calls_own_state);
  BOOST_TEST(after->ended_calls == std::vector<std::string>{"c1"},
             boost::test_tools::per_element());
  BOOST_TEST((after->last_event == kT0 + std::chrono::seconds(80)));
  BOOST_TEST(SerializeEngineState(*after) == SerializeEngineState(before));
}

BOOST_AUTO_TEST_CASE(owed_wrap_up_names_the_call_that_earned_it) {
  Engine engine(testing::MakeTestCatalog({.wrap_up_seconds = 30, .active_call_state = true}));
  std::vector<std::string> causes;
  for (const Step& step : {Login(0), Start(10, "c1"), Answer(10, "c1"), End(70, "c1"),
                           Internal(80, "i"), Answer(80, "i"), End(90, "i")}) {
    Result<Outcome> result = HandleAt(engine, step.event, step.t);
    BOOST_REQUIRE(result.ok());
    for (const auto& change : result->changes) causes.push_back(change.label + " " + change.cause);
  }
  // The wrap-up after the internal call is c1's, for what was left of it (20 of 30 s).
  BOOST_TEST(causes.back() == "Wrap-up call_ended:c1");
  const AgentState& state = *engine.Find(kUser);
  BOOST_REQUIRE(state.wrap_up_until.has_value());
  BOOST_TEST((*state.wrap_up_until == kT0 + std::chrono::seconds(110)));
}

BOOST_AUTO_TEST_CASE(persisted_state_restores_an_owed_wrap_up) {
  Engine engine(testing::MakeTestCatalog({.wrap_up_seconds = 30, .active_call_state = true}));
  for (const Step& step : {Login(0), Start(10, "c1"), Answer(10, "c1"), End(70, "c1"),
                           Internal(80, "i"), Answer(82, "i")}) {
    BOOST_REQUIRE(HandleAt(engine, step.event, step.t).ok());
  }
  const AgentState& before = *engine.Find(kUser);
  BOOST_REQUIRE(before.owed_wrap_up.has_value());
  Result<AgentState> after = RestoreAgentState({kUser, SerializeEngineState(before),
                                                tracking::Interval{.agent = kUser,
                                                                   .label = before.label,
                                                                   .source = before.source,
                                                                   .cause = before.cause,
                                                                   .start = before.since}});
  BOOST_REQUIRE(after.ok());
  BOOST_REQUIRE(after->owed_wrap_up.has_value());
  BOOST_TEST(after->owed_wrap_up->count() == 18000);
  BOOST_TEST(after->owed_cause == "call_ended:c1");
  Engine restarted(testing::MakeTestCatalog({.wrap_up_seconds = 30, .active_call_state = true}));
  restarted.Restore(std::move(after).value());
  Result<Outcome> ended = HandleAt(restarted, End(90, "i").event, 90);
  BOOST_REQUIRE(ended.ok());
  BOOST_REQUIRE(ended->timer.has_value());
  BOOST_TEST((*ended->timer == kT0 + std::chrono::seconds(108)));
}

BOOST_AUTO_TEST_CASE(sizes_a_client_controls_are_bounded) {
  Engine engine(testing::MakeTestCatalog({.active_call_state = true}));
  BOOST_REQUIRE(HandleAt(engine, Login(0).event, 0).ok());
  Result<Outcome> long_id =
      HandleAt(engine, Start(1, std::string(kMaxCallIdBytes + 1, 'x')).event, 1);
  BOOST_REQUIRE(!long_id.ok());
  BOOST_TEST(long_id.error().code == "too_long");
  BOOST_TEST(HandleAt(engine, Start(1, std::string(kMaxCallIdBytes, 'x')).event, 1).ok());
  Result<Outcome> long_label =
      HandleAt(engine, Sel(2, std::string(kMaxLabelBytes + 1, 'L')).event, 2);
  BOOST_REQUIRE(!long_label.ok());
  BOOST_TEST(long_label.error().code == "too_long");
  BOOST_TEST(long_label.error().message.size() < 200u);  // never echoes the whole text

  for (size_t i = 1; i < kMaxActiveCalls; ++i) {
    BOOST_REQUIRE(HandleAt(engine, Start(3, "c" + std::to_string(i)).event, 3).ok());
  }
  BOOST_TEST(engine.Find(kUser)->calls.size() == kMaxActiveCalls);
  Result<Outcome> one_more = HandleAt(engine, Start(4, "extra").event, 4);
  BOOST_REQUIRE(!one_more.ok());
  BOOST_TEST(one_more.error().code == "too_many_calls");
  Result<Outcome> answered_unknown = HandleAt(engine, Answer(4, "extra").event, 4);
  BOOST_TEST(!answered_unknown.ok());
  // Events of calls it already has still count, and an ended call makes room.
  BOOST_TEST(HandleAt(engine, Answer(5, "c1").event, 5).ok());
  BOOST_TEST(HandleAt(engine, End(6, "c1").event, 6).ok());
  BOOST_TEST(HandleAt(engine, Start(7, "extra").event, 7).ok());
  BOOST_TEST(engine.Find(kUser)->calls.size() == kMaxActiveCalls);
  // Calls older than kMaxCallAge are taken for lost and do not hold the limit.
  const int later = static_cast<int>(std::chrono::seconds(kMaxCallAge).count()) + 10;
  BOOST_TEST(HandleAt(engine, Start(later, "fresh").event, later).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
