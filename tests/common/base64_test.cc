#include "common/base64.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <utility>
#include <vector>

namespace presence {
namespace {

BOOST_AUTO_TEST_SUITE(base64_test)

BOOST_AUTO_TEST_CASE(rfc_4648_test_vectors) {
  // RFC 4648 section 10.
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    BOOST_TEST_CONTEXT(bytes) {
      BOOST_CHECK_EQUAL(Base64Encode(bytes), text);
      std::string unpadded = text.substr(0, text.find('='));
      BOOST_CHECK_EQUAL(Base64UrlEncode(bytes), unpadded);
      BOOST_CHECK_EQUAL(Base64UrlDecode(unpadded).value_or("<none>"), bytes);
    }
  }
}

BOOST_AUTO_TEST_CASE(long_input_stays_on_one_line) {
  // Poco's encoder breaks lines at 72 characters unless told not to; a header value or an
  // AMI variable must never contain a line break.
  const std::string bytes(300, '\xa5');
  BOOST_CHECK_EQUAL(Base64Encode(bytes).find_first_of("\r\n"), std::string::npos);
  BOOST_CHECK_EQUAL(Base64Encode(bytes).size(), 400u);
  BOOST_CHECK_EQUAL(Base64UrlEncode(bytes).find_first_of("\r\n"), std::string::npos);
  BOOST_CHECK_EQUAL(Base64UrlDecode(Base64UrlEncode(bytes)).value_or(""), bytes);
}

BOOST_AUTO_TEST_CASE(url_alphabet_and_strict_decoding) {
  BOOST_CHECK_EQUAL(Base64Encode("\xfb\xff"), "+/8=");
  BOOST_CHECK_EQUAL(Base64UrlEncode("\xfb\xff"), "-_8");
  for (const char* bad : {"-_8=", "+/8", "Zg=", "Z", "Zh", "Zm9v!", "Zm 9v"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_CHECK(!Base64UrlDecode(bad)); }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence
