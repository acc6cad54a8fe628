// One suite of ledger behaviours, run against every TimeStore (SQLite and memory), then the
// SQLite store's own duties: persistence, schema versions, refusing files it cannot trust.

#include "tracking/time_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <string_view>
#include <thread>

#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/day_aggregate.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::tracking::test {
namespace {

namespace data = boost::unit_test::data;
namespace tt = boost::test_tools;

TotalsQuery Query(const std::string& from, const std::string& to, const std::string& now,
                  std::optional<std::string> agent = std::nullopt) {
  return TotalsQuery{T(from), T(to), T(now), std::move(agent)};
}

std::vector<std::string> TotalsText(TimeStore& store, const TotalsQuery& query) {
  return Describe(TotalsOrThrow(store, query));
}

std::vector<std::string> IntervalsText(TimeStore& store, std::optional<std::string> agent,
                                       const std::string& from, const std::string& to) {
  return Describe(IntervalsOrThrow(store, agent, T(from), T(to)));
}

std::vector<std::string> AgentsText(TimeStore& store) {
  auto agents = store.LoadAgents();
  if (!agents.ok()) throw std::runtime_error(agents.error().message);
  std::vector<std::string> lines;
  for (const StoredAgent& agent : *agents) {
    lines.push_back(agent.agent + " {" + agent.engine_state + "} " +
                    (agent.open ? Describe(*agent.open) : std::string("no interval")));
  }
  return lines;
}

// Everything from long before to long after the test data.
std::vector<std::string> AllIntervals(TimeStore& store) {
  return IntervalsText(store, std::nullopt, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(time_store_test)

BOOST_DATA_TEST_CASE(first_change_opens_an_interval_without_closing_anything,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:00:00Z", "Ready")}) == "");
  std::vector<std::string> expected = {
      "#1 a Ready *60 Online agent select [2026-11-21T09:00:00.000Z, open)"};
  BOOST_TEST(AllIntervals(*store) == expected, tt::per_element());
  std::vector<std::string> agents = {
      "a {} #1 a Ready *60 Online agent select [2026-11-21T09:00:00.000Z, open)"};
  BOOST_TEST(AgentsText(*store) == agents, tt::per_element());
}

BOOST_DATA_TEST_CASE(each_change_closes_the_users_previous_interval_at_the_same_instant,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:00:00Z", "Ready"),
                                         MakeChange("b", "2026-11-21T09:10:00Z", "Lunch")}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:30:00Z", "Lunch"),
                                         MakeChange("a", "2026-11-21T10:00:00Z", "Meeting"),
                                         MakeChange("b", "2026-11-21T10:00:00Z", "Ready")}) == "");
  std::vector<std::string> expected = {
      "#1 a Ready *60 Online agent select [2026-11-21T09:00:00.000Z, 2026-11-21T09:30:00.000Z)",
      "#2 b Lunch *61 Away agent select [2026-11-21T09:10:00.000Z, 2026-11-21T10:00:00.000Z)",
      "#3 a Lunch *61 Away agent select [2026-11-21T09:30:00.000Z, 2026-11-21T10:00:00.000Z)",
      "#4 a Meeting *62 Busy agent select [2026-11-21T10:00:00.000Z, open)",
      "#5 b Ready *60 Online agent select [2026-11-21T10:00:00.000Z, open)",
  };
  BOOST_TEST(AllIntervals(*store) == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(change_at_the_open_intervals_start_keeps_a_zero_length_interval,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-21T09:00:00Z", "On a call"),
                                         MakeChange("a", "2026-11-21T09:05:00Z", "Ready")}) == "");
  std::vector<std::string> expected = {
      "#1 a Ready *60 Online agent select [2026-11-21T09:00:00.000Z, 2026-11-21T09:00:00.000Z)",
      "#2 a On a call  On a call agent select [2026-11-21T09:00:00.000Z, "
      "2026-11-21T09:05:00.000Z)",
      "#3 a Ready *60 Online agent select [2026-11-21T09:05:00.000Z, open)",
  };
  BOOST_TEST(AllIntervals(*store) == expected, tt::per_element());
  // Just after the instant, the interval covering the range is the later of the two.
  std::vector<std::string> later = {expected[1], expected[2]};
  BOOST_TEST(
      IntervalsText(*store, "a", "2026-11-21T09:00:00.001Z", "2026-11-21T10:00:00Z") == later,
      tt::per_element());
  std::vector<std::string> totals = {"a|On a call|6|300000", "a|Ready|1|3300000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-21T09:00:00Z", "2026-11-21T10:00:00Z",
                                      "2026-11-21T10:00:00Z")) == totals,
             tt::per_element());
}

// A batch may hold several changes and records of one user (the SQLite store folds many commits
// into one transaction): the user ends with the batch's last open interval and last record.
BOOST_DATA_TEST_CASE(a_batch_with_many_records_of_a_user_keeps_the_last, data::make(StoreKinds()),
                     kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store,
                                {MakeChange("a", "2026-11-21T09:00:00Z", "Ready"),
                                 MakeChange("b", "2026-11-21T09:10:00Z", "Meeting"),
                                 MakeChange("a", "2026-11-21T09:30:00Z", "Lunch")},
                                {{"a", "s1"}, {"b", "t1"}, {"a", "s2"}}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store,
                                {MakeChange("a", "2026-11-21T10:00:00Z", "Ready"),
                                 MakeChange("a", "2026-11-21T10:15:00Z", "Meeting")},
                                {{"a", "s3"}, {"a", "s4"}, {"b", "t2"}}) == "");
  std::vector<std::string> expected = {
      "a {s4} #5 a Meeting *62 Busy agent select [2026-11-21T10:15:00.000Z, open)",
      "b {t2} #2 b Meeting *62 Busy agent select [2026-11-21T09:10:00.000Z, open)"};
  BOOST_TEST(AgentsText(*store) == expected, tt::per_element());
  if (kind != "sqlite") return;
  store.Reopen();
  BOOST_TEST(AgentsText(*store) == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(out_of_order_change_refuses_the_whole_batch, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(
      CommitText(*store, {MakeChange("a", "2026-11-21T10:00:00Z", "Ready")}, {{"a", "s1"}}) == "");
  std::vector<std::string> intervals_before = AllIntervals(*store);
  std::vector<std::string> agents_before = AgentsText(*store);

  // Before the stored open interval: the valid change for b in the same batch is dropped too.
  std::string refused = CommitText(*store,
                                   {MakeChange("b", "2026-11-21T10:00:00Z", "Ready"),
                                    MakeChange("a", "2026-11-21T09:59:00Z", "Lunch")},
                                   {{"a", "s2"}, {"b", "s3"}});
  BOOST_TEST(refused.rfind("out_of_order: ", 0) == 0u, refused);
  BOOST_TEST(refused.find("'a' at 2026-11-21T09:59:00.000Z") != std::string::npos, refused);
  // Before an interval opened earlier in the same batch.
  refused = CommitText(*store, {MakeChange("a", "2026-11-21T11:00:00Z", "Lunch"),
                                MakeChange("a", "2026-11-21T10:30:00Z", "Meeting")});
  BOOST_TEST(refused.rfind("out_of_order: ", 0) == 0u, refused);
  BOOST_TEST(AllIntervals(*store) == intervals_before, tt::per_element());
  BOOST_TEST(AgentsText(*store) == agents_before, tt::per_element());

  // The store carries on from what was committed.
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T10:45:00Z", "Lunch")}) == "");
  std::vector<std::string> expected = {
      "#1 a Ready *60 Online agent select [2026-11-21T10:00:00.000Z, 2026-11-21T10:45:00.000Z)",
      "#2 a Lunch *61 Away agent select [2026-11-21T10:45:00.000Z, open)",
  };
  BOOST_TEST(AllIntervals(*store) == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(empty_batch_is_accepted_and_changes_nothing, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST(CommitText(*store, {}) == "");
  BOOST_TEST(AgentsText(*store).empty());
  BOOST_TEST(AllIntervals(*store).empty());
}

BOOST_DATA_TEST_CASE(totals_within_one_day, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  std::vector<std::string> expected = {"a|Lunch|3|900000", "a|Ready|1|4500000",
                                       "b|Meeting|5|1800000", "b|Ready|1|3600000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-21T09:30:00Z", "2026-11-21T11:00:00Z",
                                      "2026-11-21T18:00:00Z")) == expected,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(totals_across_several_days, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-20T22:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-21T02:00:00Z", "Lunch"),
                                         MakeChange("a", "2026-11-23T08:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-23T09:00:00Z", "Logged out")}) ==
                     "");
  // Partial days at both ends around two whole days.
  std::vector<std::string> ragged = {"a|Lunch|3|194400000", "a|Ready|1|12600000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-20T23:00:00Z", "2026-11-23T08:30:00Z",
                                      "2026-11-24T00:00:00Z")) == ragged,
             tt::per_element());
  // Exactly two whole days.
  std::vector<std::string> whole = {"a|Lunch|3|165600000", "a|Ready|1|7200000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-21T00:00:00Z", "2026-11-23T00:00:00Z",
                                      "2026-11-24T00:00:00Z")) == whole,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(totals_across_midnight, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T23:30:00Z", "Ready"),
                                         MakeChange("a", "2026-11-22T00:20:00Z", "Lunch")}) == "");
  std::vector<std::string> inside = {"a|Ready|1|1500000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-21T23:45:00Z", "2026-11-22T00:10:00Z",
                                      "2026-11-22T12:00:00Z")) == inside,
             tt::per_element());
  std::vector<std::string> both = {"a|Lunch|3|2400000", "a|Ready|1|3000000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-21T23:00:00Z", "2026-11-22T01:00:00Z",
                                      "2026-11-22T12:00:00Z")) == both,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(totals_from_before_the_first_interval, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-21T10:00:00Z", "Lunch")}) == "");
  std::vector<std::string> expected = {"a|Ready|1|1800000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-18T00:00:00Z", "2026-11-21T09:30:00Z",
                                      "2026-11-21T12:00:00Z")) == expected,
             tt::per_element());
  BOOST_TEST(TotalsText(*store, Query("2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z",
                                      "2026-11-21T12:00:00Z"))
                 .empty());
}

BOOST_DATA_TEST_CASE(totals_count_open_intervals_up_to_now_or_the_range_end,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-19T09:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-20T17:00:00Z", "Logged out")}) ==
                     "");
  // The range ends in the future: the open interval counts up to now (43 h).
  std::vector<std::string> to_now = {"a|Logged out|7|154800000", "a|Ready|1|115200000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-19T00:00:00Z", "2026-11-30T00:00:00Z",
                                      "2026-11-22T12:00:00Z")) == to_now,
             tt::per_element());
  // Now is past the range: it counts up to the range end (13 h).
  std::vector<std::string> to_end = {"a|Logged out|7|46800000", "a|Ready|1|115200000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-19T00:00:00Z", "2026-11-21T06:00:00Z",
                                      "2026-11-22T12:00:00Z")) == to_end,
             tt::per_element());
  // Now is before the open interval started: it adds nothing and is left out.
  std::vector<std::string> before = {"a|Ready|1|115200000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-19T00:00:00Z", "2026-11-30T00:00:00Z",
                                      "2026-11-20T12:00:00Z")) == before,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(totals_for_one_agent_leave_the_others_out, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("b", "2026-11-23T10:00:00Z", "Lunch")}) == "");
  std::vector<std::string> one_day = {"b|Meeting|5|1800000", "b|Ready|1|3600000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-21T09:30:00Z", "2026-11-21T11:00:00Z",
                                      "2026-11-21T18:00:00Z", "b")) == one_day,
             tt::per_element());
  // Over whole days, where per-day totals answer.
  std::vector<std::string> days = {"b|Lunch|3|7200000", "b|Meeting|5|5400000",
                                   "b|Ready|1|172800000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-20T00:00:00Z", "2026-11-23T12:00:00Z",
                                      "2026-11-23T12:00:00Z", "b")) == days,
             tt::per_element());
  BOOST_TEST(TotalsText(*store, Query("2026-11-20T00:00:00Z", "2026-11-23T12:00:00Z",
                                      "2026-11-23T12:00:00Z", "nobody"))
                 .empty());
}

BOOST_DATA_TEST_CASE(empty_or_inverted_ranges_are_empty, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  CommitTwoUsers(*store);
  const char* noon = "2026-11-21T12:00:00Z";
  BOOST_TEST(TotalsText(*store, Query(noon, noon, noon)).empty());
  BOOST_TEST(TotalsText(*store, Query(noon, "2026-11-20T12:00:00Z", noon)).empty());
  BOOST_TEST(IntervalsText(*store, std::nullopt, noon, noon).empty());
  BOOST_TEST(IntervalsText(*store, std::nullopt, noon, "2026-11-21T09:00:00Z").empty());
}

BOOST_DATA_TEST_CASE(intervals_include_one_that_started_days_before_the_range,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  // a logs out on Friday evening and is back on Monday morning.
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-20T17:00:00Z", "Logged out")}) ==
                     "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("b", "2026-11-22T10:00:00Z", "Ready")}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-23T08:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-23T09:00:00Z", "Lunch")}) == "");
  const std::string weekend =
      "#1 a Logged out *69 Logout agent select [2026-11-20T17:00:00.000Z, "
      "2026-11-23T08:00:00.000Z)";
  const std::string b_ready = "#2 b Ready *60 Online agent select [2026-11-22T10:00:00.000Z, open)";
  const std::string a_ready =
      "#3 a Ready *60 Online agent select [2026-11-23T08:00:00.000Z, 2026-11-23T09:00:00.000Z)";
  std::vector<std::string> all = {weekend, b_ready, a_ready};
  BOOST_TEST(
      IntervalsText(*store, std::nullopt, "2026-11-22T12:00:00Z", "2026-11-23T08:30:00Z") == all,
      tt::per_element());
  std::vector<std::string> only_a = {weekend, a_ready};
  BOOST_TEST(IntervalsText(*store, "a", "2026-11-22T12:00:00Z", "2026-11-23T08:30:00Z") == only_a,
             tt::per_element());
  // An interval that ends exactly at `from` does not overlap the range.
  std::vector<std::string> after = {a_ready};
  BOOST_TEST(IntervalsText(*store, "a", "2026-11-23T08:00:00Z", "2026-11-23T08:30:00Z") == after,
             tt::per_element());
  // The weekend's time is all there over a whole day in the middle of it.
  std::vector<std::string> sunday = {"a|Logged out|7|86400000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z",
                                      "2026-11-24T00:00:00Z", "a")) == sunday,
             tt::per_element());
}

BOOST_DATA_TEST_CASE(intervals_with_the_same_start_are_ordered_by_id, data::make(StoreKinds()),
                     kind) {
  StoreUnderTest store(kind);
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("b", "2026-11-21T09:00:00Z", "Lunch")}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T08:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-21T09:00:00Z", "Meeting"),
                                         MakeChange("c", "2026-11-21T09:00:00Z", "Away")}) == "");
  auto intervals =
      IntervalsOrThrow(*store, std::nullopt, T("2026-11-21T08:30:00Z"), T("2026-11-21T10:00:00Z"));
  std::vector<int64_t> ids;
  for (const Interval& interval : intervals) ids.push_back(interval.id);
  std::vector<int64_t> expected = {2, 1, 3, 4};
  BOOST_TEST(ids == expected, tt::per_element());
}

BOOST_DATA_TEST_CASE(engine_state_round_trips_through_load_agents, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  const std::string tricky = "{\"pending\":\"Lunch\",\n \"note\":\"it's ü\"}";
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:00:00Z", "Ready")},
                                {{"a", "first"}, {"c", tricky}}) == "");
  // A batch of engine state alone keeps the open interval; a change alone keeps the state.
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"a", "second"}}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("b", "2026-11-21T09:30:00Z", "Lunch")}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("c", "2026-11-21T09:40:00Z", "Away")}) == "");
  std::vector<std::string> expected = {
      "a {second} #1 a Ready *60 Online agent select [2026-11-21T09:00:00.000Z, open)",
      "b {} #2 b Lunch *61 Away agent select [2026-11-21T09:30:00.000Z, open)",
      "c {" + tricky + "} #3 c Away *64 Away agent select [2026-11-21T09:40:00.000Z, open)",
  };
  BOOST_TEST(AgentsText(*store) == expected, tt::per_element());
  // A user known only by engine state has no interval.
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"d", "waiting"}}) == "");
  BOOST_TEST(AgentsText(*store).back() == "d {waiting} no interval");
}

BOOST_DATA_TEST_CASE(totals_equal_clipped_intervals_for_a_generated_history,
                     data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  GeneratedHistory history = CommitGeneratedHistory(*store, 20261121);
  BOOST_TEST_REQUIRE(history.intervals.size() > 200u);
  BOOST_TEST(AllIntervals(*store) == Describe(history.intervals), tt::per_element());

  std::mt19937_64 random(7);
  auto below = [&](Millis bound) { return Millis(random() % bound.count()); };
  for (int round = 0; round < 400; ++round) {
    Timestamp from = history.first - kDay + below(7 * kDay);
    if (round % 5 == 0) from = UtcDayStart(from);
    Millis lengths[] = {below(kHour), below(kDay), below(4 * kDay), 3 * kDay, -below(kHour)};
    Timestamp to = from + lengths[random() % 5];
    if (round % 7 == 0) to = UtcDayStart(to);
    Timestamp nows[] = {history.last + kHour, from + below(2 * kDay), to};
    TotalsQuery query{from, to, nows[random() % 3], std::nullopt};
    if (random() % 4 == 0) query.agent = history.agents[random() % history.agents.size()];
    BOOST_TEST_CONTEXT("round " << round << " [" << FormatTime(from) << ", " << FormatTime(to)
                                << ") now " << FormatTime(query.now) << " agent "
                                << query.agent.value_or("*")) {
      BOOST_TEST(Describe(TotalsOrThrow(*store, query)) == ExpectedTotals(history.intervals, query),
                 tt::per_element());
      BOOST_TEST(Describe(IntervalsOrThrow(*store, query.agent, from, to)) ==
                     ExpectedIntervals(history.intervals, query.agent, from, to),
                 tt::per_element());
    }
  }
}

BOOST_DATA_TEST_CASE(readers_on_another_thread_see_whole_batches, data::make(StoreKinds()), kind) {
  StoreUnderTest store(kind);
  TimeStore& ledger = *store;
  const Timestamp start = T("2026-11-20T10:00:00Z");
  std::atomic<bool> done = false;
  std::string writer_error;
  std::thread writer([&] {
    const char* labels[] = {"Ready", "On a call", "Wrap-up"};
    for (int batch = 0; batch < 300 && writer_error.empty(); ++batch) {
      std::vector<Change> changes;
      for (int i = 0; i < 3; ++i) {
        changes.push_back(MakeChangeAt("a", start + (batch * 3 + i) * 5 * kMinute, labels[i]));
      }
      writer_error = CommitText(ledger, std::move(changes));
    }
    done = true;
  });
  // Continuous time from `start` to `now` always sums to exactly now - start, whatever part of
  // it is closed: a reader that mixed two commits' states would see another sum.
  TotalsQuery query{start, start + 10 * kDay, start + 4 * kDay, "a"};
  int reads = 0;
  int mismatches = 0;
  do {
    Millis sum(0);
    for (const Total& total : TotalsOrThrow(ledger, query)) sum += total.duration;
    if (sum != Millis(0) && sum != 4 * kDay) ++mismatches;
    ++reads;
  } while (!done);
  writer.join();
  BOOST_TEST(writer_error == "");
  BOOST_TEST(mismatches == 0, mismatches << " of " << reads << " reads were inconsistent");
  Millis final_sum(0);
  for (const Total& total : TotalsOrThrow(ledger, query)) final_sum += total.duration;
  BOOST_TEST(final_sum.count() == (4 * kDay).count());
}

// ---- SQLite only ----

BOOST_AUTO_TEST_CASE(sqlite_keeps_everything_after_reopening) {
  StoreUnderTest store("sqlite");
  GeneratedHistory history = CommitGeneratedHistory(*store, 42);
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"alice", "engine text"}}) == "");
  TotalsQuery query{history.first, history.last + kDay, history.last + kHour, std::nullopt};
  auto intervals = AllIntervals(*store);
  auto totals = TotalsText(*store, query);
  auto agents = AgentsText(*store);

  store.Reopen();
  BOOST_TEST(AllIntervals(*store) == intervals, tt::per_element());
  BOOST_TEST(TotalsText(*store, query) == totals, tt::per_element());
  BOOST_TEST(AgentsText(*store) == agents, tt::per_element());

  // The reopened store knows alice's open interval and closes it with her next change.
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChangeAt("alice", history.last + kHour, "Ready")}) ==
                     "");
  auto alice = IntervalsOrThrow(*store, "alice", history.first, history.last + kDay);
  BOOST_TEST_REQUIRE(alice.size() >= 2u);
  BOOST_TEST(alice[alice.size() - 2].end.has_value());
  BOOST_TEST(!alice.back().end.has_value());
  BOOST_TEST(
      Describe(TotalsOrThrow(*store, query)) ==
          ExpectedTotals(IntervalsOrThrow(*store, std::nullopt, query.from, query.to), query),
      tt::per_element());
}

BOOST_AUTO_TEST_CASE(sqlite_records_the_schema_version_and_uses_wal) {
  StoreUnderTest store("sqlite");
  store.Close();
  SQLite::Database db(store.path(), SQLite::OPEN_READONLY);
  BOOST_TEST(db.execAndGet("PRAGMA user_version").getInt() == kLedgerSchemaVersion);
  BOOST_TEST(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  for (const char* table : {"intervals", "agents", "day_aggregates", "states"}) {
    BOOST_TEST(db.tableExists(table), table);
  }
  // Schema 8: whole days come from the day aggregates; their copy in daily_totals is gone.
  BOOST_TEST(!db.tableExists("daily_totals"));
}

BOOST_AUTO_TEST_CASE(sqlite_refuses_a_database_from_a_newer_program) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("future.db");
  WriteNewerSchemaFile(path);
  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "schema_too_new");
  const std::string expected = "cannot open time ledger '" + path + "': database schema version " +
                               std::to_string(kLedgerSchemaVersion + 1) +
                               " is newer than this program supports (" +
                               std::to_string(kLedgerSchemaVersion) + ")";
  BOOST_TEST(opened.error().message == expected);
  // The newer program's file is left as it was.
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  BOOST_TEST(db.execAndGet("PRAGMA journal_mode").getString() == "delete");
  BOOST_TEST(!db.tableExists("intervals"));
}

BOOST_AUTO_TEST_CASE(sqlite_refuses_a_file_that_is_not_a_database) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("notes.db");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "agent,label,seconds\nalice,Lunch,1800\n";
  std::ofstream(path) << text;
  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "ledger_damaged");  // with how to recover (ledger_check_test)
  BOOST_TEST(opened.error().message.find("'" + path + "'") != std::string::npos,
             opened.error().message);
  BOOST_TEST(opened.error().message.find("not a database") != std::string::npos,
             opened.error().message);
  std::ifstream in(path);
  std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST((after == text), "the file was changed");
}

BOOST_AUTO_TEST_CASE(sqlite_reports_an_unopenable_path_as_an_error) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("missing-folder/ledger.db");
  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "storage_error");
  BOOST_TEST(opened.error().message.find(path) != std::string::npos, opened.error().message);
}

BOOST_AUTO_TEST_CASE(sqlite_splits_day_totals_exactly_at_utc_midnight) {
  StoreUnderTest store("sqlite");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T22:00:00Z", "Lunch"),
                                         MakeChange("a", "2026-11-23T02:30:00Z", "Ready"),
                                         MakeChange("a", "2026-11-23T02:30:00Z", "Lunch"),
                                         MakeChange("a", "2026-11-23T03:00:00Z", "Ready")}) == "");
  store.Close();
  SQLite::Database db(store.path(), SQLite::OPEN_READONLY);
  std::map<int64_t, std::string> states;  // id -> "label|status"
  SQLite::Statement state_rows(db, "SELECT id, label, status FROM states");
  while (state_rows.executeStep()) {
    states[state_rows.getColumn(0).getInt64()] =
        state_rows.getColumn(1).getString() + "|" + state_rows.getColumn(2).getString();
  }
  // Each day's row starts with its totals per state (what Totals reads for whole days).
  SQLite::Statement rows(db, "SELECT agent, day, data FROM day_aggregates ORDER BY day");
  std::vector<std::string> found;
  DayAggregateView day;
  while (rows.executeStep()) {
    const SQLite::Column data = rows.getColumn(2);
    BOOST_TEST_REQUIRE(
        day.Parse(std::string_view(static_cast<const char*>(data.getBlob()), data.getBytes()),
                  /*with_quarters=*/true)
            .ok());
    for (size_t i = 0; i < day.size(); ++i) {
      found.push_back(rows.getColumn(0).getString() + "|" + rows.getColumn(1).getString() + "|" +
                      states.at(day.state(i)) + "|" + std::to_string(day.total(i).count()));
    }
  }
  // 2026-11-21 is day 20778. The zero-length Ready and the open Ready add nothing.
  std::vector<std::string> expected = {"a|20778|Lunch|3|7200000", "a|20779|Lunch|3|86400000",
                                       "a|20780|Lunch|3|10800000"};
  BOOST_TEST(found == expected, tt::per_element());
}

BOOST_AUTO_TEST_CASE(sqlite_whole_days_come_from_the_day_aggregates_not_intervals) {
  StoreUnderTest store("sqlite");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-20T12:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-21T06:00:00Z", "Lunch"),
                                         MakeChange("a", "2026-11-21T07:00:00Z", "Ready"),
                                         MakeChange("a", "2026-11-22T13:00:00Z", "Meeting"),
                                         MakeChange("a", "2026-11-23T10:00:00Z", "Ready")}) == "");
  TotalsQuery query = Query("2026-11-20T18:00:00Z", "2026-11-23T09:00:00Z", "2026-11-23T12:00:00Z");
  std::vector<std::string> expected = {"a|Lunch|3|3600000", "a|Meeting|5|72000000",
                                       "a|Ready|1|151200000"};
  BOOST_TEST_REQUIRE(TotalsText(*store, query) == expected, tt::per_element());
  store.Close();
  {
    // Remove the intervals that lie wholly inside the whole days 21 and 22: a store that
    // scanned intervals for those days would now miss their time.
    SQLite::Database db(store.path(), SQLite::OPEN_READWRITE);
    int removed =
        db.exec("DELETE FROM intervals WHERE end_ms IS NOT NULL AND start_ms >= " +
                std::to_string(ToEpochMillis(T("2026-11-21T00:00:00Z"))) +
                " AND end_ms <= " + std::to_string(ToEpochMillis(T("2026-11-23T00:00:00Z"))));
    BOOST_TEST_REQUIRE(removed == 2);
  }
  store.Reopen();
  BOOST_TEST(TotalsText(*store, query) == expected, tt::per_element());
}

// A commit is acknowledged once it is in the change journal; writing it into the tables (the
// fold) can still fail. Then reads say so, nothing half-written shows, and the fold tries again
// until it succeeds, with nothing lost or doubled.
BOOST_AUTO_TEST_CASE(sqlite_failed_fold_leaves_the_store_consistent_and_is_retried) {
  StoreUnderTest store("sqlite");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T09:00:00Z", "Ready")}) == "");
  SettleOrThrow(*store);
  SQLite::Database other(store.path(), SQLite::OPEN_READWRITE);
  // With the day aggregates out of the way the fold fails after its intervals were written.
  other.exec("ALTER TABLE day_aggregates RENAME TO parked");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T10:00:00Z", "Lunch")}) == "");
  auto failed =
      store->Intervals(std::nullopt, T("2026-11-21T00:00:00Z"), T("2026-11-22T00:00:00Z"));
  BOOST_TEST_REQUIRE(!failed.ok());
  BOOST_TEST(failed.error().code == "storage_error");
  BOOST_TEST(failed.error().message.find("day_aggregates") != std::string::npos,
             failed.error().message);
  // Nothing of the failed fold is in the file.
  BOOST_TEST(other.execAndGet("SELECT COUNT(*) FROM intervals").getInt() == 1);
  other.exec("ALTER TABLE parked RENAME TO day_aggregates");
  SettleOrThrow(*store, 3);  // a fold in flight while the table came back may still fail once

  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T11:00:00Z", "Ready")}) == "");
  std::vector<std::string> expected = {
      "#1 a Ready *60 Online agent select [2026-11-21T09:00:00.000Z, 2026-11-21T10:00:00.000Z)",
      "#2 a Lunch *61 Away agent select [2026-11-21T10:00:00.000Z, 2026-11-21T11:00:00.000Z)",
      "#3 a Ready *60 Online agent select [2026-11-21T11:00:00.000Z, open)",
  };
  BOOST_TEST(AllIntervals(*store) == expected, tt::per_element());
  std::vector<std::string> totals = {"a|Lunch|3|3600000", "a|Ready|1|50400000"};
  BOOST_TEST(TotalsText(*store, Query("2026-11-20T00:00:00Z", "2026-11-23T00:00:00Z",
                                      "2026-11-22T00:00:00Z")) == totals,
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(sqlite_acknowledged_batch_survives_a_killed_process) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  pid_t child = fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    // No test macros here: the child only commits, then dies without any clean-up.
    auto opened = OpenSqliteTimeStore(path);
    if (!opened.ok()) _exit(3);
    std::string error = CommitText(**opened,
                                   {MakeChange("a", "2026-11-21T09:00:00Z", "Ready"),
                                    MakeChange("a", "2026-11-21T09:30:00Z", "Lunch")},
                                   {{"a", "acknowledged"}});
    if (!error.empty()) _exit(4);
    raise(SIGKILL);
    _exit(5);
  }
  int status = 0;
  BOOST_TEST_REQUIRE(waitpid(child, &status, 0) == child);
  BOOST_TEST_REQUIRE(WIFSIGNALED(status), "child exited with " << WEXITSTATUS(status));
  BOOST_TEST_REQUIRE(WTERMSIG(status) == SIGKILL);

  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(opened.ok());
  std::vector<std::string> expected = {
      "a {acknowledged} #2 a Lunch *61 Away agent select [2026-11-21T09:30:00.000Z, open)"};
  BOOST_TEST(AgentsText(**opened) == expected, tt::per_element());
  BOOST_TEST(AllIntervals(**opened).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
