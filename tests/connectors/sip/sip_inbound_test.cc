// What the sip_presence connector makes of NOTIFYs (connectors/sip/sip_inbound.h): presence
// from the phone system becomes a pbx choice only when its foreign part changed and a rule
// matches, the agent's own publication never comes back, and dialogs become call events once.

#include "connectors/sip/sip_inbound.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace presence::connectors::sip {
namespace {

using Kind = InboundEvent::Kind;

const std::vector<std::string> kLabels = {"Ready for Calls", "Do Not Disturb", "Lunch", "Meeting"};
const std::vector<PresenceRule> kRules = {
    {std::nullopt, "busy", "", "Do Not Disturb"},
    {std::nullopt, "meal", "", "Lunch"},
    {false, "", "", "Meeting"},
};

// What the agent publishes for alice, merged with what the phone publishes.
Pidf Merged(std::optional<bool> phone_open, std::vector<std::string> phone_activities,
            std::vector<std::string> phone_notes = {}) {
  Pidf document;
  document.entity = "sip:1001@pbx.example";
  document.tuples.push_back({OwnTupleId("alice"), true, "sip:1001@pbx.example", {"Meeting"}});
  document.persons.push_back({OwnPersonId("alice"), {"busy"}, {"Meeting"}});
  document.notes.push_back("Meeting");
  if (phone_open) document.tuples.push_back({"t-phone", phone_open, "", phone_notes});
  if (!phone_activities.empty()) document.persons.push_back({"p-phone", phone_activities, {}});
  return document;
}

BOOST_AUTO_TEST_SUITE(sip_inbound_test)

BOOST_AUTO_TEST_CASE(own_ids_are_xml_ids_made_from_the_user_id) {
  BOOST_TEST(OwnTupleId("alice") == "pa-alice");
  BOOST_TEST(OwnPersonId("alice") == "pa-p-alice");
  BOOST_TEST(OwnTupleId("a.b@c d") == "pa-a.b_c_d");
}

BOOST_AUTO_TEST_CASE(the_agents_own_publication_is_not_foreign) {
  ForeignPresence own = ForeignPart(Merged(std::nullopt, {}));
  BOOST_TEST(own.empty());
  ForeignPresence phone = ForeignPart(Merged(true, {"busy"}, {"DND"}));
  BOOST_TEST(phone.basics == std::vector<bool>{true});
  BOOST_TEST(phone.activities.count("busy") == 1u);
  BOOST_TEST(phone.notes == std::vector<std::string>{"DND"});
}

BOOST_AUTO_TEST_CASE(document_notes_count_only_without_the_agents_tuple) {
  Pidf phone_only;
  phone_only.tuples.push_back({"t1", true, "", {}});
  phone_only.notes.push_back("lunch");
  BOOST_TEST(ForeignPart(phone_only).notes == std::vector<std::string>{"lunch"});
  Pidf merged = Merged(true, {});
  BOOST_TEST(ForeignPart(merged).notes.empty());  // "Meeting" is the agent's own note
}

struct RuleCase {
  const char* name;
  std::optional<bool> open;
  std::vector<std::string> activities;
  std::vector<std::string> notes;
  std::optional<std::string> label;
};

BOOST_AUTO_TEST_CASE(rules_in_order_then_a_note_naming_a_label) {
  const std::vector<RuleCase> cases = {
      {"activity busy", true, {"busy"}, {}, "Do Not Disturb"},
      {"first rule wins", true, {"busy", "meal"}, {}, "Do Not Disturb"},
      {"meal", true, {"meal"}, {}, "Lunch"},
      {"closed", false, {}, {}, "Meeting"},
      {"note names a label, any case", true, {}, {"lunch"}, "Lunch"},
      {"nothing matches", true, {"travel"}, {"somewhere"}, std::nullopt},
      {"nothing foreign", std::nullopt, {}, {}, std::nullopt},
  };
  for (const RuleCase& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      std::optional<std::string> label =
          MatchRules(ForeignPart(Merged(test.open, test.activities, test.notes)), kRules, kLabels);
      BOOST_TEST((label == test.label), (label ? *label : "none"));
    }
  }
}

BOOST_AUTO_TEST_CASE(presence_acts_only_on_a_change_after_the_first_notify) {
  InboundInterpreter interpreter;
  // The first NOTIFY is the baseline, even when a rule would match.
  BOOST_TEST(!interpreter.OnPresence("alice", Merged(true, {"busy"}), true, kRules, kLabels));
  // The same foreign part again (the agent's own publication changed): nothing.
  Pidf again = Merged(true, {"busy"});
  again.tuples[0].notes = {"Lunch"};
  BOOST_TEST(!interpreter.OnPresence("alice", again, false, kRules, kLabels));
  // The phone goes to lunch: a change.
  auto label = interpreter.OnPresence("alice", Merged(true, {"meal"}), false, kRules, kLabels);
  BOOST_TEST_REQUIRE(label.has_value());
  BOOST_TEST(*label == "Lunch");
  // Its echo (the agent publishes Lunch; the foreign part is unchanged): nothing.
  BOOST_TEST(!interpreter.OnPresence("alice", Merged(true, {"meal"}), false, kRules, kLabels));
  // An empty body (the phone's publication ended and nothing else is there): no rule.
  BOOST_TEST(!interpreter.OnPresence("alice", std::nullopt, false, kRules, kLabels));
  // A re-subscription starts a new baseline.
  BOOST_TEST(!interpreter.OnPresence("alice", Merged(true, {"busy"}), true, kRules, kLabels));
}

DialogInfo Dialogs(uint64_t version, std::vector<Dialog> dialogs, bool full = true) {
  DialogInfo info;
  info.entity = "sip:1001@pbx.example";
  info.version = version;
  info.full = full;
  info.dialogs = std::move(dialogs);
  return info;
}

Dialog Call(const std::string& id, DialogState state, const std::string& direction = "recipient",
            const std::string& remote = "sip:+15551234567@pbx.example") {
  Dialog dialog;
  dialog.id = id;
  dialog.call_id = id + "@pbx.example";
  dialog.direction = direction;
  dialog.state = state;
  dialog.remote_identity = remote;
  return dialog;
}

std::string Describe(const std::vector<InboundEvent>& events) {
  std::string text;
  for (const InboundEvent& event : events) {
    static const char* kNames[] = {"select", "started", "answered", "ended"};
    text += std::string(kNames[static_cast<int>(event.kind)]) + ":" + event.call_id +
            (event.kind == Kind::kCallStarted ? std::string(event.outbound ? "/out" : "/in") +
                                                    (event.internal ? "/internal" : "")
                                              : "") +
            " ";
  }
  return text;
}

const std::set<std::string> kInternal = {"1002", "2001"};

BOOST_AUTO_TEST_CASE(dialog_states_become_call_events_once) {
  InboundInterpreter interpreter;
  auto step = [&](uint64_t version, std::vector<Dialog> dialogs, bool first = false) {
    return Describe(
        interpreter.OnDialogs("alice", Dialogs(version, std::move(dialogs)), first, kInternal));
  };
  BOOST_TEST(step(0, {}, true) == "");
  BOOST_TEST(step(1, {Call("c1", DialogState::kEarly)}) == "started:c1@pbx.example/in ");
  BOOST_TEST(step(2, {Call("c1", DialogState::kEarly)}) == "");  // nothing new
  BOOST_TEST(step(3, {Call("c1", DialogState::kConfirmed)}) == "answered:c1@pbx.example ");
  BOOST_TEST(step(4, {Call("c1", DialogState::kConfirmed)}) == "");
  BOOST_TEST(step(5, {Call("c1", DialogState::kTerminated)}) == "ended:c1@pbx.example ");
  BOOST_TEST(step(6, {Call("c1", DialogState::kTerminated)}) == "");  // ended once
  BOOST_TEST(interpreter.active_dialogs("alice") == 0u);
}

BOOST_AUTO_TEST_CASE(a_confirmed_dialog_seen_first_starts_and_answers) {
  InboundInterpreter interpreter;
  auto events = interpreter.OnDialogs(
      "alice", Dialogs(7, {Call("c2", DialogState::kConfirmed, "initiator")}), true, kInternal);
  BOOST_TEST(Describe(events) == "started:c2@pbx.example/out answered:c2@pbx.example ");
}

BOOST_AUTO_TEST_CASE(a_call_with_another_configured_user_is_internal) {
  InboundInterpreter interpreter;
  auto events = interpreter.OnDialogs(
      "alice", Dialogs(1, {Call("c3", DialogState::kEarly, "initiator", "sip:1002@pbx.example")}),
      true, kInternal);
  BOOST_TEST(Describe(events) == "started:c3@pbx.example/out/internal ");
}

BOOST_AUTO_TEST_CASE(terminated_dialogs_never_seen_active_are_ignored) {
  InboundInterpreter interpreter;
  auto events = interpreter.OnDialogs("alice", Dialogs(1, {Call("old", DialogState::kTerminated)}),
                                      true, kInternal);
  BOOST_TEST(events.empty());
}

BOOST_AUTO_TEST_CASE(a_dialog_missing_from_a_full_document_ended) {
  InboundInterpreter interpreter;
  interpreter.OnDialogs("alice", Dialogs(1, {Call("c4", DialogState::kConfirmed)}), true,
                        kInternal);
  // A partial document that does not list it changes nothing.
  BOOST_TEST(interpreter.OnDialogs("alice", Dialogs(2, {}, false), false, kInternal).empty());
  // The first NOTIFY of a new subscription (after a server restart: empty until the PBX
  // publishes again) does not end it either.
  BOOST_TEST(interpreter.OnDialogs("alice", Dialogs(0, {}), true, kInternal).empty());
  // A later full one without it does.
  auto events = interpreter.OnDialogs("alice", Dialogs(1, {}), false, kInternal);
  BOOST_TEST(Describe(events) == "ended:c4@pbx.example ");
}

BOOST_AUTO_TEST_CASE(forked_dialogs_of_one_call_are_one_call) {
  InboundInterpreter interpreter;
  auto step = [&](uint64_t version, std::vector<Dialog> dialogs) {
    return Describe(interpreter.OnDialogs("alice", Dialogs(version, std::move(dialogs)),
                                          version == 1, kInternal));
  };
  Dialog desk = Call("fork-a", DialogState::kEarly);
  Dialog mobile = Call("fork-b", DialogState::kEarly);
  mobile.call_id = desk.call_id;  // one INVITE ringing two devices
  BOOST_TEST(step(1, {desk, mobile}) == "started:fork-a@pbx.example/in ");
  desk.state = DialogState::kConfirmed;
  mobile.state = DialogState::kTerminated;  // the other device stops ringing
  BOOST_TEST(step(2, {desk, mobile}) == "answered:fork-a@pbx.example ");
  desk.state = DialogState::kTerminated;
  BOOST_TEST(step(3, {desk}) == "ended:fork-a@pbx.example ");
}

BOOST_AUTO_TEST_CASE(older_versions_are_ignored) {
  InboundInterpreter interpreter;
  interpreter.OnDialogs("alice", Dialogs(5, {Call("c5", DialogState::kEarly)}), true, kInternal);
  BOOST_TEST(
      interpreter
          .OnDialogs("alice", Dialogs(4, {Call("c5", DialogState::kTerminated)}), false, kInternal)
          .empty());
  BOOST_TEST(interpreter.active_dialogs("alice") == 1u);
}

BOOST_AUTO_TEST_CASE(a_hostile_feed_cannot_grow_a_user_without_bound) {
  InboundInterpreter interpreter;
  std::vector<Dialog> many;
  for (int i = 0; i < 100; ++i) many.push_back(Call("d" + std::to_string(i), DialogState::kEarly));
  auto events = interpreter.OnDialogs("alice", Dialogs(1, many), true, kInternal);
  BOOST_TEST(events.size() == 16u);
  BOOST_TEST(interpreter.active_dialogs("alice") == 16u);
  Dialog long_id = Call("x", DialogState::kEarly);
  long_id.call_id = std::string(1000, 'c');
  InboundInterpreter other;
  auto one = other.OnDialogs("bob", Dialogs(1, {long_id}), true, kInternal);
  BOOST_TEST_REQUIRE(one.size() == 1u);
  BOOST_TEST(one[0].call_id.size() == 256u);
}

Notification Notify(const std::string& event, const std::string& type, const std::string& body,
                    bool first = false) {
  return Notification{"alice", event, type, body, "active", first};
}

const char* kPhoneBusy = R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
          xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:1001@pbx.example">
  <tuple id="t-phone"><status><basic>open</basic></status></tuple>
  <dm:person id="p-phone"><rpid:activities><rpid:busy/></rpid:activities></dm:person>
</presence>)";

BOOST_AUTO_TEST_CASE(bad_notify_bodies_are_ignored_with_a_reason_and_change_nothing) {
  const InboundRules rules{kRules, kLabels, kInternal};
  struct Case {
    const char* name;
    Notification notification;
    const char* reason;
  };
  const std::string huge(kMaxDocumentBytes + 1, ' ');
  const std::string laughs =
      R"(<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>)"
      R"(<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><note>&lol2;</note></presence>)";
  const Case cases[] = {
      {"wrong content type", Notify("presence", "text/plain", kPhoneBusy), "content type"},
      {"dialog body as presence", Notify("presence", "application/dialog-info+xml", kPhoneBusy),
       "content type"},
      {"not XML", Notify("presence", "application/pidf+xml", "busy!"), "bad_xml"},
      {"truncated", Notify("presence", "application/pidf+xml", std::string(kPhoneBusy, 80)),
       "bad_xml"},
      {"entities", Notify("presence", "application/pidf+xml", laughs), "bad_xml"},
      {"another root", Notify("presence", "application/pidf+xml", "<a xmlns=\"x\"/>"), "not_pidf"},
      {"too big", Notify("presence", "application/pidf+xml", huge), "bytes"},
      {"bad dialog", Notify("dialog", "application/dialog-info+xml", "<dialog-info"), "bad_xml"},
      {"unknown package", Notify("message-summary", "application/simple-message-summary", "x"),
       "content type"},
  };
  for (const Case& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      InboundInterpreter interpreter;
      interpreter.Read(Notify("presence", "", "", true), rules);  // baseline: nothing
      ReadOutcome outcome = interpreter.Read(test.notification, rules);
      BOOST_TEST(outcome.events.empty());
      BOOST_TEST(outcome.ignored.find(test.reason) != std::string::npos, outcome.ignored);
      // The baseline is untouched: the phone's busy still reads as a change afterwards.
      ReadOutcome after =
          interpreter.Read(Notify("presence", "application/pidf+xml", kPhoneBusy), rules);
      BOOST_TEST_REQUIRE(after.events.size() == 1u);
      BOOST_TEST(after.events[0].label == "Do Not Disturb");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_content_type_differs_only_in_case) {
  InboundInterpreter interpreter;
  const InboundRules rules{kRules, kLabels, kInternal};
  interpreter.Read(Notify("presence", "", "", true), rules);
  ReadOutcome outcome =
      interpreter.Read(Notify("presence", "Application/PIDF+XML", kPhoneBusy), rules);
  BOOST_TEST(outcome.ignored.empty(), outcome.ignored);
  BOOST_TEST(outcome.events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(user_parts_of_uris) {
  BOOST_TEST(UserPart("sip:1002@pbx.example") == "1002");
  BOOST_TEST(UserPart("<sip:1002@pbx.example;transport=tcp>") == "1002");
  BOOST_TEST(UserPart("tel:+4930123") == "+4930123");
  BOOST_TEST(UserPart("SIPS:alice@x") == "alice");
  BOOST_TEST(UserPart("1003") == "1003");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors::sip
