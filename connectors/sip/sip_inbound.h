#pragma once

// What the sip_presence connector makes of the NOTIFYs it receives: pure rules, no I/O, table
// tested (tests/connectors/sip/sip_inbound_test.cc).
//
// Presence (PIDF): the part of the document that is not the agent's own publication (tuples
// and persons whose id starts with kOwnIdPrefix are the agent's; presence servers merge every
// publisher's tuples into one document) is compared with what the previous NOTIFY held. When
// it changed, the rules are tried in order and the first that matches names the label to
// select (source pbx). The first NOTIFY of a subscription only records the baseline: it is
// the state as it was, not a change, and after a server restart it would otherwise re-apply
// an old state. The agent's own publications therefore never come back as changes.
//
// Dialogs (RFC 4235): each dialog is followed by its id. trying/proceeding/early ->
// call_started, confirmed -> call_started (if not yet) and call_answered, terminated ->
// call_ended; a dialog that disappears from a full document ended too, except on the first
// NOTIFY of a subscription (after a server restart that one is empty until the PBX publishes
// again, while the calls go on). A terminated dialog never seen active is ignored (a full
// document after a re-subscription lists old ones). Forked dialogs sharing a Call-ID are one
// call: started by the first, answered by the first answered, ended with the last. The
// call id is the dialog's SIP Call-ID (its id when none is given), so a softphone that
// reports the same call by its SIP Call-ID and the PBX name one call, and the engine counts
// it once (it ignores a second start of an active call and any event of an ended one).
// Versions: a NOTIFY older than the last one of the subscription is ignored.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/inbound.h"
#include "connectors/sip/documents/dialog_info.h"
#include "connectors/sip/documents/pidf.h"

namespace presence::connectors::sip {

inline constexpr std::string_view kOwnIdPrefix = "pa-";

// The ids of what the agent publishes for a user ("pa-1001", "pa-p-1001"): XML IDs made of
// the user id's letters, digits, '-', '_' and '.', others as '_'.
std::string OwnTupleId(std::string_view user);
std::string OwnPersonId(std::string_view user);

// A rule from what the phone system publishes to a label. Every field that is set must match:
// basic ("open"/"closed") of any foreign tuple, an activity of any foreign person, a note
// (tuple, person or document note) equal ignoring case.
struct PresenceRule {
  std::optional<bool> open;
  std::string activity;
  std::string note;
  std::string label;
};

// What a foreign document says, in a comparable form.
struct ForeignPresence {
  std::vector<bool> basics;
  std::set<std::string> activities;
  std::vector<std::string> notes;
  bool empty() const { return basics.empty() && activities.empty() && notes.empty(); }
  bool operator==(const ForeignPresence&) const = default;
};
ForeignPresence ForeignPart(const Pidf& document);

// The first rule that matches, then (without rules, or none matching) a foreign note equal to
// one of `labels` ignoring case (the phone shows the same names), else nullopt.
std::optional<std::string> MatchRules(const ForeignPresence& presence,
                                      const std::vector<PresenceRule>& rules,
                                      const std::vector<std::string>& labels);

// A NOTIFY that arrived in one of the subscriptions (SIP thread). It has been answered 200.
struct Notification {
  std::string user;
  std::string event;  // "presence" or "dialog"
  std::string content_type;
  std::string body;  // at most kMaxDocumentBytes (larger ones are counted, not passed)
  std::string subscription_state;  // "active", "pending", "terminated"
  bool first = false;              // the first NOTIFY of this subscription (a new baseline)
};
// What a NOTIFY came to: events for the agent, or why it was ignored.
struct ReadOutcome {
  std::vector<InboundEvent> events;
  std::string ignored;  // empty unless the NOTIFY was ignored (bad body, wrong type, too big)
};

// What the rules need to know of the configuration in force.
struct InboundRules {
  std::vector<PresenceRule> from_presence;
  std::vector<std::string> labels;  // selectable labels (a foreign note naming one selects it)
  std::set<std::string> internal;   // numbers and SIP user parts of configured users
};

class InboundInterpreter {
 public:
  // A presence NOTIFY's document for `user` (nullopt: an empty body, nothing published).
  // Returns the label to select, if any.
  std::optional<std::string> OnPresence(const std::string& user,
                                        const std::optional<Pidf>& document, bool first,
                                        const std::vector<PresenceRule>& rules,
                                        const std::vector<std::string>& labels);

  // A dialog NOTIFY's document for `user`. `internal`: the numbers and SIP user parts of the
  // other configured users (a call with one of them is internal).
  std::vector<InboundEvent> OnDialogs(const std::string& user, const DialogInfo& info, bool first,
                                      const std::set<std::string>& internal);

  // A whole NOTIFY: checks its size and content type, reads the body (a body that cannot be
  // read changes nothing and is reported in `ignored`), then OnPresence or OnDialogs. Events
  // come with source pbx.
  ReadOutcome Read(const Notification& notification, const InboundRules& rules);

  // A user no longer watched: forget what was followed.
  void Forget(const std::string& user);

  size_t active_dialogs(const std::string& user) const;

 private:
  struct Followed {
    std::string call_id;
    bool answered = false;
  };
  struct UserState {
    std::optional<ForeignPresence> presence;  // the last foreign part seen
    std::optional<uint64_t> version;
    std::map<std::string, Followed> dialogs;  // by dialog id
  };
  std::map<std::string, UserState> users_;
};

// The user part of a SIP or tel URI ("sip:1002@pbx" -> "1002", "tel:+4930123" -> "+4930123"),
// or the text itself when it is no URI.
std::string UserPart(std::string_view uri);

}  // namespace presence::connectors::sip
