#include "agent/cli/dashboard_dir.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "tests/fakes/temp_dir.h"

namespace presence::agent {
namespace {

namespace fs = std::filesystem;

// A folder with an index.html, as the dashboard is.
std::string Page(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "index.html") << "<!doctype html>";
  return dir.string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dashboard_dir_test)

BOOST_AUTO_TEST_CASE(the_folder_given_on_the_command_line_wins) {
  testing::TempDir dir;
  Page(dir.path() / "prefix/share/presence-agent/dashboard");
  const std::string source = Page(dir.path() / "src/dashboard");
  BOOST_TEST(FindDashboardDir("/srv/mine", dir.path() / "prefix/bin/presence-agent", source) ==
             "/srv/mine");
}

BOOST_AUTO_TEST_CASE(an_installed_copy_next_to_the_executable_comes_before_the_source_tree) {
  testing::TempDir dir;
  const std::string installed = Page(dir.path() / "prefix/share/presence-agent/dashboard");
  const std::string source = Page(dir.path() / "src/dashboard");
  BOOST_TEST(FindDashboardDir("", dir.path() / "prefix/bin/presence-agent", source) == installed);
}

BOOST_AUTO_TEST_CASE(a_build_tree_binary_serves_the_source_tree) {
  testing::TempDir dir;
  const std::string source = Page(dir.path() / "src/dashboard");
  BOOST_TEST(FindDashboardDir("", dir.path() / "src/build/presence-agent", source) == source);
}

BOOST_AUTO_TEST_CASE(a_share_folder_without_the_page_does_not_count) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "prefix/share/presence-agent/dashboard");
  const std::string source = Page(dir.path() / "src/dashboard");
  BOOST_TEST(FindDashboardDir("", dir.path() / "prefix/bin/presence-agent", source) == source);
}

BOOST_AUTO_TEST_CASE(with_no_copy_anywhere_the_installed_location_is_named) {
  testing::TempDir dir;
  BOOST_TEST(FindDashboardDir("", dir.path() / "prefix/bin/presence-agent",
                              (dir.path() / "moved-away/dashboard").string()) ==
             (dir.path() / "prefix/share/presence-agent/dashboard").string());
}

BOOST_AUTO_TEST_CASE(the_executable_path_is_this_test_binary) {
  BOOST_TEST(ExecutablePath().filename() == "presence_tests");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
