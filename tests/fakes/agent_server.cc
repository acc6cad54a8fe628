#include "tests/fakes/agent_server.h"

#include <Poco/JSON/Array.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/config/config.h"
#include "tests/fakes/test_json.h"

namespace presence::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::string_view kListening = "listening on http://127.0.0.1:";
// How long the process may take to start or to exit before it is killed: a hang then fails
// the test (no line, or exit 128 + SIGKILL) instead of stalling the run.
constexpr std::chrono::seconds kProcessTimeout{20};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Object::Ptr NewUser(const std::string& id, const std::string& name, const std::string& team) {
  Object::Ptr user = new Object();
  user->set("id", id);
  user->set("name", name);
  user->set("extension", "2" + id.substr(1));
  user->set("team", team);
  return user;
}

// A token entry as `presence-agent token` prints it: only the hash is stored.
Object::Ptr NewTokenEntry(const std::string& name, const std::string& role, const std::string& user,
                          const std::string& token) {
  Object::Ptr entry = new Object();
  entry->set("name", name);
  entry->set("role", role);
  if (!user.empty()) entry->set("user", user);
  entry->set("sha256", agent::TokenHash(token));
  return entry;
}

}  // namespace

Object::Ptr ReadSample(const std::string& name) {
  return ParseObject(ReadFile(std::string(PRESENCE_SOURCE_DIR) + "/samples/" + name));
}

ProcessWatchdog::ProcessWatchdog(int pid, std::chrono::seconds timeout)
    : thread_([this, pid, timeout] {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!disarmed_.wait_for(lock, timeout, [this] { return done_; })) ::kill(pid, SIGKILL);
      }) {}

ProcessWatchdog::~ProcessWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  disarmed_.notify_all();
  thread_.join();
}

const std::string& AgentBinary() {
  static const std::string binary = PRESENCE_AGENT_BINARY;
  return binary;
}

AgentServer::AgentServer(std::function<void(Object&)> adjust)
    : config_path_(dir_.File("presence.json")) {
  Object::Ptr config = ReadSample("dial-command.json");
  Object::Ptr server = new Object();
  server->set("listen", "127.0.0.1:0");
  server->set("data_dir", data_dir());
  config->set("server", server);
  Array::Ptr users = new Array();
  users->add(NewUser("1001", "Anna Agent", "blue"));
  users->add(NewUser("1002", "Ben Busy", "blue"));
  users->add(NewUser("1003", "Chris Unseen", "green"));
  users->add(NewUser("1004", "Dana Desk", "green"));
  config->set("users", users);
  tokens_ = {agent::NewToken(), agent::NewToken(), agent::NewToken(), agent::NewToken()};
  Array::Ptr tokens = new Array();
  tokens->add(NewTokenEntry("softphone-1001", "agent", "1001", tokens_.agent));
  tokens->add(NewTokenEntry("crm", "integration", "", tokens_.integration));
  tokens->add(NewTokenEntry("floor", "supervisor", "", tokens_.supervisor));
  tokens->add(NewTokenEntry("ops", "admin", "", tokens_.admin));
  config->set("tokens", tokens);
  if (adjust) adjust(*config);
  WriteConfig(config);
}

AgentServer::~AgentServer() = default;  // ~Subprocess kills a process still running

Object::Ptr AgentServer::Config() const { return ParseObject(config_text_); }

void AgentServer::WriteConfig(const Object::Ptr& config) {
  std::ostringstream text;
  config->stringify(text, 2);
  WriteConfigText(text.str());
}

void AgentServer::WriteConfigText(const std::string& text) {
  // Written whole to a new file then renamed: a SIGHUP never reads half a file.
  const std::string temporary = config_path_ + ".new";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), config_path_.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + temporary);
  }
  config_text_ = text;
}

void AgentServer::Start() {
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{AgentBinary(), "serve", "-c", config_path_});
  std::optional<std::string> line;
  {
    ProcessWatchdog watchdog(process_->pid(), kProcessTimeout);
    line = process_->ReadLine();
  }
  if (!line || line->rfind(kListening, 0) != 0) {
    if (line) process_->Kill(SIGKILL);
    const int code = process_->Wait();
    throw std::runtime_error("serve did not start (exit " + std::to_string(code) +
                             "); first line: '" + line.value_or("") + "'; log:\n" + Log());
  }
  port_ = static_cast<uint16_t>(std::stoi(line->substr(kListening.size())));
}

void AgentServer::Signal(int signal) {
  if (process_) process_->Kill(signal);
}

int AgentServer::Stop(int signal) {
  Signal(signal);
  return Wait();
}

int AgentServer::Wait() {
  if (!process_) throw std::logic_error("AgentServer::Wait before Start");
  ProcessWatchdog watchdog(process_->pid(), kProcessTimeout);
  return process_->Wait();
}

std::string AgentServer::Log() const { return process_ ? process_->Stderr() : std::string(); }

size_t AgentServer::CountInLog(const std::string& text) const {
  const std::string log = Log();
  size_t count = 0;
  for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++count;
  return count;
}

// Re-reads the log each time the process writes to it (inotify), not on a timer.
bool AgentServer::WaitForLog(const std::string& text, std::chrono::milliseconds timeout,
                             size_t times) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int watch = process_ ? ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1;
  if (watch >= 0 && ::inotify_add_watch(watch, process_->stderr_path().c_str(), IN_MODIFY) < 0) {
    throw std::runtime_error("cannot watch " + process_->stderr_path());
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{watch};
  for (;;) {
    if (CountInLog(text) >= times) return true;
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (watch < 0 || left.count() <= 0) return false;  // without a process the log stays as is
    pollfd changed{watch, POLLIN, 0};
    if (::poll(&changed, 1, static_cast<int>(left.count())) > 0) {
      char events[4096];
      while (::read(watch, events, sizeof events) > 0) {
      }
    }
  }
}

void AddState(const Poco::JSON::Object::Ptr& config, const std::string& label,
              const std::string& reason_code, int status) {
  Poco::JSON::Object::Ptr state = new Poco::JSON::Object();
  state->set("label", label);
  state->set("reason_code", reason_code);
  state->set("status", status);
  config->getArray("states")->add(state);
}

Object::Ptr AgentView(AgentServer& server, const std::string& id) {
  HttpResponse response = server.Client().Get("/api/v1/agents/" + id, server.tokens().supervisor);
  if (response.status != 200) {
    throw std::runtime_error("GET /api/v1/agents/" + id + ": " + std::to_string(response.status) +
                             " " + response.body);
  }
  return response.Json();
}

std::string AgentLabel(AgentServer& server, const std::string& id) {
  return AgentView(server, id)->getObject("state")->getValue<std::string>("label");
}

bool WaitForAgentView(AgentServer& server, const std::string& id,
                      const std::function<bool(const Object&)>& holds,
                      std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (holds(*AgentView(server, id))) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool WaitForAgentLabel(AgentServer& server, const std::string& id, const std::string& label,
                       std::chrono::milliseconds timeout) {
  return WaitForAgentView(
      server, id,
      [&](const Object& view) {
        return !view.isNull("state") &&
               view.getObject("state")->getValue<std::string>("label") == label;
      },
      timeout);
}

}  // namespace presence::testing
