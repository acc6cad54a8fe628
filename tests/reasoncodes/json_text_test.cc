// JSON strings for hand-built bodies: RFC 8259 escaping, and always valid UTF-8 (a stray byte
// becomes U+FFFD rather than making the whole document invalid).
#include "reasoncodes/json_text.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace presence::reasoncodes {
namespace {

namespace data = boost::unit_test::data;

struct EscapeCase {
  std::string name;
  std::string text;
  std::string json;
};
std::ostream& operator<<(std::ostream& out, const EscapeCase& test) { return out << test.name; }

const std::vector<EscapeCase> kEscapes = {
    {"plain", "Lunch", R"("Lunch")"},
    {"quote and backslash", R"(say "hi" \o/)", R"("say \"hi\" \\o/")"},
    {"short escapes", "a\nb\tc\rd\be\ff", R"("a\nb\tc\rd\be\ff")"},
    {"other control characters", std::string("x\x01y\x1f", 4), R"("x\u0001y\u001f")"},
    {"UTF-8 kept as is", "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x8D\x95",
     "\"Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x8D\x95\""},
    {"stray byte", "a\xFFz", "\"a\xEF\xBF\xBDz\""},
    {"truncated sequence", "a\xC3", "\"a\xEF\xBF\xBD\""},
    {"overlong slash", "\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
    {"surrogate", "\xED\xA0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
};

BOOST_AUTO_TEST_SUITE(json_text_test)

BOOST_DATA_TEST_CASE(strings_are_escaped_as_json_and_kept_valid_utf8, data::make(kEscapes), test) {
  std::string out;
  AppendJsonString(out, test.text);
  BOOST_TEST(out == test.json);
}

BOOST_AUTO_TEST_CASE(json_string_returns_the_quoted_text) {
  BOOST_TEST(JsonString("a\"b") == R"("a\"b")");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::reasoncodes
