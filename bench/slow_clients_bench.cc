// The slow-client benchmark: does a normal client stay fast while many others hold connections
// open and send nothing useful? Against a running `presence-agent serve` (serve_bench.sh
// starts one), from one epoll thread:
//  - S slow connections (default 2,000) each send a GET one byte every few seconds (a padding
//    header that does not end within the run), spread over source addresses 127.1.x.y;
//  - I idle keep-alive connections (default 10,000) each send one GET /api/v1/health, read its
//    answer, then stay open and quiet (source addresses 127.2.x.y);
// then, while they are held, a normal client on 127.0.0.1 makes requests at a steady rate
// (GET /api/v1/agents/{id} and PUT /api/v1/agents/{id}/state in turn) for S seconds.
// Prints the normal client's p50/p99/max and how many of its requests failed, how many slow
// and idle connections were refused or closed by the agent and when, and a RESULT line for
// serve_bench.sh. A benchmark, not a test: it never fails on a number.
//
// Usage: slow_clients_bench --port P --token T [--users N] [--user-prefix u] [--slow S]
//          [--idle I] [--seconds S] [--trickle-seconds T] [--per-address A]
//          [--setup-seconds U] [--normal-rate R]

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "bench/loopback_client.h"

namespace {

using namespace presence::bench;
using std::chrono::milliseconds;

struct Options {
  uint16_t port = 0;
  std::string token;
  int users = 1000;
  std::string user_prefix = "u";
  size_t slow = 2000;
  size_t idle = 10000;
  double seconds = 10;
  double trickle_seconds = 3;
  size_t per_address = 30;
  double setup_seconds = 20;
  double normal_rate = 50;
  milliseconds normal_timeout{5000};  // a normal request without an answer this long failed
};

Clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// ---- The normal client ------------------------------------------------------------------

struct NormalFigures {
  std::vector<int64_t> micros;  // answered requests (any status)
  int requests = 0;
  int failed = 0;  // no answer in time, connection refused or closed, or not 200
  std::map<std::string, int> failures;
};

class NormalClient {
 public:
  NormalClient(const Options& options, std::vector<std::string> labels)
      : options_(options), labels_(std::move(labels)) {}

  NormalFigures Run() {
    const auto start = Clock::now();
    const auto end = start + Seconds(options_.seconds);
    const auto interval = Seconds(1.0 / options_.normal_rate);
    auto due = start;
    for (int i = 0; Clock::now() < end; ++i) {
      const auto now = Clock::now();
      if (due > now) std::this_thread::sleep_until(due);  // the client's own pace
      due = std::max(due + interval, Clock::now());
      const int user = (i / 2) % options_.users;
      const std::string path = "/api/v1/agents/" + options_.user_prefix + std::to_string(user);
      const std::string request =
          i % 2 == 0
              ? RequestText("GET", path, options_.token)
              : RequestText(
                    "PUT", path + "/state", options_.token,
                    R"({"label": ")" +
                        labels_[static_cast<size_t>(i / 2 / options_.users) % labels_.size()] +
                        "\"}");
      Once(request);
    }
    if (fd_ >= 0) ::close(fd_);
    return figures_;
  }

 private:
  void Fail(const std::string& why) {
    ++figures_.failed;
    ++figures_.failures[why];
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    reader_ = ResponseReader();
  }

  void Once(const std::string& request) {
    ++figures_.requests;
    const auto sent = Clock::now();
    if (fd_ < 0) {
      fd_ = ConnectFrom("127.0.0.1", options_.port, false);
      if (fd_ < 0) return Fail(std::string("connect: ") + std::strerror(errno));
    }
    if (!SendAll(fd_, request)) return Fail("send failed");
    const auto deadline = sent + options_.normal_timeout;
    for (;;) {
      if (std::optional<Response> answer = reader_.Take()) {
        figures_.micros.push_back(MicrosSince(sent, Clock::now()));
        if (answer->status != 200) Fail("status " + std::to_string(answer->status));
        return;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      pollfd entry{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) <= 0) {
        return Fail("no answer within " + std::to_string(options_.normal_timeout.count()) + " ms");
      }
      char chunk[65536];
      const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) return Fail("connection closed by the agent");
      reader_.Feed(std::string_view(chunk, static_cast<size_t>(got)));
    }
  }

  const Options& options_;
  std::vector<std::string> labels_;
  int fd_ = -1;
  ResponseReader reader_;
  NormalFigures figures_;
};

// ---- The slow and idle connections ------------------------------------------------------

enum class Kind { kSlow, kIdle };
enum class Phase { kConnecting, kOpen, kHeld, kClosed };

struct Connection {
  Kind kind = Kind::kSlow;
  Phase phase = Phase::kConnecting;
  int fd = -1;
  Clock::time_point opened;
  size_t sent = 0;  // bytes of the slow request sent
  ResponseReader reader;
  int status = 0;  // of the first answer, 0 while none came
  bool failed_to_connect = false;
  std::optional<Clock::time_point> closed;  // by the agent
};

class Crowd {
 public:
  explicit Crowd(const Options& options)
      : options_(options),
        epoll_(::epoll_create1(EPOLL_CLOEXEC)),
        connections_(options.slow + options.idle) {
    slow_request_ = "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    slow_request_.append(4096, 'a');
    idle_request_ = RequestText("GET", "/api/v1/health", "");
    for (size_t i = 0; i < connections_.size(); ++i) {
      connections_[i].kind = i < options.slow ? Kind::kSlow : Kind::kIdle;
    }
  }

  // Opens the slow connections, then the idle ones, and waits (up to --setup-seconds) until
  // every idle one has its answer.
  void Open() {
    const auto start = Clock::now();
    const auto deadline = start + Seconds(options_.setup_seconds);
    size_t next = 0;
    while (Clock::now() < deadline) {
      while (next < connections_.size() && connecting_ < 128) Start(next++);
      if (next == connections_.size() && connecting_ == 0 && awaiting_ == 0) break;
      Poll(10);
    }
    while (next < connections_.size()) Start(next++);  // the rest, without waiting for them
    setup_seconds_ = MicrosSince(start, Clock::now()) / 1e6;
  }

  void Hold(const std::atomic<bool>& done) {
    while (!done.load()) Poll(10);
  }

  void Report(Clock::time_point measuring_from) const {
    for (Kind kind : {Kind::kSlow, Kind::kIdle}) {
      size_t total = 0, connect_failed = 0, answered_200 = 0, refused = 0, unanswered = 0;
      std::map<int, size_t> statuses;
      std::vector<int64_t> closed_after, closed_during;  // since opened; during measuring
      for (const Connection& c : connections_) {
        if (c.kind != kind) continue;
        ++total;
        if (c.failed_to_connect) {
          ++connect_failed;
          continue;
        }
        if (c.status != 0) ++statuses[c.status];
        if (c.status == 200) ++answered_200;
        // Refused: an error answer at once, or closed before any answer (idle ones: before
        // their answer; slow ones: with no answer at all and within the first second).
        if (c.status == 503 || (kind == Kind::kIdle && c.status != 0 && c.status != 200) ||
            (c.closed && c.status == 0 &&
             (kind == Kind::kIdle || *c.closed - c.opened < std::chrono::seconds(1)))) {
          ++refused;
        }
        if (kind == Kind::kIdle && c.status == 0 && !c.closed) ++unanswered;
        if (c.closed) {
          closed_after.push_back(MicrosSince(c.opened, *c.closed));
          if (*c.closed >= measuring_from) closed_during.push_back(0);
        }
      }
      const Spread after = SpreadOf(closed_after);
      std::string answers;
      for (const auto& [status, count] : statuses) {
        answers += " " + std::to_string(status) + "x" + std::to_string(count);
      }
      const char* name = kind == Kind::kSlow ? "slow" : "idle";
      char when[128] = "";
      if (!closed_after.empty()) {
        std::snprintf(when, sizeof when, ", %.1f/%.1f/%.1f s after opening (min/median/max)",
                      MinSeconds(closed_after), after.p50_ms / 1000, after.max_ms / 1000);
      }
      std::printf(
          "%s: %zu opened (%zu could not connect); answers:%s; refused %zu%s; closed by "
          "the agent %zu (%zu while the normal client ran)%s\n",
          name, total, connect_failed, answers.empty() ? " none" : answers.c_str(), refused,
          kind == Kind::kIdle
              ? (", without an answer at the end " + std::to_string(unanswered)).c_str()
              : "",
          closed_after.size(), closed_during.size(), when);
      std::printf(
          "RESULT %s opened=%zu connect_failed=%zu answered_200=%zu refused=%zu "
          "unanswered=%zu closed=%zu closed_while_measuring=%zu\n",
          name, total, connect_failed, answered_200, refused, unanswered, closed_after.size(),
          closed_during.size());
    }
    std::printf("setup: %.1f s to open every connection and have the idle ones answered\n",
                setup_seconds_);
  }

 private:
  static double MinSeconds(const std::vector<int64_t>& micros) {
    return *std::min_element(micros.begin(), micros.end()) / 1e6;
  }

  void Start(size_t index) {
    Connection& c = connections_[index];
    const bool slow = c.kind == Kind::kSlow;
    const size_t position = slow ? index : index - options_.slow;
    c.opened = Clock::now();
    c.fd = ConnectFrom(SourceAddress(slow ? 1 : 2, position, options_.per_address), options_.port,
                       true);
    if (c.fd < 0) {
      c.failed_to_connect = true;
      c.phase = Phase::kClosed;
      return;
    }
    epoll_event event{};
    event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    event.data.u64 = index;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &event);
    ++connecting_;
  }

  void Connected(size_t index) {
    Connection& c = connections_[index];
    --connecting_;
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      c.failed_to_connect = true;
      Close(c, false);
      return;
    }
    c.phase = Phase::kOpen;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = index;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &event);
    if (c.kind == Kind::kIdle) {
      if (SendSome(c.fd, idle_request_) != static_cast<ssize_t>(idle_request_.size())) {
        Close(c, true);
        return;
      }
      ++awaiting_;
    } else {
      // The first byte now, the next ones spread over the trickle period.
      Trickle(index);
      const auto offset = Seconds(options_.trickle_seconds * static_cast<double>(index) /
                                  static_cast<double>(std::max<size_t>(options_.slow, 1)));
      due_.push({Clock::now() + offset + Seconds(options_.trickle_seconds) / 2, index});
    }
  }

  void Trickle(size_t index) {
    Connection& c = connections_[index];
    if (c.phase != Phase::kOpen || c.sent >= slow_request_.size()) return;
    const ssize_t sent = SendSome(c.fd, std::string_view(slow_request_).substr(c.sent, 1));
    if (sent < 0) {
      Close(c, true);
      return;
    }
    c.sent += static_cast<size_t>(sent);
  }

  void Close(Connection& c, bool by_agent) {
    if (c.phase == Phase::kClosed) return;
    if (c.phase == Phase::kConnecting) --connecting_;
    if (c.kind == Kind::kIdle && c.phase == Phase::kOpen) --awaiting_;
    c.phase = Phase::kClosed;
    if (by_agent) c.closed = Clock::now();
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }

  void Read(size_t index) {
    Connection& c = connections_[index];
    char chunk[16384];
    for (;;) {
      const ssize_t got = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (got <= 0) {
        Close(c, true);
        return;
      }
      c.reader.Feed(std::string_view(chunk, static_cast<size_t>(got)));
      while (std::optional<Response> answer = c.reader.Take()) {
        if (c.status == 0) c.status = answer->status;
        if (c.kind == Kind::kIdle && c.phase == Phase::kOpen) {
          --awaiting_;
          c.phase = Phase::kHeld;
        }
      }
    }
  }

  void Poll(int timeout_ms) {
    const auto now = Clock::now();
    while (!due_.empty() && due_.top().first <= now) {
      const auto [when, index] = due_.top();
      due_.pop();
      Trickle(index);
      if (connections_[index].phase == Phase::kOpen) {
        due_.push({when + Seconds(options_.trickle_seconds), index});
      }
    }
    if (!due_.empty()) {
      const auto until = std::chrono::duration_cast<milliseconds>(due_.top().first - now);
      timeout_ms = static_cast<int>(std::clamp<int64_t>(until.count(), 0, timeout_ms));
    }
    epoll_event ready[512];
    const int count = ::epoll_wait(epoll_, ready, 512, timeout_ms);
    for (int i = 0; i < count; ++i) {
      const size_t index = ready[i].data.u64;
      Connection& c = connections_[index];
      if (c.phase == Phase::kConnecting) {
        if ((ready[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) continue;
        Connected(index);
      }
      if (c.phase != Phase::kClosed &&
          (ready[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        Read(index);
      }
    }
  }

  using Due = std::pair<Clock::time_point, size_t>;

  const Options& options_;
  int epoll_;
  std::vector<Connection> connections_;
  std::string slow_request_;
  std::string idle_request_;
  size_t connecting_ = 0;
  size_t awaiting_ = 0;  // idle connections waiting for their answer
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  double setup_seconds_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Arguments args(argc, argv);
  Options options;
  options.port = static_cast<uint16_t>(args.Number("--port", 0));
  options.token = args.Text("--token", "");
  options.users = static_cast<int>(args.Number("--users", options.users));
  options.user_prefix = args.Text("--user-prefix", options.user_prefix);
  options.slow = static_cast<size_t>(args.Number("--slow", 2000));
  options.idle = static_cast<size_t>(args.Number("--idle", 10000));
  options.seconds = args.Real("--seconds", options.seconds);
  options.trickle_seconds = args.Real("--trickle-seconds", options.trickle_seconds);
  options.per_address = static_cast<size_t>(args.Number("--per-address", 30));
  options.setup_seconds = args.Real("--setup-seconds", options.setup_seconds);
  options.normal_rate = args.Real("--normal-rate", options.normal_rate);
  if (options.port == 0 || options.token.empty() || options.users < 1 || options.seconds <= 0 ||
      options.trickle_seconds <= 0 || options.normal_rate <= 0) {
    std::fprintf(stderr,
                 "usage: slow_clients_bench --port P --token T [--users N] [--user-prefix u] "
                 "[--slow S] [--idle I] [--seconds S] [--trickle-seconds T] [--per-address A] "
                 "[--setup-seconds U] [--normal-rate R]\n");
    return 2;
  }
  const size_t files = RaiseFileLimit();
  std::printf(
      "slow_clients_bench: %zu slow connections (a byte every %.1f s, 127.1.x.y), %zu "
      "idle keep-alive connections (127.2.x.y), %zu per source address; a normal client "
      "(127.0.0.1) at %.0f requests/s for %.0f s; open files limit %zu\n",
      options.slow, options.trickle_seconds, options.idle, options.per_address, options.normal_rate,
      options.seconds, files);
  if (files < options.slow + options.idle + 64) {
    std::printf("(the open files limit is below what is asked: some connections will fail)\n");
  }
  const std::vector<std::string> labels = SelectableLabels(options.port, options.token);
  if (labels.empty()) {
    std::fprintf(stderr, "cannot read the selectable labels from GET /api/v1/states\n");
    return 1;
  }
  std::fflush(stdout);
  Crowd crowd(options);
  crowd.Open();
  std::atomic<bool> done{false};
  NormalFigures figures;
  const auto measuring_from = Clock::now();
  std::thread normal([&] {
    figures = NormalClient(options, labels).Run();
    done.store(true);
  });
  crowd.Hold(done);
  normal.join();
  const Spread spread = SpreadOf(figures.micros);
  std::printf(
      "normal client: %d requests, %d failed; answered p50 %.2f ms, p99 %.2f ms, max "
      "%.2f ms\n",
      figures.requests, figures.failed, spread.p50_ms, spread.p99_ms, spread.max_ms);
  for (const auto& [why, count] : figures.failures) {
    std::printf("  failed: %s x%d\n", why.c_str(), count);
  }
  std::printf("RESULT normal requests=%d failed=%d answered=%zu %s\n", figures.requests,
              figures.failed, spread.count, SpreadFields(spread).c_str());
  crowd.Report(measuring_from);
  return 0;
}
