#pragma once

// JSON text helpers shared by the tests: read a test's literal into an object, write a
// connector's details back to text, and list problems in a failure message.

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <string>

#include "common/json_read.h"

namespace presence::testing {

// Throws (Poco's JSON exception or std::invalid_argument) when `json` is not valid JSON or is
// not an object: a test's own literal being wrong is a bug in the test, not a case to handle.
Poco::JSON::Object::Ptr ParseObject(const std::string& json);

// Compact JSON, no whitespace, members in the object's own order.
std::string Stringify(const Poco::Dynamic::Var& value);

// One problem per line, each ending in a newline ("" when there are none).
std::string JoinProblems(const json::Problems& problems);

}  // namespace presence::testing
