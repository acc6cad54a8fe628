#pragma once

// One persistent, authenticated AMI session (integrations.md 4.1-4.2) shared by every delivery
// of an AMI connector. A session thread owns the connection: it connects, reads the banner,
// logs in, reads every message and hands each response to the action waiting for it, sends
// Ping as a keep-alive, and after a drop, a refusal or a failed login connects again with
// exponential back-off (1 s doubling to 30 s, with jitter). Any number of threads may Send at
// once; each waits only for its own answer.

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/monotonic_clock.h"
#include "common/result.h"
#include "common/time.h"
#include "connectors/ami/ami_protocol.h"

namespace presence::connectors {

struct AmiSessionOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5038;
  std::string username;
  std::string secret;          // sent in Login only; never logged or shown
  std::string events = "off";  // Login's Events: on, off or a list of classes (4.2)
  std::chrono::milliseconds connect_timeout{5000};  // TCP connect, and the banner after it
  std::chrono::milliseconds action_timeout{10000};  // an action's answer (Login and Ping too)
  std::chrono::seconds ping_interval{20};
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  // Called on the session thread after every successful login (the first and each one after
  // a drop), before any event of that connection is handed on. Must not block or Send: it
  // wakes whoever re-reads the server's state.
  std::function<void()> on_connected;
};

enum class AmiSessionState { kDisconnected, kConnecting, kConnected, kAuthFailed };
// "disconnected", "connecting", "connected", "auth_failed".
std::string_view AmiSessionStateName(AmiSessionState state);

struct AmiSessionStatus {
  AmiSessionState state = AmiSessionState::kDisconnected;
  std::string version;                       // from the banner of the current or last connection
  std::optional<Timestamp> connected_since;  // while connected
  int reconnects = 0;      // times the session logged in again after its first login
  std::string last_error;  // the most recent failure, kept after recovery; never a secret
  // Messages the server sent over the parser's size bounds, dropped (ami_protocol.h).
  uint64_t discarded_messages = 0;
};

// An action's answer: the response and, for a list action (EventList: start), the events that
// followed it up to and including the one with "EventList: Complete".
struct AmiReply {
  AmiMessage response;
  std::vector<AmiMessage> events;
};

class AmiSession {
 public:
  // Events that are not items of a pending list (OriginateResponse, FullyBooted, call events).
  // Called on the session thread: keep it short, and do not Send from it.
  using EventHandler = std::function<void(const AmiMessage& event)>;

  // `clock` only stamps connected_since; the timeouts, the Ping interval and the back-off run
  // on `steady`. Both are borrowed and must outlive the session; `log` and `on_event` are
  // called until Stop returns.
  AmiSession(AmiSessionOptions options, LogSink log, EventHandler on_event, const Clock& clock,
             const MonotonicClock& steady = MonotonicClock::Steady());
  ~AmiSession();  // Stop()
  AmiSession(const AmiSession&) = delete;
  AmiSession& operator=(const AmiSession&) = delete;

  // Starts the session thread and returns at once (the server may be down).
  void Start();
  // Logs off when connected (waiting at most the action timeout), closes and joins the
  // thread. Idempotent. Actions still waiting fail with "connection_lost".
  void Stop();

  // Any thread. Sends `action` with a fresh ActionID and waits for its answer. A response of
  // "Response: Error" is an answer, not an error. Errors: "not_connected" (no session now;
  // when a connection attempt is under way it is waited for, within the action timeout),
  // "timeout" (no answer within the action timeout), "connection_lost" (the connection went
  // away before the answer), "too_many_items" (a list answer over 200,000 items).
  Result<AmiReply> Send(AmiMessage action);

  AmiSessionStatus CurrentStatus() const;
  std::string server() const;  // "host:port", for messages

 private:
  struct Pending {
    std::optional<Result<AmiReply>> outcome;  // set once, under mutex_; answered_ is notified
    AmiReply reply;
    bool listing = false;  // the response said EventList: start; items are being collected
  };
  struct Link {
    Poco::Net::StreamSocket socket;
    AmiParser parser;
    uint64_t generation = 0;            // which socket_ this is: a write never reaches a newer one
    MonotonicClock::Instant logged_in;  // the first Ping is due one interval after it
  };
  struct Failure {
    AmiSessionState state;
    std::string error;
  };

  void Run();
  std::unique_ptr<Link> Open();
  std::optional<std::string> Connect(Link& link);
  std::optional<Failure> LogIn(Link& link);
  void Serve(Link& link);
  Result<std::vector<AmiMessage>> Read(Link& link, MonotonicClock::Instant until);
  void Dispatch(const AmiMessage& message);
  Status Write(const AmiMessage& action, uint64_t generation);
  void Close(AmiSessionState state, const std::string& error);
  void MarkConnecting();
  void MarkConnected(const std::string& version, uint64_t generation);
  void WaitBeforeRetry(int failures);
  std::string NextActionId();
  void Say(LogLevel level, const std::string& text) const;

  const AmiSessionOptions options_;
  const LogSink log_;
  const EventHandler on_event_;
  const Clock& clock_;
  const MonotonicClock& steady_;

  // Guards everything below up to write_mutex_, and every Pending's outcome.
  mutable std::mutex mutex_;
  std::condition_variable changed_;   // state changes and Stop
  std::condition_variable answered_;  // a Pending got its outcome
  AmiSessionStatus status_;
  std::optional<AmiSessionState> logged_;                    // the state last written to the log
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // by ActionID
  bool stopping_ = false;
  bool started_ = false;
  bool ever_connected_ = false;
  uint64_t connected_generation_ = 0;

  // Serialises writes to the socket; also guards socket_, the handle Stop shuts down.
  std::mutex write_mutex_;
  std::optional<Poco::Net::StreamSocket> socket_;
  uint64_t socket_generation_ = 0;

  std::string ping_id_;  // the Ping waiting for its answer; session thread only

  std::atomic<uint64_t> next_action_id_{0};
  std::thread thread_;
};

}  // namespace presence::connectors
