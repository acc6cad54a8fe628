#include "agent/api/sessions.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fakes/temp_dir.h"

namespace presence::agent {
namespace {

using namespace std::chrono_literals;
using Clock = SessionStore::Clock;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

BOOST_AUTO_TEST_SUITE(sessions_test)

BOOST_AUTO_TEST_CASE(a_session_survives_a_restart_with_its_file) {
  testing::TempDir dir;
  const std::string file = dir.File("sessions");
  std::string id;
  {
    SessionStore store;
    BOOST_REQUIRE(store.Persist(file, kStart));
    id = store.Open("token-hash", kStart);
  }
  SessionStore restarted;
  BOOST_REQUIRE(restarted.Persist(file, kStart + 10s));
  BOOST_CHECK_EQUAL(restarted.Use(id, kStart + 10s).value_or("none"), "token-hash");
}

BOOST_AUTO_TEST_CASE(the_file_never_holds_a_session_id_and_only_its_owner_reads_it) {
  testing::TempDir dir;
  const std::string file = dir.File("sessions");
  SessionStore store;
  BOOST_REQUIRE(store.Persist(file, kStart));
  const std::string id = store.Open("token-hash", kStart);
  BOOST_CHECK(ReadAll(file).find(id) == std::string::npos);
  const auto perms = std::filesystem::status(file).permissions();
  BOOST_CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
              std::filesystem::perms::none);
}

BOOST_AUTO_TEST_CASE(a_closed_session_stays_closed_after_a_restart) {
  testing::TempDir dir;
  const std::string file = dir.File("sessions");
  std::string id;
  {
    SessionStore store;
    store.Persist(file, kStart);
    id = store.Open("token-hash", kStart);
    store.Close(id);
  }
  SessionStore restarted;
  restarted.Persist(file, kStart + 1s);
  BOOST_CHECK(!restarted.Use(id, kStart + 1s));
}

BOOST_AUTO_TEST_CASE(an_idle_session_expires_across_a_restart) {
  testing::TempDir dir;
  const std::string file = dir.File("sessions");
  std::string id;
  {
    SessionStore store(1h);
    store.Persist(file, kStart);
    id = store.Open("token-hash", kStart);
  }
  SessionStore restarted(1h);
  restarted.Persist(file, kStart + 2h);
  BOOST_CHECK(!restarted.Use(id, kStart + 2h));
}

BOOST_AUTO_TEST_CASE(without_a_file_sessions_live_in_memory_only) {
  SessionStore store;
  const std::string id = store.Open("token-hash", kStart);
  BOOST_CHECK_EQUAL(store.Use(id, kStart + 1s).value_or("none"), "token-hash");
  BOOST_CHECK(!store.Use("not-a-session", kStart + 1s));
}

BOOST_AUTO_TEST_CASE(one_token_keeps_at_most_20_sessions_and_others_are_untouched) {
  SessionStore sessions;
  const std::string other = sessions.Open("token-b", kStart);
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i)
    ids.push_back(sessions.Open("token-a", kStart + std::chrono::seconds(i)));
  // The five least recently used sessions of token-a made room for the newest.
  for (int i = 0; i < 5; ++i) BOOST_TEST(!sessions.Use(ids[i], kStart + 1min).has_value());
  for (int i = 5; i < 25; ++i)
    BOOST_TEST(sessions.Use(ids[i], kStart + 1min).value_or("") == "token-a");
  BOOST_TEST(sessions.Use(other, kStart + 1min).value_or("") == "token-b");
}

BOOST_AUTO_TEST_CASE(sessions_of_dropped_tokens_end_and_stay_ended_after_a_restart) {
  testing::TempDir dir;
  const std::string file = dir.File("sessions");
  std::string removed, kept;
  {
    SessionStore store;
    BOOST_REQUIRE(store.Persist(file, kStart));
    removed = store.Open("removed-hash", kStart);
    kept = store.Open("kept-hash", kStart);
    store.DropTokens({"removed-hash", "never-opened"});
    BOOST_CHECK(!store.Use(removed, kStart + 1s));
    BOOST_CHECK_EQUAL(store.Use(kept, kStart + 1s).value_or("none"), "kept-hash");
  }
  SessionStore restarted;
  BOOST_REQUIRE(restarted.Persist(file, kStart + 2s));
  BOOST_CHECK(!restarted.Use(removed, kStart + 2s));
  BOOST_CHECK_EQUAL(restarted.Use(kept, kStart + 2s).value_or("none"), "kept-hash");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::agent
