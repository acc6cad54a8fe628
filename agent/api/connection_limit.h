#pragma once

// Limits per client at the connection level, for Poco's TCPServer (which HTTPServer is): a
// TCPServerConnectionFactory that wraps the one making the HTTP connections (Poco's
// HTTPServerConnectionFactory, or any other) and, for every connection a worker thread picks up:
//  - sets the I/O timeout on its socket: a read or a write that makes no progress for that long
//    fails (SO_RCVTIMEO, SO_SNDTIMEO), and the kernel ends a connection whose sent data stays
//    unacknowledged, or whose peer keeps its receive window shut, that long (TCP_USER_TIMEOUT,
//    tcp(7)), so a client that never reads cannot hold a worker in a blocked write;
//  - counts the connections open per client address and, over the limit, answers
//    503 {"error":{"code":"too_many_connections",...}} and closes instead of serving it, so a
//    few slow clients on one address cannot occupy every worker.
// A connection is counted while its worker serves it: a live stream leaves the count when the
// stream hub takes its socket. Connections still queued for a worker are not counted (Poco's
// maxQueued bounds them).
//
// Compose by wrapping: TCPServer(NewConnectionLimitFactory(http_factory, ...), pool, socket,
// params); the wrapped factory makes the connections that are let through.

#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace presence::agent {

struct ConnectionLimits {
  int max_per_client = 32;  // connections served at once per client address; 0: no limit
  std::chrono::seconds io_timeout{10};
};

// For /metrics; shared by the factory and its connections, so it outlives both.
struct ConnectionCounters {
  std::atomic<uint64_t> refused{0};  // over max_per_client, answered 503
  std::atomic<uint64_t> broken{0};   // ended by a network error or an I/O timeout
  std::atomic<int64_t> open{0};      // served by a worker now
};

// `inner` makes the connections let through; `counters` may be shared with metrics.
// A socket handed to the live stream leaves the workers' I/O deadlines behind: the stream
// hub writes without blocking and bounds a slow viewer by bytes (server.viewer_buffer_bytes),
// not by the kernel's abort of a connection that makes no progress for io_timeout_seconds.
void ClearWorkerTimeouts(Poco::Net::StreamSocket& socket);

Poco::Net::TCPServerConnectionFactory::Ptr NewConnectionLimitFactory(
    Poco::Net::TCPServerConnectionFactory::Ptr inner, ConnectionLimits limits,
    std::shared_ptr<ConnectionCounters> counters);

}  // namespace presence::agent
