// HTTPS end to end: the real presence-agent serving TLS with a certificate made at test time by
// the openssl CLI, and the stream hub's TLS viewers on their own (back-pressure, bytes OpenSSL
// has decrypted before the hub takes the connection).

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <deque>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/stream/stream_hub.h"
#include "agent/stream/websocket_protocol.h"
#include "tests/fakes/http_client.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"

namespace presence::agent {
namespace {

using Poco::JSON::Object;
using Poco::Net::Context;
namespace ws = websocket;

const std::string kAgent = PRESENCE_AGENT_BINARY;
const std::string kSample = std::string(PRESENCE_SOURCE_DIR) + "/samples/dial-command.json";
const Poco::Timespan kWait(10, 0);  // how long a read waits before the test gives up
// RFC 6455 1.3's example key and its Sec-WebSocket-Accept.
constexpr const char* kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char* kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct Certificate {
  std::string certificate;  // PEM files
  std::string private_key;
};

// A self-signed certificate for localhost, made once per run.
const Certificate& TestCertificate() {
  static testing::TempDir dir;
  static const Certificate made = [] {
    Certificate files{dir.File("cert.pem"), dir.File("key.pem")};
    const testing::RunResult result = testing::RunCommand(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         files.private_key, "-out", files.certificate, "-days", "2", "-subj", "/CN=localhost"});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "openssl req failed: " << result.err);
    return files;
  }();
  return made;
}

Context::Ptr ClientContext() {
  Poco::Net::initializeSSL();
  static const Context::Ptr context =
      new Context(Context::TLS_CLIENT_USE, "", "", "", Context::VERIFY_NONE);
  return context;
}

Context::Ptr ServerContext() {
  Poco::Net::initializeSSL();
  static const Context::Ptr context =
      new Context(Context::TLS_SERVER_USE, TestCertificate().private_key,
                  TestCertificate().certificate, "", Context::VERIFY_NONE);
  return context;
}

Object::Ptr Json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Object::Ptr>();
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// A configuration for `serve` over TLS: the sample's catalog, user 1001, an integration and a
// supervisor token.
struct ServiceConfig {
  explicit ServiceConfig(const Certificate& tls, std::vector<std::string> frame_ancestors = {}) {
    std::ifstream sample_file(kSample);
    std::stringstream sample_text;
    sample_text << sample_file.rdbuf();
    Object::Ptr sample = Json(sample_text.str());

    Object config;
    config.set("settings", sample->get("settings"));
    config.set("states", sample->get("states"));
    Object::Ptr tls_object = new Object;
    tls_object->set("certificate", tls.certificate);
    tls_object->set("private_key", tls.private_key);
    Object::Ptr server = new Object;
    server->set("listen", "127.0.0.1:0");
    server->set("data_dir", dir.File("data"));
    server->set("tls", tls_object);
    if (!frame_ancestors.empty()) {
      Poco::JSON::Array::Ptr origins = new Poco::JSON::Array;
      for (const std::string& origin : frame_ancestors) origins->add(origin);
      server->set("frame_ancestors", origins);
    }
    config.set("server", server);
    Object::Ptr user = new Object;
    user->set("id", "1001");
    user->set("name", "Anna Berg");
    Poco::JSON::Array::Ptr users = new Poco::JSON::Array;
    users->add(user);
    config.set("users", users);
    Poco::JSON::Array::Ptr tokens = new Poco::JSON::Array;
    for (const auto& [name, token] :
         {std::pair{"integration", integration_token}, std::pair{"supervisor", supervisor_token}}) {
      Object::Ptr entry = new Object;
      entry->set("name", std::string("test ") + name);
      entry->set("role", std::string(name));
      entry->set("sha256", TokenHash(token));
      tokens->add(entry);
    }
    Object::Ptr agent = new Object;
    agent->set("name", "test agent");
    agent->set("role", "agent");
    agent->set("user", "1001");
    agent->set("sha256", TokenHash(agent_token));
    tokens->add(agent);
    config.set("tokens", tokens);
    std::ostringstream text;
    config.stringify(text, 2);
    path = WriteFile(dir.File("config.json"), text.str());
  }

  testing::TempDir dir;
  std::string integration_token = NewToken();
  std::string supervisor_token = NewToken();
  std::string agent_token = NewToken();
  std::string path;
};

// `presence-agent serve` on an ephemeral port; SIGTERM at the end.
class TlsService {
 public:
  explicit TlsService(const std::string& config_path)
      : process_({kAgent, "serve", "-c", config_path}) {
    const std::string prefix = "listening on https://127.0.0.1:";
    const std::optional<std::string> line = process_.ReadLine();
    BOOST_REQUIRE_MESSAGE(line && line->starts_with(prefix),
                          "serve did not start: " << line.value_or("") << process_.Stderr());
    port_ = static_cast<uint16_t>(std::stoi(line->substr(prefix.size())));
  }
  ~TlsService() {
    process_.Kill(SIGTERM);
    process_.Wait();
  }
  uint16_t port() const { return port_; }
  int Stop() {
    process_.Kill(SIGTERM);
    return process_.Wait();
  }

 private:
  testing::Subprocess process_;
  uint16_t port_ = 0;
};

struct HttpsReply {
  int status = 0;
  std::string body;
  std::string set_cookie;                // the first Set-Cookie
  std::vector<std::string> set_cookies;  // all of them
};

HttpsReply Https(uint16_t port, const std::string& method, const std::string& path,
                 const std::string& token, const std::string& body = "",
                 const std::string& cookie = "") {
  Poco::Net::HTTPSClientSession session("127.0.0.1", port, ClientContext());
  session.setTimeout(kWait);
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!token.empty()) request.set("Authorization", "Bearer " + token);
  if (!cookie.empty()) request.set("Cookie", cookie);
  if (!body.empty()) {
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpsReply reply;
  reply.status = static_cast<int>(response.getStatus());
  reply.set_cookie = response.get("Set-Cookie", "");
  for (auto it = response.find("Set-Cookie"); it != response.end() && it->first == "Set-Cookie";
       ++it) {
    reply.set_cookies.push_back(it->second);
  }
  Poco::StreamCopier::copyToString(in, reply.body);
  return reply;
}

using testing::SseEvent;

// The client end of a TLS connection that reads a raw stream, as a browser's EventSource or
// WebSocket does; every read waits at most kWait.
class TlsClient {
 public:
  explicit TlsClient(Poco::Net::SecureStreamSocket socket) : socket_(std::move(socket)) {
    socket_.setReceiveTimeout(kWait);
  }
  TlsClient(uint16_t port, const std::string& request)
      : TlsClient(Poco::Net::SecureStreamSocket(Poco::Net::SocketAddress("127.0.0.1", port),
                                                ClientContext())) {
    Send(request);
  }

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const int wrote = socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
      BOOST_REQUIRE(wrote > 0);
      bytes.remove_prefix(static_cast<size_t>(wrote));
    }
  }
  // Reads once into buffer(); false at the end of the stream or after kWait without bytes.
  bool Read() {
    char chunk[16384];
    try {
      const int got = socket_.receiveBytes(chunk, sizeof chunk);
      if (got > 0) {
        buffer_.append(chunk, static_cast<size_t>(got));
        return true;
      }
    } catch (const Poco::TimeoutException&) {
      return false;
    } catch (const Poco::Exception&) {
      // The connection ended without a TLS close_notify.
    }
    ended_ = true;
    return false;
  }
  // Takes everything up to and including `delimiter` off the buffer, reading as needed.
  std::optional<std::string> ReadUntil(std::string_view delimiter) {
    for (;;) {
      const size_t at = buffer_.find(delimiter);
      if (at != std::string::npos) {
        std::string taken = buffer_.substr(0, at + delimiter.size());
        buffer_.erase(0, at + delimiter.size());
        return taken;
      }
      if (!Read()) return std::nullopt;
    }
  }
  std::optional<SseEvent> NextSse() {
    for (;;) {
      if (std::optional<SseEvent> event = testing::TakeSseBlock(buffer_)) return event;
      if (!Read()) return std::nullopt;
    }
  }
  // The next message from the server's WebSocket frames.
  std::optional<ws::Message> NextMessage() {
    while (messages_.empty()) {
      if (buffer_.empty() && !Read()) return std::nullopt;
      std::vector<ws::Message> parsed;
      BOOST_REQUIRE(parser_.Feed(buffer_, parsed).ok());
      buffer_.clear();
      messages_.insert(messages_.end(), parsed.begin(), parsed.end());
    }
    ws::Message message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }
  // Whether the server ends the connection (within kWait of its last bytes).
  bool Ended() {
    while (Read()) buffer_.clear();
    return ended_;
  }

 private:
  Poco::Net::SecureStreamSocket socket_;
  std::string buffer_;
  ws::FrameParser parser_{ws::FrameParser::From::kServer, 1 << 20};
  std::deque<ws::Message> messages_;
  bool ended_ = false;
};

std::string StreamRequest(const std::string& path, const std::string& token,
                          const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n" +
         extra_headers + "\r\n";
}

// Serve's first output line, or nullopt if it ended without one; then its exit code.
std::pair<std::optional<std::string>, int> ServeOnce(const std::string& config_path,
                                                     std::string& stderr_text) {
  testing::Subprocess process({kAgent, "serve", "-c", config_path});
  std::optional<std::string> line = process.ReadLine();
  if (line) process.Kill(SIGTERM);
  const int code = process.Wait();
  stderr_text = process.Stderr();
  return {line, code};
}

// A TLS connection over loopback whose handshake is done, both ends: the server end as the
// HTTP server hands it to the hub. `receive_buffer` > 0 sets the client's SO_RCVBUF first.
std::pair<Poco::Net::StreamSocket, Poco::Net::SecureStreamSocket> TlsPair(int receive_buffer = 0) {
  Poco::Net::SecureServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0), 16,
                                         ServerContext());
  const Poco::Net::SocketAddress address("127.0.0.1", listener.address().port());
  auto client = std::async(std::launch::async, [&] {
    Poco::Net::StreamSocket tcp(Poco::Net::SocketAddress::IPv4);
    if (receive_buffer > 0) tcp.setReceiveBufferSize(receive_buffer);
    tcp.connect(address);
    return Poco::Net::SecureStreamSocket::attach(tcp, ClientContext());
  });
  Poco::Net::StreamSocket server = listener.acceptConnection();
  Poco::Net::SecureStreamSocket(server).completeHandshake();
  return {server, client.get()};
}

std::shared_ptr<const Snapshot> EmptySnapshot() {
  static const auto snapshot = std::make_shared<const Snapshot>();
  return snapshot;
}

std::string LabelView(const AgentState& state) {
  return "{\"id\":\"" + state.agent + "\",\"label\":\"" + state.label + "\"}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_test)

BOOST_AUTO_TEST_CASE(https_serves_the_api_and_refuses_plain_http) {
  ServiceConfig config(TestCertificate());
  TlsService service(config.path);

  const HttpsReply health = Https(service.port(), "GET", "/api/v1/health", "");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(Json(health.body)->getValue<std::string>("status") == "ok");

  const HttpsReply changed = Https(service.port(), "PUT", "/api/v1/agents/1001/state",
                                   config.integration_token, R"({"label": "Lunch"})");
  BOOST_TEST(changed.status == 200, changed.body);
  BOOST_TEST(changed.body.find("\"Lunch\"") != std::string::npos, changed.body);

  const auto plain_get = [&] {
    Poco::Net::HTTPClientSession plain("127.0.0.1", service.port());
    plain.setTimeout(kWait);
    Poco::Net::HTTPRequest request("GET", "/api/v1/health", Poco::Net::HTTPMessage::HTTP_1_1);
    plain.sendRequest(request);
    Poco::Net::HTTPResponse response;
    plain.receiveResponse(response);
  };
  BOOST_CHECK_THROW(plain_get(), Poco::Exception);
  BOOST_TEST(Https(service.port(), "GET", "/api/v1/health", "").status == 200);  // still up
}

BOOST_AUTO_TEST_CASE(session_cookie_is_secure_over_https) {
  ServiceConfig config(TestCertificate());
  TlsService service(config.path);
  const HttpsReply opened = Https(service.port(), "POST", "/api/v1/session", "",
                                  "{\"token\": \"" + config.supervisor_token + "\"}");
  BOOST_TEST(opened.status == 200, opened.body);
  std::string cookie = Poco::toLower(opened.set_cookie);
  BOOST_TEST(cookie.starts_with("pa_session="), cookie);
  BOOST_TEST(cookie.find("; secure") != std::string::npos, cookie);
  BOOST_TEST(cookie.find("; httponly") != std::string::npos, cookie);
}

// The agent page framed by another site (a Salesforce softphone panel) gets its session
// cookie only when it is SameSite=None; Secure; Partitioned: so is an agent's session with
// server.frame_ancestors under TLS; a supervisor's (the dashboard, never framed) stays Strict.
BOOST_AUTO_TEST_CASE(with_frame_ancestors_an_agent_session_cookie_works_in_a_frame) {
  ServiceConfig config(TestCertificate(), {"https://myorg.lightning.force.com"});
  TlsService service(config.path);
  const HttpsReply agent = Https(service.port(), "POST", "/api/v1/session", "",
                                 "{\"token\": \"" + config.agent_token + "\"}");
  BOOST_TEST(agent.status == 200, agent.body);
  const std::string cookie = Poco::toLower(agent.set_cookie);
  for (const char* attribute : {"; httponly", "; secure", "; samesite=none", "; partitioned"}) {
    BOOST_TEST(cookie.find(attribute) != std::string::npos, attribute << " in " << cookie);
  }
  // The unpartitioned kind is removed with it: a browser holds one session, not two.
  BOOST_REQUIRE_EQUAL(agent.set_cookies.size(), 2u);
  BOOST_TEST(agent.set_cookies[0] == agent.set_cookie);
  BOOST_TEST(agent.set_cookies[1].rfind("pa_session=;", 0) == 0u, agent.set_cookies[1]);
  BOOST_TEST(Poco::toLower(agent.set_cookies[1]).find("partitioned") == std::string::npos);
  const std::string pair = agent.set_cookie.substr(0, agent.set_cookie.find(';'));
  const HttpsReply who = Https(service.port(), "GET", "/api/v1/session", "", "", pair);
  BOOST_TEST(who.status == 200, who.body);
  BOOST_TEST(Json(who.body)->getValue<std::string>("user") == "1001");

  const HttpsReply supervisor = Https(service.port(), "POST", "/api/v1/session", "",
                                      "{\"token\": \"" + config.supervisor_token + "\"}");
  BOOST_TEST(Poco::toLower(supervisor.set_cookie).find("; samesite=strict") != std::string::npos,
             supervisor.set_cookie);
  BOOST_TEST(Poco::toLower(supervisor.set_cookie).find("partitioned") == std::string::npos);
  BOOST_REQUIRE_EQUAL(supervisor.set_cookies.size(), 2u);  // and the partitioned kind goes
  BOOST_TEST(supervisor.set_cookies[1].rfind("pa_session=;", 0) == 0u, supervisor.set_cookies[1]);
  BOOST_TEST(Poco::toLower(supervisor.set_cookies[1]).find("; partitioned") != std::string::npos);

  // Signing out removes both kinds: a partitioned cookie goes only with a partitioned removal.
  const HttpsReply closed = Https(service.port(), "DELETE", "/api/v1/session", "", "", pair);
  BOOST_TEST(closed.status == 204);
  BOOST_REQUIRE_EQUAL(closed.set_cookies.size(), 2u);
  BOOST_TEST(Poco::toLower(closed.set_cookies[0]).find("partitioned") == std::string::npos);
  BOOST_TEST(Poco::toLower(closed.set_cookies[1]).find("; partitioned") != std::string::npos);
  BOOST_TEST(Https(service.port(), "GET", "/api/v1/session", "", "", pair).status == 401);
}

BOOST_AUTO_TEST_CASE(without_frame_ancestors_an_agent_session_cookie_stays_strict) {
  ServiceConfig config(TestCertificate());
  TlsService service(config.path);
  const HttpsReply agent = Https(service.port(), "POST", "/api/v1/session", "",
                                 "{\"token\": \"" + config.agent_token + "\"}");
  BOOST_TEST(agent.status == 200, agent.body);
  const std::string cookie = Poco::toLower(agent.set_cookie);
  BOOST_TEST(cookie.find("; samesite=strict") != std::string::npos, cookie);
  BOOST_TEST(cookie.find("partitioned") == std::string::npos, cookie);
}

BOOST_AUTO_TEST_CASE(sse_over_tls_gets_the_snapshot_then_an_update) {
  ServiceConfig config(TestCertificate());
  TlsService service(config.path);
  BOOST_REQUIRE(Https(service.port(), "PUT", "/api/v1/agents/1001/state", config.integration_token,
                      R"({"label": "Break"})")
                    .status == 200);

  TlsClient viewer(service.port(), StreamRequest("/api/v1/stream", config.supervisor_token));
  const std::optional<std::string> head = viewer.ReadUntil("\r\n\r\n");
  BOOST_REQUIRE(head);
  BOOST_TEST(head->starts_with("HTTP/1.1 200 OK\r\n"), *head);
  BOOST_TEST(head->find("Content-Type: text/event-stream") != std::string::npos, *head);
  std::optional<SseEvent> event = viewer.NextSse();
  BOOST_REQUIRE(event);
  BOOST_TEST(event->retry == "2000");
  event = viewer.NextSse();
  BOOST_REQUIRE(event);
  BOOST_TEST(event->event == "snapshot");
  Object::Ptr snapshot = Json(event->data);
  BOOST_TEST(snapshot->getValue<std::string>("type") == "snapshot");
  BOOST_TEST(event->data.find("\"Break\"") != std::string::npos, event->data);

  BOOST_REQUIRE(Https(service.port(), "PUT", "/api/v1/agents/1001/state", config.integration_token,
                      R"({"label": "Lunch"})")
                    .status == 200);
  do {
    event = viewer.NextSse();
    BOOST_REQUIRE_MESSAGE(event, "no update over the TLS stream");
  } while (event->event != "agent");  // keepalives are comments, not events
  Object::Ptr update = Json(event->data);
  BOOST_TEST(update->getValue<std::string>("type") == "agent");
  BOOST_TEST(update->getValue<uint64_t>("seq") > snapshot->getValue<uint64_t>("seq"));
  BOOST_TEST(event->data.find("\"1001\"") != std::string::npos, event->data);
  BOOST_TEST(event->data.find("\"Lunch\"") != std::string::npos, event->data);
}

BOOST_AUTO_TEST_CASE(websocket_over_tls_gets_the_snapshot_pong_and_close) {
  ServiceConfig config(TestCertificate());
  TlsService service(config.path);
  TlsClient viewer(service.port(),
                   StreamRequest("/api/v1/ws", config.supervisor_token,
                                 std::string("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ") +
                                     kRfcKey + "\r\n"));
  const std::optional<std::string> head = viewer.ReadUntil("\r\n\r\n");
  BOOST_REQUIRE(head);
  BOOST_TEST(head->starts_with("HTTP/1.1 101 Switching Protocols\r\n"), *head);
  BOOST_TEST(head->find(std::string("Sec-WebSocket-Accept: ") + kRfcAccept) != std::string::npos,
             *head);
  std::optional<ws::Message> message = viewer.NextMessage();
  BOOST_REQUIRE(message);
  BOOST_TEST(static_cast<int>(message->opcode) == static_cast<int>(ws::Opcode::kText));
  BOOST_TEST(Json(message->payload)->getValue<std::string>("type") == "snapshot");

  // The hub reads through TLS too: a ping is answered, a close is echoed and ends it.
  viewer.Send(ws::EncodeClientFrame(ws::Opcode::kPing, "over tls", 0x0badcafe));
  message = viewer.NextMessage();
  BOOST_REQUIRE(message);
  BOOST_TEST(static_cast<int>(message->opcode) == static_cast<int>(ws::Opcode::kPong));
  BOOST_TEST(message->payload == "over tls");
  viewer.Send(ws::EncodeClientFrame(ws::Opcode::kClose, ws::EncodeClose(ws::kCloseNormal).substr(2),
                                    0x01020304));
  message = viewer.NextMessage();
  BOOST_REQUIRE(message);
  BOOST_TEST(static_cast<int>(message->opcode) == static_cast<int>(ws::Opcode::kClose));
  BOOST_TEST(ws::CloseCode(message->payload) == ws::kCloseNormal);
  BOOST_TEST(viewer.Ended());
  BOOST_TEST(service.Stop() == 0);
}

BOOST_AUTO_TEST_CASE(missing_or_mismatched_certificate_stops_serve_with_exit_2) {
  const Certificate& good = TestCertificate();
  ServiceConfig missing({good.certificate + ".missing", good.private_key});
  std::string err;
  auto [line, code] = ServeOnce(missing.path, err);
  BOOST_TEST(!line.has_value(), line.value_or(""));
  BOOST_TEST(code == 2, err);
  BOOST_TEST(
      err.find("server.tls.certificate \"" + good.certificate + ".missing\"") != std::string::npos,
      err);
  BOOST_TEST(err.find("No such file or directory") != std::string::npos, err);

  // A readable file that is not a certificate: OpenSSL's reason, with the file.
  ServiceConfig swapped({good.private_key, good.private_key});
  std::tie(line, code) = ServeOnce(swapped.path, err);
  BOOST_TEST(!line.has_value(), line.value_or(""));
  BOOST_TEST(code == 2, err);
  BOOST_TEST(err.find("certificate from file " + good.private_key) != std::string::npos, err);

  // A key of its own that is not the certificate's.
  const std::string other_key = missing.dir.File("other-key.pem");
  const testing::RunResult made =
      testing::RunCommand({"/usr/bin/openssl", "genrsa", "-out", other_key, "2048"});
  BOOST_REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  ServiceConfig mismatched({good.certificate, other_key});
  std::tie(line, code) = ServeOnce(mismatched.path, err);
  BOOST_TEST(!line.has_value(), line.value_or(""));
  BOOST_TEST(code == 2, err);
  BOOST_TEST(err.find("is not the key of server.tls.certificate") != std::string::npos, err);
}

// The hub writes a stream far larger than the socket buffers to a TLS viewer that reads
// slowly: every write that would block is retried as OpenSSL requires, nothing is lost or
// reordered.
BOOST_AUTO_TEST_CASE(hub_keeps_a_tls_stream_whole_under_back_pressure) {
  signal(SIGPIPE, SIG_IGN);  // as RunServe does; OpenSSL writes without MSG_NOSIGNAL
  StreamHubOptions options;
  options.viewer_buffer_bytes = 64 << 20;
  StreamHub hub(options, LabelView, EmptySnapshot);
  BOOST_REQUIRE(hub.Start().ok());
  auto [server, client_socket] = TlsPair(4096);
  server.setSendBufferSize(4096);
  // The hub's handle is the only one left, so the TLS connection ends on the hub's thread:
  // Poco counts socket handles inside its library, where ThreadSanitizer cannot see that the
  // last release on this thread comes after the hub's use.
  hub.Add(std::exchange(server, Poco::Net::StreamSocket()), StreamHub::Kind::kSse, "", "");

  constexpr uint64_t kUpdates = 3000;
  const std::string padding(700, 'x');
  std::vector<AgentUpdate> updates;
  for (uint64_t seq = 1; seq <= kUpdates; ++seq) {
    auto state = std::make_shared<AgentState>();
    state->agent = "a" + std::to_string(seq % 50);
    state->label = std::to_string(seq) + padding;
    updates.push_back(AgentUpdate{seq, state});
    if (updates.size() == 100) hub.Publish(std::exchange(updates, {}));
  }

  TlsClient viewer(std::move(client_socket));
  BOOST_REQUIRE(viewer.ReadUntil("\r\n\r\n"));
  std::optional<SseEvent> event = viewer.NextSse();  // retry
  BOOST_REQUIRE(event);
  event = viewer.NextSse();
  BOOST_REQUIRE(event);
  BOOST_TEST(event->event == "snapshot");
  for (uint64_t seq = 1; seq <= kUpdates; ++seq) {
    event = viewer.NextSse();
    BOOST_REQUIRE_MESSAGE(event, "stream ended before update " << seq);
    BOOST_REQUIRE_EQUAL(event->id, hub.epoch() + "-" + std::to_string(seq));
    Object::Ptr update = Json(event->data);
    BOOST_REQUIRE_EQUAL(update->getObject("agent")->getValue<std::string>("label"),
                        std::to_string(seq) + padding);
  }
  BOOST_TEST(hub.dropped_slow() == 0u);
  BOOST_TEST(hub.viewers() == 1u);
}

// WebSocket frames that arrived in the same TLS record as bytes read before the hand-over sit
// decrypted inside OpenSSL, where epoll never reports them: the hub must read them anyway.
BOOST_AUTO_TEST_CASE(hub_reads_what_tls_decrypted_before_the_hand_over) {
  signal(SIGPIPE, SIG_IGN);
  StreamHub hub({}, LabelView, EmptySnapshot);
  BOOST_REQUIRE(hub.Start().ok());
  auto [server, client_socket] = TlsPair();
  TlsClient viewer(std::move(client_socket));

  constexpr int kPings = 40;
  std::string frames;
  for (int i = 0; i < kPings; ++i) {
    frames += ws::EncodeClientFrame(ws::Opcode::kPing, "ping " + std::to_string(i), 0x11223344);
  }
  viewer.Send(frames);  // one record
  const size_t first = ws::EncodeClientFrame(ws::Opcode::kPing, "ping 0", 0x11223344).size();
  std::string taken(first, '\0');
  {
    Poco::Net::SecureStreamSocket secure(server);
    secure.setReceiveTimeout(kWait);
    BOOST_REQUIRE_EQUAL(secure.receiveBytes(taken.data(), static_cast<int>(first)),
                        static_cast<int>(first));
    BOOST_REQUIRE(secure.available() > 0);  // the rest of the record, decrypted and waiting
  }
  // The hub's handle is the only one left (see hub_keeps_a_tls_stream_whole_under_back_pressure).
  hub.Add(std::exchange(server, Poco::Net::StreamSocket()), StreamHub::Kind::kWebSocket, kRfcKey,
          "");

  BOOST_REQUIRE(viewer.ReadUntil("\r\n\r\n"));
  std::optional<ws::Message> message = viewer.NextMessage();
  BOOST_REQUIRE(message);
  BOOST_TEST(Json(message->payload)->getValue<std::string>("type") == "snapshot");
  for (int i = 1; i < kPings; ++i) {
    message = viewer.NextMessage();
    BOOST_REQUIRE_MESSAGE(message, "no pong for ping " << i);
    BOOST_TEST(static_cast<int>(message->opcode) == static_cast<int>(ws::Opcode::kPong));
    BOOST_TEST(message->payload == "ping " + std::to_string(i));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
