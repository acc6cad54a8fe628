#pragma once

// A streaming JSON writer for the hot paths (API answers, stream updates, persisted engine
// state): appends to one string with no intermediate objects. Commas are placed by the writer;
// the caller only opens, closes and names. Strings are escaped by reasoncodes::AppendJsonString.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "reasoncodes/json_text.h"

namespace presence::agent {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // The next member's name (inside an object).
  JsonWriter& Key(std::string_view name) {
    Separate();
    Quoted(name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& String(std::string_view value) {
    Separate();
    Quoted(value);
    return *this;
  }
  JsonWriter& Int(int64_t value) {
    Separate();
    out_ += std::to_string(value);
    return *this;
  }
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
  // Already-encoded JSON (e.g. a cached view), inserted as one value.
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_ += json;
    return *this;
  }
  // Seconds from milliseconds: "95" or "95.5" (never exponent notation).
  JsonWriter& Seconds(int64_t millis) {
    Separate();
    out_ += std::to_string(millis / 1000);
    if (int64_t fraction = millis % 1000; fraction != 0) {
      char digits[8];
      std::snprintf(digits, sizeof digits, ".%03lld",
                    static_cast<long long>(fraction < 0 ? -fraction : fraction));
      std::string_view text(digits);
      while (text.back() == '0') text.remove_suffix(1);
      out_ += text;
    }
    return *this;
  }

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
  void Quoted(std::string_view text) { reasoncodes::AppendJsonString(out_, text); }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace presence::agent
