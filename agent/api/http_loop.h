#pragma once

// The HTTP server: a few event-loop threads own every connection, so a connection costs a
// socket and a few hundred bytes, not a thread. Each loop is an epoll instance (level-triggered)
// on its own thread; the listening socket is in every loop's epoll (EPOLLEXCLUSIVE) and a
// connection stays with the loop that accepted it.
//
// A request is read whole (head and body) by a RequestReader before anything runs, then:
//  - a route that never blocks (RunsOnLoop: a change for the core, the states, the pages'
//    files, the live stream) runs on the loop thread. A change is posted to the core with the other
//    requests of the same wake-up in one batch (Core::PostBatch), and the core's answers come
//    back to each loop as one batch too (one eventfd write per batch), so the hot path has no
//    thread hand-off or wake-up per request. A stream request hands its socket to the stream hub;
//  - every other route (reports, ledger reads, sessions, reloads) is lent to a pool of blocking
//    workers, which write the answer straight to the socket (bounded by the write deadline)
//    and give the connection back to its loop.
//
// Deadlines, per connection: a request's head and body must arrive within io_timeout from its
// first byte (a client that trickles a byte now and then is cut off, answered 408); an answer
// that makes no progress for io_timeout ends the connection; a connection idle between
// requests is closed after keep_alive, and a new one that sends nothing after io_timeout.
// Connections per client address are limited (max_per_client: over it, 503
// too_many_connections and close), as before.
//
// TLS is Poco's (OpenSSL) on non-blocking sockets, as the stream hub drives it (ViewerSocket),
// which is what lets a TLS connection be handed to the hub. See docs/architecture.md for why
// this is not Boost.Asio (bench/http_loop_compare.md has the measurements).

#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/api/http_api.h"

namespace presence::agent {

// For /metrics; shared by the server and its connections, so it outlives both.
struct ConnectionCounters {
  std::atomic<uint64_t> refused{0};  // over max_per_client, answered 503
  std::atomic<uint64_t> broken{0};   // ended by a network error or a deadline
  std::atomic<int64_t> open{0};      // open now
};

struct LoopServerOptions {
  int loops = 2;     // event-loop threads
  int workers = 16;  // threads for the routes that may block
  std::chrono::seconds io_timeout{10};
  std::chrono::seconds keep_alive{60};
  int max_per_client = 32;  // 0: no limit
  std::string server_name = "presence-agent";
};

class LoopServer {
 public:
  // `socket` is bound and listening; a SecureServerSocket makes every connection TLS with its
  // context. `context` and `counters` must outlive the server (counters may be shared with
  // metrics).
  LoopServer(ApiContext& context, Poco::Net::ServerSocket socket, LoopServerOptions options,
             std::shared_ptr<ConnectionCounters> counters);
  ~LoopServer();  // Stop()
  LoopServer(const LoopServer&) = delete;
  LoopServer& operator=(const LoopServer&) = delete;

  void Start();
  // Stops accepting, closes idle connections, lets requests in flight finish (each bounded by
  // the deadlines above), then closes what is left and joins every thread. Idempotent.
  void Stop();

  struct Stats {
    int64_t open = 0;      // connections open (live streams leave when the hub takes them)
    int busy_workers = 0;  // blocking workers running a handler
    size_t waiting = 0;    // requests waiting for a blocking worker
    uint64_t dropped = 0;  // accepted and closed at once: out of file descriptors
  };
  Stats stats() const;  // thread-safe

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace presence::agent
