// Typed reads from parsed JSON for configuration loaders: each read reports a problem
// ("path: what is wrong (what is allowed)") instead of throwing, so a loader can list every
// problem in a file at once.

#include "common/json_read.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace presence::json {
namespace {

constexpr std::size_t kMaxQuotedLength = 40;

}  // namespace

// ---- text helpers ----------------------------------------------------------------------------

void Report(Problems& problems, std::string_view path, std::string_view text) {
  std::string problem(path);
  problem += ": ";
  problem += text;
  problems.push_back(std::move(problem));
}

std::string Child(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}

bool IsUtf8Continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

// Lengths are in characters (UTF-8 code points), as a person counts them.
std::size_t CountCharacters(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsUtf8Continuation(c); }));
}

// "\"text\"", cut after kMaxQuotedLength characters so one long value cannot flood a message.
std::string Quote(std::string_view text) {
  std::size_t characters = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (IsUtf8Continuation(text[i])) continue;
    if (++characters > kMaxQuotedLength) return "\"" + std::string(text.substr(0, i)) + "...\"";
  }
  return "\"" + std::string(text) + "\"";
}

std::string JoinWords(std::span<const std::string_view> words) {
  std::string joined;
  for (std::string_view word : words) {
    if (!joined.empty()) joined += ", ";
    joined += word;
  }
  return joined;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

// The candidate a typo most likely meant ("colour" -> "color"), if one is close enough.
std::optional<std::string_view> ClosestWord(std::string_view word,
                                            std::span<const std::string_view> candidates) {
  std::size_t limit = std::min<std::size_t>(2, word.size() / 2);
  std::optional<std::string_view> best;
  std::size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    std::size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// ---- typed reads from Poco values ------------------------------------------------------------

// Parsed JSON holds nested values as Ptr; objects built in code may hold them by value.
Object::Ptr AsObject(const Var& value) {
  if (value.type() == typeid(Object::Ptr)) return value.extract<Object::Ptr>();
  if (value.type() == typeid(Object)) return new Object(value.extract<Object>());
  return nullptr;
}

Array::Ptr AsArray(const Var& value) {
  if (value.type() == typeid(Array::Ptr)) return value.extract<Array::Ptr>();
  if (value.type() == typeid(Array)) return new Array(value.extract<Array>());
  return nullptr;
}

// What a wrong value was, for "got ..." in messages. Poco counts a bool as an integer, so
// booleans are tested first.
std::string Describe(const Var& value) {
  if (value.isEmpty()) return "null";
  if (value.isBoolean()) return value.extract<bool>() ? "true" : "false";
  if (value.isString()) return "string " + Quote(value.convert<std::string>());
  if (value.isNumeric()) return "number " + value.convert<std::string>();
  if (AsObject(value)) return "an object";
  if (AsArray(value)) return "an array";
  return "a value of an unsupported type";
}

// JSON has one number type, so 30.0 is accepted as 30; 3.5 is not. Values beyond long long are
// clamped, which every range check here rejects.
std::optional<long long> ReadWholeNumber(const Var& value, std::string_view path,
                                         std::string_view range, Problems& problems) {
  if (value.isBoolean() || !value.isNumeric()) {
    Report(problems, path,
           "must be a whole number (" + std::string(range) + "), got " + Describe(value));
    return std::nullopt;
  }
  if (value.isInteger()) {
    if (value.isSigned()) return value.convert<std::int64_t>();
    auto number = value.convert<std::uint64_t>();
    return number > static_cast<std::uint64_t>(LLONG_MAX) ? LLONG_MAX
                                                          : static_cast<long long>(number);
  }
  double number = value.convert<double>();
  if (!std::isfinite(number) || std::trunc(number) != number) {
    Report(problems, path,
           value.convert<std::string>() + " must be a whole number (" + std::string(range) + ")");
    return std::nullopt;
  }
  if (std::fabs(number) >= 9e18) return number < 0 ? LLONG_MIN : LLONG_MAX;
  return static_cast<long long>(number);
}

std::optional<long long> ReadNumberInRange(const Var& value, std::string_view path, long long min,
                                           long long max, Problems& problems) {
  std::string range = std::to_string(min) + "-" + std::to_string(max);
  std::optional<long long> number = ReadWholeNumber(value, path, range, problems);
  if (number && (*number < min || *number > max)) {
    Report(problems, path, value.convert<std::string>() + " is out of range (" + range + ")");
    return std::nullopt;
  }
  return number;
}

std::optional<long long> ReadOptionalNumber(const Object& object, std::string_view key,
                                            std::string_view path, long long min, long long max,
                                            Problems& problems) {
  const std::string name(key);
  if (!object.has(name)) return std::nullopt;
  return ReadNumberInRange(object.get(name), Child(path, key), min, max, problems);
}

std::optional<bool> ReadBool(const Var& value, std::string_view path, Problems& problems) {
  if (value.isBoolean()) return value.extract<bool>();
  Report(problems, path, "must be true or false, got " + Describe(value));
  return std::nullopt;
}

std::optional<std::string> ReadString(const Var& value, std::string_view path, Problems& problems) {
  if (value.isString()) return value.convert<std::string>();
  Report(problems, path, "must be a string, got " + Describe(value));
  return std::nullopt;
}

void CheckKeys(const Object& object, std::string_view path,
               std::span<const std::string_view> allowed, Problems& problems) {
  for (const auto& entry : object) {
    const std::string& key = entry.first;
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string text = "unknown key";
    if (std::optional<std::string_view> near = ClosestWord(key, allowed)) {
      text += ", did you mean " + Quote(*near) + "?";
    }
    Report(problems, Child(path, key), text + " (allowed: " + JoinWords(allowed) + ")");
  }
}

std::optional<std::string_view> ReadChoice(const Var& value, std::string_view path,
                                           std::string_view what,
                                           std::span<const std::string_view> choices,
                                           Problems& problems) {
  std::optional<std::string> text = ReadString(value, path, problems);
  if (!text) return std::nullopt;
  for (std::string_view choice : choices) {
    if (choice == *text) return choice;
  }
  Report(problems, path,
         Quote(*text) + " is not " + std::string(what) + " (" + JoinWords(choices) + ")");
  return std::nullopt;
}

}  // namespace presence::json
