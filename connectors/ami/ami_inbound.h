#pragma once

// What the AMI connector makes of the events Asterisk sends (issue 14, "from_pbx"): pure rules,
// no I/O, table tested (tests/connectors/ami/ami_inbound_test.cc) with the transcripts of
// tests/fakes/ami_scenarios.h. The SIP counterpart is connectors/sip/sip_inbound.h.
//
// Calls (integrations.md 4.7; apps/app_queue.c for Agent*). A channel belongs to a user when
// its name is the user's expanded `channel` template, '-' and a suffix ("PJSIP/1001-0000002a").
// Each such channel (a "leg", named by its Uniqueid) joins the user's call of its Linkedid:
//  - DialBegin whose Dest channel is the user's -> an inbound call starts (outbound=false);
//  - DialBegin whose caller channel is the user's -> an outbound call starts (outbound=true);
//    a DialBegin with no caller (an Originate ringing the phone) starts nothing: the phone's
//    own Dial after answering does;
//  - AgentCalled whose Interface is the user's `queue_interface` -> an inbound call starts, its
//    leg being the member channel (DestUniqueid: "Local/1001@from-queue-...;1" for FreePBX).
//    A queue call seen both ways shares the caller's Linkedid and so is ONE call;
//  - DialEnd ANSWER (of the user's leg, either side), BridgeEnter of a leg, AgentConnect ->
//    call_answered (once per call);
//  - Hangup of a leg, AgentComplete / AgentDump / AgentRingNoAnswer of a member leg remove
//    it; the call ends (call_ended) when its last leg is gone, with duration_s = end time -
//    answer time, or 0 when never answered.
// Call ids are "ami-<Linkedid>", so two legs (forks, a Local channel and the phone behind it)
// count once; a later call of the same user under a Linkedid already ended (a queue ringing the
// agent again after a ring-no-answer) is "ami-<Linkedid>/2", "/3"... because the engine ignores
// every event of an ended call id. `internal`: the other side is a configured user's channel,
// or its number (caller's CallerIDNum inbound; the dialled Exten outbound) is a configured
// extension. Transfers need no rule of their own: the transferring agent's call ends when its
// channel hangs up, the target agent's channel is dialled (DialBegin) like any other.
//
// DND (FreePBX donotdisturb, functions.inc.php): DeviceStateChange "Custom:DND<ext>" with
// State BUSY = on, UNAVAILABLE (or NOT_INUSE) = off. Queue pause: QueueMemberPause with the
// user's queue_interface, Paused 1/0, PausedReason (emptied by Asterisk on unpause). A value is
// compared with the last one known for the user: the first one known (after construction or
// Reconnected()) is the baseline and selects nothing; an unchanged value (one QueueMemberPause
// per queue the member is in) selects nothing; a change selects the configured label (DND:
// dnd_on_label / dnd_off_label; pause: the first matching rule), source pbx. An expected own
// change (ExpectDnd / ExpectPause, called before the connector sends it) is swallowed once,
// within expect_seconds.
//
// Bad input (unknown events, missing fields, channels of no user, garbage) changes nothing and
// is only counted; nothing throws.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ami/ami_protocol.h"
#include "connectors/inbound.h"

namespace presence::connectors {

// A queue pause seen on the PBX -> a label. `reason` empty matches any PausedReason, else it
// must equal it exactly.
struct AmiPauseRule {
  bool paused = true;
  std::string reason;
  std::string label;
};

struct AmiInboundRules {
  bool calls = false;
  bool dnd = false;
  bool queues = false;
  // "{extension}" stands for the extension; a template without it matches nothing.
  std::string channel = "PJSIP/{extension}";
  std::string queue_interface = "PJSIP/{extension}";
  std::optional<std::string> dnd_on_label;
  std::optional<std::string> dnd_off_label;
  std::vector<AmiPauseRule> pause_rules;  // first match wins
  double expect_seconds = 10;             // how long ExpectDnd / ExpectPause wait
};

struct AmiInboundCounters {
  uint64_t read = 0;       // every message given to Read
  uint64_t ignored = 0;    // well formed but of no use: unknown event, no user, kind not enabled
  uint64_t malformed = 0;  // not an event, or an event this reads lacking a field it needs
  uint64_t calls_started = 0;
  uint64_t calls_answered = 0;
  uint64_t calls_ended = 0;
  uint64_t selects = 0;
  uint64_t echoes = 0;     // own changes swallowed
  uint64_t baselines = 0;  // DND / pause values recorded without a select
  uint64_t overflow = 0;   // legs or calls beyond the bounds below
};

class AmiInbound {
 public:
  // Bounds: the engine's own per-user limit of active calls, legs per call, legs in all.
  static constexpr std::size_t kMaxCallsPerUser = 16;
  static constexpr std::size_t kMaxLegsPerCall = 16;
  static constexpr std::size_t kMaxLegs = 4096;
  static constexpr std::size_t kMaxIdBytes = 128;  // a longer Uniqueid/Linkedid is malformed
  static constexpr std::size_t kMaxExpectations = 4096;

  explicit AmiInbound(AmiInboundRules rules = {});

  // Rules and users may change at any time. A user no longer in `extension_to_user` (extension
  // -> user id) is forgotten silently, with its calls (nothing is ended for it).
  void SetRules(AmiInboundRules rules);
  void SetUsers(std::map<std::string, std::string> extension_to_user);

  // One message from the server, `now` in seconds on any steady scale (durations are
  // differences of it). Returns the events for the agent, in order; source pbx.
  // Also reads the list items of the baseline actions: DBGetResponse of family DND and
  // QueueMember (of QueueStatus) as BaselineDnd / BaselineQueueMember.
  std::vector<InboundEvent> Read(const AmiMessage& event, double now);

  // The connector is about to change the user's DND / pause itself: the next matching event
  // within expect_seconds of `now` is its echo and is swallowed (one match each).
  void ExpectDnd(const std::string& user, bool on, double now);
  void ExpectPause(const std::string& user, bool paused, const std::string& reason, double now);

  // After a reconnect: the DND and pause values known are forgotten, so the first value seen
  // next (a baseline read or an event) is a baseline; calls are kept until Resync. Pending
  // expectations stay (they expire).
  void Reconnected();
  // Values read back after a reconnect (DBGet DND/<ext>: "YES" = on, "Database entry not
  // found" = off; a QueueMember event of QueueStatus): recorded, nothing selected.
  void BaselineDnd(const std::string& extension, bool on);
  void BaselineQueueMember(const AmiMessage& queue_member);
  // The CoreShowChannel events of a CoreShowChannels list (the whole list). Every followed leg
  // not listed is gone: a call left without legs ends (duration from its answer to `now`). A
  // listed channel of a user that no call follows is adopted: call_started (outbound when its
  // Uniqueid equals its Linkedid: it began the call), call_answered when it is Up. A followed
  // call whose listed leg is Up but was not answered is answered now.
  // `followed_at_request`: FollowedLegs() when CoreShowChannels was sent; only those legs can
  // be gone (a leg that began while the list was on its way is not in it). A channel that
  // hung up while the list was on its way (one of the last 1024 legs dropped) is not adopted.
  std::vector<InboundEvent> Resync(const std::vector<AmiMessage>& channels, double now,
                                   const std::set<std::string>* followed_at_request = nullptr);
  // The Uniqueids of the legs followed now.
  std::set<std::string> FollowedLegs() const;

  const AmiInboundCounters& counters() const { return counters_; }
  std::size_t active_calls(const std::string& user) const;
  std::size_t followed_legs() const { return legs_.size(); }

 private:
  struct Call {
    std::string user;
    std::string id;
    std::string linkedid;
    int generation = 1;  // the id's "/<n>"
    bool outbound = false;
    bool internal = false;
    std::optional<double> answered_at;
    std::set<std::string> legs;  // Uniqueids
  };
  struct Expectation {
    std::string user;
    bool dnd = false;  // else pause
    bool value = false;
    std::string reason;
    double until = 0;
  };
  struct PauseValue {
    bool paused = false;
    std::string reason;
    bool operator==(const PauseValue&) const = default;
  };

  std::vector<InboundEvent> ReadCall(const std::string& name, const AmiMessage& event, double now);
  std::vector<InboundEvent> ReadDial(const AmiMessage& event, bool begin, double now);
  std::vector<InboundEvent> ReadAgent(const std::string& name, const AmiMessage& event, double now);
  std::vector<InboundEvent> ReadDnd(const AmiMessage& event, double now);
  std::vector<InboundEvent> ReadPause(const AmiMessage& event, double now);

  // The user a channel name / queue interface / extension belongs to, or nullptr.
  const std::string* ChannelUser(std::string_view channel) const;
  const std::string* InterfaceUser(std::string_view interface) const;
  const std::string* ExtensionUser(std::string_view extension) const;

  // Adds a leg to the user's call of `linkedid`, starting the call when it is new.
  void AddLeg(const std::string& user, const std::string& uniqueid, const std::string& linkedid,
              bool outbound, bool internal, std::vector<InboundEvent>& out);
  void Answer(const std::string& uniqueid, double now, std::vector<InboundEvent>& out);
  void DropLeg(const std::string& uniqueid, double now, std::vector<InboundEvent>& out);
  void EndCall(const std::string& key, double now, std::vector<InboundEvent>& out);
  int NextGeneration(const std::string& user, const std::string& linkedid) const;
  void Expect(Expectation expectation, double now);
  bool TakeExpectation(const std::string& user, bool dnd, bool value, const std::string& reason,
                       double now);
  void Select(const std::string& user, const std::string& label, std::vector<InboundEvent>& out);
  void Rebuild();

  AmiInboundRules rules_;
  std::map<std::string, std::string> extensions_;  // extension -> user
  std::map<std::string, std::string> devices_;     // lower-case expanded channel -> user
  std::map<std::string, std::string> interfaces_;  // lower-case expanded interface -> user

  std::map<std::string, Call> calls_;        // by user + '\n' + Linkedid at start
  std::map<std::string, std::string> legs_;  // Uniqueid -> call key
  std::deque<std::string> dropped_order_;    // the last legs dropped, oldest first (bounded)
  std::set<std::string> dropped_;
  // Per user, the latest ended calls (Linkedid, generation), newest last, bounded.
  std::map<std::string, std::deque<std::pair<std::string, int>>> ended_;

  std::map<std::string, bool> dnd_;          // by user
  std::map<std::string, PauseValue> pause_;  // by user
  std::vector<Expectation> expectations_;
  AmiInboundCounters counters_;
};

}  // namespace presence::connectors
