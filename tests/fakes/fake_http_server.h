#pragma once

// A small HTTP/1.1 server on 127.0.0.1 (a free port) for connector tests: it records every
// request and answers through a handler, and can fail on demand the ways real services fail:
// refuse connections, hang without answering, drop the TCP connection, or answer with any
// status (401, 429 + Retry-After, 500). The fakes of Graph, Salesforce, webhook receivers and
// desk phones are handlers on top of it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace Poco::Net {
class ServerSocket;
class StreamSocket;
}  // namespace Poco::Net

namespace presence::testing {

using FakeHeaders = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query as sent: "/v1.0/users/x/presence/setPresence?a=b"
  std::string path;    // without the query
  std::string query;   // without the '?'
  FakeHeaders headers;
  std::string body;
  std::chrono::steady_clock::time_point at;

  // The first header of that name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
  // A query parameter, percent-decoded, or "".
  std::string Param(std::string_view name) const;
  // The body's form field (application/x-www-form-urlencoded), decoded, or "".
  std::string FormField(std::string_view name) const;
};

struct FakeResponse {
  int status = 200;
  FakeHeaders headers;
  std::string body;
  std::string content_type = "application/json";  // sent when body is not empty

  static FakeResponse Json(int status, std::string body) {
    return FakeResponse{status, {}, std::move(body)};
  }
  static FakeResponse Empty(int status) { return FakeResponse{status, {}, ""}; }
};

// What the server does with a request instead of calling the handler.
struct FakeFailure {
  enum class Kind { kRespond, kHang, kDrop };
  Kind kind = Kind::kRespond;
  FakeResponse response;  // for kRespond

  static FakeFailure Respond(FakeResponse response) {
    return {Kind::kRespond, std::move(response)};
  }
  static FakeFailure Status(int status, FakeHeaders headers = {}, std::string body = "") {
    return {Kind::kRespond, FakeResponse{status, std::move(headers), std::move(body)}};
  }
  // Reads the request and never answers (until ReleaseHung or the server stops).
  static FakeFailure Hang() { return {Kind::kHang, {}}; }
  // Reads the request and closes the TCP connection without a byte of answer.
  static FakeFailure Drop() { return {Kind::kDrop, {}}; }
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;

  // Starts listening at once. The default handler answers 200 with an empty body.
  explicit FakeHttpServer(Handler handler = nullptr);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  void SetHandler(Handler handler);
  // The next `count` requests get `failure` (queued after failures already waiting).
  void FailNext(int count, FakeFailure failure);
  // Every request gets `failure` until ClearFailures (a service that is down).
  void FailAll(FakeFailure failure);
  void ClearFailures();
  // Answers the requests held by Hang with 503 and closes them.
  void ReleaseHung();

  // Closes the listening socket (connections are refused) and every open connection; Accept
  // listens again on the same port.
  void Refuse();
  void Accept();

  // Requests received so far (also those that were failed), in arrival order.
  std::vector<RecordedRequest> requests() const;
  size_t count() const;
  void ClearRequests();
  // Waits until `done(requests)` holds or `timeout` passes; returns whether it held. Woken by
  // every request, never by polling.
  bool WaitFor(const std::function<bool(const std::vector<RecordedRequest>&)>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Waits until at least n requests have arrived.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Connection;
  void Listen();
  void AcceptLoop();
  void Serve(std::shared_ptr<Connection> connection);
  std::optional<FakeFailure> TakeFailure();

  Handler handler_;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<RecordedRequest> requests_;
  std::deque<FakeFailure> next_failures_;
  std::optional<FakeFailure> all_failure_;
  bool release_hung_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::unique_ptr<Poco::Net::ServerSocket> server_;
  std::thread acceptor_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<std::thread> threads_;
};

}  // namespace presence::testing
