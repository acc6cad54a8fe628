// Percent-encoding for URLs and form bodies: every byte value, and the strings the connectors
// pass (tenants, user ids, phone numbers, pass codes, OAuth secrets).

#include <boost/test/unit_test.hpp>
#include <string>

#include "connectors/http/http_client.h"

namespace presence::connectors {
namespace {

// RFC 3986 section 2.3: the unreserved characters stay, every other byte is %XX (upper-case).
std::string Expected(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
      c == '_' || c == '.' || c == '~') {
    return std::string(1, static_cast<char>(c));
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string{'%', kHex[c >> 4], kHex[c & 0xF]};
}

const char* const kTypical[] = {
    "",
    "contoso.onmicrosoft.com",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "alex.wilber@contoso.com",
    "+49 (30) 1234-567#8*9",
    "s3cr&t=+/?%~_.",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "caf\xc3\xa9 \xe2\x82\xac",
    "line\r\nbreak\ttab\x7f",
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_util_test)

BOOST_AUTO_TEST_CASE(url_encode_keeps_unreserved_and_percent_encodes_every_other_byte) {
  for (int byte = 0; byte < 256; ++byte) {
    std::string text(1, static_cast<char>(byte));
    BOOST_TEST(UrlEncode(text) == Expected(static_cast<unsigned char>(byte)), "byte " << byte);
  }
}

BOOST_AUTO_TEST_CASE(url_encode_of_typical_strings) {
  BOOST_TEST(UrlEncode("contoso.onmicrosoft.com") == "contoso.onmicrosoft.com");
  BOOST_TEST(UrlEncode("alex.wilber@contoso.com") == "alex.wilber%40contoso.com");
  BOOST_TEST(UrlEncode("+49 (30) 1234-567#8*9") == "%2B49%20%2830%29%201234-567%238%2A9");
  BOOST_TEST(UrlEncode("s3cr&t=+/?%~_.") == "s3cr%26t%3D%2B%2F%3F%25~_.");
  BOOST_TEST(UrlEncode("caf\xc3\xa9 \xe2\x82\xac") == "caf%C3%A9%20%E2%82%AC");
  BOOST_TEST(UrlEncode("line\r\nbreak\ttab\x7f") == "line%0D%0Abreak%09tab%7F");
  for (const char* text : kTypical) {
    std::string expected;
    for (char c : std::string(text)) expected += Expected(static_cast<unsigned char>(c));
    BOOST_TEST(UrlEncode(text) == expected, text);
  }
}

BOOST_AUTO_TEST_CASE(form_encode_joins_encoded_pairs) {
  BOOST_TEST(FormEncode({{"grant_type", "client_credentials"}, {"a b", "c&d=e"}}) ==
             "grant_type=client_credentials&a%20b=c%26d%3De");
  BOOST_TEST(FormEncode({}) == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
