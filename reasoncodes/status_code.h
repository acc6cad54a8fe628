#pragma once

// The seven fixed presence status codes. They are part of the product's contract (reports,
// picklist text, connectors) and never configurable.

#include <optional>
#include <string_view>

namespace presence::reasoncodes {

enum class StatusCode : int {
  kOnline = 1,
  kOffline = 2,
  kAway = 3,
  kDnd = 4,
  kBusy = 5,
  kOnCall = 6,
  kLogout = 7,
};

inline constexpr int kMinStatusCode = 1;
inline constexpr int kMaxStatusCode = 7;

// "Online", "Offline", "Away", "DND", "Busy", "On a call", "Logout".
std::string_view StatusName(StatusCode code);

// The code for an integer 1-7; nullopt for anything else.
std::optional<StatusCode> StatusFromInt(long long value);

inline int ToInt(StatusCode code) { return static_cast<int>(code); }

}  // namespace presence::reasoncodes
