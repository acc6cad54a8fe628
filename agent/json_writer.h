#pragma once

// The product's JSON writer lives in common/ (one writer for the API, the stream and the
// connectors); this name keeps the agent's existing users unchanged.

#include "common/json_writer.h"

namespace presence::agent {
using common::JsonWriter;
}  // namespace presence::agent
