#include "agent/api/http_loop.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocketImpl.h>
#include <Poco/Net/SecureStreamSocketImpl.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <streambuf>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/api/http_call.h"
#include "agent/api/request_reader.h"
#include "agent/stream/viewer_socket.h"
#include "common/thread_name.h"

namespace presence::agent {
namespace {

using Poco::Net::HTTPResponse;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kIdleBuffer = 4 * 1024;  // larger buffers are let go once empty
constexpr int kRequestsPerWakeUp = 32;    // per connection, before the others get their turn
constexpr auto kSweepEvery = std::chrono::milliseconds(250);

SteadyTime Now() { return std::chrono::steady_clock::now(); }

// "Sun, 06 Dec 2026 22:40:00 GMT", formatted once a second per thread.
const std::string& DateHeader() {
  thread_local time_t second = 0;
  thread_local std::string text;
  const time_t now = ::time(nullptr);
  if (now != second) {
    second = now;
    text = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(now),
                                           Poco::DateTimeFormat::HTTP_FORMAT);
  }
  return text;
}

// The status line and headers of `response` as they go on the wire.
void AppendHead(const Poco::Net::HTTPResponse& response, std::string& head) {
  head += response.getVersion();
  head += ' ';
  head += std::to_string(static_cast<int>(response.getStatus()));
  head += ' ';
  head += response.getReason();
  head += "\r\n";
  for (const auto& [name, value] : response) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
}

std::string HeadText(const Poco::Net::HTTPResponse& response) {
  std::string head;
  head.reserve(512);
  AppendHead(response, head);
  return head;
}

// A whole JSON error answer that closes the connection, for what the loop refuses itself
// (before or instead of a handler); `retry_after` > 0 adds Retry-After.
std::string JsonAnswer(HTTPResponse::HTTPStatus status, std::string_view code,
                       std::string_view message, int retry_after = 0) {
  const std::string body = JsonErrorBody(code, message);
  HTTPResponse response(HTTPResponse::HTTP_1_1, status);
  response.set("Date", DateHeader());
  response.setContentType("application/json");
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  SetStandardHeaders(response);
  if (retry_after > 0) response.set("Retry-After", std::to_string(retry_after));
  response.setKeepAlive(false);
  return HeadText(response) + body;
}

// Counts connections per client address across every loop (accepts only, not the hot path).
class ClientCounts {
 public:
  bool Acquire(const std::string& client, int limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    int& open = open_[client];
    if (limit > 0 && open >= limit) {
      if (open == 0) open_.erase(client);
      return false;
    }
    ++open;
    return true;
  }
  void Release(const std::string& client) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = open_.find(client);
    if (it != open_.end() && --it->second <= 0) open_.erase(it);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int> open_;
};

// Threads for the routes that may block. Jobs run in order of submission.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        NameThisThread("http-worker");
        Run();
      });
    }
  }
  ~WorkerPool() { Stop(); }
  void Submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
      waiting_ = jobs_.size();
    }
    wake_.notify_one();
  }
  int busy() const { return busy_.load(); }
  size_t waiting() const { return waiting_.load(); }
  // Runs what is queued, then joins.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        waiting_ = jobs_.size();
      }
      ++busy_;
      job();
      --busy_;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::atomic<int> busy_{0};
  std::atomic<size_t> waiting_{0};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// A server-side TLS socket over an accepted descriptor; the handshake happens on the first
// read or write (Poco's acceptSSL only prepares it), which the loop drives without blocking.
class ServerTlsSocketImpl final : public Poco::Net::SecureStreamSocketImpl {
 public:
  ServerTlsSocketImpl(Poco::Net::StreamSocketImpl* plain, Poco::Net::Context::Ptr context)
      : SecureStreamSocketImpl(plain, std::move(context)) {
    acceptSSL();
  }
};

// What every loop shares.
class LoopServerState {
 public:
  LoopServerState(ApiContext& the_context, LoopServerOptions the_options,
                  std::shared_ptr<ConnectionCounters> the_counters)
      : context(the_context),
        options(std::move(the_options)),
        counters(std::move(the_counters)),
        handlers(NewApiHandlerFactory(the_context)),
        params(new Poco::Net::HTTPServerParams()) {
    params->setServerName(options.server_name);
  }

  ApiContext& context;
  LoopServerOptions options;
  std::shared_ptr<ConnectionCounters> counters;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers;
  Poco::Net::HTTPServerParams::Ptr params;
  Poco::Net::Context::Ptr tls;  // null: plain TCP
  ClientCounts clients;
  std::unique_ptr<WorkerPool> workers;
  std::atomic<int64_t> open{0};
  std::atomic<uint64_t> dropped{0};  // out of descriptors: accepted and closed at once
};

class Loop;
struct Connection;

// The response's body: appended to the connection's output on a loop thread, written to the
// socket (blocking, bounded by the write deadline) on a worker. Chunked framing when asked.
class BodyBuffer final : public std::streambuf {
 public:
  BodyBuffer(Connection& connection, bool chunked, bool discard)
      : connection_(connection), chunked_(chunked), discard_(discard) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  // Flushes and ends the body (the last chunk); false when the connection failed.
  bool Finish();

 protected:
  int_type overflow(int_type c) override {
    if (!Flush()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return Flush() ? 0 : -1; }

 private:
  bool Flush();

  Connection& connection_;
  bool chunked_;
  bool discard_;  // a HEAD request: no body goes out
  bool failed_ = false;
  std::array<char, 16 * 1024> buffer_{};
};

class LoopResponse;

class LoopRequest final : public Poco::Net::HTTPServerRequest, public RequestHooks {
 public:
  LoopRequest(ParsedRequest&& parsed, Connection& connection, LoopResponse& response,
              const Poco::Net::HTTPServerParams& params);

  std::istream& stream() override;
  const Poco::Net::SocketAddress& clientAddress() const override;
  const Poco::Net::SocketAddress& serverAddress() const override;
  const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
  Poco::Net::HTTPServerResponse& response() const override;
  bool secure() const override;

  Poco::Net::StreamSocket DetachSocket() override;
  AsyncAnswers* async() override;
  const std::string& body() const override { return body_text_; }

  bool body_over_limit() const { return body_over_limit_; }
  bool keep_alive() const { return keep_alive_; }  // as the client asked (Connection tokens)

 private:
  Connection& connection_;
  LoopResponse& response_;
  const Poco::Net::HTTPServerParams& params_;
  std::string body_text_;
  std::unique_ptr<std::istringstream> body_;  // made for a handler that reads the stream
  bool body_over_limit_ = false;
  bool keep_alive_ = true;
};

class LoopResponse final : public Poco::Net::HTTPServerResponse {
 public:
  LoopResponse(Connection& connection, bool head_request)
      : connection_(connection), head_request_(head_request) {}

  void sendContinue() override;
  std::ostream& send() override;
  void sendFile(const std::string& path, const std::string& media_type) override;
  void sendBuffer(const void* buffer, std::size_t length) override;
  void redirect(const std::string& uri, HTTPStatus status) override;
  void requireAuthentication(const std::string& realm) override;
  bool sent() const override { return sent_; }

  // After the handler: ends the body; answers 500 if the handler sent nothing. False when
  // the connection failed on the way.
  bool Finish();

 private:
  std::string Head() const;
  bool Write(std::string_view bytes);

  Connection& connection_;
  bool head_request_;
  bool sent_ = false;
  std::unique_ptr<BodyBuffer> body_buffer_;
  std::unique_ptr<std::ostream> body_;
};

enum class Phase {
  kReading,  // waiting for (the rest of) a request
  kBusy,     // a handler has it: deferred to the core, or lent to a worker
  kWriting,  // the answer is going out
  // The last answer is out and our side is shut: what the client still sends (the rest of a
  // body refused with 413, requests behind a 400) is read and dropped for a moment before the
  // close, so that the close does not reset the connection before the client has read it.
  kLingering,
};

constexpr auto kLinger = std::chrono::seconds(2);
constexpr auto kRefusalTime = std::chrono::seconds(1);  // handshake, 503 and linger in all
constexpr size_t kLingerBytes = 1 << 20;

struct Connection final : AsyncAnswers {
  Connection(Loop& the_loop, Poco::Net::StreamSocket the_socket, Poco::Net::SocketAddress peer,
             Poco::Net::SocketAddress local, std::string the_client)
      : loop(the_loop),
        socket(std::move(the_socket)),
        peer_address(std::move(peer)),
        local_address(std::move(local)),
        client(std::move(the_client)) {}

  void Post(Event event, std::function<void(Result<Reply>)> then) override;

  Loop& loop;
  Poco::Net::StreamSocket socket;
  std::unique_ptr<ViewerSocket> io;
  int fd = -1;  // the descriptor as registered with the loop's epoll (io goes on detach)
  Poco::Net::SocketAddress peer_address;
  Poco::Net::SocketAddress local_address;
  std::string client;  // the peer's host, for the per-client count
  bool counted = false;

  Phase phase = Phase::kReading;
  std::string in;   // received, not yet given to the reader
  std::string out;  // to send; out_sent bytes of it are gone
  size_t out_sent = 0;
  std::unique_ptr<RequestReader> reader;
  bool continue_sent = false;
  bool close_after = false;  // close once `out` is sent
  bool on_loop = false;      // the handler runs on the loop thread (async allowed)
  bool blocking = false;     // the handler runs on a worker: writes go to the socket
  bool deferred = false;     // waiting for the core
  bool lent = false;         // a worker has it
  bool detached = false;     // the socket went elsewhere
  bool dead = false;         // closed while busy: destroyed when it comes back
  bool closed = false;       // closed or forgotten: in the graveyard (or dead)
  bool write_failed = false;
  // Set by the loop when the server stops and the deadline for requests in flight passed:
  // a worker writing this connection's answer gives up at its next wait.
  std::atomic<bool> abort{false};
  uint32_t registered = 0;  // epoll events registered; 0: not in the epoll set
  bool in_epoll = false;
  SteadyTime deadline{};
  bool request_timeout = false;  // the deadline is a request's (answer 408)
  size_t lingered = 0;           // bytes read and dropped while lingering
  bool refused = false;          // over the per-client limit: answered 503 and closed quickly
  bool broken = false;           // counted in connections_broken_total already

  std::unique_ptr<LoopResponse> response;
  std::unique_ptr<LoopRequest> request;

  bool BlockingWrite(std::string_view bytes);
};

class Loop {
 public:
  Loop(LoopServerState& server, int listen_fd);
  ~Loop();

  void Start() {
    thread_ = std::thread([this] {
      NameThisThread("http-loop");
      Run();
    });
  }
  // From any thread: runs `job` on the loop thread; one eventfd write while jobs wait.
  void Deliver(std::function<void()> job) {
    // The write happens under the lock: once the loop has taken the job it may end, and the
    // destructor takes the lock before it closes the eventfd.
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    const bool wake = inbox_.empty();
    inbox_.push_back(std::move(job));
    if (wake) {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t wrote = ::write(event_fd_, &one, sizeof one);
    }
  }
  void RequestStop() {
    Deliver([this] { BeginStop(); });
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Loop thread only.
  void QueuePost(Core::Posting posting) { posts_.push_back(std::move(posting)); }
  void Answered(Connection* connection, std::function<void(Result<Reply>)> then,
                Result<Reply> reply);
  void Returned(Connection* connection);

  LoopServerState& server() { return server_; }

 private:
  void Run();
  void Accept();
  void Adopt(int fd, const sockaddr_storage& address);
  void OnEvents(Connection& c, uint32_t events);
  // `polled`: epoll has just reported the connection (there may be something to read).
  void Drive(Connection& c, bool polled = false);
  bool ParseOne(Connection& c);
  void Dispatch(Connection& c, ParsedRequest parsed);
  void RunHandler(Connection& c);
  void FinishAnswer(Connection& c);
  bool Flush(Connection& c);
  ssize_t Receive(Connection& c);
  void UpdateInterest(Connection& c);
  void Register(Connection& c, uint32_t events);  // what epoll reports for it, if not already
  void Unregister(Connection& c);
  void Close(Connection& c, bool broken);
  void Linger(Connection& c);
  void CountBroken(Connection& c) {
    if (c.broken) return;
    c.broken = true;
    ++server_.counters->broken;
  }
  void Forget(Connection& c);  // the socket went elsewhere: drop it without closing
  void Sweep();
  void BeginStop();
  void RunInbox();

  LoopServerState& server_;
  int listen_fd_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  int spare_fd_ = -1;  // released to accept-and-close when out of descriptors
  std::thread thread_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> graveyard_;  // destroyed after this wake-up
  std::vector<Connection*> again_;                      // have bytes left to parse
  std::vector<Core::Posting> posts_;
  std::mutex inbox_mutex_;
  std::vector<std::function<void()>> inbox_;
  bool stopping_ = false;
  bool accept_paused_ = false;  // out of descriptors: the listening socket is not watched
  SteadyTime stop_deadline_{};  // after it, what is still in flight is cut off
  SteadyTime next_sweep_{};
};

// --- the response ---------------------------------------------------------------------------

bool BodyBuffer::Flush() {
  const size_t size = static_cast<size_t>(pptr() - pbase());
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  if (failed_) return false;
  if (size == 0 || discard_) return true;
  const std::string_view data(buffer_.data(), size);
  bool ok = true;
  if (chunked_) {
    char head[32];
    const int length = std::snprintf(head, sizeof head, "%zx\r\n", size);
    std::string framed;
    framed.reserve(size + 40);
    framed.append(head, static_cast<size_t>(length)).append(data).append("\r\n");
    ok = connection_.blocking ? connection_.BlockingWrite(framed)
                              : (connection_.out.append(framed), true);
  } else {
    ok = connection_.blocking ? connection_.BlockingWrite(data)
                              : (connection_.out.append(data), true);
  }
  failed_ = !ok;
  return ok;
}

bool BodyBuffer::Finish() {
  if (!Flush()) return false;
  if (!chunked_ || discard_) return true;
  constexpr std::string_view kLast = "0\r\n\r\n";
  if (connection_.blocking) return connection_.BlockingWrite(kLast);
  connection_.out.append(kLast);
  return true;
}

std::string LoopResponse::Head() const { return HeadText(*this); }

bool LoopResponse::Write(std::string_view bytes) {
  if (connection_.blocking) return connection_.BlockingWrite(bytes);
  connection_.out.append(bytes);
  return true;
}

void LoopResponse::sendContinue() { Write("HTTP/1.1 100 Continue\r\n\r\n"); }

std::ostream& LoopResponse::send() {
  if (sent_) throw Poco::IllegalStateException("the answer was sent already");
  sent_ = true;
  bool chunked = false;
  if (head_request_) {
    // The head only.
  } else if (getChunkedTransferEncoding()) {
    chunked = true;
  } else if (!hasContentLength()) {
    setKeepAlive(false);  // the end of the body is the end of the connection
  }
  Write(Head());
  body_buffer_ = std::make_unique<BodyBuffer>(connection_, chunked, head_request_);
  body_ = std::make_unique<std::ostream>(body_buffer_.get());
  return *body_;
}

void LoopResponse::sendFile(const std::string& path, const std::string& media_type) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Poco::FileNotFoundException(path);
  std::ostringstream content;
  content << in.rdbuf();
  setContentType(media_type);
  const std::string text = content.str();
  sendBuffer(text.data(), text.size());
}

void LoopResponse::sendBuffer(const void* buffer, std::size_t length) {
  if (sent_) throw Poco::IllegalStateException("the answer was sent already");
  sent_ = true;
  setContentLength(static_cast<std::streamsize>(length));
  setChunkedTransferEncoding(false);
  if (!connection_.blocking) {  // head and body straight into what the loop sends
    AppendHead(*this, connection_.out);
    if (!head_request_) connection_.out.append(static_cast<const char*>(buffer), length);
    return;
  }
  std::string all = Head();
  if (!head_request_) all.append(static_cast<const char*>(buffer), length);
  if (!Write(all)) throw Poco::IOException("the client stopped reading");
}

void LoopResponse::redirect(const std::string& uri, HTTPStatus status) {
  setStatusAndReason(status);
  set("Location", uri);
  sendBuffer(nullptr, 0);
}

void LoopResponse::requireAuthentication(const std::string& realm) {
  setStatusAndReason(HTTP_UNAUTHORIZED);
  set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
  sendBuffer(nullptr, 0);
}

bool LoopResponse::Finish() {
  if (!sent_) {
    // A handler that answered nothing: the client gets a whole (empty) answer, not a hang.
    setStatusAndReason(HTTP_INTERNAL_SERVER_ERROR);
    setKeepAlive(false);
    sendBuffer(nullptr, 0);
    return true;
  }
  if (body_) {
    body_->flush();
    return body_buffer_->Finish();
  }
  return true;
}

// --- the request ----------------------------------------------------------------------------

LoopRequest::LoopRequest(ParsedRequest&& parsed, Connection& connection, LoopResponse& response,
                         const Poco::Net::HTTPServerParams& params)
    : connection_(connection), response_(response), params_(params) {
  setMethod(parsed.method);
  setURI(parsed.target);
  setVersion(parsed.version == 10 ? HTTP_1_0 : HTTP_1_1);
  for (auto& [name, value] : parsed.fields) add(name, value);
  body_over_limit_ = parsed.body_over_limit;
  keep_alive_ = parsed.keep_alive;
  body_text_ = std::move(parsed.body);
}

std::istream& LoopRequest::stream() {
  if (!body_) body_ = std::make_unique<std::istringstream>(body_text_);
  return *body_;
}

const Poco::Net::SocketAddress& LoopRequest::clientAddress() const {
  return connection_.peer_address;
}
const Poco::Net::SocketAddress& LoopRequest::serverAddress() const {
  return connection_.local_address;
}
Poco::Net::HTTPServerResponse& LoopRequest::response() const { return response_; }
bool LoopRequest::secure() const { return connection_.io && connection_.io->tls(); }

Poco::Net::StreamSocket LoopRequest::DetachSocket() {
  connection_.detached = true;
  connection_.io.reset();
  Poco::Net::StreamSocket socket = connection_.socket;
  connection_.socket = Poco::Net::StreamSocket();
  return socket;
}

AsyncAnswers* LoopRequest::async() { return connection_.on_loop ? &connection_ : nullptr; }

// --- the connection -------------------------------------------------------------------------

void Connection::Post(Event event, std::function<void(Result<Reply>)> then) {
  deferred = true;
  Loop* owner = &loop;
  Connection* self = this;
  loop.QueuePost(Core::Posting{
      std::move(event), [owner, self, then = std::move(then)](Result<Reply> reply) mutable {
        owner->Deliver([owner, self, then = std::move(then), reply = std::move(reply)]() mutable {
          owner->Answered(self, std::move(then), std::move(reply));
        });
      }});
}

// On a worker: the whole of `bytes` goes out, waiting for the socket at most io_timeout at a
// time; false when the client is gone or stalled that long (the connection then ends).
bool Connection::BlockingWrite(std::string_view bytes) {
  if (write_failed || !io) return false;
  const auto timeout = loop.server().options.io_timeout;
  SteadyTime give_up = Now() + timeout;
  while (!bytes.empty() || io->held() != 0) {
    ViewerSocket::Transfer sent = io->Send(bytes);
    if (sent.closed || abort.load()) {
      write_failed = true;
      return false;
    }
    bytes.remove_prefix(sent.bytes);
    if (sent.bytes > 0) give_up = Now() + timeout;  // progress
    if (bytes.empty() && io->held() == 0) break;
    if (sent.bytes == 0 || io->held() != 0) {
      const SteadyTime now = Now();
      if (now >= give_up) {
        write_failed = true;
        return false;
      }
      // In slices, so that a stopping server's abort is seen.
      const auto wait = std::min<std::chrono::steady_clock::duration>(give_up - now, kSweepEvery);
      pollfd polled{io->fd(), static_cast<short>(io->SendInterest()), 0};
      const int ready = ::poll(
          &polled, 1,
          static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) +
              1);
      if (ready < 0 && errno != EINTR) {
        write_failed = true;
        return false;
      }
    }
  }
  return true;
}

// --- the loop -------------------------------------------------------------------------------

Loop::Loop(LoopServerState& server, int listen_fd) : server_(server), listen_fd_(listen_fd) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (epoll_fd_ < 0 || event_fd_ < 0) {
    throw Poco::SystemException(std::string("event loop: ") + std::strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the eventfd
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &event);
  epoll_event listen{};
  listen.events = EPOLLIN | EPOLLEXCLUSIVE;
  listen.data.ptr = this;  // the listening socket
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen) != 0) {
    throw Poco::SystemException(std::string("event loop: ") + std::strerror(errno));
  }
}

Loop::~Loop() {
  Join();
  { std::lock_guard<std::mutex> lock(inbox_mutex_); }  // a Deliver still writing has finished
  connections_.clear();
  graveyard_.clear();
  if (spare_fd_ >= 0) ::close(spare_fd_);
  ::close(event_fd_);
  ::close(epoll_fd_);
}

void Loop::Run() {
  std::array<epoll_event, 256> events{};
  next_sweep_ = Now() + kSweepEvery;
  for (;;) {
    const int timeout = again_.empty() ? static_cast<int>(kSweepEvery.count()) : 0;
    const int count =
        ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
    for (int i = 0; i < count; ++i) {
      void* tag = events[static_cast<size_t>(i)].data.ptr;
      if (tag == nullptr) {
        uint64_t value = 0;
        [[maybe_unused]] ssize_t got = ::read(event_fd_, &value, sizeof value);
        RunInbox();
      } else if (tag == this) {
        if (!stopping_) Accept();
      } else {
        auto* connection = static_cast<Connection*>(tag);
        if (connections_.count(connection) != 0) {
          OnEvents(*connection, events[static_cast<size_t>(i)].events);
        }
      }
    }
    // Connections that yielded with requests left in their buffer.
    std::vector<Connection*> again;
    again.swap(again_);
    for (Connection* connection : again) {
      if (connections_.count(connection) == 0) continue;
      const Phase phase = connection->phase;
      if (phase == Phase::kReading || phase == Phase::kWriting) Drive(*connection);
    }
    if (!posts_.empty()) {
      std::vector<Core::Posting> batch;
      batch.swap(posts_);
      server_.context.core.PostBatch(std::move(batch));
    }
    graveyard_.clear();
    const SteadyTime now = Now();
    if (now >= next_sweep_) {
      next_sweep_ = now + kSweepEvery;
      Sweep();
      graveyard_.clear();
    }
    if (stopping_ && connections_.empty()) break;
  }
}

void Loop::RunInbox() {
  std::vector<std::function<void()>> jobs;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    jobs.swap(inbox_);
  }
  for (std::function<void()>& job : jobs) {
    try {
      job();
    } catch (const std::exception& e) {
      // Nothing may escape the loop thread; the request's own catch-all has logged its failure.
      server_.context.log.Swallowed("http loop job failed", e.what(), {});
    }
  }
}

void Loop::Accept() {
  for (int accepted = 0; accepted < 64; ++accepted) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      Adopt(fd, address);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if ((errno == EMFILE || errno == ENFILE) && spare_fd_ < 0) {
      // Not even the spare descriptor: stop watching the listening socket for a moment, or
      // level-triggered epoll would report it again at once, forever.
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      accept_paused_ = true;
      ++server_.dropped;
      return;
    }
    if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
      // Out of descriptors: take the connection with the spare one and close it, rather than
      // leave it pending (epoll would report the listening socket again and again).
      ::close(spare_fd_);
      const int refused = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (refused >= 0) ::close(refused);
      spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      ++server_.dropped;
      continue;
    }
    return;  // EAGAIN: nothing more now (another loop may have taken it)
  }
}

void Loop::Adopt(int fd, const sockaddr_storage& address) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Poco::Net::SocketAddress peer;
  Poco::Net::SocketAddress local;
  std::string client;
  try {
    peer = Poco::Net::SocketAddress(
        reinterpret_cast<const sockaddr*>(&address),
        address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    client = peer.host().toString();
    sockaddr_storage mine{};
    socklen_t length = sizeof mine;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&mine), &length) == 0) {
      local = Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&mine), length);
    }
  } catch (const Poco::Exception&) {
    ::close(fd);  // an address family we do not serve
    return;
  }
  Poco::Net::StreamSocket socket;
  try {
    // The plain socket owns the descriptor; the TLS socket takes a reference of its own to it
    // (as Poco's own accept does), so this handle is released like any other.
    const Poco::Net::StreamSocket plain(new Poco::Net::StreamSocketImpl(fd));
    if (server_.tls) {
      socket = Poco::Net::StreamSocket(new ServerTlsSocketImpl(
          static_cast<Poco::Net::StreamSocketImpl*>(plain.impl()), server_.tls));
    } else {
      socket = plain;
    }
  } catch (const Poco::Exception&) {
    return;  // the plain socket closed the descriptor
  }
  // Poco's sockets are shared handles (copied, never moved): the connection gets the only one,
  // so whoever takes it later (the stream hub) frees it on its own thread.
  auto owned = std::make_unique<Connection>(*this, std::exchange(socket, Poco::Net::StreamSocket()),
                                            std::move(peer), std::move(local), std::move(client));
  Connection& c = *owned;
  try {
    c.io = std::make_unique<ViewerSocket>(c.socket);
  } catch (const Poco::Exception&) {
    return;  // closed already
  }
  c.fd = c.io->fd();
  connections_.emplace(&c, std::move(owned));
  ++server_.counters->open;
  ++server_.open;
  c.deadline = Now() + server_.options.io_timeout;
  if (!server_.clients.Acquire(c.client, server_.options.max_per_client)) {
    ++server_.counters->refused;
    c.out = JsonAnswer(HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "too_many_connections",
                       "this client address has its maximum of " +
                           std::to_string(server_.options.max_per_client) +
                           " connections open (server.max_connections_per_client); close one "
                           "or try again later",
                       5);
    c.phase = Phase::kWriting;
    c.close_after = true;
    c.refused = true;
    c.deadline = Now() + kRefusalTime;  // a refusal costs the server little, whoever asks
  } else {
    c.counted = true;
  }
  Drive(c);
}

void Loop::OnEvents(Connection& c, uint32_t events) {
  if (c.phase == Phase::kBusy) {
    // Waiting for the core with its registration kept (two epoll_ctl calls a request fewer):
    // the client sent more, or hung up. Stop watching it; the answer's Drive reads what came.
    Unregister(c);
    return;
  }
  if (!c.io) return;
  if (c.phase == Phase::kLingering) {
    char buffer[kReadChunk];
    for (;;) {
      const ViewerSocket::Transfer got = c.io->Receive(buffer, sizeof buffer);
      c.lingered += got.bytes;
      if (got.closed || c.lingered > kLingerBytes) return Close(c, false);
      if (got.bytes == 0) return;
    }
  }
  if ((events & (EPOLLERR | EPOLLHUP)) != 0 && c.out.size() == c.out_sent &&
      c.phase == Phase::kWriting) {
    return Close(c, true);
  }
  Drive(c, true);
}

// Moves the connection on as far as it goes without waiting: sends what is queued, reads and
// dispatches requests, and registers what it waits for.
void Loop::Drive(Connection& c, bool polled) {
  for (int round = 0; round < kRequestsPerWakeUp; ++round) {
    if (c.closed || c.phase == Phase::kBusy || c.phase == Phase::kLingering) return;
    if (c.out_sent < c.out.size() || (c.io && c.io->held() != 0)) {
      if (!Flush(c)) {
        if (!c.closed) UpdateInterest(c);
        return;
      }
    }
    if (c.phase == Phase::kWriting) {
      if (c.close_after || stopping_) return Linger(c);
      c.phase = Phase::kReading;
      c.request_timeout = false;
      c.deadline = Now() + server_.options.keep_alive;
    }
    if (!c.in.empty()) {
      if (ParseOne(c)) continue;  // a request was dispatched, or refused
    }
    if (c.closed) return;
    if (c.out_sent < c.out.size()) continue;  // "100 Continue" to send
    // A plain socket that epoll watches for reading, and that epoll has not just reported:
    // nothing has come (level-triggered epoll says when it does), so no read to learn that.
    // A TLS socket reads anyway: its library may hold decrypted bytes epoll cannot see.
    if (!polled && !c.io->tls() && c.in_epoll && c.registered == EPOLLIN) return;
    const ssize_t got = Receive(c);
    if (got < 0) return;  // closed
    if (got == 0) {
      UpdateInterest(c);
      return;
    }
    // A full chunk may have left more behind; otherwise what epoll reported is read.
    polled = static_cast<size_t>(got) == kReadChunk;
  }
  // Its turn is over; more of its requests wait in `in`, which epoll does not see. (Its last
  // round may have lent it to a worker or ended it: then it is not ours to touch.)
  if (!c.closed && (c.phase == Phase::kReading || c.phase == Phase::kWriting)) {
    UpdateInterest(c);
    again_.push_back(&c);
  }
}

// Gives the buffered bytes to the reader. True when that led somewhere (a request dispatched
// or refused); false when every byte was taken and more are needed.
bool Loop::ParseOne(Connection& c) {
  if (!c.reader) {
    const int64_t max_body = server_.context.config.load()->server.max_body_bytes;
    c.reader = std::make_unique<RequestReader>(static_cast<size_t>(max_body));
    c.continue_sent = false;
    c.request_timeout = true;
    c.deadline = Now() + server_.options.io_timeout;
  }
  size_t taken = 0;
  const RequestReader::Outcome outcome = c.reader->Feed(c.in, taken);
  c.in.erase(0, taken);
  if (c.in.empty() && c.in.capacity() > kIdleBuffer) std::string().swap(c.in);  // idle: small
  switch (outcome) {
    case RequestReader::Outcome::kNeedMore:
      if (c.reader->head_done() && c.reader->expects_continue() && !c.continue_sent) {
        c.continue_sent = true;
        c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      }
      return false;
    case RequestReader::Outcome::kMalformed:
      c.out += JsonAnswer(HTTPResponse::HTTP_BAD_REQUEST, "malformed_request", c.reader->problem());
      c.reader.reset();
      c.in.clear();
      c.close_after = true;
      c.phase = Phase::kWriting;
      c.request_timeout = false;
      c.deadline = Now() + server_.options.io_timeout;
      return true;
    case RequestReader::Outcome::kRequest:
      break;
  }
  ParsedRequest parsed = c.reader->Take();
  c.reader.reset();
  Dispatch(c, std::move(parsed));
  return true;
}

void Loop::Dispatch(Connection& c, ParsedRequest parsed) {
  const bool head = parsed.method == "HEAD";
  c.response = std::make_unique<LoopResponse>(c, head);
  c.request = std::make_unique<LoopRequest>(std::move(parsed), c, *c.response, *server_.params);
  LoopResponse& response = *c.response;
  LoopRequest& request = *c.request;
  response.setVersion(request.getVersion());
  response.set("Date", DateHeader());
  response.set("Server", server_.options.server_name);
  response.setKeepAlive(request.keep_alive() && !request.body_over_limit() && !stopping_);
  c.phase = Phase::kBusy;
  c.request_timeout = false;
  c.on_loop = RunsOnLoop(request.getMethod(), request.getURI());
  c.blocking = !c.on_loop;
  if (c.on_loop) {
    RunHandler(c);
    if (c.detached) return Forget(c);
    // Deferred: nothing to read or write until the core answers. Its registration stays (for
    // reading, as it was): OnEvents drops it if the client sends anything meanwhile.
    if (c.deferred) return;
    return FinishAnswer(c);  // Drive, which called this, sends it
  }
  // Every worker busy and a queue of 16 each already waiting: say so rather than queue without
  // end (the client may try again; the loop routes go on meanwhile).
  if (server_.workers->waiting() >= static_cast<size_t>(server_.options.workers) * 16) {
    c.request.reset();
    c.response.reset();
    c.out += JsonAnswer(HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "server_busy",
                        "every worker for reports, ledger reads and files is busy "
                        "(server.workers) and " +
                            std::to_string(server_.workers->waiting()) +
                            " requests are waiting; try again shortly",
                        1);
    c.close_after = true;
    c.phase = Phase::kWriting;
    c.deadline = Now() + server_.options.io_timeout;
    return;
  }
  // Lent to a worker: the loop leaves the socket alone until it comes back.
  Unregister(c);
  c.lent = true;
  Connection* lent = &c;
  server_.workers->Submit([this, lent] {
    RunHandler(*lent);
    try {
      if (!lent->detached && !lent->write_failed && !lent->response->Finish()) {
        lent->write_failed = true;
      }
    } catch (const std::exception&) {
      lent->write_failed = true;  // the client stopped reading: the connection ends
    }
    Deliver([this, lent] { Returned(lent); });
  });
}

void Loop::RunHandler(Connection& c) {
  try {
    std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
        server_.handlers->createRequestHandler(*c.request));
    handler->handleRequest(*c.request, *c.response);
  } catch (const std::exception&) {
    // The API handler answers its own failures (and logs them); this is a failure to send.
    c.write_failed = true;
  }
}

// The handler is done (on the loop, or the core answered): the answer is queued to go out.
void Loop::FinishAnswer(Connection& c) {
  try {
    if (!c.write_failed && !c.response->Finish()) c.write_failed = true;
  } catch (const std::exception&) {
    c.write_failed = true;
  }
  if (c.write_failed) return Close(c, true);
  c.close_after = c.close_after || !c.response->getKeepAlive();
  c.request.reset();
  c.response.reset();
  c.phase = Phase::kWriting;
  c.deadline = Now() + server_.options.io_timeout;
}

void Loop::Answered(Connection* connection, std::function<void(Result<Reply>)> then,
                    Result<Reply> reply) {
  Connection& c = *connection;
  c.deferred = false;
  then(std::move(reply));  // answers, into c.out
  if (c.dead) {
    graveyard_.push_back(std::move(connections_.at(&c)));
    connections_.erase(&c);
    return;
  }
  FinishAnswer(c);
  if (!c.closed) Drive(c);
}

void Loop::Returned(Connection* connection) {
  Connection& c = *connection;
  c.lent = false;
  c.blocking = false;
  if (c.dead) {
    graveyard_.push_back(std::move(connections_.at(&c)));
    connections_.erase(&c);
    return;
  }
  if (c.detached) return Forget(c);
  if (c.write_failed) return Close(c, true);
  c.close_after = c.close_after || !c.response->getKeepAlive();
  c.request.reset();
  c.response.reset();
  c.phase = Phase::kWriting;  // written already: on to the next request or the close
  Drive(c);
}

// Sends what is queued. True when all of it is out; false when the socket is full (or the
// connection was closed: check connections_).
bool Loop::Flush(Connection& c) {
  while (c.out_sent < c.out.size() || c.io->held() != 0) {
    ViewerSocket::Transfer sent =
        c.io->Send(std::string_view(c.out).substr(c.out_sent, c.out.size() - c.out_sent));
    if (sent.closed) {
      Close(c, true);
      return false;
    }
    c.out_sent += sent.bytes;
    if (sent.bytes > 0 && !c.refused) c.deadline = Now() + server_.options.io_timeout;
    if (sent.bytes == 0 || c.io->held() != 0) {
      if (c.out_sent >= c.out.size() && c.io->held() == 0) break;
      return false;
    }
  }
  c.out.clear();
  c.out_sent = 0;
  if (c.out.capacity() > kIdleBuffer) std::string().swap(c.out);
  return true;
}

// Reads what has arrived (one chunk): the bytes read, or -1 when the connection has ended
// (closed here).
ssize_t Loop::Receive(Connection& c) {
  char buffer[kReadChunk];
  ViewerSocket::Transfer got = c.io->Receive(buffer, sizeof buffer);
  if (got.closed) {
    Close(c, c.reader != nullptr);
    return -1;
  }
  c.in.append(buffer, got.bytes);
  return static_cast<ssize_t>(got.bytes);
}

void Loop::UpdateInterest(Connection& c) {
  if (!c.io) return;
  uint32_t wanted = 0;
  if (c.out_sent < c.out.size() || c.io->held() != 0) {
    wanted = c.io->SendInterest();
  } else if (c.phase == Phase::kReading) {
    wanted = c.io->ReceiveInterest();
  }
  if (wanted == 0) return Unregister(c);
  Register(c, wanted);
}

void Loop::Register(Connection& c, uint32_t events) {
  if (c.in_epoll && events == c.registered) return;
  epoll_event event{};
  event.events = events;
  event.data.ptr = &c;
  ::epoll_ctl(epoll_fd_, c.in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &event);
  c.in_epoll = true;
  c.registered = events;
}

void Loop::Unregister(Connection& c) {
  if (!c.in_epoll) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  c.in_epoll = false;
  c.registered = 0;
}

void Loop::Close(Connection& c, bool broken) {
  if (c.closed) return;
  c.closed = true;
  if (broken) CountBroken(c);
  Unregister(c);
  if (c.counted) server_.clients.Release(c.client);
  c.counted = false;
  --server_.counters->open;
  --server_.open;
  if (c.lent) {
    // A worker still writes to it (only a stopping server gets here): it gives up at its next
    // wait and hands it back, and the socket is closed with it.
    c.abort = true;
    c.dead = true;
    return;
  }
  if (c.io) c.io->Close();
  if (c.deferred) {
    c.dead = true;  // its answer still refers to it: destroyed when the core answers
    return;
  }
  auto it = connections_.find(&c);
  if (it == connections_.end()) return;
  graveyard_.push_back(std::move(it->second));
  connections_.erase(it);
}

void Loop::Linger(Connection& c) {
  c.phase = Phase::kLingering;
  c.in.clear();
  c.reader.reset();
  if (!c.refused) c.deadline = Now() + kLinger;  // a refusal keeps its short deadline
  ::shutdown(c.fd, SHUT_WR);
  Register(c, EPOLLIN);
}

void Loop::Forget(Connection& c) {
  // The stream hub (or a handler that cut the answer off) owns the socket now.
  if (c.closed) return;
  c.closed = true;
  Unregister(c);
  if (c.counted) server_.clients.Release(c.client);
  c.counted = false;
  --server_.counters->open;
  --server_.open;
  auto it = connections_.find(&c);
  if (it == connections_.end()) return;
  graveyard_.push_back(std::move(it->second));
  connections_.erase(it);
}

void Loop::Sweep() {
  const SteadyTime now = Now();
  if (accept_paused_ && !stopping_) {
    if (spare_fd_ < 0) spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    epoll_event listen{};
    listen.events = EPOLLIN | EPOLLEXCLUSIVE;
    listen.data.ptr = this;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen) == 0) accept_paused_ = false;
  }
  std::vector<Connection*> expired;
  const bool cut_off = stopping_ && now >= stop_deadline_;
  for (auto& [key, connection] : connections_) {
    Connection& c = *connection;
    if (cut_off && c.lent) {
      c.abort = true;  // the worker's next wait ends its answer
      continue;
    }
    if (cut_off && c.phase != Phase::kBusy && !c.dead) {
      expired.push_back(&c);
      continue;
    }
    if (c.phase == Phase::kBusy || c.dead) continue;
    if (stopping_ && c.phase == Phase::kReading && !c.reader && c.in.empty()) {
      expired.push_back(&c);
      continue;
    }
    if (now >= c.deadline) expired.push_back(&c);
  }
  for (Connection* connection : expired) {
    Connection& c = *connection;
    if (c.phase == Phase::kReading && c.request_timeout && c.out.empty()) {
      // A request that did not arrive in time: say so, then close.
      c.out = JsonAnswer(HTTPResponse::HTTP_REQUEST_TIMEOUT, "request_timeout",
                         "the request did not arrive within " +
                             std::to_string(server_.options.io_timeout.count()) +
                             " s of its first byte (server.io_timeout_seconds)");
      c.reader.reset();
      c.in.clear();
      c.close_after = true;
      c.phase = Phase::kWriting;
      c.request_timeout = false;
      c.deadline = now + server_.options.io_timeout;
      CountBroken(c);
      Drive(c);
      continue;
    }
    Close(c, c.phase == Phase::kWriting || c.reader != nullptr);
  }
}

void Loop::BeginStop() {
  stopping_ = true;
  accept_paused_ = false;
  stop_deadline_ = Now() + server_.options.io_timeout;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  Sweep();  // idle connections go now; the others after their answer
}

}  // namespace

class LoopServer::Impl {
 public:
  Impl(ApiContext& context, Poco::Net::ServerSocket socket, LoopServerOptions options,
       std::shared_ptr<ConnectionCounters> counters)
      : socket_(std::move(socket)), state_(context, std::move(options), std::move(counters)) {
    if (auto* secure = dynamic_cast<Poco::Net::SecureServerSocketImpl*>(socket_.impl())) {
      state_.tls = secure->context();
    }
    socket_.setBlocking(false);
  }

  void Start() {
    state_.workers = std::make_unique<WorkerPool>(std::max(1, state_.options.workers));
    for (int i = 0; i < std::max(1, state_.options.loops); ++i) {
      loops_.push_back(std::make_unique<Loop>(state_, socket_.impl()->sockfd()));
    }
    for (auto& loop : loops_) loop->Start();
    started_ = true;
  }

  LoopServer::Stats stats() const {
    LoopServer::Stats stats;
    stats.open = state_.open.load();
    stats.dropped = state_.dropped.load();
    if (state_.workers) {
      stats.busy_workers = state_.workers->busy();
      stats.waiting = state_.workers->waiting();
    }
    return stats;
  }

  void Stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    for (auto& loop : loops_) loop->RequestStop();
    // Each loop ends once its connections are gone: idle ones at once, busy ones after their
    // answer, each bounded by its deadline. Workers finish their handlers meanwhile; a handler
    // gives its connection back to the loop, which must still run to take it.
    for (auto& loop : loops_) loop->Join();
    state_.workers->Stop();
    loops_.clear();
  }

 private:
  Poco::Net::ServerSocket socket_;
  LoopServerState state_;
  std::vector<std::unique_ptr<Loop>> loops_;
  bool started_ = false;
  bool stopped_ = false;
};

LoopServer::LoopServer(ApiContext& context, Poco::Net::ServerSocket socket,
                       LoopServerOptions options, std::shared_ptr<ConnectionCounters> counters)
    : impl_(std::make_unique<Impl>(context, std::move(socket), std::move(options),
                                   std::move(counters))) {}

LoopServer::~LoopServer() { Stop(); }

void LoopServer::Start() { impl_->Start(); }
void LoopServer::Stop() { impl_->Stop(); }

LoopServer::Stats LoopServer::stats() const { return impl_->stats(); }

}  // namespace presence::agent
