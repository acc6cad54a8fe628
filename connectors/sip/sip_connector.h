#pragma once

// SIP presence both ways (integrations.md 5): publishes every user's state to a presence
// server (Kamailio, OpenSIPS, a PBX such as Grandstream UCM or Asterisk's res_pjsip_pubsub)
// and, with "watch", subscribes to each user's presence and dialog events there, so a state
// set on the phone and the calls the PBX reports reach the agent (source pbx).
//
//   {"type": "sip_presence", "name": "kamailio", "server": "sip:10.0.0.5:5060",
//    "transport": "udp", "domain": "pbx.example", "username": "presence",
//    "password": {"env": "SIP_PASSWORD"}, "expires": 600, "watch": ["presence", "dialog"],
//    "from_presence": [{"activity": "busy", "label": "Do Not Disturb"}]}
//
// A user takes part when it has identities.sip: a SIP URI ("sip:1001@pbx.example") or a
// user part ("1001", then "@domain" is added). What a state publishes comes from its
// "mappings": {"sip": {"basic": "open"|"closed", "activity": "<RPID activity>", "note": "..."}}
// or, without one, from its status (see DefaultSipMapping); the note is the state's label.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "connectors/registry.h"
#include "connectors/sip/sip_inbound.h"
#include "connectors/sip/sip_stack.h"
#include "reasoncodes/status_code.h"

namespace presence::connectors::sip {

// What one state publishes.
struct SipMapping {
  bool open = true;
  std::string activity;  // empty: none
  std::string note;      // empty: the state's label
};

// Without a mapping block: Online open; Offline and Logout closed; Away "away"; DND and Busy
// "busy" (RPID has no DND); On a call "on-the-phone".
SipMapping DefaultSipMapping(reasoncodes::StatusCode status);

enum class OnLogout { kClosed, kRemove };

struct SipSettings final : ConnectorSettings {
  StackOptions stack;  // server, transport, local address, credentials, expires, keepalive
  std::string domain;  // for identities without "@" and the agent's own URI
  bool watch_presence = false;
  bool watch_dialog = false;
  std::vector<PresenceRule> from_presence;
  OnLogout on_logout = OnLogout::kClosed;
  // How long a delivery waits for the server's final answer (then it is retried; the request
  // may still be answered, and the retry sends the latest document).
  Millis request_timeout{10000};
};

// The presentity of a user, or nullopt when it takes no part (no identities.sip).
std::optional<std::string> UserAor(const reasoncodes::User& user, const std::string& domain);

// type "sip_presence": keys server, transport, domain, username, password, expires, watch,
// from_presence, on_logout, keepalive_seconds, local_address, tls_ca_file, request_timeout_ms.
// Works in every mode. Coalesced, 8 deliveries at once.
ConnectorType SipPresenceConnectorType();

// The document the agent publishes for a change, for `sip-check` and tests.
std::string DocumentFor(const Change& change, const std::string& aor, const Directory& directory);

}  // namespace presence::connectors::sip
