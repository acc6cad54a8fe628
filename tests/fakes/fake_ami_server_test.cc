// The fake AMI server against raw TCP: the bytes it sends for the queue actions, device states
// and played transcripts are those of Asterisk (apps/app_queue.c, main/manager.c,
// main/devicestate.c) and of the transcripts in tests/fakes/ami_scenarios.h, and each event
// reaches only the sessions whose Login Events take its class.

#include "tests/fakes/fake_ami_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "tests/fakes/ami_scenarios.h"

namespace presence::testing {
namespace {

const std::string kAlice = "Local/1001@from-queue/n";
const std::string kBob = "Local/1002@from-queue/n";

// One manager session over a plain socket; every read waits at most 10 s.
class RawSession {
 public:
  RawSession(uint16_t port, const std::string& events)
      : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket_.setReceiveTimeout(Poco::Timespan(10, 0));
    Read("\r\n");  // the banner
    Send("Action: Login\r\nActionID: login\r\nUsername: presence\r\nSecret: s3cret\r\nEvents: " +
         events + "\r\n\r\n");
    Read("Message: Authentication accepted\r\n\r\n");
    if (events == "on" || events.find("system") != std::string::npos) {
      Read("Status: Fully Booted\r\n\r\n");  // class system
    }
  }

  void Send(const std::string& bytes) { socket_.sendBytes(bytes.data(), bytes.size()); }

  // Everything received up to and including the first `marker`.
  std::string Read(const std::string& marker) {
    std::size_t at;
    while ((at = buffer_.find(marker)) == std::string::npos) {
      char chunk[4096];
      int n = socket_.receiveBytes(chunk, sizeof chunk);
      if (n <= 0) throw Poco::Exception("connection closed before \"" + marker + "\"");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    std::string taken = buffer_.substr(0, at + marker.size());
    buffer_.erase(0, at + marker.size());
    return taken;
  }

  // Whatever arrived before the answer to a Ping sent now: the server has written every event
  // it sent this session before it reads the Ping.
  std::string Before() {
    Send("Action: Ping\r\nActionID: fence\r\n\r\n");
    std::string all = Read("Ping: Pong\r\n");
    Read("\r\n\r\n");
    return all.substr(0, all.find("Response: Success\r\nActionID: fence\r\n"));
  }

 private:
  Poco::Net::StreamSocket socket_;
  std::string buffer_;
};

std::string Bytes(const std::vector<AmiMessage>& messages) {
  std::string bytes;
  for (const AmiMessage& message : messages) bytes += message.Serialize();
  return bytes;
}

// The transcripts carry timestampevents=yes; this server does not.
std::vector<AmiMessage> WithoutTimestamps(const std::vector<AmiMessage>& events) {
  std::vector<AmiMessage> out;
  for (const AmiMessage& event : events) {
    AmiMessage copy;
    for (const auto& [key, value] : event.headers()) {
      if (key != "Timestamp") copy.Add(key, value);
    }
    out.push_back(copy);
  }
  return out;
}

// Queues 400 and 401 as FreePBX has them: Alice (dynamic, hint state interface) in both,
// Bob (static) in 400, at a fixed clock.
struct Pbx {
  FakeAmiServer server{"presence", "s3cret"};
  Pbx() {
    server.SetNow(1700000000);
    server.AddQueue("400");
    server.AddQueue("401");
    for (const char* queue : {"400", "401"}) {
      AmiQueueMember alice;
      alice.interface = kAlice;
      alice.name = "Alice";
      alice.state_interface = "hint:1001@ext-local";
      server.AddMember(queue, alice);
    }
    server.AddMember("400", kBob, 2, /*static_member=*/true);
  }
};

BOOST_AUTO_TEST_SUITE(fake_ami_server_test)

BOOST_AUTO_TEST_CASE(queue_status_with_a_member_filter_lists_every_queue_and_that_member) {
  Pbx pbx;
  RawSession session(pbx.server.port(), "off");
  session.Send("Action: QueueStatus\r\nActionID: 7\r\nMember: " + kAlice + "\r\n\r\n");
  const std::string params =
      "Max: 0\r\nStrategy: ringall\r\nCalls: 0\r\nHoldtime: 0\r\nTalkTime: 0\r\nCompleted: "
      "0\r\nAbandoned: 0\r\nServiceLevel: 60\r\nServicelevelPerf: 0.0\r\nServicelevelPerf2: "
      "0.0\r\nWeight: 0\r\nActionID: 7\r\n\r\n";
  const std::string alice =
      "Name: Alice\r\nLocation: Local/1001@from-queue/n\r\nStateInterface: "
      "hint:1001@ext-local\r\nMembership: dynamic\r\nPenalty: 0\r\nCallsTaken: 0\r\nLastCall: "
      "0\r\nLastPause: 0\r\nLoginTime: 1700000000\r\nInCall: 0\r\nStatus: 1\r\nPaused: "
      "0\r\nPausedReason: \r\nWrapuptime: 0\r\nActionID: 7\r\n\r\n";
  BOOST_TEST(session.Read("ListItems: 4\r\n\r\n") ==
             "Response: Success\r\nActionID: 7\r\nEventList: start\r\nMessage: Queue status "
             "will follow\r\n\r\n"
             "Event: QueueParams\r\nQueue: 400\r\n" +
                 params + "Event: QueueMember\r\nQueue: 400\r\n" + alice +
                 "Event: QueueParams\r\nQueue: 401\r\n" + params +
                 "Event: QueueMember\r\nQueue: 401\r\n" + alice +
                 "Event: QueueStatusComplete\r\nActionID: 7\r\nEventList: Complete\r\n"
                 "ListItems: 4\r\n\r\n");

  // The member's name works as the filter too, and Queue narrows to one queue: then the
  // answer is the recorded transcript (less Bob, filtered out, and the hint interface).
  session.Send("Action: QueueStatus\r\nActionID: 8\r\nQueue: 400\r\nMember: Alice\r\n\r\n");
  std::vector<AmiMessage> expected = QueueStatusList("8", "400", {{kAlice, "Alice"}});
  expected[2].Set("StateInterface", "hint:1001@ext-local");
  BOOST_TEST(session.Read("ListItems: 2\r\n\r\n") == Bytes(expected));
  // Bob is static, with his penalty; no filter lists him.
  session.Send("Action: QueueStatus\r\nActionID: 9\r\nQueue: 400\r\n\r\n");
  std::string all = session.Read("ListItems: 3\r\n\r\n");
  BOOST_TEST(all.find("Name: Local/1002@from-queue/n\r\nLocation: Local/1002@from-queue/n\r\n"
                      "StateInterface: Local/1002@from-queue/n\r\nMembership: static\r\n"
                      "Penalty: 2\r\n") != std::string::npos,
             all);
}

BOOST_AUTO_TEST_CASE(queue_pause_sends_one_event_per_queue_to_agent_sessions) {
  Pbx pbx;
  pbx.server.SetNow(1700000300);
  RawSession actor(pbx.server.port(), "off");
  RawSession agent(pbx.server.port(), "agent");
  RawSession call(pbx.server.port(), "call");
  actor.Send("Action: QueuePause\r\nActionID: 3\r\nInterface: " + kAlice +
             "\r\nPaused: true\r\nReason: Lunch\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 3\r\nMessage: Interface paused successfully\r\n\r\n");
  // Fields as app_queue.c queue_member_blob_create orders them: the transcript of a pause.
  BOOST_TEST(agent.Before() == Bytes(WithoutTimestamps(QueuePauseElsewhere(PauseSpec{}))));
  BOOST_TEST(call.Before() == "");
  BOOST_TEST(actor.Before() == "");
  std::optional<AmiQueueMember> paused = pbx.server.Member("401", kAlice);
  BOOST_REQUIRE(paused.has_value());
  BOOST_TEST(paused->paused);
  BOOST_TEST(paused->paused_reason == "Lunch");
  BOOST_TEST(paused->last_pause == 1700000300);

  // Unpausing in one queue empties the reason there; the other queue keeps its pause.
  actor.Send("Action: QueuePause\r\nActionID: 4\r\nInterface: " + kAlice +
             "\r\nQueue: 400\r\nPaused: false\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 4\r\nMessage: Interface unpaused "
             "successfully\r\n\r\n");
  PauseSpec unpause;
  unpause.queues = {"400"};
  unpause.paused = false;
  std::vector<AmiMessage> expected = WithoutTimestamps(QueuePauseElsewhere(unpause));
  expected[0].Set("LastPause", "1700000300");  // the last pause is remembered
  BOOST_TEST(agent.Before() == Bytes(expected));
  BOOST_TEST(!pbx.server.Member("400", kAlice)->paused);
  BOOST_TEST(pbx.server.Member("400", kAlice)->paused_reason == "");
  BOOST_TEST(pbx.server.Member("401", kAlice)->paused_reason == "Lunch");

  actor.Send("Action: QueuePause\r\nActionID: 5\r\nInterface: SIP/7777\r\nPaused: 1\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 5\r\nMessage: Interface not found\r\n\r\n");
  actor.Send("Action: QueuePause\r\nActionID: 6\r\nInterface: " + kAlice + "\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 6\r\nMessage: Need 'Interface' and 'Paused' "
             "parameters.\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(queue_add_and_remove_answer_and_announce_as_app_queue) {
  Pbx pbx;
  RawSession actor(pbx.server.port(), "off");
  RawSession agent(pbx.server.port(), "system,agent");
  actor.Send("Action: QueueAdd\r\nActionID: 1\r\nQueue: 401\r\nInterface: " + kBob +
             "\r\nPenalty: 1\r\nPaused: yes\r\nReason: Training\r\nMemberName: Bob\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 1\r\nMessage: Added interface to queue\r\n\r\n");
  BOOST_TEST(agent.Before() ==
             "Event: QueueMemberAdded\r\nPrivilege: agent,all\r\nQueue: 401\r\nMemberName: "
             "Bob\r\nInterface: Local/1002@from-queue/n\r\nStateInterface: "
             "Local/1002@from-queue/n\r\nMembership: dynamic\r\nPenalty: 1\r\nCallsTaken: "
             "0\r\nLastCall: 0\r\nLastPause: 1700000000\r\nLoginTime: 1700000000\r\nInCall: "
             "0\r\nStatus: 1\r\nPaused: 1\r\nPausedReason: Training\r\nRinginuse: "
             "0\r\nWrapuptime: 0\r\n\r\n");
  actor.Send("Action: QueueAdd\r\nActionID: 2\r\nQueue: 401\r\nInterface: " + kBob + "\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 2\r\nMessage: Unable to add interface: Already "
             "there\r\n\r\n");
  actor.Send("Action: QueueAdd\r\nActionID: 3\r\nQueue: 999\r\nInterface: " + kBob + "\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 3\r\nMessage: Unable to add interface to queue: No "
             "such queue\r\n\r\n");

  actor.Send("Action: QueueRemove\r\nActionID: 4\r\nQueue: 400\r\nInterface: " + kBob + "\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 4\r\nMessage: Member not dynamic\r\n\r\n");
  actor.Send("Action: QueueRemove\r\nActionID: 5\r\nQueue: 401\r\nInterface: " + kBob + "\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 5\r\nMessage: Removed interface from queue\r\n\r\n");
  std::string removed = agent.Before();
  BOOST_TEST(removed.starts_with("Event: QueueMemberRemoved\r\nPrivilege: agent,all\r\nQueue: "
                                 "401\r\nMemberName: Bob\r\n"),
             removed);
  BOOST_TEST(!pbx.server.Member("401", kBob).has_value());
  BOOST_TEST(pbx.server.Member("400", kBob).has_value());
  actor.Send("Action: QueueRemove\r\nActionID: 6\r\nQueue: 401\r\nInterface: " + kBob + "\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 6\r\nMessage: Unable to remove interface: Not "
             "there\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(device_state_changes_reach_only_sessions_with_class_call) {
  FakeAmiServer server("presence", "s3cret");
  RawSession actor(server.port(), "off");
  RawSession call(server.port(), "call");
  RawSession agent(server.port(), "agent");
  RawSession on(server.port(), "on");
  RawSession listed(server.port(), "system,call,agent");
  actor.Send(
      "Action: Setvar\r\nActionID: 1\r\nVariable: DEVICE_STATE(Custom:DND1001)\r\nValue: "
      "BUSY\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 1\r\nMessage: Variable Set\r\n\r\n");
  const std::string busy =
      "Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: Custom:DND1001\r\nState: "
      "BUSY\r\n\r\n";
  BOOST_TEST(call.Before() == busy);
  BOOST_TEST(on.Before() == busy);
  BOOST_TEST(listed.Before() == busy);
  BOOST_TEST(agent.Before() == "");
  BOOST_TEST(actor.Before() == "");
  BOOST_TEST((server.DbGet("CustomDevstate", "DND1001") == std::optional<std::string>("BUSY")));
  BOOST_TEST((server.DeviceState("Custom:DND1001") == std::optional<std::string>("BUSY")));

  // The same state again changes nothing; a state Asterisk does not know is refused.
  actor.Send(
      "Action: Setvar\r\nActionID: 2\r\nVariable: DEVICE_STATE(Custom:DND1001)\r\nValue: "
      "busy\r\n\r\n");
  actor.Read("Message: Variable Set\r\n\r\n");
  BOOST_TEST(call.Before() == "");
  actor.Send(
      "Action: Setvar\r\nActionID: 3\r\nVariable: DEVICE_STATE(Custom:DND1001)\r\nValue: "
      "UNKNOWN\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 3\r\nMessage: Variable not set\r\n\r\n");
  actor.Send(
      "Action: Setvar\r\nActionID: 4\r\nVariable: DEVICE_STATE(PJSIP/1001)\r\nValue: "
      "BUSY\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Error\r\nActionID: 4\r\nMessage: Variable not set\r\n\r\n");
  BOOST_TEST(call.Before() == "");

  // From the test side: the same event.
  BOOST_TEST(server.SetDeviceState("DND1001", "UNAVAILABLE"));
  BOOST_TEST(call.Before() ==
             "Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: "
             "Custom:DND1001\r\nState: UNAVAILABLE\r\n\r\n");
  BOOST_TEST(agent.Before() == "");
}

BOOST_AUTO_TEST_CASE(dnd_pressed_on_the_phone_writes_astdb_and_device_states) {
  FakeAmiServer server("presence", "s3cret");
  server.DbPut("AMPUSER", "1001/device", "1001");
  RawSession call(server.port(), "call");
  server.PressDnd("1001", true);
  BOOST_TEST((server.DbGet("DND", "1001") == std::optional<std::string>("YES")));
  // The device-state events of the transcript of *78.
  std::vector<AmiMessage> transcript = DndFromPhone("1001", true, 1700000200.0);
  BOOST_TEST(call.Before() == Bytes(WithoutTimestamps({transcript[2], transcript[3]})));
  server.PressDnd("1001", false);
  BOOST_TEST(!server.DbGet("DND", "1001").has_value());
  transcript = DndFromPhone("1001", false, 1700000200.0);
  BOOST_TEST(call.Before() == Bytes(WithoutTimestamps({transcript[2], transcript[3]})));
}

BOOST_AUTO_TEST_CASE(ignored_writes_are_acknowledged_but_change_nothing) {
  Pbx pbx;
  RawSession actor(pbx.server.port(), "off");
  RawSession agent(pbx.server.port(), "agent");
  pbx.server.IgnoreWrites(true);
  actor.Send("Action: QueuePause\r\nActionID: 1\r\nInterface: " + kAlice +
             "\r\nPaused: 1\r\nReason: Lunch\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 1\r\nMessage: Interface paused successfully\r\n\r\n");
  actor.Send("Action: DBPut\r\nActionID: 2\r\nFamily: DND\r\nKey: 1001\r\nVal: YES\r\n\r\n");
  BOOST_TEST(actor.Read("\r\n\r\n") ==
             "Response: Success\r\nActionID: 2\r\nMessage: Updated database successfully\r\n\r\n");
  actor.Send("Action: QueueRemove\r\nActionID: 3\r\nQueue: 400\r\nInterface: " + kAlice +
             "\r\n\r\n");
  actor.Read("Message: Removed interface from queue\r\n\r\n");
  BOOST_TEST(agent.Before() == "");
  BOOST_TEST(!pbx.server.Member("400", kAlice)->paused);
  BOOST_TEST(!pbx.server.DbGet("DND", "1001").has_value());

  pbx.server.IgnoreWrites(false);
  actor.Send("Action: QueuePause\r\nActionID: 4\r\nQueue: 400\r\nInterface: " + kAlice +
             "\r\nPaused: 1\r\n\r\n");
  actor.Read("Message: Interface paused successfully\r\n\r\n");
  BOOST_TEST(pbx.server.Member("400", kAlice)->paused);
  BOOST_TEST(agent.Before().starts_with("Event: QueueMemberPause\r\n"));
}

BOOST_AUTO_TEST_CASE(core_show_channels_lists_the_channels_set) {
  FakeAmiServer server("presence", "s3cret");
  const std::vector<ShownChannel> channels = {
      {AmiParty{"PJSIP/1001-00000002", "1700000000.2", "1001", "Alice"}, "1700000000.1"},
      {AmiParty{"PJSIP/trunk-00000001", "1700000000.1", "+4930123456", "Customer"}, "1700000000.1",
       false}};
  std::vector<AmiMessage> listed = CoreShowChannelsList("x", channels);
  server.SetChannels(std::vector<AmiMessage>(listed.begin() + 1, listed.end() - 1));
  RawSession session(server.port(), "off");
  session.Send("Action: CoreShowChannels\r\nActionID: 9\r\n\r\n");
  BOOST_TEST(session.Read("ListItems: 2\r\n\r\n") == Bytes(CoreShowChannelsList("9", channels)));
  server.SetChannels({});
  session.Send("Action: CoreShowChannels\r\nActionID: 10\r\n\r\n");
  BOOST_TEST(session.Read("ListItems: 0\r\n\r\n") == Bytes(CoreShowChannelsList("10", {})));
}

BOOST_AUTO_TEST_CASE(a_played_transcript_reaches_each_session_by_class) {
  FakeAmiServer server("presence", "s3cret");
  RawSession agent(server.port(), "agent");
  RawSession call(server.port(), "call");
  RawSession off(server.port(), "off");
  const std::vector<AmiMessage> transcript = QueueCall(QueueCallSpec{});
  server.Play(transcript);
  std::vector<AmiMessage> agent_events;
  std::vector<AmiMessage> call_events;
  for (const AmiMessage& event : transcript) {
    (event.Is("Privilege", "agent,all") ? agent_events : call_events).push_back(event);
  }
  BOOST_TEST(!agent_events.empty());
  BOOST_TEST(agent.Before() == Bytes(agent_events));
  BOOST_TEST(call.Before() == Bytes(call_events));
  BOOST_TEST(off.Before() == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::testing
