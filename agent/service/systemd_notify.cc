#include "agent/service/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace presence::agent {

SystemdNotifier::SystemdNotifier(std::string socket) : socket_(std::move(socket)) {
  if (enabled()) fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

SystemdNotifier SystemdNotifier::FromEnvironment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return SystemdNotifier(socket ? socket : "");
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& other) noexcept
    : socket_(std::move(other.socket_)), fd_(other.fd_) {
  other.socket_.clear();
  other.fd_ = -1;
}

Status SystemdNotifier::Notify(std::string_view message) const {
  if (!enabled()) return Status::Ok();
  auto failed = [this](const std::string& why) {
    return Error{"notify_failed", "NOTIFY_SOCKET " + socket_ + ": " + why};
  };
  if (fd_ < 0) return failed("no socket: " + std::string(std::strerror(errno)));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // A path needs its terminating zero inside sun_path; an abstract name (a leading zero byte
  // in place of the '@') is exactly as long as given.
  const bool abstract = socket_[0] == '@';
  if (socket_.size() + (abstract ? 0 : 1) > sizeof address.sun_path) {
    return failed("longer than a socket address may be");
  }
  std::memcpy(address.sun_path, socket_.data(), socket_.size());
  if (abstract) address.sun_path[0] = '\0';
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size() + (abstract ? 0 : 1));
  const ssize_t sent = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0) return failed(std::strerror(errno));
  return Status::Ok();
}

std::optional<std::chrono::microseconds> ParseWatchdog(const char* usec, const char* pid,
                                                       pid_t self) {
  auto number = [](const char* text) -> std::optional<long long> {
    if (text == nullptr) return std::nullopt;
    const char* end = text + std::strlen(text);
    long long value = 0;
    auto [stop, error] = std::from_chars(text, end, value);
    if (error != std::errc() || stop != end || value <= 0) return std::nullopt;
    return value;
  };
  if (pid != nullptr && number(pid) != static_cast<long long>(self)) return std::nullopt;
  std::optional<long long> interval = number(usec);
  if (!interval) return std::nullopt;
  return std::chrono::microseconds(*interval);
}

std::optional<std::chrono::microseconds> WatchdogInterval() {
  return ParseWatchdog(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());
}

std::string ReloadingMessage() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace presence::agent
