// The ingest benchmark: how close does a durable state change over HTTP come to the fastest
// HTTP answer this machine can give?
//  1. plain: a Poco HTTPServer in this process (as many threads as the agent's workers) that
//     answers every request with one small fixed JSON body: the ceiling for any handler here;
//  2. agent: the real `presence-agent serve` on a generated configuration (users u0..u999, one
//     integration token, a fresh data directory), PUT /api/v1/agents/{id}/state, each request a
//     real change (every user alternates Lunch and Break) answered once durable.
// Both are driven the same way: keep-alive connections on loopback from a few client threads
// (epoll, one request in flight per connection), a warm-up, then a fixed measuring time.
// Prints requests/s, p50/p99 latency and the ratio agent/plain. A benchmark, not a test: it
// never fails on a number.
//
// Usage: ingest_bench [PRESENCE_AGENT] [--seconds S] [--connections N] [--threads T]
//                     [--workers W] [--quick]

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/config/config.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct BenchOptions {
  std::string agent_binary = PRESENCE_AGENT_BINARY;
  double seconds = 5;                // measuring time per target
  double warm_up_s = 1;              // before measuring (the agent creates its users then)
  int connections = 50;              // keep-alive connections
  int threads = 2;                   // client threads
  int workers = 64;                  // server threads, both targets
  int users = 1000;                  // u0..u999
  int64_t max_requests = 5'000'000;  // per measurement, whatever the time
};

// ---- The plain server -------------------------------------------------------------------

class FixedReply final : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    std::string ignored;
    Poco::StreamCopier::copyToString(request.stream(), ignored);  // as a real handler would
    static const std::string kBody = R"({"status":"ok"})";
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(kBody.size()));
    response.setKeepAlive(request.getKeepAlive());
    response.send() << kBody;
  }
};

class FixedReplyFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new FixedReply;
  }
};

class PlainServer {
 public:
  explicit PlainServer(int workers)
      : pool_(2, workers + 4),
        socket_(Poco::Net::SocketAddress("127.0.0.1", 0), 1024),
        server_(new FixedReplyFactory, pool_, socket_, Params(workers)) {
    server_.start();
  }
  ~PlainServer() { server_.stopAll(true); }
  uint16_t port() const { return socket_.address().port(); }

 private:
  static Poco::Net::HTTPServerParams::Ptr Params(int workers) {
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(workers);
    params->setMaxQueued(1024);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);  // unlimited
    return params;
  }

  Poco::ThreadPool pool_;
  Poco::Net::ServerSocket socket_;
  Poco::Net::HTTPServer server_;
};

// ---- The agent process ------------------------------------------------------------------

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The sample catalog plus a server block, users u0..u(n-1) and one integration token.
std::string WriteConfig(const std::string& dir, const BenchOptions& options,
                        const std::string& token, const std::string& durability) {
  auto root = Poco::JSON::Parser()
                  .parse(ReadFile(std::string(PRESENCE_SOURCE_DIR) + "/samples/dial-command.json"))
                  .extract<Poco::JSON::Object::Ptr>();
  Poco::JSON::Object::Ptr server = new Poco::JSON::Object;
  server->set("listen", "127.0.0.1:0");
  server->set("data_dir", dir + "/data");
  server->set("workers", options.workers);
  server->set("durability", durability);
  root->set("server", server);
  Poco::JSON::Array::Ptr users = new Poco::JSON::Array;
  for (int i = 0; i < options.users; ++i) {
    Poco::JSON::Object::Ptr user = new Poco::JSON::Object;
    user->set("id", "u" + std::to_string(i));
    user->set("extension", std::to_string(2000 + i));
    users->add(user);
  }
  root->set("users", users);
  Poco::JSON::Object::Ptr entry = new Poco::JSON::Object;
  entry->set("name", "bench");
  entry->set("role", "integration");
  entry->set("sha256", presence::agent::TokenHash(token));
  Poco::JSON::Array::Ptr tokens = new Poco::JSON::Array;
  tokens->add(entry);
  root->set("tokens", tokens);
  std::string path = dir + "/bench.json";
  std::ofstream out(path);
  root->stringify(out);
  return path;
}

// `presence-agent serve -c CONFIG`, its stdout on a pipe, stderr in a file.
class AgentProcess {
 public:
  AgentProcess(const std::string& binary, const std::string& config, const std::string& log) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) dup2(err, STDERR_FILENO);
      close(out[0]);
      close(out[1]);
      execl(binary.c_str(), binary.c_str(), "serve", "-c", config.c_str(), nullptr);
      std::fprintf(stderr, "cannot run %s: %s\n", binary.c_str(), std::strerror(errno));
      _exit(127);
    }
    close(out[1]);
    stdout_ = out[0];
  }

  ~AgentProcess() { Stop(); }

  // The port from the first line, "listening on http://HOST:PORT"; nullopt if none came.
  std::optional<uint16_t> WaitListening(milliseconds timeout) {
    std::string line;
    Clock::time_point deadline = Clock::now() + timeout;
    while (pid_ > 0 && line.find('\n') == std::string::npos && Clock::now() < deadline) {
      pollfd fd{.fd = stdout_, .events = POLLIN};
      if (poll(&fd, 1, 100) <= 0) continue;
      char c[256];
      ssize_t n = read(stdout_, c, sizeof c);
      if (n <= 0) break;
      line.append(c, static_cast<size_t>(n));
    }
    first_line_ = line.substr(0, line.find('\n'));
    size_t colon = first_line_.rfind(':');
    if (first_line_.find("listening on http://") != 0 || colon == std::string::npos) {
      return std::nullopt;
    }
    return static_cast<uint16_t>(std::atoi(first_line_.c_str() + colon + 1));
  }

  const std::string& first_line() const { return first_line_; }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (waitpid(pid_, nullptr, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdout_);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string first_line_;
};

// ---- The load generator -----------------------------------------------------------------

// A complete HTTP/1.1 response at the start of `in`: its length (0 if not complete yet), its
// status and whether the server will close. Content-Length and chunked bodies.
struct Parsed {
  size_t length = 0;
  int status = 0;
  bool close = false;
};

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<size_t> ChunkedEnd(const std::string& in, size_t at) {
  while (true) {
    size_t eol = in.find("\r\n", at);
    if (eol == std::string::npos) return std::nullopt;
    size_t size = std::strtoul(in.c_str() + at, nullptr, 16);
    if (size == 0) {
      size_t end = in.find("\r\n\r\n", eol);  // (no trailers expected)
      if (end == std::string::npos) return std::nullopt;
      return end + 4;
    }
    at = eol + 2 + size + 2;
    if (at > in.size()) return std::nullopt;
  }
}

Parsed ParseResponse(const std::string& in) {
  Parsed parsed;
  size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos || in.size() < 12) return parsed;
  std::string head = Lower(in.substr(0, head_end + 2));
  parsed.status = std::atoi(in.c_str() + 9);
  parsed.close = head.find("\r\nconnection: close") != std::string::npos;
  size_t body = head_end + 4;
  if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    parsed.length = ChunkedEnd(in, body).value_or(0);
    return parsed;
  }
  size_t length_at = head.find("\r\ncontent-length:");
  size_t length = length_at == std::string::npos ? 0 : std::atol(head.c_str() + length_at + 17);
  parsed.length = in.size() >= body + length ? body + length : 0;
  return parsed;
}

struct LoadResult {
  uint64_t ok = 0;
  uint64_t unchanged = 0;                  // ok, but "changes":[] (the load should avoid it)
  std::map<std::string, uint64_t> errors;  // "422", "closed", "connect"
  std::vector<double> latencies_ms;        // of the requests sent while measuring
};

struct LoadPlan {
  uint16_t port = 0;
  std::string token;  // empty: no Authorization header
  int users = 1000;
  Clock::time_point measure_from;
  Clock::time_point until;
  uint64_t max_requests = 0;
};

// One keep-alive connection: its users (u_first, u_first + stride, ...), each alternating
// Lunch and Break so every request is a change.
struct Connection {
  int fd = -1;
  std::string in;
  Clock::time_point sent{};
  int next_user = 0;
  int stride = 1;
  std::map<int, bool> lunch;  // user -> the next label is Lunch
};

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

class LoadThread {
 public:
  // Connections first .. first + count - 1 of `stride` in all.
  LoadThread(const LoadPlan& plan, std::atomic<int64_t>& budget, int first, int count, int stride)
      : plan_(plan), budget_(budget) {
    for (int i = 0; i < count; ++i) {
      connections_.push_back(Connection{.next_user = (first + i) % plan.users, .stride = stride});
    }
  }

  LoadResult Run();

 private:
  bool Send(Connection& c);
  void Receive(Connection& c);
  void Reopen(Connection& c, const std::string& why);
  void Open(Connection& c);

  const LoadPlan& plan_;
  std::atomic<int64_t>& budget_;  // requests left to send, all threads together
  std::vector<Connection> connections_;
  int epoll_ = -1;
  LoadResult result_;
};

bool LoadThread::Send(Connection& c) {
  if (Clock::now() >= plan_.until || budget_.fetch_sub(1) <= 0) return false;
  int user = c.next_user;
  c.next_user = (c.next_user + c.stride) % plan_.users;
  bool lunch = c.lunch.emplace(user, true).first->second;
  c.lunch[user] = !lunch;
  std::string body = std::string(R"({"label":")") + (lunch ? "Lunch" : "Break") + "\"}";
  std::string request =
      "PUT /api/v1/agents/u" + std::to_string(user) + "/state HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
      (plan_.token.empty() ? "" : "Authorization: Bearer " + plan_.token + "\r\n") +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  c.sent = Clock::now();
  // Small requests on loopback: a blocking send completes at once.
  return send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(request.size());
}

void LoadThread::Reopen(Connection& c, const std::string& why) {
  ++result_.errors[why];
  if (c.fd >= 0) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
  }
  c.in.clear();
  c.fd = -1;
  if (Clock::now() >= plan_.until) return;
  Open(c);
}

// Connects and sends the first request; a connection that fails stays closed.
void LoadThread::Open(Connection& c) {
  c.fd = Connect(plan_.port);
  if (c.fd < 0) {
    ++result_.errors["connect"];
    return;
  }
  epoll_event event{.events = EPOLLIN, .data = {.ptr = &c}};
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &event);
  if (!Send(c)) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }
}

void LoadThread::Receive(Connection& c) {
  char buffer[16384];
  ssize_t n = recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return Reopen(c, "closed");
  if (n < 0) return;
  c.in.append(buffer, static_cast<size_t>(n));
  Parsed parsed = ParseResponse(c.in);
  if (parsed.length == 0) return;
  Clock::time_point now = Clock::now();
  if (c.sent >= plan_.measure_from && now <= plan_.until) {
    if (parsed.status / 100 == 2) {
      ++result_.ok;
      std::string_view response = std::string_view(c.in).substr(0, parsed.length);
      if (response.find("\"changes\":[]") != std::string_view::npos) ++result_.unchanged;
      result_.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(now - c.sent).count());
    } else {
      ++result_.errors[std::to_string(parsed.status)];
    }
  }
  c.in.erase(0, parsed.length);
  if (parsed.close) return Reopen(c, "closed by server");
  if (!Send(c) && Clock::now() < plan_.until && budget_.load() > 0) Reopen(c, "send failed");
}

LoadResult LoadThread::Run() {
  epoll_ = epoll_create1(0);
  for (Connection& c : connections_) Open(c);
  epoll_event events[64];
  while (Clock::now() < plan_.until && budget_.load() > 0) {
    int n = epoll_wait(epoll_, events, 64, 50);
    for (int i = 0; i < n; ++i) Receive(*static_cast<Connection*>(events[i].data.ptr));
  }
  for (Connection& c : connections_) {
    if (c.fd >= 0) close(c.fd);
  }
  close(epoll_);
  return std::move(result_);
}

LoadResult RunLoad(uint16_t port, const std::string& token, const BenchOptions& options) {
  LoadPlan plan{.port = port, .token = token, .users = options.users};
  plan.measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(options.warm_up_s));
  plan.until = plan.measure_from + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options.seconds));
  std::atomic<int64_t> budget{options.max_requests};
  std::vector<std::unique_ptr<LoadThread>> threads;
  int stride = options.connections;
  for (int t = 0, first = 0; t < options.threads; ++t) {
    int count = options.connections / options.threads + (t < options.connections % options.threads);
    threads.push_back(std::make_unique<LoadThread>(plan, budget, first, count, stride));
    first += count;
  }
  std::vector<LoadResult> results(threads.size());
  std::vector<std::thread> running;
  for (size_t t = 0; t < threads.size(); ++t) {
    running.emplace_back([&, t] { results[t] = threads[t]->Run(); });
  }
  for (auto& thread : running) thread.join();
  LoadResult total;
  for (LoadResult& r : results) {
    total.ok += r.ok;
    total.unchanged += r.unchanged;
    for (const auto& [why, count] : r.errors) total.errors[why] += count;
    total.latencies_ms.insert(total.latencies_ms.end(), r.latencies_ms.begin(),
                              r.latencies_ms.end());
  }
  return total;
}

// ---- Reporting --------------------------------------------------------------------------

// Requests/s of the measured window; prints one line.
double Print(const char* name, LoadResult& result, const BenchOptions& options) {
  std::vector<double>& l = result.latencies_ms;
  std::sort(l.begin(), l.end());
  double rate = static_cast<double>(result.ok) / options.seconds;
  std::string errors;
  for (const auto& [why, count] : result.errors) {
    errors += (errors.empty() ? "" : ", ") + std::to_string(count) + " " + why;
  }
  if (result.unchanged > 0) {
    errors += (errors.empty() ? "" : ", ") + std::to_string(result.unchanged) + " ok but no change";
  }
  std::printf("%-34s %9.0f requests/s  p50 %6.2f ms  p99 %6.2f ms  (%llu ok%s%s)\n", name, rate,
              l.empty() ? 0.0 : l[l.size() / 2], l.empty() ? 0.0 : l[l.size() * 99 / 100],
              static_cast<unsigned long long>(result.ok),
              errors.empty() ? "" : "; errors: ", errors.c_str());
  std::fflush(stdout);
  return rate;
}

// `durability`: the server.durability setting ("power_loss" or "process_crash").
std::optional<double> MeasureAgent(const BenchOptions& options, const std::string& dir,
                                   const std::string& durability) {
  if (access(options.agent_binary.c_str(), X_OK) != 0) {
    std::printf("agent: %s is not there; build it first (skipped)\n", options.agent_binary.c_str());
    return std::nullopt;
  }
  std::string token = presence::agent::NewToken();
  std::filesystem::remove_all(dir + "/data");  // each run starts from an empty ledger
  std::string config = WriteConfig(dir, options, token, durability);
  AgentProcess agent(options.agent_binary, config, dir + "/agent.log");
  std::optional<uint16_t> port = agent.WaitListening(milliseconds(30000));
  if (!port) {
    std::printf("agent: no 'listening on http://HOST:PORT' line (got '%s'); stderr:\n%s\n",
                agent.first_line().c_str(), ReadFile(dir + "/agent.log").c_str());
    return std::nullopt;
  }
  LoadResult result = RunLoad(*port, token, options);
  const std::string title = "presence-agent PUT (" + durability + "):";
  double rate = Print(title.c_str(), result, options);
  agent.Stop();
  return rate;
}

BenchOptions ParseArgs(int argc, char** argv) {
  BenchOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](double& value) {
      if (i + 1 < argc) value = std::atof(argv[++i]);
    };
    double number = 0;
    if (arg == "--quick") {
      options.seconds = 1;
      options.warm_up_s = 0.5;
    } else if (arg == "--seconds") {
      next(options.seconds);
    } else if (arg == "--connections" || arg == "--threads" || arg == "--workers") {
      next(number);
      int& field = arg == "--connections" ? options.connections
                   : arg == "--threads"   ? options.threads
                                          : options.workers;
      field = std::max(1, static_cast<int>(number));
    } else if (arg == "-h" || arg == "--help") {
      std::printf(
          "usage: ingest_bench [PRESENCE_AGENT] [--seconds S] [--connections N] "
          "[--threads T] [--workers W] [--quick]\n");
      std::exit(0);
    } else {
      options.agent_binary = arg;
    }
  }
  options.seconds = std::clamp(options.seconds, 0.2, 600.0);
  options.threads = std::min(options.threads, options.connections);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options = ParseArgs(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  char pattern[] = "/tmp/presence-ingest-bench-XXXXXX";
  std::string dir = mkdtemp(pattern);
  std::printf(
      "Presence Agent ingest benchmark (%u hardware threads): %d keep-alive connections from %d "
      "client threads, %d server threads, %.1f s each after %.1f s warm-up\n",
      std::thread::hardware_concurrency(), options.connections, options.threads, options.workers,
      options.seconds, options.warm_up_s);
  double plain_rate = 0;
  {
    PlainServer plain(options.workers);
    LoadResult result = RunLoad(plain.port(), "", options);
    plain_rate = Print("plain Poco HTTPServer, fixed JSON:", result, options);
  }
  for (const char* durability : {"power_loss", "process_crash"}) {
    std::optional<double> agent_rate = MeasureAgent(options, dir, durability);
    if (agent_rate && plain_rate > 0) {
      std::printf("ratio agent (%s)/plain: %9.3f\n", durability, *agent_rate / plain_rate);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
