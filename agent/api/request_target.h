#pragma once

// The request-target of an HTTP request (RFC 9112 3.2), split before it is decoded: the path
// is cut on '/' first and each segment percent-decoded after (RFC 3986 2.4), so "%2F" inside a
// segment is a character of that segment and never a separator. Routing on decoded segments
// of the raw path keeps "/api/v1/agents%2F1001%2Fstate" from reaching the state route.
// Pure (no I/O, no Poco): the fuzz target calls ParseRequestTarget directly.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace presence::agent {

// Bounds on what one request-target may hold; more is an error (no route needs more).
inline constexpr std::size_t kMaxPathSegments = 32;
inline constexpr std::size_t kMaxQueryParameters = 64;

struct RequestTarget {
  std::string raw_path;               // as received, undecoded, without the query
  std::vector<std::string> segments;  // decoded; empty segments ("//", trailing '/') left out
  // Decoded (name, value) pairs in the order received; '+' is a space (HTML forms); a name
  // without '=' has the value "". Empty pieces ("a=1&&b=2") are left out.
  std::vector<std::pair<std::string, std::string>> query;
};

// Parses an origin-form target ("/path?query"), or an absolute-form one
// ("http://host/path?query", whose path is then used). A fragment ("#...") is ignored.
// Errors (code "malformed_request", the message says what and where): a malformed percent
// escape (not '%' and two hex digits), a target that is not a path, more than
// kMaxPathSegments segments or kMaxQueryParameters query parameters.
Result<RequestTarget> ParseRequestTarget(std::string_view raw);

// The target as a log may show it: without the query and fragment (a query may carry a secret,
// such as a token pasted into a URL), bytes outside printable ASCII as %XX, and at most 200
// bytes of path ("..." when cut).
std::string LoggablePath(std::string_view raw);

}  // namespace presence::agent
