#include "connectors/sip/sip_inbound.h"

#include <algorithm>
#include <cctype>

namespace presence::connectors::sip {
namespace {

// The engine's own bounds (agent/engine/engine.h) for what one user's feed may hold.
constexpr size_t kMaxFollowedDialogs = 16;
constexpr size_t kMaxCallIdBytes = 256;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool Own(std::string_view id) { return id.substr(0, kOwnIdPrefix.size()) == kOwnIdPrefix; }

std::string IdPart(std::string_view user) {
  std::string id;
  for (char c : user) {
    const bool plain =
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    id += plain ? c : '_';
  }
  return id;
}

bool Active(DialogState state) { return state != DialogState::kTerminated; }

}  // namespace

std::string OwnTupleId(std::string_view user) { return std::string(kOwnIdPrefix) + IdPart(user); }
std::string OwnPersonId(std::string_view user) {
  return std::string(kOwnIdPrefix) + "p-" + IdPart(user);
}

ForeignPresence ForeignPart(const Pidf& document) {
  ForeignPresence foreign;
  bool own_tuple = false;
  for (const PidfTuple& tuple : document.tuples) {
    if (Own(tuple.id)) {
      own_tuple = true;
      continue;
    }
    if (tuple.open) foreign.basics.push_back(*tuple.open);
    for (const std::string& note : tuple.notes) foreign.notes.push_back(note);
  }
  for (const PidfPerson& person : document.persons) {
    if (Own(person.id)) continue;
    foreign.activities.insert(person.activities.begin(), person.activities.end());
    for (const std::string& note : person.notes) foreign.notes.push_back(note);
  }
  // Document notes cannot be told apart once merged: they count as foreign only when the
  // agent's own tuple is not in the document.
  if (!own_tuple) {
    for (const std::string& note : document.notes) foreign.notes.push_back(note);
  }
  return foreign;
}

std::optional<std::string> MatchRules(const ForeignPresence& presence,
                                      const std::vector<PresenceRule>& rules,
                                      const std::vector<std::string>& labels) {
  if (presence.empty()) return std::nullopt;
  auto has_note = [&presence](std::string_view note) {
    return std::any_of(presence.notes.begin(), presence.notes.end(),
                       [note](const std::string& held) { return EqualsIgnoringCase(held, note); });
  };
  for (const PresenceRule& rule : rules) {
    if (rule.open && std::find(presence.basics.begin(), presence.basics.end(), *rule.open) ==
                         presence.basics.end()) {
      continue;
    }
    if (!rule.activity.empty() && !presence.activities.count(rule.activity)) continue;
    if (!rule.note.empty() && !has_note(rule.note)) continue;
    return rule.label;
  }
  for (const std::string& label : labels) {
    if (has_note(label)) return label;
  }
  return std::nullopt;
}

std::optional<std::string> InboundInterpreter::OnPresence(const std::string& user,
                                                          const std::optional<Pidf>& document,
                                                          bool first,
                                                          const std::vector<PresenceRule>& rules,
                                                          const std::vector<std::string>& labels) {
  UserState& state = users_[user];
  ForeignPresence foreign = document ? ForeignPart(*document) : ForeignPresence{};
  const bool changed = !state.presence || !(*state.presence == foreign);
  state.presence = foreign;
  if (first || !changed) return std::nullopt;
  return MatchRules(foreign, rules, labels);
}

std::vector<InboundEvent> InboundInterpreter::OnDialogs(const std::string& user,
                                                        const DialogInfo& info, bool first,
                                                        const std::set<std::string>& internal) {
  std::vector<InboundEvent> events;
  UserState& state = users_[user];
  if (!first && state.version && info.version && *info.version <= *state.version) return events;
  if (info.version) state.version = info.version;
  if (first && !info.version) state.version.reset();

  auto make = [&user](InboundEvent::Kind kind, const std::string& call_id) {
    InboundEvent event;
    event.kind = kind;
    event.user = user;
    event.call_id = call_id;
    return event;
  };
  // A call is named by its Call-ID; forked dialogs (two devices ringing for one user) share
  // it, and the call ends when the last of them ends.
  auto call_followed = [&state](const std::string& call_id, const std::string& except) {
    return std::any_of(state.dialogs.begin(), state.dialogs.end(), [&](const auto& entry) {
      return entry.first != except && entry.second.call_id == call_id;
    });
  };
  auto end_dialog = [&](std::map<std::string, Followed>::iterator followed,
                        std::optional<int64_t> duration) {
    const std::string call_id = followed->second.call_id;
    const std::string id = followed->first;
    state.dialogs.erase(followed);
    if (call_followed(call_id, id)) return;
    InboundEvent ended = make(InboundEvent::Kind::kCallEnded, call_id);
    if (duration && *duration >= 0) ended.duration_s = static_cast<double>(*duration);
    events.push_back(std::move(ended));
  };
  std::set<std::string> listed;
  for (const Dialog& dialog : info.dialogs) {
    listed.insert(dialog.id);
    auto followed = state.dialogs.find(dialog.id);
    if (!Active(dialog.state)) {
      if (followed != state.dialogs.end()) end_dialog(followed, dialog.duration);
      continue;  // (one never seen active is ignored)
    }
    if (followed == state.dialogs.end()) {
      if (state.dialogs.size() >= kMaxFollowedDialogs) continue;
      std::string call_id = dialog.call_id.empty() ? dialog.id : dialog.call_id;
      if (call_id.size() > kMaxCallIdBytes) call_id.resize(kMaxCallIdBytes);
      if (!call_followed(call_id, dialog.id)) {
        InboundEvent started = make(InboundEvent::Kind::kCallStarted, call_id);
        started.outbound = dialog.direction == "initiator";
        const std::string remote = UserPart(dialog.remote_identity);
        started.internal = !remote.empty() && internal.count(remote) > 0;
        events.push_back(std::move(started));
      }
      followed = state.dialogs.emplace(dialog.id, Followed{call_id, false}).first;
    }
    if (dialog.state == DialogState::kConfirmed && !followed->second.answered) {
      followed->second.answered = true;
      const std::string& call_id = followed->second.call_id;
      const bool answered_before =
          std::any_of(state.dialogs.begin(), state.dialogs.end(), [&](const auto& entry) {
            return entry.first != followed->first && entry.second.call_id == call_id &&
                   entry.second.answered;
          });
      if (!answered_before) events.push_back(make(InboundEvent::Kind::kCallAnswered, call_id));
    }
  }
  // A dialog a full document no longer lists has ended; not on the first NOTIFY of a
  // subscription (after a server restart it is empty until the PBX publishes again, while the
  // calls go on).
  if (info.full && !first) {
    std::vector<std::string> gone;
    for (const auto& [id, followed] : state.dialogs) {
      if (!listed.count(id)) gone.push_back(id);
    }
    for (const std::string& id : gone) end_dialog(state.dialogs.find(id), std::nullopt);
  }
  return events;
}

ReadOutcome InboundInterpreter::Read(const Notification& notification, const InboundRules& rules) {
  ReadOutcome outcome;
  if (notification.body.size() > kMaxDocumentBytes) {
    outcome.ignored = "body of " + std::to_string(notification.body.size()) + " bytes (at most " +
                      std::to_string(kMaxDocumentBytes) + ")";
    return outcome;
  }
  const bool presence = notification.event == "presence";
  const std::string_view expected = presence ? kPidfType : kDialogInfoType;
  if (!notification.body.empty() && !EqualsIgnoringCase(notification.content_type, expected)) {
    outcome.ignored = "content type \"" + notification.content_type.substr(0, 64) +
                      "\" (expected " + std::string(expected) + ")";
    return outcome;
  }
  if (presence) {
    std::optional<Pidf> document;
    if (!notification.body.empty()) {
      Result<Pidf> read = ReadPidf(notification.body);
      if (!read.ok()) {
        outcome.ignored = read.error().code + ": " + read.error().message;
        return outcome;
      }
      document = std::move(read).value();
    }
    if (auto label = OnPresence(notification.user, document, notification.first,
                                rules.from_presence, rules.labels)) {
      InboundEvent event;
      event.kind = InboundEvent::Kind::kSelect;
      event.user = notification.user;
      event.label = *label;
      outcome.events.push_back(std::move(event));
    }
    return outcome;
  }
  if (notification.event != "dialog") {
    outcome.ignored = "event package \"" + notification.event.substr(0, 64) + "\"";
    return outcome;
  }
  DialogInfo info;  // an empty body: nothing published for the user, a full empty view
  if (!notification.body.empty()) {
    Result<DialogInfo> read = ReadDialogInfo(notification.body);
    if (!read.ok()) {
      outcome.ignored = read.error().code + ": " + read.error().message;
      return outcome;
    }
    info = std::move(read).value();
  }
  outcome.events = OnDialogs(notification.user, info, notification.first, rules.internal);
  return outcome;
}

void InboundInterpreter::Forget(const std::string& user) { users_.erase(user); }

size_t InboundInterpreter::active_dialogs(const std::string& user) const {
  auto found = users_.find(user);
  return found == users_.end() ? 0 : found->second.dialogs.size();
}

std::string UserPart(std::string_view uri) {
  std::string_view text = uri;
  while (!text.empty() && (text.front() == ' ' || text.front() == '<')) text.remove_prefix(1);
  for (std::string_view scheme : {"sips:", "sip:", "tel:"}) {
    if (text.size() >= scheme.size() && EqualsIgnoringCase(text.substr(0, scheme.size()), scheme)) {
      text.remove_prefix(scheme.size());
      break;
    }
  }
  size_t end = text.find_first_of("@;>?");
  return std::string(text.substr(0, end));
}

}  // namespace presence::connectors::sip
