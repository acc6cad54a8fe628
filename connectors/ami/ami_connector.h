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

#include <chrono>
#include <string>

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
};

// type "ami": keys host, port, username, secret, events, channel, context, priority,
// originate_timeout_ms, caller_id, dial, astdb_dnd, device_state, presence_state,
// ping_seconds, connect_timeout_ms, action_timeout_ms. Mode "dial_command"; by default
// coalesced (only the latest state matters), 4 deliveries at once, and changes reported by
// the PBX itself (source pbx) are not sent back to it.
ConnectorType AmiConnectorType();

}  // namespace presence::connectors
