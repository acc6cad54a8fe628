#include "agent/stream/stream_hub.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/stream/websocket_protocol.h"
#include "tests/fakes/fake_monotonic_clock.h"
#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
namespace ws = websocket;

constexpr milliseconds kWait{5000};  // how long a read waits before the test gives up
// RFC 6455 1.3's example key; its Sec-WebSocket-Accept is kRfcAccept.
constexpr const char* kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// Plays the core: keeps every agent's state and the snapshot the hub asks for. Like the real
// core it publishes the snapshot before the hub hears of the updates; Freeze keeps serving an
// older snapshot to see the hub cope with one that lags its history.
class FakeCore {
 public:
  std::vector<AgentUpdate> Commit(const std::vector<std::pair<std::string, std::string>>& changes) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<AgentUpdate> updates;
    for (const auto& [agent, label] : changes) {
      auto state = std::make_shared<AgentState>();
      state->agent = agent;
      state->label = label;
      agents_[agent] = state;
      updates.push_back(AgentUpdate{++seq_, state});
    }
    if (!frozen_) {
      auto snapshot = std::make_shared<Snapshot>();
      snapshot->seq = seq_;
      snapshot->agents = agents_;
      served_ = snapshot;
    }
    return updates;
  }
  void Freeze(bool frozen) {
    std::lock_guard<std::mutex> lock(mutex_);
    frozen_ = frozen;
  }
  std::shared_ptr<const Snapshot> Served() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return served_;
  }

 private:
  mutable std::mutex mutex_;
  uint64_t seq_ = 0;
  std::map<std::string, std::shared_ptr<const AgentState>> agents_;
  std::shared_ptr<const Snapshot> served_ = std::make_shared<Snapshot>();
  bool frozen_ = false;
};

std::string TestView(const AgentState& state) {
  return "{\"id\":\"" + state.agent + "\",\"label\":\"" + state.label + "\"}";
}

// A client end of a loopback connection (plain POSIX, as a browser would be).
class Client {
 public:
  explicit Client(uint16_t port, int receive_buffer = 0) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    BOOST_REQUIRE(fd_ >= 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(Client&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
    other.fd_ = -1;
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }
  bool closed() const { return closed_; }
  std::string& buffer() { return buffer_; }

  void Send(std::string_view bytes) {
    BOOST_REQUIRE_EQUAL(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
                        static_cast<ssize_t>(bytes.size()));
  }
  // One read of what has arrived into buffer(); false on a timeout or the end of the stream.
  bool Receive(milliseconds timeout) {
    pollfd polled{fd_, POLLIN, 0};
    if (closed_ || ::poll(&polled, 1, static_cast<int>(timeout.count())) <= 0) return false;
    return ReadReady();
  }
  // After poll said so: reads once; false at the end of the stream (or a reset).
  bool ReadReady() {
    char chunk[65536];
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(got));
    return true;
  }
  // Takes everything up to and including `delimiter` off the buffer, reading as needed.
  std::optional<std::string> ReadUntil(std::string_view delimiter, milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const size_t at = buffer_.find(delimiter);
      if (at != std::string::npos) {
        std::string taken = buffer_.substr(0, at + delimiter.size());
        buffer_.erase(0, at + delimiter.size());
        return taken;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !Receive(left)) return std::nullopt;
    }
  }
  // Reads (and keeps) everything until the server closes; false if it has not within timeout.
  bool WaitClosed(milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      Receive(left);
    }
    return true;
  }

 private:
  int fd_;
  std::string buffer_;
  bool closed_ = false;
};

using testing::SseEvent;

std::optional<SseEvent> NextSse(Client& client, milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto event = testing::TakeSseBlock(client.buffer())) return event;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !client.Receive(left)) return std::nullopt;
  }
}

// Many SSE clients read from the test thread with poll(); keeps each one's events after its
// HTTP head.
class SseCrowd {
 public:
  void Add(Client client) {
    clients_.push_back(std::move(client));
    events_.emplace_back();
    head_read_.push_back(false);
  }
  const std::vector<SseEvent>& events(size_t i) const { return events_[i]; }

  // Reads until every client has `count` events or has closed; false when nothing arrives for
  // kWait.
  bool ReadUntil(size_t count) {
    for (;;) {
      std::vector<pollfd> polled;
      std::vector<size_t> which;
      for (size_t i = 0; i < clients_.size(); ++i) {
        if (events_[i].size() >= count || clients_[i].closed()) continue;
        polled.push_back(pollfd{clients_[i].fd(), POLLIN, 0});
        which.push_back(i);
      }
      if (polled.empty()) return true;
      if (::poll(polled.data(), polled.size(), static_cast<int>(kWait.count())) <= 0) return false;
      for (size_t k = 0; k < polled.size(); ++k) {
        if (polled[k].revents != 0) ReadOne(which[k]);
      }
    }
  }

 private:
  void ReadOne(size_t i) {
    Client& client = clients_[i];
    client.ReadReady();
    if (!head_read_[i]) {
      const size_t end = client.buffer().find("\r\n\r\n");
      if (end == std::string::npos) return;
      client.buffer().erase(0, end + 4);
      head_read_[i] = true;
    }
    while (auto event = testing::TakeSseBlock(client.buffer())) events_[i].push_back(*event);
  }

  std::vector<Client> clients_;
  std::vector<std::vector<SseEvent>> events_;
  std::vector<bool> head_read_;
};

Poco::JSON::Object::Ptr Json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The client side of a WebSocket: server frames are unmasked.
class WsClient {
 public:
  explicit WsClient(Client client) : client_(std::move(client)) {}
  Client& client() { return client_; }
  std::optional<ws::Message> Next(milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    while (pending_.empty()) {
      if (!client_.buffer().empty()) {
        std::vector<ws::Message> messages;
        BOOST_REQUIRE(parser_.Feed(client_.buffer(), messages).ok());
        client_.buffer().clear();
        pending_.insert(pending_.end(), messages.begin(), messages.end());
        continue;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !client_.Receive(left)) return std::nullopt;
    }
    ws::Message message = pending_.front();
    pending_.pop_front();
    return message;
  }

 private:
  Client client_;
  ws::FrameParser parser_{ws::FrameParser::From::kServer, 1 << 20};
  std::deque<ws::Message> pending_;
};

// A hub on loopback: the test connects a client, accepts the server side and hands it to the
// hub, as the HTTP handler does after reading the request and detaching the socket.
struct HubFixture {
  explicit HubFixture(StreamHubOptions options = {},
                      const MonotonicClock& clock = MonotonicClock::Steady(),
                      StreamHub::Formatter formatter = TestView)
      : hub(
            options, std::move(formatter), [this] { return core.Served(); },
            [this](LogLevel level, std::string_view text) {
              std::lock_guard<std::mutex> lock(logs_mutex);
              logs.push_back(FormatLogLine(level, text));
            },
            clock) {
    BOOST_REQUIRE(hub.Start().ok());
  }

  Client Connect(StreamHub::Kind kind, std::string resume = "", std::string key = "",
                 int receive_buffer = 0, int send_buffer = 0, std::string only_agent = "") {
    Client client(listener.address().port(), receive_buffer);
    Poco::Net::StreamSocket accepted = listener.acceptConnection();
    if (send_buffer > 0) accepted.setSendBufferSize(send_buffer);
    // Poco counts a socket's handles inside its library, out of ThreadSanitizer's sight: a last
    // release here right after the hub closed the viewer would be reported as a race. The
    // fixture keeps one handle until the hub's thread has ended, so the last release always
    // follows it.
    handed.push_back(accepted);
    hub.Add(accepted, kind, std::move(key), std::move(resume), std::move(only_agent));
    return client;
  }
  Client ConnectSse(std::string resume = "") {
    Client client = Connect(StreamHub::Kind::kSse, std::move(resume));
    ReadSseHead(client);
    return client;
  }
  // An SSE viewer limited to one user, as an agent token's is.
  Client ConnectSseFor(std::string only_agent, std::string resume = "") {
    Client client =
        Connect(StreamHub::Kind::kSse, std::move(resume), "", 0, 0, std::move(only_agent));
    ReadSseHead(client);
    return client;
  }
  void ReadSseHead(Client& client) {
    const std::optional<std::string> head = client.ReadUntil("\r\n\r\n");
    BOOST_REQUIRE(head);
    BOOST_CHECK(head->starts_with("HTTP/1.1 200 OK\r\n"));
    const std::optional<SseEvent> retry = NextSse(client);
    BOOST_REQUIRE(retry);
    BOOST_CHECK_EQUAL(retry->retry, "2000");
  }
  // A WebSocket viewer whose 101 head has been read (and checked for the status line).
  WsClient ConnectWs(std::string key = kRfcKey, std::string* head = nullptr) {
    WsClient viewer(Connect(StreamHub::Kind::kWebSocket, "", std::move(key)));
    const std::optional<std::string> got = viewer.client().ReadUntil("\r\n\r\n");
    BOOST_REQUIRE(got);
    BOOST_CHECK(got->starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    if (head != nullptr) *head = *got;
    return viewer;
  }
  std::string Id(uint64_t seq) const { return hub.epoch() + "-" + std::to_string(seq); }
  void Publish(const std::vector<std::pair<std::string, std::string>>& changes) {
    hub.Publish(core.Commit(changes));
  }

  std::vector<std::string> Logs() {
    std::lock_guard<std::mutex> lock(logs_mutex);
    return logs;
  }
  uint64_t Errors(std::string_view where) const {
    for (const auto& [place, count] : hub.errors()) {
      if (place == where) return count;
    }
    BOOST_FAIL("no error place " + std::string(where));
    return 0;
  }

  std::mutex logs_mutex;
  std::vector<std::string> logs;
  FakeCore core;
  Poco::Net::ServerSocket listener{Poco::Net::SocketAddress("127.0.0.1", 0)};
  std::vector<Poco::Net::StreamSocket> handed;  // released after the hub (declared before it)
  StreamHub hub;
};

void CheckAgentEvent(const std::optional<SseEvent>& event, const std::string& id, uint64_t seq,
                     const std::string& agent, const std::string& label) {
  BOOST_REQUIRE(event);
  BOOST_CHECK_EQUAL(event->id, id);
  BOOST_CHECK_EQUAL(event->event, "agent");
  const auto json = Json(event->data);
  BOOST_CHECK_EQUAL(json->getValue<std::string>("type"), "agent");
  BOOST_CHECK_EQUAL(json->getValue<uint64_t>("seq"), seq);
  BOOST_CHECK_EQUAL(json->getObject("agent")->getValue<std::string>("id"), agent);
  BOOST_CHECK_EQUAL(json->getObject("agent")->getValue<std::string>("label"), label);
}

// Snapshot event: its seq and agent ids in order.
void CheckSnapshot(const std::optional<SseEvent>& event, const std::string& epoch, uint64_t seq,
                   const std::vector<std::string>& agents) {
  BOOST_REQUIRE(event);
  BOOST_CHECK_EQUAL(event->event, "snapshot");
  BOOST_CHECK_EQUAL(event->id, epoch + "-" + std::to_string(seq));
  const auto json = Json(event->data);
  BOOST_CHECK_EQUAL(json->getValue<std::string>("type"), "snapshot");
  BOOST_CHECK_EQUAL(json->getValue<std::string>("epoch"), epoch);
  BOOST_CHECK_EQUAL(json->getValue<uint64_t>("seq"), seq);
  const auto list = json->getArray("agents");
  BOOST_REQUIRE_EQUAL(list->size(), agents.size());
  for (size_t i = 0; i < agents.size(); ++i) {
    BOOST_CHECK_EQUAL(list->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"),
                      agents[i]);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_hub_test)

BOOST_AUTO_TEST_CASE(sse_viewer_gets_head_snapshot_then_updates_in_order) {
  HubFixture fixture;
  fixture.Publish({{"carol", "Lunch"}, {"alice", "Ready for Calls"}, {"bob", "Meeting"}});

  Client client = fixture.Connect(StreamHub::Kind::kSse);
  const std::optional<std::string> head = client.ReadUntil("\r\n\r\n");
  BOOST_REQUIRE(head);
  BOOST_CHECK(head->starts_with("HTTP/1.1 200 OK\r\n"));
  for (const char* header : {"Content-Type: text/event-stream\r\n", "Cache-Control: no-store\r\n",
                             "Connection: close\r\n", "X-Accel-Buffering: no\r\n"}) {
    BOOST_CHECK_MESSAGE(head->find(header) != std::string::npos, "missing " << header);
  }
  BOOST_CHECK_EQUAL(NextSse(client)->retry, "2000");
  CheckSnapshot(NextSse(client), fixture.hub.epoch(), 3, {"alice", "bob", "carol"});
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 1u);

  fixture.Publish({{"alice", "Lunch"}, {"bob", "Ready for Calls"}});
  fixture.Publish({{"dave", "Meeting"}});
  CheckAgentEvent(NextSse(client), fixture.Id(4), 4, "alice", "Lunch");
  CheckAgentEvent(NextSse(client), fixture.Id(5), 5, "bob", "Ready for Calls");
  CheckAgentEvent(NextSse(client), fixture.Id(6), 6, "dave", "Meeting");
}

BOOST_AUTO_TEST_CASE(viewer_never_gets_an_update_its_snapshot_already_has) {
  HubFixture fixture;
  // The snapshot runs ahead of what the hub has been told: updates 2 and 3 are in flight.
  fixture.Publish({{"alice", "Lunch"}});
  const std::vector<AgentUpdate> in_flight =
      fixture.core.Commit({{"bob", "Lunch"}, {"carol", "Lunch"}});
  Client ahead = fixture.ConnectSse();
  CheckSnapshot(NextSse(ahead), fixture.hub.epoch(), 3, {"alice", "bob", "carol"});
  fixture.hub.Publish(in_flight);
  fixture.Publish({{"alice", "Meeting"}});
  CheckAgentEvent(NextSse(ahead), fixture.Id(4), 4, "alice", "Meeting");

  // The snapshot lags the hub's history: the viewer gets the history after it.
  fixture.core.Freeze(true);
  fixture.Publish({{"dave", "Lunch"}, {"erin", "Lunch"}});
  Client behind = fixture.ConnectSse();
  CheckSnapshot(NextSse(behind), fixture.hub.epoch(), 4, {"alice", "bob", "carol"});
  CheckAgentEvent(NextSse(behind), fixture.Id(5), 5, "dave", "Lunch");
  CheckAgentEvent(NextSse(behind), fixture.Id(6), 6, "erin", "Lunch");
}

BOOST_AUTO_TEST_CASE(websocket_viewer_gets_frames_pong_and_close) {
  HubFixture fixture;
  fixture.Publish({{"alice", "Lunch"}});
  std::string head;
  WsClient viewer = fixture.ConnectWs(kRfcKey, &head);
  BOOST_CHECK(head.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
  BOOST_CHECK(head.find("\r\nConnection: Upgrade\r\n") != std::string::npos);
  BOOST_CHECK(head.find(std::string("\r\nSec-WebSocket-Accept: ") + kRfcAccept + "\r\n") !=
              std::string::npos);

  std::optional<ws::Message> snapshot = viewer.Next();
  BOOST_REQUIRE(snapshot);
  BOOST_CHECK(snapshot->opcode == ws::Opcode::kText);
  BOOST_CHECK_EQUAL(Json(snapshot->payload)->getValue<std::string>("type"), "snapshot");
  BOOST_CHECK_EQUAL(Json(snapshot->payload)->getValue<uint64_t>("seq"), 1u);

  fixture.Publish({{"bob", "Meeting"}});
  std::optional<ws::Message> update = viewer.Next();
  BOOST_REQUIRE(update);
  BOOST_CHECK(update->opcode == ws::Opcode::kText);
  const auto json = Json(update->payload);
  BOOST_CHECK_EQUAL(json->getValue<std::string>("type"), "agent");
  BOOST_CHECK_EQUAL(json->getValue<std::string>("epoch"), fixture.hub.epoch());
  BOOST_CHECK_EQUAL(json->getValue<uint64_t>("seq"), 2u);
  BOOST_CHECK_EQUAL(json->getObject("agent")->getValue<std::string>("id"), "bob");

  // A text message from the client means nothing; a ping (here in two pieces) is answered.
  const std::string ping = ws::EncodeClientFrame(ws::Opcode::kPing, "are you there", 0x1234);
  viewer.client().Send(ws::EncodeClientFrame(ws::Opcode::kText, "hello", 0x4321) +
                       ping.substr(0, 3));
  viewer.client().Send(ping.substr(3));
  std::optional<ws::Message> pong = viewer.Next();
  BOOST_REQUIRE(pong);
  BOOST_CHECK(pong->opcode == ws::Opcode::kPong);
  BOOST_CHECK_EQUAL(pong->payload, "are you there");
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 1u);

  viewer.client().Send(
      ws::EncodeClientFrame(ws::Opcode::kClose, std::string("\x03\xe8", 2) + "leaving", 0x5678));
  std::optional<ws::Message> close = viewer.Next();
  BOOST_REQUIRE(close);
  BOOST_CHECK(close->opcode == ws::Opcode::kClose);
  BOOST_CHECK_EQUAL(ws::CloseCode(close->payload), ws::kCloseNormal);
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 0u);
  BOOST_CHECK(viewer.client().WaitClosed());
}

BOOST_AUTO_TEST_CASE(unmasked_websocket_frame_closes_with_1002) {
  HubFixture fixture;
  WsClient viewer = fixture.ConnectWs();
  BOOST_REQUIRE(viewer.Next());  // the snapshot
  viewer.client().Send(ws::EncodeFrame(ws::Opcode::kText, "not masked"));
  std::optional<ws::Message> close = viewer.Next();
  BOOST_REQUIRE(close);
  BOOST_CHECK(close->opcode == ws::Opcode::kClose);
  BOOST_CHECK_EQUAL(ws::CloseCode(close->payload), ws::kCloseProtocolError);
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 0u);
  BOOST_CHECK(viewer.client().WaitClosed());
}

BOOST_AUTO_TEST_CASE(resume_with_a_recent_id_gets_only_what_was_missed) {
  HubFixture fixture(StreamHubOptions{.history = 4});
  for (int i = 1; i <= 10; ++i)
    fixture.Publish({{"agent" + std::to_string(i % 3), "L" + std::to_string(i)}});
  // The history holds 7..10: resuming after 6 needs nothing older.
  Client resumed = fixture.ConnectSse(fixture.Id(6));
  for (uint64_t seq = 7; seq <= 10; ++seq) {
    CheckAgentEvent(NextSse(resumed), fixture.Id(seq), seq, "agent" + std::to_string(seq % 3),
                    "L" + std::to_string(seq));
  }
  // Up to date already: nothing until the next update.
  Client current = fixture.ConnectSse(fixture.Id(10));
  fixture.Publish({{"agent1", "L11"}});
  CheckAgentEvent(NextSse(current), fixture.Id(11), 11, "agent1", "L11");
  CheckAgentEvent(NextSse(resumed), fixture.Id(11), 11, "agent1", "L11");
}

// Formatting a view is most of the hub's work per update: an agent nobody watches formats none,
// and one with viewers formats each update once however many viewers get it.
BOOST_AUTO_TEST_CASE(views_are_formatted_once_and_only_when_a_viewer_needs_them) {
  auto formatted = std::make_shared<std::atomic<int>>(0);
  HubFixture fixture({}, MonotonicClock::Steady(), [formatted](const AgentState& state) {
    ++*formatted;
    return TestView(state);
  });
  for (int i = 1; i <= 20; ++i) fixture.Publish({{"agent" + std::to_string(i % 3), "L"}});
  // Resuming after 15 formats 16..20 and nothing older.
  Client first = fixture.ConnectSse(fixture.Id(15));
  for (uint64_t seq = 16; seq <= 20; ++seq) {
    CheckAgentEvent(NextSse(first), fixture.Id(seq), seq, "agent" + std::to_string(seq % 3), "L");
  }
  BOOST_CHECK_EQUAL(formatted->load(), 5);
  // A second viewer gets the same messages without formatting them again.
  Client second = fixture.ConnectSse(fixture.Id(15));
  for (uint64_t seq = 16; seq <= 20; ++seq) {
    CheckAgentEvent(NextSse(second), fixture.Id(seq), seq, "agent" + std::to_string(seq % 3), "L");
  }
  fixture.Publish({{"agent1", "Lunch"}});
  CheckAgentEvent(NextSse(first), fixture.Id(21), 21, "agent1", "Lunch");
  CheckAgentEvent(NextSse(second), fixture.Id(21), 21, "agent1", "Lunch");
  BOOST_CHECK_EQUAL(formatted->load(), 6);
}

// A viewer limited to one user (an agent's own page) has that user's updates formatted and no
// one else's.
BOOST_AUTO_TEST_CASE(a_viewer_of_one_user_has_only_that_users_updates_formatted) {
  struct Counts {
    std::atomic<int> alice{0};
    std::atomic<int> others{0};
  };
  auto counts = std::make_shared<Counts>();
  HubFixture fixture({}, MonotonicClock::Steady(), [counts](const AgentState& state) {
    ++(state.agent == "alice" ? counts->alice : counts->others);
    return TestView(state);
  });
  Client alice = fixture.ConnectSseFor("alice");
  CheckSnapshot(NextSse(alice), fixture.hub.epoch(), 0, {});
  fixture.Publish({{"alice", "L1"}, {"bob", "L2"}, {"carol", "L3"}});
  fixture.Publish({{"bob", "L4"}, {"alice", "L5"}});
  CheckAgentEvent(NextSse(alice), fixture.Id(1), 1, "alice", "L1");
  CheckAgentEvent(NextSse(alice), fixture.Id(5), 5, "alice", "L5");
  BOOST_CHECK_EQUAL(counts->alice.load(), 2);
  BOOST_CHECK_EQUAL(counts->others.load(), 0);
}

// An update whose view cannot be formatted is tried once: viewers resuming past it later are
// not made to try again (nor is the failure logged again).
BOOST_AUTO_TEST_CASE(an_update_that_cannot_be_formatted_is_tried_once_for_every_viewer) {
  auto formatted = std::make_shared<std::atomic<int>>(0);
  HubFixture fixture({}, MonotonicClock::Steady(), [formatted](const AgentState& state) {
    ++*formatted;
    if (state.label == "Unformattable") throw std::runtime_error("no view for this state");
    return TestView(state);
  });
  fixture.Publish({{"bob", "Lunch"}});
  fixture.Publish({{"alice", "Unformattable"}, {"carol", "Meeting"}});
  for (int viewer = 0; viewer < 2; ++viewer) {
    Client resumed = fixture.ConnectSse(fixture.Id(1));
    CheckAgentEvent(NextSse(resumed), fixture.Id(3), 3, "carol", "Meeting");
  }
  BOOST_CHECK_EQUAL(formatted->load(), 2);  // alice's once (failed), carol's once
  BOOST_CHECK_EQUAL(fixture.Errors("format"), 1u);
  BOOST_CHECK_EQUAL(fixture.Logs().size(), 1u);
}

BOOST_AUTO_TEST_CASE(resume_too_old_or_from_another_start_gets_a_snapshot) {
  HubFixture fixture(StreamHubOptions{.history = 4});
  for (int i = 1; i <= 10; ++i) fixture.Publish({{"agent" + std::to_string(i % 3), "L"}});
  const std::vector<std::string> agents = {"agent0", "agent1", "agent2"};
  // After 5, update 6 is no longer held (the history is 7..10).
  const std::vector<std::string> resumes = {
      fixture.Id(5), "0zzzz-9", "garbage", fixture.hub.epoch() + "-", fixture.Id(11), ""};
  for (const std::string& resume : resumes) {
    BOOST_TEST_CONTEXT("resume '" << resume << "'") {
      Client client = fixture.ConnectSse(resume);
      CheckSnapshot(NextSse(client), fixture.hub.epoch(), 10, agents);
    }
  }
}

BOOST_AUTO_TEST_CASE(viewer_limited_to_one_user_gets_only_that_user_with_the_hubs_numbers) {
  HubFixture fixture;
  fixture.Publish({{"alice", "Lunch"}, {"bob", "Meeting"}});
  // Snapshots: everyone's is shared, a limited viewer's holds its user or nobody.
  Client everyone = fixture.ConnectSse();
  Client alice = fixture.ConnectSseFor("alice");
  Client carol = fixture.ConnectSseFor("carol");
  Client everyone_later = fixture.ConnectSse();
  WsClient alice_ws(
      fixture.Connect(StreamHub::Kind::kWebSocket, "", kRfcKey, 0, 0, std::string("alice")));
  BOOST_REQUIRE(alice_ws.client().ReadUntil("\r\n\r\n"));
  const std::string& epoch = fixture.hub.epoch();
  CheckSnapshot(NextSse(everyone), epoch, 2, {"alice", "bob"});
  CheckSnapshot(NextSse(alice), epoch, 2, {"alice"});
  CheckSnapshot(NextSse(carol), epoch, 2, {});
  CheckSnapshot(NextSse(everyone_later), epoch, 2, {"alice", "bob"});
  std::optional<ws::Message> ws_snapshot = alice_ws.Next();
  BOOST_REQUIRE(ws_snapshot);
  BOOST_CHECK_EQUAL(Json(ws_snapshot->payload)->getArray("agents")->size(), 1u);

  fixture.Publish({{"bob", "L3"}, {"alice", "L4"}, {"carol", "L5"}});
  fixture.Publish({{"bob", "L6"}, {"alice", "L7"}});
  CheckAgentEvent(NextSse(alice), fixture.Id(4), 4, "alice", "L4");
  CheckAgentEvent(NextSse(alice), fixture.Id(7), 7, "alice", "L7");
  CheckAgentEvent(NextSse(carol), fixture.Id(5), 5, "carol", "L5");
  for (uint64_t seq = 3; seq <= 7; ++seq) BOOST_REQUIRE(NextSse(everyone));
  std::optional<ws::Message> ws_update = alice_ws.Next();
  BOOST_REQUIRE(ws_update);
  BOOST_CHECK_EQUAL(Json(ws_update->payload)->getValue<uint64_t>("seq"), 4u);

  // Resuming: only the user's own missed updates, then only its own new ones.
  Client resumed = fixture.ConnectSseFor("alice", fixture.Id(2));
  CheckAgentEvent(NextSse(resumed), fixture.Id(4), 4, "alice", "L4");
  CheckAgentEvent(NextSse(resumed), fixture.Id(7), 7, "alice", "L7");
  fixture.Publish({{"carol", "L8"}, {"bob", "L9"}, {"alice", "L10"}});
  CheckAgentEvent(NextSse(resumed), fixture.Id(10), 10, "alice", "L10");
  CheckAgentEvent(NextSse(alice), fixture.Id(10), 10, "alice", "L10");
  CheckAgentEvent(NextSse(carol), fixture.Id(8), 8, "carol", "L8");
  CheckAgentEvent(NextSse(everyone), fixture.Id(8), 8, "carol", "L8");
}

BOOST_AUTO_TEST_CASE(slow_viewer_is_dropped_while_fast_viewer_gets_everything) {
  HubFixture fixture(StreamHubOptions{.viewer_buffer_bytes = 64 * 1024});
  // Small kernel buffers on the slow side, so that its backlog lands in the hub's buffer.
  Client slow = fixture.Connect(StreamHub::Kind::kSse, "", "", 4096, 4096);
  Client fast = fixture.ConnectSse();
  CheckSnapshot(NextSse(fast), fixture.hub.epoch(), 0, {});

  constexpr int kUpdates = 5000;
  constexpr int kChunk = 25;  // the fast viewer reads between chunks, the slow one never
  const std::string label(1000, 'x');
  auto longest_publish = Clock::duration::zero();
  for (int first = 1; first <= kUpdates; first += kChunk) {
    for (int seq = first; seq < first + kChunk; ++seq) {
      std::vector<AgentUpdate> updates = fixture.core.Commit({{"agent", label}});
      const auto started = Clock::now();
      fixture.hub.Publish(updates);
      longest_publish = std::max(longest_publish, Clock::now() - started);
    }
    for (int seq = first; seq < first + kChunk; ++seq) {
      std::optional<SseEvent> event = NextSse(fast);
      BOOST_REQUIRE_MESSAGE(event, "fast viewer lost at " << seq);
      BOOST_REQUIRE_EQUAL(event->id, fixture.Id(seq));
    }
  }
  BOOST_CHECK(slow.WaitClosed());
  BOOST_CHECK_EQUAL(fixture.hub.dropped_slow(), 1u);
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 1u);
  // Publish only queues: it never waits for a viewer.
  BOOST_CHECK_LT(std::chrono::duration_cast<milliseconds>(longest_publish).count(), 200);
  BOOST_TEST_MESSAGE(
      "longest Publish: "
      << std::chrono::duration_cast<std::chrono::microseconds>(longest_publish).count() << " us");
}

BOOST_AUTO_TEST_CASE(viewer_over_the_limit_gets_503_json) {
  HubFixture fixture(StreamHubOptions{.max_viewers = 1});
  Client first = fixture.ConnectSse();
  BOOST_REQUIRE(NextSse(first));  // counted once its snapshot is out
  Client second = fixture.Connect(StreamHub::Kind::kSse);
  BOOST_REQUIRE(second.WaitClosed());
  const std::string& response = second.buffer();
  BOOST_CHECK(response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
  BOOST_CHECK(response.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  const size_t body_at = response.find("\r\n\r\n");
  BOOST_REQUIRE(body_at != std::string::npos);
  const std::string body = response.substr(body_at + 4);
  BOOST_CHECK(response.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") !=
              std::string::npos);
  const auto error = Json(body)->getObject("error");
  BOOST_REQUIRE(error);
  BOOST_CHECK_EQUAL(error->getValue<std::string>("code"), "too_many_viewers");
  BOOST_CHECK(!error->getValue<std::string>("message").empty());
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 1u);
  // The first viewer still gets updates.
  fixture.Publish({{"alice", "Lunch"}});
  CheckAgentEvent(NextSse(first), fixture.Id(1), 1, "alice", "Lunch");
}

BOOST_AUTO_TEST_CASE(thousand_sse_viewers_each_get_every_update) {
  rlimit limit{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  limit.rlim_cur = limit.rlim_max;
  BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  constexpr size_t kViewers = 1000;
  constexpr uint64_t kUpdates = 50;
  BOOST_REQUIRE_GT(limit.rlim_cur, 2 * kViewers + 100);

  const auto started = Clock::now();
  HubFixture fixture;
  fixture.Publish({{"alice", "Lunch"}, {"bob", "Lunch"}});
  SseCrowd crowd;
  for (size_t i = 0; i < kViewers; ++i) crowd.Add(fixture.Connect(StreamHub::Kind::kSse));

  // "retry" then the snapshot, for every viewer before anything is published.
  BOOST_REQUIRE(crowd.ReadUntil(2));
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), kViewers);
  for (uint64_t seq = 3; seq < 3 + kUpdates; seq += 5) {
    std::vector<std::pair<std::string, std::string>> changes;
    for (uint64_t i = seq; i < seq + 5; ++i) changes.emplace_back("agent" + std::to_string(i), "L");
    fixture.Publish(changes);
  }
  BOOST_REQUIRE(crowd.ReadUntil(2 + kUpdates));

  size_t complete = 0;
  for (size_t i = 0; i < kViewers; ++i) {
    const std::vector<SseEvent>& events = crowd.events(i);
    bool ok = events.size() == 2 + kUpdates && events[0].retry == "2000" &&
              events[1].event == "snapshot" && events[1].id == fixture.Id(2);
    for (uint64_t k = 0; ok && k < kUpdates; ++k) {
      ok = events[2 + k].event == "agent" && events[2 + k].id == fixture.Id(3 + k);
    }
    BOOST_CHECK_MESSAGE(ok, "viewer " << i << " got " << events.size() << " events");
    complete += ok ? 1 : 0;
  }
  BOOST_CHECK_EQUAL(complete, kViewers);
  fixture.hub.Stop();
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 0u);
  BOOST_TEST_MESSAGE("1000 viewers: "
                     << std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()
                     << " ms");
}

// On a fake clock: the hub looks at it every few milliseconds, so what is due shows up as soon
// as the test moves it, and nothing shows up before.
BOOST_AUTO_TEST_CASE(idle_viewers_get_keepalives) {
  testing::FakeMonotonicClock clock;
  HubFixture fixture(StreamHubOptions{.keepalive = std::chrono::seconds(15)}, clock);
  Client sse = fixture.ConnectSse();
  BOOST_REQUIRE(NextSse(sse));  // the snapshot
  WsClient viewer = fixture.ConnectWs();
  BOOST_REQUIRE(viewer.Next());  // the snapshot
  // Not sooner than the keepalive period after the last thing sent: the update comes first.
  clock.Advance(milliseconds(14999));
  fixture.Publish({{"alice", "Lunch"}});
  CheckAgentEvent(NextSse(sse), fixture.Id(1), 1, "alice", "Lunch");
  std::optional<ws::Message> update = viewer.Next();
  BOOST_REQUIRE(update);
  BOOST_CHECK(update->opcode == ws::Opcode::kText);

  clock.Advance(std::chrono::seconds(15));
  std::optional<SseEvent> keepalive = NextSse(sse);
  BOOST_REQUIRE(keepalive);
  BOOST_CHECK_EQUAL(keepalive->comment, "keepalive");
  BOOST_CHECK(keepalive->id.empty() && keepalive->data.empty());
  BOOST_CHECK(sse.buffer().empty());
  std::optional<ws::Message> ping = viewer.Next();
  BOOST_REQUIRE(ping);
  BOOST_CHECK(ping->opcode == ws::Opcode::kPing);
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 2u);
}

BOOST_AUTO_TEST_CASE(a_view_that_cannot_be_formatted_is_left_out_counted_and_logged) {
  HubFixture fixture({}, MonotonicClock::Steady(), [](const AgentState& state) -> std::string {
    if (state.label == "Unformattable") throw std::runtime_error("no view for this state");
    return TestView(state);
  });
  Client sse = fixture.ConnectSse();
  BOOST_REQUIRE(NextSse(sse));  // the snapshot
  BOOST_CHECK_EQUAL(fixture.Errors("format"), 0u);
  fixture.Publish({{"alice", "Unformattable"}, {"bob", "Lunch"}});
  // The stream goes on without it.
  CheckAgentEvent(NextSse(sse), fixture.Id(2), 2, "bob", "Lunch");
  BOOST_CHECK_EQUAL(fixture.Errors("format"), 1u);
  // A snapshot leaves it out too, and counts again.
  Client late = fixture.ConnectSse();
  CheckSnapshot(NextSse(late), fixture.hub.epoch(), 2, {"bob"});
  BOOST_CHECK_EQUAL(fixture.Errors("format"), 2u);
  for (std::string_view other : {"loop", "event", "open", "respond", "write"}) {
    BOOST_CHECK_EQUAL(fixture.Errors(other), 0u);
  }
  const std::vector<std::string> logs = fixture.Logs();
  BOOST_REQUIRE_EQUAL(logs.size(), 2u);
  BOOST_CHECK_EQUAL(logs[0],
                    "error: unexpected error: no view for this state; update 1 of user 'alice' is "
                    "left out where=format count=1");
  BOOST_CHECK_EQUAL(logs[1],
                    "error: unexpected error: no view for this state; user 'alice' is left out of "
                    "a snapshot where=format count=2");
}

BOOST_AUTO_TEST_CASE(stop_closes_every_viewer) {
  HubFixture fixture;
  Client sse = fixture.ConnectSse();
  WsClient viewer = fixture.ConnectWs("x3JJHMbDL1EzLkh9GBhXDw==");
  BOOST_REQUIRE(NextSse(sse));
  BOOST_REQUIRE(viewer.Next());
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 2u);
  fixture.hub.Stop();
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 0u);
  BOOST_CHECK(sse.WaitClosed());
  std::optional<ws::Message> bye = viewer.Next();
  BOOST_REQUIRE(bye);
  BOOST_CHECK_EQUAL(ws::CloseCode(bye->payload), ws::kCloseGoingAway);
  BOOST_CHECK(viewer.client().WaitClosed());
  fixture.hub.Stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(history_is_bounded_by_bytes_as_well_as_by_count) {
  // Nobody watches: each update costs its state (about 1.6 KB with a 1,000-byte label), so
  // 64 KiB hold about 40.
  HubFixture fixture(StreamHubOptions{.history = 10000, .history_bytes = 64 * 1024});
  const std::string big(1000, 'x');
  for (int i = 1; i <= 100; ++i) fixture.Publish({{"agent" + std::to_string(i % 3), big}});
  // Resuming from far back would need more than the bytes allow: a fresh snapshot instead.
  Client old = fixture.ConnectSse(fixture.Id(10));
  const std::optional<SseEvent> first = NextSse(old);
  BOOST_REQUIRE(first);
  BOOST_CHECK_EQUAL(first->event, "snapshot");
  BOOST_CHECK_EQUAL(first->id, fixture.Id(100));
  // A recent id is still served from the history.
  Client recent = fixture.ConnectSse(fixture.Id(95));
  for (uint64_t seq = 96; seq <= 100; ++seq) {
    CheckAgentEvent(NextSse(recent), fixture.Id(seq), seq, "agent" + std::to_string(seq % 3), big);
  }
  // Watched: each update is formatted and costs 3 x its JSON + 128 bytes (about 3.5 KB) more
  // than its state, so 64 KiB hold about 12: thirty back is too far now, seven back is not.
  for (int i = 101; i <= 200; ++i) fixture.Publish({{"agent" + std::to_string(i % 3), big}});
  for (uint64_t seq = 101; seq <= 200; ++seq) {
    CheckAgentEvent(NextSse(recent), fixture.Id(seq), seq, "agent" + std::to_string(seq % 3), big);
  }
  Client thirty_back = fixture.ConnectSse(fixture.Id(170));
  const std::optional<SseEvent> fresh = NextSse(thirty_back);
  BOOST_REQUIRE(fresh);
  BOOST_CHECK_EQUAL(fresh->event, "snapshot");
  Client seven_back = fixture.ConnectSse(fixture.Id(193));
  for (uint64_t seq = 194; seq <= 200; ++seq) {
    CheckAgentEvent(NextSse(seven_back), fixture.Id(seq), seq, "agent" + std::to_string(seq % 3),
                    big);
  }
}

// As the HTTP handler does: a claim, then the viewer added with it.
Client ConnectOwned(HubFixture& fixture, StreamHub::Kind kind, const std::string& owner,
                    bool claimed) {
  Client client(fixture.listener.address().port());
  Poco::Net::StreamSocket accepted = fixture.listener.acceptConnection();
  fixture.hub.Add(accepted, kind, kind == StreamHub::Kind::kWebSocket ? kRfcKey : "", "", "",
                  StreamHub::Owner{owner, claimed});
  if (kind == StreamHub::Kind::kSse) {
    fixture.ReadSseHead(client);
  } else {
    BOOST_REQUIRE(client.ReadUntil("\r\n\r\n"));
  }
  return client;
}

BOOST_AUTO_TEST_CASE(claims_per_owner_are_given_back_when_their_viewers_end) {
  HubFixture fixture;
  BOOST_REQUIRE(fixture.hub.Claim("token-a", 2));
  BOOST_REQUIRE(fixture.hub.Claim("token-a", 2));
  BOOST_CHECK(!fixture.hub.Claim("token-a", 2));
  BOOST_CHECK(fixture.hub.Claim("token-b", 2));  // owners are counted apart
  fixture.hub.Unclaim("token-b");
  std::optional<Client> first = ConnectOwned(fixture, StreamHub::Kind::kSse, "token-a", true);
  Client second = ConnectOwned(fixture, StreamHub::Kind::kSse, "token-a", true);
  BOOST_CHECK(!fixture.hub.Claim("token-a", 2));
  first.reset();  // the client goes; once the hub sees it, its claim is free
  const auto deadline = Clock::now() + kWait;
  bool claimed = false;
  while (!claimed && Clock::now() < deadline) {
    claimed = fixture.hub.Claim("token-a", 2);
    if (!claimed) std::this_thread::sleep_for(milliseconds(5));
  }
  BOOST_CHECK(claimed);
  fixture.hub.Unclaim("token-a");
  // A claim given to a stopped hub comes back at once.
  fixture.hub.Stop();
  BOOST_REQUIRE(fixture.hub.Claim("token-b", 1));
  Poco::Net::StreamSocket unused;
  fixture.hub.Add(unused, StreamHub::Kind::kSse, "", "", "", StreamHub::Owner{"token-b", true});
  BOOST_CHECK(fixture.hub.Claim("token-b", 1));
}

BOOST_AUTO_TEST_CASE(closing_an_owner_ends_its_streams_and_no_others) {
  HubFixture fixture;
  Client removed_sse = ConnectOwned(fixture, StreamHub::Kind::kSse, "removed", false);
  WsClient removed_ws(ConnectOwned(fixture, StreamHub::Kind::kWebSocket, "removed", true));
  Client kept = ConnectOwned(fixture, StreamHub::Kind::kSse, "kept", false);
  Client anonymous = fixture.ConnectSse();
  BOOST_REQUIRE(NextSse(removed_sse));
  BOOST_REQUIRE(removed_ws.Next());
  BOOST_REQUIRE(NextSse(kept));
  BOOST_REQUIRE(NextSse(anonymous));
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 4u);

  fixture.hub.CloseOwners({"removed"});
  BOOST_CHECK(removed_sse.WaitClosed());
  std::optional<ws::Message> close = removed_ws.Next();
  BOOST_REQUIRE(close);
  BOOST_CHECK(close->opcode == ws::Opcode::kClose);
  BOOST_CHECK_EQUAL(ws::CloseCode(close->payload), ws::kClosePolicyViolation);
  BOOST_CHECK(removed_ws.client().WaitClosed());
  BOOST_CHECK(fixture.hub.Claim("removed", 1));  // the WebSocket's claim came back

  fixture.Publish({{"alice", "Lunch"}});
  CheckAgentEvent(NextSse(kept), fixture.Id(1), 1, "alice", "Lunch");
  CheckAgentEvent(NextSse(anonymous), fixture.Id(1), 1, "alice", "Lunch");
  BOOST_CHECK_EQUAL(fixture.hub.viewers(), 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
