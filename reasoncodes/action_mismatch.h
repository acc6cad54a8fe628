#pragma once

// One thing the phone system holds for a user that differs from what their state asked for
// (issue 14), as a connector found when it read it back. Shown per user in the agent view,
// the dashboard and /metrics.

#include <string>

#include "common/time.h"

namespace presence::reasoncodes {

struct ActionMismatch {
  std::string connector;  // the connector's configured name
  // "dnd", "forward.unconditional", "forward.busy", "forward.no_answer", "follow_me",
  // "queue_pause", "queue:<name>"
  std::string item;
  std::string wanted;  // "on", "off", a forward target, "paused (Lunch)", "member", ...
  std::string actual;
  // Changed on the phone after the state's actions were applied: left as the user set it
  // until their next change of state (the agent does not fight the user). Otherwise the
  // PBX did not take what was sent, and the delivery is retried.
  bool manual = false;
  Timestamp since{};
  bool operator==(const ActionMismatch&) const = default;
};

}  // namespace presence::reasoncodes
