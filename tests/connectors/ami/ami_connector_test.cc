// The AMI connector against the fake AMI server on loopback: what each change sends (Originate,
// FreePBX DND in AstDB, device and presence states), how the session survives drops, refusals,
// bad logins and hangs, how refusals by the PBX are reported, and configuration problems.
// Timeouts, the Ping interval and the reconnect back-off run on a fake monotonic clock: the
// tests move it, nothing waits for real seconds to pass.

#include "connectors/ami/ami_connector.h"

#include <algorithm>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/connector_block.h"
#include "tests/fakes/fake_ami_server.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_monotonic_clock.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::CatalogFromJson;
using testing::FakeAmiServer;
using testing::FakeClock;
using testing::FakeMonotonicClock;
using testing::JoinProblems;
using testing::ParseBlock;
using testing::ParseObject;

constexpr std::string_view kSecret = "s3cret-never-shown";

// A dial-command catalog with a label holding a comma and a state with an "ami" mapping.
std::string CatalogJson(
    const std::string& meeting_mapping = R"({"presence": "xa", "message": "In a meeting"})") {
  return R"({"settings": {"mode": "dial_command"}, "states": [
    {"label": "Ready for Calls", "reason_code": "*60", "status": 1},
    {"label": "Do Not Disturb", "reason_code": "*78", "status": 4},
    {"label": "Lunch, back at 2", "reason_code": "*62", "status": 3},
    {"label": "Meeting", "reason_code": "", "status": 5, "mappings": {"ami": )" +
         meeting_mapping + R"(}},
    {"label": "On a call", "reason_code": "*69", "status": 6, "selectable": false},
    {"label": "Offline", "reason_code": "*68", "status": 2},
    {"label": "Logout", "reason_code": "*67", "status": 7}
  ]})";
}

std::vector<std::string> Names(const std::vector<AmiMessage>& actions) {
  std::vector<std::string> names;
  for (const AmiMessage& action : actions) names.push_back(action.Get("Action"));
  return names;
}

// A started connector against a fake server, with users u1-u4 (1001-1004) and u5 (no
// extension).
struct Harness {
  explicit Harness(const std::string& keys = "", bool start = true) {
    std::vector<reasoncodes::User> users;
    for (int i = 1; i <= 4; ++i) {
      std::string id = "u" + std::to_string(i);
      users.push_back(reasoncodes::User{id, "User " + id, std::to_string(1000 + i), "", {}});
    }
    users.push_back(reasoncodes::User{"u5", "No Phone", "", "", {}});
    directory.catalog = CatalogFromJson(CatalogJson());
    directory.SetUsers(std::move(users));
    std::string block = R"({"type": "ami", "name": "pbx", "host": "127.0.0.1", "port": )" +
                        std::to_string(server.port()) + R"(, "username": "presence", "secret": ")" +
                        std::string(kSecret) + "\"" + (keys.empty() ? "" : ", " + keys) + "}";
    auto [settings, problems] = ParseBlock(AmiConnectorType(), *ParseObject(block),
                                           *directory.catalog, "connectors[0]", "pbx");
    if (!settings) throw std::runtime_error("bad test block: " + JoinProblems(problems));
    ConnectorEnv env;
    env.clock = &clock;
    env.steady = &steady;
    env.log = [this](LogLevel level, std::string_view text) {
      std::lock_guard lock(log_mutex);
      logs.push_back(FormatLogLine(level, text));
    };
    connector = AmiConnectorType().create(settings, env);
    if (start) connector->Start();
  }
  ~Harness() { connector->Stop(); }

  Delivery For(const std::string& user, const std::string& label) const {
    const reasoncodes::State* state = directory.FindState(label);
    if (!state) throw std::runtime_error("no state " + label);
    Delivery delivery;
    delivery.id = 1;
    delivery.change.agent = user;
    delivery.change.label = state->label;
    delivery.change.reason_code = state->reason_code;
    delivery.change.status = state->status;
    delivery.change.source = reasoncodes::Source::kAgent;
    return delivery;
  }
  DeliveryResult Deliver(const std::string& label, const std::string& user = "u1") {
    return connector->Deliver(For(user, label), directory);
  }
  bool Wants(const std::string& label) const {
    return connector->Wants(For("u1", label).change, directory);
  }
  std::string Detail(const std::string& key) const {
    return ParseObject(DetailsJson(*connector->Details()))->get(key).convert<std::string>();
  }
  std::string DetailsText() const { return DetailsJson(*connector->Details()); }
  std::vector<std::string> Logs() {
    std::lock_guard lock(log_mutex);
    return logs;
  }
  // Actions after the first Login, without the Pings.
  std::vector<AmiMessage> Sent() const {
    std::vector<AmiMessage> sent;
    for (const AmiMessage& action : server.actions()) {
      if (!action.Is("Action", "Login") && !action.Is("Action", "Ping")) sent.push_back(action);
    }
    return sent;
  }

  FakeAmiServer server{"presence", std::string(kSecret)};
  FakeClock clock{FromEpochMillis(1'800'000'000'000)};
  FakeMonotonicClock steady{clock};  // moves `clock` too
  Directory directory;
  std::mutex log_mutex;
  std::vector<std::string> logs;
  std::unique_ptr<Connector> connector;
};

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Headers without the ActionID, whose value the session picks.
std::vector<AmiMessage::Header> WithoutActionId(const AmiMessage& action) {
  std::vector<AmiMessage::Header> headers;
  for (const auto& header : action.headers()) {
    if (header.first != "ActionID") headers.push_back(header);
  }
  return headers;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ami_connector_test)

BOOST_AUTO_TEST_CASE(originate_dials_the_reason_code_on_the_users_channel) {
  Harness harness;
  DeliveryResult result = harness.Deliver("Do Not Disturb");
  BOOST_TEST(static_cast<int>(result.kind) == static_cast<int>(DeliveryResult::Kind::kDelivered),
             result.detail);
  std::vector<AmiMessage> logins = harness.server.actions("Login");
  BOOST_REQUIRE_EQUAL(logins.size(), 1u);
  BOOST_TEST(logins[0].Get("Username") == "presence");
  BOOST_TEST(logins[0].Get("Events") == "off");
  std::vector<AmiMessage> sent = harness.Sent();
  BOOST_REQUIRE_EQUAL(sent.size(), 1u);
  BOOST_TEST(!sent[0].ActionId().empty());
  std::vector<AmiMessage::Header> expected = {
      {"Action", "Originate"}, {"Channel", "PJSIP/1001"}, {"Context", "from-internal"},
      {"Exten", "*78"},        {"Priority", "1"},         {"CallerID", "\"Do Not Disturb\" <1001>"},
      {"Timeout", "30000"},    {"Async", "true"}};
  BOOST_TEST((WithoutActionId(sent[0]) == expected));
  BOOST_TEST(sent[0].headers()[1].first == "ActionID");  // right after Action, as in 4.3
}

BOOST_AUTO_TEST_CASE(channel_context_priority_and_caller_id_follow_the_settings) {
  Harness harness(R"("channel": "SIP/{extension}", "context": "presence-codes", "priority": 2,
                     "caller_id": "{user} <{extension}> {reason_code}",
                     "originate_timeout_ms": 15000)");
  BOOST_TEST((harness.Deliver("Lunch, back at 2", "u3").kind == DeliveryResult::Kind::kDelivered));
  std::vector<AmiMessage> sent = harness.Sent();
  BOOST_REQUIRE_EQUAL(sent.size(), 1u);
  BOOST_TEST(sent[0].Get("Channel") == "SIP/1003");
  BOOST_TEST(sent[0].Get("Context") == "presence-codes");
  BOOST_TEST(sent[0].Get("Exten") == "*62");
  BOOST_TEST(sent[0].Get("Priority") == "2");
  BOOST_TEST(sent[0].Get("CallerID") == "u3 <1003> *62");
  BOOST_TEST(sent[0].Get("Timeout") == "15000");
}

BOOST_AUTO_TEST_CASE(an_empty_reason_code_dials_nothing) {
  Harness harness;
  BOOST_TEST(!harness.Wants("Meeting"));
  BOOST_TEST(harness.Wants("Do Not Disturb"));
  // Should it be delivered anyway (a Wants from an older configuration), nothing is sent.
  BOOST_TEST((harness.Deliver("Meeting").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(harness.Sent().empty());
  Harness with_dnd(R"("astdb_dnd": true)");
  BOOST_TEST(with_dnd.Wants("Meeting"));
}

BOOST_AUTO_TEST_CASE(a_refresh_does_not_ring_the_phone_again) {
  Harness harness(R"("astdb_dnd": true)");
  Delivery refresh = harness.For("u1", "Do Not Disturb");
  refresh.refresh = true;
  BOOST_TEST((harness.connector->Deliver(refresh, harness.directory).kind ==
              DeliveryResult::Kind::kDelivered));
  BOOST_TEST((Names(harness.Sent()) == std::vector<std::string>{"DBPut"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_user_or_a_user_without_extension_is_rejected) {
  Harness harness;
  DeliveryResult unknown = harness.connector->Deliver(
      [&] {
        Delivery delivery = harness.For("u1", "Do Not Disturb");
        delivery.change.agent = "ghost";
        return delivery;
      }(),
      harness.directory);
  BOOST_TEST((unknown.kind == DeliveryResult::Kind::kRejected));
  BOOST_TEST(unknown.detail == "unknown user 'ghost'");
  DeliveryResult no_phone = harness.Deliver("Do Not Disturb", "u5");
  BOOST_TEST((no_phone.kind == DeliveryResult::Kind::kRejected));
  BOOST_TEST(no_phone.detail == "user 'u5' has no extension for the PBX");
  BOOST_TEST(harness.Sent().empty());
}

BOOST_AUTO_TEST_CASE(astdb_dnd_puts_yes_for_dnd_and_deletes_the_key_otherwise) {
  Harness harness(R"("dial": false, "astdb_dnd": true)");
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(harness.server.DbGet("DND", "1001").value_or("<none>") == "YES");
  BOOST_TEST((harness.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(!harness.server.DbGet("DND", "1001"));
  // Off again: the key is already gone, which the PBX reports as an error; DND is off anyway.
  DeliveryResult again = harness.Deliver("Lunch, back at 2");
  BOOST_TEST((again.kind == DeliveryResult::Kind::kDelivered), again.detail);
  std::vector<AmiMessage> sent = harness.Sent();
  BOOST_TEST((Names(sent) == std::vector<std::string>{"DBPut", "DBDel", "DBDel"}));
  std::vector<AmiMessage::Header> put = {
      {"Action", "DBPut"}, {"Family", "DND"}, {"Key", "1001"}, {"Val", "YES"}};
  BOOST_TEST((WithoutActionId(sent[0]) == put));
}

BOOST_AUTO_TEST_CASE(device_state_mirrors_freepbx_for_the_user_and_each_device) {
  Harness harness(R"("dial": false, "astdb_dnd": true, "device_state": true)");
  harness.server.DbPut("AMPUSER", "1001/device", "1001&1001b");
  // An unrelated event before every answer and between the parts of DBGet's list.
  harness.server.SetInterleavedEvent(AmiMessage{
      {"Event", "Newchannel"}, {"Privilege", "call,all"}, {"Channel", "PJSIP/1002-00000007"}});
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  for (std::string name : {"DND1001", "DEVDND1001", "DEVDND1001b"}) {
    BOOST_TEST(
        harness.server.Variable("DEVICE_STATE(Custom:" + name + ")").value_or("<none>") == "BUSY",
        name);
  }
  BOOST_TEST((harness.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kDelivered));
  for (std::string name : {"DND1001", "DEVDND1001", "DEVDND1001b"}) {
    BOOST_TEST(harness.server.Variable("DEVICE_STATE(Custom:" + name + ")").value_or("<none>") ==
                   "UNAVAILABLE",
               name);
  }
  std::vector<AmiMessage> gets = harness.server.actions("DBGet");
  BOOST_REQUIRE(!gets.empty());
  BOOST_TEST(gets[0].Get("Family") == "AMPUSER");
  BOOST_TEST(gets[0].Get("Key") == "1001/device");
}

BOOST_AUTO_TEST_CASE(device_state_without_devices_sets_only_the_users_own) {
  Harness harness(R"("dial": false, "astdb_dnd": true, "device_state": true)");
  BOOST_TEST((harness.Deliver("Do Not Disturb", "u2").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST((Names(harness.Sent()) == std::vector<std::string>{"DBPut", "Setvar", "DBGet"}));
  BOOST_TEST(harness.server.Variable("DEVICE_STATE(Custom:DND1002)").value_or("<none>") == "BUSY");
}

BOOST_DATA_TEST_CASE(presence_state_follows_the_status_the_label_and_the_mapping,
                     data::make({"Ready for Calls", "Do Not Disturb", "Lunch, back at 2", "Meeting",
                                 "On a call", "Offline", "Logout"}) ^
                         data::make({"available,,Ready for Calls", "dnd,,Do Not Disturb",
                                     "away,,THVuY2gsIGJhY2sgYXQgMg==,e", "xa,,In a meeting",
                                     "dnd,,On a call", "unavailable,,Offline",
                                     "unavailable,,Logout"}),
                     label, value) {
  Harness harness(R"("dial": false, "presence_state": true)");
  DeliveryResult result = harness.Deliver(label);
  BOOST_TEST((result.kind == DeliveryResult::Kind::kDelivered), result.detail);
  BOOST_TEST(harness.server.Variable("PRESENCE_STATE(CustomPresence:1001)").value_or("<none>") ==
             value);
}

BOOST_AUTO_TEST_CASE(a_change_dials_then_sets_dnd_then_presence) {
  Harness harness(R"("astdb_dnd": true, "presence_state": true)");
  DeliveryResult result = harness.Deliver("Do Not Disturb");
  BOOST_TEST((result.kind == DeliveryResult::Kind::kDelivered), result.detail);
  BOOST_TEST(result.detail == "dialled *78, DND on, presence dnd for 1001");
  BOOST_TEST((Names(harness.Sent()) == std::vector<std::string>{"Originate", "DBPut", "Setvar"}));
}

BOOST_AUTO_TEST_CASE(several_deliveries_share_the_session_at_once) {
  Harness harness(R"("astdb_dnd": true)");
  std::vector<DeliveryResult> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = harness.Deliver("Do Not Disturb", "u" + std::to_string(i + 1)); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const DeliveryResult& result : results) {
    BOOST_TEST((result.kind == DeliveryResult::Kind::kDelivered), result.detail);
  }
  for (int i = 1; i <= 4; ++i) {
    BOOST_TEST(harness.server.DbGet("DND", std::to_string(1000 + i)).value_or("<none>") == "YES");
  }
  BOOST_TEST(harness.server.actions("Login").size() == 1u);
}

// The back-off before the next attempt: between half of and the whole `full` from now.
void CheckBackoff(Harness& harness, milliseconds full) {
  BOOST_REQUIRE(harness.steady.AwaitWaiters(1));
  std::vector<MonotonicClock::Instant> deadlines = harness.steady.Deadlines();
  BOOST_REQUIRE_EQUAL(deadlines.size(), 1u);
  const auto wait = deadlines[0] - harness.steady.Now();
  BOOST_TEST((wait >= full / 2 && wait <= full));
}

BOOST_AUTO_TEST_CASE(the_session_reconnects_after_a_drop_and_the_next_delivery_succeeds) {
  Harness harness;
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(harness.Detail("connected_since") == FormatTime(harness.clock.Now()));
  harness.server.DropConnections();
  // No reconnect before the back-off (first: 0.5 to 1 s) has passed.
  DeliveryResult during = harness.Deliver("Ready for Calls");
  BOOST_TEST((during.kind == DeliveryResult::Kind::kRetry), during.detail);
  BOOST_TEST(during.whole_connector);
  CheckBackoff(harness, seconds(1));
  BOOST_TEST(harness.server.actions("Login").size() == 1u);
  harness.steady.Advance(seconds(1));
  BOOST_REQUIRE(harness.server.WaitForAction("Login", 2));
  DeliveryResult after = harness.Deliver("Ready for Calls");
  BOOST_TEST((after.kind == DeliveryResult::Kind::kDelivered), after.detail);
  BOOST_TEST(harness.Detail("session") == "connected");
  BOOST_TEST(harness.Detail("reconnects") == "1");
  BOOST_TEST(harness.Detail("version") == "13.0.0");
  std::vector<std::string> logs = harness.Logs();
  BOOST_TEST(std::count_if(logs.begin(), logs.end(),
                           [](const std::string& line) { return Contains(line, "lost"); }) == 1);
}

BOOST_AUTO_TEST_CASE(ping_keeps_the_session_alive) {
  Harness harness(R"("ping_seconds": 20)");
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  harness.steady.Advance(milliseconds(19999));
  BOOST_TEST((harness.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(harness.server.actions("Ping").empty());
  harness.steady.Advance(milliseconds(1));  // 20 s after the login
  BOOST_REQUIRE(harness.server.WaitForAction("Ping", 1));
  // Answered after the Ping's answer: the session has read that too once this returns. (Moving
  // the clock on before it has would leave the Ping unanswered for too long.)
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  harness.steady.Advance(seconds(20));
  BOOST_REQUIRE(harness.server.WaitForAction("Ping", 2));
  std::vector<AmiMessage> pings = harness.server.actions("Ping");
  BOOST_TEST(pings[0].ActionId() != pings[1].ActionId());
  BOOST_TEST(harness.server.connections() == 1);
}

BOOST_AUTO_TEST_CASE(a_ping_left_unanswered_for_the_action_timeout_ends_the_connection) {
  Harness harness(R"("ping_seconds": 20, "action_timeout_ms": 5000)");
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  harness.server.Hang();
  harness.steady.Advance(seconds(20));
  BOOST_REQUIRE(harness.server.WaitForAction("Ping", 1));
  harness.steady.Advance(milliseconds(5000));
  CheckBackoff(harness, seconds(1));  // the connection was dropped: a back-off before the next
  BOOST_TEST(harness.Detail("session") == "disconnected");
  BOOST_TEST(Contains(harness.Detail("last_error"), "no answer to Ping within 5000 ms"),
             harness.Detail("last_error"));
  harness.server.Release();
  harness.steady.Advance(seconds(1));
  BOOST_REQUIRE(harness.server.WaitForAction("Login", 2));
  BOOST_TEST((harness.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kDelivered));
  BOOST_TEST(harness.Detail("reconnects") == "1");
}

BOOST_AUTO_TEST_CASE(a_refused_login_is_retried_and_shown_until_the_server_accepts) {
  Harness harness("", false);
  harness.server.RejectNextLogin();
  harness.connector->Start();
  DeliveryResult refused = harness.Deliver("Do Not Disturb");
  BOOST_TEST((refused.kind == DeliveryResult::Kind::kRetry), refused.detail);
  BOOST_TEST(refused.whole_connector);
  BOOST_TEST(Contains(refused.detail, "Authentication failed"), refused.detail);
  BOOST_TEST(harness.Detail("session") == "auth_failed");
  BOOST_TEST(Contains(harness.Detail("last_error"), "Authentication failed"));
  CheckBackoff(harness, seconds(1));
  harness.steady.Advance(seconds(1));
  BOOST_REQUIRE(harness.server.WaitForAction("Login", 2));
  DeliveryResult accepted = harness.Deliver("Do Not Disturb");
  BOOST_TEST((accepted.kind == DeliveryResult::Kind::kDelivered), accepted.detail);
  BOOST_TEST(harness.Detail("session") == "connected");
  BOOST_TEST(!Contains(harness.DetailsText(), kSecret));
  for (const std::string& line : harness.Logs()) BOOST_TEST(!Contains(line, kSecret), line);
}

BOOST_AUTO_TEST_CASE(refused_connections_are_retried_and_logged_once) {
  Harness harness("", false);
  harness.server.Refuse();
  harness.connector->Start();  // returns at once: the server is down
  DeliveryResult down = harness.Deliver("Do Not Disturb");
  BOOST_TEST((down.kind == DeliveryResult::Kind::kRetry), down.detail);
  BOOST_TEST(Contains(down.detail, "cannot connect"), down.detail);
  BOOST_TEST(harness.Detail("session") != "connected");
  // Each attempt that fails doubles the back-off (1 s, 2 s, 4 s: each drawn from its upper half).
  CheckBackoff(harness, seconds(1));
  harness.steady.Advance(seconds(1));
  CheckBackoff(harness, seconds(2));
  harness.steady.Advance(seconds(2));
  CheckBackoff(harness, seconds(4));
  harness.server.Accept();
  harness.steady.Advance(seconds(4));
  BOOST_REQUIRE(harness.server.WaitForAction("Login", 1));
  DeliveryResult up = harness.Deliver("Do Not Disturb");
  BOOST_TEST((up.kind == DeliveryResult::Kind::kDelivered), up.detail);
  std::vector<std::string> logs = harness.Logs();
  BOOST_TEST(std::count_if(logs.begin(), logs.end(), [](const std::string& line) {
               return Contains(line, "cannot connect");
             }) == 1);
}

BOOST_AUTO_TEST_CASE(a_hung_server_is_retried_within_the_action_timeout) {
  Harness harness(R"("action_timeout_ms": 300)");
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  harness.server.Hang();
  const auto start = harness.steady.Now();
  std::future<DeliveryResult> delivering =
      std::async(std::launch::async, [&] { return harness.Deliver("Ready for Calls"); });
  BOOST_REQUIRE(harness.server.WaitForAction("Originate", 2));
  BOOST_REQUIRE(harness.steady.AwaitWaiters(1));
  BOOST_TEST((harness.steady.Deadlines() ==
              std::vector<MonotonicClock::Instant>{start + milliseconds(300)}));
  harness.steady.Advance(milliseconds(299));
  BOOST_TEST((delivering.wait_for(seconds(0)) != std::future_status::ready));
  harness.steady.Advance(milliseconds(1));
  DeliveryResult hung = delivering.get();
  BOOST_TEST((hung.kind == DeliveryResult::Kind::kRetry), hung.detail);
  BOOST_TEST(Contains(hung.detail, "no answer to Originate"), hung.detail);
  BOOST_TEST(Contains(hung.detail, "within 300 ms"), hung.detail);
  harness.server.Release();
}

BOOST_DATA_TEST_CASE(an_error_response_is_rejected_with_the_servers_message,
                     data::make({"Extension does not exist.", "Permission denied"}), message) {
  Harness harness;
  harness.server.FailNextAction(message);
  DeliveryResult result = harness.Deliver("Do Not Disturb");
  BOOST_TEST((result.kind == DeliveryResult::Kind::kRejected));
  BOOST_TEST(Contains(result.detail, message), result.detail);
  BOOST_TEST(Contains(result.detail, "Originate *78 on PJSIP/1001"), result.detail);
}

BOOST_AUTO_TEST_CASE(originate_failures_are_counted_and_explained) {
  Harness harness(R"("events": "call")");
  harness.server.SetOriginateFailure(5);
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  harness.server.SetOriginateFailure(std::nullopt);
  // The failure event follows the first answer; this second action's answer comes after it.
  BOOST_TEST((harness.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kDelivered));
  json::Object::Ptr details = ParseObject(DetailsJson(*harness.connector->Details()));
  BOOST_TEST(details->getValue<int>("originate_failures") == 1);
  json::Object::Ptr last = details->getObject("last_originate_failure");
  BOOST_REQUIRE(last);
  BOOST_TEST(last->getValue<int>("reason") == 5);
  BOOST_TEST(last->getValue<std::string>("reason_text") == "busy");
  BOOST_TEST(last->getValue<std::string>("exten") == "*78");
  BOOST_TEST(last->getValue<std::string>("channel") == "PJSIP/1001");
}

// No echo: what the PBX reported is not sent back to it (the catalog here has no actions, so
// not even a logout of a phone that went away has anything to carry out).
BOOST_AUTO_TEST_CASE(changes_reported_by_the_pbx_are_not_sent_back) {
  Harness harness("\"astdb_dnd\": true");
  Change change = harness.For("u1", "Do Not Disturb").change;
  BOOST_TEST(harness.connector->Wants(change, harness.directory));
  change.source = reasoncodes::Source::kPbx;
  BOOST_TEST(!harness.connector->Wants(change, harness.directory));
  Change logout = harness.For("u1", "Logout").change;
  logout.source = reasoncodes::Source::kPbx;
  BOOST_TEST(!harness.connector->Wants(logout, harness.directory));
}

BOOST_AUTO_TEST_CASE(stop_logs_off_and_later_deliveries_are_retried) {
  Harness harness;
  BOOST_TEST((harness.Deliver("Do Not Disturb").kind == DeliveryResult::Kind::kDelivered));
  harness.connector->Stop();
  BOOST_TEST(harness.server.actions("Logoff").size() == 1u);
  BOOST_TEST(harness.Detail("session") == "disconnected");
  BOOST_TEST((harness.Deliver("Ready for Calls").kind == DeliveryResult::Kind::kRetry));
}

BOOST_DATA_TEST_CASE(
    configuration_problems_are_listed,
    data::make({
        R"({"secret": "x"})",
        R"({"username": "presence"})",
        R"({"username": "presence", "secret": "x", "channel": "PJSIP-{extension}"})",
        R"({"username": "presence", "secret": "x", "channel": "PJSIP/1001"})",
        R"({"username": "presence", "secret": "x", "caller_id": "{name} <{extension}>"})",
        R"({"username": "presence", "secret": "x", "caller_id": "{label"})",
        R"({"username": "presence", "secret": "x", "port": 70000})",
        R"({"username": "presence", "secret": "x", "originate_timeout_ms": 500})",
        R"({"username": "presence", "secret": "x", "ping_seconds": 0})",
        R"({"username": "presence", "secret": "x", "device_state": true})",
        R"({"username": "presence", "secret": "x", "events": "call agent"})",
        R"({"username": "presence", "secret": "x", "dial": false})",
        R"({"username": "presence", "secret": "x", "dial": "yes"})",
        R"({"username": "presence", "secret": "x", "from_pbx": ["calls", "fax"]})",
        R"({"username": "presence", "secret": "x", "from_pbx": "calls"})",
        R"({"username": "presence", "secret": "x", "dnd_labels": {"on": "Nap"}})",
        R"({"username": "presence", "secret": "x", "dnd_labels": {"of": "Lunch"}})",
        R"({"username": "presence", "secret": "x", "pause_rules": [{"paused": true}]})",
        R"({"username": "presence", "secret": "x", "pause_rules": [{"label": "Lunch"}]})",
        R"({"username": "presence", "secret": "x", "queue_interface": "Local/1001@from-queue"})",
        R"({"username": "presence", "secret": "x", "voicemail": "*{mailbox}"})",
        R"({"username": "presence", "secret": "x", "verify_actions": 1})",
    }) ^ data::make({
             "connectors[0].username: missing",
             "connectors[0].secret: missing",
             "connectors[0].channel: \"PJSIP-{extension}\" must name a technology",
             "connectors[0].channel: \"PJSIP/1001\" must name a technology",
             "connectors[0].caller_id: unknown placeholder {name} (allowed: {extension}, {label}, "
             "{reason_code}, {user})",
             "connectors[0].caller_id: \"{label\" has a '{' without its '}'",
             "connectors[0].port: 70000 is out of range (1-65535)",
             "connectors[0].originate_timeout_ms: 500 is out of range (1000-120000)",
             "connectors[0].ping_seconds: 0 is out of range (1-3600)",
             "connectors[0].device_state: needs \"astdb_dnd\": true",
             "connectors[0].events: \"call agent\" is not an event setting",
             "connectors[0]: does nothing",
             "connectors[0].dial: must be true or false",
             "connectors[0].from_pbx[1]: \"fax\"",
             "connectors[0].from_pbx: must be a list of \"calls\", \"dnd\", \"queues\"",
             "connectors[0].dnd_labels.on: \"Nap\" is not a state of the catalog",
             "connectors[0].dnd_labels.of",
             "connectors[0].pause_rules[0].label: missing",
             "connectors[0].pause_rules[0].paused: missing",
             "connectors[0].queue_interface: \"Local/1001@from-queue\" must name a technology "
             "and the extension",
             "connectors[0].voicemail: unknown placeholder {mailbox}",
             "connectors[0].verify_actions: must be true or false",
         }),
    block, expected) {
  auto catalog = CatalogFromJson(CatalogJson());
  auto [settings, problems] =
      ParseBlock(AmiConnectorType(), *ParseObject(block), *catalog, "connectors[0]", "pbx");
  BOOST_TEST(!settings);
  BOOST_TEST(Contains(JoinProblems(problems), expected), JoinProblems(problems));
}

BOOST_AUTO_TEST_CASE(a_bad_state_mapping_is_a_problem_at_its_path) {
  auto catalog = CatalogFromJson(CatalogJson(R"({"presence": "sleeping", "mesage": "x"})"));
  auto [settings, problems] =
      ParseBlock(AmiConnectorType(), *ParseObject(R"({"username": "presence", "secret": "x"})"),
                 *catalog, "connectors[0]", "pbx");
  BOOST_TEST(!settings);
  std::string text = JoinProblems(problems);
  BOOST_TEST(Contains(text,
                      "states[3].mappings.ami.presence: \"sleeping\" is not a presence "
                      "state (not_set, unavailable, available, away, xa, chat, dnd)"),
             text);
  BOOST_TEST(Contains(text,
                      "states[3].mappings.ami.mesage: unknown key, did you mean "
                      "\"message\"?"),
             text);
}

BOOST_AUTO_TEST_CASE(a_good_block_has_no_problems_and_the_type_declares_its_defaults) {
  auto catalog = CatalogFromJson(CatalogJson());
  auto [settings, problems] = ParseBlock(
      AmiConnectorType(),
      *ParseObject(
          R"({"username": "presence", "secret": "x", "astdb_dnd": true, "device_state": true,
          "presence_state": true, "events": "call,agent", "host": "pbx.example.net"})"),
      *catalog, "connectors[0]", "pbx");
  BOOST_TEST(problems.empty(), JoinProblems(problems));
  BOOST_REQUIRE(settings);
  ConnectorType type = AmiConnectorType();
  BOOST_TEST(type.type == "ami");
  BOOST_TEST(type.mode == "dial_command");
  BOOST_TEST(type.defaults.coalesce);
  BOOST_TEST(type.defaults.concurrency == 4);
  BOOST_TEST(type.defaults.skip_sources.empty());  // the connector's Wants filters pbx changes
  const auto& ami = dynamic_cast<const AmiSettings&>(*settings);
  BOOST_TEST(ami.session.port == 5038);
  BOOST_TEST(ami.channel == "PJSIP/{extension}");
  BOOST_TEST(ami.session.events == "call,agent");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
