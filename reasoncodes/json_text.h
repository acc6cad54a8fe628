#pragma once

// JSON text for hand-built bodies and answers (byte-exact, no intermediate objects).

#include <string>
#include <string_view>

namespace presence::reasoncodes {

// Appends `text` as a JSON string (quotes included), RFC 8259 section 7: escapes ", \ and
// control characters (\b \f \n \r \t by name, the rest as \u00XX) and replaces bytes that
// are not well-formed UTF-8 with U+FFFD, so the result is always valid JSON; other characters
// are kept as they are.
void AppendJsonString(std::string& out, std::string_view text);

// The same, returned.
std::string JsonString(std::string_view text);

}  // namespace presence::reasoncodes
