#pragma once

// A state's phone-system actions (reasoncodes/actions.h) carried out on Asterisk/FreePBX over
// AMI, and read back (issue 14). Where FreePBX keeps each thing (facts from the FreePBX
// donotdisturb, callforward and findmefollow modules, and Asterisk's app_queue.c):
//   dnd                   AstDB DND/<ext> = YES, deleted for off (integrations.md 4.4)
//   forward.unconditional AstDB CF/<ext> = target, deleted for off
//   forward.busy          AstDB CFB/<ext>
//   forward.no_answer     AstDB CFU/<ext>
//   follow_me             AstDB AMPUSER/<ext>/followme/ddial = DIRECT (on) or EXTENSION (off)
//   queue_pause           QueuePause of the member's interface in every queue, reason = label
//   queue:<name>          QueueAdd (with the penalty) / QueueRemove of the interface
// With device_state the lamps FreePBX keeps are set too: Custom:DND<ext> and DEVDND<device>
// (BUSY / UNAVAILABLE), Custom:CF<ext> and DEVCF<device> (BUSY / NOT_INUSE), FOLLOWME<device>
// (BUSY / NOT_INUSE); the devices are AMPUSER/<ext>/device, "&"-separated.
//
// Only what differs from what the PBX holds is sent: every item the set manages is read first
// (DBGet, one QueueStatus for the member), and read again afterwards to verify.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "connectors/ami/ami_session.h"
#include "reasoncodes/actions.h"

namespace presence::connectors {

// Who the actions are for.
struct AmiActionTarget {
  std::string extension;
  std::string interface;  // the queue member interface ("PJSIP/1001", "Local/1001@from-queue/n")
  std::string member_name;
  std::string label;          // the state's label: the pause reason
  std::string voicemail;      // what a "voicemail" forward target becomes ("*1001")
  bool device_state = false;  // also set FreePBX's lamps
};

// Item -> value as text, the same words for what is wanted and what the PBX holds:
// "on"/"off" (dnd, follow_me), a target or "off" (forward.*), "paused (<reason>)"/"not
// paused"/"not in a queue" (queue_pause; the reason of a pause is the state's label),
// "member"/"not a member" (queue:<name>; the penalty is given when the member joins, not
// compared).
using AmiItems = std::map<std::string, std::string>;

// What the set asks for, as items (forward "voicemail" resolved through the target).
AmiItems WantedItems(const reasoncodes::ActionSet& set, const AmiActionTarget& target);

// Whether what the PBX holds for `item` satisfies what is wanted: equal, or a pause for a
// member that is in no queue (nothing to pause: a logout that leaves every queue).
bool ItemHolds(const std::string& item, const std::string& wanted, const std::string& held);

// How an action reaches the server: Send with its transport errors.
using AmiSend = std::function<Result<AmiReply>(AmiMessage)>;

// Errors below: code "not_answered" (the session's transport error: retry later) or
// "refused" (the PBX's own Error answer), the message naming the action ("DBPut CF/1001: ...").

// Reads the items `wanted` names from the PBX.
Result<AmiItems> ReadItems(const AmiSend& send, const AmiItems& wanted,
                           const AmiActionTarget& target);

// Sends what it takes to turn `held` into `wanted` (items equal in both are left alone), in
// the order dnd, forwards, follow_me, queue removals, additions, pause. `sent` lists what was
// done ("DND on", "CF 0170..."). `expect` is told of each DND / pause change before it is
// sent (the reader's echo suppression).
struct AmiApplyHooks {
  std::function<void(bool on)> expect_dnd;
  std::function<void(bool paused, const std::string& reason)> expect_pause;
};
Status ApplyItems(const AmiSend& send, const AmiItems& wanted, const AmiItems& held,
                  const AmiActionTarget& target, const reasoncodes::ActionSet& set,
                  const AmiApplyHooks& hooks, std::vector<std::string>& sent);

}  // namespace presence::connectors
