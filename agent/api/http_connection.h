#pragma once

// The HTTP connection the API runs on: Poco's request loop (HTTPServerConnection) with the
// protocol errors answered by the API's rules. Poco's own connection answers a request head it
// cannot read (request line or header too long, too many headers, a malformed line) with an
// empty 400 before any handler runs; this one answers with the API's JSON error and headers.
// It also refuses, before any handler runs, what Poco would accept but a proxy in front might
// read differently (RFC 9112 5.2, 6.3): a folded header (obs-fold), a control character in a
// header value, a Content-Length that is not a number of bytes or that disagrees with another,
// Content-Length together with Transfer-Encoding, and a body on a GET or HEAD.

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>

#include <functional>
#include <memory>

namespace presence::agent {

// Raised by HttpServer::stopAll to end the connections (defined in http_connection.cc).
struct HttpStopSignal;

// Builds one API connection per accepted socket; requests go to `handlers`. `stop` (made when
// null) is the signal HttpServer::stopAll raises; a plain TCPServer::stop() lets connections
// finish at their own pace.
Poco::Net::TCPServerConnectionFactory::Ptr NewHttpConnectionFactory(
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, Poco::Net::HTTPServerParams::Ptr params,
    std::shared_ptr<HttpStopSignal> stop = nullptr);

// Poco's HTTPServer with these connections (Poco 1.11's HTTPServer takes no connection
// factory): the same constructor and stopAll. `wrap`, when given, wraps the connection factory
// (a per-client connection limit, say) before the server uses it.
class HttpServer : public Poco::Net::TCPServer {
 public:
  using Wrap = std::function<Poco::Net::TCPServerConnectionFactory::Ptr(
      Poco::Net::TCPServerConnectionFactory::Ptr)>;
  HttpServer(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, Poco::ThreadPool& pool,
             const Poco::Net::ServerSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
             const Wrap& wrap = nullptr);
  ~HttpServer() override;

  // Stops accepting; requests in flight finish (abort_current false) or their sockets are shut
  // down (true). As Poco's HTTPServer::stopAll.
  void stopAll(bool abort_current = false);

 private:
  HttpServer(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, Poco::ThreadPool& pool,
             const Poco::Net::ServerSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
             const Wrap& wrap, std::shared_ptr<HttpStopSignal> stop);

  std::shared_ptr<HttpStopSignal> stop_;
};

}  // namespace presence::agent
