// Directory: what deliveries look users up in.

#include "connectors/connector.h"

#include <boost/test/unit_test.hpp>

namespace presence::connectors {
namespace {

BOOST_AUTO_TEST_SUITE(connector_test)

// A directory per connector must not copy every user: 100,000 users are 45 MB a copy.
BOOST_AUTO_TEST_CASE(a_directory_shares_the_users_it_is_given) {
  auto users = std::make_shared<const std::vector<User>>(
      std::vector<User>{User{.id = "u2", .name = "Bob"}, User{.id = "u1", .name = "Ada"}});
  Directory directory;
  directory.SetUsers(users);
  BOOST_TEST(directory.FindUser("u1") == &(*users)[1]);
  BOOST_TEST(directory.FindUser("u2") == &(*users)[0]);
  BOOST_TEST(directory.FindUser("u3") == nullptr);
  BOOST_TEST(directory.FindUser("") == nullptr);
  // Ordered by id, and it keeps the users alive.
  std::weak_ptr<const std::vector<User>> watch = users;
  users.reset();
  BOOST_REQUIRE(directory.users().size() == 2u);
  BOOST_TEST(directory.users()[0]->name == "Ada");
  BOOST_TEST(directory.users()[1]->name == "Bob");
  BOOST_TEST(!watch.expired());
  directory.SetUsers(std::vector<User>{});
  BOOST_TEST(watch.expired());
  BOOST_TEST(directory.users().empty());
}

BOOST_AUTO_TEST_CASE(a_repeated_id_counts_once_and_the_first_one_wins) {
  Directory directory;
  directory.SetUsers(
      std::vector<User>{User{.id = "u1", .name = "First"}, User{.id = "u1", .name = "Second"}});
  BOOST_REQUIRE(directory.users().size() == 1u);
  BOOST_TEST(directory.FindUser("u1")->name == "First");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
