#pragma once

// systemd's end of the notification protocol (sd_notify(3)) for tests: an AF_UNIX datagram
// socket bound to a path in a test's temporary folder (or an abstract name, given "@name" as in
// $NOTIFY_SOCKET), that keeps every message it receives.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace presence::testing {

class NotifySocket {
 public:
  // Binds; throws std::runtime_error when it cannot.
  explicit NotifySocket(std::string name);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& name() const { return name_; }  // the value for NOTIFY_SOCKET

  // The next message, or nullopt when none comes within `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Receives until a message has a line equal to `line` ("READY=1") and returns that message;
  // nullopt when none comes within `timeout`. Messages received on the way are kept in
  // received().
  std::optional<std::string> WaitForLine(const std::string& line,
                                         std::chrono::milliseconds timeout);
  const std::vector<std::string>& received() const { return received_; }

 private:
  std::string name_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

// True when `message` has the line `line` (lines are separated by '\n').
bool HasLine(const std::string& message, const std::string& line);

}  // namespace presence::testing
