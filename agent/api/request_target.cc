#include "agent/api/request_target.h"

#include <optional>

namespace presence::agent {
namespace {

Error Malformed(std::string message) { return Error{"malformed_request", std::move(message)}; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text`, which starts at byte `offset` of the target (for the message).
Result<std::string> Decode(std::string_view text, std::size_t offset, bool plus_is_space,
                           std::string_view where) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      const int high = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Malformed("the " + std::string(where) + " has a malformed percent escape '" +
                         std::string(text.substr(i, 3)) + "' at byte " +
                         std::to_string(offset + i) +
                         " of the target: '%' must be followed by two hex digits (write '%' "
                         "itself as %25)");
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return out;
}

// Where the path starts: 0 for origin-form, after the authority for absolute-form.
std::optional<std::size_t> PathStart(std::string_view raw) {
  if (!raw.empty() && raw.front() == '/') return 0;
  const std::size_t scheme_end = raw.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  for (char c : raw.substr(0, scheme_end)) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!letter && !other) return std::nullopt;
  }
  const std::size_t path = raw.find_first_of("/?#", scheme_end + 3);
  if (path == std::string_view::npos || raw[path] != '/') return std::nullopt;
  return path;
}

Status SplitPath(std::string_view path, std::size_t offset, RequestTarget& target) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) {
      if (target.segments.size() == kMaxPathSegments) {
        return Malformed("the path has more than " + std::to_string(kMaxPathSegments) +
                         " segments");
      }
      Result<std::string> segment =
          Decode(path.substr(start, end - start), offset + start, false, "path");
      if (!segment.ok()) return segment.error();
      target.segments.push_back(std::move(*segment));
    }
    start = end + 1;
  }
  return Status::Ok();
}

Status SplitQuery(std::string_view query, std::size_t offset, RequestTarget& target) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      if (target.query.size() == kMaxQueryParameters) {
        return Malformed("the query has more than " + std::to_string(kMaxQueryParameters) +
                         " parameters");
      }
      const std::size_t equals = piece.find('=');
      std::string_view name = piece.substr(0, equals);
      std::string_view value =
          equals == std::string_view::npos ? std::string_view() : piece.substr(equals + 1);
      Result<std::string> decoded_name = Decode(name, offset + start, true, "query");
      if (!decoded_name.ok()) return decoded_name.error();
      Result<std::string> decoded_value =
          Decode(value, offset + start + name.size() + 1, true, "query");
      if (!decoded_value.ok()) return decoded_value.error();
      target.query.emplace_back(std::move(*decoded_name), std::move(*decoded_value));
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<RequestTarget> ParseRequestTarget(std::string_view raw) {
  std::optional<std::size_t> path_start = PathStart(raw);
  if (!path_start) {
    return Malformed("the request target must be a path starting with '/' (like /api/v1/health)");
  }
  std::string_view rest = raw.substr(*path_start);
  rest = rest.substr(0, rest.find('#'));
  const std::size_t question = rest.find('?');
  RequestTarget target;
  target.raw_path = std::string(rest.substr(0, question));
  if (Status status = SplitPath(target.raw_path, *path_start, target); !status.ok()) {
    return status.error();
  }
  if (question != std::string_view::npos) {
    Status status = SplitQuery(rest.substr(question + 1), *path_start + question + 1, target);
    if (!status.ok()) return status.error();
  }
  return target;
}

std::string LoggablePath(std::string_view raw) {
  constexpr std::size_t kMaxLogged = 200;
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string_view path = raw.substr(0, raw.find_first_of("?#"));
  std::string out;
  for (char c : path.substr(0, kMaxLogged)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  if (path.size() > kMaxLogged) out += "...";
  return out;
}

}  // namespace presence::agent
