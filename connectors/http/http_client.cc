// The only file that includes cpprestsdk (its headers are heavy and its U() macro clashes with
// Poco and Boost.Test; see design.md, Toolchain notes).
#include "connectors/http/http_client.h"

#include <Poco/String.h>
#include <cpprest/http_client.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <system_error>
#include <tuple>

namespace presence::connectors {
namespace {

class CppRestHttpClient : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    const std::string shown = RedactUrl(request.url);
    try {
      web::uri uri(request.url);
      web::http::client::http_client& client = ClientFor(uri, request.timeout);
      web::http::http_request message(request.method);
      message.set_request_uri(uri.resource());
      std::string content_type;
      for (const auto& [name, value] : request.headers) {
        if (Poco::icompare(name, "Content-Type") == 0) {
          content_type = value;
        } else {
          message.headers().add(name, value);
        }
      }
      if (!request.body.empty() || !content_type.empty()) {
        message.set_body(request.body,
                         content_type.empty() ? "application/octet-stream" : content_type);
      }
      web::http::http_response answer = client.request(message).get();
      HttpResponse response;
      response.status = answer.status_code();
      for (const auto& [name, value] : answer.headers()) response.headers.emplace_back(name, value);
      response.body = answer.extract_utf8string(true).get();
      return response;
    } catch (const web::http::http_exception& e) {
      const bool timed_out =
          e.error_code() == std::errc::timed_out || e.error_code() == std::errc::operation_canceled;
      return Error{timed_out ? "timeout" : "network",
                   (timed_out ? "no answer in time from " : "cannot reach ") + shown + ": " +
                       e.error_code().message()};
    } catch (const web::uri_exception& e) {
      return Error{"network", "not a valid URL: " + shown};
    } catch (const std::exception& e) {
      return Error{"network", "request to " + shown + " failed: " + e.what()};
    }
  }

 private:
  using Key = std::tuple<std::string, std::string, int, int64_t>;

  // One client per scheme, host, port and timeout: cpprestsdk keeps its connections there.
  web::http::client::http_client& ClientFor(const web::uri& uri, Millis timeout) {
    Key key{uri.scheme(), uri.host(), uri.port(), timeout.count()};
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = clients_.find(key);
    if (it == clients_.end()) {
      web::http::client::http_client_config config;
      config.set_timeout(timeout);
      web::uri_builder base;
      base.set_scheme(uri.scheme()).set_host(uri.host()).set_port(uri.port());
      it =
          clients_
              .emplace(key, std::make_unique<web::http::client::http_client>(base.to_uri(), config))
              .first;
    }
    return *it->second;
  }

  std::mutex mutex_;
  std::map<Key, std::unique_ptr<web::http::client::http_client>> clients_;
};

}  // namespace

std::unique_ptr<HttpClient> NewHttpClient() { return std::make_unique<CppRestHttpClient>(); }

}  // namespace presence::connectors
