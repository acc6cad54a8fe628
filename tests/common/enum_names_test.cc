#include "common/enum_names.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace presence {
namespace {

enum class Fruit { kApple, kPear, kQuince, kUnlisted };

constexpr EnumNames<Fruit, 3> kFruits = {{
    {Fruit::kApple, "apple"},
    {Fruit::kPear, "pear"},
    {Fruit::kQuince, "quince"},
}};

enum class Lone { kOnly };
constexpr EnumNames<Lone, 1> kLone = {{{Lone::kOnly, "only"}}};

// The tables are built and read at compile time: a switch or another constant may use them.
static_assert(kFruits.Name(Fruit::kPear) == "pear");
static_assert(kFruits.Find("quince") == Fruit::kQuince);
static_assert(!kFruits.Find("plum").has_value());
static_assert(kFruits.size() == 3);

BOOST_AUTO_TEST_SUITE(enum_names_test)

BOOST_AUTO_TEST_CASE(every_value_reads_back_from_its_name) {
  for (Fruit fruit : {Fruit::kApple, Fruit::kPear, Fruit::kQuince}) {
    std::optional<Fruit> back = kFruits.Find(kFruits.Name(fruit));
    BOOST_TEST((back == fruit), kFruits.Name(fruit));
  }
  BOOST_TEST(kFruits.Name(Fruit::kApple) == "apple");
  BOOST_TEST(kLone.Name(Lone::kOnly) == "only");
  BOOST_TEST((kLone.Find("only") == Lone::kOnly));
}

BOOST_AUTO_TEST_CASE(names_match_exactly) {
  for (std::string_view text : {"", "Apple", "APPLE", " apple", "apple ", "appl", "apples"}) {
    BOOST_TEST(!kFruits.Find(text).has_value(), "'" << text << "'");
  }
}

BOOST_AUTO_TEST_CASE(a_value_missing_from_the_table_gets_the_fallback_name) {
  BOOST_TEST(kFruits.Name(Fruit::kUnlisted) == "unknown");
  BOOST_TEST(kFruits.Name(Fruit::kUnlisted, "none") == "none");
  BOOST_TEST(kFruits.Name(Fruit::kApple, "none") == "apple");
}

BOOST_AUTO_TEST_CASE(list_and_names_keep_table_order_for_messages) {
  BOOST_TEST(kFruits.List() == "apple, pear, quince");
  BOOST_TEST(kLone.List() == "only");
  constexpr std::array<std::string_view, 3> kExpected = {"apple", "pear", "quince"};
  BOOST_TEST((kFruits.Names() == kExpected));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence
