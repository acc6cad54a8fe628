#pragma once

// Microsoft Graph presence on the wire (integrations.md section 1): the client-credentials token
// request and answer (1.1), the bodies of setPresence (1.2), setUserPreferredPresence and
// clearUserPreferredPresence (1.3) and clearPresence (1.4), the error envelope (1.6), ISO-8601
// durations, the availability/activity pairs each call accepts, and the default mapping from a
// presence state to a pair (Skype for Business availability codes, section 2.1). Pure: no I/O.

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/json_read.h"
#include "common/result.h"
#include "reasoncodes/catalog.h"
#include "reasoncodes/status_code.h"

namespace presence::connectors {

// An availability with its activity ("Busy"/"InACall"). Pairs returned by this header view
// the static tables below, so they outlive any parsed text.
struct PresencePair {
  std::string_view availability;
  std::string_view activity;
  friend bool operator==(const PresencePair&, const PresencePair&) = default;
};

// "Busy/InACall"
std::string PairText(PresencePair pair);

// The pairs setPresence accepts (1.2). DoNotDisturb/Presenting only exists in later revisions
// of the documentation.
inline constexpr std::array<PresencePair, 5> kSetPresencePairs = {{
    {"Available", "Available"},
    {"Busy", "InACall"},
    {"Busy", "InAConferenceCall"},
    {"Away", "Away"},
    {"DoNotDisturb", "Presenting"},
}};

// The pairs setUserPreferredPresence accepts (1.3). Offline/OffWork is "appear offline".
inline constexpr std::array<PresencePair, 6> kPreferredPresencePairs = {{
    {"Available", "Available"},
    {"Busy", "Busy"},
    {"DoNotDisturb", "DoNotDisturb"},
    {"BeRightBack", "BeRightBack"},
    {"Away", "Away"},
    {"Offline", "OffWork"},
}};

// What the application's own session shows while a preferred presence is in force: a
// preferred presence is only visible while at least one session exists (1.3).
inline constexpr PresencePair kKeepAlivePair{"Available", "Available"};

bool IsSetPresencePair(PresencePair pair);
bool IsPreferredPresencePair(PresencePair pair);
// The table entry with these exact (case-sensitive) names from either table, or nullopt.
std::optional<PresencePair> FindPresencePair(std::string_view availability,
                                             std::string_view activity);
// "Available/Available, Busy/InACall, ..." for messages.
std::string PairList(std::span<const PresencePair> pairs);

// A state's "teams" mapping block {"availability": ..., "activity": ...}; `path` is the block's
// ("states[2].mappings.teams"). Both keys are required and the pair must be one that
// setPresence or setUserPreferredPresence accepts; every problem is reported.
std::optional<PresencePair> ReadTeamsMapping(const json::Object& block, std::string_view path,
                                             json::Problems& problems);

// The Skype for Business availability a reason code publishes (2.1): "3500" Available,
// "6500" Busy, "9500" DoNotDisturb, "12500" BeRightBack, "15500" Away, "18500" Offline/OffWork.
std::optional<PresencePair> SkypeAvailabilityPair(std::string_view reason_code);
// The pair for a presence status code 1-7 when nothing more specific is configured.
PresencePair StatusPresencePair(reasoncodes::StatusCode status);
// The pair a state shows in Teams: its explicit mapping, else (in skype_for_business mode) the
// availability its reason code stands for, else the one of its status.
PresencePair ChoosePresencePair(std::optional<PresencePair> mapping, std::string_view reason_code,
                                reasoncodes::StatusCode status, reasoncodes::Mode mode);

// ISO-8601 durations as Graph uses them ("PT1H", "PT1H30M", "PT90S"). Parsing accepts
// P[nD]T[nH][nM][nS] with whole numbers (at least one part); formatting writes the shortest
// canonical form ("PT0S" for zero).
std::optional<std::chrono::seconds> ParseIsoDuration(std::string_view text);
std::string FormatIsoDuration(std::chrono::seconds duration);
// setPresence's expirationDuration range (1.2).
inline constexpr std::chrono::seconds kMinExpiration{5 * 60};
inline constexpr std::chrono::seconds kMaxExpiration{4 * 60 * 60};

// 8-4-4-4-12 hexadecimal digits (client ids, tenant ids, Entra object ids).
bool IsGuid(std::string_view text);
// A verified tenant domain such as "contoso.onmicrosoft.com": dot-separated labels of letters,
// digits and inner hyphens, at least two labels.
bool IsTenantDomain(std::string_view text);

// The token request (1.1).
inline constexpr std::string_view kGraphScope = "https://graph.microsoft.com/.default";
std::string GraphTokenUrl(std::string_view login_url, std::string_view tenant);
// client_id, scope, client_secret, grant_type=client_credentials, form-encoded in that order.
std::string GraphTokenForm(std::string_view client_id, std::string_view client_secret);

struct GraphToken {
  std::string access_token;
  std::chrono::seconds expires_in{0};
};
// The token endpoint's answer. A refusal (400/401 with the AAD error JSON) gives the AAD
// "error" as the code ("invalid_client") and a message with its error_description; an answer
// that cannot be read gives code "bad_token_response". Messages never hold the token.
Result<GraphToken> ParseGraphTokenResponse(int status, std::string_view body);

// "<graph_url>/users/<user>/presence/<action>" (the user is an Entra object id).
std::string GraphPresenceUrl(std::string_view graph_url, std::string_view user,
                             std::string_view action);

// Request bodies, byte for byte as 1.2-1.4 show them.
std::string SetPresenceBody(std::string_view session_id, PresencePair pair,
                            std::chrono::seconds expiration);
std::string SetUserPreferredPresenceBody(PresencePair pair,
                                         std::optional<std::chrono::seconds> expiration);
std::string ClearUserPreferredPresenceBody();  // "{}"
std::string ClearPresenceBody(std::string_view session_id);

// The Graph error envelope {"error":{"code":...,"message":...,"innerError":{"code":...}}} (1.6).
// Callers branch on code (and inner_code), never on message. A body that is not an envelope
// gives empty codes and a message "unreadable error body".
struct GraphError {
  std::string code;
  std::string message;
  std::string inner_code;  // innerError.code when present
};
GraphError ParseGraphError(std::string_view body);

}  // namespace presence::connectors
