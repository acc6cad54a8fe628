// Fuzz target for the AMI reader (connectors/ami/ami_protocol.h, ami_inbound.h): the bytes an
// Asterisk server sends, fed to AmiParser in chunks whose sizes come from the input, and every
// message to an AmiInbound with two users and every rule on. Nothing may crash or throw; the
// events that come out must be well formed (a user of the directory, a call id for call events,
// a label for selects, every call ended at most once and only after it started), and the
// reader's bounds must hold.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ami/ami_inbound.h"
#include "connectors/ami/ami_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using presence::connectors::AmiInbound;
using presence::connectors::AmiInboundRules;
using presence::connectors::AmiMessage;
using presence::connectors::AmiParser;
using presence::connectors::AmiPauseRule;
using presence::connectors::InboundEvent;

AmiInboundRules AllRules() {
  AmiInboundRules rules;
  rules.calls = true;
  rules.dnd = true;
  rules.queues = true;
  rules.channel = "PJSIP/{extension}";
  rules.queue_interface = "Local/{extension}@from-queue/n";
  rules.dnd_on_label = "DND";
  rules.dnd_off_label = "Ready";
  rules.pause_rules = {AmiPauseRule{true, "Lunch", "Lunch"}, AmiPauseRule{true, "", "Break"},
                       AmiPauseRule{false, "", "Ready"}};
  return rules;
}

struct Checker {
  std::set<std::string> active;  // user + call id
  void Check(const std::vector<InboundEvent>& events) {
    for (const InboundEvent& event : events) {
      FUZZ_CHECK(event.user == "alice" || event.user == "bob");
      if (event.kind == InboundEvent::Kind::kSelect) {
        FUZZ_CHECK(!event.label.empty());
        continue;
      }
      FUZZ_CHECK(event.call_id.starts_with("ami-"));
      const std::string key = event.user + '\n' + event.call_id;
      if (event.kind == InboundEvent::Kind::kCallStarted) {
        FUZZ_CHECK(active.insert(key).second);
      } else if (event.kind == InboundEvent::Kind::kCallAnswered) {
        FUZZ_CHECK(active.count(key) == 1);
      } else {
        FUZZ_CHECK(active.erase(key) == 1);
        FUZZ_CHECK(event.duration_s && *event.duration_s >= 0);
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  AmiParser parser;
  AmiInbound inbound(AllRules());
  inbound.SetUsers({{"1001", "alice"}, {"1002", "bob"}});
  Checker checker;
  double now = 0;
  std::size_t at = 0;
  std::size_t step = 1;
  std::vector<AmiMessage> all;
  while (at < bytes.size()) {
    // Chunk sizes 1..64 taken from the bytes themselves, so splits land everywhere.
    step = 1 + static_cast<unsigned char>(bytes[at]) % 64;
    for (const AmiMessage& message : parser.Feed(bytes.substr(at, step))) {
      now += 0.5;
      if (message.Is("Event", "Reconnect")) inbound.Reconnected();
      if (message.Is("Event", "ExpectDnd")) inbound.ExpectDnd("alice", true, now);
      if (message.Is("Event", "ExpectPause")) inbound.ExpectPause("bob", true, "Lunch", now);
      checker.Check(inbound.Read(message, now));
      if (all.size() < 64) all.push_back(message);
    }
    at += step;
  }
  FUZZ_CHECK(inbound.followed_legs() <= AmiInbound::kMaxLegs);
  FUZZ_CHECK(inbound.active_calls("alice") <= AmiInbound::kMaxCallsPerUser);
  const auto& counters = inbound.counters();
  FUZZ_CHECK(counters.calls_ended <= counters.calls_started);
  FUZZ_CHECK(counters.calls_answered <= counters.calls_started);
  // The messages read, taken as a CoreShowChannels list: a resync keeps the checks true.
  checker.Check(inbound.Resync(all, now + 1));
  // No channel listed: every call ends.
  checker.Check(inbound.Resync({}, now + 2));
  FUZZ_CHECK(checker.active.empty());
  FUZZ_CHECK(inbound.followed_legs() == 0);
  // Users replaced: forgotten without a trace.
  inbound.SetUsers({});
  FUZZ_CHECK(inbound.active_calls("alice") == 0);
  return 0;
}
