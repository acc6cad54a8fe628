#pragma once

// Who caused a change. Every interval in the ledger records it, so any report line can be
// explained, and connectors use it to avoid echoing a change back to where it came from.

#include <optional>
#include <string>
#include <string_view>

namespace presence::reasoncodes {

enum class Source {
  kAgent,       // the user's own picklist choice (softphone)
  kCrm,         // an integration acting for the user (CRM sync over REST)
  kSupervisor,  // a supervisor's override
  kCall,        // the engine reacting to a call (On a call, back to Ready, dial-out from DND)
  kWrapUp,      // the wrap-up timer (start and end of wrap-up)
  kSystem,      // the agent process itself (first sight of a user, start-up)
  kPbx,         // the phone system (login/logout reported by the PBX)
};

// "agent", "crm", "supervisor", "call", "wrap_up", "system", "pbx".
std::string_view SourceName(Source source);
std::optional<Source> SourceFromName(std::string_view name);
// "agent, crm, supervisor, call, wrap_up, system, pbx", for messages that list them.
std::string SourceNames();

}  // namespace presence::reasoncodes
