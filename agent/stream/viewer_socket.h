#pragma once

// One live-stream viewer's connection as the stream hub's epoll loop drives it: non-blocking
// writes and reads over plain TCP or TLS, and the epoll events a stalled transfer waits for.
//
// Plain TCP is ::send/::recv on the descriptor. TLS goes through the connection's Poco
// SecureStreamSocketImpl (OpenSSL) and differs in three ways the caller must respect:
//  - a write can have to wait for the socket to be readable and a read for it to be writable
//    (OpenSSL's SSL_ERROR_WANT_READ/WANT_WRITE), so what to wait for comes from Interest();
//  - OpenSSL needs a write that would block repeated with the same buffer, so Send writes each
//    record from a copy it owns and, when the record stalls, holds it until the connection
//    takes it (held());
//  - bytes OpenSSL has already read and decrypted are not visible to epoll (buffered()).
// OpenSSL writes with write(2), without MSG_NOSIGNAL: a process with TLS viewers must ignore
// SIGPIPE (RunServe does).
//
// Used by one thread at a time.

#include <Poco/Net/StreamSocket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace presence::agent {

class ViewerSocket {
 public:
  struct Transfer {
    size_t bytes = 0;     // taken from, or read into, the caller's buffer
    bool closed = false;  // the connection is over: closed or reset by the peer, or a TLS error
  };

  // Takes a connected socket and makes it non-blocking. A socket whose impl is a
  // SecureStreamSocketImpl is TLS; its handshake must be complete (the HTTP server has read a
  // request through it). Throws Poco::Exception for a socket that is already closed.
  explicit ViewerSocket(Poco::Net::StreamSocket socket);
  // Neither copied nor moved: OpenSSL keeps a pointer into record_ while it is stalled.
  ViewerSocket(const ViewerSocket&) = delete;
  ViewerSocket& operator=(const ViewerSocket&) = delete;

  int fd() const { return fd_; }
  bool tls() const { return tls_; }

  // Writes as much of `bytes` as the connection takes now: returns once all is taken or the
  // connection is full. With TLS the bytes taken can end with one record still held here; call
  // Send again (with the bytes that follow, or none) while held() is not 0.
  Transfer Send(std::string_view bytes);
  size_t held() const { return stalled_ ? record_.size() : 0; }

  // Reads what has arrived, at most `size` (> 0) bytes; 0 bytes and not closed: nothing yet.
  Transfer Receive(char* buffer, size_t size);
  // TLS holds decrypted bytes that epoll will not report: Receive them now.
  bool buffered();

  // The epoll events to wait for, given whether the caller has bytes queued for Send: readable
  // (or what a stalled TLS read needs), and what lets the output go on while there is any.
  uint32_t Interest(bool queued) const;
  // The epoll events a write, or a read, waits for, each alone (a server that is only writing
  // an answer must not be woken by a client that sends more meanwhile).
  uint32_t SendInterest() const;
  uint32_t ReceiveInterest() const;
  // Whether an epoll event can let Send, or Receive, make progress.
  bool SendReady(uint32_t events) const;
  bool ReceiveReady(uint32_t events) const;

  void Close();  // never throws; the descriptor is released

 private:
  Transfer PlainSend(std::string_view bytes);
  Transfer PlainReceive(char* buffer, size_t size);
  Transfer TlsSend(std::string_view bytes);
  Transfer TlsReceive(char* buffer, size_t size);
  enum class Progress { kDone, kStalled, kClosed };
  Progress WriteRecord();

  Poco::Net::StreamSocket socket_;
  int fd_ = -1;
  bool tls_ = false;
  // TLS only.
  std::string record_;         // the record being written; a stable buffer for OpenSSL's retry
  bool stalled_ = false;       // record_ would block and must be retried as it is
  uint32_t send_wait_ = 0;     // events a stalled write waits for; 0 when not stalled
  uint32_t receive_wait_ = 0;  // events a stalled read waits for; 0 when not stalled
};

}  // namespace presence::agent
