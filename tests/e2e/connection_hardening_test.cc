// End to end: the real `presence-agent serve` against hostile and broken clients at the
// connection level: a second server on a port in use, slow and never-reading clients, one
// client or one token taking every slot, removed tokens, foreign web pages and token guessing.
// Clients on different addresses are played from 127.0.0.1 and 127.0.0.2 (all of 127/8 is
// loopback on Linux).

#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/stream/websocket_protocol.h"
#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::AgentServer;
using testing::HttpHeaders;
using testing::NewWebSocketKey;

constexpr milliseconds kWait{5000};  // bound on any one awaited answer

milliseconds Left(SteadyClock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()));
}

// A TCP client from a chosen loopback address ("127.0.0.2"), read with timeouts.
class Peer {
 public:
  Peer(const std::string& from, uint16_t port, int receive_buffer = 0)
      : fd_(testing::ConnectFrom(from, port, receive_buffer)) {}
  ~Peer() { ::close(fd_); }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  int fd() const { return fd_; }
  bool closed() const { return closed_; }
  std::string& received() { return received_; }

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
  }

  // Reads what arrives within `timeout` into received(); false when nothing came.
  bool Receive(milliseconds timeout) {
    pollfd entry{fd_, POLLIN, 0};
    if (closed_ || ::poll(&entry, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(chunk, static_cast<size_t>(got));
    return true;
  }

  // The whole response to one request: head and a body of Content-Length bytes (or until the
  // server closes). The status, 0 when it did not arrive within `timeout`.
  int ReadResponse(milliseconds timeout = kWait) {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      const size_t end = received_.find("\r\n\r\n");
      if (end != std::string::npos) {
        head_ = received_.substr(0, end + 4);
        const std::string lower = Lower(head_);
        const size_t length_at = lower.find("\r\ncontent-length:");
        const size_t length =
            length_at == std::string::npos ? 0 : std::stoul(head_.substr(length_at + 17));
        if (received_.size() >= end + 4 + length || (closed_ && length_at == std::string::npos)) {
          body_ = received_.substr(end + 4,
                                   length_at == std::string::npos ? std::string::npos : length);
          received_.erase(0, std::min(received_.size(), end + 4 + body_.size()));
          status_ = std::atoi(head_.c_str() + head_.find(' ') + 1);
          return status_;
        }
      }
      if (Left(deadline).count() == 0) return 0;
      if (!Receive(Left(deadline)) && closed_ && end == std::string::npos) return 0;
    }
  }
  int status() const { return status_; }  // of the last response read, 0 before
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }
  std::string ErrorCode() const {
    try {
      Object::Ptr json = Poco::JSON::Parser().parse(body_).extract<Object::Ptr>();
      return json->getObject("error")->getValue<std::string>("code");
    } catch (const std::exception&) {
      return "";
    }
  }
  // A header of the last response, "" when absent.
  std::string Header(const std::string& name) const {
    const std::string lower = Lower(head_);
    const size_t at = lower.find("\r\n" + Lower(name) + ":");
    if (at == std::string::npos) return "";
    const size_t start = head_.find_first_not_of(' ', at + name.size() + 3);
    return head_.substr(start, head_.find("\r\n", start) - start);
  }

  // Whether the server ends the connection (FIN or reset) within `timeout`, without this side
  // reading anything: POLLRDHUP is reported even while unread bytes wait.
  bool EndedByServer(milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      pollfd entry{fd_, POLLRDHUP, 0};
      const int ready = ::poll(&entry, 1, static_cast<int>(Left(deadline).count()));
      if (ready > 0 && (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
      if (Left(deadline).count() == 0) return false;
    }
  }

 private:
  static std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  int fd_;
  bool closed_ = false;
  std::string received_;
  std::string head_;
  std::string body_;
  int status_ = 0;
};

std::string Request(const std::string& method, const std::string& path, const std::string& host,
                    const HttpHeaders& headers = {}) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  return request + "\r\n";
}

HttpHeaders Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// GET as one request on a fresh connection from `from`; the peer holds the answer.
std::unique_ptr<Peer> Ask(const std::string& from, uint16_t port, const std::string& path,
                          const std::string& token) {
  auto peer = std::make_unique<Peer>(from, port);
  peer->Send(Request("GET", path, "127.0.0.1", token.empty() ? HttpHeaders{} : Bearer(token)));
  peer->ReadResponse();
  return peer;
}

// The status of a GET as Ask makes it, 0 when none came.
int GetFrom(const std::string& from, uint16_t port, const std::string& path,
            const std::string& token) {
  return Ask(from, port, path, token)->status();
}

// One sample of /metrics (series with its labels as printed), read from 127.0.0.2; -1 when
// absent.
double MetricFrom(const AgentServer& server, const std::string& series) {
  Peer peer("127.0.0.2", server.port());
  peer.Send(Request("GET", "/metrics", "127.0.0.1", Bearer(server.tokens().supervisor)));
  if (peer.ReadResponse() != 200) return -1;
  std::istringstream lines(peer.body());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

HttpHeaders Upgrade(HttpHeaders headers) {
  headers.insert(headers.end(), {{"Upgrade", "websocket"},
                                 {"Connection", "Upgrade"},
                                 {"Sec-WebSocket-Key", NewWebSocketKey()},
                                 {"Sec-WebSocket-Version", "13"}});
  return headers;
}

// A stream opened on its own connection: SSE (GET /api/v1/stream) or WebSocket (/api/v1/ws).
struct Stream {
  Stream(uint16_t port, bool websocket, const HttpHeaders& headers,
         const std::string& host = "127.0.0.1")
      : peer("127.0.0.1", port) {
    peer.Send(websocket ? Request("GET", "/api/v1/ws", host, Upgrade(headers))
                        : Request("GET", "/api/v1/stream", host, headers));
    const auto deadline = SteadyClock::now() + kWait;
    while (peer.received().find("\r\n\r\n") == std::string::npos && Left(deadline).count() > 0) {
      peer.Receive(Left(deadline));
    }
    const size_t end = peer.received().find("\r\n\r\n");
    if (end == std::string::npos) return;
    head = peer.received().substr(0, end + 4);
    status = std::atoi(head.c_str() + head.find(' ') + 1);
    if (status == 200 || status == 101) {
      peer.received().erase(0, end + 4);  // what follows is the stream
    } else {
      peer.ReadResponse();  // the error answer, whole
    }
  }
  // Whether the server closes the stream within kWait, reading (and keeping) what comes.
  bool ClosedByServer() {
    const auto deadline = SteadyClock::now() + kWait;
    while (!peer.closed() && Left(deadline).count() > 0) peer.Receive(Left(deadline));
    return peer.closed();
  }
  // Whether `text` arrives on the stream within kWait.
  bool Sees(const std::string& text) {
    const auto deadline = SteadyClock::now() + kWait;
    while (peer.received().find(text) == std::string::npos) {
      if (Left(deadline).count() == 0 || (!peer.Receive(Left(deadline)) && peer.closed())) {
        return false;
      }
    }
    return true;
  }

  Peer peer;
  std::string head;
  int status = 0;
};

void Change(const AgentServer& server, const std::string& id, const std::string& label) {
  testing::HttpClient http(server.port());
  BOOST_REQUIRE_EQUAL(http.Put("/api/v1/agents/" + id + "/state", server.tokens().integration,
                               R"({"label": ")" + label + "\"}")
                          .status,
                      200);
}

std::function<void(Object&)> ServerSetting(const std::string& key, Poco::Dynamic::Var value) {
  return [key, value](Object& config) { config.getObject("server")->set(key, value); };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_hardening_test)

BOOST_AUTO_TEST_CASE(a_second_serve_on_a_port_in_use_refuses_to_start) {
  AgentServer first;
  first.Start();
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  // Another data folder, so the ledger lock does not stop it: only the port can.
  AgentServer second(ServerSetting("listen", address));
  BOOST_CHECK_EXCEPTION(second.Start(), std::runtime_error, [](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return true;
  });
  BOOST_TEST(second.Wait() == 2);
  BOOST_TEST(second.Log().find("port in use") != std::string::npos, second.Log());
  BOOST_TEST(second.Log().find(address) != std::string::npos, second.Log());
  // The first still answers every client.
  for (int i = 0; i < 8; ++i) {
    BOOST_TEST(GetFrom("127.0.0.1", first.port(), "/api/v1/health", "") == 200);
  }
}

BOOST_AUTO_TEST_CASE(slow_clients_from_one_address_cannot_take_every_worker) {
  AgentServer server([](Object& config) {
    config.getObject("server")->set("workers", 4);
    config.getObject("server")->set("max_connections_per_client", 2);
  });
  server.Start();
  // Four connections from one address that never finish their request head (slowloris).
  std::vector<std::unique_ptr<Peer>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<Peer>("127.0.0.1", server.port()));
    slow.back()->Send("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  }
  // Two of them hold a worker; the others are refused at once with a JSON 503.
  const auto deadline = SteadyClock::now() + kWait;
  std::vector<Peer*> refused;
  while (refused.size() < 2 && Left(deadline).count() > 0) {
    std::vector<pollfd> fds;
    for (auto& peer : slow) fds.push_back(pollfd{peer->fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), static_cast<int>(Left(deadline).count())) <= 0) continue;
    for (size_t i = 0; i < slow.size(); ++i) {
      if (fds[i].revents == 0 || slow[i]->status() != 0) continue;
      if (slow[i]->ReadResponse(milliseconds(1000)) != 0) refused.push_back(slow[i].get());
    }
  }
  BOOST_REQUIRE_EQUAL(refused.size(), 2u);
  for (Peer* peer : refused) {
    BOOST_TEST(peer->status() == 503);
    BOOST_TEST(peer->ErrorCode() == "too_many_connections", peer->body());
    BOOST_TEST(peer->body().find("server.max_connections_per_client") != std::string::npos);
  }
  // A client on another address is served at once, not after the slow ones time out.
  const auto started = SteadyClock::now();
  BOOST_TEST(GetFrom("127.0.0.2", server.port(), "/api/v1/health", "") == 200);
  BOOST_TEST(Left(started + kWait).count() > 0);
  BOOST_TEST(MetricFrom(server, "presence_connections_refused_total") == 2);
}

BOOST_AUTO_TEST_CASE(a_client_that_never_reads_is_disconnected_after_the_io_timeout) {
  AgentServer server(ServerSetting("io_timeout_seconds", 1));
  server.Start();
  // Asks for far more than the socket buffers hold and never reads: the answer's write blocks.
  Peer never_reads("127.0.0.1", server.port(), 4096);
  std::string requests;
  for (int i = 0; i < 400; ++i) {
    requests += Request("GET", "/metrics", "127.0.0.1", Bearer(server.tokens().supervisor));
  }
  never_reads.Send(requests);
  // Its connection is ended as broken, and the worker it held is freed: the only busy one is
  // then the one answering /metrics. (The server closes it with requests unread, so the
  // client hears of it at once, by a reset.)
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  auto metric_reaches = [&](const std::string& series, auto wanted) {
    while (Left(deadline).count() > 0) {
      if (wanted(MetricFrom(server, series))) return true;
      std::this_thread::sleep_for(milliseconds(20));  // nothing to wait on: ask again soon
    }
    return false;
  };
  BOOST_TEST(metric_reaches("presence_connections_broken_total", [](double n) { return n >= 1; }));
  BOOST_TEST(metric_reaches("presence_http_workers_busy", [](double n) { return n == 1; }));
  BOOST_TEST(never_reads.EndedByServer(kWait));
}

BOOST_AUTO_TEST_CASE(a_request_that_trickles_in_is_cut_off_with_408_and_others_go_on) {
  AgentServer server(ServerSetting("io_timeout_seconds", 1));
  server.Start();
  // A slowloris client: the head arrives a piece at a time, each piece "making progress", but
  // the whole request never does. It gets 408 once io_timeout has passed since its first byte.
  Peer slow("127.0.0.1", server.port());
  slow.Send("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const auto started = SteadyClock::now();
  int status = 0;
  while (status == 0 && SteadyClock::now() - started < kWait) {
    slow.Send("X-Slow: 1\r\n");  // progress, never the end of the head
    status = slow.ReadResponse(milliseconds(200));
  }
  BOOST_TEST(status == 408);
  BOOST_TEST(slow.ErrorCode() == "request_timeout", slow.body());
  BOOST_TEST(slow.body().find("server.io_timeout_seconds") != std::string::npos);
  BOOST_TEST((SteadyClock::now() - started >= milliseconds(900)));
  BOOST_TEST(slow.EndedByServer(kWait));
  // Meanwhile and after, everyone else is served.
  BOOST_TEST(GetFrom("127.0.0.1", server.port(), "/api/v1/health", "") == 200);
  BOOST_TEST(MetricFrom(server, "presence_connections_broken_total") >= 1);
}

BOOST_AUTO_TEST_CASE(a_client_still_sending_a_body_too_large_reads_its_413) {
  AgentServer server;
  server.Start();
  // The server stops reading at server.max_body_bytes (64 KiB), answers 413 and closes; the
  // client, still sending, must get to read that answer rather than a reset.
  Peer big("127.0.0.1", server.port());
  big.Send("PUT /api/v1/agents/1001/state HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
           server.tokens().admin +
           "\r\nContent-Type: application/json\r\nContent-Length: 8000000\r\n\r\n");
  const std::string piece(64 * 1024, ' ');
  for (int i = 0; i < 12; ++i) big.Send(piece);  // 768 KiB more after the limit
  BOOST_REQUIRE_EQUAL(big.ReadResponse(), 413);
  BOOST_TEST(big.ErrorCode() == "payload_too_large", big.body());
  BOOST_TEST(big.EndedByServer(kWait));
}

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed_after_keep_alive_seconds) {
  AgentServer server(ServerSetting("keep_alive_seconds", 1));
  server.Start();
  Peer idle("127.0.0.1", server.port());
  idle.Send(Request("GET", "/api/v1/health", "127.0.0.1", {}));
  BOOST_REQUIRE_EQUAL(idle.ReadResponse(), 200);
  const auto answered = SteadyClock::now();
  BOOST_TEST(idle.EndedByServer(kWait));  // without a 408: it had no request under way
  BOOST_TEST((SteadyClock::now() - answered >= milliseconds(900)));
  BOOST_TEST(idle.received().find("408") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_agent_token_gets_a_few_streams_and_then_429) {
  AgentServer server(ServerSetting("max_streams_per_agent_token", 2));
  server.Start();
  const std::string& agent = server.tokens().agent;
  std::vector<std::unique_ptr<Stream>> open;
  open.push_back(std::make_unique<Stream>(server.port(), false, Bearer(agent)));
  open.push_back(std::make_unique<Stream>(server.port(), true, Bearer(agent)));
  for (auto& stream : open) BOOST_TEST((stream->status == 200 || stream->status == 101));
  for (bool websocket : {false, true}) {
    BOOST_TEST_CONTEXT((websocket ? "websocket" : "sse")) {
      Stream third(server.port(), websocket, Bearer(agent));
      BOOST_TEST(third.status == 429);
      BOOST_TEST(third.peer.ErrorCode() == "too_many_streams", third.peer.body());
      BOOST_TEST(third.peer.body().find("server.max_streams_per_agent_token") != std::string::npos);
      BOOST_TEST(!third.peer.Header("Retry-After").empty());
    }
  }
  // Other roles are not limited per token (a wall of dashboards may share one).
  std::vector<std::unique_ptr<Stream>> dashboards;
  for (int i = 0; i < 5; ++i) {
    dashboards.push_back(
        std::make_unique<Stream>(server.port(), i % 2 == 1, Bearer(server.tokens().supervisor)));
    BOOST_TEST((dashboards.back()->status == 200 || dashboards.back()->status == 101));
  }
  // A closed stream gives its slot back (once the hub has seen it go).
  open.pop_back();
  const auto deadline = SteadyClock::now() + kWait;
  int status = 0;
  while (status != 200 && Left(deadline).count() > 0) {
    status = Stream(server.port(), false, Bearer(agent)).status;
  }
  BOOST_TEST(status == 200);
}

BOOST_AUTO_TEST_CASE(a_reload_that_removes_a_token_closes_its_streams_and_sessions) {
  AgentServer server;
  server.Start();
  testing::HttpClient http(server.port());
  const testing::AgentTokens& tokens = server.tokens();
  testing::HttpResponse session =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens.supervisor + "\"}");
  BOOST_REQUIRE_EQUAL(session.status, 200);
  const std::string set_cookie = session.Header("Set-Cookie");
  const HttpHeaders cookie = {{"Cookie", set_cookie.substr(0, set_cookie.find(';'))}};

  Stream agent_sse(server.port(), false, Bearer(tokens.agent));
  Stream agent_ws(server.port(), true, Bearer(tokens.agent));
  Stream dashboard(server.port(), false, cookie);
  Stream crm(server.port(), false, Bearer(tokens.integration));
  for (Stream* stream : {&agent_sse, &agent_ws, &dashboard, &crm}) {
    BOOST_REQUIRE((stream->status == 200 || stream->status == 101));
    BOOST_REQUIRE(stream->Sees("snapshot"));
  }

  // The agent's and the supervisor's tokens are taken out of the file.
  Object::Ptr config = server.Config();
  Array::Ptr kept = new Array();
  Array::Ptr listed = config->getArray("tokens");
  for (size_t i = 0; i < listed->size(); ++i) {
    Object::Ptr token = listed->getObject(static_cast<unsigned>(i));
    const std::string role = token->getValue<std::string>("role");
    if (role != "agent" && role != "supervisor") kept->add(token);
  }
  config->set("tokens", kept);
  server.WriteConfig(config);
  server.Signal(SIGHUP);
  BOOST_REQUIRE(server.WaitForLog("configuration reloaded", kWait));

  BOOST_TEST(agent_sse.ClosedByServer());
  BOOST_TEST(dashboard.ClosedByServer());
  BOOST_TEST(agent_ws.ClosedByServer());
  // RFC 6455 7.4.1: 1008, policy violation, before the connection closes.
  websocket::FrameParser parser(websocket::FrameParser::From::kServer, 1 << 20);
  std::vector<websocket::Message> messages;
  BOOST_TEST(parser.Feed(agent_ws.peer.received(), messages).ok());
  BOOST_REQUIRE(!messages.empty());
  BOOST_TEST((messages.back().opcode == websocket::Opcode::kClose));
  BOOST_TEST(websocket::CloseCode(messages.back().payload) == 1008);

  // The session of the removed token no longer works; the remaining token's stream goes on.
  BOOST_TEST(http.Send({.path = "/api/v1/session", .headers = cookie}).status == 401);
  BOOST_TEST(http.Get("/api/v1/agents/1001", tokens.agent).status == 401);
  Change(server, "1002", "Lunch");
  BOOST_TEST(crm.Sees("\"Lunch\""));
  BOOST_TEST(!crm.peer.closed());
}

BOOST_AUTO_TEST_CASE(websocket_upgrades_from_a_foreign_origin_are_refused) {
  AgentServer server(ServerSetting("allowed_origins", [] {
    Array::Ptr origins = new Array();
    origins->add("https://dashboard.example.com");
    return origins;
  }()));
  server.Start();
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  const HttpHeaders token = Bearer(server.tokens().supervisor);
  auto with_origin = [&token](const std::string& origin) {
    HttpHeaders headers = token;
    headers.emplace_back("Origin", origin);
    return headers;
  };
  struct Case {
    std::string name;
    HttpHeaders headers;
    int status;
  };
  const std::vector<Case> cases = {
      {"no Origin (not a browser)", token, 101},
      {"the origin served", with_origin("http://" + host), 101},
      {"the origin served, other case",
       with_origin("HTTP://127.0.0.1:" + std::to_string(server.port())), 101},
      {"a configured origin", with_origin("https://dashboard.example.com"), 101},
      {"another site", with_origin("https://evil.example"), 403},
      {"the served host over another scheme", with_origin("https://" + host), 403},
      {"the served host on another port", with_origin("http://127.0.0.1:1"), 403},
      {"an opaque origin", with_origin("null"), 403},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Stream ws(server.port(), true, c.headers, host);
      BOOST_TEST(ws.status == c.status);
      if (c.status == 403) {
        BOOST_TEST(ws.peer.ErrorCode() == "forbidden_origin", ws.peer.body());
        BOOST_TEST(ws.peer.body().find("server.allowed_origins") != std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(repeated_bad_tokens_from_one_address_get_429_and_are_counted) {
  AgentServer server(ServerSetting("auth_failures_per_minute", 3));
  server.Start();
  const std::string& good = server.tokens().supervisor;
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(GetFrom("127.0.0.1", server.port(), "/api/v1/states", "guess" + std::to_string(i)) ==
               401);
  }
  // Now every attempt from that address waits, even one with a good token (a guesser must
  // not learn which of its guesses is right); public routes still answer.
  for (const std::string& token : {std::string("guess3"), good}) {
    std::unique_ptr<Peer> peer = Ask("127.0.0.1", server.port(), "/api/v1/states", token);
    BOOST_TEST(peer->status() == 429);
    BOOST_TEST(peer->ErrorCode() == "too_many_failures", peer->body());
    const std::string retry = peer->Header("Retry-After");
    BOOST_TEST((!retry.empty() && std::stoi(retry) >= 1 && std::stoi(retry) <= 60), retry);
  }
  BOOST_TEST(GetFrom("127.0.0.1", server.port(), "/api/v1/health", "") == 200);
  // Another address is not held back.
  BOOST_TEST(GetFrom("127.0.0.2", server.port(), "/api/v1/states", good) == 200);
  BOOST_TEST(MetricFrom(server, "presence_auth_failures_total") == 3);
  BOOST_TEST(MetricFrom(server, "presence_auth_throttled_total") == 2);
}

BOOST_AUTO_TEST_CASE(guessing_tokens_through_the_session_route_is_throttled_too) {
  AgentServer server(ServerSetting("auth_failures_per_minute", 3));
  server.Start();
  testing::HttpClient http(server.port());
  auto open_session = [&](const std::string& token) {
    return http.Post("/api/v1/session", "", R"({"token": ")" + token + "\"}");
  };
  for (int i = 0; i < 3; ++i) BOOST_TEST(open_session("guess" + std::to_string(i)).status == 401);
  // The right token is refused as well while the address waits: no guess can be confirmed.
  testing::HttpResponse held = open_session(server.tokens().supervisor);
  BOOST_TEST(held.status == 429, held.body);
  BOOST_TEST(!held.Header("Retry-After").empty());
  BOOST_TEST(held.Header("Set-Cookie").empty());
  BOOST_TEST(MetricFrom(server, "presence_auth_failures_total") == 3);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
