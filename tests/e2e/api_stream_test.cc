// End to end: the live stream of the real `presence-agent serve`, as dashboards and
// integrations read it: Server-Sent Events and WebSocket, resuming, access, and 1,000 viewers.

#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "agent/stream/websocket_protocol.h"
#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using SteadyClock = std::chrono::steady_clock;
using testing::AgentServer;
using testing::HttpClient;
using testing::HttpHeaders;
using testing::HttpResponse;
using testing::NewWebSocketKey;
using testing::RawConnection;
using testing::SseEvent;
using testing::SseParser;

constexpr std::chrono::milliseconds kWait{5000};  // bound on any one awaited message

// One stream message: {"type": "snapshot"|"agent", "epoch", "seq", "agents"|"agent"}.
struct Message {
  std::string type;
  std::string epoch;
  uint64_t seq = 0;
  Object::Ptr json;

  // "agent" messages: the user and the label of their state.
  std::string Agent() const { return json->getObject("agent")->getValue<std::string>("id"); }
  std::string Label() const {
    return json->getObject("agent")->getObject("state")->getValue<std::string>("label");
  }
};

Message ParseMessage(const std::string& text) {
  Poco::JSON::Parser parser;
  Message message;
  message.json = parser.parse(text).extract<Object::Ptr>();
  message.type = message.json->getValue<std::string>("type");
  message.epoch = message.json->getValue<std::string>("epoch");
  message.seq = message.json->getValue<uint64_t>("seq");
  return message;
}

std::chrono::milliseconds Left(SteadyClock::time_point deadline) {
  return std::max(
      std::chrono::milliseconds(0),
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()));
}

// A dashboard reading GET /api/v1/stream.
class SseClient {
 public:
  SseClient(uint16_t port, const HttpHeaders& headers, const std::string& path = "/api/v1/stream")
      : connection_(port) {
    connection_.SendAll(testing::RawGet(path, headers));
    status_ = connection_.ReadHead(kWait);
    parser_.Feed(connection_.leftover);
    connection_.leftover.clear();
  }

  int status() const { return status_; }
  const std::string& head() const { return connection_.head(); }

  // The next event, or nullopt when none came within kWait or the stream ended.
  std::optional<SseEvent> Next() {
    const auto deadline = SteadyClock::now() + kWait;
    for (;;) {
      for (SseEvent& event : parser_.Take()) events_.push_back(std::move(event));
      if (!events_.empty()) {
        SseEvent event = std::move(events_.front());
        events_.pop_front();
        return event;
      }
      if (Left(deadline).count() == 0) return std::nullopt;
      std::optional<std::string> bytes = connection_.Receive(Left(deadline));
      if (!bytes) return std::nullopt;
      parser_.Feed(*bytes);
    }
  }

  // The next event's message, checking that the SSE id and event name match its JSON.
  std::optional<Message> NextMessage() {
    std::optional<SseEvent> event = Next();
    if (!event) return std::nullopt;
    Message message = ParseMessage(event->data);
    BOOST_TEST(event->event == message.type);
    BOOST_TEST(event->id == message.epoch + "-" + std::to_string(message.seq));
    return message;
  }

 private:
  RawConnection connection_;
  int status_ = 0;
  SseParser parser_;
  std::deque<SseEvent> events_;
};

// A browser's WebSocket on GET /api/v1/ws.
class WsClient {
 public:
  WsClient(uint16_t port, const HttpHeaders& auth, const std::string& path = "/api/v1/ws")
      : connection_(port), key_(NewWebSocketKey()), parser_(websocket::FrameParser::From::kServer) {
    HttpHeaders headers = auth;
    headers.insert(headers.end(), {{"Upgrade", "websocket"},
                                   {"Connection", "Upgrade"},
                                   {"Sec-WebSocket-Key", key_},
                                   {"Sec-WebSocket-Version", "13"}});
    connection_.SendAll(testing::RawGet(path, headers));
    status_ = connection_.ReadHead(kWait);
    pending_ = std::move(connection_.leftover);
    connection_.leftover.clear();
  }

  int status() const { return status_; }
  const std::string& head() const { return connection_.head(); }
  const std::string& key() const { return key_; }

  // The next message of any kind, or nullopt (nothing within kWait, closed, or a bad frame).
  std::optional<websocket::Message> Next() {
    const auto deadline = SteadyClock::now() + kWait;
    for (;;) {
      if (!pending_.empty()) {
        std::vector<websocket::Message> messages;
        Status fed = parser_.Feed(pending_, messages);
        pending_.clear();
        BOOST_TEST(fed.ok());
        if (!fed.ok()) return std::nullopt;
        for (websocket::Message& message : messages) messages_.push_back(std::move(message));
      }
      if (!messages_.empty()) {
        websocket::Message message = std::move(messages_.front());
        messages_.pop_front();
        return message;
      }
      if (Left(deadline).count() == 0) return std::nullopt;
      std::optional<std::string> bytes = connection_.Receive(Left(deadline));
      if (!bytes) return std::nullopt;
      pending_ = std::move(*bytes);
    }
  }

  // The next text message as a stream message; pings (idle keepalives) are skipped.
  std::optional<Message> NextMessage() {
    for (;;) {
      std::optional<websocket::Message> message = Next();
      if (!message) return std::nullopt;
      if (message->opcode == websocket::Opcode::kPing) continue;
      BOOST_TEST((message->opcode == websocket::Opcode::kText));
      return ParseMessage(message->payload);
    }
  }

  void Send(websocket::Opcode opcode, std::string_view payload) {
    connection_.SendAll(websocket::EncodeClientFrame(opcode, payload, 0x5a17c0de));
  }

  // Whether the server closes the connection within kWait (after any last bytes).
  bool ClosedByServer() {
    const auto deadline = SteadyClock::now() + kWait;
    while (Left(deadline).count() > 0) {
      if (!connection_.Receive(Left(deadline))) return true;
    }
    return false;
  }

 private:
  RawConnection connection_;
  std::string key_;
  int status_ = 0;
  websocket::FrameParser parser_;
  std::string pending_;
  std::deque<websocket::Message> messages_;
};

HttpHeaders Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// PUT /agents/{id}/state as the CRM; fails the test unless it is a 200 with a change.
void Change(HttpClient& http, const AgentServer& server, const std::string& id,
            const std::string& label) {
  HttpResponse response = http.Put("/api/v1/agents/" + id + "/state", server.tokens().integration,
                                   R"({"label": ")" + label + "\"}");
  BOOST_REQUIRE_EQUAL(response.status, 200);
  BOOST_REQUIRE(response.Json()->getArray("changes")->size() > 0u);
}

uint64_t CurrentSeq(HttpClient& http, const AgentServer& server) {
  return http.Get("/api/v1/agents", server.tokens().supervisor).Json()->getValue<uint64_t>("seq");
}

// The state of user `id` in a snapshot message, "" when absent.
std::string SnapshotLabel(const Message& snapshot, const std::string& id) {
  Array::Ptr agents = snapshot.json->getArray("agents");
  for (size_t i = 0; i < agents->size(); ++i) {
    Object::Ptr agent = agents->getObject(static_cast<unsigned>(i));
    if (agent->getValue<std::string>("id") == id) {
      return agent->getObject("state")->getValue<std::string>("label");
    }
  }
  return "";
}

// The ids of the users in a snapshot message, in its order.
std::vector<std::string> SnapshotIds(const Message& snapshot) {
  std::vector<std::string> ids;
  Array::Ptr agents = snapshot.json->getArray("agents");
  for (size_t i = 0; i < agents->size(); ++i) {
    ids.push_back(agents->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
  }
  return ids;
}

// The next `count` messages of an SseClient or WsClient; fails the test when one does not come.
template <typename Client>
std::vector<Message> NextMessages(Client& client, size_t count) {
  std::vector<Message> messages;
  for (size_t i = 0; i < count; ++i) {
    std::optional<Message> message = client.NextMessage();
    BOOST_REQUIRE_MESSAGE(message, "message " << i + 1 << " of " << count << " did not come");
    messages.push_back(std::move(*message));
  }
  return messages;
}

// One user's update as a softphone expects it: the stream's seq, the user, the state.
struct Expected {
  uint64_t seq;
  std::string agent;
  std::string label;
};

void CheckUpdates(const std::vector<Message>& got, const std::vector<Expected>& expected) {
  BOOST_REQUIRE_EQUAL(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST_CONTEXT("update " << i + 1) {
      BOOST_TEST(got[i].type == "agent");
      BOOST_TEST(got[i].seq == expected[i].seq);
      BOOST_TEST(got[i].Agent() == expected[i].agent);
      BOOST_TEST(got[i].Label() == expected[i].label);
    }
  }
}

// A view's "omni_channel" member as JSON text, "absent" when it has none.
std::string OmniChannelText(const Object::Ptr& view) {
  if (!view->has("omni_channel")) return "absent";
  std::ostringstream text;
  Poco::JSON::Stringifier::stringify(view->get("omni_channel"), text);
  return text.str();
}

constexpr std::string_view kReadyStatusId = "0N5Wx000000A1bCKAS";
constexpr std::string_view kLunchStatusId = "0N5Wx000000A1bDKAS";

// settings.omni_channel on (without its connector: loads with a warning); Ready for Calls and
// Lunch mapped to Omni-Channel statuses, Logout to an Omni-Channel logout, Training to a block
// the omni_channel connector would refuse (not a ServicePresenceStatus id: nothing validates it
// without the connector), the rest unmapped.
void WithOmniChannel(Object& config) {
  config.getObject("settings")->set("omni_channel", true);
  Array::Ptr states = config.getArray("states");
  for (size_t i = 0; i < states->size(); ++i) {
    Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    const std::string label = state->getValue<std::string>("label");
    Object::Ptr block = new Object();
    if (label == "Ready for Calls") {
      block->set("status_id", std::string(kReadyStatusId));
    } else if (label == "Lunch") {
      block->set("status_id", std::string(kLunchStatusId));
    } else if (label == "Logout") {
      block->set("logout", true);
    } else if (label == "Training") {
      block->set("status_id", std::string("Training"));
    } else {
      continue;
    }
    Object::Ptr mappings = new Object();
    mappings->set("omni_channel", block);
    state->set("mappings", mappings);
  }
}

// A started server.
struct StreamFixture {
  explicit StreamFixture(std::function<void(Object&)> adjust = {})
      : server(std::move(adjust)), http(Started(server).port()) {}
  static AgentServer& Started(AgentServer& server) {
    server.Start();
    return server;
  }
  const testing::AgentTokens& tokens() const { return server.tokens(); }

  AgentServer server;
  HttpClient http;
};

// One of many viewers read from a single thread: its socket and what it has seen so far.
struct Viewer {
  explicit Viewer(uint16_t port) : connection(port) {}
  RawConnection connection;
  std::string head;  // until the blank line has arrived
  bool head_done = false;
  bool closed = false;
  SseParser parser;
  std::vector<Message> messages;

  void Take(const std::string& bytes) {
    if (head_done) {
      parser.Feed(bytes);
    } else {
      head += bytes;
      const size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) return;
      head_done = true;
      parser.Feed(std::string_view(head).substr(end + 4));
      head.resize(end + 4);
    }
    for (const SseEvent& event : parser.Take()) messages.push_back(ParseMessage(event.data));
  }
};

// Reads every viewer with poll() from this one thread until each has `count` messages or has
// been closed, or the deadline passes. Returns how many have `count`.
size_t ReadUntil(std::vector<std::unique_ptr<Viewer>>& viewers, size_t count,
                 SteadyClock::time_point deadline) {
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Viewer*> waiting;
    for (auto& viewer : viewers) {
      if (viewer->closed || viewer->messages.size() >= count) continue;
      fds.push_back(pollfd{viewer->connection.fd(), POLLIN, 0});
      waiting.push_back(viewer.get());
    }
    if (waiting.empty() || Left(deadline).count() == 0) {
      return static_cast<size_t>(std::count_if(viewers.begin(), viewers.end(), [&](auto& viewer) {
        return viewer->messages.size() >= count;
      }));
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(Left(deadline).count()));
    if (ready <= 0) continue;  // timeout or EINTR: the loop checks the deadline
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      std::optional<std::string> bytes =
          waiting[i]->connection.Receive(std::chrono::milliseconds(0));
      if (!bytes) {
        waiting[i]->closed = true;
      } else {
        waiting[i]->Take(*bytes);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_stream_test)

BOOST_FIXTURE_TEST_CASE(sse_sends_a_snapshot_then_every_change_in_sequence, StreamFixture) {
  Change(http, server, "1001", "Lunch");
  const uint64_t start = CurrentSeq(http, server);
  SseClient sse(server.port(), Bearer(tokens().supervisor));
  BOOST_REQUIRE_EQUAL(sse.status(), 200);
  BOOST_TEST(sse.head().find("Content-Type: text/event-stream") != std::string::npos, sse.head());

  std::optional<Message> snapshot = sse.NextMessage();
  BOOST_REQUIRE(snapshot);
  BOOST_TEST(snapshot->type == "snapshot");
  BOOST_TEST(snapshot->seq == start);
  BOOST_TEST(!snapshot->epoch.empty());
  BOOST_TEST(SnapshotLabel(*snapshot, "1001") == "Lunch");
  BOOST_TEST(
      http.Get("/api/v1/agents", tokens().supervisor).Json()->getValue<std::string>("epoch") ==
      snapshot->epoch);

  // Each change through the API, as the CRM, an agent, a supervisor and a softphone server.
  Change(http, server, "1002", "Training");
  BOOST_REQUIRE(
      http.Put("/api/v1/agents/1001/state", tokens().agent, R"({"label": "Break"})").status == 200);
  BOOST_REQUIRE(
      http.Post("/api/v1/agents/1002/override", tokens().supervisor, R"({"label": "Back office"})")
          .status == 200);
  BOOST_REQUIRE(
      http.Post("/api/v1/agents/1004/events", tokens().integration, R"({"type": "login"})")
          .status == 200);
  const std::vector<std::tuple<std::string, std::string, std::string>> expected = {
      {"1002", "Training", "crm"},
      {"1001", "Break", "agent"},
      {"1002", "Back office", "supervisor"},
      {"1004", "Ready for Calls", "agent"}};
  uint64_t seq = snapshot->seq;
  for (const auto& [id, label, source] : expected) {
    BOOST_TEST_CONTEXT(id << " " << label) {
      std::optional<Message> update = sse.NextMessage();
      BOOST_REQUIRE(update);
      BOOST_TEST(update->type == "agent");
      BOOST_TEST(update->epoch == snapshot->epoch);
      BOOST_TEST(update->seq == seq + 1);  // increasing, and none missing
      seq = update->seq;
      BOOST_TEST(update->Agent() == id);
      BOOST_TEST(update->Label() == label);
      BOOST_TEST(update->json->getObject("agent")->getValue<std::string>("source") == source);
    }
  }
  BOOST_TEST(CurrentSeq(http, server) == seq);
}

BOOST_FIXTURE_TEST_CASE(a_reconnecting_sse_client_gets_only_what_it_missed, StreamFixture) {
  std::string last_id;
  std::string epoch;
  uint64_t seq = 0;
  {
    SseClient first(server.port(), Bearer(tokens().supervisor));
    BOOST_REQUIRE_EQUAL(first.status(), 200);
    BOOST_REQUIRE(first.NextMessage());  // the snapshot
    Change(http, server, "1001", "Lunch");
    Change(http, server, "1002", "Lunch");
    BOOST_REQUIRE(first.Next());
    std::optional<SseEvent> second = first.Next();
    BOOST_REQUIRE(second);
    last_id = second->id;
    Message message = ParseMessage(second->data);
    epoch = message.epoch;
    seq = message.seq;
  }  // disconnected
  Change(http, server, "1001", "Break");
  Change(http, server, "1003", "Training");
  Change(http, server, "1002", "In a meeting");
  const std::vector<std::pair<std::string, std::string>> missed = {
      {"1001", "Break"}, {"1003", "Training"}, {"1002", "In a meeting"}};

  // By header (what browsers send) and by query (for clients that cannot set headers).
  SseClient by_header(server.port(), {{"Authorization", "Bearer " + tokens().supervisor},
                                      {"Last-Event-ID", last_id}});
  SseClient by_query(server.port(), Bearer(tokens().integration),
                     "/api/v1/stream?since=" + last_id);
  for (SseClient* client : {&by_header, &by_query}) {
    BOOST_REQUIRE_EQUAL(client->status(), 200);
    for (size_t i = 0; i < missed.size(); ++i) {
      std::optional<Message> update = client->NextMessage();
      BOOST_REQUIRE(update);
      BOOST_TEST(update->type == "agent");  // no snapshot: only what was missed
      BOOST_TEST(update->seq == seq + 1 + i);
      BOOST_TEST(update->Agent() == missed[i].first);
      BOOST_TEST(update->Label() == missed[i].second);
    }
  }
  // Nothing more than that: the next event is the next change.
  Change(http, server, "1004", "Lunch");
  for (SseClient* client : {&by_header, &by_query}) {
    std::optional<Message> next = client->NextMessage();
    BOOST_REQUIRE(next);
    BOOST_TEST(next->seq == seq + 4);
    BOOST_TEST(next->Agent() == "1004");
  }

  // An id from another process (epoch) or one it cannot know gets a fresh snapshot.
  for (const std::string& unknown :
       {std::string("0abc-1"), epoch + "-" + std::to_string(seq + 100), std::string("garbage")}) {
    BOOST_TEST_CONTEXT(unknown) {
      SseClient fresh(server.port(), {{"Authorization", "Bearer " + tokens().supervisor},
                                      {"Last-Event-ID", unknown}});
      std::optional<Message> first = fresh.NextMessage();
      BOOST_REQUIRE(first);
      BOOST_TEST(first->type == "snapshot");
      BOOST_TEST(first->seq == seq + 4);
      BOOST_TEST(SnapshotLabel(*first, "1002") == "In a meeting");
    }
  }
}

BOOST_FIXTURE_TEST_CASE(a_websocket_viewer_gets_the_same_messages_as_sse, StreamFixture) {
  Change(http, server, "1001", "Lunch");
  WsClient ws(server.port(), Bearer(tokens().supervisor));
  BOOST_REQUIRE_EQUAL(ws.status(), 101);
  BOOST_TEST(ws.head().find("Sec-WebSocket-Accept: " + websocket::AcceptKey(ws.key()) + "\r\n") !=
                 std::string::npos,
             ws.head());
  SseClient sse(server.port(), Bearer(tokens().supervisor));
  BOOST_REQUIRE_EQUAL(sse.status(), 200);

  std::optional<Message> ws_snapshot = ws.NextMessage();
  std::optional<Message> sse_snapshot = sse.NextMessage();
  BOOST_REQUIRE(ws_snapshot);
  BOOST_REQUIRE(sse_snapshot);
  BOOST_TEST(ws_snapshot->type == "snapshot");
  BOOST_TEST(ws_snapshot->seq == sse_snapshot->seq);
  BOOST_TEST(SnapshotLabel(*ws_snapshot, "1001") == "Lunch");

  const std::vector<std::pair<std::string, std::string>> changes = {
      {"1001", "Break"}, {"1002", "Training"}, {"1001", "Ready for Calls"}};
  for (const auto& [id, label] : changes) Change(http, server, id, label);
  for (size_t i = 0; i < changes.size(); ++i) {
    std::optional<Message> from_ws = ws.NextMessage();
    std::optional<Message> from_sse = sse.NextMessage();
    BOOST_REQUIRE(from_ws);
    BOOST_REQUIRE(from_sse);
    BOOST_TEST(from_ws->seq == ws_snapshot->seq + 1 + i);
    BOOST_TEST(from_ws->Agent() == changes[i].first);
    BOOST_TEST(from_ws->Label() == changes[i].second);
    std::ostringstream ws_text, sse_text;
    from_ws->json->stringify(ws_text);
    from_sse->json->stringify(sse_text);
    BOOST_TEST(ws_text.str() == sse_text.str());
  }

  // RFC 6455 5.5.2-3: a ping is answered with a pong carrying its payload.
  ws.Send(websocket::Opcode::kPing, "are you there");
  std::optional<websocket::Message> pong = ws.Next();
  BOOST_REQUIRE(pong);
  BOOST_TEST((pong->opcode == websocket::Opcode::kPong));
  BOOST_TEST(pong->payload == "are you there");

  // Resuming by ?since= gets only what was missed, as with SSE.
  const std::string since = ws_snapshot->epoch + "-" + std::to_string(ws_snapshot->seq + 2);
  WsClient resumed(server.port(), Bearer(tokens().integration), "/api/v1/ws?since=" + since);
  BOOST_REQUIRE_EQUAL(resumed.status(), 101);
  std::optional<Message> missed = resumed.NextMessage();
  BOOST_REQUIRE(missed);
  BOOST_TEST(missed->type == "agent");
  BOOST_TEST(missed->seq == ws_snapshot->seq + 3);
  BOOST_TEST(missed->Label() == "Ready for Calls");

  // RFC 6455 5.5.1: a close is answered with a close echoing the code, then the server closes.
  ws.Send(websocket::Opcode::kClose, std::string("\x03\xe8", 2));  // 1000, normal closure
  std::optional<websocket::Message> close = ws.Next();
  BOOST_REQUIRE(close);
  BOOST_TEST((close->opcode == websocket::Opcode::kClose));
  BOOST_TEST(websocket::CloseCode(close->payload) == websocket::kCloseNormal);
  BOOST_TEST(ws.ClosedByServer());
}

BOOST_FIXTURE_TEST_CASE(streams_need_a_valid_token_or_a_dashboard_session, StreamFixture) {
  const HttpHeaders upgrade = {{"Upgrade", "websocket"},
                               {"Connection", "Upgrade"},
                               {"Sec-WebSocket-Key", NewWebSocketKey()},
                               {"Sec-WebSocket-Version", "13"}};
  for (const std::string path : {"/api/v1/stream", "/api/v1/ws"}) {
    BOOST_TEST_CONTEXT(path) {
      const HttpHeaders extra = path == "/api/v1/ws" ? upgrade : HttpHeaders{};
      HttpResponse anonymous = http.Send({.path = path, .headers = extra});
      BOOST_TEST(anonymous.status == 401);
      BOOST_TEST(anonymous.Header("WWW-Authenticate") == "Bearer");
      BOOST_TEST(anonymous.ErrorCode() == "unauthorized");
      HttpResponse bad = http.Send({.path = path, .token = "nope", .headers = extra});
      BOOST_TEST(bad.status == 401);
    }
  }
  // The token is never needed in the URL: a dashboard session cookie opens the stream.
  HttpResponse session =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens().supervisor + "\"}");
  const std::string set_cookie = session.Header("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  SseClient by_cookie(server.port(), {{"Cookie", cookie}});
  BOOST_TEST(by_cookie.status() == 200);
  BOOST_TEST(by_cookie.NextMessage().has_value());
  WsClient ws_by_cookie(server.port(), {{"Cookie", cookie}});
  BOOST_TEST(ws_by_cookie.status() == 101);
  for (const std::string* token : {&tokens().agent, &tokens().integration, &tokens().admin}) {
    SseClient sse(server.port(), Bearer(*token));
    BOOST_TEST(sse.status() == 200);
    WsClient ws(server.port(), Bearer(*token));
    BOOST_TEST(ws.status() == 101);
  }
  // An agent's session (the agent page) opens a stream of its own user only; an integration
  // gets no session (it uses its token); a made-up cookie opens no stream.
  Change(http, server, "1002", "Lunch");
  HttpResponse agent_session =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens().agent + "\"}");
  BOOST_TEST(agent_session.status == 200);
  const std::string agent_cookie = agent_session.Header("Set-Cookie");
  SseClient own(server.port(), {{"Cookie", agent_cookie.substr(0, agent_cookie.find(';'))}});
  BOOST_TEST(own.status() == 200);
  std::optional<Message> own_snapshot = own.NextMessage();
  BOOST_REQUIRE(own_snapshot);
  BOOST_TEST(SnapshotIds(*own_snapshot).empty());  // not 1002: 1001 alone, who has no state
  HttpResponse integration_session =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens().integration + "\"}");
  BOOST_TEST(integration_session.status == 403);
  SseClient refused(server.port(), {{"Cookie", "pa_session=" + tokens().agent}});
  BOOST_TEST(refused.status() == 401);
  // Without the upgrade, /ws says how to use it.
  HttpResponse plain = http.Get("/api/v1/ws", tokens().supervisor);
  BOOST_TEST(plain.status == 400);
  BOOST_TEST(plain.ErrorCode() == "not_websocket");
}

BOOST_FIXTURE_TEST_CASE(an_agent_token_follows_only_its_own_user_over_sse_and_websocket,
                        StreamFixture) {
  Change(http, server, "1002", "Lunch");  // another user has a state; 1001 has none yet
  const uint64_t start = CurrentSeq(http, server);
  SseClient sse(server.port(), Bearer(tokens().agent));
  WsClient ws(server.port(), Bearer(tokens().agent));
  SseClient everyone(server.port(), Bearer(tokens().supervisor));
  BOOST_REQUIRE_EQUAL(sse.status(), 200);
  BOOST_REQUIRE_EQUAL(ws.status(), 101);
  BOOST_REQUIRE_EQUAL(everyone.status(), 200);
  std::optional<Message> sse_snapshot = sse.NextMessage();
  std::optional<Message> ws_snapshot = ws.NextMessage();
  std::optional<Message> full_snapshot = everyone.NextMessage();
  BOOST_REQUIRE(sse_snapshot);
  BOOST_REQUIRE(ws_snapshot);
  BOOST_REQUIRE(full_snapshot);
  for (const Message* snapshot : {&*sse_snapshot, &*ws_snapshot}) {
    BOOST_TEST(snapshot->type == "snapshot");
    BOOST_TEST(snapshot->seq == start);
    BOOST_TEST(SnapshotIds(*snapshot).empty());  // not 1002: only its own user, who has no state
  }
  BOOST_TEST(SnapshotLabel(*full_snapshot, "1002") == "Lunch");

  // Other users change before, between and after 1001's changes.
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"1002", "Training"}, {"1001", "Lunch"}, {"1003", "Break"},
      {"1004", "Lunch"},    {"1001", "Break"}, {"1002", "Back office"}};
  for (const auto& [id, label] : changes) Change(http, server, id, label);
  Change(http, server, "1001", "Ready for Calls");
  std::vector<Expected> all;
  for (size_t i = 0; i < changes.size(); ++i) {
    all.push_back({start + 1 + i, changes[i].first, changes[i].second});
  }
  all.push_back({start + 7, "1001", "Ready for Calls"});
  CheckUpdates(NextMessages(everyone, all.size()), all);

  // The agent's own, numbered as in the full stream: the others' were skipped, and each next
  // message (after 1002's last change too) is its own.
  const std::vector<Expected> own = {{start + 2, "1001", "Lunch"},
                                     {start + 5, "1001", "Break"},
                                     {start + 7, "1001", "Ready for Calls"}};
  BOOST_TEST_CONTEXT("sse") { CheckUpdates(NextMessages(sse, own.size()), own); }
  BOOST_TEST_CONTEXT("websocket") { CheckUpdates(NextMessages(ws, own.size()), own); }

  // Once the user has a state, an agent's snapshot holds that user alone.
  SseClient later(server.port(), Bearer(tokens().agent));
  std::optional<Message> snapshot = later.NextMessage();
  BOOST_REQUIRE(snapshot);
  BOOST_TEST(snapshot->type == "snapshot");
  BOOST_TEST(snapshot->seq == start + 7);
  BOOST_TEST(SnapshotIds(*snapshot) == std::vector<std::string>{"1001"});
  BOOST_TEST(SnapshotLabel(*snapshot, "1001") == "Ready for Calls");
}

BOOST_FIXTURE_TEST_CASE(an_agent_resuming_gets_only_its_own_missed_updates, StreamFixture) {
  std::string last_id;
  uint64_t seq = 0;
  {
    SseClient first(server.port(), Bearer(tokens().agent));
    BOOST_REQUIRE_EQUAL(first.status(), 200);
    BOOST_REQUIRE(first.NextMessage());  // the snapshot
    Change(http, server, "1001", "Lunch");
    std::optional<SseEvent> own = first.Next();
    BOOST_REQUIRE(own);
    last_id = own->id;
    Message message = ParseMessage(own->data);
    BOOST_REQUIRE_EQUAL(message.Agent(), "1001");
    seq = message.seq;
  }  // disconnected
  Change(http, server, "1002", "Lunch");
  Change(http, server, "1001", "Break");
  Change(http, server, "1003", "Training");
  Change(http, server, "1001", "Training");
  Change(http, server, "1004", "Lunch");
  const std::vector<Expected> missed = {{seq + 2, "1001", "Break"}, {seq + 4, "1001", "Training"}};

  SseClient by_header(server.port(),
                      {{"Authorization", "Bearer " + tokens().agent}, {"Last-Event-ID", last_id}});
  WsClient by_query(server.port(), Bearer(tokens().agent), "/api/v1/ws?since=" + last_id);
  BOOST_REQUIRE_EQUAL(by_header.status(), 200);
  BOOST_REQUIRE_EQUAL(by_query.status(), 101);
  // No snapshot: only its own missed updates.
  BOOST_TEST_CONTEXT("sse") { CheckUpdates(NextMessages(by_header, missed.size()), missed); }
  BOOST_TEST_CONTEXT("websocket") { CheckUpdates(NextMessages(by_query, missed.size()), missed); }

  // Nothing more than that: another user's change is skipped, the next is its own.
  Change(http, server, "1002", "Break");
  Change(http, server, "1001", "Lunch");
  const std::vector<Expected> next = {{seq + 7, "1001", "Lunch"}};
  BOOST_TEST_CONTEXT("sse") { CheckUpdates(NextMessages(by_header, 1), next); }
  BOOST_TEST_CONTEXT("websocket") { CheckUpdates(NextMessages(by_query, 1), next); }
}

BOOST_AUTO_TEST_CASE(agent_views_carry_the_omni_channel_instruction_when_it_is_on) {
  AgentServer server(WithOmniChannel);
  server.Start();
  HttpClient http(server.port());
  const std::string& token = server.tokens().agent;
  SseClient softphone(server.port(), Bearer(token));
  BOOST_REQUIRE_EQUAL(softphone.status(), 200);
  BOOST_REQUIRE(softphone.NextMessage());  // the snapshot, empty
  // A user never seen has no state, hence no instruction, but the member is there.
  BOOST_TEST(OmniChannelText(http.Get("/api/v1/agents/1001", token).Json()) == "null");

  struct Step {
    std::string method;
    std::string path;
    std::string body;
    std::string label;
    std::string omni_channel;  // the member's JSON text
  };
  const std::string ready = R"({"status_id":")" + std::string(kReadyStatusId) + "\"}";
  const std::string lunch = R"({"status_id":")" + std::string(kLunchStatusId) + "\"}";
  const std::vector<Step> steps = {
      {"POST", "/api/v1/agents/1001/events", R"({"type": "login"})", "Ready for Calls", ready},
      {"PUT", "/api/v1/agents/1001/state", R"({"label": "Lunch"})", "Lunch", lunch},
      {"PUT", "/api/v1/agents/1001/state", R"({"label": "Break"})", "Break", "null"},
      {"PUT", "/api/v1/agents/1001/state", R"({"label": "Training"})", "Training", "null"},
      {"POST", "/api/v1/agents/1001/events", R"({"type": "logout"})", "Logout",
       R"({"logout":true})"},
  };
  for (const Step& step : steps) {
    BOOST_TEST_CONTEXT(step.label) {
      HttpResponse answer =
          http.Send({.method = step.method, .path = step.path, .token = token, .body = step.body});
      BOOST_REQUIRE_EQUAL(answer.status, 200);
      BOOST_TEST(OmniChannelText(answer.Json()->getObject("agent")) == step.omni_channel);
      std::optional<Message> update = softphone.NextMessage();
      BOOST_REQUIRE(update);
      BOOST_TEST(update->Label() == step.label);
      BOOST_TEST(OmniChannelText(update->json->getObject("agent")) == step.omni_channel);
      BOOST_TEST(OmniChannelText(http.Get("/api/v1/agents/1001", token).Json()) ==
                 step.omni_channel);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(agent_views_have_no_omni_channel_member_when_it_is_off, StreamFixture) {
  SseClient softphone(server.port(), Bearer(tokens().agent));
  BOOST_REQUIRE(softphone.NextMessage());  // the snapshot, empty
  HttpResponse answer =
      http.Put("/api/v1/agents/1001/state", tokens().agent, R"({"label": "Lunch"})");
  BOOST_REQUIRE_EQUAL(answer.status, 200);
  BOOST_TEST(OmniChannelText(answer.Json()->getObject("agent")) == "absent");
  std::optional<Message> update = softphone.NextMessage();
  BOOST_REQUIRE(update);
  BOOST_TEST(OmniChannelText(update->json->getObject("agent")) == "absent");
  BOOST_TEST(OmniChannelText(http.Get("/api/v1/agents/1001", tokens().agent).Json()) == "absent");
  BOOST_TEST(OmniChannelText(http.Get("/api/v1/agents/1003", tokens().supervisor).Json()) ==
             "absent");  // never seen
}

BOOST_FIXTURE_TEST_CASE(viewers_stay_connected_through_a_sighup_reload, StreamFixture) {
  SseClient sse(server.port(), Bearer(tokens().supervisor));
  WsClient ws(server.port(), Bearer(tokens().supervisor));
  std::optional<Message> snapshot = sse.NextMessage();
  BOOST_REQUIRE(snapshot);
  BOOST_REQUIRE(ws.NextMessage());

  Object::Ptr config = server.Config();
  testing::AddState(config, "Coaching", "*70", 5);
  server.WriteConfig(config);
  server.Signal(SIGHUP);
  BOOST_REQUIRE(server.WaitForLog("configuration reloaded", kWait));

  Change(http, server, "1001", "Coaching");
  for (std::optional<Message> update : {sse.NextMessage(), ws.NextMessage()}) {
    BOOST_REQUIRE(update);
    BOOST_TEST(update->type == "agent");
    BOOST_TEST(update->seq == snapshot->seq + 1);
    BOOST_TEST(update->Label() == "Coaching");
    // The view is of the new catalog: the new state's reason code and status, not nulls.
    Object::Ptr state = update->json->getObject("agent")->getObject("state");
    std::ostringstream text;
    state->stringify(text);
    BOOST_TEST(
        (!state->isNull("reason_code") && state->getValue<std::string>("reason_code") == "*70"),
        text.str());
    BOOST_TEST((!state->isNull("status") && state->getValue<int>("status") == 5), text.str());
  }
}

// A thousand viewers connect from one address, a hundred at a time: more than
// server.max_connections_per_client would let through at once.
struct CrowdFixture : StreamFixture {
  CrowdFixture()
      : StreamFixture([](Object& config) {
          config.getObject("server")->set("max_connections_per_client", 0);
        }) {}
};

BOOST_FIXTURE_TEST_CASE(a_thousand_sse_viewers_each_see_every_change, CrowdFixture) {
  constexpr size_t kViewers = 1000;
  constexpr size_t kBatch = 100;
  constexpr size_t kChanges = 20;
  rlimit files{};
  BOOST_REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    BOOST_REQUIRE(setrlimit(RLIMIT_NOFILE, &files) == 0);
  }
  BOOST_REQUIRE_MESSAGE(files.rlim_cur >= kViewers + 100,
                        "open files limited to " << files.rlim_cur);
  Change(http, server, "1001", "Lunch");
  const uint64_t start = CurrentSeq(http, server);

  // Connected a batch at a time, each batch with its snapshot before the next: the listen
  // backlog is never the bottleneck.
  const auto deadline = SteadyClock::now() + std::chrono::seconds(12);
  const std::string request = testing::RawGet("/api/v1/stream", Bearer(tokens().supervisor));
  std::vector<std::unique_ptr<Viewer>> viewers;
  for (size_t first = 0; first < kViewers; first += kBatch) {
    std::vector<std::unique_ptr<Viewer>> batch;
    for (size_t i = 0; i < kBatch; ++i) {
      batch.push_back(std::make_unique<Viewer>(server.port()));
      batch.back()->connection.SendAll(request);
    }
    BOOST_REQUIRE_EQUAL(ReadUntil(batch, 1, deadline), kBatch);
    for (auto& viewer : batch) viewers.push_back(std::move(viewer));
  }
  BOOST_TEST(http.Get("/api/v1/health").Json()->getValue<size_t>("viewers") == kViewers);

  const std::vector<std::string> labels = {"Break", "Training", "Back office", "In a meeting",
                                           "Lunch"};
  std::vector<std::pair<std::string, std::string>> expected;
  for (size_t i = 0; i < kChanges; ++i) {
    const std::string id = "100" + std::to_string(1 + i % 4);
    const std::string& label = labels[(i / 4) % labels.size()];
    Change(http, server, id, label);
    expected.emplace_back(id, label);
  }
  const size_t complete = ReadUntil(viewers, 1 + kChanges, deadline);
  BOOST_TEST(complete == kViewers);

  size_t wrong = 0;
  for (size_t v = 0; v < viewers.size(); ++v) {
    const std::vector<Message>& seen = viewers[v]->messages;
    bool right = viewers[v]->head.rfind("HTTP/1.1 200", 0) == 0 && seen.size() == 1 + kChanges &&
                 seen[0].type == "snapshot" && seen[0].seq == start;
    for (size_t i = 0; right && i < kChanges; ++i) {
      const Message& update = seen[1 + i];
      right = update.type == "agent" && update.seq == start + 1 + i &&
              update.Agent() == expected[i].first && update.Label() == expected[i].second;
    }
    if (!right && ++wrong <= 3) {
      BOOST_ERROR("viewer " << v << " saw " << seen.size() << " messages; head: "
                            << viewers[v]->head.substr(0, viewers[v]->head.find('\r')));
    }
  }
  BOOST_TEST(wrong == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
