#pragma once

// A left-to-right reader for the small fixed-width text formats of times and dates (ParseTime,
// report zones and day filters). Hand-written because the libraries at hand read these forms
// more leniently than the API allows (see ParseTime in time.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/time.h"

namespace presence {

// Every step consumes exactly what it expects or reports failure without consuming, so a parse
// is a chain of && and anything unexpected ends it.
class TextScanner {
 public:
  explicit TextScanner(std::string_view text) : text_(text) {}

  // Exactly `width` ASCII digits (no sign, no spaces).
  bool Digits(int width, int* out) {
    if (text_.size() - pos_ < static_cast<size_t>(width)) return false;
    int value = 0;
    for (int i = 0; i < width; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    pos_ += width;
    *out = value;
    return true;
  }

  bool Literal(char c) {
    if (Done() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // One character out of `chars`, stored in *out when out is not null.
  bool OneOf(std::string_view chars, char* out = nullptr) {
    if (Done() || chars.find(text_[pos_]) == std::string_view::npos) return false;
    if (out != nullptr) *out = text_[pos_];
    ++pos_;
    return true;
  }

  // One or more digits (those after a '.'): the first three are milliseconds, the rest are
  // dropped.
  bool Fraction(Millis* out) {
    size_t start = pos_;
    int64_t value = 0;
    for (; !Done() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_) {
      if (pos_ - start < 3) value = value * 10 + (text_[pos_] - '0');
    }
    size_t count = pos_ - start;
    if (count == 0) return false;
    for (size_t i = count; i < 3; ++i) value *= 10;
    *out = Millis(value);
    return true;
  }

  bool Done() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// "YYYY-MM-DD", checked against the calendar (month lengths, leap years).
std::optional<std::chrono::sys_days> ScanDate(TextScanner& scan);

}  // namespace presence
