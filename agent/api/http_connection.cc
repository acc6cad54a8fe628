#include "agent/api/http_connection.h"

#include <Poco/BasicEvent.h>
#include <Poco/Delegate.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/api/http_call.h"

namespace presence::agent {
namespace {

using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerParams;
using Poco::Net::StreamSocket;

// A socket that hands every call to the connection's real socket (plain or TLS) and keeps a
// copy of the bytes received while a request head is read: Poco joins a folded header line to
// the one before, so folding can only be seen in the bytes as they arrived. It is attached to
// the session only while Poco reads (head, and a body), never when a handler could take the
// socket away (the stream hub must get the real one).
class RecordingSocketImpl final : public Poco::Net::StreamSocketImpl {
 public:
  explicit RecordingSocketImpl(const StreamSocket& real) : real_(real) {}

  // Starts a head: the bytes the session already holds (the last `buffered` bytes received)
  // are its beginning.
  void BeginHead(std::size_t buffered) {
    recording_ = true;
    head_ = buffered <= last_.size() ? last_.substr(last_.size() - buffered) : std::string();
    complete_ = buffered <= last_.size();
  }
  // The bytes received since BeginHead (the head and maybe more); nullopt when the start of
  // the head was not seen (cannot happen while every read goes through this socket).
  std::optional<std::string> EndHead() {
    recording_ = false;
    if (!complete_) return std::nullopt;
    return std::move(head_);
  }

  using Poco::Net::StreamSocketImpl::receiveBytes;
  using Poco::Net::StreamSocketImpl::sendBytes;
  int receiveBytes(void* buffer, int length, int flags) override {
    const int received = real_.impl()->receiveBytes(buffer, length, flags);
    if (received > 0 && (flags & MSG_PEEK) == 0) {
      last_.assign(static_cast<const char*>(buffer), static_cast<std::size_t>(received));
      if (recording_) head_ += last_;
    }
    return received;
  }
  int sendBytes(const void* buffer, int length, int flags) override {
    return real_.impl()->sendBytes(buffer, length, flags);
  }
  bool poll(const Poco::Timespan& timeout, int mode) override {
    return real_.impl()->poll(timeout, mode);
  }
  int available() override { return real_.impl()->available(); }
  void close() override { real_.impl()->close(); }
  void shutdown() override { real_.impl()->shutdown(); }
  void shutdownReceive() override { real_.impl()->shutdownReceive(); }
  void shutdownSend() override { real_.impl()->shutdownSend(); }
  Poco::Net::SocketAddress address() override { return real_.impl()->address(); }
  Poco::Net::SocketAddress peerAddress() override { return real_.impl()->peerAddress(); }
  bool secure() const override { return real_.impl()->secure(); }

 private:
  StreamSocket real_;
  std::string last_;  // the last bytes received: the session's buffer is a suffix of them
  std::string head_;
  bool recording_ = false;
  bool complete_ = true;
};

// Poco's server session, with its buffer size and socket swap reachable.
class Session final : public Poco::Net::HTTPServerSession {
 public:
  Session(const StreamSocket& socket, HTTPServerParams::Ptr params)
      : HTTPServerSession(socket, params) {}
  using HTTPServerSession::attachSocket;
  using HTTPServerSession::buffered;
};

// What is wrong with a head as received (folding, control characters), or "".
std::string HeadProblem(std::string_view bytes) {
  std::size_t i = bytes.find_first_not_of("\r\n");  // Poco skips blank lines before a request
  if (i == std::string_view::npos) return "";
  bool request_line = true;
  while (i < bytes.size()) {
    std::size_t end = bytes.find('\n', i);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(i, end - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && !request_line) return "";  // the end of the head
    if (!request_line && (line.front() == ' ' || line.front() == '\t')) {
      return "a header line is folded onto the one before (obs-fold, RFC 9112 5.2): send each "
             "header on one line";
    }
    for (char c : line) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t') || byte == 0x7F) {
        return "a control character in the request head; header values may hold only "
               "visible characters, spaces and tabs";
      }
    }
    request_line = false;
    i = end + 1;
  }
  return "";
}

bool AllDigits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

// Framing that Poco accepts but another reader of the same bytes might frame differently.
std::string FramingProblem(const HTTPRequest& request) {
  std::optional<std::string> length;
  for (auto it = request.find("Content-Length"); it != request.end(); ++it) {
    if (Poco::icompare(it->first, "Content-Length") != 0) break;
    if (!AllDigits(it->second)) return "Content-Length: must be a number of bytes (digits only)";
    if (length && *length != it->second) return "Content-Length: sent twice with two values";
    length = it->second;
  }
  if (length && request.has("Transfer-Encoding")) {
    return "Content-Length and Transfer-Encoding together: send one of them";
  }
  // RFC 9112 6.1: any other coding, or a list, is framed by a proxy differently than here.
  if (request.has("Transfer-Encoding") && !request.getChunkedTransferEncoding()) {
    return "Transfer-Encoding: only 'chunked' is accepted";
  }
  const bool body = request.getChunkedTransferEncoding() ||
                    (length && length->find_first_not_of('0') != std::string::npos);
  const std::string& method = request.getMethod();
  if (body && (method == HTTPRequest::HTTP_GET || method == HTTPRequest::HTTP_HEAD)) {
    return "a " + method + " request carries no body";
  }
  return "";
}

// A fresh response for answers outside a handler: a JSON 400 that closes the connection.
void SendMalformed(Session& session, const std::string& message) {
  Poco::Net::HTTPServerResponseImpl response(session);
  response.setVersion(HTTPResponse::HTTP_1_1);
  response.setStatusAndReason(HTTPResponse::HTTP_BAD_REQUEST);
  response.setContentType("application/json");
  SetStandardHeaders(response);
  response.setKeepAlive(false);
  response.setDate(Poco::Timestamp());
  const std::string body = JsonErrorBody("malformed_request", message);
  // Not sendBuffer: without a request attached, Poco's sendBuffer leaves the body out.
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send().write(body.data(), static_cast<std::streamsize>(body.size())).flush();
  session.setKeepAlive(false);
}

}  // namespace

// Raised by HttpServer::stopAll (Poco's HTTPRequestHandlerFactory::serverStopped is for its
// own HTTPServer only).
struct HttpStopSignal {
  Poco::BasicEvent<const bool> stopped;
};

namespace {

class HttpConnection final : public Poco::Net::TCPServerConnection {
 public:
  HttpConnection(const StreamSocket& socket, HTTPServerParams::Ptr params,
                 Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                 std::shared_ptr<HttpStopSignal> stop)
      : TCPServerConnection(socket), params_(params), handlers_(handlers), stop_(std::move(stop)) {
    stop_->stopped += Poco::delegate(this, &HttpConnection::OnServerStopped);
  }
  ~HttpConnection() override {
    try {
      stop_->stopped -= Poco::delegate(this, &HttpConnection::OnServerStopped);
    } catch (...) {
      // A destructor, possibly during shutdown: nothing may escape it and the delegate goes
      // with the event anyway; there is no log here to write to.
    }
  }

  void run() override {
    auto* recorder = new RecordingSocketImpl(socket());
    const StreamSocket recording(recorder);  // owns recorder
    Session session(socket(), params_);
    while (!stopped_ && session.hasMoreRequests()) {
      Poco::FastMutex::ScopedLock lock(mutex_);
      if (stopped_) break;
      session.attachSocket(recording);
      recorder->BeginHead(static_cast<std::size_t>(session.buffered()));
      if (!Serve(session, *recorder)) break;
      // Between requests the session holds the real socket: Poco's hasMoreRequests only waits
      // for it (no read), and asks it whether it is open, which the recorder is not.
      session.attachSocket(socket());
    }
    // The session closes the socket it holds when it ends: the real one (directly or through
    // the recorder), or none when a handler took it for the stream hub.
  }

 private:
  // One request; false when the connection must end.
  bool Serve(Session& session, RecordingSocketImpl& recorder) {
    Poco::Net::HTTPServerResponseImpl response(session);
    std::unique_ptr<Poco::Net::HTTPServerRequestImpl> request;
    std::string problem;
    try {
      request = std::make_unique<Poco::Net::HTTPServerRequestImpl>(response, session, params_);
    } catch (const Poco::Net::NoMessageException&) {
      return false;  // the client closed the connection between requests
    } catch (const Poco::Net::MessageException& e) {
      problem = "the request head could not be read (" + e.message() +
                "); a request line may have up to 16384 bytes, a header value up to 8192, and "
                "a request up to 100 headers";
    } catch (const Poco::SyntaxException&) {
      problem = "Content-Length: must be a number of bytes (digits only)";
    }
    std::optional<std::string> head = recorder.EndHead();
    if (problem.empty() && head) problem = HeadProblem(*head);
    if (problem.empty()) problem = FramingProblem(*request);
    if (!problem.empty()) {
      session.attachSocket(socket());
      SendMalformed(session, problem);
      return false;
    }
    // A GET (streams) keeps no recorder: its handler may take the socket for the stream hub,
    // which needs the real one, and a GET has no body to read.
    const bool get = request->getMethod() == HTTPRequest::HTTP_GET;
    if (get) session.attachSocket(socket());
    const bool more = Handle(session, *request, response);
    // The stream hub took the socket: the connection is no longer this loop's.
    if (get && session.socket().impl() != socket().impl()) return false;
    return more;
  }

  // Runs the handler, as Poco's connection does; false when the connection must end.
  bool Handle(Session& session, Poco::Net::HTTPServerRequestImpl& request,
              Poco::Net::HTTPServerResponseImpl& response) {
    response.setDate(Poco::Timestamp());
    response.setVersion(request.getVersion());
    response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() &&
                          session.canKeepAlive());
    const std::string server = params_->getSoftwareVersion();
    if (!server.empty()) response.set("Server", server);
    try {
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
          handlers_->createRequestHandler(request));
      if (!handler) return false;
      if (request.getExpectContinue() && response.getStatus() == HTTPResponse::HTTP_OK) {
        response.sendContinue();
      }
      handler->handleRequest(request, response);
      session.setKeepAlive(params_->getKeepAlive() && response.getKeepAlive() &&
                           session.canKeepAlive());
    } catch (const Poco::Exception&) {
      // The API handler answers its own failures; this is for a failure in sending.
      session.setKeepAlive(false);
      throw;
    }
    return true;
  }

  void OnServerStopped(const bool& abort_current) {
    stopped_ = true;
    // As Poco's connection: shut the socket down at once, or once the request in flight is done.
    std::optional<Poco::FastMutex::ScopedLock> wait;
    if (!abort_current) wait.emplace(mutex_);
    try {
      socket().shutdown();
    } catch (...) {
      // The socket is already closed or broken: the connection ends either way (no error).
    }
  }

  HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  std::shared_ptr<HttpStopSignal> stop_;
  std::atomic<bool> stopped_ = false;
  Poco::FastMutex mutex_;
};

class HttpConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  HttpConnectionFactory(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                        HTTPServerParams::Ptr params, std::shared_ptr<HttpStopSignal> stop)
      : handlers_(handlers), params_(params), stop_(std::move(stop)) {}
  Poco::Net::TCPServerConnection* createConnection(const StreamSocket& socket) override {
    return new HttpConnection(socket, params_, handlers_, stop_);
  }

 private:
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  HTTPServerParams::Ptr params_;
  std::shared_ptr<HttpStopSignal> stop_;
};

}  // namespace

Poco::Net::TCPServerConnectionFactory::Ptr NewHttpConnectionFactory(
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, HTTPServerParams::Ptr params,
    std::shared_ptr<HttpStopSignal> stop) {
  if (!stop) stop = std::make_shared<HttpStopSignal>();
  return new HttpConnectionFactory(handlers, params, std::move(stop));
}

HttpServer::HttpServer(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, Poco::ThreadPool& pool,
                       const Poco::Net::ServerSocket& socket, HTTPServerParams::Ptr params,
                       const Wrap& wrap)
    : HttpServer(handlers, pool, socket, params, wrap, std::make_shared<HttpStopSignal>()) {}

HttpServer::HttpServer(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, Poco::ThreadPool& pool,
                       const Poco::Net::ServerSocket& socket, HTTPServerParams::Ptr params,
                       const Wrap& wrap, std::shared_ptr<HttpStopSignal> stop)
    : Poco::Net::TCPServer(wrap ? wrap(NewHttpConnectionFactory(handlers, params, stop))
                                : NewHttpConnectionFactory(handlers, params, stop),
                           pool, socket, params),
      stop_(std::move(stop)) {}

HttpServer::~HttpServer() = default;

void HttpServer::stopAll(bool abort_current) {
  stop();
  stop_->stopped(this, abort_current);
}

}  // namespace presence::agent
