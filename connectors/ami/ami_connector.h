#pragma once

// Carries each change to Asterisk/FreePBX over one persistent AMI session (integrations.md 4):
//   1. dial: Originate rings the user's phone and, once answered, runs the state's reason code
//      (a feature code such as *78) in the dialplan as that phone (4.3);
//   2. astdb_dnd: FreePBX's own DND flag, AstDB DND/<ext> = YES or deleted (4.4), optionally
//      with the device states FreePBX keeps for BLF keys (device_state);
//   3. presence_state: PRESENCE_STATE(CustomPresence:<ext>) for hints and Digium phones (4.5).
//
//   {"type": "ami", "host": "10.0.0.5", "username": "presence", "secret": {"env": "AMI_SECRET"},
//    "dial": false, "astdb_dnd": true, "device_state": true, "presence_state": true}
//
// Per state (optional): "mappings": {"ami": {"presence": "away", "message": "Back at two"}}
// overrides the presence state and message derived from the status code and label.
//
// A state's phone-system actions (reasoncodes/actions.h: DND, forwards, Follow Me, queues) are
// worked out when the change is committed and kept in its outbox row; a delivery reads what
// the PBX holds, sends only what differs (connectors/ami/ami_actions.h) and reads it back.
// What still differs is reported per user (Core::ReportPbx) and the delivery retried; a change
// made on the phone afterwards is reported as manual and left alone until the next change of
// state. With from_pbx the session subscribes to the event classes it needs, and calls, DND and
// queue pauses seen on the PBX come in as the user's calls and changes (connectors/ami/
// ami_inbound.h); after every reconnect DND keys, queue members and channels are read afresh.

#include <chrono>
#include <string>
#include <vector>

#include "connectors/ami/ami_inbound.h"
#include "connectors/ami/ami_session.h"
#include "connectors/registry.h"

namespace presence::connectors {

struct AmiSettings final : ConnectorSettings {
  // host, port, username, secret (never logged, never in Details), events, ping_seconds,
  // connect_timeout_ms, action_timeout_ms.
  AmiSessionOptions session;
  // Templates over {extension}, {label}, {reason_code}, {user} (the user's id).
  std::string channel = "PJSIP/{extension}";
  std::string context = "from-internal";
  int priority = 1;
  Millis originate_timeout{30000};  // how long the phone may ring
  std::string caller_id = "\"{label}\" <{extension}>";
  bool dial = true;
  bool astdb_dnd = false;
  bool device_state = false;  // only with astdb_dnd
  bool presence_state = false;

  // The PBX as a source (issue 14): "from_pbx": ["calls", "dnd", "queues", "devices"].
  bool from_calls = false;
  bool from_dnd = false;
  bool from_queues = false;
  // "devices": the user's phone (the `channel` template's device, "PJSIP/1001") going
  // UNAVAILABLE (unregistered: the softphone closed or the desk phone lost its network) logs
  // the user out, so the on_logout actions run (seed 000: "when the softphone vanishes").
  bool from_devices = false;
  // "dnd_labels": {"on": label, "off": label}: what DND pressed on the phone selects
  // (defaults: the first selectable Do Not Disturb state, and the ready state).
  std::optional<std::string> dnd_on_label;
  std::optional<std::string> dnd_off_label;
  // "pause_rules": [{"paused": bool, "reason": text, "label": label}], first match wins.
  // Empty: a pause whose reason is a selectable label selects it, any other pause the first
  // selectable Away state, an unpause the ready state.
  std::vector<AmiPauseRule> pause_rules;
  // The member interface in the queues ("Local/{extension}@from-queue/n" on FreePBX).
  std::string queue_interface = "PJSIP/{extension}";
  // What a forward to "voicemail" dials (FreePBX's direct voicemail prefix and the extension).
  std::string voicemail = "*{extension}";
  // Read the state's actions back after applying them (and after every reconnect).
  bool verify_actions = true;

  bool ReadsItsSystem() const override {
    return from_calls || from_dnd || from_queues || from_devices;
  }
};

// type "ami": keys host, port, username, secret, events, channel, context, priority,
// originate_timeout_ms, caller_id, dial, astdb_dnd, device_state, presence_state,
// ping_seconds, connect_timeout_ms, action_timeout_ms, from_pbx, dnd_labels, pause_rules,
// queue_interface, voicemail, verify_actions. Mode "dial_command" (a block with from_pbx
// stands in any mode, and outside dial_command only reads); by default
// coalesced (only the latest state matters), 4 deliveries at once, and changes reported by
// the PBX itself (source pbx) are not sent back to it, except a logout because the user's
// phone went away, whose actions are carried out.
ConnectorType AmiConnectorType();

}  // namespace presence::connectors
