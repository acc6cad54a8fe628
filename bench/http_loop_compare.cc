// Which event loop for the HTTP API (issue 16)? Minimal servers that answer on loopback the same
// way, so that wrk can measure them side by side (bench/http_loop_compare.sh drives them):
//  asio         Boost.Asio + Boost.Beast: http::async_read into a flat_buffer, http::async_write;
//  reactor      Poco::Net::SocketReactor + SocketAcceptor, Poco's HTTP parsing (the head buffered
//               until complete, then HTTPRequest::read from a memory stream, body by length);
//  epoll_beast  our own level-triggered epoll loop + Beast's http::request_parser fed from the
//               bytes each read brought (parser.put), no Asio;
//  epoll_poco   the same loop with the Poco parsing of `reactor`: loop cost apart from parse cost.
// Each runs on N loop threads (one io_context / reactor / epoll set per thread; the first accepts
// and deals connections out in turn). Every variant answers:
//  - GET (any path): a small fixed JSON body;
//  - PUT /api/v1/agents/{id}/state with {"label":"..."}: the body parsed with Poco::JSON::Parser
//    on the loop, the request handed to one core thread in batches (what one wake-up of a loop
//    brought, one lock and one notify), the core sleeps 200 us per batch for a group commit and
//    hands each loop its answers back as one batch with one wake-up (an eventfd write; an
//    asio::post; a datagram for the reactor, which has no other way to be woken), ~300 bytes.
// A measurement, not product code: no deadlines, no limits beyond what keeps it safe on loopback.
//
// Usage:
//   http_loop_compare serve --variant V [--threads N] [--port P]
//       prints "port P" once listening; serves until SIGTERM or SIGINT, then prints the core's
//       batch figures on stderr.
//   http_loop_compare idle --port P [--connections N]
//       opens N keep-alive connections, one GET answered on each, prints "ready N", holds them
//       until SIGTERM or SIGINT.

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/MemoryStream.h>
#include <Poco/NObserver.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAcceptor.h>
#include <Poco/Net/SocketNotification.h>
#include <Poco/Net/SocketReactor.h>
#include <Poco/Net/StreamSocket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// ---- What every variant answers -----------------------------------------------------------

constexpr std::string_view kFixedBody =
    R"({"status":"ok","service":"presence-agent","version":"0.1.0","users":1000})";
constexpr std::string_view kNotFound =
    R"({"error":{"code":"not_found","message":"no such route"}})";
constexpr std::string_view kBadBody =
    R"({"error":{"code":"malformed","message":"the body must be a JSON object with a label"}})";
constexpr std::string_view kStatePrefix = "/api/v1/agents/";
constexpr std::string_view kStateSuffix = "/state";
constexpr std::size_t kMaxHead = 64 * 1024;

// A PUT state on its way to the core, and the core's answer on its way back.
struct Job {
  int loop = 0;       // the loop that owns the connection
  uint64_t conn = 0;  // the connection, as that loop numbers them
  std::string user;
  std::string label;
};
struct Answer {
  uint64_t conn = 0;
  std::string body;
};

// An answer the loop gives at once.
struct Reply {
  int status = 200;
  std::string_view body;
};

// Either an immediate reply, or nothing and `job` (user and label) for the core.
std::optional<Reply> Route(std::string_view method, std::string_view target, std::string_view body,
                           Job& job) {
  if (method == "GET") return Reply{200, kFixedBody};
  if (method != "PUT" || !target.starts_with(kStatePrefix) || !target.ends_with(kStateSuffix) ||
      target.size() <= kStatePrefix.size() + kStateSuffix.size()) {
    return Reply{404, kNotFound};
  }
  job.user =
      target.substr(kStatePrefix.size(), target.size() - kStatePrefix.size() - kStateSuffix.size());
  try {
    Poco::JSON::Parser parser;
    const auto object = parser.parse(std::string(body)).extract<Poco::JSON::Object::Ptr>();
    job.label = object->getValue<std::string>("label");
  } catch (const Poco::Exception&) {
    return Reply{400, kBadBody};
  }
  return std::nullopt;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    default:
      return "Not Found";
  }
}

// A whole HTTP/1.1 response, for the variants that write their own.
void AppendResponse(std::string& out, int status, std::string_view body, bool keep_alive) {
  char head[160];
  const int size =
      std::snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\n%s\r\n",
                    status, Reason(status), body.size(), keep_alive ? "" : "Connection: close\r\n");
  out.append(head, static_cast<std::size_t>(size));
  out.append(body);
}

// ---- The core: one thread, batches in, a group commit, batches out ------------------------

class Core {
 public:
  using Deliver = std::function<void(std::vector<Answer>&&)>;

  // Before Start(): one deliver function per loop, called on the core thread.
  int AddLoop(Deliver deliver) {
    deliver_.push_back(std::move(deliver));
    return static_cast<int>(deliver_.size()) - 1;
  }
  void Start() {
    thread_ = std::thread([this] { Run(); });
    thread_.detach();  // the process ends with _exit
  }
  // Takes every job out of `jobs`: one lock, one notify.
  void Submit(std::vector<Job>& jobs) {
    {
      std::lock_guard lock(mutex_);
      for (Job& job : jobs) inbox_.push_back(std::move(job));
    }
    jobs.clear();
    wake_.notify_one();
  }
  uint64_t batches() const { return batches_; }
  uint64_t jobs() const { return jobs_; }

 private:
  void Run() {
    std::vector<Job> batch;
    std::vector<std::vector<Answer>> out(deliver_.size());
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return !inbox_.empty(); });
        batch.swap(inbox_);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // the group commit
      for (Job& job : batch) {
        std::string& label = labels_[job.user];
        out[job.loop].push_back({job.conn, MakeAnswer(job.user, job.label, label)});
        label = std::move(job.label);
      }
      batches_ += 1;
      jobs_ += batch.size();
      batch.clear();
      for (std::size_t loop = 0; loop < out.size(); ++loop) {
        if (!out[loop].empty()) deliver_[loop](std::move(out[loop]));
        out[loop].clear();
      }
    }
  }

  // About 300 bytes, like the API's answer to a state change.
  std::string MakeAnswer(const std::string& user, const std::string& label,
                         const std::string& previous) {
    char body[512];
    const int size = std::snprintf(
        body, sizeof body,
        R"({"id":"%s","label":"%s","status":"Away","status_code":3,"reason_code":"*61",)"
        R"("source":"agent","since":"2026-12-07T22:30:00.000Z","previous":{"label":"%s",)"
        R"("status":"Away","since":"2026-12-07T22:29:59.000Z"},"sequence":%llu,)"
        R"("durable":true,"connectors":{"pending":["dial_command","teams"]}})",
        user.c_str(), label.c_str(), previous.c_str(),
        static_cast<unsigned long long>(++sequence_));
    return std::string(body, static_cast<std::size_t>(std::min<int>(size, sizeof body - 1)));
  }

  std::vector<Deliver> deliver_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> inbox_;
  std::thread thread_;
  // Core thread only; read once the process is stopping.
  std::unordered_map<std::string, std::string> labels_;
  uint64_t sequence_ = 0;
  std::atomic<uint64_t> batches_ = 0;
  std::atomic<uint64_t> jobs_ = 0;
};

// ---- Request readers for the epoll loop: bytes in, whole requests out ----------------------

struct Request {
  std::string method;
  std::string target;
  std::string body;
  bool keep_alive = true;
};

enum class Fed { kNeedMore, kDone, kBad };

// Beast's incremental parser. It takes a body as it comes, but a head only once it is whole
// (until then it takes nothing and the caller keeps the bytes). Lives only while a request is
// arriving, so an idle connection holds none.
class BeastReader {
 public:
  Fed Feed(std::string_view data, std::size_t& taken, Request& out) {
    taken = 0;
    if (!parser_) {
      parser_.emplace();
      parser_->eager(true);
      parser_->header_limit(kMaxHead);
      parser_->body_limit(1024 * 1024);
    }
    while (!parser_->is_done()) {
      if (taken == data.size()) return Fed::kNeedMore;
      boost::beast::error_code error;
      taken += parser_->put(asio::buffer(data.data() + taken, data.size() - taken), error);
      if (error == http::error::need_more) return Fed::kNeedMore;
      if (error) return Fed::kBad;
    }
    auto message = parser_->release();
    out.method.assign(message.method_string().data(), message.method_string().size());
    out.target.assign(message.target().data(), message.target().size());
    out.body = std::move(message.body());
    out.keep_alive = message.keep_alive();
    parser_.reset();
    return Fed::kDone;
  }

 private:
  std::optional<http::request_parser<http::string_body>> parser_;
};

// Poco's parsing: wait for the whole head, read it with HTTPRequest::read from a memory
// stream, then wait for Content-Length bytes of body. Holds nothing between calls.
class PocoReader {
 public:
  Fed Feed(std::string_view data, std::size_t& taken, Request& out) {
    taken = 0;
    const std::size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      return data.size() > kMaxHead ? Fed::kBad : Fed::kNeedMore;
    }
    const std::size_t head = end + 4;
    Poco::Net::HTTPRequest request;
    try {
      Poco::MemoryInputStream stream(data.data(), head);
      request.read(stream);
    } catch (const Poco::Exception&) {
      return Fed::kBad;
    }
    if (request.getChunkedTransferEncoding()) return Fed::kBad;  // not needed here
    const std::streamsize length = std::max<std::streamsize>(request.getContentLength64(), 0);
    if (data.size() - head < static_cast<std::size_t>(length)) return Fed::kNeedMore;
    out.method = request.getMethod();
    out.target = request.getURI();
    out.body.assign(data.data() + head, static_cast<std::size_t>(length));
    out.keep_alive = request.getKeepAlive();
    taken = head + static_cast<std::size_t>(length);
    return Fed::kDone;
  }
};

// ---- (c), (d): our own epoll loop --------------------------------------------------------

int ListenOn(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 4096) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

int PortOf(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  return ntohs(address.sin_port);
}

// Level-triggered: a readable connection is read once per epoll_wait (64 KiB at most), a
// connection whose answer did not fit in the socket waits for EPOLLOUT until it drains.
template <typename Reader>
class EpollLoop {
 public:
  EpollLoop(Core& core, std::vector<std::unique_ptr<EpollLoop>>& loops, int listen_fd)
      : core_(core), loops_(loops), listen_fd_(listen_fd) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    Watch(EPOLL_CTL_ADD, wake_fd_, EPOLLIN, kWakeId);
    if (listen_fd_ >= 0) Watch(EPOLL_CTL_ADD, listen_fd_, EPOLLIN, kListenId);
    index_ = core_.AddLoop([this](std::vector<Answer>&& answers) { Deliver(std::move(answers)); });
  }

  void Run() {
    std::vector<epoll_event> events(256);
    for (;;) {
      const int count = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < count; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kWakeId) {
          OnWake();
        } else if (id == kListenId) {
          Accept();
        } else if (auto found = conns_.find(id); found != conns_.end()) {
          OnEvent(found->second, events[i].events);
        }
      }
      if (!jobs_.empty()) core_.Submit(jobs_);  // what this wake-up brought, in one batch
    }
  }

 private:
  static constexpr uint64_t kWakeId = 0;
  static constexpr uint64_t kListenId = 1;

  struct Conn {
    int fd = -1;
    uint64_t id = 0;
    Reader reader;
    std::string in;        // bytes not parsed yet (a partial request, or one behind a waiting one)
    std::string out;       // answer bytes the socket did not take yet
    bool waiting = false;  // a request is with the core; later ones wait in `in`
    bool keep_alive = true;
    bool want_out = false;  // registered for EPOLLOUT
  };

  void Watch(int op, int fd, uint32_t events, uint64_t id) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = id;
    ::epoll_ctl(epoll_fd_, op, fd, &event);
  }

  // Core thread: one lock, one eventfd write.
  void Deliver(std::vector<Answer>&& answers) {
    {
      std::lock_guard lock(mutex_);
      for (Answer& answer : answers) answers_.push_back(std::move(answer));
    }
    Wake();
  }
  // Loop 0's thread: a new connection for this loop.
  void Adopt(int fd) {
    {
      std::lock_guard lock(mutex_);
      adopted_.push_back(fd);
    }
    Wake();
  }
  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
  }

  void OnWake() {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &count, sizeof count);
    std::vector<Answer> answers;
    std::vector<int> adopted;
    {
      std::lock_guard lock(mutex_);
      answers.swap(answers_);
      adopted.swap(adopted_);
    }
    for (int fd : adopted) Add(fd);
    for (Answer& answer : answers) {
      auto found = conns_.find(answer.conn);
      if (found == conns_.end()) continue;  // closed meanwhile
      Conn& conn = found->second;
      conn.waiting = false;
      reply_.clear();
      AppendResponse(reply_, 200, answer.body, conn.keep_alive);
      if (!Send(conn, reply_)) {
        Close(conn);
        continue;
      }
      if (!conn.in.empty()) OnBytes(conn, {});
    }
  }

  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      EpollLoop& loop = *loops_[next_loop_++ % loops_.size()];
      if (&loop == this) {
        Add(fd);
      } else {
        loop.Adopt(fd);
      }
    }
  }

  void Add(int fd) {
    const uint64_t id = next_id_++;
    Conn& conn = conns_[id];
    conn.fd = fd;
    conn.id = id;
    Watch(EPOLL_CTL_ADD, fd, EPOLLIN, id);
  }

  void Close(Conn& conn) {
    ::close(conn.fd);  // also leaves the epoll set
    conns_.erase(conn.id);
  }

  void OnEvent(Conn& conn, uint32_t events) {
    if ((events & EPOLLOUT) && !Send(conn, {})) return Close(conn);
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    const ssize_t got = ::recv(conn.fd, scratch_, sizeof scratch_, 0);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return Close(conn);
    if (got > 0) OnBytes(conn, std::string_view(scratch_, static_cast<std::size_t>(got)));
  }

  // Parses what has arrived (after what `in` holds) as far as it goes; false if the
  // connection was closed. An idle connection keeps no buffer.
  bool OnBytes(Conn& conn, std::string_view bytes) {
    if (conn.in.empty()) {
      const std::size_t used = HandleRequests(conn, bytes);
      conn.in.assign(bytes.substr(used));
    } else {
      conn.in.append(bytes);
      const std::size_t used = HandleRequests(conn, conn.in);
      conn.in.erase(0, used);
      if (conn.in.empty()) std::string().swap(conn.in);
    }
    if (closing_) {
      closing_ = false;
      Close(conn);
      return false;
    }
    return true;
  }

  // Handles the whole requests at the front of `data`; returns how many bytes they took.
  std::size_t HandleRequests(Conn& conn, std::string_view data) {
    std::size_t used = 0;
    while (!conn.waiting && used < data.size()) {
      std::size_t taken = 0;
      const Fed outcome = conn.reader.Feed(data.substr(used), taken, request_);
      used += taken;
      if (outcome == Fed::kNeedMore) break;
      if (outcome == Fed::kBad) {
        conn.keep_alive = false;
        conn.waiting = true;  // nothing more is read from it
        reply_.clear();
        AppendResponse(reply_, 400, kBadBody, false);
        closing_ = !Send(conn, reply_);
        return data.size();
      }
      conn.keep_alive = request_.keep_alive;
      Job job;
      const std::optional<Reply> reply =
          Route(request_.method, request_.target, request_.body, job);
      if (reply) {
        reply_.clear();
        AppendResponse(reply_, reply->status, reply->body, conn.keep_alive);
        if (!Send(conn, reply_)) {
          closing_ = true;
          return data.size();
        }
      } else {
        job.loop = index_;
        job.conn = conn.id;
        jobs_.push_back(std::move(job));
        conn.waiting = true;
      }
    }
    return used;
  }

  // Writes `bytes` after what is queued; false if the connection is to be closed now (it
  // failed, or it was not keep-alive and all is written).
  bool Send(Conn& conn, std::string_view bytes) {
    conn.out.append(bytes);
    std::size_t sent = 0;
    while (sent < conn.out.size()) {
      const ssize_t n =
          ::send(conn.fd, conn.out.data() + sent, conn.out.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    conn.out.erase(0, sent);
    if (conn.out.empty()) std::string().swap(conn.out);
    const bool want_out = !conn.out.empty();
    if (want_out != conn.want_out) {
      conn.want_out = want_out;
      Watch(EPOLL_CTL_MOD, conn.fd, want_out ? EPOLLIN | EPOLLOUT : EPOLLIN, conn.id);
    }
    return want_out || conn.keep_alive;
  }

  Core& core_;
  std::vector<std::unique_ptr<EpollLoop>>& loops_;
  int listen_fd_ = -1;  // loop 0 only
  int index_ = 0;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::size_t next_loop_ = 0;
  uint64_t next_id_ = 2;
  std::unordered_map<uint64_t, Conn> conns_;
  std::vector<Job> jobs_;  // this wake-up's jobs
  Request request_;        // reused
  std::string reply_;      // reused
  bool closing_ = false;   // HandleRequests asks OnBytes to close the connection
  char scratch_[64 * 1024];
  // From other threads.
  std::mutex mutex_;
  std::vector<Answer> answers_;
  std::vector<int> adopted_;
};

template <typename Reader>
int ServeEpoll(Core& core, int threads, int port) {
  static std::vector<std::unique_ptr<EpollLoop<Reader>>> loops;
  const int listen_fd = ListenOn(port);
  for (int i = 0; i < threads; ++i) {
    loops.push_back(std::make_unique<EpollLoop<Reader>>(core, loops, i == 0 ? listen_fd : -1));
  }
  for (auto& loop : loops) std::thread([&loop] { loop->Run(); }).detach();
  return PortOf(listen_fd);
}

// ---- (a): Boost.Asio + Boost.Beast -------------------------------------------------------

class AsioSession;

// One io_context on one thread. Jobs read in this loop's current run of handlers are handed
// over by one posted flush, which runs after the handlers already queued (those of the same
// epoll wake-up).
class AsioLoop {
 public:
  explicit AsioLoop(Core& core) : core_(core), ioc_(1), work_(ioc_.get_executor()) {
    index_ = core_.AddLoop([this](std::vector<Answer>&& answers) {
      asio::post(ioc_, [this, answers = std::move(answers)]() mutable { OnAnswers(answers); });
    });
  }
  asio::io_context& ioc() { return ioc_; }
  void Run() { ioc_.run(); }

  void Queue(std::shared_ptr<AsioSession> session, Job job);
  uint64_t NextId() { return next_id_++; }

 private:
  void OnAnswers(std::vector<Answer>& answers);

  Core& core_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  int index_ = 0;
  uint64_t next_id_ = 1;
  std::vector<Job> jobs_;
  std::unordered_map<uint64_t, std::shared_ptr<AsioSession>> waiting_;  // with the core
};

class AsioSession : public std::enable_shared_from_this<AsioSession> {
 public:
  AsioSession(tcp::socket socket, AsioLoop& loop)
      : socket_(std::move(socket)), loop_(loop), id_(loop.NextId()) {}

  uint64_t id() const { return id_; }

  void Read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_,
                     [self = shared_from_this()](boost::beast::error_code error, std::size_t) {
                       if (!error) self->OnRequest();
                     });
  }

  void Write(int status, std::string_view body) {
    response_ = {};
    response_.result(static_cast<http::status>(status));
    response_.version(11);
    response_.set(http::field::content_type, "application/json");
    response_.keep_alive(request_.keep_alive());
    response_.body().assign(body);
    response_.prepare_payload();
    http::async_write(socket_, response_,
                      [self = shared_from_this()](boost::beast::error_code error, std::size_t) {
                        if (error || !self->response_.keep_alive()) {
                          self->socket_.shutdown(tcp::socket::shutdown_send, error);
                          return;
                        }
                        self->Read();
                      });
  }

 private:
  void OnRequest() {
    Job job;
    const auto method = request_.method_string();
    const auto target = request_.target();
    const std::optional<Reply> reply =
        Route(std::string_view(method.data(), method.size()),
              std::string_view(target.data(), target.size()), request_.body(), job);
    if (reply) return Write(reply->status, reply->body);
    loop_.Queue(shared_from_this(), std::move(job));
  }

  tcp::socket socket_;
  AsioLoop& loop_;
  uint64_t id_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

void AsioLoop::Queue(std::shared_ptr<AsioSession> session, Job job) {
  job.loop = index_;
  job.conn = session->id();
  waiting_.emplace(job.conn, std::move(session));
  jobs_.push_back(std::move(job));
  if (jobs_.size() == 1) asio::post(ioc_, [this] { core_.Submit(jobs_); });
}

void AsioLoop::OnAnswers(std::vector<Answer>& answers) {
  for (Answer& answer : answers) {
    auto found = waiting_.find(answer.conn);
    if (found == waiting_.end()) continue;
    std::shared_ptr<AsioSession> session = std::move(found->second);
    waiting_.erase(found);
    session->Write(200, answer.body);
  }
}

class AsioServer {
 public:
  AsioServer(Core& core, int threads, int port) {
    for (int i = 0; i < threads; ++i) loops_.push_back(std::make_unique<AsioLoop>(core));
    acceptor_.emplace(loops_[0]->ioc(),
                      tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<uint16_t>(port)));
    Accept();
    for (auto& loop : loops_) std::thread([&loop] { loop->Run(); }).detach();
  }
  int port() const { return acceptor_->local_endpoint().port(); }

 private:
  void Accept() {
    AsioLoop& loop = *loops_[next_loop_++ % loops_.size()];
    acceptor_->async_accept(
        loop.ioc(), [this, &loop](boost::beast::error_code error, tcp::socket socket) {
          if (!error) {
            socket.set_option(tcp::no_delay(true), error);
            auto session = std::make_shared<AsioSession>(std::move(socket), loop);
            asio::post(loop.ioc(), [session] { session->Read(); });
          }
          Accept();
        });
  }

  std::vector<std::unique_ptr<AsioLoop>> loops_;
  std::optional<tcp::acceptor> acceptor_;
  std::size_t next_loop_ = 0;
};

// ---- (b): Poco's SocketReactor with Poco's HTTP parsing ----------------------------------

class ReactorConn;

// SocketReactor has no hook after a wake-up's handlers have run, only onBusy() before them.
// So the jobs of one wake-up are handed over at the start of the next, and a loop that has
// jobs wakes itself (a datagram to its own wake socket) so that the next comes at once. Poco
// 1.11's wakeUp() does not interrupt the poll, so the core wakes a loop the same way.
class ReactorLoop : public Poco::Net::SocketReactor {
 public:
  explicit ReactorLoop(Core& core) : core_(core) {
    wake_.bind(Poco::Net::SocketAddress("127.0.0.1", 0));
    wake_.setBlocking(false);
    wake_address_ = wake_.address();
    addEventHandler(wake_, Poco::NObserver<ReactorLoop, Poco::Net::ReadableNotification>(
                               *this, &ReactorLoop::OnWake));
    index_ = core_.AddLoop([this](std::vector<Answer>&& answers) {
      {
        std::lock_guard lock(mutex_);
        for (Answer& answer : answers) answers_.push_back(std::move(answer));
      }
      Wake();
    });
  }

  // Any thread.
  void Adopt(const Poco::Net::StreamSocket& socket) {
    {
      std::lock_guard lock(mutex_);
      adopted_.push_back(socket);
    }
    Wake();
  }
  // Loop thread.
  void Queue(ReactorConn& conn, Job job);
  void Forget(uint64_t id) { conns_.erase(id); }

 protected:
  void onBusy() override {
    if (!jobs_.empty()) core_.Submit(jobs_);
    self_woken_ = false;
  }

 private:
  void Wake() { wake_.sendTo("w", 1, wake_address_); }
  void OnWake(const Poco::AutoPtr<Poco::Net::ReadableNotification>&);

  Core& core_;
  int index_ = 0;
  Poco::Net::DatagramSocket wake_;
  Poco::Net::SocketAddress wake_address_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, ReactorConn*> conns_;
  std::vector<Job> jobs_;
  bool self_woken_ = false;
  std::mutex mutex_;
  std::vector<Answer> answers_;
  std::vector<Poco::Net::StreamSocket> adopted_;
};

class ReactorConn {
 public:
  ReactorConn(const Poco::Net::StreamSocket& socket, ReactorLoop& loop, uint64_t id)
      : socket_(socket), loop_(loop), id_(id) {
    socket_.setBlocking(false);
    socket_.setNoDelay(true);
    loop_.addEventHandler(socket_, readable_);
  }

  uint64_t id() const { return id_; }

  void OnAnswer(std::string_view body) {
    waiting_ = false;
    reply_.clear();
    AppendResponse(reply_, 200, body, keep_alive_);
    if (!Send(reply_)) return Close();
    if (!in_.empty()) OnBytes({});
  }

 private:
  void OnReadable(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
    char buffer[16 * 1024];
    int got = 0;
    try {
      got = socket_.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
      return Close();
    }
    if (got == 0) return Close();
    if (got > 0) OnBytes(std::string_view(buffer, static_cast<std::size_t>(got)));
  }
  void OnWritable(const Poco::AutoPtr<Poco::Net::WritableNotification>&) {
    if (!Send({})) Close();
  }

  // As EpollLoop::OnBytes and HandleRequests, with Poco's parsing.
  void OnBytes(std::string_view bytes) {
    std::size_t used = 0;
    if (in_.empty()) {
      if (!HandleRequests(bytes, used)) return;
      in_.assign(bytes.substr(used));
    } else {
      in_.append(bytes);
      if (!HandleRequests(in_, used)) return;
      in_.erase(0, used);
      if (in_.empty()) std::string().swap(in_);
    }
  }

  // Handles the whole requests at the front of `data`, `used` says how many bytes they took;
  // false once the connection is closed (and this deleted).
  bool HandleRequests(std::string_view data, std::size_t& used) {
    while (!waiting_ && used < data.size()) {
      std::size_t taken = 0;
      const Fed outcome = reader_.Feed(data.substr(used), taken, request_);
      used += taken;
      if (outcome == Fed::kNeedMore) break;
      if (outcome == Fed::kBad) {
        keep_alive_ = false;
        reply_.clear();
        AppendResponse(reply_, 400, kBadBody, false);
        Send(reply_);
        Close();
        return false;
      }
      keep_alive_ = request_.keep_alive;
      Job job;
      const std::optional<Reply> reply =
          Route(request_.method, request_.target, request_.body, job);
      if (!reply) {
        waiting_ = true;
        loop_.Queue(*this, std::move(job));
        continue;
      }
      reply_.clear();
      AppendResponse(reply_, reply->status, reply->body, keep_alive_);
      if (!Send(reply_)) {
        Close();
        return false;
      }
    }
    return true;
  }

  bool Send(std::string_view bytes) {
    out_.append(bytes);
    std::size_t sent = 0;
    try {
      while (sent < out_.size()) {
        sent += static_cast<std::size_t>(socket_.sendBytes(
            out_.data() + sent, static_cast<int>(out_.size() - sent), MSG_NOSIGNAL));
      }
    } catch (const Poco::TimeoutException&) {
      // EAGAIN: the rest waits for WritableNotification
    } catch (const Poco::Exception&) {
      return false;
    }
    out_.erase(0, sent);
    if (out_.empty()) std::string().swap(out_);
    const bool want_out = !out_.empty();
    if (want_out && !want_out_) loop_.addEventHandler(socket_, writable_);
    if (!want_out && want_out_) loop_.removeEventHandler(socket_, writable_);
    want_out_ = want_out;
    return want_out || keep_alive_;
  }

  void Close() {
    if (want_out_) loop_.removeEventHandler(socket_, writable_);
    loop_.removeEventHandler(socket_, readable_);
    socket_.close();
    loop_.Forget(id_);
    delete this;
  }

  Poco::Net::StreamSocket socket_;
  ReactorLoop& loop_;
  uint64_t id_;
  PocoReader reader_;
  Request request_;
  std::string in_;
  std::string out_;
  std::string reply_;
  bool waiting_ = false;
  bool keep_alive_ = true;
  bool want_out_ = false;
  Poco::NObserver<ReactorConn, Poco::Net::ReadableNotification> readable_{*this,
                                                                          &ReactorConn::OnReadable};
  Poco::NObserver<ReactorConn, Poco::Net::WritableNotification> writable_{*this,
                                                                          &ReactorConn::OnWritable};
};

void ReactorLoop::Queue(ReactorConn& conn, Job job) {
  job.loop = index_;
  job.conn = conn.id();
  jobs_.push_back(std::move(job));
  if (!self_woken_) {
    self_woken_ = true;
    Wake();
  }
}

void ReactorLoop::OnWake(const Poco::AutoPtr<Poco::Net::ReadableNotification>&) {
  char buffer[256];
  while (wake_.receiveBytes(buffer, sizeof buffer) > 0) {
  }
  std::vector<Answer> answers;
  std::vector<Poco::Net::StreamSocket> adopted;
  {
    std::lock_guard lock(mutex_);
    answers.swap(answers_);
    adopted.swap(adopted_);
  }
  for (const Poco::Net::StreamSocket& socket : adopted) {
    const uint64_t id = next_id_++;
    conns_[id] = new ReactorConn(socket, *this, id);  // deletes itself on Close
  }
  for (const Answer& answer : answers) {
    auto found = conns_.find(answer.conn);
    if (found != conns_.end()) found->second->OnAnswer(answer.body);
  }
}

// The acceptor's service handler type, never made: createServiceHandler hands sockets on.
struct HandedOn {
  HandedOn(Poco::Net::StreamSocket&, Poco::Net::SocketReactor&) {}
};

// Deals accepted connections out to the loops in turn, through each loop's own thread.
class ReactorAcceptor : public Poco::Net::SocketAcceptor<HandedOn> {
 public:
  ReactorAcceptor(Poco::Net::ServerSocket& socket, std::vector<std::unique_ptr<ReactorLoop>>& loops)
      : SocketAcceptor(socket, *loops[0]), loops_(loops) {}

 protected:
  HandedOn* createServiceHandler(Poco::Net::StreamSocket& socket) override {
    loops_[next_loop_++ % loops_.size()]->Adopt(socket);
    return nullptr;
  }

 private:
  std::vector<std::unique_ptr<ReactorLoop>>& loops_;
  std::size_t next_loop_ = 0;
};

int ServeReactor(Core& core, int threads, int port) {
  static std::vector<std::unique_ptr<ReactorLoop>> loops;
  static Poco::Net::ServerSocket socket(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<uint16_t>(port)), 4096);
  for (int i = 0; i < threads; ++i) loops.push_back(std::make_unique<ReactorLoop>(core));
  static ReactorAcceptor acceptor(socket, loops);
  for (auto& loop : loops) std::thread([&loop] { loop->run(); }).detach();
  return socket.address().port();
}

// ---- The idle client and main ------------------------------------------------------------

void RaiseFileLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// One GET on a new blocking connection, answered; the descriptor, or -1.
int OpenIdle(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  constexpr std::string_view kRequest = "GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(kRequest.size())) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    const std::size_t head = answer.find("\r\n\r\n");
    const std::size_t length = answer.find("Content-Length: ");
    if (head != std::string::npos && length != std::string::npos &&
        answer.size() >= head + 4 + std::strtoul(answer.c_str() + length + 16, nullptr, 10)) {
      return fd;
    }
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return -1;
}

void WaitForSignal(const sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
}

int Usage() {
  std::fprintf(stderr,
               "usage: http_loop_compare serve --variant asio|reactor|epoll_beast|epoll_poco "
               "[--threads N] [--port P]\n"
               "       http_loop_compare idle --port P [--connections N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string mode = argv[1];
  std::string variant;
  int threads = 1;
  int port = 0;
  int connections = 10000;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--variant") {
      variant = argv[i + 1];
    } else if (option == "--threads") {
      threads = std::atoi(argv[i + 1]);
    } else if (option == "--port") {
      port = std::atoi(argv[i + 1]);
    } else if (option == "--connections") {
      connections = std::atoi(argv[i + 1]);
    } else {
      return Usage();
    }
  }
  RaiseFileLimit();
  ::signal(SIGPIPE, SIG_IGN);
  // Every thread started from here on leaves SIGTERM and SIGINT to WaitForSignal.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (mode == "idle") {
    int open = 0;
    for (int i = 0; i < connections; ++i) open += OpenIdle(port) >= 0 ? 1 : 0;
    std::printf("ready %d\n", open);
    std::fflush(stdout);
    WaitForSignal(signals);
    return 0;
  }
  if (mode != "serve" || threads < 1) return Usage();
  static Core core;
  static std::optional<AsioServer> asio_server;
  if (variant == "asio") {
    asio_server.emplace(core, threads, port);
    port = asio_server->port();
  } else if (variant == "reactor") {
    port = ServeReactor(core, threads, port);
  } else if (variant == "epoll_beast") {
    port = ServeEpoll<BeastReader>(core, threads, port);
  } else if (variant == "epoll_poco") {
    port = ServeEpoll<PocoReader>(core, threads, port);
  } else {
    return Usage();
  }
  core.Start();
  std::printf("port %d\n", port);
  std::fflush(stdout);
  WaitForSignal(signals);
  std::fprintf(stderr, "core: %llu batches, %llu jobs\n",
               static_cast<unsigned long long>(core.batches()),
               static_cast<unsigned long long>(core.jobs()));
  std::fflush(stderr);
  std::_Exit(0);  // the loops never stop; nothing to tear down for a measurement
}
