#include "tests/fakes/notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace presence::testing {

NotifySocket::NotifySocket(std::string name) : name_(std::move(name)) {
  sockaddr_un address{};
  if (name_.empty() || name_.size() >= sizeof address.sun_path) {
    throw std::runtime_error("notify socket name empty or too long: " + name_);
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, name_.data(), name_.size());
  const bool abstract = name_[0] == '@';
  if (abstract) address.sun_path[0] = '\0';
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() + (abstract ? 0 : 1));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("bind " + name_ + ": " + why);
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  if (name_[0] != '@') ::unlink(name_.c_str());
}

std::optional<std::string> NotifySocket::Receive(std::chrono::milliseconds timeout) {
  pollfd ready{fd_, POLLIN, 0};
  if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  char buffer[4096];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n < 0) return std::nullopt;
  received_.emplace_back(buffer, static_cast<size_t>(n));
  return received_.back();
}

std::optional<std::string> NotifySocket::WaitForLine(const std::string& line,
                                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<std::string> message = Receive(left);
    if (!message) return std::nullopt;
    if (HasLine(*message, line)) return message;
  }
}

bool HasLine(const std::string& message, const std::string& line) {
  std::istringstream lines(message);
  for (std::string each; std::getline(lines, each);) {
    if (each == line) return true;
  }
  return false;
}

}  // namespace presence::testing
