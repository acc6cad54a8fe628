#pragma once

// The service manager's notification protocol (sd_notify(3)) without libsystemd. A unit of
// Type=notify learns that the agent is ready (READY=1), reloading (RELOADING=1), stopping
// (STOPPING=1) and alive (WATCHDOG=1, within WatchdogSec=) from datagrams the agent sends to
// the AF_UNIX socket systemd names in $NOTIFY_SOCKET. Outside systemd there is no such
// variable and every call does nothing.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace presence::agent {

class SystemdNotifier {
 public:
  // `socket` as in $NOTIFY_SOCKET: a file system path, or "@name" for an abstract socket.
  // Empty: disabled.
  explicit SystemdNotifier(std::string socket);
  // From $NOTIFY_SOCKET (disabled when unset).
  static SystemdNotifier FromEnvironment();
  ~SystemdNotifier();
  SystemdNotifier(SystemdNotifier&& other) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&&) = delete;
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return !socket_.empty(); }

  // Sends `message` (newline-separated VARIABLE=value lines) as one datagram. Any thread; never
  // blocks: when systemd's queue is full the message is dropped and an error returned. Ok
  // without doing anything when disabled.
  Status Notify(std::string_view message) const;

 private:
  std::string socket_;
  int fd_ = -1;
};

// How often systemd expects WATCHDOG=1: $WATCHDOG_USEC, when $WATCHDOG_PID is unset or names
// this process. nullopt without a watchdog.
std::optional<std::chrono::microseconds> WatchdogInterval();
// The same from the variables' values (nullptr: unset); `self` is this process's id.
std::optional<std::chrono::microseconds> ParseWatchdog(const char* usec, const char* pid,
                                                       pid_t self);

// "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC now>": systemd 253+ matches the reload to its
// request by the time; older versions read only RELOADING=1.
std::string ReloadingMessage();

}  // namespace presence::agent
