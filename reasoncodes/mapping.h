#pragma once

// A state's per-connector mapping blocks, as configured:
//   "mappings": {"teams": {"availability": "Busy", "activity": "InACall"}, "ami": {...}}
// The catalog does not know what each connector takes: it keeps every block as it was read,
// and each connector type checks its own blocks when the configuration is loaded (see
// connectors/connector_config.h, ForEachStateMapping).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>

namespace presence::reasoncodes {

// A nested object or array inside a block, as its compact JSON text ("[1,2]", "{\"a\":1}").
// No connector takes one: it is kept so that a connector can say what it got.
struct MappingJson {
  std::string text;
  bool operator==(const MappingJson&) const = default;
};

// One member's value with its JSON type: null, true/false, a whole number (unsigned only
// above the int64 range), a number with a fraction or exponent, text, or nested JSON.
using MappingValue = std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double,
                                  std::string, MappingJson>;

// A block's members by name.
using MappingBlock = std::map<std::string, MappingValue, std::less<>>;

// A state's blocks by connector type ("teams", "omni_channel", ...).
using Mappings = std::map<std::string, MappingBlock, std::less<>>;

}  // namespace presence::reasoncodes
