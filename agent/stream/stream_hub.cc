#include "agent/stream/stream_hub.h"

#include <Poco/Exception.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include "agent/stream/viewer_socket.h"
#include "agent/stream/websocket_protocol.h"
#include "common/json_writer.h"
#include "common/thread_name.h"

namespace presence::agent {
namespace {

using Instant = MonotonicClock::Instant;

// Where the hub catches an exception it does not expect; the order of StreamHub::errors().
enum class Fault { kLoop, kEvent, kFormat, kOpen, kRespond, kWrite };
constexpr std::array<std::string_view, 6> kFaultNames = {"loop", "event",   "format",
                                                         "open", "respond", "write"};

// What the exception being handled says.
std::string Describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Poco::Exception& e) {
    return e.displayText();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

constexpr uint64_t kWakeId = 0;  // epoll data of the eventfd; viewers are numbered from 1
constexpr int kMaxEvents = 256;
constexpr size_t kReadChunk = 16 * 1024;
// A viewer whose response is over (503, WebSocket close) gets this long to take the last
// bytes before the socket is closed anyway.
constexpr std::chrono::seconds kCloseLinger{2};
constexpr std::chrono::milliseconds kMaxTick{1000};
// Compact a viewer's buffer once this much of its front has been sent.
constexpr size_t kCompactAfter = 64 * 1024;

std::string Base36(uint64_t value) {
  constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string text;
  do {
    text.insert(text.begin(), kDigits[value % 36]);
    value /= 36;
  } while (value != 0);
  return text;
}

// Milliseconds since 1970 plus randomness for two starts within one millisecond. Base 36 and
// no '-', so "<epoch>-<seq>" splits at its last '-' and the epoch needs no JSON escaping.
std::string MakeEpoch() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  std::random_device random;
  return Base36(static_cast<uint64_t>(ms)) + Base36(1679616 + random() % 58786560);
}

// One SSE event (WHATWG HTML, "server-sent events"). A line break inside the data would end
// the field, so every line of the payload gets its own "data:" (the client joins them with
// '\n'); the JSON views are single-line, this is only a guard.
std::string SseEvent(std::string_view id, std::string_view event, std::string_view data) {
  std::string text;
  text.reserve(data.size() + id.size() + event.size() + 32);
  text.append("id: ").append(id).append("\nevent: ").append(event).append("\n");
  size_t start = 0;
  for (;;) {
    const size_t end = data.find_first_of("\r\n", start);
    text.append("data: ").append(data.substr(start, end - start)).append("\n");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  text.append("\n");
  return text;
}

std::string HttpHead(std::string_view status, std::string_view headers) {
  std::string head = "HTTP/1.1 ";
  head.append(status).append("\r\n").append(headers).append("\r\n");
  return head;
}

std::string JsonErrorResponse(std::string_view status, std::string_view code,
                              std::string_view message) {
  JsonWriter writer;
  writer.BeginObject().Key("error").BeginObject();
  writer.Key("code").String(code).Key("message").String(message);
  writer.EndObject().EndObject();
  const std::string body = writer.Take();
  std::string headers =
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nCache-Control: no-store\r\nConnection: close\r\n";
  if (status.starts_with("503")) headers.append("Retry-After: 5\r\n");
  return HttpHead(status, headers) + body;
}

// What one kept update counts against StreamHubOptions::history_bytes before it is formatted:
// the state it holds (shared with the core's snapshot while it is the user's latest).
size_t StateCost(const AgentState& state) {
  size_t bytes = sizeof(AgentState) + 128 + state.agent.size() + state.label.size() +
                 state.cause.size() + state.resume_label.size() + state.owed_cause.size() +
                 (state.pending_label ? state.pending_label->size() : 0);
  for (const ActiveCall& call : state.calls) bytes += sizeof call + call.id.size();
  for (const std::string& id : state.ended_calls) bytes += sizeof id + id.size();
  for (const reasoncodes::ActionMismatch& mismatch : state.pbx_mismatches) {
    bytes += sizeof mismatch + mismatch.connector.size() + mismatch.item.size() +
             mismatch.wanted.size() + mismatch.actual.size();
  }
  for (const AgentState::BudgetUse& use : state.budgets) bytes += sizeof use + use.label.size();
  return bytes;
}

// ... and once formatted, that and its message besides: the JSON text and its SSE and
// WebSocket framings (the state stays: a user's superseded state is held by the history alone).
size_t FormattedCost(const std::string& json) { return json.size() * 3 + 128; }

// How often the loop looks for idle viewers (and lingering closes): a quarter of the
// keepalive period, so a keepalive goes out after 1 to 1.25 periods of silence.
std::chrono::milliseconds TickFor(std::chrono::milliseconds keepalive) {
  if (keepalive.count() <= 0) return kMaxTick;  // keepalives off
  return std::clamp<std::chrono::milliseconds>(keepalive / 4, std::chrono::milliseconds(1),
                                               kMaxTick);
}

}  // namespace

class StreamHub::Impl {
 public:
  Impl(StreamHub& hub, StreamHubOptions options, Formatter formatter, SnapshotSource snapshots,
       LogSink log, const MonotonicClock& clock)
      : hub_(hub),
        options_(options),
        formatter_(std::move(formatter)),
        snapshots_(std::move(snapshots)),
        log_(std::move(log)),
        clock_(clock),
        tick_(TickFor(options.keepalive)) {}
  ~Impl();

  Status Start();
  void Stop();
  void Add(Poco::Net::StreamSocket socket, Kind kind, std::string websocket_key, std::string resume,
           std::string only_agent, Owner owner);
  void Publish(const std::vector<AgentUpdate>& updates);
  bool Claim(const std::string& owner, size_t limit);
  void Unclaim(const std::string& owner);
  void CloseOwners(std::vector<std::string> owners);

 private:
  // A viewer's Claim on its owner, given back when the viewer (or its request) is destroyed.
  class ClaimHold {
   public:
    ClaimHold() = default;
    ClaimHold(Impl* impl, std::string owner) : impl_(impl), owner_(std::move(owner)) {}
    ClaimHold(ClaimHold&& other) noexcept
        : impl_(std::exchange(other.impl_, nullptr)), owner_(std::move(other.owner_)) {}
    ClaimHold& operator=(ClaimHold&&) = delete;
    ~ClaimHold() {
      if (impl_) impl_->Unclaim(owner_);
    }

   private:
    Impl* impl_ = nullptr;
    std::string owner_;
  };

  // One published update. Its message is formatted when a viewer first needs it, once: an
  // agent with no viewer open formats no views (at 1,000 users and 40,000 changes/s that was
  // a tenth of a core). Each transport's framing is made on first use.
  struct Entry {
    uint64_t seq = 0;
    std::shared_ptr<const AgentState> state;  // never null
    size_t cost = 0;                          // what it counts against history_bytes
    bool unformattable = false;               // the formatter threw: left out for every viewer
    std::string json;                         // the message once formatted (never empty then)
    std::string sse;
    std::string ws;
  };
  struct NewViewer {
    Poco::Net::StreamSocket socket;
    Kind kind;
    std::string websocket_key;
    std::string resume;
    std::string only_agent;
    std::string owner;
    ClaimHold claim;
  };
  struct Viewer {
    // Throws Poco::Exception for a socket that is already closed (see ViewerSocket).
    Viewer(uint64_t viewer_id, Kind viewer_kind, Poco::Net::StreamSocket connection,
           std::string agent, std::string token_hash, ClaimHold held)
        : id(viewer_id),
          kind(viewer_kind),
          only_agent(std::move(agent)),
          owner(std::move(token_hash)),
          claim(std::move(held)),
          socket(std::move(connection)) {}

    // Whether this viewer is shown that entry (it is given every seq either way).
    bool Sees(const Entry& entry) const {
      return only_agent.empty() || entry.state->agent == only_agent;
    }

    const uint64_t id;
    const Kind kind;
    const std::string only_agent;  // empty: every user
    const std::string owner;       // the token hash it was opened with; may be empty
    ClaimHold claim;
    ViewerSocket socket;
    std::string out;  // bytes queued; out[sent..] not yet written
    size_t sent = 0;
    size_t grace = 0;  // unsent bytes of the first response: not counted against the limit
    uint64_t seq = 0;  // the newest update this viewer has been given or has skipped
    Instant last_queued;
    bool counted = false;       // in the viewers_ gauge
    bool closing = false;       // response over: close once `out` is written
    uint32_t events = EPOLLIN;  // registered with epoll
    bool dirty = false;         // in dirty_
    Instant close_by;
    std::unique_ptr<websocket::FrameParser> parser;
  };

  void Run();
  bool TakeInbox(std::vector<NewViewer>& adds, std::vector<AgentUpdate>& updates,
                 std::vector<std::string>& closes);
  void CloseOwned(const std::vector<std::string>& owners);
  void TrimHistory();
  void HandleEvent(const epoll_event& event);
  void AppendUpdates(const std::vector<AgentUpdate>& updates);
  void Open(NewViewer& added);
  void StartResponse(Viewer& viewer, const std::string& websocket_key, const std::string& resume);
  bool Resume(Viewer& viewer, const std::string& resume);
  void SendSnapshot(Viewer& viewer);
  std::string SnapshotJson(const Snapshot& snapshot, const std::string& only_agent);
  void AppendHistoryAfter(Viewer& viewer);
  bool Format(Entry& entry);
  void QueueEntry(Viewer& viewer, Entry& entry);
  void Queue(Viewer& viewer, std::string_view bytes);
  void BeginClose(Viewer& viewer);
  void OnReadable(Viewer& viewer);
  void OnClientMessages(Viewer& viewer, std::string_view bytes);
  void RunTimers(Instant now);
  void FlushDirty();
  void Flush(Viewer& viewer);
  void Watch(Viewer& viewer);
  void Drop(Viewer& viewer);
  void DropId(uint64_t id);
  void CloseAll();
  void Wake();
  void Caught(Fault fault, const std::string& outcome);

  StreamHub& hub_;
  const StreamHubOptions options_;
  const Formatter formatter_;
  const SnapshotSource snapshots_;
  const LogSink log_;
  const MonotonicClock& clock_;
  std::chrono::milliseconds tick_;

  // Before everything holding a ClaimHold (the inbox, the viewers): destroyed after them.
  std::mutex claims_mutex_;
  std::unordered_map<std::string, size_t> claims_;  // streams claimed per owner

  std::mutex mutex_;  // guards the inbox: adds_, updates_, closes_, wake_pending_, stopping_
  std::vector<NewViewer> adds_;
  std::vector<AgentUpdate> updates_;
  std::vector<std::string> closes_;  // owners whose streams end
  bool wake_pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
  int epoll_fd_ = -1;
  std::atomic<int> wake_fd_{-1};  // read by Add/Publish callers, set once by Start

  // Hub thread only.
  std::deque<Entry> history_;
  size_t history_bytes_ = 0;  // the entries' cost (see StreamHubOptions::history_bytes)
  uint64_t latest_seq_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Viewer>> viewers_;
  uint64_t next_id_ = kWakeId + 1;
  std::vector<uint64_t> dirty_;  // viewers with bytes to write this iteration
  Instant next_tick_;
  std::shared_ptr<const Snapshot> cached_snapshot_;  // formatted once for a burst of viewers
  std::string cached_snapshot_json_;
};

StreamHub::Impl::~Impl() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status StreamHub::Impl::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable() || stopping_) return Error{"stream_hub", "started already"};
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  wake_fd_ = wake_fd;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeId;
  if (epoll_fd_ < 0 || wake_fd < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd, &event)) {
    return Error{"stream_hub", std::string("epoll/eventfd: ") + std::strerror(errno)};
  }
  thread_ = std::thread([this] {
    NameThisThread("stream-hub");
    Run();
  });
  return Status::Ok();
}

void StreamHub::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    adds_.clear();  // closes sockets the thread never took
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

void StreamHub::Impl::Add(Poco::Net::StreamSocket socket, Kind kind, std::string websocket_key,
                          std::string resume, std::string only_agent, Owner owner) {
  ClaimHold claim = owner.claimed ? ClaimHold(this, owner.token_hash) : ClaimHold();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;  // the socket closes as it goes out of scope, the claim is given back
    // Poco's sockets are shared handles, copied rather than moved: the parameter lets go of
    // its handle here, under the lock, so the hub's is the last and it frees the socket on its
    // own thread rather than this one after the hub has closed it.
    adds_.push_back(NewViewer{std::exchange(socket, Poco::Net::StreamSocket()), kind,
                              std::move(websocket_key), std::move(resume), std::move(only_agent),
                              std::move(owner.token_hash), std::move(claim)});
    if (wake_pending_) return;
    wake_pending_ = true;
  }
  Wake();
}

void StreamHub::Impl::Publish(const std::vector<AgentUpdate>& updates) {
  if (updates.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    updates_.insert(updates_.end(), updates.begin(), updates.end());
    // One wake-up per batch the hub has not yet taken: a burst of commits costs one syscall.
    if (wake_pending_) return;
    wake_pending_ = true;
  }
  Wake();
}

bool StreamHub::Impl::Claim(const std::string& owner, size_t limit) {
  std::lock_guard<std::mutex> lock(claims_mutex_);
  size_t& held = claims_[owner];
  if (held >= limit) {
    if (held == 0) claims_.erase(owner);
    return false;
  }
  ++held;
  return true;
}

void StreamHub::Impl::Unclaim(const std::string& owner) {
  std::lock_guard<std::mutex> lock(claims_mutex_);
  auto found = claims_.find(owner);
  if (found != claims_.end() && --found->second == 0) claims_.erase(found);
}

void StreamHub::Impl::CloseOwners(std::vector<std::string> owners) {
  if (owners.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    closes_.insert(closes_.end(), owners.begin(), owners.end());
    if (wake_pending_) return;
    wake_pending_ = true;
  }
  Wake();
}

void StreamHub::Impl::Wake() {
  const int wake_fd = wake_fd_.load();
  if (wake_fd < 0) return;  // not started: Run takes the inbox first thing
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wake_fd, &one, sizeof one);
}

void StreamHub::Impl::Run() {
  std::vector<epoll_event> events(kMaxEvents);
  std::vector<NewViewer> adds;
  std::vector<AgentUpdate> updates;
  std::vector<std::string> closes;
  next_tick_ = clock_.Now() + tick_;
  for (;;) {
    try {
      if (!TakeInbox(adds, updates, closes)) break;
      AppendUpdates(updates);
      for (NewViewer& added : adds) Open(added);
      adds.clear();
      TrimHistory();  // entries a resume formatted count more now
      // After the adds: a viewer added before its owner was closed is closed with the others.
      CloseOwned(closes);
      RunTimers(clock_.Now());
      FlushDirty();
    } catch (...) {
      // Nothing may escape the I/O thread; per-viewer failures are handled where they occur,
      // this only keeps the loop alive after something unforeseen.
      Caught(Fault::kLoop, "the loop goes on");
      adds.clear();
    }
    const int timeout = static_cast<int>(
        std::min<int64_t>(clock_.PollTimeout(next_tick_).count(), kMaxTick.count()));
    const int count = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, timeout);
    for (int i = 0; i < count; ++i) {
      try {
        HandleEvent(events[i]);
      } catch (...) {
        Caught(Fault::kEvent, "the viewer is dropped");
        DropId(events[i].data.u64);
      }
    }
  }
  CloseAll();
}

bool StreamHub::Impl::TakeInbox(std::vector<NewViewer>& adds, std::vector<AgentUpdate>& updates,
                                std::vector<std::string>& closes) {
  updates.clear();
  closes.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return false;
  adds.swap(adds_);
  updates.swap(updates_);
  closes.swap(closes_);
  wake_pending_ = false;
  return true;
}

void StreamHub::Impl::HandleEvent(const epoll_event& event) {
  if (event.data.u64 == kWakeId) {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t got = ::read(wake_fd_, &count, sizeof count);
    return;
  }
  auto found = viewers_.find(event.data.u64);
  if (found == viewers_.end()) return;
  Viewer& viewer = *found->second;
  if (viewer.socket.SendReady(event.events)) Queue(viewer, {});  // marks it for the flush pass
  if (viewer.socket.ReceiveReady(event.events)) OnReadable(viewer);
}

// Keeps each update, then gives it to every viewer that does not have it yet (a viewer that
// joined with a newer snapshot skips it) and is shown that user. The writing happens in
// FlushDirty, so a burst of updates costs one send per viewer.
void StreamHub::Impl::AppendUpdates(const std::vector<AgentUpdate>& updates) {
  const size_t first = history_.size();
  for (const AgentUpdate& update : updates) {
    if (!update.state || update.seq <= latest_seq_) continue;  // out of order: already covered
    latest_seq_ = update.seq;
    history_.push_back(
        Entry{.seq = update.seq, .state = update.state, .cost = StateCost(*update.state)});
    history_bytes_ += history_.back().cost;
  }
  if (history_.size() == first) return;
  for (auto& [id, viewer] : viewers_) {
    if (viewer->closing) continue;
    for (size_t i = first; i < history_.size(); ++i) {
      Entry& entry = history_[i];
      if (entry.seq <= viewer->seq) continue;
      QueueEntry(*viewer, entry);
    }
  }
  TrimHistory();
}

void StreamHub::Impl::TrimHistory() {
  while (!history_.empty() &&
         (history_.size() > options_.history || history_bytes_ > options_.history_bytes)) {
    history_bytes_ -= history_.front().cost;
    history_.pop_front();
  }
}

// The streams of removed tokens end: no more updates, a WebSocket close frame, then the
// connection closes once what is queued has been written.
void StreamHub::Impl::CloseOwned(const std::vector<std::string>& owners) {
  if (owners.empty()) return;
  for (auto& [id, viewer] : viewers_) {
    if (viewer->closing || viewer->owner.empty() ||
        std::find(owners.begin(), owners.end(), viewer->owner) == owners.end()) {
      continue;
    }
    if (viewer->kind == Kind::kWebSocket) {
      Queue(*viewer, websocket::EncodeClose(websocket::kClosePolicyViolation,
                                            "the token of this stream is no longer valid"));
    }
    BeginClose(*viewer);
  }
}

// Formats the entry's message on first use (false when its view cannot be formatted) and
// counts what it now holds against the history's bytes. Every entry is in history_ while a
// viewer is given it.
bool StreamHub::Impl::Format(Entry& entry) {
  if (!entry.json.empty()) return true;
  if (entry.unformattable) return false;
  try {
    // The view as the configuration in force now shows it (a user renamed by a reload since
    // the update is shown with the new name).
    const std::string view = formatter_(*entry.state);
    JsonWriter message;
    message.BeginObject().Key("type").String("agent").Key("epoch").String(hub_.epoch_);
    message.Key("seq").Int(static_cast<int64_t>(entry.seq)).Key("agent").Raw(view).EndObject();
    entry.json = message.Take();
  } catch (...) {
    // A view that cannot be formatted is left out rather than stopping the stream.
    Caught(Fault::kFormat, "update " + std::to_string(entry.seq) + " of user '" +
                               entry.state->agent + "' is left out");
    entry.json.clear();
    entry.unformattable = true;
    return false;
  }
  const size_t added = FormattedCost(entry.json);
  entry.cost += added;
  history_bytes_ += added;
  return true;
}

// Gives the viewer the entry, framed for its transport, when it is shown that user; either way
// the viewer is past it.
void StreamHub::Impl::QueueEntry(Viewer& viewer, Entry& entry) {
  viewer.seq = entry.seq;
  if (!viewer.Sees(entry) || !Format(entry)) return;
  if (viewer.kind == Kind::kWebSocket) {
    if (entry.ws.empty()) entry.ws = websocket::EncodeFrame(websocket::Opcode::kText, entry.json);
    Queue(viewer, entry.ws);
    return;
  }
  if (entry.sse.empty()) {
    entry.sse = SseEvent(hub_.epoch_ + "-" + std::to_string(entry.seq), "agent", entry.json);
  }
  Queue(viewer, entry.sse);
}

void StreamHub::Impl::Open(NewViewer& added) {
  std::unique_ptr<Viewer> viewer;
  try {
    viewer = std::make_unique<Viewer>(next_id_++, added.kind, std::move(added.socket),
                                      std::move(added.only_agent), std::move(added.owner),
                                      std::move(added.claim));
    epoll_event event{};
    event.events = viewer->events;
    event.data.u64 = viewer->id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, viewer->socket.fd(), &event) != 0) return;
  } catch (...) {
    // A socket already closed or broken: it closes as it goes out of scope.
    Caught(Fault::kOpen, "the connection is closed");
    return;
  }
  const uint64_t id = viewer->id;
  Viewer& registered = *viewers_.emplace(id, std::move(viewer)).first->second;
  try {
    StartResponse(registered, added.websocket_key, added.resume);
    // What the HTTP server's TLS session read and decrypted past the request waits inside
    // OpenSSL, where epoll never reports it.
    if (registered.socket.buffered()) OnReadable(registered);
  } catch (...) {
    Caught(Fault::kRespond, "the viewer is dropped");
    DropId(id);
  }
}

void StreamHub::Impl::StartResponse(Viewer& viewer, const std::string& websocket_key,
                                    const std::string& resume) {
  if (hub_.viewers_.load() >= static_cast<size_t>(std::max(options_.max_viewers, 0))) {
    Queue(viewer, JsonErrorResponse("503 Service Unavailable", "too_many_viewers",
                                    "the live stream has its maximum of " +
                                        std::to_string(options_.max_viewers) +
                                        " viewers; try again later"));
    BeginClose(viewer);
    return;
  }
  if (viewer.kind == Kind::kWebSocket && websocket_key.empty()) {
    Queue(viewer, JsonErrorResponse("400 Bad Request", "bad_request",
                                    "a WebSocket upgrade needs a Sec-WebSocket-Key"));
    BeginClose(viewer);
    return;
  }
  viewer.counted = true;
  ++hub_.viewers_;
  if (viewer.kind == Kind::kSse) {
    // No Content-Length and no chunking: with Connection: close the body ends when the
    // connection does (RFC 9112 6.3), which is what a never-ending stream wants. "retry"
    // sets the browser's reconnection delay in milliseconds.
    Queue(viewer, HttpHead("200 OK",
                           "Content-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                           "Connection: close\r\nX-Accel-Buffering: no\r\n") +
                      "retry: 2000\n\n");
  } else {
    viewer.parser = std::make_unique<websocket::FrameParser>();
    Queue(viewer, HttpHead("101 Switching Protocols",
                           "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                               websocket::AcceptKey(websocket_key) + "\r\n"));
  }
  if (!Resume(viewer, resume)) SendSnapshot(viewer);
  viewer.grace = viewer.out.size();
}

// A resume is served from the history when it holds every update after the client's last:
// same process (epoch), and nothing between it and the oldest entry has been evicted.
bool StreamHub::Impl::Resume(Viewer& viewer, const std::string& resume) {
  const size_t dash = resume.rfind('-');
  if (dash == std::string::npos || resume.compare(0, dash, hub_.epoch_) != 0) return false;
  uint64_t seq = 0;
  const char* end = resume.data() + resume.size();
  const auto parsed = std::from_chars(resume.data() + dash + 1, end, seq);
  if (parsed.ec != std::errc() || parsed.ptr != end || dash + 1 == resume.size()) return false;
  if (history_.empty() || seq + 1 < history_.front().seq || seq > history_.back().seq) {
    return false;
  }
  viewer.seq = seq;
  AppendHistoryAfter(viewer);
  return true;
}

// The snapshot for every user is formatted once per core snapshot and shared by a burst of
// viewers; one limited to a single user gets its own (one view: cheap).
void StreamHub::Impl::SendSnapshot(Viewer& viewer) {
  std::shared_ptr<const Snapshot> snapshot = snapshots_ ? snapshots_() : nullptr;
  if (!snapshot) snapshot = std::make_shared<const Snapshot>();  // before the core started
  std::string own_json;
  if (!viewer.only_agent.empty()) {
    own_json = SnapshotJson(*snapshot, viewer.only_agent);
  } else if (snapshot != cached_snapshot_) {
    cached_snapshot_json_ = SnapshotJson(*snapshot, "");
    cached_snapshot_ = snapshot;
  }
  const std::string& json = viewer.only_agent.empty() ? cached_snapshot_json_ : own_json;
  if (viewer.kind == Kind::kWebSocket) {
    Queue(viewer, websocket::EncodeFrame(websocket::Opcode::kText, json));
  } else {
    Queue(viewer, SseEvent(hub_.epoch_ + "-" + std::to_string(snapshot->seq), "snapshot", json));
  }
  viewer.seq = snapshot->seq;
  AppendHistoryAfter(viewer);
}

std::string StreamHub::Impl::SnapshotJson(const Snapshot& snapshot, const std::string& only_agent) {
  std::vector<std::shared_ptr<const AgentState>> states;
  if (!only_agent.empty()) {
    states.push_back(snapshot.agents.Find(only_agent));
  } else {
    for (const auto& [id, state] : snapshot.agents.Sorted()) states.push_back(state);
  }
  JsonWriter json;
  json.BeginObject().Key("type").String("snapshot").Key("epoch").String(hub_.epoch_);
  json.Key("seq").Int(static_cast<int64_t>(snapshot.seq)).Key("agents").BeginArray();
  for (const std::shared_ptr<const AgentState>& state : states) {
    if (!state) continue;
    try {
      json.Raw(formatter_(*state));
    } catch (...) {
      Caught(Fault::kFormat, "user '" + state->agent + "' is left out of a snapshot");
    }
  }
  json.EndArray().EndObject();
  return json.Take();
}

void StreamHub::Impl::AppendHistoryAfter(Viewer& viewer) {
  auto next = std::upper_bound(history_.begin(), history_.end(), viewer.seq,
                               [](uint64_t seq, const Entry& entry) { return seq < entry.seq; });
  for (; next != history_.end(); ++next) QueueEntry(viewer, *next);
}

void StreamHub::Impl::Queue(Viewer& viewer, std::string_view bytes) {
  if (!bytes.empty()) {
    viewer.out.append(bytes);
    viewer.last_queued = clock_.Now();
  }
  if (!viewer.dirty) {
    viewer.dirty = true;
    dirty_.push_back(viewer.id);
  }
}

// The response is over: nothing more is queued, the viewer leaves the gauge now (so whoever
// sees the end of the response sees the count without it) and the socket closes once the
// bytes already queued are written.
void StreamHub::Impl::BeginClose(Viewer& viewer) {
  if (viewer.closing) return;
  viewer.closing = true;
  viewer.close_by = clock_.Now() + kCloseLinger;
  if (viewer.counted) {
    viewer.counted = false;
    --hub_.viewers_;
  }
  Queue(viewer, {});
}

// Viewers send nothing after their request but WebSocket frames; the end of the stream or an
// error means the client has gone. One read per event: epoll is level-triggered, so what is
// left on the descriptor is reported again; what TLS has decrypted already is not.
void StreamHub::Impl::OnReadable(Viewer& viewer) {
  char buffer[kReadChunk];
  do {
    const ViewerSocket::Transfer got = viewer.socket.Receive(buffer, sizeof buffer);
    if (got.closed) return Drop(viewer);
    if (got.bytes == 0) break;
    if (viewer.parser && !viewer.closing) OnClientMessages(viewer, {buffer, got.bytes});
  } while (viewer.socket.buffered());
  if (!viewer.dirty) Watch(viewer);  // a stalled TLS read can wait for writability; else Flush does
}

// RFC 6455 5.5.2/5.5.3: a ping is answered with a pong carrying its payload; 5.5.1: a close is
// answered with a close (echoing the code) and then the server closes the connection (7.1.1).
// Text and binary messages and pongs mean nothing to the hub.
void StreamHub::Impl::OnClientMessages(Viewer& viewer, std::string_view bytes) {
  std::vector<websocket::Message> messages;
  const Status fed = viewer.parser->Feed(bytes, messages);
  for (const websocket::Message& message : messages) {
    if (message.opcode == websocket::Opcode::kPing) {
      Queue(viewer, websocket::EncodeFrame(websocket::Opcode::kPong, message.payload));
    } else if (message.opcode == websocket::Opcode::kClose) {
      const uint16_t code = websocket::CloseCode(message.payload);
      Queue(viewer, code == 0 ? websocket::EncodeFrame(websocket::Opcode::kClose, {})
                              : websocket::EncodeClose(code));
      BeginClose(viewer);
      return;
    }
  }
  if (!fed.ok()) {
    Queue(viewer, websocket::EncodeClose(viewer.parser->close_code(), fed.error().message));
    BeginClose(viewer);
  }
}

// Keepalives for viewers that have been sent nothing for options_.keepalive, and the end of
// lingering closes; at most once per tick_.
void StreamHub::Impl::RunTimers(Instant now) {
  if (now < next_tick_) return;
  next_tick_ = now + tick_;
  const bool keepalives = options_.keepalive.count() > 0;
  std::vector<Viewer*> expired;
  for (auto& [id, viewer] : viewers_) {
    if (viewer->closing) {
      if (now >= viewer->close_by) expired.push_back(viewer.get());
    } else if (keepalives && now - viewer->last_queued >= options_.keepalive) {
      Queue(*viewer, viewer->kind == Kind::kSse
                         ? std::string(": keepalive\n\n")
                         : websocket::EncodeFrame(websocket::Opcode::kPing, {}));
    }
  }
  for (Viewer* viewer : expired) Drop(*viewer);
}

void StreamHub::Impl::FlushDirty() {
  std::vector<uint64_t> dirty;
  dirty.swap(dirty_);
  for (uint64_t id : dirty) {
    auto found = viewers_.find(id);
    if (found == viewers_.end()) continue;
    found->second->dirty = false;
    try {
      Flush(*found->second);
    } catch (...) {
      Caught(Fault::kWrite, "the viewer is dropped");
      DropId(id);
    }
  }
}

// One Send per flush: it writes until the connection is full or the bytes run out.
void StreamHub::Impl::Flush(Viewer& viewer) {
  const size_t left = viewer.out.size() - viewer.sent;
  if (left > 0 || viewer.socket.held() > 0) {
    const ViewerSocket::Transfer wrote =
        viewer.socket.Send({viewer.out.data() + viewer.sent, left});
    if (wrote.closed) return Drop(viewer);
    viewer.sent += wrote.bytes;
    viewer.grace -= std::min(viewer.grace, wrote.bytes);
  }
  if (viewer.sent == viewer.out.size()) {
    viewer.out.clear();
    viewer.sent = 0;
    if (viewer.closing && viewer.socket.held() == 0) return Drop(viewer);
  } else if (viewer.sent >= kCompactAfter) {
    viewer.out.erase(0, viewer.sent);
    viewer.sent = 0;
  }
  // A TLS record the socket holds (at most 16 KiB) counts as sent here, like the bytes in the
  // kernel's socket buffer.
  const size_t pending = viewer.out.size() - viewer.sent;
  if (!viewer.closing && pending > viewer.grace + options_.viewer_buffer_bytes) {
    ++hub_.dropped_slow_;
    return Drop(viewer);
  }
  Watch(viewer);
}

// Registers with epoll what the viewer's connection waits for now.
void StreamHub::Impl::Watch(Viewer& viewer) {
  const uint32_t events = viewer.socket.Interest(viewer.sent < viewer.out.size());
  if (events == viewer.events) return;
  epoll_event event{};
  event.events = events;
  event.data.u64 = viewer.id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, viewer.socket.fd(), &event) != 0) return Drop(viewer);
  viewer.events = events;
}

// Forgets the viewer and closes its socket; `viewer` is gone afterwards.
void StreamHub::Impl::Drop(Viewer& viewer) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, viewer.socket.fd(), nullptr);
  if (viewer.counted) --hub_.viewers_;
  viewer.socket.Close();
  viewers_.erase(viewer.id);
}

void StreamHub::Impl::DropId(uint64_t id) {
  auto found = viewers_.find(id);
  if (found != viewers_.end()) Drop(*found->second);
}

// On Stop: a WebSocket viewer with nothing half-written gets a "going away" close frame
// (RFC 6455 7.4.1, 1001), written only if the socket takes it at once.
void StreamHub::Impl::CloseAll() {
  while (!viewers_.empty()) {
    Viewer& viewer = *viewers_.begin()->second;
    if (viewer.kind == Kind::kWebSocket && !viewer.closing && viewer.sent == viewer.out.size() &&
        viewer.socket.held() == 0) {
      viewer.socket.Send(websocket::EncodeClose(websocket::kCloseGoingAway));
    }
    Drop(viewer);
  }
  history_.clear();
  history_bytes_ = 0;
}

// Counts and logs the exception being handled (call it only inside a catch block). Opening
// a connection the client has already closed is a warning; the rest are errors.
void StreamHub::Impl::Caught(Fault fault, const std::string& outcome) {
  const size_t place = static_cast<size_t>(fault);
  const uint64_t count = ++hub_.errors_[place];
  std::string what;
  try {
    what = Describe(std::current_exception()) + "; " + outcome;
  } catch (...) {
    what = "(not described: out of memory)";
  }
  // Also counted for presence_swallowed_errors_total{component="stream"}.
  log_.Swallowed("unexpected error", what, {{"where", kFaultNames[place]}, {"count", count}},
                 fault == Fault::kOpen ? LogLevel::kWarning : LogLevel::kError);
}

StreamHub::StreamHub(StreamHubOptions options, Formatter formatter, SnapshotSource snapshots,
                     LogSink log, const MonotonicClock& clock)
    : epoch_(MakeEpoch()) {
  static_assert(kFaultNames.size() == kErrorPlaces);
  impl_ = std::make_unique<Impl>(*this, options, std::move(formatter), std::move(snapshots),
                                 std::move(log), clock);
}

std::vector<std::pair<std::string_view, uint64_t>> StreamHub::errors() const {
  std::vector<std::pair<std::string_view, uint64_t>> all;
  for (size_t i = 0; i < kErrorPlaces; ++i) all.emplace_back(kFaultNames[i], errors_[i].load());
  return all;
}

StreamHub::~StreamHub() { Stop(); }

Status StreamHub::Start() { return impl_->Start(); }

void StreamHub::Stop() { impl_->Stop(); }

void StreamHub::Add(Poco::Net::StreamSocket socket, Kind kind, std::string websocket_key,
                    std::string resume, std::string only_agent) {
  impl_->Add(std::exchange(socket, Poco::Net::StreamSocket()), kind, std::move(websocket_key),
             std::move(resume), std::move(only_agent), Owner{});
}

void StreamHub::Add(Poco::Net::StreamSocket socket, Kind kind, std::string websocket_key,
                    std::string resume, std::string only_agent, Owner owner) {
  impl_->Add(std::exchange(socket, Poco::Net::StreamSocket()), kind, std::move(websocket_key),
             std::move(resume), std::move(only_agent), std::move(owner));
}

bool StreamHub::Claim(const std::string& owner, size_t limit) { return impl_->Claim(owner, limit); }

void StreamHub::Unclaim(const std::string& owner) { impl_->Unclaim(owner); }

void StreamHub::CloseOwners(std::vector<std::string> owners) {
  impl_->CloseOwners(std::move(owners));
}

void StreamHub::Publish(const std::vector<AgentUpdate>& updates) { impl_->Publish(updates); }

}  // namespace presence::agent
