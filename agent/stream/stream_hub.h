#pragma once

// Live stream to supervisors' dashboards, integrations and agents' own softphones, Server-Sent
// Events and WebSocket, without a thread per viewer: one I/O thread owns every viewer's socket
// (epoll), each viewer has a bounded outgoing buffer, and a viewer that falls further behind
// than that is disconnected so it never delays the others or the core.
//
// Protocol (both transports carry the same JSON messages):
//   {"type":"snapshot","epoch":"<e>","seq":N,"agents":[<agent view>...]}   first, and after a
//                                                                          resume that is too old
//   {"type":"agent","epoch":"<e>","seq":N,"agent":<agent view>}            every update after it
// SSE frames each message as "id: <e>-<N>\nevent: snapshot|agent\ndata: <json>\n\n" and sends
// ": keepalive\n\n" when idle; WebSocket sends each as one text frame and pings when idle.
// A client that reconnects with its last id ("<e>-<N>": SSE Last-Event-ID, or ?since=) gets
// only what it missed when the hub still holds it (same epoch, within the history), otherwise a
// fresh snapshot. <e> changes with every process start.
//
// A viewer limited to one user (an agent's own softphone) gets a snapshot holding only that
// user (an empty list before its first state) and only that user's updates. The seq numbers
// stay the hub's: the others' updates are skipped, not renumbered, so a gap in seq is normal
// for such a viewer and resuming from its last id works as for anyone.
//
// Why the framing is written here: an SSE event is a few "field: value" lines and a blank line
// (WHATWG HTML, server-sent events), and neither Poco nor cpprestsdk has a server-side writer
// for it; the hub also writes to each viewer's non-blocking socket from its epoll thread rather
// than through an HTTPServerResponse stream. WebSocket: see websocket_protocol.h.

#include <Poco/Net/StreamSocket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/core.h"
#include "common/log.h"
#include "common/monotonic_clock.h"
#include "common/result.h"

namespace presence::agent {

struct StreamHubOptions {
  int max_viewers = 5000;
  // Bytes a viewer may have queued but unsent before it is dropped as too slow. The first
  // response (head, then snapshot or missed updates) does not count against it while unsent.
  size_t viewer_buffer_bytes = 1 << 20;
  size_t history = 10000;  // updates kept for resuming viewers
  // Memory the kept updates may take; the oldest go first when it is exceeded. Each counts as
  // the user's state it holds, and once a viewer has needed its message, three times its JSON
  // text plus 128 bytes more (the text and its SSE and WebSocket framings).
  size_t history_bytes = 16 << 20;
  std::chrono::milliseconds keepalive{15000};
};

class StreamHub {
 public:
  enum class Kind { kSse, kWebSocket };
  // JSON text of one user's view (see agent_view.h). Called on the hub thread.
  using Formatter = std::function<std::string(const AgentState&)>;
  // The core's latest snapshot. Called on the hub thread.
  using SnapshotSource = std::function<std::shared_ptr<const Snapshot>()>;
  // level: "info", "warning", "error". Called on the hub thread.

  // Keep-alives and lingering closes run on `clock`, which is borrowed and must outlive the
  // hub. The callbacks are called until Stop returns; an empty `log` logs nothing.
  StreamHub(StreamHubOptions options, Formatter formatter, SnapshotSource snapshots,
            LogSink log = {}, const MonotonicClock& clock = MonotonicClock::Steady());
  ~StreamHub();  // Stop()
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  Status Start();  // starts the I/O thread
  void Stop();     // closes every viewer and joins; idempotent

  // Takes over a connection whose HTTP request has been read and whose socket the request
  // handler detached: plain TCP, or TLS when it is a SecureStreamSocket with its handshake done
  // (see viewer_socket.h; the process must then ignore SIGPIPE). Writes the response itself:
  // for kSse a 200 text/event-stream head, for kWebSocket the 101 handshake for `websocket_key`
  // (the client's Sec-WebSocket-Key); with max_viewers reached, a 503 JSON error instead.
  // `resume` is "<epoch>-<seq>" or empty. `only_agent` limits the viewer to that user's view;
  // empty means every user. Thread-safe; returns at once (the hub thread does the writing).
  void Add(Poco::Net::StreamSocket socket, Kind kind, std::string websocket_key, std::string resume,
           std::string only_agent = {});

  // The same, for a viewer opened with a token (`owner`: its hash) so CloseOwners can end it.
  // With `claimed`, the viewer holds a Claim on its owner, given back when the viewer ends
  // (or at once, if it is never served).
  struct Owner {
    std::string token_hash;
    bool claimed = false;
  };
  void Add(Poco::Net::StreamSocket socket, Kind kind, std::string websocket_key, std::string resume,
           std::string only_agent, Owner owner);

  // Streams per owner: claims one of `limit` for `owner`; false when it holds them all. Each
  // successful Claim is given back by the viewer Added with it, or by Unclaim when no viewer is
  // Added. Thread-safe.
  bool Claim(const std::string& owner, size_t limit);
  void Unclaim(const std::string& owner);

  // Ends every stream opened by these owners (tokens a reload removed), including viewers
  // Added before this call and not yet served: SSE viewers are closed, WebSocket viewers get a
  // close frame 1008 (policy violation) first (RFC 6455 7.4.1). Thread-safe; returns at once.
  void CloseOwners(std::vector<std::string> owners);

  // Core thread, once per commit: queues the updates. Never blocks on viewers. Updates
  // published before Start wait in the queue for it; after Stop they are ignored. The hub
  // keeps its own references to the states (AgentUpdate::state); `updates` may go away when
  // Publish returns.
  void Publish(const std::vector<AgentUpdate>& updates);

  size_t viewers() const { return viewers_.load(); }
  uint64_t dropped_slow() const { return dropped_slow_.load(); }  // disconnected for lagging
  const std::string& epoch() const { return epoch_; }

  // Exceptions the hub caught where it expects none, each also logged, by where it caught
  // them: "loop" (the I/O loop; it goes on), "event" (a viewer's socket event; the viewer is
  // dropped), "format" (a user's view, formatted only when a viewer needs it; left out of the
  // update or snapshot), "open" (taking
  // over a connection; it is closed), "respond" (a viewer's first response; dropped), "write"
  // (writing to a viewer; dropped). Every place is listed, zeros included. Thread-safe.
  std::vector<std::pair<std::string_view, uint64_t>> errors() const;

 private:
  class Impl;
  static constexpr size_t kErrorPlaces = 6;
  std::string epoch_;
  std::atomic<size_t> viewers_{0};
  std::atomic<uint64_t> dropped_slow_{0};
  std::array<std::atomic<uint64_t>, kErrorPlaces> errors_{};
  std::unique_ptr<Impl> impl_;  // last: destroyed first, after Stop has joined its thread
};

}  // namespace presence::agent
