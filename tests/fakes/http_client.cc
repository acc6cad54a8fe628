#include "connectors/http/http_client.h"

#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>

#include "tests/fakes/http_client.h"

namespace presence::testing {
std::string HttpResponse::Header(std::string_view name) const {
  return connectors::FindHeader(headers, name).value_or("");
}

Poco::JSON::Object::Ptr HttpResponse::Json() const {
  Poco::JSON::Parser parser;
  Poco::Dynamic::Var parsed = parser.parse(body);
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw std::runtime_error("not a JSON object: " + body);
  }
  return parsed.extract<Poco::JSON::Object::Ptr>();
}

std::string HttpResponse::ErrorCode() const {
  try {
    Poco::JSON::Object::Ptr error = Json()->getObject("error");
    if (!error || !error->has("message") || !error->get("message").isString()) return "";
    return error->getValue<std::string>("code");
  } catch (const std::exception&) {  // Poco::Exception too
    return "";
  }
}

HttpClient::HttpClient(uint16_t port, std::chrono::seconds timeout) : session_("127.0.0.1", port) {
  session_.setKeepAlive(true);
  session_.setTimeout(Poco::Timespan(timeout.count(), 0));
}

HttpResponse HttpClient::Send(const HttpRequest& request) {
  Poco::Net::HTTPRequest out(request.method, request.path, Poco::Net::HTTPMessage::HTTP_1_1);
  out.setKeepAlive(true);
  if (!request.token.empty()) out.set("Authorization", "Bearer " + request.token);
  for (const auto& [name, value] : request.headers) out.add(name, value);
  const bool has_body =
      !request.body.empty() || request.method == "POST" || request.method == "PUT";
  if (has_body) {
    if (!request.content_type.empty()) out.setContentType(request.content_type);
    if (request.chunked) {
      out.setChunkedTransferEncoding(true);
    } else {
      out.setContentLength(static_cast<std::streamsize>(request.body.size()));
    }
  }
  std::ostream& body_out = session_.sendRequest(out);
  if (has_body) body_out << request.body;
  Poco::Net::HTTPResponse in;
  std::istream& body_in = session_.receiveResponse(in);
  HttpResponse response;
  response.status = static_cast<int>(in.getStatus());
  response.reason = in.getReason();
  for (const auto& [name, value] : in) response.headers.emplace_back(name, value);
  Poco::StreamCopier::copyToString(body_in, response.body);
  return response;
}

HttpResponse HttpClient::Get(const std::string& path, const std::string& token) {
  return Send({.method = "GET", .path = path, .token = token});
}

HttpResponse HttpClient::Put(const std::string& path, const std::string& token,
                             const std::string& body) {
  return Send({.method = "PUT", .path = path, .token = token, .body = body});
}

HttpResponse HttpClient::Post(const std::string& path, const std::string& token,
                              const std::string& body) {
  return Send({.method = "POST", .path = path, .token = token, .body = body});
}

HttpResponse HttpClient::Delete(const std::string& path, const std::string& token) {
  return Send({.method = "DELETE", .path = path, .token = token});
}

int ConnectFrom(const std::string& from, uint16_t port, int receive_buffer) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  // Many connections from one address: the port is picked at connect, per destination.
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (receive_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("connect from " + from + ": " + error);
  }
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

RawConnection::RawConnection(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + error);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConnection::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

std::optional<std::string> RawConnection::Receive(std::chrono::milliseconds timeout) {
  pollfd entry{fd_, POLLIN, 0};
  int ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno == EINTR) return std::string();
  if (ready == 0) return std::string();
  char chunk[16 * 1024];
  const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) return std::string();
  if (got <= 0) return std::nullopt;
  return std::string(chunk, static_cast<size_t>(got));
}

int RawConnection::ReadHead(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string buffer = std::move(leftover);
  leftover.clear();
  size_t end = std::string::npos;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    std::optional<std::string> bytes = Receive(left);
    if (!bytes) return 0;
    buffer += *bytes;
  }
  head_ = buffer.substr(0, end + 4);
  leftover = buffer.substr(end + 4);
  // "HTTP/1.1 200 OK"
  const size_t space = head_.find(' ');
  if (head_.rfind("HTTP/1.", 0) != 0 || space == std::string::npos) return 0;
  return std::atoi(head_.c_str() + space + 1);
}

std::string RawGet(const std::string& path, const HttpHeaders& headers) {
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  return request + "\r\n";
}

std::optional<SseEvent> TakeSseBlock(std::string& text) {
  SseEvent block;
  bool has_data = false;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) return std::nullopt;  // the block is not complete yet
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name.empty()) {
      block.comment = value;
    } else if (name == "id") {
      block.id = value;
    } else if (name == "event") {
      block.event = value;
    } else if (name == "retry") {
      block.retry = value;
    } else if (name == "data") {
      if (has_data) block.data += '\n';
      block.data += value;
      has_data = true;
    }
  }
  text.erase(0, start);
  return block;
}

void SseParser::Feed(std::string_view bytes) {
  buffer_.append(bytes);
  while (std::optional<SseEvent> block = TakeSseBlock(buffer_)) {
    if (!block->id.empty()) last_id_ = block->id;
    if (block->data.empty()) continue;  // a comment or retry: no event
    block->id = last_id_;
    done_.push_back(std::move(*block));
  }
}

std::vector<SseEvent> SseParser::Take() {
  std::vector<SseEvent> events;
  events.swap(done_);
  return events;
}

std::string NewWebSocketKey() {
  std::random_device random;
  std::string bytes(16, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random() & 0xff);
  std::ostringstream key;
  Poco::Base64Encoder encoder(key);
  encoder << bytes;
  encoder.close();
  return key.str();
}

}  // namespace presence::testing
