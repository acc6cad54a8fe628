// The JSON writer: RFC 8259 escaping, and always valid UTF-8 (a stray byte becomes U+FFFD
// rather than making the whole document invalid).
#include "common/json_writer.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "common/time.h"

namespace presence::common {
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

BOOST_AUTO_TEST_SUITE(json_writer_test)

BOOST_DATA_TEST_CASE(strings_are_escaped_as_json_and_kept_valid_utf8, data::make(kEscapes), test) {
  std::string out;
  AppendJsonString(out, test.text);
  BOOST_TEST(out == test.json);
}

BOOST_AUTO_TEST_CASE(json_string_returns_the_quoted_text) {
  BOOST_TEST(JsonString("a\"b") == R"("a\"b")");
}

BOOST_AUTO_TEST_CASE(the_writer_places_commas_and_escapes_keys_and_values) {
  JsonWriter out;
  out.BeginObject().Key("a").Int(1).Key("b\"").BeginArray().String("x\xFF").Bool(true).Null();
  out.EndArray().Key("c").Seconds(95500).Key("d").Raw("2.5").EndObject();
  BOOST_TEST(out.str() == "{\"a\":1,\"b\\\"\":[\"x\xEF\xBF\xBD\",true,null],\"c\":95.5,\"d\":2.5}");
}

// JSON seconds follow the one rule of common/time.h, sign included below one second.
BOOST_AUTO_TEST_CASE(seconds_are_written_as_format_seconds) {
  for (long long millis : {0LL, 1LL, 125LL, 999LL, 1000LL, 95500LL, 86400001LL, 100000000LL, -1LL,
                           -500LL, -999LL, -1000LL, -1500LL}) {
    JsonWriter out;
    out.Seconds(millis);
    BOOST_TEST(out.str() == FormatSeconds(Millis(millis)), millis);
  }
  JsonWriter negative;
  negative.BeginArray().Seconds(-500).Seconds(-1500).EndArray();
  BOOST_TEST(negative.str() == "[-0.5,-1.5]");
}

BOOST_AUTO_TEST_CASE(valid_utf8_replaces_only_bad_bytes) {
  BOOST_TEST(ValidUtf8("a\xFF\xC3\xA9\n") == "a\xEF\xBF\xBD\xC3\xA9\n");
}

BOOST_AUTO_TEST_CASE(an_excerpt_is_cut_after_whole_characters) {
  BOOST_TEST(Excerpt("abc", 3) == "abc");
  BOOST_TEST(Excerpt("abcd", 3) == "abc...");
  BOOST_TEST(Excerpt("\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xC3\xA9...");
  BOOST_TEST(Excerpt(std::string(100, 'x')).size() == 67u);
  // Stray continuation bytes each count as one character (each becomes one U+FFFD).
  BOOST_TEST(Excerpt(std::string(5000, '\x80'), 64).size() == 67u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::common
