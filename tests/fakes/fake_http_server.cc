#include "tests/fakes/fake_http_server.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "connectors/http/http_client.h"

namespace presence::testing {
namespace {

std::string Decode(std::string_view text) {
  std::string plus_as_space(text);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  std::string decoded;
  Poco::URI::decode(plus_as_space, decoded);
  return decoded;
}

// "a=1&b=2" -> the decoded value of `name`, or "".
std::string Field(std::string_view encoded, std::string_view name) {
  size_t start = 0;
  while (start <= encoded.size()) {
    size_t end = encoded.find('&', start);
    if (end == std::string_view::npos) end = encoded.size();
    std::string_view pair = encoded.substr(start, end - start);
    size_t eq = pair.find('=');
    if (Decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : Decode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return "";
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 410:
      return "Gone";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Render(const FakeResponse& response) {
  std::ostringstream out;
  out << "HTTP/1.1 " << response.status << " " << Reason(response.status) << "\r\n";
  for (const auto& [name, value] : response.headers) out << name << ": " << value << "\r\n";
  if (!response.body.empty()) out << "Content-Type: " << response.content_type << "\r\n";
  out << "Content-Length: " << response.body.size() << "\r\n\r\n" << response.body;
  return out.str();
}

}  // namespace

std::string RecordedRequest::Header(std::string_view name) const {
  return connectors::FindHeader(headers, name).value_or("");
}

std::string RecordedRequest::Param(std::string_view name) const { return Field(query, name); }
std::string RecordedRequest::FormField(std::string_view name) const { return Field(body, name); }

// Only the thread that reads a socket closes it: closing a descriptor another thread is
// blocked on is a race (the number can be reused meanwhile). Other threads shut it down, which
// ends the reader's receive, and the reader then closes it.
struct FakeHttpServer::Connection {
  Poco::Net::StreamSocket socket;
  std::string buffer;
  std::mutex mutex;  // guards `closed` and the socket's handle against a concurrent Shutdown
  bool closed = false;

  // Any thread: wakes the serving thread, which then closes the socket.
  void Shutdown() {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) return;
    try {
      socket.shutdown();
    } catch (const Poco::Exception&) {
    }
  }

  // The serving thread (or the acceptor, for a connection it never handed over).
  void Close() {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) return;
    closed = true;
    try {
      socket.shutdown();
    } catch (const Poco::Exception&) {
    }
    socket.close();
  }
};

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  Listen();
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeHttpServer::~FakeHttpServer() {
  stopping_ = true;
  ReleaseHung();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& connection : connections_) connection->Shutdown();
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

std::string FakeHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeHttpServer::Listen() {
  Poco::Net::SocketAddress address("127.0.0.1", port_);
  auto server = std::make_unique<Poco::Net::ServerSocket>();
  server->bind(address, true);
  server->listen(64);
  port_ = server->address().port();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    server_ = std::move(server);
    listening_ = true;
  }
  changed_.notify_all();
}

// The acceptor is the only thread that polls the listening socket, so it is the one that
// closes it when Refuse asks (Refuse waits for that).
void FakeHttpServer::AcceptLoop() {
  for (;;) {
    Poco::Net::ServerSocket server;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return server_ != nullptr || stopping_; });
      if (stopping_) return;
      if (!listening_) {
        server_->close();
        server_.reset();
        lock.unlock();
        changed_.notify_all();
        continue;
      }
      server = *server_;
    }
    try {
      if (!server.poll(Poco::Timespan(0, 20000), Poco::Net::Socket::SELECT_READ)) continue;
      auto connection = std::make_shared<Connection>();
      connection->socket = server.acceptConnection();
      std::lock_guard<std::mutex> lock(mutex_);
      if (!listening_) {
        connection->Close();
        continue;
      }
      connections_.push_back(connection);
      threads_.emplace_back([this, connection] { Serve(connection); });
    } catch (const Poco::Exception&) {
      // The client gave up between the poll and the accept.
    }
  }
}

std::optional<FakeFailure> FakeHttpServer::TakeFailure() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!next_failures_.empty()) {
    FakeFailure failure = std::move(next_failures_.front());
    next_failures_.pop_front();
    return failure;
  }
  return all_failure_;
}

namespace {

// Reads one request from the connection's socket; false when the peer closed or it broke.
bool ReadRequest(Poco::Net::StreamSocket& socket, std::string& buffer, RecordedRequest& request) {
  char chunk[4096];
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    int n = socket.receiveBytes(chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::istringstream head(buffer.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  std::istringstream request_line(line);
  std::string version;
  request_line >> request.method >> request.target >> version;
  size_t length = 0;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (Poco::icompare(name, "Content-Length") == 0) length = std::stoul(value);
    request.headers.emplace_back(name, value);
  }
  buffer.erase(0, head_end + 4);
  while (buffer.size() < length) {
    int n = socket.receiveBytes(chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  request.body = buffer.substr(0, length);
  buffer.erase(0, length);
  size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  request.at = std::chrono::steady_clock::now();
  return true;
}

}  // namespace

void FakeHttpServer::Serve(std::shared_ptr<Connection> connection) {
  try {
    for (;;) {
      RecordedRequest request;
      if (!ReadRequest(connection->socket, connection->buffer, request)) break;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(request);
      }
      changed_.notify_all();
      std::optional<FakeFailure> failure = TakeFailure();
      FakeResponse response;
      if (failure && failure->kind == FakeFailure::Kind::kDrop) break;
      if (failure && failure->kind == FakeFailure::Kind::kHang) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return release_hung_ || stopping_.load(); });
        response = FakeResponse::Empty(503);
      } else if (failure) {
        response = failure->response;
      } else {
        Handler handler;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          handler = handler_;
        }
        response = handler ? handler(request) : FakeResponse::Empty(200);
      }
      // Waiters look again once the handler's effects are in place: a WaitFor whose condition
      // reads what a handler records (a fake's state) would otherwise wake before it and sleep
      // until the next request or its timeout.
      changed_.notify_all();
      std::string bytes = Render(response);
      connection->socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    }
  } catch (const Poco::Exception&) {
    // The client went away or Refuse closed the socket.
  } catch (const std::exception&) {
  }
  connection->Close();
}

void FakeHttpServer::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  handler_ = std::move(handler);
}

void FakeHttpServer::FailNext(int count, FakeFailure failure) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failure.kind == FakeFailure::Kind::kHang) release_hung_ = false;
  for (int i = 0; i < count; ++i) next_failures_.push_back(failure);
}

void FakeHttpServer::FailAll(FakeFailure failure) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failure.kind == FakeFailure::Kind::kHang) release_hung_ = false;
  all_failure_ = std::move(failure);
}

void FakeHttpServer::ClearFailures() {
  std::lock_guard<std::mutex> lock(mutex_);
  all_failure_.reset();
  next_failures_.clear();
}

void FakeHttpServer::ReleaseHung() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    release_hung_ = true;
  }
  changed_.notify_all();
}

void FakeHttpServer::Refuse() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    listening_ = false;
    changed_.notify_all();
    // The acceptor closes the listener after its current poll (at most 20 ms).
    changed_.wait(lock, [this] { return server_ == nullptr; });
    open.swap(connections_);
  }
  for (auto& connection : open) connection->Shutdown();
}

void FakeHttpServer::Accept() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    release_hung_ = false;
  }
  Listen();
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

size_t FakeHttpServer::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size();
}

void FakeHttpServer::ClearRequests() {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
}

bool FakeHttpServer::WaitFor(const std::function<bool(const std::vector<RecordedRequest>&)>& done,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(requests_); });
}

bool FakeHttpServer::WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
  return WaitFor([n](const std::vector<RecordedRequest>& all) { return all.size() >= n; }, timeout);
}

}  // namespace presence::testing
