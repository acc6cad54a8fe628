#pragma once

// The real `presence-agent serve` for end-to-end tests. The configuration, in a fresh
// temporary directory: the dial-command sample catalog; users 1001 ("Anna Agent", extension
// 2001, team blue), 1002, 1003 and 1004; one token of every role; the ledger in <dir>/data;
// port 0. The process is started and its port read from its first line of output; it can be
// signalled, and restarted on the same data directory.

#include <Poco/JSON/Object.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tests/fakes/http_client.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"

namespace presence::testing {

// The configuration's tokens in plain text (the file holds only their hashes).
struct AgentTokens {
  std::string agent;        // role agent, acting for user 1001
  std::string integration;  // role integration
  std::string supervisor;   // role supervisor
  std::string admin;        // role admin
};

// samples/<name> as a JSON object; throws std::runtime_error when it cannot be read.
Poco::JSON::Object::Ptr ReadSample(const std::string& name);

class AgentServer {
 public:
  // Writes the configuration; `adjust` may change it first (e.g. server.max_body_bytes).
  // Does not start the process.
  explicit AgentServer(std::function<void(Poco::JSON::Object&)> adjust = {});
  ~AgentServer();  // SIGKILL if still running
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  // A copy of the configuration last written, to change and write again.
  Poco::JSON::Object::Ptr Config() const;
  void WriteConfig(const Poco::JSON::Object::Ptr& config);
  void WriteConfigText(const std::string& text);

  // Starts `presence-agent serve -c <config>` and returns once it has printed "listening on
  // http://127.0.0.1:PORT". Throws std::runtime_error, with the process's log, if it exits or
  // prints anything else first, or prints nothing for 20 s. A previous process must have
  // exited.
  void Start();
  void Signal(int signal);
  // Sends `signal` and waits for the exit: the exit code, or 128 + signal when killed.
  // A process still running after 20 s is killed (128 + SIGKILL).
  int Stop(int signal);
  int Wait();  // the same, without a signal

  // The process's standard error so far (its log).
  std::string Log() const;
  // Re-reads the log whenever the process writes to it until it holds `text` at least `times`
  // times, for at most `timeout`: for effects that leave no other trace to wait on (a SIGHUP
  // refused). True when found.
  bool WaitForLog(const std::string& text, std::chrono::milliseconds timeout,
                  size_t times = 1) const;
  // How often `text` occurs in the log.
  size_t CountInLog(const std::string& text) const;

  uint16_t port() const { return port_; }
  HttpClient Client() const { return HttpClient(port_); }
  const AgentTokens& tokens() const { return tokens_; }
  const std::string& config_path() const { return config_path_; }
  std::string data_dir() const { return dir_.File("data"); }
  std::string ledger_path() const { return dir_.File("data") + "/presence.db"; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string config_path_;
  std::string config_text_;
  AgentTokens tokens_;
  std::unique_ptr<Subprocess> process_;
  uint16_t port_ = 0;
};

// Kills a process that is still running when the timeout passes, unless destroyed first: a
// bound on blocking waits for a child (its output, its exit), so a hang fails the test instead
// of stalling the run.
class ProcessWatchdog {
 public:
  ProcessWatchdog(int pid, std::chrono::seconds timeout);
  ~ProcessWatchdog();
  ProcessWatchdog(const ProcessWatchdog&) = delete;
  ProcessWatchdog& operator=(const ProcessWatchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable disarmed_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

// The path of the presence-agent binary under test.
const std::string& AgentBinary();

// A user's view as a supervisor reads it (GET /api/v1/agents/{id}); throws on any other answer
// than 200. AgentLabel: its state's label.
Poco::JSON::Object::Ptr AgentView(AgentServer& server, const std::string& id);
std::string AgentLabel(AgentServer& server, const std::string& id);
// Re-reads the user's view every 20 ms until `holds` or the timeout passes (what a delivery or
// an event from a fake system did shows only there); returns whether it held.
bool WaitForAgentView(AgentServer& server, const std::string& id,
                      const std::function<bool(const Poco::JSON::Object&)>& holds,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
bool WaitForAgentLabel(AgentServer& server, const std::string& id, const std::string& label,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Appends a state to a configuration's "states" (for reload tests).
void AddState(const Poco::JSON::Object::Ptr& config, const std::string& label,
              const std::string& reason_code, int status);

}  // namespace presence::testing
