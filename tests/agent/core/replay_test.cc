// Replay: a recorded day through the engine and the ledger, its own times as the clock.

#include "agent/core/replay.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "agent/config/config.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::agent {
namespace {

std::vector<std::string> Describe(const std::vector<tracking::Change>& changes) {
  std::vector<std::string> lines;
  for (const auto& c : changes) {
    lines.push_back(FormatTime(c.at).substr(11, 8) + " " + c.agent + " " + c.label);
  }
  return lines;
}

std::map<std::string, int64_t> TotalsMs(const std::vector<tracking::Total>& totals) {
  std::map<std::string, int64_t> ms;
  for (const auto& t : totals) ms[t.agent + "/" + t.label] = t.duration.count();
  return ms;
}

ReplayReport MustReplay(const std::string& text, tracking::TimeStore& store,
                        ReplayOptions options = {},
                        testing::TestSettings settings = {.wrap_up_seconds = 30,
                                                          .active_call_state = true}) {
  std::istringstream in(text);
  Result<ReplayReport> report = Replay(testing::MakeTestCatalog(settings), in, store, options);
  BOOST_REQUIRE(report.ok());
  return std::move(report).value();
}

const char* kShortDay = R"(
{"at": "2026-11-20T09:00:00.000Z", "agent": "a", "type": "login"}
{"at": "2026-11-20T09:01:00.000Z", "agent": "a", "type": "call_started", "call_id": "c1"}
{"at": "2026-11-20T09:01:00.000Z", "agent": "a", "type": "call_answered", "call_id": "c1"}
{"at": "2026-11-20T09:02:00.000Z", "agent": "a", "type": "call_ended", "call_id": "c1"}
{"at": "2026-11-20T09:10:00.000Z", "agent": "a", "type": "select", "label": "Lunch"}
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(replay_test)

BOOST_AUTO_TEST_CASE(timers_fire_at_their_due_time_between_events) {
  auto store = tracking::NewMemoryTimeStore();
  ReplayReport report = MustReplay(kShortDay, *store);
  const std::vector<std::string> expected = {
      "09:00:00 a Logout",  "09:00:00 a Ready for Calls", "09:01:00 a On a call",
      "09:02:00 a Wrap-up", "09:02:30 a Ready for Calls", "09:10:00 a Lunch"};
  BOOST_TEST(Describe(report.transitions) == expected, boost::test_tools::per_element());
  BOOST_TEST(report.events == 5);
}

BOOST_AUTO_TEST_CASE(totals_cover_first_event_to_last_event_exactly) {
  auto store = tracking::NewMemoryTimeStore();
  ReplayReport report = MustReplay(kShortDay, *store);
  std::map<std::string, int64_t> ms = TotalsMs(report.totals);
  BOOST_TEST(ms["a/Ready for Calls"] == (60 + 450) * 1000);
  BOOST_TEST(ms["a/On a call"] == 60 * 1000);
  BOOST_TEST(ms["a/Wrap-up"] == 30 * 1000);
  BOOST_TEST(!ms.contains("a/Lunch"));  // began at the last event: 0 s up to --until
  int64_t sum = 0;
  for (const auto& [key, value] : ms) sum += value;
  BOOST_TEST(sum == 10 * 60 * 1000);
}

BOOST_AUTO_TEST_CASE(until_stops_the_replay_and_fires_timers_up_to_it) {
  auto store = tracking::NewMemoryTimeStore();
  ReplayOptions options;
  options.until = ParseTime("2026-11-20T09:02:40Z");
  ReplayReport report = MustReplay(kShortDay, *store, options);
  BOOST_TEST(report.skipped_after_until == 1);
  BOOST_TEST(Describe(report.transitions).back() == "09:02:30 a Ready for Calls");
  std::map<std::string, int64_t> ms = TotalsMs(report.totals);
  BOOST_TEST(ms["a/Ready for Calls"] == (60 + 10) * 1000);
}

BOOST_AUTO_TEST_CASE(what_if_a_different_wrap_up_changes_the_day) {
  auto store = tracking::NewMemoryTimeStore();
  ReplayReport report =
      MustReplay(kShortDay, *store, {}, {.wrap_up_seconds = 300, .active_call_state = true});
  std::map<std::string, int64_t> ms = TotalsMs(report.totals);
  BOOST_TEST(ms["a/Wrap-up"] == 300 * 1000);
  BOOST_TEST(ms["a/Ready for Calls"] == (60 + 180) * 1000);
}

BOOST_AUTO_TEST_CASE(bad_lines_are_reported_with_their_number_and_the_rest_still_runs) {
  const std::string text =
      R"({"at": "2026-11-20T09:00:00Z", "agent": "a", "type": "login"})"
      "\n"
      "not json\n"
      R"({"at": "2026-11-20T09:01:00Z", "agent": "a", "type": "select", "label": "Lnch"})"
      "\n"
      R"({"agent": "a", "type": "select", "label": "Lunch"})"
      "\n"
      R"({"at": "2026-11-20T09:03:00Z", "agent": "a", "type": "dance"})"
      "\n"
      R"({"at": "2026-11-20T09:04:00Z", "agent": "a", "type": "select", "label": "Lunch"})"
      "\n";
  auto store = tracking::NewMemoryTimeStore();
  ReplayReport report = MustReplay(text, *store);
  BOOST_REQUIRE_EQUAL(report.errors.size(), 4u);
  BOOST_TEST(report.errors[0].line == 2);
  BOOST_TEST(report.errors[0].error.code == "malformed_json");
  BOOST_TEST(report.errors[1].line == 3);
  BOOST_TEST(report.errors[1].error.code == "unknown_label");
  BOOST_TEST(report.errors[2].line == 4);
  BOOST_TEST(report.errors[2].error.code == "missing_field");
  BOOST_TEST(report.errors[3].line == 5);
  BOOST_TEST(report.errors[3].error.code == "invalid_event");
  BOOST_TEST(Describe(report.transitions).back() == "09:04:00 a Lunch");
}

BOOST_AUTO_TEST_CASE(replaying_the_next_day_into_the_same_ledger_continues_each_user) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  {
    auto store = tracking::OpenSqliteTimeStore(db);
    BOOST_REQUIRE(store.ok());
    MustReplay(kShortDay, **store);
  }
  auto store = tracking::OpenSqliteTimeStore(db);
  BOOST_REQUIRE(store.ok());
  ReplayReport next = MustReplay(
      R"({"at": "2026-11-21T09:00:00Z", "agent": "a", "type": "select", "label": "Lunch"})"
      "\n"
      R"({"at": "2026-11-21T09:30:00Z", "agent": "a", "type": "select", "label": "Meeting"})",
      **store);
  // Already in Lunch since yesterday: the first line changes nothing (rule 1).
  BOOST_TEST(Describe(next.transitions) == std::vector<std::string>{"09:30:00 a Meeting"},
             boost::test_tools::per_element());
  auto intervals = (*store)->Intervals(std::string("a"), *ParseTime("2026-11-20T00:00:00Z"),
                                       *ParseTime("2026-11-22T00:00:00Z"));
  BOOST_REQUIRE(intervals.ok());
  BOOST_TEST(intervals->size() == 7u);
}

BOOST_AUTO_TEST_CASE(the_sample_day_replays_without_errors) {
  std::ifstream in(std::string(PRESENCE_SOURCE_DIR) + "/samples/day.jsonl");
  BOOST_REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  ConfigLoad config =
      LoadConfigFile(std::string(PRESENCE_SOURCE_DIR) + "/samples/dial-command.json");
  BOOST_REQUIRE(config.ok());
  auto store = tracking::NewMemoryTimeStore();
  Result<ReplayReport> report = Replay(config.config->catalog, text, *store, {});
  BOOST_REQUIRE(report.ok());
  BOOST_TEST(report->errors.empty());
  BOOST_TEST(report->events == 47);
  // Each user's totals add up to the time from its first event to the last event of the day.
  std::map<std::string, int64_t> per_agent;
  for (const auto& total : report->totals) per_agent[total.agent] += total.duration.count();
  BOOST_TEST(per_agent["1001"] == 9 * 3600 * 1000);
  BOOST_TEST(per_agent["1002"] == (8 * 3600 + 55 * 60) * 1000);
  BOOST_TEST(per_agent["1003"] == (8 * 3600 + 30 * 60) * 1000);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
