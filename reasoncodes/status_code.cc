#include "reasoncodes/status_code.h"

namespace presence::reasoncodes {

std::string_view StatusName(StatusCode code) {
  switch (code) {
    case StatusCode::kOnline:
      return "Online";
    case StatusCode::kOffline:
      return "Offline";
    case StatusCode::kAway:
      return "Away";
    case StatusCode::kDnd:
      return "DND";
    case StatusCode::kBusy:
      return "Busy";
    case StatusCode::kOnCall:
      return "On a call";
    case StatusCode::kLogout:
      return "Logout";
  }
  return "Unknown";
}

std::optional<StatusCode> StatusFromInt(long long value) {
  if (value < kMinStatusCode || value > kMaxStatusCode) return std::nullopt;
  return static_cast<StatusCode>(value);
}

}  // namespace presence::reasoncodes
