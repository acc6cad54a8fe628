#include "connectors/ami/ami_actions.h"

#include <utility>

namespace presence::connectors {
namespace {

using reasoncodes::ActionSet;
using reasoncodes::ForwardKind;

constexpr std::string_view kOn = "on";
constexpr std::string_view kOff = "off";
constexpr std::string_view kPaused = "paused";
constexpr std::string_view kNotPaused = "not paused";
constexpr std::string_view kNoQueue = "not in a queue";
constexpr std::string_view kMember = "member";
constexpr std::string_view kNotMember = "not a member";
constexpr std::string_view kQueuePrefix = "queue:";

// The AstDB family FreePBX keeps each forward in.
std::string_view ForwardFamily(ForwardKind kind) {
  switch (kind) {
    case ForwardKind::kUnconditional:
      return "CF";
    case ForwardKind::kBusy:
      return "CFB";
    case ForwardKind::kNoAnswer:
      return "CFU";
  }
  return "CF";
}

std::string ForwardItem(ForwardKind kind) {
  return "forward." + std::string(reasoncodes::ForwardKindName(kind));
}

bool IsQueueItem(const std::string& item) { return item.rfind(kQueuePrefix, 0) == 0; }

Error NotAnswered(const std::string& what, const Error& error) {
  return Error{"not_answered", what + ": " + error.message};
}

Error Refused(const std::string& what, const AmiMessage& response) {
  std::string message = response.Get("Message");
  return Error{"refused",
               what + " refused: " + (message.empty() ? response.Get("Response") : message)};
}

// Sends one action; an Error answer other than `harmless` is a refusal.
Result<AmiReply> Call(const AmiSend& send, AmiMessage action, const std::string& what,
                      std::string_view harmless = {}) {
  Result<AmiReply> reply = send(std::move(action));
  if (!reply) return NotAnswered(what, reply.error());
  const AmiMessage& response = reply->response;
  if (response.Is("Response", "Success")) return reply;
  if (!harmless.empty() && response.Is("Response", "Error") &&
      response.Get("Message") == harmless) {
    return reply;
  }
  return Refused(what, response);
}

// DBGet: the value, or "" when the entry does not exist.
Result<std::string> DbGet(const AmiSend& send, const std::string& family, const std::string& key) {
  AmiMessage action = AmiMessage::Action("DBGet");
  action.Add("Family", family).Add("Key", key);
  Result<AmiReply> reply =
      Call(send, std::move(action), "DBGet " + family + "/" + key, "Database entry not found");
  if (!reply) return reply.error();
  for (const AmiMessage& item : reply->events) {
    if (item.Is("Event", "DBGetResponse")) return item.Get("Val");
  }
  return std::string();
}

Status DbPut(const AmiSend& send, const std::string& family, const std::string& key,
             const std::string& value) {
  AmiMessage action = AmiMessage::Action("DBPut");
  action.Add("Family", family).Add("Key", key).Add("Val", value);
  Result<AmiReply> reply = Call(send, std::move(action), "DBPut " + family + "/" + key);
  if (!reply) return reply.error();
  return Status::Ok();
}

// Deleting what is already gone is fine: off either way.
Status DbDel(const AmiSend& send, const std::string& family, const std::string& key) {
  AmiMessage action = AmiMessage::Action("DBDel");
  action.Add("Family", family).Add("Key", key);
  Result<AmiReply> reply = Call(send, std::move(action), "DBDel " + family + "/" + key,
                                "Database entry could not be deleted");
  if (!reply) return reply.error();
  return Status::Ok();
}

Status SetDeviceState(const AmiSend& send, const std::string& name, std::string_view value) {
  AmiMessage action = AmiMessage::Action("Setvar");
  action.Add("Variable", "DEVICE_STATE(Custom:" + name + ")").Add("Value", value);
  Result<AmiReply> reply =
      Call(send, std::move(action), "Setvar DEVICE_STATE(Custom:" + name + ")");
  if (!reply) return reply.error();
  return Status::Ok();
}

// The user's devices as FreePBX keeps them ("&"-separated; none when there is no entry).
Result<std::vector<std::string>> Devices(const AmiSend& send, const std::string& extension) {
  Result<std::string> value = DbGet(send, "AMPUSER", extension + "/device");
  if (!value) return value.error();
  std::vector<std::string> devices;
  for (std::size_t at = 0; at <= value->size();) {
    std::size_t end = std::min(value->find('&', at), value->size());
    if (end > at) devices.push_back(value->substr(at, end - at));
    at = end + 1;
  }
  return devices;
}

// The lamps: `main` (Custom:<main>) if not empty, and <per_device><device> for each device.
Status SetLamps(const AmiSend& send, const std::string& extension, const std::string& main,
                const std::string& per_device, std::string_view value) {
  if (!main.empty()) {
    if (Status status = SetDeviceState(send, main, value); !status.ok()) return status;
  }
  Result<std::vector<std::string>> devices = Devices(send, extension);
  if (!devices) return devices.error();
  for (const std::string& device : *devices) {
    if (Status status = SetDeviceState(send, per_device + device, value); !status.ok()) {
      return status;
    }
  }
  return Status::Ok();
}

// The member's queues from one QueueStatus (Member filter: exact interface).
struct MemberQueues {
  std::map<std::string, bool> paused;  // by queue
  std::string reason;                  // the pause reason of the first paused queue
};

Result<MemberQueues> ReadMember(const AmiSend& send, const AmiActionTarget& target) {
  AmiMessage action = AmiMessage::Action("QueueStatus");
  action.Add("Member", target.interface);
  Result<AmiReply> reply = Call(send, std::move(action), "QueueStatus " + target.interface);
  if (!reply) return reply.error();
  MemberQueues member;
  for (const AmiMessage& item : reply->events) {
    if (!item.Is("Event", "QueueMember")) continue;
    // Member matches the interface or the member name: only the interface counts here.
    if (item.Get("Location") != target.interface) continue;
    const bool paused = item.Get("Paused") == "1";
    if (paused && member.reason.empty()) member.reason = item.Get("PausedReason");
    member.paused[item.Get("Queue")] = paused;
  }
  return member;
}

std::string Described(const std::string& item, const std::string& value) {
  return item + " " + value;
}

// "paused (Lunch)": a pause is only what was asked for with the state's label as its reason.
std::string PausedWith(const std::string& reason) {
  return std::string(kPaused) + " (" + reason + ")";
}

}  // namespace

bool ItemHolds(const std::string& item, const std::string& wanted, const std::string& held) {
  return held == wanted || (item == "queue_pause" && held == kNoQueue);
}

AmiItems WantedItems(const ActionSet& set, const AmiActionTarget& target) {
  AmiItems items;
  if (set.dnd) items["dnd"] = std::string(*set.dnd ? kOn : kOff);
  for (const auto& [kind, to] : set.forward) {
    std::string value = to.empty() ? std::string(kOff) : to;
    if (to == reasoncodes::kVoicemailTarget) value = target.voicemail;
    items[ForwardItem(kind)] = value;
  }
  if (set.follow_me) items["follow_me"] = std::string(*set.follow_me ? kOn : kOff);
  if (set.queue_pause) {
    items["queue_pause"] = *set.queue_pause ? PausedWith(target.label) : std::string(kNotPaused);
  }
  for (const auto& [queue, penalty] : set.queues) {
    items[std::string(kQueuePrefix) + queue] = std::string(penalty ? kMember : kNotMember);
  }
  return items;
}

Result<AmiItems> ReadItems(const AmiSend& send, const AmiItems& wanted,
                           const AmiActionTarget& target) {
  AmiItems held;
  const std::string& ext = target.extension;
  std::optional<MemberQueues> member;
  for (const auto& [item, value] : wanted) {
    if (item == "dnd") {
      Result<std::string> got = DbGet(send, "DND", ext);
      if (!got) return got.error();
      held[item] = std::string(*got == "YES" ? kOn : kOff);
    } else if (item == "follow_me") {
      Result<std::string> got = DbGet(send, "AMPUSER", ext + "/followme/ddial");
      if (!got) return got.error();
      held[item] = std::string(*got == "DIRECT" ? kOn : kOff);
    } else if (item.rfind("forward.", 0) == 0) {
      for (ForwardKind kind : reasoncodes::kForwardKinds) {
        if (ForwardItem(kind) != item) continue;
        Result<std::string> got = DbGet(send, std::string(ForwardFamily(kind)), ext);
        if (!got) return got.error();
        held[item] = got->empty() ? std::string(kOff) : *got;
      }
    } else if (item == "queue_pause" || IsQueueItem(item)) {
      if (!member) {
        Result<MemberQueues> read = ReadMember(send, target);
        if (!read) return read.error();
        member = std::move(*read);
      }
      if (item == "queue_pause") {
        // Paused only when paused in every queue the member is in.
        bool any_unpaused = false;
        for (const auto& [queue, paused] : member->paused) any_unpaused |= !paused;
        held[item] = member->paused.empty() ? std::string(kNoQueue)
                     : any_unpaused         ? std::string(kNotPaused)
                                            : PausedWith(member->reason);
      } else {
        const std::string queue = item.substr(kQueuePrefix.size());
        held[item] = std::string(member->paused.count(queue) ? kMember : kNotMember);
      }
    }
  }
  return held;
}

Status ApplyItems(const AmiSend& send, const AmiItems& wanted, const AmiItems& held,
                  const AmiActionTarget& target, const ActionSet& set, const AmiApplyHooks& hooks,
                  std::vector<std::string>& sent) {
  const std::string& ext = target.extension;
  auto differs = [&](const std::string& item) {
    auto want = wanted.find(item);
    if (want == wanted.end()) return false;
    auto have = held.find(item);
    return have == held.end() || !ItemHolds(item, want->second, have->second);
  };
  if (differs("dnd")) {
    const bool on = wanted.at("dnd") == kOn;
    if (hooks.expect_dnd) hooks.expect_dnd(on);
    Status status = on ? DbPut(send, "DND", ext, "YES") : DbDel(send, "DND", ext);
    if (status.ok() && target.device_state) {
      status = SetLamps(send, ext, "DND" + ext, "DEVDND", on ? "BUSY" : "UNAVAILABLE");
    }
    if (!status.ok()) return status;
    sent.push_back(on ? "DND on" : "DND off");
  }
  for (ForwardKind kind : reasoncodes::kForwardKinds) {
    const std::string item = ForwardItem(kind);
    if (!differs(item)) continue;
    const std::string& to = wanted.at(item);
    const std::string family(ForwardFamily(kind));
    const bool on = to != kOff;
    Status status = on ? DbPut(send, family, ext, to) : DbDel(send, family, ext);
    // Only the unconditional forward has lamps in FreePBX.
    if (status.ok() && target.device_state && kind == ForwardKind::kUnconditional) {
      status = SetLamps(send, ext, "CF" + ext, "DEVCF", on ? "BUSY" : "NOT_INUSE");
    }
    if (!status.ok()) return status;
    sent.push_back(family + (on ? " " + to : " off"));
  }
  if (differs("follow_me")) {
    const bool on = wanted.at("follow_me") == kOn;
    Status status = DbPut(send, "AMPUSER", ext + "/followme/ddial", on ? "DIRECT" : "EXTENSION");
    if (status.ok() && target.device_state) {
      status = SetLamps(send, ext, "", "FOLLOWME", on ? "BUSY" : "NOT_INUSE");
    }
    if (!status.ok()) return status;
    sent.push_back(on ? "Follow Me on" : "Follow Me off");
  }
  // Removals before additions, and both before the pause: a pause reaches the queues the
  // member is in once the membership is right.
  for (bool adding : {false, true}) {
    for (const auto& [queue, penalty] : set.queues) {
      const std::string item = std::string(kQueuePrefix) + queue;
      if (!differs(item) || penalty.has_value() != adding) continue;
      AmiMessage action = AmiMessage::Action(adding ? "QueueAdd" : "QueueRemove");
      action.Add("Queue", queue).Add("Interface", target.interface);
      if (adding) {
        action.Add("Penalty", std::to_string(*penalty));
        if (set.queue_pause) action.Add("Paused", *set.queue_pause ? "true" : "false");
        if (set.queue_pause && *set.queue_pause) action.Add("Reason", target.label);
        if (!target.member_name.empty()) action.Add("MemberName", target.member_name);
      }
      const std::string what =
          std::string(adding ? "QueueAdd " : "QueueRemove ") + queue + " " + target.interface;
      // Already (not) there is what was wanted.
      Result<AmiReply> reply = Call(send, std::move(action), what,
                                    adding ? "Unable to add interface: Already there"
                                           : "Unable to remove interface: Not there");
      if (!reply) return reply.error();
      sent.push_back(Described(adding ? "joined" : "left", queue));
    }
  }
  // A member that was in no queue is paused or not by the QueueAdd that put it in one.
  if (differs("queue_pause")) {
    const bool paused = wanted.at("queue_pause") != kNotPaused;
    const std::string reason = paused ? target.label : std::string();
    if (hooks.expect_pause) hooks.expect_pause(paused, reason);
    AmiMessage action = AmiMessage::Action("QueuePause");
    action.Add("Interface", target.interface).Add("Paused", paused ? "true" : "false");
    if (paused) action.Add("Reason", reason);
    // A member the removals above took out of every queue has nothing to (un)pause.
    Result<AmiReply> reply =
        Call(send, std::move(action),
             std::string(paused ? "QueuePause " : "QueueUnpause ") + target.interface,
             "Interface not found");
    if (!reply) return reply.error();
    sent.push_back(paused ? "paused (" + reason + ")" : "unpaused");
  }
  return Status::Ok();
}

}  // namespace presence::connectors
