#pragma once

// Poco::JSON values (objects built by handlers, connectors' Details, parsed documents) written
// through the product's one JSON writer, so they come out as valid UTF-8 like everything else.

#include <Poco/Dynamic/Var.h>

#include <string>

#include "common/json_writer.h"

namespace presence::json {

// Writes `value` as one JSON value: objects keep their key order (insertion order for
// JSON_PRESERVE_KEY_ORDER objects, sorted otherwise, as Poco's Stringifier does), numbers and
// booleans as Poco formats them, non-finite numbers and empty values as null, anything else
// as a string.
void WriteVar(JsonWriter& out, const Poco::Dynamic::Var& value);

// The same, as text.
std::string JsonText(const Poco::Dynamic::Var& value);

}  // namespace presence::json
