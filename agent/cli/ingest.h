#pragma once

// Ingest: a live feed of events as JSON lines (a PBX or CRM bridge piping into the agent).
// Each line is answered with one JSON line, in input order, once its changes are durable:
//   {"line":3,"ok":true,"state":"Lunch","changes":[...]}
//   {"line":4,"ok":false,"error":{"code":"unknown_label","message":"..."}}
// The time is the agent's clock when the event is handled (an "at" field is not allowed).

#include <istream>
#include <ostream>

#include "agent/core/core.h"

namespace presence::agent {

// Reads until end of input, then waits for every answer. Returns the number of bad lines.
int RunIngest(Core& core, std::istream& in, std::ostream& out);

}  // namespace presence::agent
