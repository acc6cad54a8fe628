#include "connectors/ami/ami_inbound.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace presence::connectors {
namespace {

constexpr std::string_view kPlaceholder = "{extension}";
constexpr std::string_view kDndDevice = "custom:dnd";  // Custom:DND<ext> (FreePBX)
constexpr std::size_t kEndedRemembered = 32;           // per user

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The template with its placeholder replaced, or nullopt when it has none.
std::optional<std::string> Expand(const std::string& pattern, const std::string& extension) {
  const std::size_t at = pattern.find(kPlaceholder);
  if (at == std::string::npos) return std::nullopt;
  std::string out = pattern;
  out.replace(at, kPlaceholder.size(), extension);
  return out;
}

// "PJSIP/1001-0000002a" -> "PJSIP/1001": Asterisk appends '-' and a sequence to the device.
std::optional<std::string_view> DeviceOf(std::string_view channel) {
  const std::size_t dash = channel.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == channel.size()) {
    return std::nullopt;
  }
  return channel.substr(0, dash);
}

// Uniqueids and Linkedids are "<epoch>.<n>" (or an Originate's ChannelId, often a UUID): a
// '/' never appears, so "ami-<Linkedid>/<n>" cannot collide with another Linkedid.
bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > AmiInbound::kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == ':' || c == ';' || c == '@';
  });
}

std::string CallKey(const std::string& user, const std::string& linkedid) {
  return user + '\n' + linkedid;
}

InboundEvent MakeEvent(InboundEvent::Kind kind, const std::string& user) {
  InboundEvent event;
  event.kind = kind;
  event.user = user;
  event.source = reasoncodes::Source::kPbx;
  return event;
}

}  // namespace

AmiInbound::AmiInbound(AmiInboundRules rules) : rules_(std::move(rules)) {}

void AmiInbound::SetRules(AmiInboundRules rules) {
  rules_ = std::move(rules);
  Rebuild();
}

void AmiInbound::SetUsers(std::map<std::string, std::string> extension_to_user) {
  extensions_ = std::move(extension_to_user);
  Rebuild();
  std::set<std::string> users;
  for (const auto& [extension, user] : extensions_) users.insert(user);
  for (auto call = calls_.begin(); call != calls_.end();) {
    if (users.count(call->second.user)) {
      ++call;
      continue;
    }
    for (const std::string& leg : call->second.legs) legs_.erase(leg);
    call = calls_.erase(call);
  }
  auto forget = [&users](auto& by_user) {
    std::erase_if(by_user, [&users](const auto& entry) { return !users.count(entry.first); });
  };
  forget(ended_);
  forget(dnd_);
  forget(pause_);
  std::erase_if(expectations_,
                [&users](const Expectation& expected) { return !users.count(expected.user); });
}

void AmiInbound::Rebuild() {
  devices_.clear();
  interfaces_.clear();
  for (const auto& [extension, user] : extensions_) {
    if (extension.empty()) continue;
    if (auto device = Expand(rules_.channel, extension)) devices_[Lower(*device)] = user;
    if (auto interface = Expand(rules_.queue_interface, extension)) {
      interfaces_[Lower(*interface)] = user;
    }
  }
}

const std::string* AmiInbound::ChannelUser(std::string_view channel) const {
  std::optional<std::string_view> device = DeviceOf(channel);
  if (!device) return nullptr;
  auto found = devices_.find(Lower(*device));
  return found == devices_.end() ? nullptr : &found->second;
}

const std::string* AmiInbound::InterfaceUser(std::string_view interface) const {
  auto found = interfaces_.find(Lower(interface));
  return found == interfaces_.end() ? nullptr : &found->second;
}

const std::string* AmiInbound::ExtensionUser(std::string_view extension) const {
  auto found = extensions_.find(std::string(extension));
  return found == extensions_.end() ? nullptr : &found->second;
}

// ---- reading ----------------------------------------------------------------------------------

std::vector<InboundEvent> AmiInbound::Read(const AmiMessage& event, double now) {
  ++counters_.read;
  const std::optional<std::string> name = event.Find("Event");
  if (!name || name->empty()) {
    ++counters_.malformed;
    return {};
  }
  std::vector<InboundEvent> out;
  if (*name == "Newchannel" || *name == "Newstate" || *name == "DialState" ||
      *name == "BlindTransfer" || *name == "AttendedTransfer" || *name == "BridgeLeave") {
    // Known, but what they tell comes with the events below (a transfer: Hangup and DialBegin).
    ++counters_.ignored;
  } else if (*name == "DialBegin" || *name == "DialEnd" || *name == "BridgeEnter" ||
             *name == "Hangup") {
    if (rules_.calls) {
      out = ReadCall(*name, event, now);
    } else {
      ++counters_.ignored;
    }
  } else if (name->starts_with("Agent")) {
    if (rules_.calls) {
      out = ReadAgent(*name, event, now);
    } else {
      ++counters_.ignored;
    }
  } else if (*name == "DeviceStateChange") {
    if (rules_.dnd) {
      out = ReadDnd(event, now);
    } else {
      ++counters_.ignored;
    }
  } else if (*name == "QueueMemberPause") {
    if (rules_.queues) {
      out = ReadPause(event, now);
    } else {
      ++counters_.ignored;
    }
  } else if (*name == "QueueMember") {
    BaselineQueueMember(event);
  } else if (*name == "DBGetResponse") {
    const std::optional<std::string> family = event.Find("Family");
    const std::optional<std::string> key = event.Find("Key");
    if (!family || !key) {
      ++counters_.malformed;
    } else if (*family != "DND") {
      ++counters_.ignored;
    } else {
      BaselineDnd(*key, event.Get("Val") == "YES");
    }
  } else {
    ++counters_.ignored;
  }
  return out;
}

std::vector<InboundEvent> AmiInbound::ReadCall(const std::string& name, const AmiMessage& event,
                                               double now) {
  std::vector<InboundEvent> out;
  if (name == "DialBegin" || name == "DialEnd") return ReadDial(event, name == "DialBegin", now);
  const std::optional<std::string> uniqueid = event.Find("Uniqueid");
  if (!uniqueid || !ValidId(*uniqueid)) {
    ++counters_.malformed;
    return out;
  }
  if (!legs_.count(*uniqueid)) {
    ++counters_.ignored;
    return out;
  }
  if (name == "BridgeEnter") {
    Answer(*uniqueid, now, out);
  } else {  // Hangup
    DropLeg(*uniqueid, now, out);
  }
  return out;
}

std::vector<InboundEvent> AmiInbound::ReadDial(const AmiMessage& event, bool begin, double now) {
  std::vector<InboundEvent> out;
  const std::string dest_channel = event.Get("DestChannel");
  const std::string dest_uniqueid = event.Get("DestUniqueid");
  if (dest_channel.empty() || !ValidId(dest_uniqueid)) {
    ++counters_.malformed;
    return out;
  }
  // The caller block is missing when nothing dialled (an Originate rings the phone).
  const std::optional<std::string> channel = event.Find("Channel");
  const std::string uniqueid = event.Get("Uniqueid");
  const bool has_caller = channel && !channel->empty();
  if (has_caller && !ValidId(uniqueid)) {
    ++counters_.malformed;
    return out;
  }
  const std::string* caller_user = has_caller ? ChannelUser(*channel) : nullptr;
  const std::string* dest_user = ChannelUser(dest_channel);
  if (!begin) {
    if (!event.Is("DialStatus", "ANSWER")) {
      ++counters_.ignored;  // the losing leg hangs up; its Hangup ends it
      return out;
    }
    bool used = false;
    for (const std::string* id : {&dest_uniqueid, has_caller ? &uniqueid : nullptr}) {
      if (id != nullptr && legs_.count(*id)) {
        Answer(*id, now, out);
        used = true;
      }
    }
    if (!used) ++counters_.ignored;
    return out;
  }
  if (dest_user == nullptr && caller_user == nullptr) {
    ++counters_.ignored;
    return out;
  }
  if (dest_user != nullptr && has_caller) {
    std::string linkedid = event.Get("DestLinkedid");
    if (!ValidId(linkedid)) linkedid = event.Get("Linkedid");
    if (!ValidId(linkedid)) {
      ++counters_.malformed;
      return out;
    }
    const bool internal = caller_user != nullptr || ExtensionUser(event.Get("CallerIDNum"));
    AddLeg(*dest_user, dest_uniqueid, linkedid, false, internal, out);
  }
  if (caller_user != nullptr) {
    const std::string linkedid = event.Get("Linkedid");
    if (!ValidId(linkedid)) {
      ++counters_.malformed;
      return out;
    }
    const std::string dialled = event.Get("Exten");
    const bool internal = dest_user != nullptr || ExtensionUser(dialled) != nullptr;
    AddLeg(*caller_user, uniqueid, linkedid, true, internal, out);
  }
  if (dest_user != nullptr && !has_caller && caller_user == nullptr) ++counters_.ignored;
  return out;
}

std::vector<InboundEvent> AmiInbound::ReadAgent(const std::string& name, const AmiMessage& event,
                                                double now) {
  std::vector<InboundEvent> out;
  const bool called = name == "AgentCalled";
  const bool connect = name == "AgentConnect";
  const bool done = name == "AgentComplete" || name == "AgentDump" || name == "AgentRingNoAnswer";
  if (!called && !connect && !done) {
    ++counters_.ignored;
    return out;
  }
  const std::optional<std::string> interface = event.Find("Interface");
  const std::string dest_uniqueid = event.Get("DestUniqueid");
  if (!interface || !ValidId(dest_uniqueid)) {
    ++counters_.malformed;
    return out;
  }
  if (done || (connect && legs_.count(dest_uniqueid))) {
    if (!legs_.count(dest_uniqueid)) {
      ++counters_.ignored;
      return out;
    }
    if (connect) {
      Answer(dest_uniqueid, now, out);
    } else {
      DropLeg(dest_uniqueid, now, out);
    }
    return out;
  }
  const std::string* user = InterfaceUser(*interface);
  if (user == nullptr) {
    ++counters_.ignored;
    return out;
  }
  std::string linkedid = event.Get("Linkedid");  // the queue caller's: the call as a whole
  if (!ValidId(linkedid)) linkedid = event.Get("DestLinkedid");
  if (!ValidId(linkedid)) {
    ++counters_.malformed;
    return out;
  }
  const bool internal = ChannelUser(event.Get("Channel")) != nullptr ||
                        ExtensionUser(event.Get("CallerIDNum")) != nullptr;
  AddLeg(*user, dest_uniqueid, linkedid, false, internal, out);
  if (connect) Answer(dest_uniqueid, now, out);  // an AgentConnect with no AgentCalled seen
  return out;
}

// ---- calls ------------------------------------------------------------------------------------

int AmiInbound::NextGeneration(const std::string& user, const std::string& linkedid) const {
  int generation = 1;
  if (auto ended = ended_.find(user); ended != ended_.end()) {
    for (const auto& [id, number] : ended->second) {
      if (id == linkedid) generation = std::max(generation, number + 1);
    }
  }
  return generation;
}

void AmiInbound::AddLeg(const std::string& user, const std::string& uniqueid,
                        const std::string& linkedid, bool outbound, bool internal,
                        std::vector<InboundEvent>& out) {
  if (auto leg = legs_.find(uniqueid); leg != legs_.end()) return;  // known already
  if (legs_.size() >= kMaxLegs) {
    ++counters_.overflow;
    return;
  }
  const std::string key = CallKey(user, linkedid);
  auto call = calls_.find(key);
  if (call == calls_.end()) {
    const std::size_t active = static_cast<std::size_t>(
        std::count_if(calls_.begin(), calls_.end(),
                      [&user](const auto& entry) { return entry.second.user == user; }));
    if (active >= kMaxCallsPerUser) {
      ++counters_.overflow;
      return;
    }
    Call started;
    started.user = user;
    started.linkedid = linkedid;
    started.generation = NextGeneration(user, linkedid);
    started.id = "ami-" + linkedid;
    if (started.generation > 1) started.id += "/" + std::to_string(started.generation);
    started.outbound = outbound;
    started.internal = internal;
    call = calls_.emplace(key, std::move(started)).first;
    InboundEvent event = MakeEvent(InboundEvent::Kind::kCallStarted, user);
    event.call_id = call->second.id;
    event.outbound = outbound;
    event.internal = internal;
    out.push_back(std::move(event));
    ++counters_.calls_started;
  } else if (call->second.legs.size() >= kMaxLegsPerCall) {
    ++counters_.overflow;
    return;
  }
  call->second.legs.insert(uniqueid);
  legs_[uniqueid] = key;
}

void AmiInbound::Answer(const std::string& uniqueid, double now, std::vector<InboundEvent>& out) {
  auto leg = legs_.find(uniqueid);
  if (leg == legs_.end()) return;
  Call& call = calls_.at(leg->second);
  if (call.answered_at) return;
  call.answered_at = now;
  InboundEvent event = MakeEvent(InboundEvent::Kind::kCallAnswered, call.user);
  event.call_id = call.id;
  event.outbound = call.outbound;
  event.internal = call.internal;
  out.push_back(std::move(event));
  ++counters_.calls_answered;
}

void AmiInbound::DropLeg(const std::string& uniqueid, double now, std::vector<InboundEvent>& out) {
  auto leg = legs_.find(uniqueid);
  if (leg == legs_.end()) return;
  const std::string key = leg->second;
  legs_.erase(leg);
  if (dropped_.insert(uniqueid).second) {
    dropped_order_.push_back(uniqueid);
    if (dropped_order_.size() > 1024) {
      dropped_.erase(dropped_order_.front());
      dropped_order_.pop_front();
    }
  }
  auto call = calls_.find(key);
  if (call == calls_.end()) return;
  call->second.legs.erase(uniqueid);
  if (call->second.legs.empty()) EndCall(key, now, out);
}

void AmiInbound::EndCall(const std::string& key, double now, std::vector<InboundEvent>& out) {
  auto call = calls_.find(key);
  if (call == calls_.end()) return;
  Call ended = std::move(call->second);
  calls_.erase(call);
  for (const std::string& leg : ended.legs) legs_.erase(leg);
  InboundEvent event = MakeEvent(InboundEvent::Kind::kCallEnded, ended.user);
  event.call_id = ended.id;
  event.outbound = ended.outbound;
  event.internal = ended.internal;
  event.duration_s = ended.answered_at ? std::max(0.0, now - *ended.answered_at) : 0.0;
  out.push_back(std::move(event));
  ++counters_.calls_ended;
  // Remember the generation so the next call under this Linkedid gets a new id.
  auto& remembered = ended_[ended.user];
  remembered.emplace_back(ended.linkedid, ended.generation);
  if (remembered.size() > kEndedRemembered) remembered.pop_front();
}

std::size_t AmiInbound::active_calls(const std::string& user) const {
  return static_cast<std::size_t>(
      std::count_if(calls_.begin(), calls_.end(),
                    [&user](const auto& entry) { return entry.second.user == user; }));
}

// ---- DND and queue pause ----------------------------------------------------------------------

bool AmiInbound::TakeExpectation(const std::string& user, bool dnd, bool value,
                                 const std::string& reason, double now) {
  std::erase_if(expectations_, [now](const Expectation& expected) { return expected.until < now; });
  auto match =
      std::find_if(expectations_.begin(), expectations_.end(), [&](const Expectation& expected) {
        return expected.user == user && expected.dnd == dnd && expected.value == value &&
               (dnd || expected.reason == reason);
      });
  if (match == expectations_.end()) return false;
  expectations_.erase(match);
  return true;
}

// Expectations whose event never came (a reader without that kind of event, a PBX without
// lamps) expire here too, so the list stays small; at most kMaxExpectations are kept.
void AmiInbound::Expect(Expectation expectation, double now) {
  std::erase_if(expectations_, [now](const Expectation& e) { return e.until < now; });
  if (expectations_.size() >= kMaxExpectations) expectations_.erase(expectations_.begin());
  expectations_.push_back(std::move(expectation));
}

void AmiInbound::ExpectDnd(const std::string& user, bool on, double now) {
  Expect(Expectation{user, true, on, "", now + rules_.expect_seconds}, now);
}

void AmiInbound::ExpectPause(const std::string& user, bool paused, const std::string& reason,
                             double now) {
  // Asterisk empties the reason on unpause (app_queue.c set_queue_member_pause).
  Expect(Expectation{user, false, paused, paused ? reason : "", now + rules_.expect_seconds}, now);
}

void AmiInbound::Select(const std::string& user, const std::string& label,
                        std::vector<InboundEvent>& out) {
  InboundEvent event = MakeEvent(InboundEvent::Kind::kSelect, user);
  event.label = label;
  out.push_back(std::move(event));
  ++counters_.selects;
}

std::vector<InboundEvent> AmiInbound::ReadDnd(const AmiMessage& event, double now) {
  std::vector<InboundEvent> out;
  const std::optional<std::string> device = event.Find("Device");
  const std::optional<std::string> state = event.Find("State");
  if (!device || !state) {
    ++counters_.malformed;
    return out;
  }
  if (device->size() <= kDndDevice.size() ||
      Lower(device->substr(0, kDndDevice.size())) != kDndDevice) {
    ++counters_.ignored;  // any other device (phones, Custom:DEVDND<device>, ...)
    return out;
  }
  const std::string* user = ExtensionUser(device->substr(kDndDevice.size()));
  if (user == nullptr) {
    ++counters_.ignored;
    return out;
  }
  bool on;
  if (*state == "BUSY") {
    on = true;
  } else if (*state == "UNAVAILABLE" || *state == "NOT_INUSE") {
    on = false;
  } else {
    ++counters_.ignored;  // UNKNOWN, INVALID, ...: says nothing about DND
    return out;
  }
  const std::string owner = *user;
  auto known = dnd_.find(owner);
  const bool echo = TakeExpectation(owner, true, on, "", now);
  if (echo) {
    dnd_[owner] = on;
    ++counters_.echoes;
    return out;
  }
  if (known == dnd_.end()) {
    dnd_[owner] = on;
    ++counters_.baselines;
    return out;
  }
  if (known->second == on) {
    ++counters_.ignored;
    return out;
  }
  known->second = on;
  const std::optional<std::string>& label = on ? rules_.dnd_on_label : rules_.dnd_off_label;
  if (label && !label->empty()) Select(owner, *label, out);
  return out;
}

std::vector<InboundEvent> AmiInbound::ReadPause(const AmiMessage& event, double now) {
  std::vector<InboundEvent> out;
  const std::optional<std::string> interface = event.Find("Interface");
  const std::optional<std::string> paused = event.Find("Paused");
  if (!interface || !paused || (*paused != "0" && *paused != "1")) {
    ++counters_.malformed;
    return out;
  }
  const std::string* user = InterfaceUser(*interface);
  if (user == nullptr) {
    ++counters_.ignored;
    return out;
  }
  const std::string owner = *user;
  const PauseValue value{*paused == "1", event.Get("PausedReason")};
  auto known = pause_.find(owner);
  if (TakeExpectation(owner, false, value.paused, value.reason, now)) {
    pause_[owner] = value;
    ++counters_.echoes;
    return out;
  }
  if (known == pause_.end()) {
    pause_[owner] = value;
    ++counters_.baselines;
    return out;
  }
  if (known->second == value) {  // the same change reported for another queue
    ++counters_.ignored;
    return out;
  }
  known->second = value;
  for (const AmiPauseRule& rule : rules_.pause_rules) {
    if (rule.paused != value.paused) continue;
    if (!rule.reason.empty() && rule.reason != value.reason) continue;
    if (!rule.label.empty()) Select(owner, rule.label, out);
    break;
  }
  return out;
}

// ---- after a reconnect ------------------------------------------------------------------------

void AmiInbound::Reconnected() {
  dnd_.clear();
  pause_.clear();
}

void AmiInbound::BaselineDnd(const std::string& extension, bool on) {
  const std::string* user = ExtensionUser(extension);
  if (user == nullptr) {
    ++counters_.ignored;
    return;
  }
  dnd_[*user] = on;
  ++counters_.baselines;
}

void AmiInbound::BaselineQueueMember(const AmiMessage& queue_member) {
  // QueueStatus lists members with "Location" (the interface) in QueueMember events; newer
  // servers name it Interface in the member events: both are read.
  std::optional<std::string> interface = queue_member.Find("Location");
  if (!interface) interface = queue_member.Find("Interface");
  const std::optional<std::string> paused = queue_member.Find("Paused");
  if (!interface || !paused || (*paused != "0" && *paused != "1")) {
    ++counters_.malformed;
    return;
  }
  const std::string* user = InterfaceUser(*interface);
  if (user == nullptr) {
    ++counters_.ignored;
    return;
  }
  pause_[*user] = PauseValue{*paused == "1", queue_member.Get("PausedReason")};
  ++counters_.baselines;
}

std::set<std::string> AmiInbound::FollowedLegs() const {
  std::set<std::string> legs;
  for (const auto& [uniqueid, key] : legs_) legs.insert(uniqueid);
  return legs;
}

std::vector<InboundEvent> AmiInbound::Resync(const std::vector<AmiMessage>& channels, double now,
                                             const std::set<std::string>* followed_at_request) {
  std::vector<InboundEvent> out;
  std::map<std::string, const AmiMessage*> listed;  // by Uniqueid
  for (const AmiMessage& channel : channels) {
    const std::string uniqueid = channel.Get("Uniqueid");
    if (!ValidId(uniqueid)) {
      ++counters_.malformed;
      continue;
    }
    listed[uniqueid] = &channel;
  }
  // Followed legs that are gone.
  std::vector<std::string> gone;
  for (const auto& [uniqueid, key] : legs_) {
    if (listed.count(uniqueid)) continue;
    if (followed_at_request && !followed_at_request->count(uniqueid)) continue;  // began since
    gone.push_back(uniqueid);
  }
  for (const std::string& uniqueid : gone) DropLeg(uniqueid, now, out);
  if (!rules_.calls) return out;
  // Listed channels of users: adopted, or answered meanwhile.
  for (const auto& [uniqueid, channel] : listed) {
    const bool up = channel->Get("ChannelState") == "6";
    if (!legs_.count(uniqueid)) {
      if (dropped_.count(uniqueid)) continue;  // hung up while the list was on its way
      const std::string* user = ChannelUser(channel->Get("Channel"));
      const std::string linkedid = channel->Get("Linkedid");
      if (user == nullptr || !ValidId(linkedid)) continue;
      const bool outbound = linkedid == uniqueid;
      const bool internal = ExtensionUser(channel->Get("ConnectedLineNum")) != nullptr ||
                            (!outbound && ExtensionUser(channel->Get("CallerIDNum")) != nullptr);
      AddLeg(*user, uniqueid, linkedid, outbound, internal, out);
    }
    if (up) Answer(uniqueid, now, out);
  }
  return out;
}

}  // namespace presence::connectors
