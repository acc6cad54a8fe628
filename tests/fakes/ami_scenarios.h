#pragma once

// What an Asterisk/FreePBX server sends on the manager interface during everyday situations,
// as AmiMessages in arrival order with their fields in the order Asterisk writes them
// (integrations.md 4.7; main/manager_channels.c, main/manager_bridges.c, main/stasis_bridges.c,
// apps/app_queue.c, main/manager.c; FreePBX donotdisturb functions.inc.php). Events carry the
// "Timestamp:" line of timestampevents=yes, so a reader can take its clock from them; the
// unit tests of AmiInbound replay them and so can the fake AMI server (Emit each in turn).
// Only the events the presence agent reads, and a few it must ignore, are included: a real
// server sends more (VarSet, Newexten, NewCallerid, BridgeCreate...).

#include <string>
#include <vector>

#include "connectors/ami/ami_protocol.h"

namespace presence::testing {

using connectors::AmiMessage;

// One channel of a call.
struct AmiParty {
  std::string channel;   // "PJSIP/1001-0000002a"
  std::string uniqueid;  // "1700000000.42"
  std::string number;    // its caller id number
  std::string name;      // its caller id name
};

// A two-party call: `caller` dials `callee` (Dial in `context`, dialled number `dialled`).
struct CallSpec {
  AmiParty caller{"PJSIP/trunk-00000001", "1700000000.1", "+4930123456", "Customer"};
  AmiParty callee{"PJSIP/1001-00000002", "1700000000.2", "1001", "Alice"};
  std::string context = "from-trunk";
  std::string dialled = "1001";
  bool answered = true;
  double start = 1700000000.0;  // Timestamp of the first event
  double ring_seconds = 4;      // from DialBegin to the answer (or to the hangup)
  double talk_seconds = 30;     // from the answer to the hangup
  std::string bridge = "a1b2c3d4-0000-4000-8000-000000000001";
};

// The caller's channel appears, dials the callee, which rings, is answered (or not: the caller
// gives up, DialEnd CANCEL) and both hang up, the callee first. Caller = trunk, callee = agent:
// an inbound call; OutboundCall swaps the roles.
std::vector<AmiMessage> InboundCall(const CallSpec& spec);
// The agent's phone (spec.caller: "PJSIP/1001-...") dials out through a trunk.
CallSpec OutboundSpec();
// Two configured extensions: PJSIP/1001 calls 1002.
CallSpec InternalSpec();

// A queue call on FreePBX: the caller waits in `queue`; the member's interface is a Local
// channel ("Local/1001@from-queue/n") which dials the agent's phone. AgentCalled, DialBegin x2,
// (answered: DialEnd ANSWER, AgentConnect, BridgeEnter, then the caller hangs up, Hangups,
// AgentComplete) or (not answered: AgentRingNoAnswer and Hangups).
struct QueueCallSpec {
  AmiParty caller{"PJSIP/trunk-00000010", "1700000100.10", "+4940777", "Customer"};
  std::string queue = "400";
  std::string extension = "1001";
  std::string agent_name = "Alice";
  std::string local_sequence = "00000003";  // Local/<ext>@from-queue-<seq>;1 and ;2
  std::string local1_uniqueid = "1700000100.11";
  std::string local2_uniqueid = "1700000100.12";
  std::string phone_channel = "PJSIP/1001-00000013";
  std::string phone_uniqueid = "1700000100.13";
  bool answered = true;
  double start = 1700000100.0;
  double ring_seconds = 3;
  double talk_seconds = 60;
};
std::vector<AmiMessage> QueueCall(const QueueCallSpec& spec);

// An inbound call answered by 1001 (spec.call), which then blind-transfers it to
// `target_extension`: BlindTransfer, a Local channel takes 1001's place in the bridge (swap),
// 1001's channel leaves and hangs up, the Local channel dials the target, who answers and later
// hangs up with the caller.
struct TransferSpec {
  CallSpec call;
  std::string target_extension = "1002";
  std::string target_channel = "PJSIP/1002-00000005";
  std::string target_uniqueid = "1700000000.5";
  std::string local_sequence = "00000004";
  std::string local1_uniqueid = "1700000000.3";
  std::string local2_uniqueid = "1700000000.4";
  double target_talk_seconds = 20;
};
std::vector<AmiMessage> BlindTransfer(const TransferSpec& spec);

// The user dials FreePBX's DND feature code on the phone (*78 on, *79 off): the short call of
// the feature code, and the device states FreePBX sets (Custom:DND<ext>, Custom:DEVDND<dev>).
std::vector<AmiMessage> DndFromPhone(const std::string& extension, bool on, double at,
                                     const std::string& uniqueid = "1700000200.20");
// A Setvar of DEVICE_STATE(Custom:DND<ext>) as the agent's own connector sends it: one event.
AmiMessage DndDeviceState(const std::string& extension, bool on, double at);

// A member paused or unpaused elsewhere (a supervisor's panel, a feature code): one
// QueueMemberPause per queue the member is in.
struct PauseSpec {
  std::string interface = "Local/1001@from-queue/n";
  std::string member_name = "Alice";
  std::vector<std::string> queues{"400", "401"};
  bool paused = true;
  std::string reason = "Lunch";
  double at = 1700000300.0;
};
std::vector<AmiMessage> QueuePauseElsewhere(const PauseSpec& spec);

// The answers to what a connector re-reads after a reconnect, whole (response, items,
// completion event).
// DBGet DND/<ext>: YES when on, else the "Database entry not found" error.
std::vector<AmiMessage> DbGetDnd(const std::string& action_id, const std::string& extension,
                                 bool on);
// QueueStatus: one queue's QueueParams and a QueueMember per member.
struct QueueMemberSpec {
  std::string interface;
  std::string name;
  bool paused = false;
  std::string reason;
};
std::vector<AmiMessage> QueueStatusList(const std::string& action_id, const std::string& queue,
                                        const std::vector<QueueMemberSpec>& members);
// CoreShowChannels: one CoreShowChannel per channel (Up when `up`), sharing `linkedid`.
struct ShownChannel {
  AmiParty party;
  std::string linkedid;
  bool up = true;
  std::string application = "Dial";
};
std::vector<AmiMessage> CoreShowChannelsList(const std::string& action_id,
                                             const std::vector<ShownChannel>& channels);

// Bytes no server should send, and events the reader must survive: no Event header, missing
// fields, unknown events, channels of nobody, absurd ids.
std::vector<AmiMessage> GarbageEvents();

}  // namespace presence::testing
