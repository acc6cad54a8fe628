#pragma once

// What a connector learns from its system and hands to the agent: the phone system as a
// source (a state set on the phone, calls seen by the PBX). The service turns each into an
// engine event and posts it to the core, like an API request; the core stamps the time.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reasoncodes/action_mismatch.h"
#include "reasoncodes/source.h"

namespace presence::connectors {

struct InboundEvent {
  // kPbxStatus: what the connector found differing from the state's actions when it read
  // the phone system back (`mismatches`, empty when nothing differs any more); no change.
  // kLogout: the user's phone went away (unregistered): the agent logs the user out.
  enum class Kind { kSelect, kCallStarted, kCallAnswered, kCallEnded, kPbxStatus, kLogout };
  Kind kind = Kind::kSelect;
  std::string user;
  std::string label;  // kSelect
  reasoncodes::Source source = reasoncodes::Source::kPbx;
  std::string call_id;  // call events
  bool outbound = false;
  bool internal = false;
  std::optional<double> duration_s;                     // kCallEnded, when the system knows it
  std::string connector;                                // who reported it (its configured name)
  std::vector<reasoncodes::ActionMismatch> mismatches;  // kPbxStatus
};

// Called on the connector's own thread; must not block (it queues the event).
using InboundSink = std::function<void(InboundEvent)>;

}  // namespace presence::connectors
