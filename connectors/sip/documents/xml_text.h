#pragma once

// Text rules shared by the PIDF and dialog-info readers and writers (internal to this folder).

#include <cstddef>
#include <string>
#include <string_view>

namespace presence::connectors::sip {

// What the readers keep of a text or an attribute value: without leading and trailing XML
// whitespace (space, tab, CR, LF), then cut to at most max_bytes on a UTF-8 character
// boundary, then without the whitespace the cut left at the end.
std::string CleanText(std::string_view text, size_t max_bytes);

// Input quoted in an error message: cleaned and cut to a length that suits a log line.
inline std::string ForMessage(std::string_view text) { return CleanText(text, 80); }

// Appends text for element content or a (double- or single-quoted) attribute value: & < > " '
// as entities; in attributes also tab, LF and CR as character references (attribute value
// normalisation would turn them into spaces), in content CR (a parser reads a raw CR as LF).
// Bytes that are not UTF-8 become U+FFFD; characters XML 1.0 does not allow (C0 controls other
// than tab, LF, CR; U+FFFE, U+FFFF) are dropped. The result is always well-formed.
void AppendXmlText(std::string& out, std::string_view text);
void AppendXmlAttribute(std::string& out, std::string_view value);

}  // namespace presence::connectors::sip
