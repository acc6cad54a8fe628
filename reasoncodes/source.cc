#include "reasoncodes/source.h"

#include <array>
#include <utility>

namespace presence::reasoncodes {
namespace {

constexpr std::array<std::pair<Source, std::string_view>, 7> kNames = {{
    {Source::kAgent, "agent"},
    {Source::kCrm, "crm"},
    {Source::kSupervisor, "supervisor"},
    {Source::kCall, "call"},
    {Source::kWrapUp, "wrap_up"},
    {Source::kSystem, "system"},
    {Source::kPbx, "pbx"},
}};

}  // namespace

std::string_view SourceName(Source source) {
  for (const auto& [value, name] : kNames) {
    if (value == source) return name;
  }
  return "unknown";
}

std::optional<Source> SourceFromName(std::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

}  // namespace presence::reasoncodes
