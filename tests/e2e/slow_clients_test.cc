// End to end: the real `presence-agent serve` with its default configuration while many clients
// hold connections open and send nothing useful: a few hundred that send a request head one
// byte now and then, and idle keep-alive connections that were answered once and stay quiet.
// A normal client must still be answered. This is the slow-client case of issue 16 without the
// timing (bench/slow_clients_bench measures it); a server with one thread per connection
// (server.workers, default 64) cannot pass it, whatever its worker count, once more slow
// clients come than it has workers.
// Clients come from several loopback addresses (all of 127/8 is loopback on Linux), at most
// kPerAddress each, so the per-address limit (server.max_connections_per_client, default 32)
// is not what stops them.

#include <Poco/Exception.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::AgentServer;

constexpr int kPerAddress = 24;      // below server.max_connections_per_client's default (32)
constexpr int kSlow = 240;           // ten addresses' worth; the default has 64 workers
constexpr int kIdle = 48;            // two addresses' worth
constexpr milliseconds kWait{5000};  // bound on setting the crowd up

// A connection from a chosen loopback address to the agent; closed with the object.
class Client {
 public:
  Client(const std::string& from, uint16_t port) : fd_(testing::ConnectFrom(from, port)) {}
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends what the socket takes without waiting; false once the connection is gone.
  bool Send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0 ||
           errno == EAGAIN;
  }

  // Reads until a whole response head and its Content-Length body are in, or `deadline`.
  bool ReadResponse(SteadyClock::time_point deadline) {
    for (;;) {
      const size_t end = received_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t length_at = received_.find("Content-Length: ");
        const size_t length = length_at == std::string::npos || length_at > end
                                  ? 0
                                  : std::stoul(received_.substr(length_at + 16));
        if (received_.size() >= end + 4 + length) return true;
      }
      if (!ReceiveSome(deadline)) return false;
    }
  }

  // Whatever arrived without waiting: "" when nothing did (or the connection is still
  // quiet); the connection's end shows as closed().
  const std::string& Poll() {
    ReceiveSome(SteadyClock::now());
    return received_;
  }

  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

 private:
  bool ReceiveSome(SteadyClock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    pollfd entry{fd_, POLLIN, 0};
    if (closed_ || ::poll(&entry, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) {
      return false;
    }
    char chunk[4096];
    const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(chunk, static_cast<size_t>(got));
    return true;
  }

  int fd_;
  bool closed_ = false;
  std::string received_;
};

std::string Address(int first, int index) {
  return "127.0.0." + std::to_string(first + index / kPerAddress);
}

// The number of connections the kernel has completed on the agent's listening socket that the
// agent has not accepted yet (/proc/net/tcp: for a listening socket, rx_queue is its accept
// queue); nullopt when the socket is not found.
std::optional<unsigned long> AcceptQueue(uint16_t port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  char local[64];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, address, remote, state, queues;
    fields >> slot >> address >> remote >> state >> queues;
    if (address == local && state == "0A") {  // TCP_LISTEN
      return std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
    }
  }
  return std::nullopt;
}

// Sends the next byte of each slow client's never-ending request head, once a second, until
// stopped: each read the agent makes progresses, so no read timeout ends them.
class Trickle {
 public:
  explicit Trickle(std::vector<std::unique_ptr<Client>>& clients)
      : thread_([this, &clients] {
          std::unique_lock<std::mutex> lock(mutex_);
          while (!stop_.wait_for(lock, std::chrono::seconds(1), [this] { return stopped_; })) {
            for (auto& client : clients) client->Send("a");
          }
        }) {}
  ~Trickle() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    stop_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopped_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace

BOOST_AUTO_TEST_SUITE(slow_clients_test)

BOOST_AUTO_TEST_CASE(a_normal_client_is_answered_while_slow_and_idle_clients_hold_connections) {
  rlimit files{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &files) == 0);
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &files) == 0);
  }
  BOOST_REQUIRE_MESSAGE(files.rlim_cur >= kSlow + kIdle + 100,
                        "open files limited to " << files.rlim_cur);
  AgentServer server;  // the default server block: 64 workers, 32 connections per address
  server.Start();
  const auto deadline = SteadyClock::now() + kWait;

  // Idle keep-alive clients: one request each, answered, then quiet.
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<Client>(Address(20, i), server.port()));
    idle.back()->Send("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }
  for (auto& client : idle) {
    BOOST_REQUIRE_MESSAGE(client->ReadResponse(deadline), "an idle client had no answer");
    BOOST_REQUIRE_MESSAGE(client->received().rfind("HTTP/1.1 200", 0) == 0,
                          client->received().substr(0, 200));
  }

  // Slow clients: a request head that never ends, a byte now and then.
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<Client>(Address(10, i), server.port()));
    slow.back()->Send("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
  }
  Trickle trickle(slow);
  // Every one of them accepted by the agent (the kernel's accept queue emptied), so the normal
  // client's connection comes after them all.
  std::optional<unsigned long> queued;
  while ((queued = AcceptQueue(server.port())).value_or(0) > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));  // nothing to wait on: look again soon
  }
  BOOST_REQUIRE_MESSAGE(queued.has_value(), "the agent's listening socket is not in /proc/net/tcp");
  BOOST_REQUIRE_MESSAGE(*queued == 0, *queued << " connections still not accepted");

  // A normal client: a change and a read, each within the client's usual 10 s.
  const auto started = SteadyClock::now();
  testing::HttpClient http(server.port());
  try {
    testing::HttpResponse put =
        http.Put("/api/v1/agents/1001/state", server.tokens().integration, R"({"label": "Lunch"})");
    BOOST_TEST(put.status == 200, put.body);
    testing::HttpResponse get = http.Get("/api/v1/agents/1001", server.tokens().supervisor);
    BOOST_TEST(get.status == 200, get.body);
    BOOST_TEST(get.Json()->getObject("state")->getValue<std::string>("label") == "Lunch");
  } catch (const Poco::Exception& e) {
    BOOST_ERROR("the normal client had no answer while "
                << kSlow << " slow and " << kIdle
                << " idle clients held connections: " << e.displayText());
  }
  BOOST_TEST_MESSAGE(
      "the normal client's two requests took "
      << std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started).count() << " ms");

  // None of the others was turned away for its address (the limit is per address, and each
  // address stayed under it). A slow one the agent ends for taking too long is its right.
  int refused = 0;
  for (auto* group : {&slow, &idle}) {
    for (auto& client : *group) {
      if (client->Poll().find("too_many_connections") != std::string::npos) ++refused;
    }
  }
  BOOST_TEST(refused == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
