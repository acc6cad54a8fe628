#pragma once

// Small pieces shared by the connection benchmarks (stream_latency_bench, slow_clients_bench):
// plain HTTP/1.1 over loopback sockets from chosen source addresses (all of 127/8 is loopback
// on Linux, so many client addresses can be played from one machine), a response reader fed
// by whatever bytes arrive, latency figures. Only the agent's public HTTP API is used.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace presence::bench {

using Clock = std::chrono::steady_clock;

// Raises the soft limit on open files to the hard limit; returns the limit now in force.
size_t RaiseFileLimit();

// The source address of the index-th connection when each address carries `per_address`
// connections: 127.<block>.x.y, counting up from 127.<block>.0.1.
std::string SourceAddress(int block, size_t index, size_t per_address);

// A TCP socket bound to `source` and connecting to 127.0.0.1:port, TCP_NODELAY. Non-blocking
// sockets return while the connection is in progress. -1 on failure (errno set).
int ConnectFrom(const std::string& source, uint16_t port, bool nonblocking);

// Writes all of `bytes` to a blocking socket; false on failure.
bool SendAll(int fd, std::string_view bytes);
// Writes what the socket takes now (non-blocking); the number of bytes written, -1 on error.
ssize_t SendSome(int fd, std::string_view bytes);

struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

// Reads HTTP/1.1 responses from bytes fed as they arrive: Content-Length or chunked bodies
// (a response without either is taken to have none, as the agent answers with one of them).
class ResponseReader {
 public:
  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete response, nullopt while it is incomplete.
  std::optional<Response> Take();
  bool empty() const { return buffer_.empty(); }

 private:
  std::string buffer_;
};

// The text of a request: the agent's host, a bearer token when given, a JSON body when given.
std::string RequestText(const std::string& method, const std::string& path,
                        const std::string& token, const std::string& body = "");

// One request on a fresh blocking connection from 127.0.0.1, answer read within `timeout`.
std::optional<Response> Fetch(uint16_t port, const std::string& method, const std::string& path,
                              const std::string& token, const std::string& body = "",
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The selectable labels of the catalog (GET /api/v1/states), in its order.
std::vector<std::string> SelectableLabels(uint16_t port, const std::string& token);

// Latency figures of samples in microseconds.
struct Spread {
  size_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};
Spread SpreadOf(std::vector<int64_t> micros);
// "p50_ms=.. p99_ms=.. max_ms=..", with empty values when there were no samples (a RESULT
// line's figures: serve_bench.sh shows n/a for them).
std::string SpreadFields(const Spread& spread);

int64_t MicrosSince(Clock::time_point start, Clock::time_point end);

// Reads `--name value` options: the value after `name`, or `fallback`.
class Arguments {
 public:
  Arguments(int argc, char** argv) : args_(argv + 1, argv + argc) {}
  std::string Text(const std::string& name, const std::string& fallback) const;
  long Number(const std::string& name, long fallback) const;
  double Real(const std::string& name, double fallback) const;
  bool Has(const std::string& name) const;

 private:
  std::vector<std::string> args_;
};

}  // namespace presence::bench
