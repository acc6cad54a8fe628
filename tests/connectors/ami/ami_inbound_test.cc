#include "connectors/ami/ami_inbound.h"

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "tests/fakes/ami_scenarios.h"

namespace presence::connectors {
namespace {

using testing::AmiParty;
using testing::CallSpec;

// alice = 1001, bob = 1002; FreePBX queue members are Local channels.
AmiInboundRules AllRules() {
  AmiInboundRules rules;
  rules.calls = true;
  rules.dnd = true;
  rules.queues = true;
  rules.channel = "PJSIP/{extension}";
  rules.queue_interface = "Local/{extension}@from-queue/n";
  rules.dnd_on_label = "Do not disturb";
  rules.dnd_off_label = "Available";
  rules.pause_rules = {AmiPauseRule{true, "Lunch", "Lunch"}, AmiPauseRule{true, "", "Break"},
                       AmiPauseRule{false, "", "Available"}};
  return rules;
}

AmiInbound MakeReader(AmiInboundRules rules = AllRules()) {
  AmiInbound reader(std::move(rules));
  reader.SetUsers({{"1001", "alice"}, {"1002", "bob"}});
  return reader;
}

// One line per event: "<kind> <user> <call id|label> [out] [internal] [<duration>s]".
std::string Describe(const InboundEvent& event) {
  switch (event.kind) {
    case InboundEvent::Kind::kSelect:
      return "select " + event.user + " " + event.label;
    case InboundEvent::Kind::kPbxStatus:
      return "pbx_status " + event.user;
    case InboundEvent::Kind::kLogout:
      return "logout " + event.user;
    case InboundEvent::Kind::kCallStarted:
    case InboundEvent::Kind::kCallAnswered:
    case InboundEvent::Kind::kCallEnded: {
      std::string text = event.kind == InboundEvent::Kind::kCallStarted    ? "started "
                         : event.kind == InboundEvent::Kind::kCallAnswered ? "answered "
                                                                           : "ended ";
      text += event.user + " " + event.call_id;
      if (event.outbound) text += " out";
      if (event.internal) text += " internal";
      if (event.duration_s) {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), " %.1fs", *event.duration_s);
        text += seconds;
      }
      return text;
    }
  }
  return "?";
}

// Replays a transcript, taking the time from each event's Timestamp (timestampevents=yes).
std::vector<std::string> Play(AmiInbound& reader, const std::vector<AmiMessage>& transcript) {
  std::vector<std::string> seen;
  double now = 0;
  for (const AmiMessage& message : transcript) {
    if (auto stamp = message.Find("Timestamp")) now = std::stod(*stamp);
    for (const InboundEvent& event : reader.Read(message, now)) {
      BOOST_TEST((event.source == reasoncodes::Source::kPbx));
      seen.push_back(Describe(event));
    }
  }
  return seen;
}

using Lines = std::vector<std::string>;

struct Case {
  const char* name;
  std::vector<AmiMessage> transcript;
  Lines expected;
};

CallSpec RingOnly() {
  CallSpec spec;
  spec.answered = false;
  return spec;
}

testing::QueueCallSpec QueueNoAnswer() {
  testing::QueueCallSpec spec;
  spec.answered = false;
  return spec;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ami_inbound_test)

BOOST_AUTO_TEST_CASE(call_transcripts_become_one_call_each) {
  const std::vector<Case> cases = {
      {"inbound answered",
       testing::InboundCall(CallSpec{}),
       {"started alice ami-1700000000.1", "answered alice ami-1700000000.1",
        "ended alice ami-1700000000.1 30.0s"}},
      {"outbound",
       testing::InboundCall(testing::OutboundSpec()),
       {"started alice ami-1700000050.7 out", "answered alice ami-1700000050.7 out",
        "ended alice ami-1700000050.7 out 45.0s"}},
      {"rings only",
       testing::InboundCall(RingOnly()),
       {"started alice ami-1700000000.1", "ended alice ami-1700000000.1 0.0s"}},
      {"internal: both users",
       testing::InboundCall(testing::InternalSpec()),
       {"started bob ami-1700000400.20 internal", "started alice ami-1700000400.20 out internal",
        "answered bob ami-1700000400.20 internal", "answered alice ami-1700000400.20 out internal",
        "ended bob ami-1700000400.20 internal 12.0s",
        "ended alice ami-1700000400.20 out internal 12.0s"}},
      // AgentCalled and the DialBegin of the phone behind the Local channel: one call.
      {"queue call",
       testing::QueueCall(testing::QueueCallSpec{}),
       {"started alice ami-1700000100.10", "answered alice ami-1700000100.10",
        "ended alice ami-1700000100.10 60.1s"}},
      {"queue call not answered",
       testing::QueueCall(QueueNoAnswer()),
       {"started alice ami-1700000100.10", "ended alice ami-1700000100.10 0.0s"}},
      // alice's call ends when her channel hangs up; bob gets a call of his own.
      {"blind transfer",
       testing::BlindTransfer(testing::TransferSpec{}),
       {"started alice ami-1700000000.1", "answered alice ami-1700000000.1",
        "ended alice ami-1700000000.1 30.0s", "started bob ami-1700000000.1",
        "answered bob ami-1700000000.1", "ended bob ami-1700000000.1 20.0s"}},
  };
  for (const Case& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      AmiInbound reader = MakeReader();
      BOOST_TEST(Play(reader, test.transcript) == test.expected, boost::test_tools::per_element());
      BOOST_TEST(reader.followed_legs() == 0u);
      BOOST_TEST(reader.active_calls("alice") == 0u);
      BOOST_TEST(reader.counters().malformed == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(queue_call_seen_only_through_agent_events_is_the_same_call) {
  // A session with "Events: agent" only: no channel events at all.
  std::vector<AmiMessage> agent_only;
  for (const AmiMessage& message : testing::QueueCall(testing::QueueCallSpec{})) {
    if (message.Get("Event").starts_with("Agent")) agent_only.push_back(message);
  }
  BOOST_TEST(agent_only.size() == 3u);
  AmiInbound reader = MakeReader();
  BOOST_TEST(Play(reader, agent_only) ==
                 (Lines{"started alice ami-1700000100.10", "answered alice ami-1700000100.10",
                        "ended alice ami-1700000100.10 60.0s"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_queue_ringing_again_after_no_answer_is_a_new_call) {
  testing::QueueCallSpec first;
  first.answered = false;
  std::vector<AmiMessage> transcript = testing::QueueCall(first);
  transcript.pop_back();  // the caller still waits
  testing::QueueCallSpec again;
  again.local_sequence = "00000004";
  again.local1_uniqueid = "1700000100.21";
  again.local2_uniqueid = "1700000100.22";
  again.phone_channel = "PJSIP/1001-00000023";
  again.phone_uniqueid = "1700000100.23";
  again.start = 1700000140.0;
  for (const AmiMessage& message : testing::QueueCall(again)) {
    if (message.Get("Uniqueid") == again.caller.uniqueid &&
        (message.Is("Event", "Newchannel") || message.Is("Event", "QueueCallerJoin"))) {
      continue;  // the caller's channel exists already
    }
    transcript.push_back(message);
  }
  AmiInbound reader = MakeReader();
  BOOST_TEST(Play(reader, transcript) ==
                 (Lines{"started alice ami-1700000100.10", "ended alice ami-1700000100.10 0.0s",
                        "started alice ami-1700000100.10/2", "answered alice ami-1700000100.10/2",
                        "ended alice ami-1700000100.10/2 60.1s"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(two_legs_of_one_user_count_once) {
  // The same caller dials two devices of alice's ("PJSIP/1001" forked by a ring group).
  CallSpec spec;
  std::vector<AmiMessage> first = testing::InboundCall(spec);
  CallSpec second_leg = spec;
  second_leg.callee.channel = "PJSIP/1001-00000003";
  second_leg.callee.uniqueid = "1700000000.3";
  second_leg.answered = false;
  std::vector<AmiMessage> transcript;
  // Both legs dialled, then leg 2 cancelled, leg 1 answered, then the end.
  for (const AmiMessage& message : testing::InboundCall(second_leg)) {
    if (message.Is("Event", "DialBegin")) transcript.push_back(message);
  }
  for (std::size_t i = 0; i < first.size(); ++i) {
    transcript.push_back(first[i]);
    if (first[i].Is("Event", "DialEnd")) {
      AmiMessage gone{{"Event", "Hangup"},
                      {"Channel", second_leg.callee.channel},
                      {"Uniqueid", second_leg.callee.uniqueid},
                      {"Linkedid", spec.caller.uniqueid},
                      {"Cause", "26"},
                      {"Cause-txt", "Answered elsewhere"}};
      transcript.push_back(gone);
    }
  }
  AmiInbound reader = MakeReader();
  BOOST_TEST(Play(reader, transcript) ==
                 (Lines{"started alice ami-1700000000.1", "answered alice ami-1700000000.1",
                        "ended alice ami-1700000000.1 30.0s"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_originate_ringing_the_phone_is_no_call_until_it_dials) {
  // Originate (a click-to-dial, or a feature code rung on the phone): DialBegin without a
  // caller block. The phone answering and dialling out is the call.
  AmiMessage originate{{"Event", "DialBegin"},
                       {"DestChannel", "PJSIP/1001-00000040"},
                       {"DestUniqueid", "1700000500.40"},
                       {"DestLinkedid", "1700000500.40"},
                       {"DialString", "1001"}};
  AmiInbound reader = MakeReader();
  BOOST_TEST(reader.Read(originate, 1).empty());
  BOOST_TEST(reader.followed_legs() == 0u);
}

BOOST_AUTO_TEST_CASE(dnd_from_the_phone_selects_after_a_baseline) {
  AmiInbound reader = MakeReader();
  std::vector<AmiMessage> transcript = testing::DbGetDnd("7", "1001", false);
  for (bool on : {true, false, false, true}) {
    for (AmiMessage& message : testing::DndFromPhone("1001", on, 1700000200.0)) {
      transcript.push_back(message);
    }
  }
  // DBGet's "Database entry not found" is no event: the connector feeds it as a baseline.
  reader.BaselineDnd("1001", false);
  BOOST_TEST(
      Play(reader, transcript) == (Lines{"select alice Do not disturb", "select alice Available",
                                         "select alice Do not disturb"}),
      boost::test_tools::per_element());
  BOOST_TEST(reader.counters().calls_started == 0u);  // the feature code call is no call
}

BOOST_AUTO_TEST_CASE(the_first_dnd_value_without_a_baseline_selects_nothing) {
  AmiInbound reader = MakeReader();
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", true, 1)).empty());
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", false, 2)) ==
             (Lines{"select alice Available"}));
  // Without a label for "off", nothing is selected.
  AmiInboundRules rules = AllRules();
  rules.dnd_off_label.reset();
  reader.SetRules(rules);
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", true, 3)) ==
             (Lines{"select alice Do not disturb"}));
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", false, 4)).empty());
}

BOOST_AUTO_TEST_CASE(queue_pause_from_elsewhere_follows_the_rules) {
  struct PauseCase {
    bool paused;
    std::string reason;
    Lines expected;
  };
  const std::vector<PauseCase> cases = {
      {true, "Lunch", {"select alice Lunch"}},
      {true, "Meeting", {"select alice Break"}},  // the rule with any reason
      {true, "", {"select alice Break"}},
      {false, "", {"select alice Available"}},
  };
  for (const PauseCase& test : cases) {
    BOOST_TEST_CONTEXT(test.reason << (test.paused ? " paused" : " unpaused")) {
      AmiInbound reader = MakeReader();
      reader.BaselineQueueMember(testing::QueueStatusList(
          "9", "400", {{"Local/1001@from-queue/n", "Alice", !test.paused, "x"}})[2]);
      testing::PauseSpec spec;
      spec.paused = test.paused;
      spec.reason = test.reason;
      // One event per queue: one select.
      BOOST_TEST(Play(reader, testing::QueuePauseElsewhere(spec)) == test.expected,
                 boost::test_tools::per_element());
    }
  }
  // No matching rule: nothing.
  AmiInboundRules rules = AllRules();
  rules.pause_rules = {AmiPauseRule{true, "Lunch", "Lunch"}};
  AmiInbound reader = MakeReader(rules);
  reader.BaselineQueueMember(
      testing::QueueStatusList("9", "400", {{"Local/1001@from-queue/n", "Alice", false, ""}})[2]);
  testing::PauseSpec spec;
  spec.reason = "Training";
  BOOST_TEST(Play(reader, testing::QueuePauseElsewhere(spec)).empty());
  // A member of no user: ignored.
  spec.interface = "Local/5555@from-queue/n";
  BOOST_TEST(Play(reader, testing::QueuePauseElsewhere(spec)).empty());
}

BOOST_AUTO_TEST_CASE(own_changes_are_not_echoed) {
  AmiInbound reader = MakeReader();
  reader.BaselineDnd("1001", false);
  reader.BaselineQueueMember(
      testing::QueueStatusList("9", "400", {{"Local/1001@from-queue/n", "Alice", false, ""}})[2]);
  // The connector sets DND and pauses alice itself.
  reader.ExpectDnd("alice", true, 100);
  BOOST_TEST(reader.Read(testing::DndDeviceState("1001", true, 101), 101).empty());
  reader.ExpectPause("alice", true, "Lunch", 100);
  testing::PauseSpec pause;
  pause.at = 102;
  BOOST_TEST(Play(reader, testing::QueuePauseElsewhere(pause)).empty());
  BOOST_TEST(reader.counters().echoes == 2u);
  // One match each: the phone turning DND off and on again is the user's.
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", false, 103)) ==
             (Lines{"select alice Available"}));
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", true, 104)) ==
             (Lines{"select alice Do not disturb"}));
  // An expectation expires: the change arriving later is the user's.
  reader.ExpectDnd("alice", false, 200);
  std::vector<InboundEvent> late = reader.Read(testing::DndDeviceState("1001", false, 211), 211);
  BOOST_TEST_REQUIRE(late.size() == 1u);
  BOOST_TEST(Describe(late[0]) == "select alice Available");
}

// The channel list of a re-read is a moment's picture that arrives later: a call that began
// after it was asked for is not ended for missing from it, and a channel that hung up while it
// was on its way is not adopted as a new call.
BOOST_AUTO_TEST_CASE(a_resync_list_does_not_end_newer_calls_or_adopt_ended_ones) {
  AmiInbound reader = MakeReader();
  const std::set<std::string> before = reader.FollowedLegs();  // CoreShowChannels is sent
  BOOST_TEST(before.empty());
  // While the list is on its way: alice's call begins and is answered; bob's ends.
  std::vector<AmiMessage> alice = testing::InboundCall(CallSpec{});
  alice.resize(alice.size() - 4);  // answered, not ended
  Play(reader, alice);
  CallSpec bob_spec = testing::InternalSpec();
  bob_spec.caller = AmiParty{"PJSIP/trunk-00000070", "1700000800.70", "+4930555", ""};
  bob_spec.callee = AmiParty{"PJSIP/1002-00000071", "1700000800.71", "1002", "Bob"};
  Play(reader, testing::InboundCall(bob_spec));  // whole: bob's call ended
  BOOST_TEST(reader.active_calls("alice") == 1u);
  BOOST_TEST(reader.active_calls("bob") == 0u);
  // The list, built before either: bob's channels are in it, alice's are not.
  std::vector<AmiMessage> listed;
  for (const AmiMessage& message : testing::CoreShowChannelsList(
           "30", {{bob_spec.caller, "1700000800.70"}, {bob_spec.callee, "1700000800.70"}})) {
    if (message.Is("Event", "CoreShowChannel")) listed.push_back(message);
  }
  BOOST_TEST(reader.Resync(listed, 1700000900, &before).empty());
  BOOST_TEST(reader.active_calls("alice") == 1u);
  BOOST_TEST(reader.active_calls("bob") == 0u);
}

BOOST_AUTO_TEST_CASE(baseline_after_a_reconnect) {
  AmiInbound reader = MakeReader();
  reader.BaselineDnd("1001", false);
  // A call of alice's and one of bob's are going on when the connection drops.
  std::vector<AmiMessage> alice = testing::InboundCall(CallSpec{});
  alice.resize(alice.size() - 4);  // answered, not ended
  CallSpec bob_spec = testing::InternalSpec();
  bob_spec.caller = AmiParty{"PJSIP/trunk-00000050", "1700000600.50", "+4930555", ""};
  bob_spec.callee = AmiParty{"PJSIP/1002-00000051", "1700000600.51", "1002", "Bob"};
  bob_spec.answered = false;
  std::vector<AmiMessage> bob = testing::InboundCall(bob_spec);
  bob.resize(5);  // ringing
  Play(reader, alice);
  Play(reader, bob);
  BOOST_TEST(reader.active_calls("alice") == 1u);
  BOOST_TEST(reader.active_calls("bob") == 1u);

  // Meanwhile alice turned DND on (not seen), bob's call was answered, alice's ended, and bob
  // began a second call.
  reader.Reconnected();
  for (const AmiMessage& message : testing::DbGetDnd("20", "1001", true)) {
    BOOST_TEST(reader.Read(message, 1700000700).empty());
  }
  for (const AmiMessage& message : testing::QueueStatusList(
           "21", "400", {{"Local/1001@from-queue/n", "Alice", true, "Lunch"}})) {
    BOOST_TEST(reader.Read(message, 1700000700).empty());
  }
  std::vector<AmiMessage> listed;
  for (const AmiMessage& message : testing::CoreShowChannelsList(
           "22",
           {{bob_spec.caller, "1700000600.50"},
            {bob_spec.callee, "1700000600.50"},
            {AmiParty{"PJSIP/1002-00000060", "1700000650.60", "1002", "Bob"}, "1700000650.60"}})) {
    if (message.Is("Event", "CoreShowChannel")) listed.push_back(message);
  }
  std::vector<std::string> seen;
  for (const InboundEvent& event : reader.Resync(listed, 1700000700))
    seen.push_back(Describe(event));
  BOOST_TEST(
      seen == (Lines{"ended alice ami-1700000000.1 696.0s", "answered bob ami-1700000600.50",
                     "started bob ami-1700000650.60 out", "answered bob ami-1700000650.60 out"}),
      boost::test_tools::per_element());
  // The values read back are baselines: the same value again selects nothing, a change does.
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", true, 701)).empty());
  testing::PauseSpec pause;
  pause.paused = false;
  BOOST_TEST(Play(reader, testing::QueuePauseElsewhere(pause)) ==
             (Lines{"select alice Available"}));
  BOOST_TEST(reader.counters().selects == 1u);
}

BOOST_AUTO_TEST_CASE(bad_input_is_counted_and_changes_nothing) {
  AmiInbound reader = MakeReader();
  reader.BaselineDnd("1001", false);
  const std::vector<AmiMessage> garbage = testing::GarbageEvents();
  BOOST_TEST(Play(reader, garbage).empty());
  const AmiInboundCounters& counters = reader.counters();
  BOOST_TEST(counters.read == garbage.size());
  BOOST_TEST(counters.malformed == 9u);
  BOOST_TEST(counters.ignored == garbage.size() - 9u);
  BOOST_TEST(reader.followed_legs() == 0u);
  // Bytes that are no AMI at all, through the parser.
  AmiParser parser;
  for (const AmiMessage& message :
       parser.Feed(std::string("\x00\xff::\r\n:\r\n\r\nEvent\r\n\r\n", 20))) {
    BOOST_TEST(reader.Read(message, 1).empty());
  }
  // DND still at its baseline: a change selects.
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", true, 2)) ==
             (Lines{"select alice Do not disturb"}));
}

BOOST_AUTO_TEST_CASE(kinds_not_enabled_are_ignored) {
  AmiInboundRules rules;  // calls, dnd, queues all off
  rules.dnd_on_label = "Do not disturb";
  AmiInbound reader = MakeReader(rules);
  BOOST_TEST(Play(reader, testing::InboundCall(CallSpec{})).empty());
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", true, 1)).empty());
  BOOST_TEST(Play(reader, testing::DndFromPhone("1001", false, 2)).empty());
  BOOST_TEST(Play(reader, testing::QueuePauseElsewhere(testing::PauseSpec{})).empty());
  BOOST_TEST(reader.counters().malformed == 0u);
}

BOOST_AUTO_TEST_CASE(users_removed_are_forgotten_with_their_calls) {
  AmiInbound reader = MakeReader();
  std::vector<AmiMessage> call = testing::InboundCall(CallSpec{});
  call.resize(call.size() - 4);
  Play(reader, call);
  BOOST_TEST(reader.active_calls("alice") == 1u);
  reader.SetUsers({{"1002", "bob"}});
  BOOST_TEST(reader.active_calls("alice") == 0u);
  BOOST_TEST(reader.followed_legs() == 0u);
  // A SIP channel template works the same way.
  AmiInboundRules rules = AllRules();
  rules.channel = "SIP/{extension}";
  reader.SetRules(rules);
  CallSpec sip;
  sip.callee = AmiParty{"SIP/1002-0000000b", "1700000000.2", "1002", "Bob"};
  BOOST_TEST(Play(reader, testing::InboundCall(sip)) ==
                 (Lines{"started bob ami-1700000000.1", "answered bob ami-1700000000.1",
                        "ended bob ami-1700000000.1 30.0s"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
