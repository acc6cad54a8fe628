#include "connectors/sip/documents/xml_text.h"

#include <cstdint>

namespace presence::connectors::sip {
namespace {

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// One UTF-8 character at the start of text: its code point and length, or length 0 when the
// bytes are not well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF
// included).
struct Decoded {
  uint32_t code_point = 0;
  size_t length = 0;
};

Decoded DecodeUtf8(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) return {lead, 1};
  size_t length = 0;
  uint32_t code_point = 0;
  uint32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return {};
  }
  if (text.size() < length) return {};
  for (size_t i = 1; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (!IsContinuation(byte)) return {};
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF) return {};
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return {};
  return {code_point, length};
}

// XML 1.0 section 2.2, Char.
bool IsXmlChar(uint32_t c) {
  if (c < 0x20) return c == 0x9 || c == 0xA || c == 0xD;
  return c != 0xFFFE && c != 0xFFFF;
}

void AppendEscaped(std::string& out, std::string_view text, bool attribute) {
  out.reserve(out.size() + text.size());
  size_t at = 0;
  while (at < text.size()) {
    const Decoded decoded = DecodeUtf8(text.substr(at));
    if (decoded.length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no UTF-8 character
      ++at;
      continue;
    }
    const std::string_view character = text.substr(at, decoded.length);
    at += decoded.length;
    if (!IsXmlChar(decoded.code_point)) continue;
    switch (decoded.code_point) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      default:
        out += character;
    }
  }
}

}  // namespace

std::string CleanText(std::string_view text, size_t max_bytes) {
  while (!text.empty() && IsXmlSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsXmlSpace(text.back())) text.remove_suffix(1);
  if (text.size() > max_bytes) {
    size_t cut = max_bytes;
    // The byte at the cut starts the first character left out; step back over the
    // continuation bytes of a character the cut would split.
    while (cut > 0 && IsContinuation(static_cast<unsigned char>(text[cut]))) --cut;
    text = text.substr(0, cut);
    while (!text.empty() && IsXmlSpace(text.back())) text.remove_suffix(1);
  }
  return std::string(text);
}

void AppendXmlText(std::string& out, std::string_view text) { AppendEscaped(out, text, false); }

void AppendXmlAttribute(std::string& out, std::string_view value) {
  AppendEscaped(out, value, true);
}

}  // namespace presence::connectors::sip
