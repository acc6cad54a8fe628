#pragma once

// Clients for end-to-end tests of the HTTP API: a blocking HTTP/1.1 client over one keep-alive
// connection (Poco's HTTPClientSession), and a raw socket for responses that never end (the
// Server-Sent Events and WebSocket streams), read with timeouts so a missing byte fails the
// test instead of hanging it.

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace presence::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string reason;   // the status line's reason phrase
  HttpHeaders headers;  // as received, repeated names (Set-Cookie) kept
  std::string body;

  // The first header of that name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
  // The body as a JSON object; throws (failing the test) when it is not one.
  Poco::JSON::Object::Ptr Json() const;
  // The JSON error's code ("" when the body is not a JSON error).
  std::string ErrorCode() const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path;      // with the query: "/api/v1/reports/time?from=...&to=..."
  std::string token;     // sent as "Authorization: Bearer <token>" unless empty
  HttpHeaders headers;   // more headers (Cookie, Content-Type, Last-Event-ID...)
  std::string body;      // sent when not empty, or when the method is POST/PUT
  bool chunked = false;  // send the body chunked, without Content-Length
  std::string content_type = "application/json";  // for a body; "" sends none
};

// One keep-alive connection to 127.0.0.1:port. Not thread-safe: one client per thread.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(10));

  // Sends the request and reads the whole response. Throws Poco::Exception when the
  // connection fails (refused, reset, timed out).
  HttpResponse Send(const HttpRequest& request);

  HttpResponse Get(const std::string& path, const std::string& token = "");
  HttpResponse Put(const std::string& path, const std::string& token, const std::string& body);
  HttpResponse Post(const std::string& path, const std::string& token, const std::string& body);
  HttpResponse Delete(const std::string& path, const std::string& token = "");

 private:
  Poco::Net::HTTPClientSession session_;
};

// A plain TCP connection to 127.0.0.1:port for responses read byte by byte. Owns the socket.
class RawConnection {
 public:
  // Connects (blocking). Throws std::runtime_error when the connection is refused.
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void SendAll(std::string_view bytes);
  // Waits up to `timeout` for bytes; returns what arrived ("" on timeout), nullopt once the
  // peer has closed the connection (or it failed).
  std::optional<std::string> Receive(std::chrono::milliseconds timeout);
  // Reads the response head ("HTTP/1.1 200 OK\r\n...\r\n\r\n") within `timeout`: its status,
  // or 0 when it did not arrive complete. The bytes after the head stay in `leftover`.
  int ReadHead(std::chrono::milliseconds timeout);

  int fd() const { return fd_; }
  const std::string& head() const { return head_; }
  std::string leftover;  // bytes received after the head, not yet consumed

 private:
  int fd_ = -1;
  std::string head_;
};

// The request line and headers of a GET on a raw connection, ending with the blank line.
std::string RawGet(const std::string& path, const HttpHeaders& headers);

// One block of a Server-Sent Event stream (WHATWG HTML, "server-sent events"): the fields up
// to a blank line.
struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;     // "data:" lines joined with '\n'
  std::string comment;  // ": keepalive" -> "keepalive"
  std::string retry;
};

// Takes the first complete block off the front of `text`, exactly as sent: a comment-only or
// retry-only block is returned too, and an absent "id:" stays empty. CRLF line ends are
// accepted. nullopt while no complete block has arrived.
std::optional<SseEvent> TakeSseBlock(std::string& text);

// The events of a stream as a browser's EventSource sees them, however the bytes were cut:
// blocks without data (comments, retry) are not events, and the last id carries over.
class SseParser {
 public:
  void Feed(std::string_view bytes);
  // The events completed so far, oldest first; taken out of the parser.
  std::vector<SseEvent> Take();

 private:
  std::string buffer_;
  std::string last_id_;
  std::vector<SseEvent> done_;
};

// A TCP connection to 127.0.0.1:`port` from the loopback address `from` (127.0.0.x: a client
// address of its own, for the agent's per-address limits), with TCP_NODELAY; the descriptor,
// which the caller closes. `receive_buffer` > 0 sets SO_RCVBUF first. Throws on failure.
int ConnectFrom(const std::string& from, uint16_t port, int receive_buffer = 0);

// A random Sec-WebSocket-Key (16 random bytes, base64), RFC 6455 4.1.
std::string NewWebSocketKey();

}  // namespace presence::testing
