#pragma once

// Typed reads from parsed JSON for configuration loaders. Each read reports a problem as
// "path: what is wrong (what is allowed)" instead of throwing, so a loader can list every
// problem of a file at once.

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/enum_names.h"

namespace presence::json {

using Problems = std::vector<std::string>;
using Var = Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

void Report(Problems& problems, std::string_view path, std::string_view text);
std::string Child(std::string_view path, std::string_view key);  // "states[2]" + "label"

// Lengths in characters (UTF-8 code points), as a person counts them.
std::size_t CountCharacters(std::string_view text);
// "\"text\"", cut after 40 characters so one long value cannot flood a message.
std::string Quote(std::string_view text);
std::string JoinWords(std::span<const std::string_view> words);  // "a, b, c"
// The candidate a typo most likely meant ("colour" -> "color"), if one is close enough.
std::optional<std::string_view> ClosestWord(std::string_view word,
                                            std::span<const std::string_view> candidates);

// Parsed JSON holds nested values as Ptr; objects built in code may hold them by value.
Object::Ptr AsObject(const Var& value);
Array::Ptr AsArray(const Var& value);
// What a wrong value was, for "got ..." in messages.
std::string Describe(const Var& value);

// JSON has one number type, so 30.0 reads as 30; 3.5 is a problem.
std::optional<long long> ReadWholeNumber(const Var& value, std::string_view path,
                                         std::string_view range, Problems& problems);
std::optional<long long> ReadNumberInRange(const Var& value, std::string_view path, long long min,
                                           long long max, Problems& problems);
// object[key] in [min, max] when present; nullopt when absent (no problem) or invalid
// (reported at "<path>.<key>").
std::optional<long long> ReadOptionalNumber(const Object& object, std::string_view key,
                                            std::string_view path, long long min, long long max,
                                            Problems& problems);
std::optional<bool> ReadBool(const Var& value, std::string_view path, Problems& problems);
std::optional<std::string> ReadString(const Var& value, std::string_view path, Problems& problems);

// Every key of `object` not in `allowed` is a problem, with a suggestion for a likely typo.
void CheckKeys(const Object& object, std::string_view path,
               std::span<const std::string_view> allowed, Problems& problems);

// One of a fixed list of words; the word as the list spells it (a view into `choices`).
std::optional<std::string_view> ReadChoice(const Var& value, std::string_view path,
                                           std::string_view what,
                                           std::span<const std::string_view> choices,
                                           Problems& problems);

// One of an enum's names, mapped to its value.
template <class E, std::size_t N>
std::optional<E> ReadChoice(const Var& value, std::string_view path, std::string_view what,
                            const EnumNames<E, N>& choices, Problems& problems) {
  const std::array<std::string_view, N> names = choices.Names();
  std::optional<std::string_view> name = ReadChoice(value, path, what, names, problems);
  if (!name) return std::nullopt;
  return choices.Find(*name);
}

}  // namespace presence::json
