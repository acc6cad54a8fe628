#include "reasoncodes/catalog.h"

#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <utility>

namespace presence::reasoncodes {
namespace {

std::optional<std::size_t> IndexOfLabel(const std::vector<State>& states, std::string_view label) {
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (states[i].label == label) return i;
  }
  return std::nullopt;
}

// The first state with the first status in `preference` that any state has: the logout role
// prefers any Logout (7) state over an earlier Offline (2) one.
std::optional<std::size_t> IndexOfStatus(const std::vector<State>& states,
                                         std::initializer_list<StatusCode> preference) {
  for (StatusCode status : preference) {
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (states[i].status == status) return i;
    }
  }
  return std::nullopt;
}

// A configured label must exist; an empty one falls back to the first state of the role's
// status. Returns nullopt only when nothing is configured and no state fits.
std::optional<std::size_t> ResolveRole(const std::vector<State>& states,
                                       const std::string& configured, std::string_view setting,
                                       std::initializer_list<StatusCode> preference) {
  if (configured.empty()) return IndexOfStatus(states, preference);
  std::optional<std::size_t> index = IndexOfLabel(states, configured);
  if (!index) {
    throw std::invalid_argument("catalog: settings." + std::string(setting) + " \"" + configured +
                                "\" is not the label of a state");
  }
  return index;
}

std::size_t Required(std::optional<std::size_t> index, std::string_view role) {
  if (!index) {
    throw std::invalid_argument("catalog: no " + std::string(role) + " state can be found");
  }
  return *index;
}

void CheckProfile(const std::map<std::string, ActionSet>& profiles, const std::string& name,
                  const std::string& what) {
  if (name.empty() || profiles.contains(name)) return;
  throw std::invalid_argument("catalog: " + what + " \"" + name + "\" is not a profile");
}

}  // namespace

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kNone:
      return "none";
    case Mode::kDialCommand:
      return "dial_command";
    case Mode::kSkypeForBusiness:
      return "skype_for_business";
  }
  return "unknown";
}

std::string State::DisplayText() const {
  std::string text = label;
  text += " (";
  text += StatusName(status);
  text += ')';
  return text;
}

Catalog::Catalog(std::vector<State> states, Settings settings,
                 std::map<std::string, ActionSet> profiles, ActionSettings action_settings)
    : states_(std::move(states)),
      settings_(std::move(settings)),
      profiles_(std::move(profiles)),
      action_settings_(std::move(action_settings)) {
  CheckProfile(profiles_, action_settings_.default_profile, "actions.default_profile");
  for (const State& state : states_) {
    CheckProfile(profiles_, state.profile, "the actions.profile of state \"" + state.label + "\"");
  }
  const Settings& s = settings_;
  ready_ =
      Required(ResolveRole(states_, s.ready_state, "ready_state", {StatusCode::kOnline}), "ready");
  wrap_up_ =
      ResolveRole(states_, s.wrap_up_state, "wrap_up_state", {StatusCode::kDnd}).value_or(kNoState);
  on_call_ = ResolveRole(states_, s.on_call_state, "on_call_state", {StatusCode::kOnCall})
                 .value_or(kNoState);
  logout_ = Required(ResolveRole(states_, s.logout_state, "logout_state",
                                 {StatusCode::kLogout, StatusCode::kOffline}),
                     "logout");
  login_ = s.login_state.empty()
               ? ready_
               : Required(ResolveRole(states_, s.login_state, "login_state", {}), "login");
  initial_ = s.initial_state.empty()
                 ? logout_
                 : Required(ResolveRole(states_, s.initial_state, "initial_state", {}), "initial");
  if (s.missed_calls) {
    missed_calls_ = Required(ResolveRole(states_, s.missed_calls->state, "missed_calls.state", {}),
                             "missed calls");
  }
}

const State* Catalog::Find(std::string_view label) const {
  std::optional<std::size_t> index = IndexOfLabel(states_, label);
  return index ? &states_[*index] : nullptr;
}

const ActionSet* Catalog::FindProfile(std::string_view name) const {
  auto it = profiles_.find(std::string(name));
  return it == profiles_.end() ? nullptr : &it->second;
}

std::vector<const State*> Catalog::Picklist() const {
  std::vector<const State*> picklist;
  for (const State& state : states_) {
    if (state.selectable) picklist.push_back(&state);
  }
  return picklist;
}

}  // namespace presence::reasoncodes
