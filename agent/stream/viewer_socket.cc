#include "agent/stream/viewer_socket.h"

#include <Poco/Exception.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SecureStreamSocketImpl.h>
#include <Poco/Timespan.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <limits>
#include <optional>

namespace presence::agent {
namespace {

// RFC 8446 5.1: a TLS record carries at most 2^14 bytes of data; Send writes one at a time.
constexpr size_t kTlsRecord = 16 * 1024;
constexpr int kWouldBlock = std::numeric_limits<int>::min();  // direction not told

// The directions the descriptor is ready in now, as epoll events. An error or hang-up counts
// as both: any operation then ends at once (by failing).
uint32_t Readiness(int fd) {
  pollfd polled{fd, POLLIN | POLLOUT, 0};
  if (::poll(&polled, 1, 0) <= 0) return 0;
  if (polled.revents & (POLLERR | POLLHUP | POLLNVAL)) return EPOLLIN | EPOLLOUT;
  return ((polled.revents & POLLIN) ? EPOLLIN : 0u) | ((polled.revents & POLLOUT) ? EPOLLOUT : 0u);
}

// One TLS sendBytes or receiveBytes (`call`; `expected` is EPOLLOUT for a write, EPOLLIN for a
// read) on a non-blocking socket. Returns the bytes moved, 0 when the connection has ended, or
// nullopt when the call would block, with `wait` set to the epoll events that can let it go on
// (0 after a call that did not block). Other failures throw Poco::Exception.
//
// Poco 1.11 reports a call that would block in one of two ways. SecureStreamSocket documents
// ERR_SSL_WANT_READ/WANT_WRITE. But an accepted connection's SecureStreamSocketImpl wraps a
// plain socket impl on the same descriptor, and setBlocking(false) reaches only the outer one:
// SecureSocketImpl::mustRetry asks the inner one, which still says blocking, so it polls the
// descriptor in the direction OpenSSL wants for the socket's timeout (0, see the constructor)
// and throws TimeoutException, without telling which direction that was. Readiness just after
// tells: the direction wanted was found not ready. OpenSSL takes every byte it can read, so a
// read finding the socket readable again (or a write finding it writable) either raced with
// the peer, worth one more try, or waits for the other direction.
template <class Call>
std::optional<int> TlsCall(int fd, uint32_t expected, Call call, uint32_t& wait) {
  const uint32_t other = (EPOLLIN | EPOLLOUT) & ~expected;
  for (int attempt = 0;; ++attempt) {
    int result = 0;
    // mustRetry repeats the call on an EAGAIN or EINTR in errno, which OpenSSL does not clear:
    // one left over from an earlier call would loop forever on a connection that has ended.
    errno = 0;
    try {
      result = call();
    } catch (const Poco::TimeoutException&) {
      result = kWouldBlock;  // a non-blocking socket with nothing to do now: not an error
    }
    wait = 0;
    if (result >= 0) return result;
    if (result == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ) {
      wait = EPOLLIN;
    } else if (result == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE) {
      wait = EPOLLOUT;
    } else if (result != kWouldBlock) {
      return 0;  // no other negative result is documented: treat it as the end
    } else if (const uint32_t ready = Readiness(fd); (ready & expected) == 0) {
      wait = expected | (other & ~ready);  // the other direction too while it is not ready
    } else if (attempt > 0) {
      wait = other;
    } else {
      continue;
    }
    return std::nullopt;
  }
}

}  // namespace

ViewerSocket::ViewerSocket(Poco::Net::StreamSocket socket)
    : socket_(std::move(socket)),
      fd_(socket_.impl()->sockfd()),
      tls_(dynamic_cast<Poco::Net::SecureStreamSocketImpl*>(socket_.impl()) != nullptr) {
  if (fd_ < 0) throw Poco::InvalidAccessException("the viewer's socket is closed");
  socket_.setBlocking(false);
  socket_.setNoDelay(true);
  if (tls_) {
    // Poco waits up to these for a TLS call that would block (see TlsCall); whoever had the
    // socket before may have set them. An event loop must never wait.
    socket_.setReceiveTimeout(Poco::Timespan(0));
    socket_.setSendTimeout(Poco::Timespan(0));
  }
}

ViewerSocket::Transfer ViewerSocket::Send(std::string_view bytes) {
  return tls_ ? TlsSend(bytes) : PlainSend(bytes);
}

ViewerSocket::Transfer ViewerSocket::Receive(char* buffer, size_t size) {
  return tls_ ? TlsReceive(buffer, size) : PlainReceive(buffer, size);
}

ViewerSocket::Transfer ViewerSocket::PlainSend(std::string_view bytes) {
  if (bytes.empty()) return {};
  for (;;) {
    const ssize_t wrote = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (wrote > 0) return {static_cast<size_t>(wrote), false};
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {};
    return {0, true};
  }
}

ViewerSocket::Transfer ViewerSocket::PlainReceive(char* buffer, size_t size) {
  for (;;) {
    const ssize_t got = ::recv(fd_, buffer, size, 0);
    if (got > 0) return {static_cast<size_t>(got), false};
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {};
    return {0, true};
  }
}

ViewerSocket::Transfer ViewerSocket::TlsSend(std::string_view bytes) {
  Transfer result;
  Progress progress = stalled_ ? WriteRecord() : Progress::kDone;
  while (progress == Progress::kDone && result.bytes < bytes.size()) {
    record_.assign(bytes.substr(result.bytes, kTlsRecord));
    result.bytes += record_.size();  // taken: written now, or held until it can be
    progress = WriteRecord();
  }
  result.closed = progress == Progress::kClosed;
  return result;
}

ViewerSocket::Progress ViewerSocket::WriteRecord() {
  try {
    while (!record_.empty()) {
      const std::optional<int> wrote = TlsCall(
          fd_, EPOLLOUT,
          [this] { return socket_.sendBytes(record_.data(), static_cast<int>(record_.size())); },
          send_wait_);
      stalled_ = !wrote.has_value();
      if (stalled_) return Progress::kStalled;
      if (*wrote == 0) return Progress::kClosed;
      // Only with SSL_MODE_ENABLE_PARTIAL_WRITE is a record taken in part; what is left is
      // a new write, which may start anywhere.
      record_.erase(0, static_cast<size_t>(*wrote));
    }
    return Progress::kDone;
  } catch (const Poco::Exception&) {
    return Progress::kClosed;  // a viewer that went or broke the TLS session: it is dropped
  }
}

ViewerSocket::Transfer ViewerSocket::TlsReceive(char* buffer, size_t size) {
  try {
    const std::optional<int> got = TlsCall(
        fd_, EPOLLIN,
        [this, buffer, size] { return socket_.receiveBytes(buffer, static_cast<int>(size)); },
        receive_wait_);
    if (!got) return {};
    if (*got == 0) return {0, true};
    return {static_cast<size_t>(*got), false};
  } catch (const Poco::Exception&) {
    return {0, true};  // as a closed connection: the viewer is dropped, no error of ours
  }
}

bool ViewerSocket::buffered() {
  if (!tls_) return false;
  try {
    return socket_.available() > 0;  // SSL_pending
  } catch (const Poco::Exception&) {
    return false;  // a broken session has nothing buffered; the next read reports the close
  }
}

uint32_t ViewerSocket::Interest(bool queued) const {
  if (!tls_) return EPOLLIN | (queued ? EPOLLOUT : 0u);
  uint32_t events = receive_wait_ != 0 ? receive_wait_ : EPOLLIN;
  if (queued || stalled_) events |= send_wait_ != 0 ? send_wait_ : EPOLLOUT;
  return events;
}

uint32_t ViewerSocket::SendInterest() const {
  return tls_ && send_wait_ != 0 ? send_wait_ : EPOLLOUT;
}

uint32_t ViewerSocket::ReceiveInterest() const {
  return tls_ && receive_wait_ != 0 ? receive_wait_ : EPOLLIN;
}

bool ViewerSocket::SendReady(uint32_t events) const {
  return (events & (tls_ && send_wait_ != 0 ? send_wait_ : EPOLLOUT)) != 0;
}

bool ViewerSocket::ReceiveReady(uint32_t events) const {
  const uint32_t wanted = tls_ && receive_wait_ != 0 ? receive_wait_ : EPOLLIN;
  return (events & (wanted | EPOLLHUP | EPOLLERR)) != 0;
}

void ViewerSocket::Close() {
  try {
    socket_.close();
  } catch (...) {
    // Closing cannot usefully fail; the descriptor is released either way.
  }
}

}  // namespace presence::agent
