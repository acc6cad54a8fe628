// Issue 14 through the real `presence-agent serve` and the fake AMI server (integrations.md 4,
// tests/fakes/fake_ami_server.h) playing the event transcripts of tests/fakes/ami_scenarios.h:
//  - a state's actions (DND, call forward to the user's mobile, queue pause, queue membership,
//    logout) reach FreePBX's AstDB and Asterisk's queues, and only what differs is sent;
//  - a PBX that does not take a write shows the mismatch in /api/v1/agents/{id} and /metrics,
//    and the delivery is retried until it does;
//  - DND pressed on the phone after the state was applied is shown as manual and left alone
//    until the user's next change of state;
//  - from_pbx: calls seen only through AMI run the call rules (On a call, wrap-up, Ready); DND
//    on the phone becomes a pbx change and the agent's own DND never comes back as one; after
//    a reconnect calls that ended during the drop end; it works in mode none and sends nothing
//    there; bad input is counted and changes nothing.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/ami_scenarios.h"
#include "tests/fakes/fake_ami_server.h"

namespace presence::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr auto kWait = std::chrono::seconds(20);
const std::string kMobile = "+491701234567";

struct PbxOptions {
  std::vector<std::string> from_pbx;
  bool actions = true;
  bool device_state = false;
  std::string mode = "dial_command";
  std::string queue_interface;  // empty: the default
};

Object::Ptr ParseJson(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Object::Ptr>();
}

Object::Ptr FindState(Object& config, const std::string& label) {
  Array::Ptr states = config.getArray("states");
  for (size_t i = 0; i < states->size(); ++i) {
    Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    if (state->getValue<std::string>("label") == label) return state;
  }
  BOOST_FAIL("no state " + label);
  return nullptr;
}

// The sample catalog with a wrap-up of one second, and the FreePBX of the README: everyone is
// in queue "support" and unpaused with DND off and no forward ("office"); Lunch turns DND on
// and pauses; a meeting forwards to the user's mobile; logging out leaves the queue.
std::function<void(Object&)> WithPbx(const FakeAmiServer& pbx, PbxOptions options = {}) {
  return [&pbx, options](Object& config) {
    Object::Ptr settings = config.getObject("settings");
    settings->set("wrap_up_seconds", 1);
    settings->set("mode", options.mode);
    if (options.actions) {
      config.set("profiles", ParseJson(R"({"office": {"dnd": false,
          "forward": {"unconditional": null},
          "queues": {"pause": false, "add": [{"queue": "support", "penalty": 1}]}}})"));
      config.set("actions", ParseJson(R"({"default_profile": "office",
          "on_logout": {"queues": {"remove": ["support"]}}})"));
      FindState(config, "Lunch")->set("actions", ParseJson(R"({"dnd": true,
          "queues": {"pause": true}})"));
      FindState(config, "In a meeting")
          ->set("actions", ParseJson(R"({"forward": {"unconditional": "{mobile}"}})"));
      Array::Ptr users = config.getArray("users");
      for (size_t i = 0; i < users->size(); ++i) {
        Object::Ptr fields = new Object();
        fields->set("mobile", kMobile);
        users->getObject(static_cast<unsigned>(i))->set("fields", fields);
      }
    }
    Object::Ptr ami = new Object();
    ami->set("type", "ami");
    ami->set("name", "pbx");
    ami->set("port", static_cast<int>(pbx.port()));
    ami->set("username", "presence");
    ami->set("secret", "s3cret");
    ami->set("dial", false);
    ami->set("device_state", options.device_state);
    if (options.device_state) ami->set("astdb_dnd", true);
    ami->set("retry_initial_ms", 100);
    ami->set("retry_max_seconds", 1);
    if (!options.queue_interface.empty()) ami->set("queue_interface", options.queue_interface);
    if (!options.from_pbx.empty()) {
      Array::Ptr kinds = new Array();
      for (const std::string& kind : options.from_pbx) kinds->add(kind);
      ami->set("from_pbx", kinds);
    }
    Array::Ptr connectors = new Array();
    connectors->add(ami);
    config.set("connectors", connectors);
  };
}

Object::Ptr GetAgent(AgentServer& server, const std::string& id) { return AgentView(server, id); }
std::string Label(AgentServer& server, const std::string& id) { return AgentLabel(server, id); }
bool WaitForAgent(AgentServer& server, const std::string& id,
                  const std::function<bool(const Object&)>& holds) {
  return WaitForAgentView(server, id, holds, kWait);
}
bool WaitForLabel(AgentServer& server, const std::string& id, const std::string& label) {
  return WaitForAgentLabel(server, id, label, kWait);
}

size_t Mismatches(const Object& agent) { return agent.getArray("pbx_mismatches")->size(); }

Object::Ptr ConnectorDetails(AgentServer& server);

// Waits until the connector has finished `count` re-reads after a login (the baselines of DND
// and pauses and the channel list are in place: what comes after is a change).
bool WaitForResyncs(AgentServer& server, int count) {
  return WaitForAgentView(server, "1001", [&](const Object&) {
    return ConnectorDetails(server)->getObject("from_pbx")->getValue<int>("resyncs") >= count;
  });
}

// Waits until the connector has swallowed at least `count` events of its own writes.
bool WaitForOwnChangesIgnored(AgentServer& server, int count) {
  return WaitForAgent(server, "1001", [&](const Object&) {
    return ConnectorDetails(server)->getObject("from_pbx")->getValue<int>("own_changes_ignored") >=
           count;
  });
}

std::vector<std::string> IntervalLabels(AgentServer& server, const std::string& id) {
  HttpResponse response =
      server.Client().Get("/api/v1/agents/" + id + "/intervals", server.tokens().supervisor);
  std::vector<std::string> labels;
  Array::Ptr all = response.Json()->getArray("intervals");
  for (size_t i = 0; i < all->size(); ++i) {
    labels.push_back(all->getObject(static_cast<unsigned>(i))->getValue<std::string>("label"));
  }
  return labels;
}

void SetState(AgentServer& server, const std::string& user, const std::string& label) {
  HttpResponse response =
      server.Client().Put("/api/v1/agents/" + user + "/state", server.tokens().integration,
                          R"({"label": ")" + label + R"("})");
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
}

Object::Ptr ConnectorDetails(AgentServer& server) {
  HttpResponse response = server.Client().Get("/api/v1/connectors", server.tokens().supervisor);
  BOOST_REQUIRE(response.status == 200);
  return response.Json()->getArray("connectors")->getObject(0)->getObject("details");
}

// Waits until the connector has nothing waiting or in flight.
bool Settled(AgentServer& server) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResponse response = server.Client().Get("/api/v1/connectors", server.tokens().supervisor);
    Object::Ptr status = response.Json()->getArray("connectors")->getObject(0);
    if (status->getValue<int>("queue_depth") == 0 && status->getValue<int>("in_flight") == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The writes the PBX was asked for, as "Action Family/Key[=Val]" or "QueueX queue".
std::vector<std::string> Writes(const std::vector<connectors::AmiMessage>& actions) {
  std::vector<std::string> writes;
  for (const auto& action : actions) {
    const std::string name = action.Get("Action");
    if (name == "DBPut") {
      writes.push_back("DBPut " + action.Get("Family") + "/" + action.Get("Key") + "=" +
                       action.Get("Val"));
    } else if (name == "DBDel") {
      writes.push_back("DBDel " + action.Get("Family") + "/" + action.Get("Key"));
    } else if (name == "QueuePause") {
      writes.push_back("QueuePause " + action.Get("Paused") + " " + action.Get("Reason"));
    } else if (name == "QueueAdd" || name == "QueueRemove") {
      writes.push_back(name + " " + action.Get("Queue") + " " + action.Get("Interface"));
    } else if (name == "Originate") {
      writes.push_back("Originate " + action.Get("Exten"));
    }
  }
  return writes;
}

// The writes after the first `skip`, once the connector has settled.
std::vector<std::string> WritesSince(AgentServer& server, FakeAmiServer& pbx, size_t skip) {
  BOOST_REQUIRE(Settled(server));
  std::vector<std::string> all = Writes(pbx.actions());
  for (size_t i = skip; i < all.size(); ++i) BOOST_TEST_MESSAGE("write: " << all[i]);
  return std::vector<std::string>(all.begin() + std::min(skip, all.size()), all.end());
}

CallSpec InboundTo(const std::string& extension, bool answered = true) {
  CallSpec spec;
  spec.callee = AmiParty{"PJSIP/" + extension + "-00000002", "1700000000.2", extension, "Anna"};
  spec.dialled = extension;
  spec.answered = answered;
  return spec;
}

BOOST_AUTO_TEST_SUITE(ami_pbx_test)

BOOST_AUTO_TEST_CASE(state_actions_reach_freepbx_and_queues_and_only_differences_are_sent) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  AgentServer server(WithPbx(pbx));
  server.Start();

  SetState(server, "1001", "Ready for Calls");
  // DND is off and nothing is forwarded already: only the queue is joined.
  std::vector<std::string> ready = WritesSince(server, pbx, 0);
  BOOST_TEST(ready == (std::vector<std::string>{"QueueAdd support PJSIP/2001"}),
             boost::test_tools::per_element());
  std::optional<AmiQueueMember> member = pbx.Member("support", "PJSIP/2001");
  BOOST_REQUIRE(member.has_value());
  BOOST_TEST(member->penalty == 1);
  BOOST_TEST(!member->paused);

  size_t seen = Writes(pbx.actions()).size();
  SetState(server, "1001", "Lunch");
  std::vector<std::string> lunch = WritesSince(server, pbx, seen);
  BOOST_TEST(lunch == (std::vector<std::string>{"DBPut DND/2001=YES", "QueuePause true Lunch"}),
             boost::test_tools::per_element());
  BOOST_TEST(pbx.DbGet("DND", "2001").value_or("") == "YES");
  BOOST_TEST(pbx.Member("support", "PJSIP/2001")->paused);
  BOOST_TEST(pbx.Member("support", "PJSIP/2001")->paused_reason == "Lunch");

  seen = Writes(pbx.actions()).size();
  SetState(server, "1001", "In a meeting");
  std::vector<std::string> meeting = WritesSince(server, pbx, seen);
  BOOST_TEST(meeting == (std::vector<std::string>{"DBDel DND/2001", "DBPut CF/2001=" + kMobile,
                                                  "QueuePause false "}),
             boost::test_tools::per_element());

  seen = Writes(pbx.actions()).size();
  SetState(server, "1001", "Logout");
  std::vector<std::string> logout = WritesSince(server, pbx, seen);
  BOOST_TEST(
      logout == (std::vector<std::string>{"DBDel CF/2001", "QueueRemove support PJSIP/2001"}),
      boost::test_tools::per_element());
  BOOST_TEST(!pbx.Member("support", "PJSIP/2001").has_value());
  BOOST_TEST(!pbx.DbGet("CF", "2001").has_value());
  BOOST_TEST(Mismatches(*GetAgent(server, "1001")) == 0u);
  BOOST_TEST(ConnectorDetails(server)->getObject("actions")->getValue<int>("users_applied") == 1);
}

// From a paused state to Logout: the member leaves the queue, and the unpause that follows has
// nothing to do (Asterisk: "Interface not found") instead of failing the change.
BOOST_AUTO_TEST_CASE(a_paused_agent_who_logs_out_leaves_the_queue_without_a_refusal) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  AgentServer server(WithPbx(pbx));
  server.Start();
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(Settled(server));
  BOOST_REQUIRE(pbx.Member("support", "PJSIP/2001").has_value());
  BOOST_TEST(pbx.Member("support", "PJSIP/2001")->paused);
  SetState(server, "1001", "Logout");
  BOOST_REQUIRE(Settled(server));
  BOOST_TEST(!pbx.Member("support", "PJSIP/2001").has_value());
  HttpResponse response = server.Client().Get("/api/v1/connectors", server.tokens().supervisor);
  Object::Ptr status = response.Json()->getArray("connectors")->getObject(0);
  BOOST_TEST(status->getValue<int>("rejected") == 0, response.body);
  BOOST_TEST(Mismatches(*GetAgent(server, "1001")) == 0u);
}

// The DND that follows status 4 (astdb_dnd, no dnd action) sets the lamp too; with from_pbx dnd
// its event must not be taken for the key pressed on the phone.
BOOST_AUTO_TEST_CASE(the_status_dnd_lamp_is_not_taken_for_a_key_pressed_on_the_phone) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"dnd"}, .actions = false, .device_state = true}));
  server.Start();
  SetState(server, "1001", "Do Not Disturb");
  BOOST_REQUIRE(Settled(server));
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(Settled(server));
  BOOST_REQUIRE(WaitForOwnChangesIgnored(server, 2));
  BOOST_TEST(Label(server, "1001") == "Lunch");
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("source") != "pbx");
}

// The other action kinds: forwards on busy (to voicemail) and on no answer (to the mobile),
// Follow Me, and the lamps FreePBX keeps for the user's devices.
BOOST_AUTO_TEST_CASE(busy_and_no_answer_forwards_follow_me_and_the_lamps_reach_freepbx) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  pbx.DbPut("AMPUSER", "2001/device", "2001&2001b");
  AgentServer server([&](Object& config) {
    WithPbx(pbx, {.device_state = true})(config);
    FindState(config, "Training")
        ->set("actions", ParseJson(R"({"forward": {"busy": "voicemail", "no_answer": "{mobile}",
                                                   "unconditional": "{mobile}"},
                                       "follow_me": true})"));
  });
  server.Start();
  SetState(server, "1001", "Training");
  BOOST_REQUIRE(Settled(server));
  BOOST_TEST(pbx.DbGet("CFB", "2001").value_or("") == "*2001");
  BOOST_TEST(pbx.DbGet("CFU", "2001").value_or("") == kMobile);
  BOOST_TEST(pbx.DbGet("CF", "2001").value_or("") == kMobile);
  BOOST_TEST(pbx.DbGet("AMPUSER", "2001/followme/ddial").value_or("") == "DIRECT");
  BOOST_TEST(pbx.DeviceState("Custom:CF2001").value_or("") == "BUSY");
  BOOST_TEST(pbx.DeviceState("Custom:DEVCF2001b").value_or("") == "BUSY");
  BOOST_TEST(pbx.DeviceState("Custom:FOLLOWME2001").value_or("") == "BUSY");
  BOOST_TEST(pbx.DeviceState("Custom:FOLLOWME2001b").value_or("") == "BUSY");
  BOOST_TEST(Mismatches(*GetAgent(server, "1001")) == 0u);
  // Back to Ready (profile office: unconditional forward off, the rest not managed there).
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(Settled(server));
  BOOST_TEST(!pbx.DbGet("CF", "2001").has_value());
  BOOST_TEST(pbx.DeviceState("Custom:CF2001").value_or("") == "NOT_INUSE");
  BOOST_TEST(pbx.DbGet("CFB", "2001").value_or("") == "*2001");  // not managed by Ready
}

BOOST_AUTO_TEST_CASE(a_pbx_that_does_not_take_a_write_shows_the_mismatch_and_is_retried) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  AgentServer server(WithPbx(pbx));
  server.Start();
  pbx.IgnoreWrites(true);
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(WaitForAgent(server, "1001", [](const Object& agent) {
    Poco::JSON::Array::Ptr all = agent.getArray("pbx_mismatches");
    for (size_t i = 0; i < all->size(); ++i) {
      Object::Ptr m = all->getObject(static_cast<unsigned>(i));
      if (m->getValue<std::string>("item") == "dnd") {
        return m->getValue<std::string>("wanted") == "on" &&
               m->getValue<std::string>("actual") == "off" && !m->getValue<bool>("manual") &&
               m->getValue<std::string>("connector") == "pbx";
      }
    }
    return false;
  }));
  HttpResponse metrics = server.Client().Get("/api/v1/metrics", server.tokens().supervisor);
  BOOST_TEST(metrics.body.find("presence_pbx_mismatch_users 1") != std::string::npos, metrics.body);
  // The state itself stands: the agent is at lunch whatever the PBX holds.
  BOOST_TEST(Label(server, "1001") == "Lunch");
  const size_t tries = pbx.actions("DBPut").size();
  BOOST_REQUIRE(pbx.WaitForAction("DBPut", tries + 1, kWait));  // retried
  pbx.IgnoreWrites(false);
  BOOST_REQUIRE(
      WaitForAgent(server, "1001", [](const Object& agent) { return Mismatches(agent) == 0; }));
  BOOST_TEST(pbx.DbGet("DND", "2001").value_or("") == "YES");
  metrics = server.Client().Get("/api/v1/metrics", server.tokens().supervisor);
  BOOST_TEST(metrics.body.find("presence_pbx_mismatch_users 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(dnd_pressed_on_the_phone_sticks_until_the_next_change_of_state) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  AgentServer server(WithPbx(pbx));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(Settled(server));
  const size_t seen = Writes(pbx.actions()).size();
  pbx.PressDnd("2001", true);
  BOOST_REQUIRE(WaitForAgent(server, "1001", [](const Object& agent) {
    if (Mismatches(agent) != 1) return false;
    Object::Ptr m = agent.getArray("pbx_mismatches")->getObject(0);
    return m->getValue<std::string>("item") == "dnd" && m->getValue<bool>("manual") &&
           m->getValue<std::string>("actual") == "on";
  }));
  // The agent does not fight the user: DND stays on, and the state is still Ready.
  BOOST_TEST(WritesSince(server, pbx, seen).empty());
  BOOST_TEST(pbx.DbGet("DND", "2001").value_or("") == "YES");
  BOOST_TEST(Label(server, "1001") == "Ready for Calls");
  // The next change of state applies its actions: Lunch wants DND on, which it already is.
  SetState(server, "1001", "Lunch");
  BOOST_TEST(WritesSince(server, pbx, seen) == (std::vector<std::string>{"QueuePause true Lunch"}),
             boost::test_tools::per_element());
  // The delivery's report reaches the view through the core, just after the delivery ends.
  BOOST_TEST(
      WaitForAgent(server, "1001", [](const Object& agent) { return Mismatches(agent) == 0; }));
}

BOOST_AUTO_TEST_CASE(calls_seen_only_through_ami_run_the_call_rules) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"calls"}, .actions = false}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));  // read at login
  pbx.Play(InboundCall(InboundTo("2001")));
  BOOST_REQUIRE(WaitForAgent(server, "1001", [](const Object& agent) {
    return agent.getValue<std::string>("cause") == "wrap_up_end";
  }));
  BOOST_TEST(Label(server, "1001") == "Ready for Calls");
  HttpResponse intervals =
      server.Client().Get("/api/v1/agents/1001/intervals", server.tokens().supervisor);
  std::vector<std::string> labels;
  Array::Ptr all = intervals.Json()->getArray("intervals");
  for (size_t i = 0; i < all->size(); ++i) {
    labels.push_back(all->getObject(static_cast<unsigned>(i))->getValue<std::string>("label"));
  }
  std::vector<std::string> tail = {"Ready for Calls", "On a call", "Wrap-up", "Ready for Calls"};
  BOOST_REQUIRE(labels.size() >= tail.size());
  BOOST_TEST(std::vector<std::string>(labels.end() - tail.size(), labels.end()) == tail,
             boost::test_tools::per_element());
  // A call that only rings is no reason for a wrap-up; an internal call neither.
  const size_t before = labels.size();
  CallSpec rings = InboundTo("2001", false);
  rings.caller.uniqueid = "1700000001.1";
  rings.callee.uniqueid = "1700000001.2";
  pbx.Play(InboundCall(rings));
  BOOST_REQUIRE(WaitForAgent(server, "1001", [&](const Object& agent) {
    return agent.getArray("active_calls")->size() == 0 &&
           ConnectorDetails(server)->getObject("from_pbx")->getValue<int>("calls_ended") == 2;
  }));
  intervals = server.Client().Get("/api/v1/agents/1001/intervals", server.tokens().supervisor);
  all = intervals.Json()->getArray("intervals");
  labels.clear();
  for (size_t i = 0; i < all->size(); ++i) {
    labels.push_back(all->getObject(static_cast<unsigned>(i))->getValue<std::string>("label"));
  }
  BOOST_TEST(std::count(labels.begin() + before, labels.end(), std::string("Wrap-up")) == 0);
  BOOST_TEST(ConnectorDetails(server)->getObject("from_pbx")->getValue<int>("calls_ended") == 2);
  // An outbound call from the agent's phone: On a call, then the wrap-up as for any call.
  CallSpec out = OutboundSpec();
  out.caller = AmiParty{"PJSIP/2001-00000007", "1700000050.7", "2001", "Anna"};
  const std::string ready_since = GetAgent(server, "1001")->getValue<std::string>("since");
  pbx.Play(InboundCall(out));
  // Ready again after this call's wrap-up: a newer Ready than the one before it. The core
  // takes the connector's events in order, so the ring-only call was taken before.
  BOOST_REQUIRE(WaitForAgent(server, "1001", [&](const Object& agent) {
    return agent.getValue<std::string>("cause") == "wrap_up_end" &&
           agent.getValue<std::string>("since") != ready_since;
  }));
  labels = IntervalLabels(server, "1001");
  // The first call and the outbound one; none for the call that only rang.
  BOOST_TEST(std::count(labels.begin(), labels.end(), std::string("On a call")) == 2);
  BOOST_TEST(std::count(labels.begin(), labels.end(), std::string("Wrap-up")) == 2);
}

// FreePBX's queue: the member is the Local channel that dials the phone; the call is seen
// through AgentCalled/AgentConnect/AgentComplete and the channels, and is one call.
BOOST_AUTO_TEST_CASE(a_queue_call_seen_through_agent_and_channel_events_counts_once) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"calls"},
                                   .actions = false,
                                   .queue_interface = "Local/{extension}@from-queue/n"}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));
  QueueCallSpec spec;
  spec.extension = "2001";
  spec.phone_channel = "PJSIP/2001-00000013";
  pbx.Play(QueueCall(spec));
  BOOST_REQUIRE(WaitForAgent(server, "1001", [](const Object& agent) {
    return agent.getValue<std::string>("cause") == "wrap_up_end";
  }));
  std::vector<std::string> labels = IntervalLabels(server, "1001");
  BOOST_TEST(std::count(labels.begin(), labels.end(), std::string("On a call")) == 1);
  BOOST_TEST(std::count(labels.begin(), labels.end(), std::string("Wrap-up")) == 1);
  Object::Ptr counts = ConnectorDetails(server)->getObject("from_pbx");
  BOOST_TEST(counts->getValue<int>("calls_started") == 1);
  BOOST_TEST(counts->getValue<int>("calls_ended") == 1);
}

// A blind transfer: the first agent's call ends when their channel leaves, the target agent's
// call begins when the transfer dials them; each gets the wrap-up.
BOOST_AUTO_TEST_CASE(a_blind_transfer_ends_one_agents_call_and_starts_the_others) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"calls"}, .actions = false}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  SetState(server, "1002", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));
  TransferSpec spec;
  spec.call = InboundTo("2001");
  spec.target_extension = "2002";
  spec.target_channel = "PJSIP/2002-00000005";
  pbx.Play(BlindTransfer(spec));
  for (const char* user : {"1001", "1002"}) {
    BOOST_REQUIRE_MESSAGE(WaitForAgent(server, user,
                                       [](const Object& agent) {
                                         return agent.getValue<std::string>("cause") ==
                                                "wrap_up_end";
                                       }),
                          user);
    std::vector<std::string> labels = IntervalLabels(server, user);
    BOOST_TEST(std::count(labels.begin(), labels.end(), std::string("On a call")) == 1, user);
  }
}

// Rule 11 for calls the PBX reports (and the softphone over the API): a call that rings out
// moves a Ready agent.
BOOST_AUTO_TEST_CASE(calls_that_only_ring_count_as_missed_from_the_pbx_and_the_api) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server([&](Object& config) {
    WithPbx(pbx, {.from_pbx = {"calls"}, .actions = false})(config);
    config.getObject("settings")
        ->set("missed_calls", ParseJson(R"({"after": 1, "state": "Break"})"));
  });
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));
  pbx.Play(InboundCall(InboundTo("2001", false)));
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Break"));
  // The same rule for a softphone reporting over the API.
  SetState(server, "1002", "Ready for Calls");
  for (const char* event : {R"({"type": "call_started", "call_id": "q9", "direction": "inbound"})",
                            R"({"type": "call_ended", "call_id": "q9"})"}) {
    HttpResponse response =
        server.Client().Post("/api/v1/agents/1002/events", server.tokens().integration, event);
    BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
  }
  BOOST_REQUIRE(WaitForLabel(server, "1002", "Break"));
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("cause").rfind("missed_calls", 0) ==
             0u);
}

// A supervisor pauses the member in the queue panel: the first matching rule selects the state
// (by default a pause whose reason is a label selects it, an unpause Ready).
BOOST_AUTO_TEST_CASE(a_queue_pause_made_elsewhere_selects_by_the_rules) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddMember("400", "PJSIP/2001");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"queues"}, .actions = false}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));  // the baseline: not paused
  PauseSpec pause;
  pause.interface = "PJSIP/2001";
  pause.queues = {"400"};
  pause.reason = "Lunch";
  pbx.Play(QueuePauseElsewhere(pause));
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Lunch"));
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("source") == "pbx");
  pause.paused = false;
  pause.reason = "";
  pbx.Play(QueuePauseElsewhere(pause));
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Ready for Calls"));
  // Nothing was sent back to the PBX for either.
  BOOST_TEST(pbx.actions("QueuePause").empty());
}

// Seed 000: "on logout or when the softphone vanishes". The phone unregisters (its device goes
// UNAVAILABLE): the agent logs the user out (source pbx) and carries out on_logout.
BOOST_AUTO_TEST_CASE(a_phone_that_goes_away_logs_the_user_out_with_the_logout_actions) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"devices"}}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(Settled(server));
  BOOST_REQUIRE(pbx.Member("support", "PJSIP/2001").has_value());
  AmiMessage registered{{"Event", "DeviceStateChange"},
                        {"Privilege", "call,all"},
                        {"Device", "PJSIP/2001"},
                        {"State", "NOT_INUSE"}};
  pbx.Emit(registered);
  BOOST_TEST(Label(server, "1001") == "Ready for Calls");
  AmiMessage gone = registered;
  gone.Set("State", "UNAVAILABLE");
  pbx.Emit(gone);
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Logout"));
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("source") == "pbx");
  BOOST_REQUIRE(pbx.WaitFor(
      [](const auto& actions) {
        for (const auto& action : actions) {
          if (action.Is("Action", "QueueRemove")) return true;
        }
        return false;
      },
      kWait));
  BOOST_REQUIRE(Settled(server));
  BOOST_TEST(!pbx.Member("support", "PJSIP/2001").has_value());
  BOOST_TEST(ConnectorDetails(server)->getObject("from_pbx")->getValue<int>("phones_gone") == 1);
}

BOOST_AUTO_TEST_CASE(dnd_on_the_phone_is_a_pbx_change_and_the_agents_own_dnd_never_echoes) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  pbx.AddMember("sales", "PJSIP/2001");  // two queues: one pause event each
  AgentServer server(WithPbx(pbx, {.from_pbx = {"dnd", "queues"}, .device_state = true}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(Settled(server));
  BOOST_REQUIRE(WaitForResyncs(server, 1));  // DND's baseline (off) is read
  pbx.PressDnd("2001", true);
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Do Not Disturb"));
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("source") == "pbx");
  // Nothing is sent back for a change that came from the PBX.
  const size_t seen = Writes(pbx.actions()).size();
  BOOST_TEST(WritesSince(server, pbx, seen).empty());
  pbx.PressDnd("2001", false);
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Ready for Calls"));
  // The agent's own DND and pause (Lunch) set the lamp and pause the member in both queues;
  // their events come back and are not changes.
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(Settled(server));
  BOOST_REQUIRE(WaitForOwnChangesIgnored(server, 2));
  BOOST_TEST(pbx.Member("sales", "PJSIP/2001")->paused);
  BOOST_TEST(Label(server, "1001") == "Lunch");
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("source") != "pbx");
}

BOOST_AUTO_TEST_CASE(after_a_reconnect_a_call_that_ended_during_the_drop_ends) {
  FakeAmiServer pbx("presence", "s3cret");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"calls"}, .actions = false}));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));
  // The call rings and is answered; then the AMI connection drops and the call ends unseen.
  std::vector<AmiMessage> call = InboundCall(InboundTo("2001"));
  std::vector<AmiMessage> until_answer;
  for (const AmiMessage& event : call) {
    until_answer.push_back(event);
    if (event.Is("Event", "BridgeEnter") && event.Get("Channel").rfind("PJSIP/2001", 0) == 0) {
      break;
    }
  }
  pbx.Play(until_answer);
  BOOST_REQUIRE(WaitForLabel(server, "1001", "On a call"));
  pbx.SetChannels({});
  pbx.DropConnections();
  BOOST_REQUIRE(WaitForResyncs(server, 2));
  BOOST_REQUIRE(WaitForAgent(server, "1001", [](const Object& agent) {
    return agent.getValue<std::string>("cause") == "wrap_up_end";
  }));
  BOOST_TEST(ConnectorDetails(server)->getValue<int>("reconnects") >= 1);
}

BOOST_AUTO_TEST_CASE(in_mode_none_the_pbx_reports_calls_and_nothing_is_sent_to_it) {
  FakeAmiServer pbx("presence", "s3cret");
  pbx.AddQueue("support");
  AgentServer server(WithPbx(pbx, {.from_pbx = {"calls"}, .mode = "none"}));
  server.Start();
  SetState(server, "1001", "Lunch");
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));
  pbx.Play(InboundCall(InboundTo("2001")));
  BOOST_REQUIRE(WaitForAgent(server, "1001", [](const Object& agent) {
    return agent.getValue<std::string>("cause") == "wrap_up_end";
  }));
  BOOST_TEST(Writes(pbx.actions()).empty());
  for (const AmiMessage& action : pbx.actions()) {
    const std::string name = action.Get("Action");
    BOOST_TEST((name == "Login" || name == "Ping" || name == "CoreShowChannels"), name);
  }
}

BOOST_AUTO_TEST_CASE(bad_input_from_the_pbx_is_counted_and_changes_nothing) {
  FakeAmiServer pbx("presence", "s3cret");
  // The garbage is addressed to extension 1001 (PJSIP/1001, Custom:DND1001, ...): a real user.
  AgentServer server([&](Object& config) {
    WithPbx(pbx, {.from_pbx = {"calls", "dnd", "queues"},
                  .actions = false,
                  .queue_interface = "Local/{extension}@from-queue/n"})(config);
    config.getArray("users")->getObject(0)->set("extension", "1001");
  });
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForResyncs(server, 1));
  Object::Ptr before = ConnectorDetails(server)->getObject("from_pbx");
  const int bad_before = before->getValue<int>("malformed") + before->getValue<int>("ignored");
  const std::string since = GetAgent(server, "1001")->getValue<std::string>("since");
  pbx.Play(GarbageEvents());
  // A line over 64 KiB is not AMI: that message is dropped, the session goes on.
  AmiMessage huge{
      {"Event", "Newchannel"}, {"Privilege", "call,all"}, {"Channel", std::string(70 * 1024, 'x')}};
  pbx.Emit(huge);
  // Then a call of another user: once it is seen, everything before it was read.
  pbx.Play(InboundCall(InboundTo("2002", false)));
  BOOST_REQUIRE(WaitForAgent(server, "1001", [&](const Object&) {
    return ConnectorDetails(server)->getObject("from_pbx")->getValue<int>("calls_ended") == 1;
  }));
  Object::Ptr details = ConnectorDetails(server);
  Object::Ptr counts = details->getObject("from_pbx");
  // Every garbage event was counted (the call after it adds none: its events are all used or
  // of the other user's ringing, which is counted as ignored at most once per event).
  BOOST_TEST(counts->getValue<int>("malformed") + counts->getValue<int>("ignored") - bad_before >=
             static_cast<int>(GarbageEvents().size()) - 2);
  BOOST_TEST(counts->getValue<int>("changes") == 0);
  BOOST_TEST(counts->getValue<int>("calls_started") == 1);  // the other user's, not 1001's
  BOOST_TEST(details->getValue<int>("discarded_messages") == 1);
  BOOST_TEST(details->getValue<int>("reconnects") == 0);
  BOOST_TEST(GetAgent(server, "1001")->getValue<std::string>("since") == since);
  BOOST_TEST(GetAgent(server, "1001")->getArray("active_calls")->size() == 0u);
  BOOST_TEST(server.Log().find("s3cret") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::testing
