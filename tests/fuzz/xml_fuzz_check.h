#pragma once

// Checks shared by the PIDF and dialog-info fuzz targets: what every string those readers
// return must be, whatever bytes came in (pidf.h: trimmed, at most kMaxTextBytes, and UTF-8,
// as the parser gives all text in UTF-8 whatever the document's encoding).

#include <cstddef>
#include <string_view>

#include "connectors/sip/documents/pidf.h"
#include "tests/fuzz/fuzz_check.h"

namespace presence::fuzz {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF). Written here
// rather than taken from the code under test.
inline bool IsUtf8(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    const auto lead = static_cast<unsigned char>(text[at]);
    size_t length = 1;
    unsigned value = lead;
    unsigned minimum = 0;
    if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, value = lead & 0x07, minimum = 0x10000;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, value = lead & 0x0F, minimum = 0x800;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2, value = lead & 0x1F, minimum = 0x80;
    } else if (lead >= 0x80) {
      return false;
    }
    if (at + length > text.size()) return false;
    for (size_t i = 1; i < length; ++i) {
      const auto byte = static_cast<unsigned char>(text[at + i]);
      if ((byte & 0xC0) != 0x80) return false;
      value = (value << 6) | (byte & 0x3F);
    }
    if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
      return false;
    }
    at += length;
  }
  return true;
}

inline bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline void CheckText(std::string_view text) {
  FUZZ_CHECK(text.size() <= connectors::sip::kMaxTextBytes);
  FUZZ_CHECK(IsUtf8(text));
  if (!text.empty()) {
    FUZZ_CHECK(!IsXmlSpace(text.front()));
    FUZZ_CHECK(!IsXmlSpace(text.back()));
  }
}

}  // namespace presence::fuzz
