// The per-address connection limit and I/O timeouts wrapped around another connection
// factory, on a real Poco TCPServer on loopback: connections over the limit get a JSON 503 and
// are closed, a connection that ends gives its place back, and every served socket carries the
// timeouts.

#include "agent/api/connection_limit.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerParams.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kWait{5000};

// What the wrapped factory saw of the sockets it was given.
struct Seen {
  std::atomic<int64_t> send_timeout_us{0};
  std::atomic<int64_t> receive_timeout_us{0};
  std::atomic<unsigned> user_timeout_ms{0};
};

// Says hello, then serves until the client closes.
class HelloConnection final : public Poco::Net::TCPServerConnection {
 public:
  HelloConnection(const Poco::Net::StreamSocket& socket, Seen& seen)
      : TCPServerConnection(socket), seen_(seen) {}
  void run() override {
    Poco::Net::StreamSocket& connection = socket();
    seen_.send_timeout_us = connection.getSendTimeout().totalMicroseconds();
    seen_.receive_timeout_us = connection.getReceiveTimeout().totalMicroseconds();
    unsigned user_timeout = 0;
    socklen_t size = sizeof user_timeout;
    ::getsockopt(connection.impl()->sockfd(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, &size);
    seen_.user_timeout_ms = user_timeout;
    connection.sendBytes("hello\n", 6);
    connection.setReceiveTimeout(Poco::Timespan(10, 0));
    char buffer[256];
    try {
      while (connection.receiveBytes(buffer, sizeof buffer) > 0) {
      }
    } catch (const Poco::Exception&) {
    }
  }

 private:
  Seen& seen_;
};

class HelloFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit HelloFactory(Seen& seen) : seen_(seen) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new HelloConnection(socket, seen_);
  }

 private:
  Seen& seen_;
};

struct LimitFixture {
  explicit LimitFixture(ConnectionLimits limits) {
    Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams();
    params->setMaxThreads(8);
    server.emplace(NewConnectionLimitFactory(new HelloFactory(seen), limits, counters), listener,
                   params);
    server->start();
  }
  ~LimitFixture() { server->stop(); }

  // A client's first bytes: "hello\n", or the whole refusal once the server has closed.
  std::unique_ptr<testing::RawConnection> Connect(std::string& first) {
    auto client = std::make_unique<testing::RawConnection>(listener.address().port());
    first.clear();
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (first != "hello\n" && std::chrono::steady_clock::now() < deadline) {
      std::optional<std::string> bytes = client->Receive(milliseconds(100));
      if (!bytes) break;  // closed: the refusal is complete
      first += *bytes;
    }
    return client;
  }

  Seen seen;
  std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>();
  Poco::Net::ServerSocket listener{Poco::Net::SocketAddress("127.0.0.1", 0)};
  std::optional<Poco::Net::TCPServer> server;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_limit_test)

BOOST_AUTO_TEST_CASE(connections_over_the_limit_get_a_json_503_until_one_ends) {
  LimitFixture fixture(
      ConnectionLimits{.max_per_client = 2, .io_timeout = std::chrono::seconds(7)});
  std::string first;
  std::vector<std::unique_ptr<testing::RawConnection>> served;
  for (int i = 0; i < 2; ++i) {
    served.push_back(fixture.Connect(first));
    BOOST_REQUIRE_EQUAL(first, "hello\n");
  }
  BOOST_TEST(fixture.counters->open.load() == 2);
  auto refused = fixture.Connect(first);
  BOOST_TEST(first.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), first);
  BOOST_TEST(first.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  BOOST_TEST(first.find("\r\nRetry-After: 5\r\n") != std::string::npos);
  BOOST_TEST(first.find(R"({"error":{"code":"too_many_connections","message":"this client )"
                        R"(address has its maximum of 2 connections open )"
                        R"((server.max_connections_per_client))") != std::string::npos,
             first);
  BOOST_TEST(fixture.counters->refused.load() == 1u);

  // One served client leaves: its place is given back once its connection has ended.
  served.erase(served.begin());
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::unique_ptr<testing::RawConnection> later;
  do {
    later = fixture.Connect(first);
  } while (first != "hello\n" && std::chrono::steady_clock::now() < deadline);
  BOOST_TEST(first == "hello\n");
  // Every served socket had the I/O timeout in all three places.
  BOOST_TEST(fixture.seen.send_timeout_us.load() == 7'000'000);
  BOOST_TEST(fixture.seen.receive_timeout_us.load() == 7'000'000);
  BOOST_TEST(fixture.seen.user_timeout_ms.load() == 7000u);
}

BOOST_AUTO_TEST_CASE(limit_zero_lets_every_connection_through) {
  LimitFixture fixture(
      ConnectionLimits{.max_per_client = 0, .io_timeout = std::chrono::seconds(1)});
  std::string first;
  std::vector<std::unique_ptr<testing::RawConnection>> served;
  for (int i = 0; i < 6; ++i) {
    served.push_back(fixture.Connect(first));
    BOOST_TEST(first == "hello\n");
  }
  BOOST_TEST(fixture.counters->refused.load() == 0u);
  BOOST_TEST(fixture.counters->open.load() == 6);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
