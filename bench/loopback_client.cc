#include "bench/loopback_client.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace presence::bench {

size_t RaiseFileLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  return files.rlim_cur;
}

std::string SourceAddress(int block, size_t index, size_t per_address) {
  const size_t address = index / std::max<size_t>(per_address, 1);
  return "127." + std::to_string(block) + "." + std::to_string(address / 250) + "." +
         std::to_string(address % 250 + 1);
}

int ConnectFrom(const std::string& source, uint16_t port, bool nonblocking) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  int one = 1;
  // The port is chosen at connect, per destination: many connections share a source address.
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 &&
      !(nonblocking && errno == EINPROGRESS)) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

ssize_t SendSome(int fd, std::string_view bytes) {
  for (;;) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) return sent;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// The value of a header in a lower-cased head, "" when absent.
std::string HeaderValue(const std::string& lower_head, const std::string& name) {
  const size_t at = lower_head.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t start = at + name.size() + 3;
  while (start < lower_head.size() && lower_head[start] == ' ') ++start;
  return lower_head.substr(start, lower_head.find("\r\n", start) - start);
}

}  // namespace

std::optional<Response> ResponseReader::Take() {
  const size_t end = buffer_.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  Response response;
  response.head = buffer_.substr(0, end + 4);
  const size_t space = response.head.find(' ');
  response.status = space == std::string::npos ? 0 : std::atoi(response.head.c_str() + space + 1);
  const std::string lower = Lower(response.head);
  size_t consumed = end + 4;
  if (HeaderValue(lower, "transfer-encoding").find("chunked") != std::string::npos) {
    size_t at = consumed;
    for (;;) {
      const size_t line_end = buffer_.find("\r\n", at);
      if (line_end == std::string::npos) return std::nullopt;
      const size_t size = std::strtoul(buffer_.c_str() + at, nullptr, 16);
      if (size == 0) {
        // The last chunk, then (no trailers are sent) an empty line.
        if (buffer_.size() < line_end + 4) return std::nullopt;
        consumed = line_end + 4;
        break;
      }
      if (buffer_.size() < line_end + 2 + size + 2) return std::nullopt;
      response.body.append(buffer_, line_end + 2, size);
      at = line_end + 2 + size + 2;
    }
  } else {
    const std::string length = HeaderValue(lower, "content-length");
    const size_t size = length.empty() ? 0 : std::strtoul(length.c_str(), nullptr, 10);
    if (buffer_.size() < consumed + size) return std::nullopt;
    response.body = buffer_.substr(consumed, size);
    consumed += size;
  }
  buffer_.erase(0, consumed);
  return response;
}

std::string RequestText(const std::string& method, const std::string& path,
                        const std::string& token, const std::string& body) {
  std::string text = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) text += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST") {
    text +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return text + "\r\n" + body;
}

std::optional<Response> Fetch(uint16_t port, const std::string& method, const std::string& path,
                              const std::string& token, const std::string& body,
                              std::chrono::milliseconds timeout) {
  const int fd = ConnectFrom("127.0.0.1", port, false);
  if (fd < 0) return std::nullopt;
  std::optional<Response> response;
  if (SendAll(fd, RequestText(method, path, token, body))) {
    const auto deadline = Clock::now() + timeout;
    ResponseReader reader;
    while (!(response = reader.Take())) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd entry{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[65536];
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) break;
      reader.Feed(std::string_view(chunk, static_cast<size_t>(got)));
    }
  }
  ::close(fd);
  return response;
}

std::vector<std::string> SelectableLabels(uint16_t port, const std::string& token) {
  std::vector<std::string> labels;
  std::optional<Response> answer = Fetch(port, "GET", "/api/v1/states", token);
  if (!answer || answer->status != 200) return labels;
  Poco::JSON::Array::Ptr states =
      Poco::JSON::Parser().parse(answer->body).extract<Poco::JSON::Array::Ptr>();
  for (size_t i = 0; i < states->size(); ++i) {
    Poco::JSON::Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    if (!state->has("selectable") || state->getValue<bool>("selectable")) {
      labels.push_back(state->getValue<std::string>("label"));
    }
  }
  return labels;
}

Spread SpreadOf(std::vector<int64_t> micros) {
  Spread spread;
  spread.count = micros.size();
  if (micros.empty()) return spread;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double fraction) {
    const size_t index = std::min(micros.size() - 1, static_cast<size_t>(fraction * micros.size()));
    return micros[index] / 1000.0;
  };
  spread.p50_ms = at(0.50);
  spread.p99_ms = at(0.99);
  spread.max_ms = micros.back() / 1000.0;
  return spread;
}

std::string SpreadFields(const Spread& spread) {
  if (spread.count == 0) return "p50_ms= p99_ms= max_ms=";
  char text[128];
  std::snprintf(text, sizeof text, "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f", spread.p50_ms,
                spread.p99_ms, spread.max_ms);
  return text;
}

int64_t MicrosSince(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration_cast<std::chrono::microseconds>(end - start).count();
}

std::string Arguments::Text(const std::string& name, const std::string& fallback) const {
  for (size_t i = 0; i + 1 < args_.size(); ++i) {
    if (args_[i] == name) return args_[i + 1];
  }
  return fallback;
}

long Arguments::Number(const std::string& name, long fallback) const {
  const std::string text = Text(name, "");
  return text.empty() ? fallback : std::strtol(text.c_str(), nullptr, 10);
}

double Arguments::Real(const std::string& name, double fallback) const {
  const std::string text = Text(name, "");
  return text.empty() ? fallback : std::strtod(text.c_str(), nullptr);
}

bool Arguments::Has(const std::string& name) const {
  return std::find(args_.begin(), args_.end(), name) != args_.end();
}

}  // namespace presence::bench
