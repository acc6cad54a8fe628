#include "common/web_origin.h"

#include <algorithm>
#include <cctype>

namespace presence {

std::optional<std::string> NormalOrigin(std::string_view text) {
  std::string origin(text);
  std::transform(origin.begin(), origin.end(), origin.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t separator = origin.find("://");
  if (separator == std::string::npos) return std::nullopt;
  const std::string scheme = origin.substr(0, separator);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string host = origin.substr(separator + 3);
  std::string port;
  // An IPv6 literal is bracketed ("[::1]:8080"); the port follows the last colon after it.
  const size_t bracket = host.rfind(']');
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    port = host.substr(colon + 1);
    host.resize(colon);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) == 0 || std::stoi(port) > 65535) {
      return std::nullopt;
    }
    port = std::to_string(std::stoi(port));  // no leading zeros
  }
  // An IPv6 literal: hex digits, colons and dots (an embedded IPv4) only, so that nothing else
  // (a space, a quote, a line break) can ride into a header the origin is written to.
  const bool bracketed =
      host.size() > 2 && host.front() == '[' && host.back() == ']' &&
      std::all_of(host.begin() + 1, host.end() - 1, [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.';
      });
  const bool named = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
  if (!bracketed && !named) return std::nullopt;
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port.clear();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

bool OriginAllowed(std::string_view origin, std::string_view host, bool tls,
                   const std::vector<std::string>& allowed) {
  const std::optional<std::string> asked = NormalOrigin(origin);
  if (!asked) return false;
  const std::optional<std::string> served =
      host.empty() ? std::nullopt
                   : NormalOrigin(std::string(tls ? "https://" : "http://") + std::string(host));
  if (served && *asked == *served) return true;
  return std::find(allowed.begin(), allowed.end(), *asked) != allowed.end();
}

}  // namespace presence
