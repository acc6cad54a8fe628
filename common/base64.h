#pragma once

// Base64 (RFC 4648) as one-line strings, over Poco's encoder and decoder: the WebSocket accept
// key, HTTP Basic credentials, AMI's encoded values, API tokens and JWT parts all need the same
// thing, and Poco's stream interface wraps lines at 72 characters unless told otherwise.

#include <optional>
#include <string>
#include <string_view>

namespace presence {

// Section 4, with padding, no line breaks.
std::string Base64Encode(std::string_view bytes);

// Section 5 (base64url: '-' and '_'), without padding, no line breaks (RFC 7515 section 2).
std::string Base64UrlEncode(std::string_view bytes);

// The bytes of a base64url text without padding; nullopt for anything else (other characters,
// padding, a length no encoding gives, a non-canonical last character).
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace presence
