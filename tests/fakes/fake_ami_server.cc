#include "tests/fakes/fake_ami_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

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
  std::string events = "on";
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
  std::optional<AmiMessage> interleaved;
  {
    // Recorded and applied at once: a WaitFor that sees the action also sees what it did to
    // the AstDB and the variables.
    std::lock_guard lock(mutex_);
    actions_.push_back(action);
    hang = hang_;
    if (!hang) answer = Answer(connection, action, close);
    if (connection.logged_in) interleaved = interleaved_;
  }
  changed_.notify_all();
  if (hang) return true;
  if (interleaved) {
    std::vector<AmiMessage> mixed;
    for (AmiMessage& message : answer) {
      mixed.push_back(*interleaved);
      mixed.push_back(std::move(message));
    }
    answer.swap(mixed);
  }
  Write(connection, answer);
  return !close;
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
    connection.events = action.Find("Events").value_or("on");
    std::vector<AmiMessage> answer = {Reply("Success", id, "Authentication accepted")};
    if (connection.events == "on" || connection.events.find("system") != std::string::npos) {
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
  if (is("Setvar")) {
    std::string variable = action.Get("Variable");
    if (variable.empty()) return {Reply("Error", id, "No variable specified")};
    variables_[variable] = action.Get("Value");
    return {Reply("Success", id, "Variable Set")};
  }
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
  if (async && connection.events != "off") {
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
    db_[{family, key}] = action.Get("Val");
    return {Reply("Success", id, "Updated database successfully")};
  }
  if (action.Is("Action", "DBDel")) {
    if (entry == db_.end()) return {Reply("Error", id, "Database entry could not be deleted")};
    db_.erase(entry);
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

void FakeAmiServer::Emit(const AmiMessage& event) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& connection : connections_) {
      if (connection->logged_in) targets.push_back(connection);
    }
  }
  for (const auto& connection : targets) Write(*connection, {event});
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
