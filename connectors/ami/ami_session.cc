#include "connectors/ami/ami_session.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>
#include <sys/socket.h>

#include <algorithm>
#include <random>

namespace presence::connectors {
namespace {

using std::chrono::milliseconds;

Poco::Timespan ToTimespan(milliseconds ms) {
  return Poco::Timespan(std::max<int64_t>(0, ms.count()) * 1000);
}

std::string Ms(milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

std::string_view AmiSessionStateName(AmiSessionState state) {
  switch (state) {
    case AmiSessionState::kDisconnected:
      return "disconnected";
    case AmiSessionState::kConnecting:
      return "connecting";
    case AmiSessionState::kConnected:
      return "connected";
    case AmiSessionState::kAuthFailed:
      return "auth_failed";
  }
  return "disconnected";
}

AmiSession::AmiSession(AmiSessionOptions options, LogSink log, EventHandler on_event,
                       const Clock& clock, const MonotonicClock& steady)
    : options_(std::move(options)),
      log_(log.For("ami", {{"server", options_.host + ":" + std::to_string(options_.port)}})),
      on_event_(std::move(on_event)),
      clock_(clock),
      steady_(steady) {}

AmiSession::~AmiSession() { Stop(); }

std::string AmiSession::server() const {
  return options_.host + ":" + std::to_string(options_.port);
}

void AmiSession::Say(LogLevel level, const std::string& text) const {
  log_(level, text);  // the sink has the server
}

std::string AmiSession::NextActionId() { return std::to_string(++next_action_id_); }

AmiSessionStatus AmiSession::CurrentStatus() const {
  std::lock_guard lock(mutex_);
  return status_;
}

// ---- lifecycle ------------------------------------------------------------------------------

void AmiSession::Start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  // Connecting from now on, so that a Send right after Start waits for the first attempt.
  status_.state = AmiSessionState::kConnecting;
  thread_ = std::thread(&AmiSession::Run, this);
}

void AmiSession::Stop() {
  bool connected = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    connected = status_.state == AmiSessionState::kConnected;
  }
  changed_.notify_all();
  // Logoff answers Goodbye and the server closes (4.2); the session thread sees the close.
  if (connected) Send(AmiMessage::Action("Logoff"));
  {
    std::lock_guard lock(write_mutex_);
    if (socket_) {
      try {
        socket_->shutdown();  // wakes the session thread's read
      } catch (const Poco::Exception&) {
        // Already closed by the server or the session thread: nothing left to wake.
      }
    }
  }
  if (thread_.joinable()) thread_.join();
}

void AmiSession::Run() {
  int failures = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    MarkConnecting();
    if (std::unique_ptr<Link> link = Open()) {
      failures = 0;
      Serve(*link);
    }
    WaitBeforeRetry(++failures);
  }
}

// Back-off before the next attempt: 1 s doubling to 30 s, each wait drawn from [half, whole]
// so that many agents restarted together do not reconnect in step.
void AmiSession::WaitBeforeRetry(int failures) {
  milliseconds delay = options_.first_backoff;
  for (int i = 1; i < failures && delay < options_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options_.max_backoff);
  static thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(delay.count() / 2, delay.count());
  const auto until = steady_.Now() + milliseconds(pick(random));
  std::unique_lock lock(mutex_);
  steady_.WaitUntil(changed_, lock, until, [&] { return stopping_; });
}

// ---- connecting -----------------------------------------------------------------------------

std::unique_ptr<AmiSession::Link> AmiSession::Open() {
  auto link = std::make_unique<Link>();
  if (std::optional<std::string> error = Connect(*link)) {
    Close(AmiSessionState::kDisconnected, *error);
    return nullptr;
  }
  if (std::optional<Failure> failure = LogIn(*link)) {
    Close(failure->state, failure->error);
    return nullptr;
  }
  return link;
}

std::optional<std::string> AmiSession::Connect(Link& link) {
  try {
    link.socket.connect(Poco::Net::SocketAddress(options_.host, options_.port),
                        ToTimespan(options_.connect_timeout));
    link.socket.setNoDelay(true);
    link.socket.setSendTimeout(ToTimespan(options_.action_timeout));
  } catch (const Poco::Exception& e) {
    return "cannot connect to " + server() + ": " + e.displayText();
  }
  {
    std::lock_guard lock(write_mutex_);
    socket_ = link.socket;
    link.generation = ++socket_generation_;
  }
  {
    std::lock_guard lock(mutex_);  // Stop may have come while connect() ran
    if (stopping_) return "stopped";
  }
  const auto deadline = steady_.Now() + options_.connect_timeout;
  while (!link.parser.banner_version()) {
    if (steady_.Now() >= deadline) {
      return "no AMI banner from " + server() + " within " + Ms(options_.connect_timeout);
    }
    Result<std::vector<AmiMessage>> read = Read(link, deadline);
    if (!read)
      return "connection to " + server() + " lost before the banner: " + read.error().message;
  }
  return std::nullopt;
}

std::optional<AmiSession::Failure> AmiSession::LogIn(Link& link) {
  const std::string id = NextActionId();
  AmiMessage login = AmiMessage::Action("Login");
  login.SetActionId(id);
  login.Add("Username", options_.username)
      .Add("Secret", options_.secret)
      .Add("Events", options_.events);
  if (Status written = Write(login, link.generation); !written.ok()) {
    return Failure{AmiSessionState::kDisconnected, "cannot send Login: " + written.error().message};
  }
  const auto deadline = steady_.Now() + options_.action_timeout;
  while (steady_.Now() < deadline) {
    Result<std::vector<AmiMessage>> read = Read(link, deadline);
    if (!read) {
      return Failure{AmiSessionState::kDisconnected,
                     "connection lost during Login: " + read.error().message};
    }
    for (std::size_t i = 0; i < read->size(); ++i) {
      const AmiMessage& message = (*read)[i];
      if (!message.IsResponse() || message.ActionId() != id) {
        if (message.IsEvent() && on_event_) on_event_(message);
        continue;
      }
      if (!message.Is("Response", "Success")) {
        return Failure{AmiSessionState::kAuthFailed,
                       "login as '" + options_.username + "' refused: " + message.Get("Message")};
      }
      link.logged_in = steady_.Now();  // before anyone can see the session connected
      MarkConnected(*link.parser.banner_version(), link.generation);
      for (++i; i < read->size(); ++i) Dispatch((*read)[i]);
      return std::nullopt;
    }
  }
  return Failure{AmiSessionState::kDisconnected,
                 "no answer to Login within " + Ms(options_.action_timeout)};
}

// ---- the connected phase --------------------------------------------------------------------

// Reads and dispatches until the connection ends. A Ping goes out every ping interval; one
// left unanswered for the action timeout means the server hangs, and the connection is
// dropped so that a new one can be made.
void AmiSession::Serve(Link& link) {
  const auto interval = std::chrono::duration_cast<milliseconds>(options_.ping_interval);
  auto next_ping = link.logged_in + interval;
  auto ping_deadline = next_ping;
  ping_id_.clear();
  std::string error;
  while (error.empty()) {
    const auto now = steady_.Now();
    if (!ping_id_.empty() && now >= ping_deadline) {
      error = "no answer to Ping within " + Ms(options_.action_timeout);
      break;
    }
    if (ping_id_.empty() && now >= next_ping) {
      AmiMessage ping = AmiMessage::Action("Ping");
      std::string id = NextActionId();
      ping.SetActionId(id);
      if (Status written = Write(ping, link.generation); !written.ok()) {
        error = "cannot send Ping: " + written.error().message;
        break;
      }
      ping_id_ = id;
      ping_deadline = now + options_.action_timeout;
      next_ping = now + interval;
    }
    Result<std::vector<AmiMessage>> read = Read(link, ping_id_.empty() ? next_ping : ping_deadline);
    if (!read) {
      error = read.error().message;
      break;
    }
    for (const AmiMessage& message : *read) Dispatch(message);
  }
  Close(AmiSessionState::kDisconnected, "connection to " + server() + " lost: " + error);
}

// Waits for data until `until` at most (by steady_), then reads what has come.
Result<std::vector<AmiMessage>> AmiSession::Read(Link& link, MonotonicClock::Instant until) {
  try {
    if (!link.socket.poll(ToTimespan(steady_.PollTimeout(until)), Poco::Net::Socket::SELECT_READ)) {
      return std::vector<AmiMessage>{};
    }
    char buffer[8192];
    int received = link.socket.receiveBytes(buffer, sizeof buffer);
    if (received <= 0) return Error{"connection_lost", "the server closed the connection"};
    const uint64_t discarded = link.parser.discarded();
    std::vector<AmiMessage> messages =
        link.parser.Feed(std::string_view(buffer, static_cast<std::size_t>(received)));
    if (link.parser.discarded() != discarded) {
      {
        std::lock_guard lock(mutex_);
        status_.discarded_messages += link.parser.discarded() - discarded;
      }
      Say(LogLevel::kWarning,
          "dropped a message over the size bounds (a line over 64 KiB, or over 1 MiB)");
    }
    return messages;
  } catch (const Poco::Exception& e) {
    return Error{"connection_lost", e.displayText()};
  }
}

// Responses go to the action with their ActionID (a list response keeps collecting its events
// until EventList: Complete); events that belong to no pending list go to the event handler.
// Items one list answer may carry (QueueStatus of a large floor, CoreShowChannels of a busy
// PBX stay far below).
constexpr std::size_t kMaxListItems = 200000;

void AmiSession::Dispatch(const AmiMessage& message) {
  const std::string id = message.ActionId();
  if (message.IsResponse() && !ping_id_.empty() && id == ping_id_) {
    ping_id_.clear();
    return;
  }
  if (message.IsResponse() || !id.empty()) {
    std::unique_lock lock(mutex_);
    auto it = pending_.find(id);
    if (it != pending_.end() && (message.IsResponse() || it->second->listing)) {
      Pending& pending = *it->second;
      if (message.IsResponse()) {
        pending.reply.response = message;
        pending.listing = IsListStart(message);
      } else if (pending.reply.events.size() >= kMaxListItems) {
        // A list longer than any real server sends (a PBX that repeats itself): the action
        // fails rather than memory growing until its timeout; later items are ignored.
        pending.outcome = Error{"too_many_items", "a list answer went over " +
                                                      std::to_string(kMaxListItems) + " items"};
        pending_.erase(it);
        lock.unlock();
        answered_.notify_all();
        return;
      } else {
        pending.reply.events.push_back(message);
        pending.listing = !IsListComplete(message);
      }
      if (!pending.listing) {
        pending.outcome = std::move(pending.reply);
        pending_.erase(it);
        lock.unlock();
        answered_.notify_all();
      }
      return;
    }
    if (message.IsResponse()) return;  // a late answer to an action that timed out
  }
  if (message.IsEvent() && on_event_) on_event_(message);
}

Status AmiSession::Write(const AmiMessage& action, uint64_t generation) {
  const std::string bytes = action.Serialize();
  std::lock_guard lock(write_mutex_);
  if (!socket_ || generation != socket_generation_) {
    return Error{"connection_lost", "the connection is closed"};
  }
  try {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      int n = socket_->sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent),
                                 MSG_NOSIGNAL);
      if (n <= 0) return Error{"connection_lost", "the connection is closed"};
      sent += static_cast<std::size_t>(n);
    }
  } catch (const Poco::TimeoutException&) {
    return Error{"timeout", "the server takes no more data"};
  } catch (const Poco::Exception& e) {
    return Error{"connection_lost", e.displayText()};
  }
  return Status::Ok();
}

// ---- state changes --------------------------------------------------------------------------

void AmiSession::MarkConnecting() {
  {
    std::lock_guard lock(mutex_);
    status_.state = AmiSessionState::kConnecting;
  }
  changed_.notify_all();
}

void AmiSession::MarkConnected(const std::string& version, uint64_t generation) {
  {
    std::lock_guard lock(mutex_);
    status_.state = AmiSessionState::kConnected;
    status_.version = version;
    status_.connected_since = clock_.Now();
    if (ever_connected_) ++status_.reconnects;
    ever_connected_ = true;
    connected_generation_ = generation;
    logged_ = AmiSessionState::kConnected;
  }
  changed_.notify_all();
  Say(LogLevel::kInfo,
      "connected as '" + options_.username + "' (Asterisk Call Manager/" + version + ")");
  if (options_.on_connected) options_.on_connected();
}

// Ends the current connection (if any) and fails every action still waiting. The log gets one
// line per change of state, not one per attempt: a server that stays down is reported once.
void AmiSession::Close(AmiSessionState state, const std::string& error) {
  {
    std::lock_guard lock(write_mutex_);
    if (socket_) {
      try {
        socket_->close();
      } catch (const Poco::Exception&) {
        // A broken socket: it is released either way, and the reason is logged below.
      }
      socket_.reset();
    }
  }
  std::map<std::string, std::shared_ptr<Pending>> failed;
  std::optional<AmiSessionState> before;
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    failed.swap(pending_);
    for (auto& [id, pending] : failed) pending->outcome = Error{"connection_lost", "AMI " + error};
    stopping = stopping_;
    before = logged_;
    status_.state = stopping ? AmiSessionState::kDisconnected : state;
    status_.connected_since.reset();
    if (!stopping) status_.last_error = error;
    logged_ = status_.state;
  }
  changed_.notify_all();
  answered_.notify_all();
  if (stopping) {
    if (before == AmiSessionState::kConnected) Say(LogLevel::kInfo, "logged off");
  } else if (state == AmiSessionState::kAuthFailed && before != state) {
    Say(LogLevel::kError, error + " by the server; retrying with back-off");
  } else if (state == AmiSessionState::kDisconnected && before == AmiSessionState::kConnected) {
    Say(LogLevel::kWarning, error + "; reconnecting");
  } else if (state == AmiSessionState::kDisconnected && before != state) {
    Say(LogLevel::kWarning, error + "; retrying with back-off");
  }
}

// ---- actions --------------------------------------------------------------------------------

Result<AmiReply> AmiSession::Send(AmiMessage action) {
  const std::string name = action.Get("Action");
  const auto deadline = steady_.Now() + options_.action_timeout;
  auto pending = std::make_shared<Pending>();
  const std::string id = NextActionId();
  std::unique_lock lock(mutex_);
  // A connection attempt under way is waited for rather than failed at once.
  steady_.WaitUntil(changed_, lock, deadline,
                    [&] { return stopping_ || status_.state != AmiSessionState::kConnecting; });
  if (status_.state != AmiSessionState::kConnected) {
    std::string why = status_.last_error.empty() ? "" : ": " + status_.last_error;
    return Error{"not_connected", "AMI not connected to " + server() + why};
  }
  const uint64_t generation = connected_generation_;
  pending_[id] = pending;
  lock.unlock();
  action.SetActionId(id);
  Status written = Write(action, generation);
  lock.lock();
  if (written.ok()) {
    steady_.WaitUntil(answered_, lock, deadline, [&] { return pending->outcome.has_value(); });
  }
  pending_.erase(id);
  if (written.ok() && pending->outcome) return std::move(*pending->outcome);
  lock.unlock();
  if (!written.ok()) {
    return Error{written.error().code,
                 "cannot send " + name + " to " + server() + ": " + written.error().message};
  }
  return Error{"timeout", "no answer to " + name + " from " + server() + " within " +
                              Ms(options_.action_timeout)};
}

}  // namespace presence::connectors
