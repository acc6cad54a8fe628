#include "reasoncodes/source.h"

#include "common/enum_names.h"

namespace presence::reasoncodes {
namespace {

constexpr EnumNames<Source, 7> kNames = {{
    {Source::kAgent, "agent"},
    {Source::kCrm, "crm"},
    {Source::kSupervisor, "supervisor"},
    {Source::kCall, "call"},
    {Source::kWrapUp, "wrap_up"},
    {Source::kSystem, "system"},
    {Source::kPbx, "pbx"},
}};

}  // namespace

std::string_view SourceName(Source source) { return kNames.Name(source); }

std::optional<Source> SourceFromName(std::string_view name) { return kNames.Find(name); }

std::string SourceNames() { return kNames.List(); }

}  // namespace presence::reasoncodes
