#include "common/base64.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>

#include <iterator>
#include <sstream>

namespace presence {
namespace {

std::string Encode(std::string_view bytes, int options) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, options);
  encoder.rdbuf()->setLineLength(0);  // Poco wraps at 72 characters by default
  encoder.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

constexpr int kUrl = Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING;

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, 0); }

std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrl); }

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::istringstream in{std::string(text)};
  Poco::Base64Decoder decoder(in, kUrl);
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
  // Poco also takes padding, stray bits and a lone last character: only the one canonical
  // spelling of the bytes is base64url here.
  if (Base64UrlEncode(bytes) != text) return std::nullopt;
  return bytes;
}

}  // namespace presence
