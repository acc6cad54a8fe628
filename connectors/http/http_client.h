#pragma once

// Outbound HTTP(S) for the connectors, behind our own small interface so the implementation
// (cpprestsdk today) can be replaced and tests can count what is sent. Synchronous: a
// delivery worker waits for its answer, bounded by the request's timeout.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "connectors/connector.h"

namespace presence::connectors {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute http:// or https://
  Headers headers;
  std::string body;
  Millis timeout{10000};  // connect + send + answer
};

// The first header of that name (case-insensitive), if any.
std::optional<std::string> FindHeader(const Headers& headers, std::string_view name);

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any answer from the server is a response, whatever its status. Errors: "network" (refused,
  // reset, unreachable, TLS failure) and "timeout"; their messages name the host, never the
  // query string or credentials. Thread-safe.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// cpprestsdk's client; connections are kept per scheme, host and port.
std::unique_ptr<HttpClient> NewHttpClient();

// Percent-encoding for URL parts and application/x-www-form-urlencoded bodies, by
// Poco::URI::encode: every byte but the RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~)
// becomes %XX in upper-case hex; a space is %20, never '+'.
std::string UrlEncode(std::string_view text);
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// The URL without its query and user info, for messages ("https://host/path").
std::string RedactUrl(std::string_view url);

// Retry-After as seconds ("120") or an HTTP date, as a wait from `now`; nullopt when absent
// or unreadable. Never negative.
std::optional<Millis> RetryAfter(const HttpResponse& response, Timestamp now);

// The usual reading of an answer: 2xx delivered; 408, 429, 5xx and network errors retried
// (whole connector, with Retry-After); any other status rejected. `what` names the call in
// messages ("setPresence for 1001").
DeliveryResult ClassifyHttp(const Result<HttpResponse>& response, Timestamp now,
                            std::string_view what);

}  // namespace presence::connectors
