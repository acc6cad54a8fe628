// ParseRequestTarget: the path split on '/' before decoding, the query as ordered pairs, and
// errors for malformed escapes and oversized targets.

#include "agent/api/request_target.h"

#include <boost/test/unit_test.hpp>

namespace presence::agent {
namespace {

using Segments = std::vector<std::string>;
using Query = std::vector<std::pair<std::string, std::string>>;

RequestTarget Parsed(std::string_view raw) {
  Result<RequestTarget> target = ParseRequestTarget(raw);
  if (!target.ok()) throw std::runtime_error(std::string(raw) + ": " + target.error().message);
  return *target;
}

std::string ErrorOf(std::string_view raw) {
  Result<RequestTarget> target = ParseRequestTarget(raw);
  if (target.ok()) return "";
  BOOST_TEST(target.error().code == "malformed_request");
  return target.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_target_test)

BOOST_AUTO_TEST_CASE(path_segments_are_split_then_decoded) {
  RequestTarget target = Parsed("/api/v1/agents/a%20b/state");
  BOOST_TEST(target.segments == (Segments{"api", "v1", "agents", "a b", "state"}));
  BOOST_TEST(target.raw_path == "/api/v1/agents/a%20b/state");
  BOOST_TEST(target.query.empty());
}

BOOST_AUTO_TEST_CASE(an_encoded_slash_is_part_of_its_segment) {
  RequestTarget target = Parsed("/api/v1/agents%2F1001%2Fstate");
  BOOST_TEST(target.segments == (Segments{"api", "v1", "agents/1001/state"}));
  BOOST_TEST(Parsed("/api/v1/agents/10%2f01").segments ==
             (Segments{"api", "v1", "agents", "10/01"}));
}

BOOST_AUTO_TEST_CASE(empty_segments_are_left_out) {
  BOOST_TEST(Parsed("//api///v1/").segments == (Segments{"api", "v1"}));
  BOOST_TEST(Parsed("/").segments.empty());
}

BOOST_AUTO_TEST_CASE(query_parameters_keep_their_order_and_are_decoded) {
  RequestTarget target = Parsed("/r?from=2026-11-21T09%3A00Z&user=b&user=a&flag&x=a+b&&y=");
  BOOST_TEST(target.raw_path == "/r");
  BOOST_TEST(target.query == (Query{{"from", "2026-11-21T09:00Z"},
                                    {"user", "b"},
                                    {"user", "a"},
                                    {"flag", ""},
                                    {"x", "a b"},
                                    {"y", ""}}));
}

BOOST_AUTO_TEST_CASE(a_plus_in_the_path_stays_a_plus) {
  BOOST_TEST(Parsed("/a+b").segments == (Segments{"a+b"}));
}

BOOST_AUTO_TEST_CASE(an_absolute_form_target_uses_its_path) {
  RequestTarget target = Parsed("http://example.com:8080/api/v1/health?x=1");
  BOOST_TEST(target.segments == (Segments{"api", "v1", "health"}));
  BOOST_TEST(target.query == (Query{{"x", "1"}}));
}

BOOST_AUTO_TEST_CASE(a_fragment_is_ignored) {
  RequestTarget target = Parsed("/a/b?x=1#y=2");
  BOOST_TEST(target.segments == (Segments{"a", "b"}));
  BOOST_TEST(target.query == (Query{{"x", "1"}}));
}

BOOST_AUTO_TEST_CASE(malformed_escapes_are_errors_that_say_where) {
  BOOST_TEST(ErrorOf("/api/v1/agents/%").find("'%' at byte 15") != std::string::npos,
             ErrorOf("/api/v1/agents/%"));
  BOOST_TEST(ErrorOf("/api/v1/agents/%zz").find("'%zz'") != std::string::npos);
  BOOST_TEST(ErrorOf("/a/%4").find("path") != std::string::npos);
  BOOST_TEST(ErrorOf("/r?from=%zz").find("query") != std::string::npos);
  BOOST_TEST(ErrorOf("/r?%g1=x") != "");
  BOOST_TEST(ErrorOf("/r?a=1%") != "");
  BOOST_TEST(ErrorOf("/r?a=1#%zz") == "");  // the fragment is not read
}

BOOST_AUTO_TEST_CASE(a_target_that_is_not_a_path_is_an_error) {
  BOOST_TEST(ErrorOf("") != "");
  BOOST_TEST(ErrorOf("*") != "");
  BOOST_TEST(ErrorOf("api/v1/health") != "");
  BOOST_TEST(ErrorOf("http://host") != "");
  BOOST_TEST(ErrorOf("ht tp://host/a") != "");
}

BOOST_AUTO_TEST_CASE(segments_and_parameters_are_bounded) {
  std::string path;
  for (std::size_t i = 0; i < kMaxPathSegments; ++i) path += "/s";
  BOOST_TEST(Parsed(path).segments.size() == kMaxPathSegments);
  BOOST_TEST(ErrorOf(path + "/s").find("segments") != std::string::npos);
  std::string query = "/r?";
  for (std::size_t i = 0; i < kMaxQueryParameters; ++i) query += "a=1&";
  BOOST_TEST(Parsed(query).query.size() == kMaxQueryParameters);
  BOOST_TEST(ErrorOf(query + "b=2").find("parameters") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(decoded_bytes_are_kept_as_they_are) {
  BOOST_TEST(Parsed("/a/%FF%00").segments == (Segments{"a", std::string("\xFF\0", 2)}));
}

BOOST_AUTO_TEST_CASE(a_logged_path_has_no_query_and_only_printable_ascii) {
  BOOST_TEST(LoggablePath("/api/v1/agents?access_token=secret") == "/api/v1/agents");
  BOOST_TEST(LoggablePath("/a%zz#frag?x") == "/a%zz");
  BOOST_TEST(LoggablePath("/a\xFF b\n") == "/a%FF%20b%0A");
  BOOST_TEST(LoggablePath("/" + std::string(300, 'x')) == "/" + std::string(199, 'x') + "...");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
