#pragma once

// The catalog: the configured presence states and the settings that drive the engine
// (seed 004: mode, wrap-up time, active-call state, time tracking, Omni-Channel).
// A Catalog is immutable once loaded (see catalog_loader.h) and safe to share between threads.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reasoncodes/actions.h"
#include "reasoncodes/mapping.h"
#include "reasoncodes/status_code.h"

namespace presence::reasoncodes {

// How a change reaches the phone system (seed 004 "Activate presence state").
enum class Mode {
  kNone,              // "none": not sent to the PBX, time tracking only
  kDialCommand,       // "dial_command": the reason code is dialled on the user's phone
  kSkypeForBusiness,  // "skype_for_business": reason codes are SfB availability numbers
};
std::string_view ModeName(Mode mode);

// Where an agent goes when its calls (and any wrap-up) are over and nothing is pending.
enum class ReturnAfterCall {
  kReady,     // "ready": Ready for Calls, as seed 004 describes (default)
  kPrevious,  // "previous": the state the agent was in when the calls began (Amazon Connect's way)
};

struct State {
  std::string label;        // unique, 1-64 characters
  std::string reason_code;  // dialled / reported; empty means nothing is dialled
  StatusCode status = StatusCode::kOnline;
  bool selectable = true;       // agents may pick it in the picklist
  std::string color;            // "#rrggbb" for the dashboard
  int alert_after_seconds = 0;  // dashboard threshold; 0 = none
  // How long a user may spend in this state per day (settings.time_zone), summed over the day;
  // 0 = no budget, 1-86400. Shown counting down on the agent page, over-budget users are
  // marked on the dashboard.
  int budget_seconds_per_day = 0;
  // Per-connector mapping blocks, keyed by connector type ("teams", "omni_channel", ...), kept
  // as read: each connector type validates and reads its own block (mapping.h).
  Mappings mappings;
  // What the state asks of the phone system (actions.h): its own members, and the profile it
  // names ("" = none; the user's profile applies).
  std::optional<ActionSet> actions;
  std::string profile;

  // "Ready for Calls (Online)": what the picklist shows.
  std::string DisplayText() const;
};

// settings.missed_calls: an agent who lets `after` offered calls in a row ring out while Ready
// is moved to `state`, and back to Ready after return_after_seconds (0 = stays).
struct MissedCalls {
  int after = 1;                 // 1-20
  std::string state;             // a state of the catalog, not a ready, signed-off or call role
  int return_after_seconds = 0;  // 0 = stay, 1-3600
};

struct Settings {
  Mode mode = Mode::kNone;
  int wrap_up_seconds = 0;         // 0 = off, 1-999
  bool wrap_up_locked = false;     // a choice during wrap-up waits for its end instead of ending it
  bool active_call_state = false;  // On a call while a call is active
  bool time_tracking = false;
  int tracking_update_seconds = 60;  // 1-999
  bool omni_channel = false;
  // IANA zone of report days and buckets and of the CRM sync's days ("Europe/Berlin").
  std::string time_zone = "UTC";
  ReturnAfterCall return_after_call = ReturnAfterCall::kReady;
  // Role labels as configured (empty = the default for that role; see Catalog accessors).
  std::string ready_state;
  std::string wrap_up_state;
  std::string on_call_state;
  std::string login_state;
  std::string logout_state;
  std::string initial_state;
  std::optional<MissedCalls> missed_calls;  // absent = off
};

class Catalog {
 public:
  // Built by the loader after validation: every role below resolves to a state. Throws
  // std::invalid_argument when a configured role label is not in `states`, or when no ready or
  // logout state can be found (a programming error: LoadCatalog reports these as problems).
  // Also throws std::invalid_argument when a state or action_settings.default_profile names a
  // profile that is not in `profiles`.
  Catalog(std::vector<State> states, Settings settings,
          std::map<std::string, ActionSet> profiles = {}, ActionSettings action_settings = {});

  const std::vector<State>& states() const { return states_; }
  const Settings& settings() const { return settings_; }
  // The top-level "profiles" by name and "actions" block (actions.h).
  const std::map<std::string, ActionSet>& profiles() const { return profiles_; }
  const ActionSettings& action_settings() const { return action_settings_; }
  // The profile with this name, or nullptr.
  const ActionSet* FindProfile(std::string_view name) const;

  // The state with this exact label, or nullptr.
  const State* Find(std::string_view label) const;
  // The states agents may pick, in catalog order.
  std::vector<const State*> Picklist() const;

  // Role states. ready(), login(), logout() and initial() always exist. wrap_up() is the
  // configured wrap-up state or the first DND (4) state, on_call() the configured one or the
  // first On a call (6) state; either is nullptr when no state fits. The loader guarantees
  // wrap_up() when wrap_up_seconds > 0 and on_call() when active_call_state is on.
  // The references stay valid for the life of this Catalog (copies get their own).
  const State& ready() const { return states_[ready_]; }
  const State* wrap_up() const { return StateAt(wrap_up_); }
  const State* on_call() const { return StateAt(on_call_); }
  const State& login() const { return states_[login_]; }
  const State& logout() const { return states_[logout_]; }
  const State& initial() const { return states_[initial_]; }
  // The settings.missed_calls state, or nullptr when missed calls are off.
  const State* missed_calls_state() const { return StateAt(missed_calls_); }

 private:
  // Roles are kept as indexes into states_, not pointers, so that the compiler-generated copy
  // and move keep every role pointing into the object's own vector.
  static constexpr std::size_t kNoState = static_cast<std::size_t>(-1);
  const State* StateAt(std::size_t index) const {
    return index == kNoState ? nullptr : &states_[index];
  }

  std::vector<State> states_;
  Settings settings_;
  std::map<std::string, ActionSet> profiles_;
  ActionSettings action_settings_;
  std::size_t ready_ = kNoState;
  std::size_t wrap_up_ = kNoState;
  std::size_t on_call_ = kNoState;
  std::size_t login_ = kNoState;
  std::size_t logout_ = kNoState;
  std::size_t initial_ = kNoState;
  std::size_t missed_calls_ = kNoState;
};

}  // namespace presence::reasoncodes
