#include "tests/fakes/ami_scenarios.h"

#include <cmath>
#include <cstdio>

namespace presence::testing {
namespace {

constexpr int kDown = 0;
constexpr int kRing = 4;
constexpr int kRinging = 5;
constexpr int kUp = 6;

const char* StateDesc(int state) {
  switch (state) {
    case kDown:
      return "Down";
    case kRing:
      return "Ring";
    case kRinging:
      return "Ringing";
    case kUp:
      return "Up";
    default:
      return "Unknown";
  }
}

// "Timestamp: %ld.%06lu" (main/manager.c, timestampevents=yes).
std::string Stamp(double at) {
  const double whole = std::floor(at);
  char text[64];
  std::snprintf(text, sizeof(text), "%ld.%06ld", static_cast<long>(whole),
                std::lround((at - whole) * 1e6));
  return text;
}

AmiMessage Event(const std::string& name, double at, const std::string& privilege = "call,all") {
  AmiMessage event;
  event.Add("Event", name).Add("Privilege", privilege).Add("Timestamp", Stamp(at));
  return event;
}

// The channel snapshot block (ast_manager_build_channel_state_string_prefix).
struct Snap {
  const AmiParty& party;
  int state;
  std::string context;
  std::string exten;
  int priority;
  std::string linkedid;
  std::string connected_number = "<unknown>";
  std::string connected_name = "<unknown>";
};

void AddSnapshot(AmiMessage& event, const Snap& snap, const std::string& prefix = "") {
  event.Add(prefix + "Channel", snap.party.channel)
      .Add(prefix + "ChannelState", std::to_string(snap.state))
      .Add(prefix + "ChannelStateDesc", StateDesc(snap.state))
      .Add(prefix + "CallerIDNum", snap.party.number.empty() ? "<unknown>" : snap.party.number)
      .Add(prefix + "CallerIDName", snap.party.name.empty() ? "<unknown>" : snap.party.name)
      .Add(prefix + "ConnectedLineNum", snap.connected_number)
      .Add(prefix + "ConnectedLineName", snap.connected_name)
      .Add(prefix + "Language", "en")
      .Add(prefix + "AccountCode", "")
      .Add(prefix + "Context", snap.context)
      .Add(prefix + "Exten", snap.exten)
      .Add(prefix + "Priority", std::to_string(snap.priority))
      .Add(prefix + "Uniqueid", snap.party.uniqueid)
      .Add(prefix + "Linkedid", snap.linkedid);
}

AmiMessage ChannelEvent(const std::string& name, double at, const Snap& snap) {
  AmiMessage event = Event(name, at);
  AddSnapshot(event, snap);
  return event;
}

AmiMessage Hangup(double at, const Snap& snap, int cause = 16,
                  const std::string& text = "Normal Clearing") {
  AmiMessage event = ChannelEvent("Hangup", at, snap);
  event.Add("Cause", std::to_string(cause)).Add("Cause-txt", text);
  return event;
}

AmiMessage Dial(const std::string& name, double at, const Snap& caller, const Snap& dest,
                const std::string& last) {
  AmiMessage event = Event(name, at);
  AddSnapshot(event, caller);
  AddSnapshot(event, dest, "Dest");
  if (name == "DialBegin") {
    event.Add("DialString", last);
  } else {
    event.Add("DialStatus", last);
  }
  return event;
}

void AddBridge(AmiMessage& event, const std::string& bridge, int channels,
               const std::string& prefix = "") {
  event.Add(prefix + "BridgeUniqueid", bridge)
      .Add(prefix + "BridgeType", "basic")
      .Add(prefix + "BridgeTechnology", "simple_bridge")
      .Add(prefix + "BridgeCreator", "<unknown>")
      .Add(prefix + "BridgeName", "<unknown>")
      .Add(prefix + "BridgeNumChannels", std::to_string(channels))
      .Add(prefix + "BridgeVideoSourceMode", "none");
}

AmiMessage Bridge(const std::string& name, double at, const std::string& bridge, int channels,
                  const Snap& snap, const std::string& swap = "") {
  AmiMessage event = Event(name, at);
  AddBridge(event, bridge, channels);
  AddSnapshot(event, snap);
  if (!swap.empty()) event.Add("SwapUniqueid", swap);
  return event;
}

// The queue member fields (app_queue.c queue_member_blob_create).
void AddMember(AmiMessage& event, const std::string& queue, const std::string& name,
               const std::string& interface, bool paused, const std::string& reason, double at) {
  event.Add("Queue", queue)
      .Add("MemberName", name)
      .Add("Interface", interface)
      .Add("StateInterface", interface.starts_with("Local/")
                                 ? "hint:" + interface.substr(6, 4) + "@ext-local"
                                 : interface)
      .Add("Membership", "dynamic")
      .Add("Penalty", "0")
      .Add("CallsTaken", "0")
      .Add("LastCall", "0")
      .Add("LastPause", paused ? std::to_string(static_cast<long>(at)) : "0")
      .Add("LoginTime", "1700000000")
      .Add("InCall", "0")
      .Add("Status", "1")
      .Add("Paused", paused ? "1" : "0")
      .Add("PausedReason", paused ? reason : "")
      .Add("Ringinuse", "0")
      .Add("Wrapuptime", "0");
}

}  // namespace

std::vector<AmiMessage> InboundCall(const CallSpec& spec) {
  std::vector<AmiMessage> out;
  const std::string& linkedid = spec.caller.uniqueid;
  double at = spec.start;
  // The caller's channel runs the dialplan; the callee's is created by Dial (Exten "s" at
  // creation, the dialled number once Dial copies it; Linkedid inherited from the caller).
  Snap caller{spec.caller, kRing, spec.context, spec.dialled, 1, linkedid};
  out.push_back(ChannelEvent("Newchannel", at, caller));
  Snap callee{spec.callee, kDown,    "from-internal",    "s",
              1,           linkedid, spec.caller.number, spec.caller.name};
  out.push_back(ChannelEvent("Newchannel", at + 0.01, callee));
  callee.exten = spec.dialled;
  caller.priority = 2;
  out.push_back(Dial("DialBegin", at + 0.02, caller, callee,
                     spec.callee.channel.substr(0, spec.callee.channel.rfind('-'))
                             .substr(spec.callee.channel.find('/') + 1) +
                         "/sip:" + spec.dialled + "@192.0.2.10:5060"));
  callee.state = kRinging;
  out.push_back(ChannelEvent("Newstate", at + 0.2, callee));
  out.push_back(Dial("DialState", at + 0.21, caller, callee, "RINGING"));
  at += spec.ring_seconds;
  if (!spec.answered) {
    // The caller gives up: Dial cancels the callee.
    out.push_back(Dial("DialEnd", at, caller, callee, "CANCEL"));
    out.push_back(Hangup(at + 0.01, callee, 0, "Unknown"));
    out.push_back(Hangup(at + 0.02, caller));
    return out;
  }
  callee.state = kUp;
  out.push_back(ChannelEvent("Newstate", at, callee));
  out.push_back(Dial("DialEnd", at + 0.01, caller, callee, "ANSWER"));
  caller.state = kUp;
  caller.connected_number = spec.callee.number;
  caller.connected_name = spec.callee.name;
  out.push_back(ChannelEvent("Newstate", at + 0.02, caller));
  out.push_back(Bridge("BridgeEnter", at + 0.03, spec.bridge, 1, caller));
  out.push_back(Bridge("BridgeEnter", at + 0.04, spec.bridge, 2, callee));
  at += spec.talk_seconds;
  out.push_back(Bridge("BridgeLeave", at, spec.bridge, 1, callee));
  out.push_back(Hangup(at + 0.01, callee));
  out.push_back(Bridge("BridgeLeave", at + 0.02, spec.bridge, 0, caller));
  out.push_back(Hangup(at + 0.03, caller));
  return out;
}

CallSpec OutboundSpec() {
  CallSpec spec;
  spec.caller = AmiParty{"PJSIP/1001-00000007", "1700000050.7", "1001", "Alice"};
  spec.callee = AmiParty{"PJSIP/trunk-00000008", "1700000050.8", "+4930987654", ""};
  spec.context = "from-internal";
  spec.dialled = "004930987654";
  spec.start = 1700000050.0;
  spec.talk_seconds = 45;
  spec.bridge = "a1b2c3d4-0000-4000-8000-000000000007";
  return spec;
}

CallSpec InternalSpec() {
  CallSpec spec;
  spec.caller = AmiParty{"PJSIP/1001-00000020", "1700000400.20", "1001", "Alice"};
  spec.callee = AmiParty{"PJSIP/1002-00000021", "1700000400.21", "1002", "Bob"};
  spec.context = "from-internal";
  spec.dialled = "1002";
  spec.start = 1700000400.0;
  spec.talk_seconds = 12;
  spec.bridge = "a1b2c3d4-0000-4000-8000-000000000020";
  return spec;
}

std::vector<AmiMessage> QueueCall(const QueueCallSpec& spec) {
  std::vector<AmiMessage> out;
  const std::string& linkedid = spec.caller.uniqueid;
  const std::string local = "Local/" + spec.extension + "@from-queue-" + spec.local_sequence;
  const AmiParty local1{local + ";1", spec.local1_uniqueid, spec.caller.number, spec.caller.name};
  const AmiParty local2{local + ";2", spec.local2_uniqueid, spec.caller.number, spec.caller.name};
  const AmiParty phone{spec.phone_channel, spec.phone_uniqueid, spec.extension, spec.agent_name};
  const std::string interface = "Local/" + spec.extension + "@from-queue/n";
  const std::string bridge = "b1b2c3d4-0000-4000-8000-000000000010";
  const std::string local_bridge = "b1b2c3d4-0000-4000-8000-000000000011";
  double at = spec.start;

  Snap caller{spec.caller, kUp, "ext-queues", spec.queue, 10, linkedid};
  out.push_back(ChannelEvent("Newchannel", at, caller));
  AmiMessage join = Event("QueueCallerJoin", at + 1, "agent,all");
  AddSnapshot(join, caller);
  join.Add("Queue", spec.queue).Add("Position", "1").Add("Count", "1");
  out.push_back(join);
  at += 1.1;
  Snap l1{local1, kDown, "from-queue", spec.extension, 1, linkedid};
  Snap l2{local2, kRing, "from-queue", spec.extension, 1, linkedid};
  out.push_back(ChannelEvent("Newchannel", at, l1));
  out.push_back(ChannelEvent("Newchannel", at + 0.01, l2));
  AmiMessage called = Event("AgentCalled", at + 0.02, "agent,all");
  AddSnapshot(called, caller);
  AddSnapshot(called, l1, "Dest");
  called.Add("Queue", spec.queue).Add("Interface", interface).Add("MemberName", spec.agent_name);
  out.push_back(called);
  out.push_back(Dial("DialBegin", at + 0.03, caller, l1, interface));
  Snap ph{phone, kDown, "from-internal", "s", 1, linkedid, spec.caller.number, spec.caller.name};
  out.push_back(ChannelEvent("Newchannel", at + 0.05, ph));
  ph.exten = spec.extension;
  l2.priority = 3;
  out.push_back(Dial("DialBegin", at + 0.06, l2, ph,
                     spec.extension + "/sip:" + spec.extension + "@192.0.2.21:5060"));
  ph.state = kRinging;
  out.push_back(ChannelEvent("Newstate", at + 0.2, ph));
  at += spec.ring_seconds;
  if (!spec.answered) {
    AmiMessage rna = Event("AgentRingNoAnswer", at, "agent,all");
    AddSnapshot(rna, caller);
    AddSnapshot(rna, l1, "Dest");
    rna.Add("Queue", spec.queue)
        .Add("Interface", interface)
        .Add("MemberName", spec.agent_name)
        .Add("RingTime", std::to_string(static_cast<long>(spec.ring_seconds * 1000)));
    out.push_back(rna);
    out.push_back(Dial("DialEnd", at + 0.01, caller, l1, "CANCEL"));
    out.push_back(Dial("DialEnd", at + 0.02, l2, ph, "CANCEL"));
    out.push_back(Hangup(at + 0.03, ph, 0, "Unknown"));
    out.push_back(Hangup(at + 0.04, l2));
    out.push_back(Hangup(at + 0.05, l1));
    out.push_back(Hangup(at + 30, caller));
    return out;
  }
  ph.state = kUp;
  out.push_back(ChannelEvent("Newstate", at, ph));
  out.push_back(Dial("DialEnd", at + 0.01, l2, ph, "ANSWER"));
  l2.state = kUp;
  out.push_back(Bridge("BridgeEnter", at + 0.02, local_bridge, 1, l2));
  out.push_back(Bridge("BridgeEnter", at + 0.03, local_bridge, 2, ph));
  l1.state = kUp;
  out.push_back(Dial("DialEnd", at + 0.04, caller, l1, "ANSWER"));
  AmiMessage connect = Event("AgentConnect", at + 0.05, "agent,all");
  AddSnapshot(connect, caller);
  AddSnapshot(connect, l1, "Dest");
  connect.Add("Queue", spec.queue)
      .Add("Interface", interface)
      .Add("MemberName", spec.agent_name)
      .Add("HoldTime", std::to_string(static_cast<long>(at - spec.start - 1)))
      .Add("RingTime", std::to_string(static_cast<long>(spec.ring_seconds)));
  out.push_back(connect);
  out.push_back(Bridge("BridgeEnter", at + 0.06, bridge, 1, caller));
  out.push_back(Bridge("BridgeEnter", at + 0.07, bridge, 2, l1));
  AmiMessage leave = Event("QueueCallerLeave", at + 0.08, "agent,all");
  AddSnapshot(leave, caller);
  leave.Add("Queue", spec.queue).Add("Count", "0").Add("Position", "1");
  out.push_back(leave);
  at += spec.talk_seconds;
  // The caller hangs up.
  out.push_back(Bridge("BridgeLeave", at, bridge, 1, caller));
  out.push_back(Hangup(at + 0.01, caller));
  AmiMessage complete = Event("AgentComplete", at + 0.02, "agent,all");
  AddSnapshot(complete, caller);
  AddSnapshot(complete, l1, "Dest");
  complete.Add("Queue", spec.queue)
      .Add("Interface", interface)
      .Add("MemberName", spec.agent_name)
      .Add("HoldTime", std::to_string(static_cast<long>(spec.ring_seconds + 1)))
      .Add("TalkTime", std::to_string(static_cast<long>(spec.talk_seconds)))
      .Add("Reason", "caller");
  out.push_back(complete);
  out.push_back(Bridge("BridgeLeave", at + 0.03, bridge, 0, l1));
  out.push_back(Hangup(at + 0.04, l1));
  out.push_back(Bridge("BridgeLeave", at + 0.05, local_bridge, 1, l2));
  out.push_back(Hangup(at + 0.06, l2));
  out.push_back(Bridge("BridgeLeave", at + 0.07, local_bridge, 0, ph));
  out.push_back(Hangup(at + 0.08, ph));
  return out;
}

std::vector<AmiMessage> BlindTransfer(const TransferSpec& spec) {
  // The answered call, without its end.
  CallSpec call = spec.call;
  std::vector<AmiMessage> out = InboundCall(call);
  out.resize(out.size() - 4);
  const std::string& linkedid = call.caller.uniqueid;
  double at = call.start + call.ring_seconds + call.talk_seconds;
  Snap caller{call.caller, kUp,      call.context,       call.dialled,
              2,           linkedid, call.callee.number, call.callee.name};
  Snap agent{call.callee, kUp,      "from-internal",    call.dialled,
             1,           linkedid, call.caller.number, call.caller.name};
  const std::string local =
      "Local/" + spec.target_extension + "@from-internal-" + spec.local_sequence;
  const AmiParty local1{local + ";1", spec.local1_uniqueid, call.caller.number, call.caller.name};
  const AmiParty local2{local + ";2", spec.local2_uniqueid, call.caller.number, call.caller.name};
  Snap l1{local1, kDown, "from-internal", spec.target_extension, 1, linkedid};
  Snap l2{local2, kRing, "from-internal", spec.target_extension, 1, linkedid};
  out.push_back(ChannelEvent("Newchannel", at, l1));
  out.push_back(ChannelEvent("Newchannel", at + 0.01, l2));
  l1.state = kUp;
  out.push_back(Bridge("BridgeEnter", at + 0.02, call.bridge, 3, l1, call.callee.uniqueid));
  out.push_back(Bridge("BridgeLeave", at + 0.03, call.bridge, 2, agent));
  // BlindTransfer (main/stasis_bridges.c blind_transfer_to_ami): Result, Transferer*,
  // Transferee*, the bridge, IsExternal, Context, Extension.
  AmiMessage transfer = Event("BlindTransfer", at + 0.04);
  transfer.Add("Result", "Success");
  AddSnapshot(transfer, agent, "Transferer");
  AddSnapshot(transfer, caller, "Transferee");
  AddBridge(transfer, call.bridge, 2);
  transfer.Add("IsExternal", "No")
      .Add("Context", "from-internal")
      .Add("Extension", spec.target_extension);
  out.push_back(transfer);
  out.push_back(Hangup(at + 0.05, agent));
  const AmiParty target{spec.target_channel, spec.target_uniqueid, spec.target_extension, "Bob"};
  Snap tg{target, kDown, "from-internal", "s", 1, linkedid, call.caller.number, call.caller.name};
  out.push_back(ChannelEvent("Newchannel", at + 0.1, tg));
  tg.exten = spec.target_extension;
  out.push_back(Dial("DialBegin", at + 0.11, l2, tg,
                     spec.target_extension + "/sip:" + spec.target_extension + "@192.0.2.22:5060"));
  tg.state = kRinging;
  out.push_back(ChannelEvent("Newstate", at + 0.2, tg));
  at += 2;
  tg.state = kUp;
  out.push_back(ChannelEvent("Newstate", at, tg));
  out.push_back(Dial("DialEnd", at + 0.01, l2, tg, "ANSWER"));
  const std::string local_bridge = "c1b2c3d4-0000-4000-8000-000000000003";
  l2.state = kUp;
  out.push_back(Bridge("BridgeEnter", at + 0.02, local_bridge, 1, l2));
  out.push_back(Bridge("BridgeEnter", at + 0.03, local_bridge, 2, tg));
  at += spec.target_talk_seconds;
  out.push_back(Bridge("BridgeLeave", at, local_bridge, 1, tg));
  out.push_back(Hangup(at + 0.01, tg));
  out.push_back(Hangup(at + 0.02, l2));
  out.push_back(Hangup(at + 0.03, l1));
  out.push_back(Hangup(at + 0.04, caller));
  return out;
}

AmiMessage DndDeviceState(const std::string& extension, bool on, double at) {
  // functions.inc.php: STATE is BUSY (on) or UNAVAILABLE (off).
  AmiMessage event = Event("DeviceStateChange", at);
  event.Add("Device", "Custom:DND" + extension).Add("State", on ? "BUSY" : "UNAVAILABLE");
  return event;
}

std::vector<AmiMessage> DndFromPhone(const std::string& extension, bool on, double at,
                                     const std::string& uniqueid) {
  std::vector<AmiMessage> out;
  const AmiParty phone{"PJSIP/" + extension + "-00000030", uniqueid, extension, ""};
  const std::string code = on ? "*78" : "*79";
  Snap snap{phone, kRing, "from-internal", code, 1, uniqueid};
  out.push_back(ChannelEvent("Newchannel", at, snap));
  snap.state = kUp;
  snap.context = on ? "app-dnd-on" : "app-dnd-off";
  snap.priority = 3;
  out.push_back(ChannelEvent("Newstate", at + 0.1, snap));
  out.push_back(DndDeviceState(extension, on, at + 0.2));
  AmiMessage device = Event("DeviceStateChange", at + 0.21);
  device.Add("Device", "Custom:DEVDND" + extension).Add("State", on ? "BUSY" : "UNAVAILABLE");
  out.push_back(device);
  out.push_back(Hangup(at + 2, snap));
  return out;
}

std::vector<AmiMessage> QueuePauseElsewhere(const PauseSpec& spec) {
  std::vector<AmiMessage> out;
  for (const std::string& queue : spec.queues) {
    AmiMessage event = Event("QueueMemberPause", spec.at, "agent,all");
    AddMember(event, queue, spec.member_name, spec.interface, spec.paused, spec.reason, spec.at);
    out.push_back(event);
  }
  return out;
}

std::vector<AmiMessage> DbGetDnd(const std::string& action_id, const std::string& extension,
                                 bool on) {
  if (!on) {
    return {AmiMessage{
        {"Response", "Error"}, {"ActionID", action_id}, {"Message", "Database entry not found"}}};
  }
  return {AmiMessage{{"Response", "Success"},
                     {"ActionID", action_id},
                     {"EventList", "start"},
                     {"Message", "Result will follow"}},
          AmiMessage{{"Event", "DBGetResponse"},
                     {"Family", "DND"},
                     {"Key", extension},
                     {"Val", "YES"},
                     {"ActionID", action_id}},
          AmiMessage{{"Event", "DBGetComplete"},
                     {"ActionID", action_id},
                     {"EventList", "Complete"},
                     {"ListItems", "1"}}};
}

std::vector<AmiMessage> QueueStatusList(const std::string& action_id, const std::string& queue,
                                        const std::vector<QueueMemberSpec>& members) {
  // app_queue.c manager_queues_status: the list ack, QueueParams, QueueMember ("Location" is
  // the interface, ActionID last), QueueStatusComplete.
  std::vector<AmiMessage> out;
  out.push_back(AmiMessage{{"Response", "Success"},
                           {"ActionID", action_id},
                           {"EventList", "start"},
                           {"Message", "Queue status will follow"}});
  out.push_back(AmiMessage{{"Event", "QueueParams"},
                           {"Queue", queue},
                           {"Max", "0"},
                           {"Strategy", "ringall"},
                           {"Calls", "0"},
                           {"Holdtime", "0"},
                           {"TalkTime", "0"},
                           {"Completed", "0"},
                           {"Abandoned", "0"},
                           {"ServiceLevel", "60"},
                           {"ServicelevelPerf", "0.0"},
                           {"ServicelevelPerf2", "0.0"},
                           {"Weight", "0"},
                           {"ActionID", action_id}});
  for (const QueueMemberSpec& member : members) {
    out.push_back(AmiMessage{{"Event", "QueueMember"},
                             {"Queue", queue},
                             {"Name", member.name},
                             {"Location", member.interface},
                             {"StateInterface", member.interface},
                             {"Membership", "dynamic"},
                             {"Penalty", "0"},
                             {"CallsTaken", "0"},
                             {"LastCall", "0"},
                             {"LastPause", "0"},
                             {"LoginTime", "1700000000"},
                             {"InCall", "0"},
                             {"Status", "1"},
                             {"Paused", member.paused ? "1" : "0"},
                             {"PausedReason", member.paused ? member.reason : ""},
                             {"Wrapuptime", "0"},
                             {"ActionID", action_id}});
  }
  out.push_back(AmiMessage{{"Event", "QueueStatusComplete"},
                           {"ActionID", action_id},
                           {"EventList", "Complete"},
                           {"ListItems", std::to_string(1 + members.size())}});
  return out;
}

std::vector<AmiMessage> CoreShowChannelsList(const std::string& action_id,
                                             const std::vector<ShownChannel>& channels) {
  // main/manager.c action_coreshowchannels: Event, ActionID, the snapshot block, Application,
  // ApplicationData, Duration, BridgeId; then CoreShowChannelsComplete.
  std::vector<AmiMessage> out;
  out.push_back(AmiMessage{{"Response", "Success"},
                           {"ActionID", action_id},
                           {"EventList", "start"},
                           {"Message", "Channels will follow"}});
  for (const ShownChannel& shown : channels) {
    AmiMessage event{{"Event", "CoreShowChannel"}, {"ActionID", action_id}};
    AddSnapshot(event, Snap{shown.party, shown.up ? kUp : kRinging, "from-internal", "s", 1,
                            shown.linkedid});
    event.Add("Application", shown.application)
        .Add("ApplicationData", "")
        .Add("Duration", "00:01:05")
        .Add("BridgeId", shown.up ? "d1b2c3d4-0000-4000-8000-000000000001" : "");
    out.push_back(event);
  }
  out.push_back(AmiMessage{{"Event", "CoreShowChannelsComplete"},
                           {"ActionID", action_id},
                           {"EventList", "Complete"},
                           {"ListItems", std::to_string(channels.size())}});
  return out;
}

std::vector<AmiMessage> GarbageEvents() {
  std::vector<AmiMessage> out;
  out.push_back(AmiMessage{{"Response", "Success"}, {"Message", "not an event"}});
  out.push_back(AmiMessage{{"garbage line without colon", ""}});
  out.push_back(AmiMessage{{"Event", ""}});
  out.push_back(AmiMessage{
      {"Event", "FullyBooted"}, {"Privilege", "system,all"}, {"Status", "Fully Booted"}});
  out.push_back(AmiMessage{{"Event", "DialBegin"}, {"Privilege", "call,all"}});  // no fields
  out.push_back(AmiMessage{{"Event", "DialBegin"},
                           {"Channel", "PJSIP/trunk-00000099"},
                           {"Uniqueid", "1700000900.1"},
                           {"Linkedid", "1700000900.1"},
                           {"DestChannel", "PJSIP/1001-00000099"},
                           {"DestUniqueid", "1700000900.2\r\nEvent: Hangup"}});  // absurd id
  out.push_back(AmiMessage{{"Event", "DialBegin"},
                           {"Channel", "PJSIP/trunk-00000098"},
                           {"Uniqueid", "1700000901.1"},
                           {"Linkedid", "1700000901.1"},
                           {"DestChannel", "PJSIP/9999-00000098"},  // nobody's
                           {"DestUniqueid", "1700000901.2"},
                           {"DestLinkedid", "1700000901.1"}});
  out.push_back(AmiMessage{{"Event", "Hangup"}, {"Channel", "PJSIP/1001-00000097"}});
  out.push_back(AmiMessage{{"Event", "Hangup"},
                           {"Channel", "PJSIP/1001-00000096"},
                           {"Uniqueid", "1700000902.1"}});  // never followed
  out.push_back(AmiMessage{{"Event", "DeviceStateChange"}, {"Device", "Custom:DND1001"}});
  out.push_back(AmiMessage{
      {"Event", "DeviceStateChange"}, {"Device", "Custom:DND1001"}, {"State", "NONSENSE"}});
  out.push_back(
      AmiMessage{{"Event", "DeviceStateChange"}, {"Device", "Custom:DND"}, {"State", "BUSY"}});
  out.push_back(AmiMessage{{"Event", "QueueMemberPause"},
                           {"Interface", "Local/1001@from-queue/n"},
                           {"Paused", "maybe"}});
  out.push_back(
      AmiMessage{{"Event", "QueueMemberPause"}, {"Interface", "SIP/7777"}, {"Paused", "1"}});
  out.push_back(AmiMessage{{"Event", "AgentCalled"}, {"Interface", "Local/1001@from-queue/n"}});
  out.push_back(AmiMessage{{"Event", "AgentComplete"},
                           {"Interface", "Local/1001@from-queue/n"},
                           {"DestUniqueid", "1700000903.1"}});
  out.push_back(AmiMessage{{"Event", "SomethingNew"}, {"Channel", "PJSIP/1001-00000001"}});
  return out;
}

}  // namespace presence::testing
