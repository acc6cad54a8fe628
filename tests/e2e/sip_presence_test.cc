// SIP presence both ways through the real `presence-agent serve` and a real Kamailio with the
// presence modules (tests/fakes/kamailio.h), with a raw-socket SIP peer as the desk phone that
// watches and as the phone system that publishes (tests/fakes/sip_peer.h):
//  - a watcher subscribed at Kamailio sees the label of a PUT state;
//  - publications are refreshed before they run out, and recover after Kamailio restarts (412);
//  - presence another publisher sets becomes a pbx change, once (no echo loop);
//  - dialog-info becomes calls: On a call, wrap-up after a real call, none after a ring-only or
//    internal call; a call reported by the softphone and the PBX under one SIP Call-ID counts
//    once;
//  - digest authentication (407) with the configured credentials, and a clear error without;
//  - TLS: the server's certificate must chain to tls_ca_file and name the server; otherwise
//    nothing is published and the connector says why.
#include <Poco/JSON/Array.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <sstream>
#include <string>

#include "connectors/sip/documents/dialog_info.h"
#include "connectors/sip/documents/pidf.h"
#include "tests/fakes/agent_server.h"
#include "tests/fakes/kamailio.h"
#include "tests/fakes/sip_peer.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"

namespace presence::testing {
namespace {

using connectors::sip::Dialog;
using connectors::sip::DialogInfo;
using connectors::sip::DialogState;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr auto kWait = std::chrono::seconds(20);

std::string Aor(const std::string& user) { return "sip:" + user + "@127.0.0.1"; }

struct SipOptions {
  bool watch = true;
  int expires = 600;
  std::string username;
  std::string password;
  std::string mode = "none";
  std::string transport = "udp";
  std::string server;  // empty: kamailio.uri()
  std::string tls_ca_file;
};

std::function<void(Object&)> WithSip(const Kamailio& kamailio, SipOptions options = {}) {
  return [&kamailio, options](Object& config) {
    Object::Ptr settings = config.getObject("settings");
    settings->set("mode", options.mode);
    Array::Ptr users = config.getArray("users");
    for (size_t i = 0; i < users->size(); ++i) {
      Object::Ptr user = users->getObject(static_cast<unsigned>(i));
      Object::Ptr identities = new Object();
      identities->set("sip", user->getValue<std::string>("id"));
      user->set("identities", identities);
    }
    Object::Ptr block = new Object();
    block->set("type", "sip_presence");
    block->set("name", "kamailio");
    block->set("server", options.server.empty() ? kamailio.uri() : options.server);
    block->set("domain", "127.0.0.1");
    block->set("transport", options.transport);
    block->set("expires", options.expires);
    block->set("keepalive_seconds", 1);
    block->set("retry_initial_ms", 100);
    block->set("retry_max_seconds", 1);
    if (!options.tls_ca_file.empty()) block->set("tls_ca_file", options.tls_ca_file);
    if (!options.username.empty()) {
      block->set("username", options.username);
      block->set("password", options.password);
    }
    if (options.watch) {
      Array::Ptr watch = new Array();
      watch->add("presence");
      watch->add("dialog");
      block->set("watch", watch);
      Array::Ptr rules = new Array();
      Object::Ptr busy = new Object();
      busy->set("activity", "busy");
      busy->set("label", "Do Not Disturb");
      rules->add(busy);
      block->set("from_presence", rules);
    }
    Array::Ptr connectors = new Array();
    connectors->add(block);
    config.set("connectors", connectors);
  };
}

Object::Ptr GetAgent(AgentServer& server, const std::string& id) { return AgentView(server, id); }
std::string Label(AgentServer& server, const std::string& id) { return AgentLabel(server, id); }
bool WaitForLabel(AgentServer& server, const std::string& id, const std::string& label) {
  return WaitForAgentLabel(server, id, label, kWait);
}

void SetState(AgentServer& server, const std::string& user, const std::string& label) {
  HttpResponse response =
      server.Client().Put("/api/v1/agents/" + user + "/state", server.tokens().integration,
                          R"({"label": ")" + label + R"("})");
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
}

void PostEvent(AgentServer& server, const std::string& user, const std::string& event) {
  HttpResponse response = server.Client().Post("/api/v1/agents/" + user + "/events",
                                               server.tokens().integration, event);
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
}

Object::Ptr SipStatus(AgentServer& server) {
  HttpResponse response = server.Client().Get("/api/v1/connectors", server.tokens().supervisor);
  BOOST_REQUIRE(response.status == 200);
  Array::Ptr all = response.Json()->getArray("connectors");
  BOOST_REQUIRE(all->size() == 1);
  return all->getObject(0);
}

// Re-reads the connector's status until `holds` or the deadline passes.
bool WaitForStatus(AgentServer& server, const std::function<bool(const Object&)>& holds) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (holds(*SipStatus(server))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string PublicationOf(const Object& status, const std::string& user, const std::string& field) {
  Object::Ptr publications = status.getObject("details")->getObject("publications");
  if (!publications || !publications->has(user)) return "";
  return publications->getObject(user)->get(field).toString();
}

bool SubscribedAll(const Object& status, const std::vector<std::string>& users) {
  Object::Ptr subscriptions = status.getObject("details")->getObject("subscriptions");
  for (const std::string& user : users) {
    if (!subscriptions || !subscriptions->has(user)) return false;
    Object::Ptr events = subscriptions->getObject(user);
    for (const char* event : {"presence", "dialog"}) {
      if (!events->has(event) || events->getValue<std::string>(event) != "active") return false;
    }
  }
  return true;
}

// The notes of a PIDF body (tuple, person and document notes).
std::vector<std::string> Notes(const std::string& body) {
  std::vector<std::string> notes;
  auto read = connectors::sip::ReadPidf(body);
  if (!read.ok()) return notes;
  for (const auto& tuple : read->tuples)
    notes.insert(notes.end(), tuple.notes.begin(), tuple.notes.end());
  for (const auto& person : read->persons) {
    notes.insert(notes.end(), person.notes.begin(), person.notes.end());
  }
  notes.insert(notes.end(), read->notes.begin(), read->notes.end());
  return notes;
}

bool ShowsNote(const SipPeer::Notify& notify, const std::string& note) {
  std::vector<std::string> notes = Notes(notify.body);
  return std::find(notes.begin(), notes.end(), note) != notes.end();
}

// A desk phone that watches `user` and waits until it shows `note`.
std::optional<SipPeer::Notify> WatchFor(const Kamailio& kamailio, const std::string& user,
                                        const std::string& note) {
  SipPeer phone("phone");
  BOOST_REQUIRE_EQUAL(phone.Subscribe(Aor(user), kamailio.port(), "presence"), 200);
  return phone.WaitForNotify([&](const SipPeer::Notify& n) { return ShowsNote(n, note); }, kWait);
}

std::string DialogDocument(const std::string& user, uint64_t version, const std::string& id,
                           DialogState state, const std::string& direction,
                           const std::string& remote) {
  DialogInfo info;
  info.entity = Aor(user);
  info.version = version;
  info.full = true;
  Dialog dialog;
  dialog.id = id;
  dialog.call_id = id;
  dialog.direction = direction;
  dialog.state = state;
  dialog.local_identity = Aor(user);
  dialog.remote_identity = remote;
  info.dialogs.push_back(dialog);
  return connectors::sip::WriteDialogInfo(info);
}

// The phone system publishing one user's calls (dialog-info), as Asterisk or a proxy would.
class PbxDialogs {
 public:
  PbxDialogs(const Kamailio& kamailio, std::string user)
      : kamailio_(kamailio), user_(std::move(user)) {}

  void Publish(const std::string& id, DialogState state, const std::string& direction = "recipient",
               const std::string& remote = "sip:+15551234567@127.0.0.1") {
    SipPeer::PublishResult result =
        peer_.Publish(Aor(user_), kamailio_.port(), "dialog", "application/dialog-info+xml",
                      DialogDocument(user_, ++version_, id, state, direction, remote), 3600, etag_);
    BOOST_REQUIRE_MESSAGE(result.status == 200, peer_.LastResponse());
    etag_ = result.etag;
  }

 private:
  const Kamailio& kamailio_;
  std::string user_;
  SipPeer peer_{"pbx"};
  std::string etag_;
  uint64_t version_ = 0;
};

std::vector<std::string> IntervalLabels(AgentServer& server, const std::string& id) {
  HttpResponse response =
      server.Client().Get("/api/v1/agents/" + id + "/intervals", server.tokens().supervisor);
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
  Array::Ptr intervals = response.Json()->getArray("intervals");
  std::vector<std::string> labels;
  for (size_t i = 0; i < intervals->size(); ++i) {
    labels.push_back(
        intervals->getObject(static_cast<unsigned>(i))->getValue<std::string>("label"));
  }
  return labels;
}

size_t Count(const std::vector<std::string>& labels, const std::string& label) {
  return static_cast<size_t>(std::count(labels.begin(), labels.end(), label));
}

BOOST_AUTO_TEST_SUITE(sip_presence_test)

BOOST_AUTO_TEST_CASE(a_watcher_sees_the_label_of_each_change) {
  Kamailio kamailio;
  AgentServer server(WithSip(kamailio, {.watch = false}));
  server.Start();
  SipPeer phone("phone");
  BOOST_REQUIRE_EQUAL(phone.Subscribe(Aor("1001"), kamailio.port(), "presence"), 200);
  for (const char* label : {"Lunch", "Do Not Disturb", "Ready for Calls"}) {
    const auto changed = std::chrono::steady_clock::now();
    SetState(server, "1001", label);
    auto seen =
        phone.WaitForNotify([&](const SipPeer::Notify& n) { return ShowsNote(n, label); }, kWait);
    BOOST_REQUIRE_MESSAGE(seen, std::string("no NOTIFY with ") + label + "\n" + server.Log());
    BOOST_TEST_MESSAGE(label << ": the watcher saw it after "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - changed)
                                    .count()
                             << " ms");
    BOOST_TEST(seen->event == "presence");
    BOOST_TEST(seen->content_type == "application/pidf+xml");
  }
  // Lunch is away (its status), DND busy: the activities follow the statuses.
  auto lunch =
      phone.WaitForNotify([](const SipPeer::Notify& n) { return ShowsNote(n, "Lunch"); }, kWait);
  BOOST_TEST(lunch->body.find("away") != std::string::npos, lunch->body);
  // Logout closes the presence.
  SetState(server, "1001", "Logout");
  auto closed = phone.WaitForNotify(
      [](const SipPeer::Notify& n) {
        return ShowsNote(n, "Logout") && n.body.find("closed") != std::string::npos;
      },
      kWait);
  BOOST_TEST(closed.has_value());
  Object::Ptr status = SipStatus(server);
  BOOST_TEST(PublicationOf(*status, "1001", "last_result").find("200") == 0u);
  BOOST_TEST(!PublicationOf(*status, "1001", "etag").empty());
}

BOOST_AUTO_TEST_CASE(over_tcp_in_dial_command_mode) {
  Kamailio kamailio(Kamailio::Options{.tcp = true});
  AgentServer server(
      WithSip(kamailio, {.watch = true, .mode = "dial_command", .transport = "tcp"}));
  server.Start();
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) { return SubscribedAll(s, {"1001"}); }));
  SetState(server, "1001", "Training");
  auto seen = WatchFor(kamailio, "1001", "Training");
  BOOST_TEST(seen.has_value(), server.Log());
  BOOST_TEST(SipStatus(server)->getObject("details")->getValue<std::string>("transport") == "tcp");
}

std::string SipsUri(const Kamailio& kamailio) {
  return "sips:127.0.0.1:" + std::to_string(kamailio.tls_port());
}

SipOptions OverTls(const std::string& server, const std::string& ca_file) {
  return {.watch = false, .transport = "tls", .server = server, .tls_ca_file = ca_file};
}

BOOST_AUTO_TEST_CASE(over_tls_with_the_server_certificate_verified) {
  Kamailio kamailio(Kamailio::Options{.tls = Kamailio::Tls{}});
  AgentServer server(WithSip(kamailio, OverTls(SipsUri(kamailio), kamailio.tls_ca_path())));
  server.Start();
  SetState(server, "1001", "Training");
  // The agent publishes over TLS; the desk phone watches over UDP.
  auto seen = WatchFor(kamailio, "1001", "Training");
  BOOST_TEST(seen.has_value(), server.Log());
  // Kamailio tells the watcher before the agent has read its 200: wait for that too.
  BOOST_TEST(WaitForStatus(server, [](const Object& s) {
    return PublicationOf(s, "1001", "last_result").find("200") == 0u;
  }));
  Object::Ptr status = SipStatus(server);
  BOOST_TEST(status->getObject("details")->getValue<std::string>("transport") == "tls");
  BOOST_TEST(status->getObject("details")->get("tls_error").isEmpty());
}

// Waits until user 1001's publication failed with `words` in its last_result, and checks that
// the delivery is retried, that the connector says why, and that Kamailio holds nothing.
void ExpectRefused(AgentServer& server, const Kamailio& kamailio, const std::string& words) {
  SetState(server, "1001", "Lunch");
  const bool refused = WaitForStatus(server, [&](const Object& s) {
    return PublicationOf(s, "1001", "last_result").find(words) != std::string::npos &&
           s.getValue<int>("retried") >= 1;
  });
  if (!refused) {
    std::ostringstream shown;
    SipStatus(server)->stringify(shown);
    BOOST_FAIL("not refused with \"" << words << "\": " << shown.str() << "\n" << server.Log());
  }
  Object::Ptr status = SipStatus(server);
  Object::Ptr details = status->getObject("details");
  const std::string result = PublicationOf(*status, "1001", "last_result");
  BOOST_TEST_MESSAGE("last_result: " << result);
  BOOST_TEST(result.find("TLS") != std::string::npos, result);
  BOOST_TEST(details->getValue<std::string>("tls_error").find(words) != std::string::npos);
  BOOST_TEST(status->getObject("last_error")->getValue<std::string>("message").find(words) !=
             std::string::npos);
  BOOST_TEST(status->getValue<int>("delivered") == 0);
  BOOST_TEST(!details->getValue<bool>("server_reachable"));
  // A watcher's first NOTIFY carries what Kamailio holds: no document from the agent.
  SipPeer phone("phone");
  BOOST_REQUIRE_EQUAL(phone.Subscribe(Aor("1001"), kamailio.port(), "presence"), 200);
  auto first = phone.WaitForNotify([](const SipPeer::Notify&) { return true; }, kWait);
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(!ShowsNote(*first, "Lunch"), first->body);
  // Still retried, never delivered, and the agent still answers.
  BOOST_TEST(SipStatus(server)->getValue<int>("delivered") == 0);
}

BOOST_AUTO_TEST_CASE(a_server_certificate_from_another_ca_is_refused) {
  Kamailio kamailio(Kamailio::Options{.tls = Kamailio::Tls{}});
  TempDir other;
  const std::string other_ca = Kamailio::MakeTestCa(other.path(), "other-ca");
  AgentServer server(WithSip(kamailio, OverTls(SipsUri(kamailio), other_ca)));
  server.Start();
  ExpectRefused(server, kamailio, "not trusted");
}

BOOST_AUTO_TEST_CASE(a_server_certificate_for_another_name_is_refused) {
  Kamailio kamailio(
      Kamailio::Options{.tls = Kamailio::Tls{.subject_alt_name = "DNS:sip.other.example"}});
  AgentServer server(WithSip(kamailio, OverTls(SipsUri(kamailio), kamailio.tls_ca_path())));
  server.Start();
  ExpectRefused(server, kamailio, "not for 127.0.0.1");
}

BOOST_AUTO_TEST_CASE(publications_are_refreshed_and_recover_after_a_kamailio_restart) {
  Kamailio kamailio(Kamailio::Options{.max_expires = 4});
  AgentServer server(WithSip(kamailio, {.expires = 60}));
  server.Start();
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(WaitForStatus(
      server, [](const Object& s) { return !PublicationOf(s, "1001", "etag").empty(); }));
  // Kamailio grants 4 s: the agent refreshes (with the body: a new ETag) before it runs out.
  const std::string first = PublicationOf(*SipStatus(server), "1001", "etag");
  BOOST_REQUIRE(WaitForStatus(server, [&](const Object& s) {
    std::string etag = PublicationOf(s, "1001", "etag");
    return !etag.empty() && etag != first;
  }));
  // Well past the first grant, a new watcher still sees it.
  BOOST_REQUIRE(WaitForStatus(server, [&](const Object& s) {
    return SubscribedAll(s, {"1001", "1002", "1003", "1004"});
  }));
  auto seen = WatchFor(kamailio, "1001", "Lunch");
  BOOST_TEST(seen.has_value());

  // Kamailio restarts and forgets everything: the probe's 412 brings the publication back,
  // and the subscriptions are made again.
  kamailio.Stop();
  kamailio.Start();
  auto again = WatchFor(kamailio, "1001", "Lunch");
  BOOST_TEST_REQUIRE(again.has_value(), server.Log());
  BOOST_REQUIRE(WaitForStatus(server, [&](const Object& s) {
    return SubscribedAll(s, {"1001", "1002", "1003", "1004"}) &&
           s.getObject("details")->getValue<int>("server_restarts") >= 1;
  }));
  // What the phone publishes after the restart still reaches the agent.
  SipPeer desk("desk");
  auto busy = desk.Publish(Aor("1001"), kamailio.port(), "presence", "application/pidf+xml",
                           R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
 xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:1001@127.0.0.1">
 <tuple id="t-desk"><status><basic>open</basic></status></tuple>
 <dm:person id="p-desk"><rpid:activities><rpid:busy/></rpid:activities></dm:person>
</presence>)");
  BOOST_REQUIRE_EQUAL(busy.status, 200);
  BOOST_TEST(WaitForLabel(server, "1001", "Do Not Disturb"), server.Log());
}

const char* kDeskBusy = R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
 xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:1002@127.0.0.1">
 <tuple id="t-desk"><status><basic>open</basic></status><note>DND on the phone</note></tuple>
 <dm:person id="p-desk"><rpid:activities><rpid:busy/></rpid:activities></dm:person>
</presence>)";

BOOST_AUTO_TEST_CASE(presence_set_on_the_phone_becomes_a_pbx_change_once) {
  Kamailio kamailio;
  AgentServer server(WithSip(kamailio));
  server.Start();
  SetState(server, "1002", "Ready for Calls");
  BOOST_REQUIRE(WaitForStatus(server, [&](const Object& s) {
    return SubscribedAll(s, {"1002"}) && !PublicationOf(s, "1002", "etag").empty();
  }));
  SipPeer desk("desk");
  auto published =
      desk.Publish(Aor("1002"), kamailio.port(), "presence", "application/pidf+xml", kDeskBusy);
  BOOST_REQUIRE_EQUAL(published.status, 200);
  BOOST_REQUIRE_MESSAGE(WaitForLabel(server, "1002", "Do Not Disturb"), server.Log());
  Object::Ptr agent = GetAgent(server, "1002");
  BOOST_TEST(agent->getValue<std::string>("source") == "pbx");
  // The agent publishes Do Not Disturb in turn; that NOTIFY comes back and must not be taken
  // for another change. A watcher seeing the agent's publication means the echo came back too.
  BOOST_REQUIRE(WatchFor(kamailio, "1002", "Do Not Disturb"));
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return s.getObject("details")->getValue<int>("notifies") >= 3;
  }));
  // The agent changes its mind on its own (a supervisor): the phone's busy does not pull it back.
  SetState(server, "1002", "Lunch");
  BOOST_REQUIRE(WatchFor(kamailio, "1002", "Lunch"));
  BOOST_TEST(Label(server, "1002") == "Lunch");
  BOOST_TEST(SipStatus(server)->getObject("details")->getValue<int>("pbx_changes") == 1);
  BOOST_TEST(server.CountInLog("select for 1002") == 1u, server.Log());
}

BOOST_AUTO_TEST_CASE(dialogs_drive_calls_and_wrap_up_as_the_engine_rules_say) {
  Kamailio kamailio;
  AgentServer server(WithSip(kamailio));
  server.Start();
  for (const char* user : {"1001", "1002", "1003"}) SetState(server, user, "Ready for Calls");
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return SubscribedAll(s, {"1001", "1002", "1003"});
  }));

  // A real inbound call: ringing changes nothing, answered is On a call, hung up is wrap-up.
  PbxDialogs calls(kamailio, "1001");
  calls.Publish("call-1", DialogState::kEarly);
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return s.getObject("details")->getValue<int>("call_events") >= 1;
  }));
  BOOST_TEST(Label(server, "1001") == "Ready for Calls");
  calls.Publish("call-1", DialogState::kConfirmed);
  BOOST_REQUIRE_MESSAGE(WaitForLabel(server, "1001", "On a call"), server.Log());
  BOOST_TEST(GetAgent(server, "1001")->getArray("active_calls")->size() == 1u);
  calls.Publish("call-1", DialogState::kTerminated);
  BOOST_REQUIRE_MESSAGE(WaitForLabel(server, "1001", "Wrap-up"), server.Log());

  // A call that only rang: no wrap-up.
  // (Kamailio sends each NOTIFY with the document it holds when it sends it, so a state that
  // lasts less than that is never seen: the test lets the ringing be seen first.)
  auto events_at_least = [&server](int n) {
    return WaitForStatus(server, [n](const Object& s) {
      return s.getObject("details")->getValue<int>("call_events") >= n;
    });
  };
  BOOST_REQUIRE(events_at_least(3));
  PbxDialogs ring(kamailio, "1002");
  ring.Publish("call-2", DialogState::kEarly);
  BOOST_REQUIRE(events_at_least(4));
  ring.Publish("call-2", DialogState::kTerminated);
  BOOST_REQUIRE(events_at_least(5));
  // An internal call (the other end is user 1001): On a call, then straight back to Ready.
  PbxDialogs internal(kamailio, "1003");
  internal.Publish("call-3", DialogState::kConfirmed, "initiator", Aor("1001"));
  BOOST_REQUIRE(WaitForLabel(server, "1003", "On a call"));
  internal.Publish("call-3", DialogState::kTerminated, "initiator", Aor("1001"));
  BOOST_REQUIRE(WaitForLabel(server, "1003", "Ready for Calls"));
  BOOST_REQUIRE_MESSAGE(
      WaitForStatus(server,
                    [](const Object& s) {
                      return s.getObject("details")->getValue<int>("call_events") >= 8;
                    }),
      server.Log());
  BOOST_TEST(Label(server, "1002") == "Ready for Calls");
  BOOST_TEST(Count(IntervalLabels(server, "1002"), "Wrap-up") == 0u);
  BOOST_TEST(Count(IntervalLabels(server, "1003"), "Wrap-up") == 0u);
  BOOST_TEST(Count(IntervalLabels(server, "1003"), "On a call") == 1u);
}

BOOST_AUTO_TEST_CASE(a_call_reported_by_softphone_and_pbx_counts_once) {
  Kamailio kamailio;
  AgentServer server(WithSip(kamailio));
  server.Start();
  SetState(server, "1001", "Ready for Calls");
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) { return SubscribedAll(s, {"1001"}); }));
  PbxDialogs pbx(kamailio, "1001");
  // The softphone reports the call by its SIP Call-ID first, the PBX a moment later.
  PostEvent(server, "1001",
            R"({"type": "call_started", "call_id": "shared-1", "direction": "inbound"})");
  PostEvent(server, "1001", R"({"type": "call_answered", "call_id": "shared-1"})");
  BOOST_REQUIRE(WaitForLabel(server, "1001", "On a call"));
  pbx.Publish("shared-1", DialogState::kConfirmed);
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return s.getObject("details")->getValue<int>("call_events") >= 2;
  }));
  BOOST_TEST(GetAgent(server, "1001")->getArray("active_calls")->size() == 1u);
  // The softphone hangs up first: wrap-up starts; the PBX's late "terminated" changes nothing.
  PostEvent(server, "1001", R"({"type": "call_ended", "call_id": "shared-1"})");
  BOOST_REQUIRE(WaitForLabel(server, "1001", "Wrap-up"));
  const std::string since = GetAgent(server, "1001")->getValue<std::string>("since");
  pbx.Publish("shared-1", DialogState::kTerminated);
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return s.getObject("details")->getValue<int>("call_events") >= 3;
  }));
  Object::Ptr agent = GetAgent(server, "1001");
  BOOST_TEST(agent->getObject("state")->getValue<std::string>("label") == "Wrap-up");
  BOOST_TEST(agent->getValue<std::string>("since") == since);
  std::vector<std::string> labels = IntervalLabels(server, "1001");
  BOOST_TEST(Count(labels, "On a call") == 1u);
  BOOST_TEST(Count(labels, "Wrap-up") == 1u);
}

BOOST_AUTO_TEST_CASE(digest_authentication_with_the_configured_credentials) {
  Kamailio::Options options;
  options.auth = Kamailio::DigestAuth{};  // 407, user agent, password secret
  Kamailio kamailio(options);
  AgentServer server(WithSip(kamailio, {.watch = true, .username = "agent", .password = "secret"}));
  server.Start();
  SetState(server, "1001", "Lunch");
  SipPeer phone("phone", SipPeer::Credentials{"agent", "secret"});
  BOOST_REQUIRE_EQUAL(phone.Subscribe(Aor("1001"), kamailio.port(), "presence"), 200);
  auto seen =
      phone.WaitForNotify([](const SipPeer::Notify& n) { return ShowsNote(n, "Lunch"); }, kWait);
  BOOST_TEST(seen.has_value(), server.Log());
  BOOST_TEST(WaitForStatus(server, [](const Object& s) { return SubscribedAll(s, {"1001"}); }));
}

BOOST_AUTO_TEST_CASE(wrong_credentials_are_shown_not_retried_forever) {
  Kamailio::Options options;
  options.auth = Kamailio::DigestAuth{};
  Kamailio kamailio(options);
  AgentServer server(
      WithSip(kamailio, {.watch = false, .username = "agent", .password = "Pw-7x9q"}));
  server.Start();
  SetState(server, "1001", "Lunch");
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return PublicationOf(s, "1001", "last_result").find("refused the credentials") !=
           std::string::npos;
  }));
  std::ostringstream shown;
  SipStatus(server)->stringify(shown);
  BOOST_TEST(shown.str().find("Pw-7x9q") == std::string::npos);  // no secret shown
  BOOST_TEST(server.Log().find("Pw-7x9q") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(sip_check_walks_an_administrator_through_publish_and_subscribe) {
  Kamailio kamailio;
  AgentServer config(WithSip(kamailio));  // only its configuration file is used
  RunResult run = RunCommand({AgentBinary(), "sip-check", "-c", config.config_path(), "--user",
                              "1001", "--label", "Lunch"});
  BOOST_TEST(run.exit_code == 0, run.out + run.err);
  for (const char* step :
       {"1. SIP over udp to 127.0.0.1:", "2. PUBLISH presence of sip:1001@127.0.0.1: \"Lunch\"",
        "200 OK, SIP-ETag ", "3. SUBSCRIBE to presence and dialog of sip:1001@127.0.0.1",
        "tuple pa-1001 (the agent's): basic open, note \"Lunch\"", "person pa-p-1001: away",
        "4. PUBLISH Expires: 0", "OK: publish and subscribe work"}) {
    BOOST_TEST(run.out.find(step) != std::string::npos, step << "\n" << run.out);
  }
  // With Kamailio gone, each step says what failed and the exit code says so.
  kamailio.Stop();
  RunResult down = RunCommand({AgentBinary(), "sip-check", "-c", config.config_path(), "--user",
                               "1001", "--timeout-ms", "1500"});
  BOOST_TEST(down.exit_code == 2, down.out + down.err);
  BOOST_TEST(down.out.find("FAILED: no final answer within 1500 ms") != std::string::npos,
             down.out);
  // A user without identities.sip is named.
  RunResult unknown =
      RunCommand({AgentBinary(), "sip-check", "-c", config.config_path(), "--user", "nobody"});
  BOOST_TEST(unknown.exit_code != 0);
  BOOST_TEST(unknown.err.find("no user nobody") != std::string::npos, unknown.err);
}

BOOST_AUTO_TEST_CASE(a_reload_subscribes_new_users_and_ends_the_subscriptions_of_removed_ones) {
  Kamailio kamailio;
  AgentServer server(WithSip(kamailio));
  server.Start();
  BOOST_REQUIRE(WaitForStatus(server, [](const Object& s) {
    return SubscribedAll(s, {"1001", "1002", "1003", "1004"});
  }));
  Object::Ptr config = server.Config();
  Array::Ptr users = config->getArray("users");
  users->remove(3);  // 1004 goes
  Object::Ptr added = new Object();
  added->set("id", "1005");
  added->set("name", "Eve New");
  added->set("extension", "2005");
  added->set("team", "green");
  Object::Ptr identities = new Object();
  identities->set("sip", "1005");
  added->set("identities", identities);
  users->add(added);
  server.WriteConfig(config);
  server.Signal(SIGHUP);
  BOOST_REQUIRE_MESSAGE(WaitForStatus(server,
                                      [](const Object& s) {
                                        Object::Ptr subscriptions =
                                            s.getObject("details")->getObject("subscriptions");
                                        return SubscribedAll(s, {"1005"}) &&
                                               !subscriptions->has("1004");
                                      }),
                        server.Log());
  SetState(server, "1005", "Lunch");
  BOOST_TEST(WatchFor(kamailio, "1005", "Lunch").has_value());
}

BOOST_AUTO_TEST_CASE(the_sample_kamailio_configuration_is_valid) {
  RunResult check =
      RunCommand({"/usr/sbin/kamailio", "-c", "-f",
                  std::string(PRESENCE_SOURCE_DIR) + "/samples/kamailio/presence.cfg"});
  BOOST_TEST(check.exit_code == 0, check.out + check.err);
  BOOST_TEST((check.out + check.err).find("config file ok") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::testing
