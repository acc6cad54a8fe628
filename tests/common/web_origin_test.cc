#include "common/web_origin.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace presence {
namespace {

BOOST_AUTO_TEST_SUITE(web_origin_test)

BOOST_AUTO_TEST_CASE(origins_are_compared_as_browsers_send_them) {
  // RFC 6454 6.1 serialisation: lowercase, no default port, no path.
  BOOST_CHECK_EQUAL(NormalOrigin("HTTPS://Dash.Example.com:443").value_or("-"),
                    "https://dash.example.com");
  BOOST_CHECK_EQUAL(NormalOrigin("http://10.0.0.5:08080").value_or("-"), "http://10.0.0.5:8080");
  BOOST_CHECK_EQUAL(NormalOrigin("http://[::1]:80").value_or("-"), "http://[::1]");
  BOOST_CHECK_EQUAL(NormalOrigin("https://[2001:DB8::10]:8443").value_or("-"),
                    "https://[2001:db8::10]:8443");
  for (const char* bad :
       {"null", "", "dash.example.com", "ftp://dash.example.com", "https://dash.example.com/",
        "https://dash.example.com/x", "http://:80", "http://a:0", "http://a:65536",
        "http://a:", "http://a b",
        // Inside brackets only an IPv6 address: nothing that could end a
        // header value or add a source to a Content-Security-Policy.
        "https://[x] * ]", "https://[::1\r\nX-Evil: 1]", "https://[::1;]", "https://['self']"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_CHECK(!NormalOrigin(bad)); }
  }

  const std::vector<std::string> allowed = {"https://dash.example.com"};
  BOOST_CHECK(OriginAllowed("http://127.0.0.1:8080", "127.0.0.1:8080", false, {}));
  BOOST_CHECK(OriginAllowed("https://agent.example.com", "agent.example.com:443", true, {}));
  BOOST_CHECK(OriginAllowed("https://dash.example.com", "127.0.0.1:8080", false, allowed));
  BOOST_CHECK(!OriginAllowed("https://127.0.0.1:8080", "127.0.0.1:8080", false, allowed));
  BOOST_CHECK(!OriginAllowed("http://127.0.0.1:8081", "127.0.0.1:8080", false, allowed));
  BOOST_CHECK(!OriginAllowed("https://evil.example", "127.0.0.1:8080", false, allowed));
  BOOST_CHECK(!OriginAllowed("null", "127.0.0.1:8080", false, allowed));
  BOOST_CHECK(!OriginAllowed("http://127.0.0.1:8080", "", false, allowed));  // no Host
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence
