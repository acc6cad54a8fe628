#include "common/json_read.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/enum_names.h"

namespace presence::json {
namespace {

enum class Speed { kSlow, kFast };
constexpr EnumNames<Speed, 2> kSpeeds = {{
    {Speed::kSlow, "slow"},
    {Speed::kFast, "fast"},
}};

constexpr std::array<std::string_view, 3> kColours = {"red", "green", "blue"};

BOOST_AUTO_TEST_SUITE(json_read_test)

BOOST_AUTO_TEST_CASE(a_choice_by_name_reads_as_its_enum_value) {
  Problems problems;
  BOOST_TEST((ReadChoice(Var("fast"), "x.speed", "a speed", kSpeeds, problems) == Speed::kFast));
  BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_choice_is_a_problem_listing_the_names) {
  Problems problems;
  BOOST_TEST(!ReadChoice(Var("Fast"), "x.speed", "a speed", kSpeeds, problems).has_value());
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0] == R"(x.speed: "Fast" is not a speed (slow, fast))");
}

BOOST_AUTO_TEST_CASE(a_choice_that_is_not_a_string_is_one_problem) {
  Problems problems;
  BOOST_TEST(!ReadChoice(Var(7), "x.speed", "a speed", kSpeeds, problems).has_value());
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0].starts_with("x.speed: "), problems[0]);
}

BOOST_AUTO_TEST_CASE(a_choice_from_a_word_list_reads_as_the_listed_word) {
  Problems problems;
  std::optional<std::string_view> colour =
      ReadChoice(Var("green"), "x.colour", "a colour", kColours, problems);
  BOOST_TEST(colour.value_or("-") == "green");
  BOOST_TEST(!ReadChoice(Var("purple"), "x.colour", "a colour", kColours, problems).has_value());
  BOOST_REQUIRE_EQUAL(problems.size(), 1u);
  BOOST_TEST(problems[0] == R"(x.colour: "purple" is not a colour (red, green, blue))");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::json
