#include "tests/fakes/fake_ami_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace presence::testing {
namespace {

using connectors::AmiParser;

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Asterisk's ast_true: the spellings a manager action accepts for "yes".
bool AstTrue(const std::string& text) {
  for (const char* yes : {"yes", "true", "y", "t", "1", "on"}) {
    if (Poco::icompare(text, yes) == 0) return true;
  }
  return false;
}

std::string EpochWithMicros() {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%06lld", static_cast<long long>(micros / 1000000),
                static_cast<long long>(micros % 1000000));
  return text;
}

// The event classes of main/manager.c (perms[]), by their bit in a session's event mask.
constexpr std::pair<std::string_view, int> kClasses[] = {
    {"system", 1 << 0},     {"call", 1 << 1},      {"log", 1 << 2},      {"verbose", 1 << 3},
    {"command", 1 << 4},    {"agent", 1 << 5},     {"user", 1 << 6},     {"config", 1 << 7},
    {"dtmf", 1 << 8},       {"reporting", 1 << 9}, {"cdr", 1 << 10},     {"dialplan", 1 << 11},
    {"originate", 1 << 12}, {"agi", 1 << 13},      {"cc", 1 << 15},      {"aoc", 1 << 16},
    {"test", 1 << 17},      {"security", 1 << 18}, {"message", 1 << 30},
};
constexpr int kAllClasses = INT_MAX;

// The classes named in a comma list (get_perm: exact words; unknown words count for nothing).
// "all" is every class when `all_counts`; in a Privilege header it is only a suffix.
int ClassesOf(const std::string& list, bool all_counts) {
  int mask = 0;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string_view word(list.data() + start, end - start);
    if (word == "all" && all_counts) mask |= kAllClasses;
    for (const auto& [label, bit] : kClasses) {
      if (word == label) mask |= bit;
    }
    start = end + 1;
  }
  return mask;
}

bool AstFalse(const std::string& text) {
  for (const char* no : {"no", "false", "n", "f", "0", "off"}) {
    if (Poco::icompare(text, no) == 0) return true;
  }
  return false;
}

// strings_to_mask (main/manager.c): a number is the mask itself, a false word none, a true
// word all, else the classes listed.
int EventMask(const std::string& events) {
  if (IsDigits(events)) return std::atoi(events.c_str());
  if (AstFalse(events)) return 0;
  if (AstTrue(events)) return kAllClasses;
  return ClassesOf(events, true);
}

// Whether a session with `mask` gets `event`: every class of the event must be in the mask
// (process_events: (send_events & category) == category).
bool Takes(int mask, const AmiMessage& event) {
  int category = ClassesOf(event.Get("Privilege"), false);
  if (category == 0) return mask != 0;
  return (mask & category) == category;
}

// ast_devstate_val's spellings of a device state, in capitals as ast_devstate_str writes them.
std::optional<std::string> DeviceStateName(const std::string& value) {
  for (const char* state :
       {"NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING", "RINGINUSE", "ONHOLD"}) {
    if (Poco::icompare(value, state) == 0) return state;
  }
  return std::nullopt;  // includes UNKNOWN, which func_devstate refuses
}

// A queue member's fields in the order of app_queue.c queue_member_blob_create, as the
// QueueMemberStatus/Added/Removed/Pause events carry them (class agent). `reason` is the
// PausedReason shown, which on an unpause with a Reason is that reason (set_queue_member_pause).
AmiMessage MemberEvent(std::string_view name, const std::string& queue,
                       const AmiQueueMember& member, const std::string& reason) {
  AmiMessage event{{"Event", std::string(name)}, {"Privilege", "agent,all"}};
  event.Add("Queue", queue)
      .Add("MemberName", member.name)
      .Add("Interface", member.interface)
      .Add("StateInterface", member.state_interface)
      .Add("Membership", member.dynamic ? "dynamic" : "static")
      .Add("Penalty", std::to_string(member.penalty))
      .Add("CallsTaken", "0")
      .Add("LastCall", "0")
      .Add("LastPause", std::to_string(member.last_pause))
      .Add("LoginTime", std::to_string(member.login_time))
      .Add("InCall", "0")
      .Add("Status", "1")
      .Add("Paused", member.paused ? "1" : "0")
      .Add("PausedReason", reason)
      .Add("Ringinuse", "0")
      .Add("Wrapuptime", "0");
  return event;
}

// "Response: <response>", the ActionID if the action had one, then "Message: <message>": the
// order of astman_send_response (main/manager.c).
AmiMessage Reply(std::string_view response, const std::string& id, std::string_view message) {
  AmiMessage reply{{"Response", std::string(response)}};
  if (!id.empty()) reply.Add("ActionID", id);
  if (!message.empty()) reply.Add("Message", message);
  return reply;
}

}  // namespace

struct FakeAmiServer::Connection {
  Poco::Net::StreamSocket socket;
  std::mutex write_mutex;  // guards writes, and closed
  bool closed = false;
  // Guarded by the server's mutex_.
  bool logged_in = false;
  int event_mask = kAllClasses;  // from Login's Events (strings_to_mask); "on" until then
};

FakeAmiServer::FakeAmiServer(std::string username, std::string secret, std::string version)
    : username_(std::move(username)), secret_(std::move(secret)), version_(std::move(version)) {
  std::lock_guard lock(listen_mutex_);
  Listen();
}

FakeAmiServer::~FakeAmiServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  {
    std::lock_guard lock(listen_mutex_);
    StopListening();
  }
  DropConnections();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

// ---- listening ------------------------------------------------------------------------------

void FakeAmiServer::Listen() {
  auto server = std::make_unique<Poco::Net::ServerSocket>();
  server->bind(Poco::Net::SocketAddress("127.0.0.1", port_), true);
  server->listen(64);
  port_ = server->address().port();
  server_ = std::move(server);
  acceptor_ = std::thread(&FakeAmiServer::AcceptLoop, this, server_.get());
}

void FakeAmiServer::StopListening() {
  if (!server_) return;
  try {
    server_->impl()->shutdown();  // wakes accept() on Linux
  } catch (const Poco::Exception&) {
  }
  acceptor_.join();
  server_->close();
  server_.reset();
}

void FakeAmiServer::AcceptLoop(Poco::Net::ServerSocket* server) {
  while (true) {
    Poco::Net::StreamSocket socket;
    try {
      socket = server->acceptConnection();
    } catch (const Poco::Exception&) {
      return;  // StopListening
    }
    auto connection = std::make_shared<Connection>();
    connection->socket = socket;
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    ++connection_count_;
    connections_.push_back(connection);
    threads_.emplace_back(&FakeAmiServer::Serve, this, connection);
  }
}

void FakeAmiServer::Refuse() {
  {
    std::lock_guard lock(listen_mutex_);
    StopListening();
  }
  DropConnections();
}

void FakeAmiServer::Accept() {
  std::lock_guard lock(listen_mutex_);
  if (!server_) Listen();
}

void FakeAmiServer::DropConnections() {
  std::vector<std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (const auto& connection : connections) {
    std::lock_guard lock(connection->write_mutex);
    if (connection->closed) continue;
    try {
      connection->socket.shutdown();  // the serving thread's read ends and it closes
    } catch (const Poco::Exception&) {
    }
  }
}

// ---- one connection -------------------------------------------------------------------------

void FakeAmiServer::Serve(std::shared_ptr<Connection> connection) {
  Write(*connection, {});  // the banner
  AmiParser parser;
  char buffer[4096];
  bool open = true;
  while (open) {
    int received = 0;
    try {
      received = connection->socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
      break;
    }
    if (received <= 0) break;
    for (const AmiMessage& action :
         parser.Feed(std::string_view(buffer, static_cast<std::size_t>(received)))) {
      open = Handle(*connection, action);
      if (!open) break;
    }
  }
  std::lock_guard lock(connection->write_mutex);
  connection->closed = true;
  try {
    connection->socket.close();
  } catch (const Poco::Exception&) {
  }
}

bool FakeAmiServer::Handle(Connection& connection, const AmiMessage& action) {
  bool hang = false;
  bool close = false;
  std::vector<AmiMessage> answer;
  std::vector<AmiMessage> events;  // what the action caused, for every session
  std::optional<AmiMessage> interleaved;
  int mask = 0;
  {
    // Recorded and applied at once: a WaitFor that sees the action also sees what it did to
    // the AstDB, the variables, the queues and the device states.
    std::lock_guard lock(mutex_);
    actions_.push_back(action);
    hang = hang_;
    if (!hang) answer = Answer(connection, action, close);
    events.swap(broadcast_);
    if (connection.logged_in) interleaved = interleaved_;
    mask = connection.event_mask;
  }
  changed_.notify_all();
  if (hang) return true;
  // The other sessions first: once this one has its answer, every other session has been
  // sent the events too. This one gets them after its answer, as Asterisk's session thread
  // sends queued events after the action's reply.
  Broadcast(events, &connection);
  if (interleaved) {
    std::vector<AmiMessage> mixed;
    for (AmiMessage& message : answer) {
      mixed.push_back(*interleaved);
      mixed.push_back(std::move(message));
    }
    answer.swap(mixed);
  }
  for (AmiMessage& event : events) {
    if (Takes(mask, event)) answer.push_back(std::move(event));
  }
  Write(connection, answer);
  return !close;
}

void FakeAmiServer::Broadcast(const std::vector<AmiMessage>& events, const Connection* except) {
  if (events.empty()) return;
  std::vector<std::pair<std::shared_ptr<Connection>, std::vector<AmiMessage>>> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& connection : connections_) {
      if (!connection->logged_in || connection.get() == except) continue;
      std::vector<AmiMessage> taken;
      for (const AmiMessage& event : events) {
        if (Takes(connection->event_mask, event)) taken.push_back(event);
      }
      if (!taken.empty()) targets.emplace_back(connection, std::move(taken));
    }
  }
  for (const auto& [connection, taken] : targets) Write(*connection, taken);
}

// An empty list writes the banner.
void FakeAmiServer::Write(Connection& connection, const std::vector<AmiMessage>& messages) {
  std::string bytes = messages.empty() ? "Asterisk Call Manager/" + version_ + "\r\n" : "";
  for (const AmiMessage& message : messages) bytes += message.Serialize();
  std::lock_guard lock(connection.write_mutex);
  if (connection.closed) return;
  try {
    for (std::size_t sent = 0; sent < bytes.size();) {
      int n = connection.socket.sendBytes(bytes.data() + sent,
                                          static_cast<int>(bytes.size() - sent), MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  } catch (const Poco::Exception&) {
  }
}

// ---- answers --------------------------------------------------------------------------------

// Called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::Answer(Connection& connection, const AmiMessage& action,
                                              bool& close) {
  const std::string name = action.Get("Action");
  const std::string id = action.ActionId();
  auto is = [&](std::string_view candidate) { return action.Is("Action", candidate); };
  if (name.empty()) return {Reply("Error", id, "Missing action in request")};
  if (is("Login")) {
    bool accepted = !reject_next_login_ && action.Get("Username") == username_ &&
                    action.Get("Secret") == secret_;
    reject_next_login_ = false;
    if (!accepted) {
      close = true;  // a real server sleeps 1 s first (4.2); the tests need not wait
      return {Reply("Error", id, "Authentication failed")};
    }
    connection.logged_in = true;
    // An empty or missing Events leaves the mask as it was (set_eventmask).
    if (std::string events = action.Get("Events"); !events.empty()) {
      connection.event_mask = EventMask(events);
    }
    std::vector<AmiMessage> answer = {Reply("Success", id, "Authentication accepted")};
    if (connection.event_mask & 1) {  // class system
      answer.push_back(AmiMessage{
          {"Event", "FullyBooted"}, {"Privilege", "system,all"}, {"Status", "Fully Booted"}});
    }
    return answer;
  }
  if (is("Logoff")) {
    close = true;
    return {Reply("Goodbye", id, "Thanks for all the fish.")};
  }
  if (!connection.logged_in) return {Reply("Error", id, "Permission denied")};
  if (fail_next_ && !is("Ping")) {
    std::string message = *std::exchange(fail_next_, std::nullopt);
    return {Reply("Error", id, message)};
  }
  if (is("Ping")) {
    AmiMessage pong = Reply("Success", id, "");
    pong.Add("Ping", "Pong").Add("Timestamp", EpochWithMicros());
    return {pong};
  }
  if (is("Originate")) return Originate(connection, action, id);
  if (is("DBPut") || is("DBGet") || is("DBDel")) return Db(action, id);
  if (is("Setvar")) return Setvar(action, id);
  if (is("QueueAdd")) return QueueAdd(action, id);
  if (is("QueueRemove")) return QueueRemove(action, id);
  if (is("QueuePause")) return QueuePause(action, id);
  if (is("QueueStatus")) return QueueStatus(action, id);
  if (is("CoreShowChannels")) return CoreShowChannels(id);
  return {Reply("Error", id,
                "Invalid/unknown command: " + name +
                    ". Use Action: ListCommands to show available commands.")};
}

// Validation as 4.3; called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::Originate(const Connection& connection,
                                                 const AmiMessage& action, const std::string& id) {
  const std::string channel = action.Get("Channel");
  if (channel.empty()) return {Reply("Error", id, "Channel not specified")};
  if (channel.find('/') == std::string::npos) return {Reply("Error", id, "Invalid channel")};
  if (action.Has("Exten") && (!action.Has("Context") || !action.Has("Priority"))) {
    return {Reply("Error", id, "Originate with 'Exten' requires 'Context' and 'Priority'")};
  }
  if (action.Has("Priority") && !IsDigits(action.Get("Priority"))) {
    return {Reply("Error", id, "Invalid priority")};
  }
  if (action.Has("Timeout") && !IsDigits(action.Get("Timeout"))) {
    return {Reply("Error", id, "Invalid timeout")};
  }
  const bool async = AstTrue(action.Get("Async"));
  if (!async && originate_failure_) return {Reply("Error", id, "Originate failed")};
  std::vector<AmiMessage> answer = {Reply("Success", id, "Originate successfully queued")};
  if (async && Takes(connection.event_mask, AmiMessage{{"Privilege", "call,all"}})) {
    AmiMessage event{{"Event", "OriginateResponse"}, {"Privilege", "call,all"}};
    if (!id.empty()) event.Add("ActionID", id);
    event.Add("Response", originate_failure_ ? "Failure" : "Success")
        .Add("Channel", channel)
        .Add("Context", action.Get("Context"))
        .Add("Exten", action.Get("Exten"))
        .Add("Reason", std::to_string(originate_failure_.value_or(4)))
        .Add("Uniqueid", "1700000000." + std::to_string(next_unique_id_++))
        .Add("CallerIDNum", "<unknown>")
        .Add("CallerIDName", "<unknown>");
    answer.push_back(std::move(event));
  }
  return answer;
}

// AstDB actions with the messages of 4.4; called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::Db(const AmiMessage& action, const std::string& id) {
  const std::string family = action.Get("Family");
  const std::string key = action.Get("Key");
  const bool put = action.Is("Action", "DBPut");
  const std::string period = put ? "" : ".";  // DBGet/DBDel add a trailing period
  if (family.empty()) return {Reply("Error", id, "No family specified" + period)};
  if (key.empty()) return {Reply("Error", id, "No key specified" + period)};
  auto entry = db_.find({family, key});
  if (put) {
    if (!ignore_writes_) db_[{family, key}] = action.Get("Val");
    return {Reply("Success", id, "Updated database successfully")};
  }
  if (action.Is("Action", "DBDel")) {
    if (entry == db_.end()) return {Reply("Error", id, "Database entry could not be deleted")};
    if (!ignore_writes_) db_.erase(entry);
    return {Reply("Success", id, "Key deleted successfully")};
  }
  if (entry == db_.end()) return {Reply("Error", id, "Database entry not found")};
  AmiMessage start{{"Response", "Success"}};
  if (!id.empty()) start.Add("ActionID", id);
  start.Add("EventList", "start").Add("Message", "Result will follow");
  AmiMessage item{{"Event", "DBGetResponse"}, {"Family", family}, {"Key", key}};
  item.Add("Val", entry->second);
  if (!id.empty()) item.Add("ActionID", id);
  AmiMessage complete{{"Event", "DBGetComplete"}};
  if (!id.empty()) complete.Add("ActionID", id);
  complete.Add("EventList", "Complete").Add("ListItems", "1");
  return {start, item, complete};
}

// Setvar (main/manager.c action_setvar). DEVICE_STATE(Custom:<name>) goes through
// func_devstate's write, which refuses other providers and unknown states ("Variable not
// set"); other variables are only remembered. Called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::Setvar(const AmiMessage& action, const std::string& id) {
  const std::string variable = action.Get("Variable");
  const std::string value = action.Get("Value");
  if (variable.empty()) return {Reply("Error", id, "No variable specified")};
  constexpr std::string_view kFunction = "DEVICE_STATE(";
  if (variable.size() > kFunction.size() && variable.back() == ')' &&
      Poco::icompare(variable.substr(0, kFunction.size()), std::string(kFunction)) == 0) {
    const std::string device =
        variable.substr(kFunction.size(), variable.size() - kFunction.size() - 1);
    constexpr std::string_view kCustom = "Custom:";
    if (device.size() <= kCustom.size() ||
        Poco::icompare(device.substr(0, kCustom.size()), std::string(kCustom)) != 0 ||
        !ChangeDeviceState(device.substr(kCustom.size()), value)) {
      return {Reply("Error", id, "Variable not set")};
    }
  }
  variables_[variable] = value;
  return {Reply("Success", id, "Variable Set")};
}

// Called with mutex_ held.
bool FakeAmiServer::ChangeDeviceState(const std::string& name, const std::string& value) {
  std::optional<std::string> state = DeviceStateName(value);
  if (!state) return false;
  db_[{"CustomDevstate", name}] = value;
  const std::string device = "Custom:" + name;
  auto entry = device_states_.find(device);
  if (entry != device_states_.end() && entry->second == *state) return true;  // no change
  device_states_[device] = *state;
  broadcast_.push_back(AmiMessage{{"Event", "DeviceStateChange"},
                                  {"Privilege", "call,all"},
                                  {"Device", device},
                                  {"State", *state}});
  return true;
}

FakeAmiServer::Queue* FakeAmiServer::FindQueue(const std::string& name) {
  for (Queue& queue : queues_) {
    if (Poco::icompare(queue.name, name) == 0) return &queue;
  }
  return nullptr;
}

const FakeAmiServer::Queue* FakeAmiServer::FindQueue(const std::string& name) const {
  return const_cast<FakeAmiServer*>(this)->FindQueue(name);
}

long FakeAmiServer::Now() const { return now_ ? *now_ : static_cast<long>(std::time(nullptr)); }

namespace {

// sscanf("%30d") as app_queue.c reads Penalty: a leading number, else 0; negative is 0.
int NonNegative(const std::string& text) {
  int value = 0;
  if (std::sscanf(text.c_str(), "%30d", &value) != 1 || value < 0) return 0;
  return value;
}

// The list acknowledgement (astman_send_listack) and completion event
// (astman_send_list_complete_start).
AmiMessage ListStart(const std::string& id, std::string_view message) {
  AmiMessage start{{"Response", "Success"}};
  if (!id.empty()) start.Add("ActionID", id);
  start.Add("EventList", "start").Add("Message", message);
  return start;
}

AmiMessage ListComplete(std::string_view event, const std::string& id, std::size_t items) {
  AmiMessage complete{{"Event", std::string(event)}};
  if (!id.empty()) complete.Add("ActionID", id);
  complete.Add("EventList", "Complete").Add("ListItems", std::to_string(items));
  return complete;
}

}  // namespace

// app_queue.c manager_add_queue_member / add_to_queue. Called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::QueueAdd(const AmiMessage& action, const std::string& id) {
  const std::string queue_name = action.Get("Queue");
  const std::string interface = action.Get("Interface");
  if (queue_name.empty()) return {Reply("Error", id, "'Queue' not specified.")};
  if (interface.empty()) return {Reply("Error", id, "'Interface' not specified.")};
  Queue* queue = FindQueue(queue_name);
  if (!queue) return {Reply("Error", id, "Unable to add interface to queue: No such queue")};
  for (const AmiQueueMember& member : queue->members) {
    if (Poco::icompare(member.interface, interface) == 0) {
      return {Reply("Error", id, "Unable to add interface: Already there")};
    }
  }
  AmiQueueMember member;
  member.interface = interface;
  member.name = action.Get("MemberName");
  if (member.name.empty()) member.name = interface;
  member.state_interface = action.Get("StateInterface");
  if (member.state_interface.empty()) member.state_interface = interface;
  member.penalty = NonNegative(action.Get("Penalty"));
  member.paused = AstTrue(action.Get("Paused"));
  member.paused_reason = action.Get("Reason");  // kept even when not paused, as add_to_queue
  member.dynamic = true;
  member.login_time = Now();
  if (member.paused) member.last_pause = member.login_time;
  if (!ignore_writes_) {
    broadcast_.push_back(
        MemberEvent("QueueMemberAdded", queue->name, member, member.paused_reason));
    queue->members.push_back(std::move(member));
  }
  return {Reply("Success", id, "Added interface to queue")};
}

// app_queue.c manager_remove_queue_member / remove_from_queue. Called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::QueueRemove(const AmiMessage& action,
                                                   const std::string& id) {
  const std::string queue_name = action.Get("Queue");
  const std::string interface = action.Get("Interface");
  if (queue_name.empty() || interface.empty()) {
    return {Reply("Error", id, "Need 'Queue' and 'Interface' parameters.")};
  }
  Queue* queue = FindQueue(queue_name);
  if (!queue) {
    return {Reply("Error", id, "Unable to remove interface from queue: No such queue")};
  }
  auto member = std::find_if(queue->members.begin(), queue->members.end(),
                             [&](const AmiQueueMember& candidate) {
                               return Poco::icompare(candidate.interface, interface) == 0;
                             });
  if (member == queue->members.end()) {
    return {Reply("Error", id, "Unable to remove interface: Not there")};
  }
  if (!member->dynamic) return {Reply("Error", id, "Member not dynamic")};
  if (!ignore_writes_) {
    broadcast_.push_back(
        MemberEvent("QueueMemberRemoved", queue->name, *member, member->paused_reason));
    queue->members.erase(member);
  }
  return {Reply("Success", id, "Removed interface from queue")};
}

// app_queue.c manager_pause_queue_member / set_member_paused / set_queue_member_pause: every
// queue (or the one named) holding the interface gets the new state and one QueueMemberPause,
// also when the member was in that state already. The stored reason is the Reason when
// pausing and empty when unpausing; the event shows the Reason either way. Called with mutex_
// held.
std::vector<AmiMessage> FakeAmiServer::QueuePause(const AmiMessage& action, const std::string& id) {
  const std::string interface = action.Get("Interface");
  const std::string paused_text = action.Get("Paused");
  const std::string queue_name = action.Get("Queue");
  const std::string reason = action.Get("Reason");
  if (interface.empty() || paused_text.empty()) {
    return {Reply("Error", id, "Need 'Interface' and 'Paused' parameters.")};
  }
  const bool paused = AstTrue(paused_text);
  int found = 0;
  for (Queue& queue : queues_) {
    if (!queue_name.empty() && Poco::icompare(queue.name, queue_name) != 0) continue;
    for (AmiQueueMember& member : queue.members) {
      if (Poco::icompare(member.interface, interface) != 0) continue;
      ++found;
      if (ignore_writes_) break;
      member.paused = paused;
      if (paused) member.last_pause = Now();
      member.paused_reason = paused ? reason : "";
      broadcast_.push_back(MemberEvent("QueueMemberPause", queue.name, member, reason));
      break;
    }
    if (!queue_name.empty()) break;
  }
  if (found == 0) return {Reply("Error", id, "Interface not found")};
  return {Reply("Success", id,
                paused ? "Interface paused successfully" : "Interface unpaused successfully")};
}

// app_queue.c manager_queues_status: per queue (all, or the one named in Queue) its
// QueueParams and a QueueMember for each member (all, or those whose interface or name is
// Member, compared exactly); no callers wait in this fake, so no QueueEntry. Called with
// mutex_ held.
std::vector<AmiMessage> FakeAmiServer::QueueStatus(const AmiMessage& action,
                                                   const std::string& id) {
  const std::string queue_filter = action.Get("Queue");
  const std::string member_filter = action.Get("Member");
  std::vector<AmiMessage> out = {ListStart(id, "Queue status will follow")};
  std::size_t items = 0;
  for (const Queue& queue : queues_) {
    if (!queue_filter.empty() && Poco::icompare(queue.name, queue_filter) != 0) continue;
    AmiMessage params{{"Event", "QueueParams"}};
    params.Add("Queue", queue.name)
        .Add("Max", "0")
        .Add("Strategy", "ringall")
        .Add("Calls", "0")
        .Add("Holdtime", "0")
        .Add("TalkTime", "0")
        .Add("Completed", "0")
        .Add("Abandoned", "0")
        .Add("ServiceLevel", "60")
        .Add("ServicelevelPerf", "0.0")
        .Add("ServicelevelPerf2", "0.0")
        .Add("Weight", "0");
    if (!id.empty()) params.Add("ActionID", id);
    out.push_back(std::move(params));
    ++items;
    for (const AmiQueueMember& member : queue.members) {
      if (!member_filter.empty() && member.interface != member_filter &&
          member.name != member_filter) {
        continue;
      }
      AmiMessage item{{"Event", "QueueMember"}};
      item.Add("Queue", queue.name)
          .Add("Name", member.name)
          .Add("Location", member.interface)
          .Add("StateInterface", member.state_interface)
          .Add("Membership", member.dynamic ? "dynamic" : "static")
          .Add("Penalty", std::to_string(member.penalty))
          .Add("CallsTaken", "0")
          .Add("LastCall", "0")
          .Add("LastPause", std::to_string(member.last_pause))
          .Add("LoginTime", std::to_string(member.login_time))
          .Add("InCall", "0")
          .Add("Status", "1")
          .Add("Paused", member.paused ? "1" : "0")
          .Add("PausedReason", member.paused_reason)
          .Add("Wrapuptime", "0");
      if (!id.empty()) item.Add("ActionID", id);
      out.push_back(std::move(item));
      ++items;
    }
  }
  out.push_back(ListComplete("QueueStatusComplete", id, items));
  return out;
}

// main/manager.c action_coreshowchannels. Called with mutex_ held.
std::vector<AmiMessage> FakeAmiServer::CoreShowChannels(const std::string& id) {
  std::vector<AmiMessage> out = {ListStart(id, "Channels will follow")};
  for (const AmiMessage& channel : channels_) {
    AmiMessage item{{"Event", "CoreShowChannel"}};
    if (!id.empty()) item.Add("ActionID", id);
    for (const auto& [key, value] : channel.headers()) {
      bool dropped = false;
      for (const char* header : {"Event", "ActionID", "Privilege", "Timestamp"}) {
        if (Poco::icompare(key, header) == 0) dropped = true;
      }
      if (!dropped) item.Add(key, value);
    }
    out.push_back(std::move(item));
  }
  out.push_back(ListComplete("CoreShowChannelsComplete", id, channels_.size()));
  return out;
}

// ---- controls -------------------------------------------------------------------------------

void FakeAmiServer::DbPut(const std::string& family, const std::string& key,
                          const std::string& value) {
  std::lock_guard lock(mutex_);
  db_[{family, key}] = value;
}

std::optional<std::string> FakeAmiServer::DbGet(const std::string& family,
                                                const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto entry = db_.find({family, key});
  if (entry == db_.end()) return std::nullopt;
  return entry->second;
}

std::optional<std::string> FakeAmiServer::Variable(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto entry = variables_.find(name);
  if (entry == variables_.end()) return std::nullopt;
  return entry->second;
}

void FakeAmiServer::SetOriginateFailure(std::optional<int> reason) {
  std::lock_guard lock(mutex_);
  originate_failure_ = reason;
}

void FakeAmiServer::SetInterleavedEvent(std::optional<AmiMessage> event) {
  std::lock_guard lock(mutex_);
  interleaved_ = std::move(event);
}

void FakeAmiServer::Emit(const AmiMessage& event) { Broadcast({event}); }

void FakeAmiServer::Play(const std::vector<AmiMessage>& events) {
  for (const AmiMessage& event : events) Emit(event);
}

void FakeAmiServer::AddQueue(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (!FindQueue(name)) queues_.push_back(Queue{name, {}});
}

void FakeAmiServer::AddMember(const std::string& queue, const std::string& interface, int penalty,
                              bool static_member) {
  AmiQueueMember member;
  member.interface = interface;
  member.penalty = penalty;
  member.dynamic = !static_member;
  AddMember(queue, std::move(member));
}

void FakeAmiServer::AddMember(const std::string& queue, AmiQueueMember member) {
  std::lock_guard lock(mutex_);
  Queue* found = FindQueue(queue);
  if (!found) {
    queues_.push_back(Queue{queue, {}});
    found = &queues_.back();
  }
  if (member.name.empty()) member.name = member.interface;
  if (member.state_interface.empty()) member.state_interface = member.interface;
  if (member.login_time == 0) member.login_time = Now();
  auto same = [&](const AmiQueueMember& other) {
    return Poco::icompare(other.interface, member.interface) == 0;
  };
  auto existing = std::find_if(found->members.begin(), found->members.end(), same);
  if (existing != found->members.end()) {
    *existing = std::move(member);
  } else {
    found->members.push_back(std::move(member));
  }
}

std::optional<AmiQueueMember> FakeAmiServer::Member(const std::string& queue,
                                                    const std::string& interface) const {
  std::lock_guard lock(mutex_);
  const Queue* found = FindQueue(queue);
  if (!found) return std::nullopt;
  for (const AmiQueueMember& member : found->members) {
    if (Poco::icompare(member.interface, interface) == 0) return member;
  }
  return std::nullopt;
}

void FakeAmiServer::SetChannels(std::vector<AmiMessage> channels) {
  std::lock_guard lock(mutex_);
  channels_ = std::move(channels);
}

bool FakeAmiServer::SetDeviceState(const std::string& name, const std::string& value) {
  std::vector<AmiMessage> events;
  bool set = false;
  {
    std::lock_guard lock(mutex_);
    set = ChangeDeviceState(name, value);
    events.swap(broadcast_);
  }
  Broadcast(events);
  return set;
}

std::optional<std::string> FakeAmiServer::DeviceState(const std::string& device) const {
  std::lock_guard lock(mutex_);
  auto entry = device_states_.find(device);
  if (entry == device_states_.end()) return std::nullopt;
  return entry->second;
}

void FakeAmiServer::PressDnd(const std::string& extension, bool on) {
  std::vector<AmiMessage> events;
  {
    std::lock_guard lock(mutex_);
    if (on) {
      db_[{"DND", extension}] = "YES";
    } else {
      db_.erase({"DND", extension});
    }
    const std::string state = on ? "BUSY" : "UNAVAILABLE";
    ChangeDeviceState("DND" + extension, state);
    auto devices = db_.find({"AMPUSER", extension + "/device"});
    if (devices != db_.end()) {
      const std::string& list = devices->second;
      for (std::size_t start = 0; start < list.size();) {
        std::size_t end = std::min(list.find('&', start), list.size());
        if (end > start) ChangeDeviceState("DEVDND" + list.substr(start, end - start), state);
        start = end + 1;
      }
    }
    events.swap(broadcast_);
  }
  Broadcast(events);
}

void FakeAmiServer::SetNow(long epoch_seconds) {
  std::lock_guard lock(mutex_);
  now_ = epoch_seconds;
}

void FakeAmiServer::IgnoreWrites(bool ignore) {
  std::lock_guard lock(mutex_);
  ignore_writes_ = ignore;
}

void FakeAmiServer::Hang() {
  std::lock_guard lock(mutex_);
  hang_ = true;
}

void FakeAmiServer::Release() {
  std::lock_guard lock(mutex_);
  hang_ = false;
}

void FakeAmiServer::RejectNextLogin() {
  std::lock_guard lock(mutex_);
  reject_next_login_ = true;
}

void FakeAmiServer::FailNextAction(std::string message) {
  std::lock_guard lock(mutex_);
  fail_next_ = std::move(message);
}

std::vector<AmiMessage> FakeAmiServer::actions() const {
  std::lock_guard lock(mutex_);
  return actions_;
}

std::vector<AmiMessage> FakeAmiServer::actions(std::string_view name) const {
  std::vector<AmiMessage> named;
  std::lock_guard lock(mutex_);
  for (const AmiMessage& action : actions_) {
    if (action.Is("Action", name)) named.push_back(action);
  }
  return named;
}

int FakeAmiServer::connections() const {
  std::lock_guard lock(mutex_);
  return connection_count_;
}

bool FakeAmiServer::WaitFor(const std::function<bool(const std::vector<AmiMessage>&)>& done,
                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(actions_); });
}

bool FakeAmiServer::WaitForAction(std::string_view name, size_t count,
                                  std::chrono::milliseconds timeout) const {
  return WaitFor(
      [&](const std::vector<AmiMessage>& actions) {
        return static_cast<size_t>(std::count_if(
                   actions.begin(), actions.end(),
                   [&](const AmiMessage& action) { return action.Is("Action", name); })) >= count;
      },
      timeout);
}

}  // namespace presence::testing
