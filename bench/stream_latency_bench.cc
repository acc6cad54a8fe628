// The live-stream benchmark: how long after a change is made do its viewers have it?
// Against a running `presence-agent serve` (serve_bench.sh starts one):
//  - V viewers (default 1,000) follow the SSE stream (GET /api/v1/stream), all read by one
//    epoll thread, spread over loopback source addresses (--per-address each, so the agent's
//    per-address connection limit is not what is measured);
//  - a driver thread makes R changes/s (default 100) with PUT /api/v1/agents/{id}/state on a
//    few keep-alive connections of its own, each a real change (rotating over the users, each
//    to another label than the one it has), paced by the clock, for S seconds;
//  - every viewer matches each update to the change by user and label and records the time
//    from the PUT being sent to the update being read.
// Prints p50/p99/max over every (change, viewer) pair, updates missed, and a RESULT line for
// serve_bench.sh. A benchmark, not a test: it never fails on a number.
//
// Usage: stream_latency_bench --port P --token T [--users N] [--user-prefix u] [--viewers V]
//                             [--rate R] [--seconds S] [--per-address A] [--driver-connections D]

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/loopback_client.h"

namespace {

using namespace presence::bench;

struct Options {
  uint16_t port = 0;
  std::string token;
  int users = 1000;
  std::string user_prefix = "u";
  int viewers = 1000;
  double rate = 100;
  double seconds = 10;
  size_t per_address = 30;
  int driver_connections = 8;
  double grace_seconds = 3;  // after the last change, for updates still on their way
};

// One change the driver makes: its user and label, when its PUT was sent and answered.
struct Change {
  int user = 0;
  int label = 0;
  Clock::time_point sent;
  std::atomic<int> status{0};
  int seen = 0;  // viewers that read its update (the viewer thread's)
};

struct Shared {
  explicit Shared(const Options& options)
      : changes(static_cast<size_t>(options.rate * options.seconds) + 1),
        latest(static_cast<size_t>(options.users)) {
    for (auto& index : latest) index.store(-1);
  }
  std::vector<Change> changes;
  std::vector<std::atomic<int>> latest;  // per user: the index of its last change sent
  std::atomic<int> made{0};              // changes sent so far
  std::atomic<bool> driver_done{false};
  std::atomic<int> late{0};  // changes sent more than 5 ms after their time (no free connection)
};

// ---- The driver -------------------------------------------------------------------------

class Driver {
 public:
  Driver(const Options& options, Shared& shared, std::vector<std::string> labels,
         std::vector<int> current)
      : options_(options),
        shared_(shared),
        labels_(std::move(labels)),
        current_(std::move(current)) {}

  void Run() {
    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Connection> connections(static_cast<size_t>(options_.driver_connections));
    for (size_t i = 0; i < connections.size(); ++i) {
      connections[i].fd = ConnectFrom("127.0.0.1", options_.port, false);
      if (connections[i].fd < 0) {
        std::fprintf(stderr, "driver: cannot connect: %s\n", std::strerror(errno));
        std::exit(1);
      }
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = i;
      ::epoll_ctl(epoll, EPOLL_CTL_ADD, connections[i].fd, &event);
    }
    const auto start = Clock::now();
    const auto interval = std::chrono::duration<double>(1.0 / options_.rate);
    const int total = static_cast<int>(shared_.changes.size());
    // Answers still missing this long after the last change are given up on (counted as
    // not answered).
    const auto give_up = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(options_.seconds + 30));
    int next = 0;
    int in_flight = 0;
    while ((next < total || in_flight > 0) && Clock::now() < give_up) {
      const auto now = Clock::now();
      while (next < total) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * next);
        if (due > now) break;
        auto free = std::find_if(connections.begin(), connections.end(),
                                 [](const Connection& c) { return c.change < 0; });
        if (free == connections.end()) break;
        if (now - due > std::chrono::milliseconds(5)) shared_.late.fetch_add(1);
        Send(*free, next++);
        ++in_flight;
      }
      int wait_ms = 100;
      if (next < total) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * next);
        wait_ms = static_cast<int>(std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count()));
      }
      epoll_event ready[16];
      const int count = ::epoll_wait(epoll, ready, 16, wait_ms);
      for (int i = 0; i < count; ++i) {
        Connection& connection = connections[ready[i].data.u64];
        char chunk[65536];
        const ssize_t got = ::recv(connection.fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (got <= 0) {
          if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          // Closed by the agent: the change in flight (if any) counts as not answered, and a
          // new connection takes its place.
          if (connection.change >= 0) {
            shared_.changes[static_cast<size_t>(connection.change)].status.store(-1);
            connection.change = -1;
            --in_flight;
          }
          ++reconnects_;
          ::epoll_ctl(epoll, EPOLL_CTL_DEL, connection.fd, nullptr);
          ::close(connection.fd);
          connection.reader = ResponseReader();
          connection.fd = ConnectFrom("127.0.0.1", options_.port, false);
          if (connection.fd < 0) {
            std::fprintf(stderr, "driver: cannot reconnect: %s\n", std::strerror(errno));
            std::exit(1);
          }
          epoll_event event{};
          event.events = EPOLLIN;
          event.data.u64 = ready[i].data.u64;
          ::epoll_ctl(epoll, EPOLL_CTL_ADD, connection.fd, &event);
          continue;
        }
        connection.reader.Feed(std::string_view(chunk, static_cast<size_t>(got)));
        while (std::optional<Response> answer = connection.reader.Take()) {
          if (connection.change >= 0) {
            shared_.changes[static_cast<size_t>(connection.change)].status.store(answer->status);
            connection.change = -1;
            --in_flight;
          }
        }
      }
    }
    for (Connection& connection : connections) ::close(connection.fd);
    ::close(epoll);
    if (reconnects_ > 0) std::printf("driver: %d connections closed by the agent\n", reconnects_);
    shared_.driver_done.store(true);
  }

 private:
  struct Connection {
    int fd = -1;
    int change = -1;  // the change whose answer is awaited
    ResponseReader reader;
  };

  void Send(Connection& connection, int index) {
    Change& change = shared_.changes[static_cast<size_t>(index)];
    change.user = index % options_.users;
    int& label = current_[static_cast<size_t>(change.user)];
    label = (label + 1) % static_cast<int>(labels_.size());  // never the label it has
    change.label = label;
    const std::string body = R"({"label": ")" + labels_[static_cast<size_t>(label)] + "\"}";
    const std::string request = RequestText(
        "PUT", "/api/v1/agents/" + options_.user_prefix + std::to_string(change.user) + "/state",
        options_.token, body);
    change.sent = Clock::now();
    shared_.latest[static_cast<size_t>(change.user)].store(index, std::memory_order_release);
    shared_.made.store(index + 1, std::memory_order_release);
    connection.change = index;
    // A failed send means the connection is gone: its end shows in the epoll loop, which counts
    // the change as not answered and reconnects.
    SendAll(connection.fd, request);
  }

  const Options& options_;
  Shared& shared_;
  std::vector<std::string> labels_;
  std::vector<int> current_;  // per user: the index of its label now
  int reconnects_ = 0;
};

// ---- The viewers ------------------------------------------------------------------------

struct Viewer {
  int fd = -1;
  enum class Phase { kConnecting, kHead, kStream, kClosed } phase = Phase::kConnecting;
  std::string buffer;
  bool has_snapshot = false;
  int status = 0;
  uint64_t last_seq = 0;
  size_t gaps = 0;  // updates skipped in seq (missing from what this viewer read)
};

// What an update message says: its seq, user and label (fast path on the agent's JSON, a full
// parse when the text is laid out otherwise).
struct Update {
  std::string type;
  uint64_t seq = 0;
  std::string user;
  std::string label;
};

std::optional<std::string> StringAfter(std::string_view text, std::string_view key, size_t from) {
  const size_t at = text.find(key, from);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t start = at + key.size();
  const size_t end = text.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(text.substr(start, end - start));
}

std::optional<Update> ReadUpdate(std::string_view data) {
  Update update;
  const size_t seq_at = data.find("\"seq\":");
  const size_t agent_at = data.find("\"agent\":{");
  if (data.find("\"type\":\"agent\"") != std::string_view::npos &&
      seq_at != std::string_view::npos && agent_at != std::string_view::npos) {
    update.type = "agent";
    update.seq = std::strtoull(data.data() + seq_at + 6, nullptr, 10);
    auto user = StringAfter(data, "\"id\":\"", agent_at);
    const size_t state_at = data.find("\"state\":{", agent_at);
    auto label = state_at == std::string_view::npos ? std::nullopt
                                                    : StringAfter(data, "\"label\":\"", state_at);
    if (user && label && user->find('\\') == std::string::npos &&
        label->find('\\') == std::string::npos) {
      update.user = *user;
      update.label = *label;
      return update;
    }
  }
  try {
    Poco::JSON::Object::Ptr json =
        Poco::JSON::Parser().parse(std::string(data)).extract<Poco::JSON::Object::Ptr>();
    update.type = json->getValue<std::string>("type");
    update.seq = json->getValue<uint64_t>("seq");
    if (update.type == "agent") {
      Poco::JSON::Object::Ptr agent = json->getObject("agent");
      update.user = agent->getValue<std::string>("id");
      if (!agent->isNull("state")) {
        update.label = agent->getObject("state")->getValue<std::string>("label");
      }
    }
    return update;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class ViewerLoop {
 public:
  ViewerLoop(const Options& options, Shared& shared, const std::vector<std::string>& labels)
      : options_(options),
        shared_(shared),
        labels_(labels),
        epoll_(::epoll_create1(EPOLL_CLOEXEC)),
        viewers_(static_cast<size_t>(options.viewers)) {}

  // Connects every viewer, at most 100 waiting for their snapshot at a time. False when not
  // all of them had their snapshot within the time allowed.
  bool Connect(std::chrono::seconds allowed) {
    const auto deadline = Clock::now() + allowed;
    const std::string request =
        "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: text/event-stream\r\nAuthorization: Bearer " +
        options_.token + "\r\n\r\n";
    request_ = request;
    size_t opened = 0;
    while (Clock::now() < deadline) {
      const size_t waiting = opened - snapshots_ - closed_;
      for (size_t n = waiting; n < 100 && opened < viewers_.size(); ++n, ++opened) {
        Viewer& viewer = viewers_[opened];
        viewer.fd =
            ConnectFrom(SourceAddress(1, opened, options_.per_address), options_.port, true);
        if (viewer.fd < 0) {
          std::fprintf(stderr, "viewer %zu: cannot connect: %s\n", opened, std::strerror(errno));
          viewer.phase = Viewer::Phase::kClosed;
          ++closed_;
          continue;
        }
        epoll_event event{};
        event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        event.data.u64 = opened;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, viewer.fd, &event);
      }
      if (snapshots_ + closed_ == viewers_.size()) break;
      Poll(100);
    }
    return snapshots_ == viewers_.size();
  }

  // The snapshot the first viewer read (users' labels now), for the driver to start from.
  std::vector<int> CurrentLabels() const {
    std::vector<int> current(static_cast<size_t>(options_.users), -1);
    try {
      Poco::JSON::Object::Ptr json =
          Poco::JSON::Parser().parse(first_snapshot_).extract<Poco::JSON::Object::Ptr>();
      Poco::JSON::Array::Ptr agents = json->getArray("agents");
      for (size_t i = 0; i < agents->size(); ++i) {
        Poco::JSON::Object::Ptr agent = agents->getObject(static_cast<unsigned>(i));
        const int user = UserIndex(agent->getValue<std::string>("id"));
        if (user < 0 || agent->isNull("state")) continue;
        current[static_cast<size_t>(user)] =
            LabelIndex(agent->getObject("state")->getValue<std::string>("label"));
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cannot read the snapshot: %s\n", e.what());
    }
    return current;
  }

  // Reads until the driver is done and every viewer has every change, or the grace time after
  // the driver passed.
  void Follow() {
    std::optional<Clock::time_point> grace_end;
    for (;;) {
      Poll(20);
      if (!shared_.driver_done.load()) continue;
      if (!grace_end) {
        grace_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options_.grace_seconds));
      }
      if (Clock::now() >= *grace_end || AllSeen()) break;
    }
  }

  void Report() const {
    const int made = shared_.made.load();
    int answered = 0;
    int64_t missed = 0;
    const size_t live = LiveViewers();
    for (int i = 0; i < made; ++i) {
      const Change& change = shared_.changes[static_cast<size_t>(i)];
      if (change.status.load() != 200) continue;
      ++answered;
      missed += static_cast<int64_t>(live) - change.seen;
    }
    size_t gaps = 0;
    for (const Viewer& viewer : viewers_) gaps += viewer.gaps;
    const Spread spread = SpreadOf(latencies_);
    std::printf("stream: %d viewers connected, %zu still connected at the end\n",
                static_cast<int>(snapshots_), live);
    std::printf(
        "changes: %d made at %.0f/s, %d answered 200, %d sent late (no free driver "
        "connection within 5 ms)\n",
        made, options_.rate, answered, shared_.late.load());
    std::printf(
        "change-to-viewer (PUT sent -> update read): %zu updates, p50 %.2f ms, p99 %.2f "
        "ms, max %.2f ms\n",
        spread.count, spread.p50_ms, spread.p99_ms, spread.max_ms);
    std::printf(
        "missed updates: %lld (of %lld expected; seq gaps seen %zu, updates matching no "
        "change %zu)\n",
        static_cast<long long>(missed), static_cast<long long>(answered) * live, gaps, unmatched_);
    std::printf("RESULT stream viewers=%zu live=%zu changes=%d answered=%d missed=%lld %s\n",
                snapshots_, live, made, answered, static_cast<long long>(missed),
                SpreadFields(spread).c_str());
  }

 private:
  int UserIndex(const std::string& id) const {
    if (id.rfind(options_.user_prefix, 0) != 0) return -1;
    const std::string number = id.substr(options_.user_prefix.size());
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) return -1;
    const long index = std::strtol(number.c_str(), nullptr, 10);
    return index < options_.users ? static_cast<int>(index) : -1;
  }

  int LabelIndex(const std::string& label) const {
    auto at = std::find(labels_.begin(), labels_.end(), label);
    return at == labels_.end() ? -1 : static_cast<int>(at - labels_.begin());
  }

  size_t LiveViewers() const {
    return static_cast<size_t>(std::count_if(viewers_.begin(), viewers_.end(), [](const Viewer& v) {
      return v.phase == Viewer::Phase::kStream;
    }));
  }

  bool AllSeen() const {
    const int made = shared_.made.load();
    const int live = static_cast<int>(LiveViewers());
    for (int i = 0; i < made; ++i) {
      const Change& change = shared_.changes[static_cast<size_t>(i)];
      if (change.status.load() == 200 && change.seen < live) return false;
    }
    return true;
  }

  void Close(Viewer& viewer) {
    if (viewer.phase == Viewer::Phase::kClosed) return;
    if (!viewer.has_snapshot) ++closed_;
    viewer.phase = Viewer::Phase::kClosed;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, viewer.fd, nullptr);
    ::close(viewer.fd);
  }

  void Poll(int timeout_ms) {
    epoll_event ready[256];
    const int count = ::epoll_wait(epoll_, ready, 256, timeout_ms);
    for (int i = 0; i < count; ++i) {
      Viewer& viewer = viewers_[ready[i].data.u64];
      if (viewer.phase == Viewer::Phase::kConnecting && (ready[i].events & EPOLLOUT) != 0) {
        int error = 0;
        socklen_t size = sizeof error;
        ::getsockopt(viewer.fd, SOL_SOCKET, SO_ERROR, &error, &size);
        if (error != 0 || SendSome(viewer.fd, request_) != static_cast<ssize_t>(request_.size())) {
          Close(viewer);
          continue;
        }
        viewer.phase = Viewer::Phase::kHead;
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.u64 = ready[i].data.u64;
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, viewer.fd, &event);
      }
      if ((ready[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) Read(viewer);
    }
  }

  void Read(Viewer& viewer) {
    static char chunk[1 << 18];
    for (;;) {
      const ssize_t got = ::recv(viewer.fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (got <= 0) {
        Close(viewer);
        return;
      }
      const auto now = Clock::now();
      viewer.buffer.append(chunk, static_cast<size_t>(got));
      if (viewer.phase == Viewer::Phase::kHead) {
        const size_t end = viewer.buffer.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        viewer.status = std::atoi(viewer.buffer.c_str() + viewer.buffer.find(' ') + 1);
        if (viewer.status != 200) {
          std::fprintf(stderr, "viewer: status %d: %s\n", viewer.status,
                       viewer.buffer.substr(0, 300).c_str());
          Close(viewer);
          return;
        }
        viewer.buffer.erase(0, end + 4);
        viewer.phase = Viewer::Phase::kStream;
      }
      TakeBlocks(viewer, now);
    }
  }

  // Each complete "...\n\n" block: its data lines are one message.
  void TakeBlocks(Viewer& viewer, Clock::time_point now) {
    size_t start = 0;
    for (;;) {
      const size_t end = viewer.buffer.find("\n\n", start);
      if (end == std::string::npos) break;
      std::string data;
      size_t line = start;
      while (line < end) {
        size_t line_end = viewer.buffer.find('\n', line);
        if (line_end == std::string::npos || line_end > end) line_end = end;
        std::string_view text(viewer.buffer.data() + line, line_end - line);
        if (text.rfind("data:", 0) == 0) {
          text.remove_prefix(text.size() > 5 && text[5] == ' ' ? 6 : 5);
          if (!data.empty()) data += '\n';
          data.append(text);
        }
        line = line_end + 1;
      }
      if (!data.empty()) Message(viewer, data, now);
      start = end + 2;
    }
    viewer.buffer.erase(0, start);
  }

  void Message(Viewer& viewer, const std::string& data, Clock::time_point now) {
    if (!viewer.has_snapshot) {
      viewer.has_snapshot = true;
      ++snapshots_;
      if (first_snapshot_.empty()) first_snapshot_ = data;
      const size_t seq_at = data.find("\"seq\":");
      if (seq_at != std::string::npos) {
        viewer.last_seq = std::strtoull(data.c_str() + seq_at + 6, nullptr, 10);
      }
      return;
    }
    std::optional<Update> update = ReadUpdate(data);
    if (!update || update->type != "agent") return;
    if (viewer.last_seq != 0 && update->seq > viewer.last_seq + 1) {
      viewer.gaps += update->seq - viewer.last_seq - 1;
    }
    viewer.last_seq = update->seq;
    const int user = UserIndex(update->user);
    const int index =
        user < 0 ? -1 : shared_.latest[static_cast<size_t>(user)].load(std::memory_order_acquire);
    if (index < 0 ||
        shared_.changes[static_cast<size_t>(index)].label != LabelIndex(update->label)) {
      ++unmatched_;
      return;
    }
    Change& change = shared_.changes[static_cast<size_t>(index)];
    ++change.seen;
    latencies_.push_back(MicrosSince(change.sent, now));
  }

  const Options& options_;
  Shared& shared_;
  const std::vector<std::string>& labels_;
  int epoll_;
  std::vector<Viewer> viewers_;
  std::string request_;
  size_t snapshots_ = 0;
  size_t closed_ = 0;  // before their snapshot
  size_t unmatched_ = 0;
  std::string first_snapshot_;
  std::vector<int64_t> latencies_;
};

}  // namespace

int main(int argc, char** argv) {
  Arguments args(argc, argv);
  Options options;
  options.port = static_cast<uint16_t>(args.Number("--port", 0));
  options.token = args.Text("--token", "");
  options.users = static_cast<int>(args.Number("--users", options.users));
  options.user_prefix = args.Text("--user-prefix", options.user_prefix);
  options.viewers = static_cast<int>(args.Number("--viewers", options.viewers));
  options.rate = args.Real("--rate", options.rate);
  options.seconds = args.Real("--seconds", options.seconds);
  options.per_address = static_cast<size_t>(args.Number("--per-address", 30));
  options.driver_connections =
      static_cast<int>(args.Number("--driver-connections", options.driver_connections));
  if (options.port == 0 || options.token.empty() || options.users < 1 || options.viewers < 1 ||
      options.rate <= 0 || options.seconds <= 0) {
    std::fprintf(stderr,
                 "usage: stream_latency_bench --port P --token T [--users N] [--user-prefix u] "
                 "[--viewers V] [--rate R] [--seconds S] [--per-address A] "
                 "[--driver-connections D]\n");
    return 2;
  }
  const size_t files = RaiseFileLimit();
  std::printf(
      "stream_latency_bench: %d viewers (SSE, one epoll thread, %zu per source address), "
      "%.0f changes/s for %.0f s over users %s0..%s%d; open files limit %zu\n",
      options.viewers, options.per_address, options.rate, options.seconds,
      options.user_prefix.c_str(), options.user_prefix.c_str(), options.users - 1, files);
  const std::vector<std::string> labels = SelectableLabels(options.port, options.token);
  if (labels.size() < 2) {
    std::fprintf(stderr, "cannot read two selectable labels from GET /api/v1/states\n");
    return 1;
  }
  Shared shared(options);
  ViewerLoop viewers(options, shared, labels);
  const auto connect_start = Clock::now();
  const bool connected = viewers.Connect(std::chrono::seconds(60));
  std::printf("viewers connected with their snapshot in %.2f s%s\n",
              MicrosSince(connect_start, Clock::now()) / 1e6,
              connected ? "" : " (NOT all of them: see above)");
  std::fflush(stdout);
  Driver driver(options, shared, labels, viewers.CurrentLabels());
  std::thread driving([&driver] { driver.Run(); });
  // The viewers' thread's own CPU use while following: near a whole core, the figures would be
  // this client's limit rather than the agent's.
  timespec cpu_start{}, cpu_end{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_start);
  const auto follow_start = Clock::now();
  viewers.Follow();
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_end);
  const double wall = MicrosSince(follow_start, Clock::now()) / 1e6;
  const double cpu = static_cast<double>(cpu_end.tv_sec - cpu_start.tv_sec) +
                     static_cast<double>(cpu_end.tv_nsec - cpu_start.tv_nsec) / 1e9;
  driving.join();
  viewers.Report();
  std::printf(
      "the viewers' thread (this benchmark) used %.1f s of CPU in %.1f s (%.0f%% of a "
      "core)\n",
      cpu, wall, wall > 0 ? 100 * cpu / wall : 0.0);
  return 0;
}
