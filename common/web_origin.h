#pragma once

// Web origins (RFC 6454): the configuration's allowed_origins and the WebSocket upgrade's Origin
// check speak the same normal form.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace presence {

// An origin as browsers send it in the Origin header (RFC 6454 6.1): "scheme://host[:port]",
// scheme http or https, lowercase, the scheme's default port left out. `text` may differ in
// case and name a default port; nullopt when it is not such an origin (a path, "null", other
// schemes). RFC 6455 10.2: a server decides by the Origin which pages may open its WebSocket.
std::optional<std::string> NormalOrigin(std::string_view text);

// Whether a page of `origin` (the request's Origin header, not empty) may open the WebSocket:
// it is the origin the request was made to (its Host header, over https when `tls`) or one
// of `allowed` (normal origins, see NormalOrigin). A client without an Origin header is not a
// browser page and is not checked here.
bool OriginAllowed(std::string_view origin, std::string_view host, bool tls,
                   const std::vector<std::string>& allowed);

}  // namespace presence
