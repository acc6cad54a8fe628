#pragma once

// The one JSON writer of the product (API answers, stream updates, persisted engine state,
// connector wire formats): appends to one string with no intermediate objects. Commas are
// placed by the writer; the caller only opens, closes and names. The output is always valid
// JSON in valid UTF-8 (RFC 8259): strings escape ", \ and control characters, and bytes that
// are not well-formed UTF-8 become U+FFFD, so text from a request can never break a document.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace presence {

// Appends `text` as a JSON string (quotes included), RFC 8259 section 7: escapes ", \ and
// control characters (\b \f \n \r \t by name, the rest as \u00XX) and replaces bytes that
// are not well-formed UTF-8 with U+FFFD; other characters are kept as they are.
void AppendJsonString(std::string& out, std::string_view text);

// The same, returned.
std::string JsonString(std::string_view text);

// `text` with every byte sequence that is not well-formed UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);

// At most `max_characters` characters (UTF-8 code points) of `text`, then "..." when cut: for
// echoing what a client sent in a message without letting it flood the message.
std::string Excerpt(std::string_view text, std::size_t max_characters = 64);

class JsonWriter {
 public:
  JsonWriter() = default;
  // Room for `capacity` bytes up front, for a document whose size is known roughly.
  explicit JsonWriter(std::size_t capacity) { out_.reserve(capacity); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // The next member's name (inside an object).
  JsonWriter& Key(std::string_view name) {
    Separate();
    AppendJsonString(out_, name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& String(std::string_view value) {
    Separate();
    AppendJsonString(out_, value);
    return *this;
  }
  JsonWriter& Int(int64_t value) {
    Separate();
    out_ += std::to_string(value);
    return *this;
  }
  // The shortest text that reads back as `value` (std::to_chars); null when not finite, which
  // JSON cannot express.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value) {
    Separate();
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    out_ += "null";
    return *this;
  }
  // Already-encoded JSON (e.g. a cached view, a formatted number), inserted as one value. The
  // caller vouches that it is valid JSON.
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_ += json;
    return *this;
  }
  // Seconds from milliseconds, as FormatSeconds (common/time.h) writes them: "95", "95.5",
  // "-0.5" (never exponent notation).
  JsonWriter& Seconds(int64_t millis);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char bracket) {
    Separate();
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_ += bracket;
    first_.pop_back();
    return *this;
  }
  // A comma before every value but the first in its container; none right after a key.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace presence
