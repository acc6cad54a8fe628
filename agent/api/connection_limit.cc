#include "agent/api/connection_limit.h"

#include <Poco/Exception.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace presence::agent {
namespace {

// How long a refused client is given to take the 503 (and the TLS handshake before it).
constexpr std::chrono::milliseconds kRefusalTime{1000};
// After the 503, what the client has sent so far (its request, usually) is read away, up to
// this much, so that the close is a FIN and not a reset that could discard the answer before
// the client reads it. Nothing is waited for: a refusal must not hold the worker.
constexpr int kRefusalDrainBytes = 64 * 1024;

// Open connections per client address. Shared by the factory and every connection it made.
class Registry {
 public:
  bool Acquire(const std::string& client, int limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    int& open = open_[client];
    if (limit > 0 && open >= limit) return false;
    ++open;
    return true;
  }
  void Release(const std::string& client) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = open_.find(client);
    if (found != open_.end() && --found->second <= 0) open_.erase(found);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int> open_;
};

void SetTimeouts(Poco::Net::StreamSocket& socket, std::chrono::milliseconds timeout) {
  const Poco::Timespan span(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
  socket.setReceiveTimeout(span);
  socket.setSendTimeout(span);
  // Without it a blocked write ends at the send timeout, but Poco's HTTP connection then goes
  // on to the next pipelined request and blocks again; the kernel's abort ends them all.
  const unsigned int milliseconds = static_cast<unsigned int>(timeout.count());
  ::setsockopt(socket.impl()->sockfd(), IPPROTO_TCP, TCP_USER_TIMEOUT, &milliseconds,
               sizeof milliseconds);
}

std::string RefusalResponse(int limit) {
  const std::string body =
      "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"this client address has its "
      "maximum of " +
      std::to_string(limit) +
      " connections open (server.max_connections_per_client); close one or try again later\"}}";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) +
         "\r\nCache-Control: no-store\r\nRetry-After: 5\r\nConnection: close\r\n\r\n" + body;
}

// Answers 503 and closes, without reading the request.
class RefusedConnection final : public Poco::Net::TCPServerConnection {
 public:
  RefusedConnection(const Poco::Net::StreamSocket& socket, int limit)
      : TCPServerConnection(socket), limit_(limit) {}

  void run() override {
    try {
      Poco::Net::StreamSocket& connection = socket();
      SetTimeouts(connection, kRefusalTime);
      const std::string response = RefusalResponse(limit_);
      size_t sent = 0;
      while (sent < response.size()) {
        const int wrote =
            connection.sendBytes(response.data() + sent, static_cast<int>(response.size() - sent));
        if (wrote <= 0) return;
        sent += static_cast<size_t>(wrote);
      }
      connection.shutdownSend();
      char discard[4096];
      int drained = 0;
      while (drained < kRefusalDrainBytes &&
             connection.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) {
        const int got = connection.receiveBytes(discard, sizeof discard);
        if (got <= 0) break;
        drained += got;
      }
    } catch (const Poco::Exception&) {
      // The client has gone or stalled: nothing more is owed to it.
    }
  }

 private:
  const int limit_;
};

// A connection whose peer could not even be named (already reset): closed at once.
class DeadConnection final : public Poco::Net::TCPServerConnection {
 public:
  using TCPServerConnection::TCPServerConnection;
  void run() override {}
};

class CountedConnection final : public Poco::Net::TCPServerConnection {
 public:
  CountedConnection(const Poco::Net::StreamSocket& socket,
                    std::unique_ptr<Poco::Net::TCPServerConnection> inner,
                    std::shared_ptr<Registry> registry, std::string client,
                    std::shared_ptr<ConnectionCounters> counters)
      : TCPServerConnection(socket),
        inner_(std::move(inner)),
        registry_(std::move(registry)),
        client_(std::move(client)),
        counters_(std::move(counters)) {
    ++counters_->open;
  }
  ~CountedConnection() override {
    inner_.reset();  // the socket's other holders go first
    registry_->Release(client_);
    --counters_->open;
  }

  void run() override {
    try {
      Poco::Runnable& served = *inner_;
      served.run();
    } catch (const Poco::Exception&) {
      ++counters_->broken;
      throw;  // as without the wrapper: TCPServerConnection::start reports it
    }
  }

 private:
  std::unique_ptr<Poco::Net::TCPServerConnection> inner_;
  std::shared_ptr<Registry> registry_;
  std::string client_;
  std::shared_ptr<ConnectionCounters> counters_;
};

class ConnectionLimitFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  ConnectionLimitFactory(Poco::Net::TCPServerConnectionFactory::Ptr inner, ConnectionLimits limits,
                         std::shared_ptr<ConnectionCounters> counters)
      : inner_(std::move(inner)),
        limits_(limits),
        counters_(counters ? std::move(counters) : std::make_shared<ConnectionCounters>()),
        registry_(std::make_shared<Registry>()) {}

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    Poco::Net::StreamSocket connection(socket);
    std::string client;
    try {
      client = connection.peerAddress().host().toString();
      SetTimeouts(connection, limits_.io_timeout);
    } catch (const Poco::Exception&) {
      // The client went before it was served (no peer address): a dead connection, not a
      // failure of the agent's, and not worth a log line per occurrence.
      return new DeadConnection(socket);
    }
    if (!registry_->Acquire(client, limits_.max_per_client)) {
      ++counters_->refused;
      return new RefusedConnection(socket, limits_.max_per_client);
    }
    std::unique_ptr<Poco::Net::TCPServerConnection> inner;
    try {
      inner.reset(inner_->createConnection(socket));
    } catch (...) {
      registry_->Release(client);
      throw;
    }
    return new CountedConnection(socket, std::move(inner), registry_, std::move(client), counters_);
  }

 private:
  Poco::Net::TCPServerConnectionFactory::Ptr inner_;
  const ConnectionLimits limits_;
  std::shared_ptr<ConnectionCounters> counters_;
  std::shared_ptr<Registry> registry_;
};

}  // namespace

Poco::Net::TCPServerConnectionFactory::Ptr NewConnectionLimitFactory(
    Poco::Net::TCPServerConnectionFactory::Ptr inner, ConnectionLimits limits,
    std::shared_ptr<ConnectionCounters> counters) {
  return new ConnectionLimitFactory(std::move(inner), limits, std::move(counters));
}

void ClearWorkerTimeouts(Poco::Net::StreamSocket& socket) {
  socket.setReceiveTimeout(Poco::Timespan());
  socket.setSendTimeout(Poco::Timespan());
  const unsigned int system_default = 0;
  ::setsockopt(socket.impl()->sockfd(), IPPROTO_TCP, TCP_USER_TIMEOUT, &system_default,
               sizeof system_default);
}

}  // namespace presence::agent
