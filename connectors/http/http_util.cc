// The parts of http_client.h that do not need cpprestsdk.
#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <charconv>

#include "connectors/http/http_client.h"

namespace presence::connectors {
namespace {

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

std::optional<std::string> FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (Poco::icompare(std::string_view(key), name) == 0) return value;
  }
  return std::nullopt;
}

std::string UrlEncode(std::string_view text) {
  // Poco keeps the unreserved characters and encodes controls, non-ASCII and its own "illegal"
  // set; every other printable character is listed here so that it is encoded too.
  static const std::string kAlsoEncoded = " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}";
  std::string out;
  Poco::URI::encode(std::string(text), kAlsoEncoded, out);
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += UrlEncode(name) + "=" + UrlEncode(value);
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  std::string_view rest = url.substr(0, url.find_first_of("?#"));
  size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) return std::string(rest);
  size_t authority = scheme_end + 3;
  size_t path = rest.find('/', authority);
  size_t at = rest.substr(0, path).rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(rest);
  return std::string(rest.substr(0, authority)) + std::string(rest.substr(at + 1));
}

std::optional<Millis> RetryAfter(const HttpResponse& response, Timestamp now) {
  std::optional<std::string> header = response.Header("Retry-After");
  if (!header) return std::nullopt;
  std::string text = Trim(*header);
  long long seconds = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error == std::errc() && end == text.data() + text.size() && !text.empty()) {
    return Millis(std::max<long long>(seconds, 0) * 1000);
  }
  try {
    int zone = 0;
    Poco::DateTime date =
        Poco::DateTimeParser::parse(Poco::DateTimeFormat::HTTP_FORMAT, text, zone);
    auto at = Timestamp(Millis(date.timestamp().epochMicroseconds() / 1000 - zone * 1000LL));
    return std::max(Millis(0), std::chrono::duration_cast<Millis>(at - now));
  } catch (const Poco::Exception&) {
    return std::nullopt;  // not an HTTP date: no Retry-After (a pure parser)
  }
}

DeliveryResult ClassifyHttp(const Result<HttpResponse>& response, Timestamp now,
                            std::string_view what) {
  const std::string call(what);
  if (!response.ok()) return DeliveryResult::Retry(call + ": " + response.error().message);
  const int status = response->status;
  if (status >= 200 && status < 300) return DeliveryResult::Delivered();
  std::string body = response->body.substr(0, 300);
  std::string message =
      call + ": HTTP " + std::to_string(status) + (body.empty() ? "" : " " + body);
  if (status == 408 || status == 429 || status >= 500) {
    return DeliveryResult::Retry(std::move(message), RetryAfter(*response, now));
  }
  return DeliveryResult::Rejected(std::move(message));
}

}  // namespace presence::connectors
