#pragma once

// What a connector learns from its system and hands to the agent: the phone system as a
// source (a state set on the phone, calls seen by the PBX). The service turns each into an
// engine event and posts it to the core, like an API request; the core stamps the time.

#include <functional>
#include <optional>
#include <string>

#include "reasoncodes/source.h"

namespace presence::connectors {

struct InboundEvent {
  enum class Kind { kSelect, kCallStarted, kCallAnswered, kCallEnded };
  Kind kind = Kind::kSelect;
  std::string user;
  std::string label;  // kSelect
  reasoncodes::Source source = reasoncodes::Source::kPbx;
  std::string call_id;  // call events
  bool outbound = false;
  bool internal = false;
  std::optional<double> duration_s;  // kCallEnded, when the system knows it
  std::string connector;             // who reported it (for logs)
};

// Called on the connector's own thread; must not block (it queues the event).
using InboundSink = std::function<void(InboundEvent)>;

}  // namespace presence::connectors
