#pragma once

// The dialog event package (RFC 4235): what a PBX or presence server NOTIFYs about a user's
// calls (a desk phone's BLF lamp). ReadDialogInfo reads untrusted bytes with the same limits
// as ReadPidf (see pidf.h) and is a fuzz target; WriteDialogInfo builds a document (what a PBX
// would publish; used by `sip-check`, tests and benchmarks).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace presence::connectors::sip {

inline constexpr std::string_view kDialogInfoType = "application/dialog-info+xml";

enum class DialogState { kTrying, kProceeding, kEarly, kConfirmed, kTerminated };
std::string_view DialogStateName(DialogState state);  // "trying", ..., "terminated"

struct Dialog {
  std::string id;       // required
  std::string call_id;  // the SIP Call-ID, when given
  std::string local_tag;
  std::string remote_tag;
  std::string direction;  // "initiator", "recipient" or empty
  DialogState state = DialogState::kTrying;
  std::string state_event;          // <state event="..."> (cancelled, rejected, ...), or empty
  std::optional<int> state_code;    // <state code="486">
  std::optional<int64_t> duration;  // <duration> in seconds
  std::string local_identity;       // <local><identity>URI</identity>
  std::string remote_identity;      // <remote><identity>URI</identity>
  std::string remote_display;       // <remote><identity display="...">
  friend bool operator==(const Dialog&, const Dialog&) = default;
};

struct DialogInfo {
  std::string entity;
  std::optional<uint64_t> version;  // absent or not a number: nullopt
  bool full = true;                 // state="full" (else "partial")
  std::vector<Dialog> dialogs;      // at most kMaxItems (pidf.h)
  friend bool operator==(const DialogInfo&, const DialogInfo&) = default;
};

// Errors: "too_large", "bad_xml" (as ReadPidf), "not_dialog_info" (wrong root or namespace),
// "bad_dialog" (a dialog without an id or with an unknown state; RFC 4235 requires both).
// Details: an empty body gives an empty DialogInfo (no entity, no dialogs), as ReadPidf does;
// a dialog without <state> is a bad_dialog too. Text and attributes are trimmed and cut as in
// ReadPidf; dialogs past kMaxItems are dropped unread. state="partial" sets full to false,
// anything else (or none) reads as full. A direction other than initiator/recipient reads as
// empty; a state code, duration or version that is not a whole decimal number (duration: not
// negative) as nullopt. Elements of other namespaces are skipped.
Result<DialogInfo> ReadDialogInfo(std::string_view body);

// A document with these dialogs (each with id, call-id, tags, direction, state, duration,
// local and remote identity when set). XML-escaped. version nullopt is written as 0.
std::string WriteDialogInfo(const DialogInfo& info);

}  // namespace presence::connectors::sip
