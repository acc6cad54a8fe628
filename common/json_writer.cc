#include "common/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>

#include "common/time.h"

namespace presence {
namespace {

bool Continuation(std::string_view text, std::size_t i, unsigned char low = 0x80,
                  unsigned char high = 0xBF) {
  if (i >= text.size()) return false;
  auto byte = static_cast<unsigned char>(text[i]);
  return byte >= low && byte <= high;
}

// Length of the well-formed UTF-8 sequence at text[i] (Unicode 15, table 3-7), or 0.
std::size_t Utf8Length(std::string_view text, std::size_t i) {
  auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return Continuation(text, i + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return Continuation(text, i + 1, low, high) && Continuation(text, i + 2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return Continuation(text, i + 1, low, high) && Continuation(text, i + 2) &&
                   Continuation(text, i + 3)
               ? 4
               : 0;
  }
  return 0;
}

void AppendEscaped(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  auto byte = static_cast<unsigned char>(c);
  out += "\\u00";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xF];
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    // A run of printable ASCII other than '"' and '\\' (nearly all of an id, a label or a time)
    // goes out in one append.
    std::size_t run = i;
    while (run < text.size()) {
      const auto c = static_cast<unsigned char>(text[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i == text.size()) break;
    }
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == '"' || byte == '\\') {
      AppendEscaped(out, text[i++]);
      continue;
    }
    std::size_t length = Utf8Length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  out += '"';
}

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t length = Utf8Length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string Excerpt(std::string_view text, std::size_t max_characters) {
  // A well-formed sequence is one character, and so is every byte that is not part of one
  // (it becomes one U+FFFD when written): a run of stray continuation bytes is cut too.
  std::size_t characters = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (++characters > max_characters) return std::string(text.substr(0, i)) + "...";
    const std::size_t length = Utf8Length(text, i);
    i += length == 0 ? 1 : length;
  }
  return std::string(text);
}

std::string JsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(out, text);
  return out;
}

JsonWriter& JsonWriter::Seconds(int64_t millis) {
  Separate();
  out_ += FormatSeconds(Millis(millis));
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  std::array<char, 32> buffer{};
  auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out_.append(buffer.data(), error == std::errc() ? end : buffer.data());
  return *this;
}

}  // namespace presence
