// The core loop: answers only after durable commit, group commit, wrap-up timers on a fake
// clock, restart from the store, and a failed commit that changes nothing.

#include "agent/core/core.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/gated_store.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::agent {
namespace {

const Timestamp kT0 = *ParseTime("2026-11-21T09:00:00.000Z");

Timestamp At(int seconds) { return kT0 + std::chrono::seconds(seconds); }

Event Select(const std::string& agent, const std::string& label) {
  return Event{.type = EventType::kSelect, .agent = agent, .label = label};
}
Event Call(EventType type, const std::string& agent, const std::string& id) {
  return Event{.type = type, .agent = agent, .call_id = id};
}

Reply MustPost(Core& core, Event event) {
  Result<Reply> reply = core.Post(std::move(event)).get();
  BOOST_REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? "" : reply.error().message));
  return std::move(reply).value();
}

std::vector<std::string> Timeline(tracking::TimeStore& store, const std::string& agent) {
  auto intervals = store.Intervals(agent, kT0 - std::chrono::hours(1), At(86400));
  BOOST_REQUIRE(intervals.ok());
  std::vector<std::string> lines;
  for (const auto& i : *intervals) {
    lines.push_back(std::to_string((i.start - kT0).count() / 1000) + " " + i.label + " " +
                    std::string(reasoncodes::SourceName(i.source)));
  }
  return lines;
}

const testing::TestSettings kWrap30{.wrap_up_seconds = 30, .active_call_state = true};

// Puts user "a" in wrap-up (deadline t=90) with Lunch pending, on the given core and clock.
void EnterWrapUpWithLunchPending(Core& core, testing::FakeClock& clock) {
  clock.Set(At(0));
  MustPost(core, Event{.type = EventType::kLogin, .agent = "a"});
  MustPost(core, Call(EventType::kCallStarted, "a", "c1"));
  MustPost(core, Call(EventType::kCallAnswered, "a", "c1"));
  clock.Set(At(30));
  MustPost(core, Select("a", "Lunch"));
  clock.Set(At(60));
  MustPost(core, Call(EventType::kCallEnded, "a", "c1"));
}

// Lunch (budget 1,800 s) and Meeting (600 s) in Berlin: kT0 is 10:00 local, the local day
// ends at 23:00Z. Another zone and a budget for Ready (900 s) on request.
std::shared_ptr<const reasoncodes::Catalog> BudgetCatalog(const std::string& zone = "Europe/Berlin",
                                                          bool budget_ready = false) {
  std::string json =
      testing::TestCatalogJson({.extra_settings = "\"time_zone\": \"" + zone + "\""});
  auto add = [&](const std::string& label, int seconds) {
    const std::string key = "\"label\": \"" + label + "\"";
    json.replace(json.find(key), key.size(),
                 key + ", \"budget_seconds_per_day\": " + std::to_string(seconds));
  };
  if (budget_ready) add("Ready for Calls", 900);
  add("Lunch", 1800);
  add("Meeting", 600);
  return testing::CatalogFromJson(json);
}

// "Lunch 600 -, Meeting 0 since=<seconds after kT0>" for a state's budgets.
std::string Budgets(const AgentState& state) {
  std::string text;
  for (const AgentState::BudgetUse& use : state.budgets) {
    if (!text.empty()) text += ", ";
    text += use.label + " " + std::to_string(use.used.count() / 1000);
    text += use.counting_since
                ? " since=" + std::to_string((*use.counting_since - kT0).count() / 1000)
                : " -";
  }
  return text;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(core_test)

BOOST_AUTO_TEST_CASE(answer_comes_after_the_change_is_in_the_store) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  Reply reply = MustPost(core, Select("a", "Lunch"));
  BOOST_TEST(reply.state->label == "Lunch");
  BOOST_REQUIRE_EQUAL(reply.changes.size(), 2u);  // first sight, then Lunch
  BOOST_TEST(
      Timeline(*store, "a") == (std::vector<std::string>{"0 Logout system", "0 Lunch agent"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(events_queued_during_a_commit_share_the_next_commit) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock);
  BOOST_REQUIRE(core.Start().ok());
  store.Hold();
  auto first = core.Post(Select("u0", "Lunch"));
  store.WaitForCommitsStarted(1);  // the core thread is now inside the first commit
  std::vector<std::future<Result<Reply>>> rest;
  for (int i = 1; i <= 300; ++i)
    rest.push_back(core.Post(Select("u" + std::to_string(i), "Lunch")));
  store.Release();
  BOOST_TEST(first.get().ok());
  for (auto& future : rest) BOOST_TEST(future.get().ok());
  BOOST_TEST(store.commits() == 2);  // 301 events, two transactions
}

// While the store syncs one batch, the core goes on with the next; each batch is published
// (the snapshot) and answered only once the store says it is durable, in order.
BOOST_AUTO_TEST_CASE(the_next_batch_goes_ahead_while_one_syncs_and_each_shows_once_durable) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock);
  BOOST_REQUIRE(core.Start().ok());
  store.Pipeline();
  auto first = core.Post(Select("a", "Lunch"));
  store.WaitForWaiting(1);
  auto second = core.Post(Select("b", "Meeting"));
  store.WaitForWaiting(2);  // submitted while the first still waits for its sync
  const auto now = std::chrono::seconds(0);
  BOOST_TEST((first.wait_for(now) == std::future_status::timeout));
  BOOST_TEST((second.wait_for(now) == std::future_status::timeout));
  BOOST_TEST(!core.snapshot()->agents.contains("a"));
  BOOST_TEST(!core.snapshot()->agents.contains("b"));

  store.MakeDurable(1);
  BOOST_TEST(first.get().ok());
  BOOST_TEST_REQUIRE(core.snapshot()->agents.contains("a"));
  BOOST_TEST(core.snapshot()->agents.Find("a")->label == "Lunch");
  BOOST_TEST(!core.snapshot()->agents.contains("b"));
  BOOST_TEST((second.wait_for(now) == std::future_status::timeout));

  store.MakeDurable(1);
  BOOST_TEST(second.get().ok());
  BOOST_TEST(core.snapshot()->agents.Find("b")->label == "Meeting");
  BOOST_TEST(Timeline(store, "b").back() == "0 Meeting agent");
}

// A sync that fails loses its batch and every batch after it (the journal refuses all later
// ones): each is answered storage_error, and the engine goes back to what the store holds, also
// for the changes the later batches built on the lost one.
BOOST_AUTO_TEST_CASE(
    a_lost_sync_fails_its_batch_and_the_later_ones_and_the_engine_follows_the_store) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock, CoreOptions{.max_batch = 1});
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("a", "Meeting"));
  store.Pipeline();
  clock.Set(At(10));
  auto lost = core.Post(Select("a", "Lunch"));
  store.WaitForWaiting(1);
  // One event per batch: a refused event has no sync of its own and waits behind the lost
  // batch; the next one is submitted after it. Worked out after a lost batch, the refusal is
  // not trusted either.
  auto refused = core.Post(Select("a", "No such state"));
  clock.Set(At(20));
  auto after = core.Post(Select("a", "Do Not Disturb"));  // from Lunch, in the engine
  store.WaitForWaiting(2);
  store.LoseAll();
  for (auto* future : {&lost, &refused, &after}) {
    Result<Reply> reply = future->get();
    BOOST_REQUIRE(!reply.ok());
    BOOST_TEST(reply.error().code == "storage_error");
  }
  BOOST_TEST(core.snapshot()->agents.Find("a")->label == "Meeting");
  clock.Set(At(30));
  auto again = core.Post(Select("a", "Lunch"));
  store.WaitForWaiting(1);
  store.MakeDurable(1);
  Result<Reply> reply = again.get();
  BOOST_REQUIRE(reply.ok());
  BOOST_REQUIRE_EQUAL(reply->changes.size(), 1u);
  BOOST_TEST(reply->changes[0].from_label == "Meeting");
  BOOST_TEST(Timeline(store, "a") ==
                 (std::vector<std::string>{"0 Logout system", "0 Meeting agent", "30 Lunch agent"}),
             boost::test_tools::per_element());
}

// Stop finishes the batches still being synced: their callers get the outcome, not "stopped".
BOOST_AUTO_TEST_CASE(stop_waits_for_the_batches_being_synced) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock);
  BOOST_REQUIRE(core.Start().ok());
  store.Pipeline();
  auto pending = core.Post(Select("a", "Lunch"));
  store.WaitForWaiting(1);
  std::thread stopper([&] { core.Stop(); });
  // Once a post is refused as "stopped", Stop has begun: only then is the batch made durable.
  // (Posts accepted before that are refused by the engine, with no sync of their own, and
  // answered behind the batch.)
  std::vector<std::future<Result<Reply>>> probes;
  for (;;) {
    auto probe = core.Post(Select("a", "No such state"));
    if (probe.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      Result<Reply> refused = probe.get();
      BOOST_REQUIRE(!refused.ok());
      if (refused.error().code == "stopped") break;
      continue;
    }
    probes.push_back(std::move(probe));
  }
  store.MakeDurable(1);
  stopper.join();
  BOOST_REQUIRE((pending.wait_for(std::chrono::seconds(0)) == std::future_status::ready));
  BOOST_TEST(pending.get().ok());
  for (auto& probe : probes) {
    BOOST_REQUIRE((probe.wait_for(std::chrono::seconds(0)) == std::future_status::ready));
    BOOST_TEST(probe.get().error().code == "unknown_label");
  }
  BOOST_TEST(Timeline(store, "a").back() == "0 Lunch agent");
}

BOOST_AUTO_TEST_CASE(heartbeat_keeps_beating_while_the_loop_idles) {
  // Declared before the core: its thread beats until the core is gone.
  std::mutex mutex;
  std::condition_variable beaten;
  int beats = 0;
  std::thread::id beat_thread;
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  core.SetHeartbeat(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        ++beats;
        beat_thread = std::this_thread::get_id();
        beaten.notify_all();
      },
      std::chrono::milliseconds(5));
  BOOST_REQUIRE(core.Start().ok());
  // No event at all: the idle loop (which would otherwise wait for an hour) still beats.
  std::unique_lock<std::mutex> lock(mutex);
  BOOST_TEST(beaten.wait_for(lock, std::chrono::seconds(20), [&] { return beats >= 3; }));
  BOOST_TEST((beat_thread != std::this_thread::get_id()));
  lock.unlock();
  MustPost(core, Select("a", "Lunch"));  // and events are still served
  core.Stop();
}

BOOST_AUTO_TEST_CASE(budgets_count_the_local_day_and_start_afresh_at_local_midnight) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  auto catalog = BudgetCatalog();
  struct Step {
    int at;  // seconds after kT0 (10:00 in Berlin)
    std::string label;
    std::string budgets;  // after the change
    std::string day_ends;
  };
  const std::string today_ends = "2026-11-21T23:00:00.000Z";
  const std::vector<Step> steps = {
      {0, "Lunch", "Lunch 0 since=0, Meeting 0 -", today_ends},
      {600, "Ready for Calls", "Lunch 600 -, Meeting 0 -", today_ends},
      {900, "Lunch", "Lunch 600 since=900, Meeting 0 -", today_ends},
      {2000, "Meeting", "Lunch 1700 -, Meeting 0 since=2000", today_ends},
      // 22:50Z, ten minutes before local midnight.
      {49800, "Lunch", "Lunch 1700 since=49800, Meeting 47800 -", today_ends},
      // 23:10Z: a new local day; only Lunch's ten minutes after midnight count.
      {51000, "Ready for Calls", "Lunch 600 -, Meeting 0 -", "2026-11-22T23:00:00.000Z"},
  };
  {
    Core core(catalog, *store, clock);
    BOOST_REQUIRE(core.Start().ok());
    for (const Step& step : steps) {
      clock.Set(At(step.at));
      Reply reply = MustPost(core, Select("a", step.label));
      BOOST_TEST_CONTEXT("at " << step.at << " " << step.label) {
        BOOST_TEST(Budgets(*reply.state) == step.budgets);
        BOOST_TEST(FormatTime(reply.state->budget_day_ends) == step.day_ends);
      }
    }
  }
  // A restart reads today's use back from the ledger.
  clock.Set(At(51600));
  Core restarted(catalog, *store, clock);
  BOOST_REQUIRE(restarted.Start().ok());
  BOOST_TEST(Budgets(*restarted.snapshot()->agents.Find("a")) == "Lunch 600 -, Meeting 0 -");
  clock.Set(At(51700));
  Reply reply = MustPost(restarted, Select("a", "Meeting"));
  BOOST_TEST(Budgets(*reply.state) == "Lunch 600 -, Meeting 0 since=51700");
  // Still in Meeting the next day: a view made then counts from that day's start only.
  clock.Set(At(51700 + 86400));
  restarted.Wake();
  reply = MustPost(restarted, Select("b", "Lunch"));
  BOOST_TEST(Budgets(*restarted.snapshot()->agents.Find("a")) ==
             "Lunch 600 -, Meeting 0 since=51700");  // a's view was made yesterday
}

// A restart takes today's use from each user's stored record: it adds up no intervals at all,
// however long the day's history.
BOOST_AUTO_TEST_CASE(a_restart_reads_todays_budget_use_from_the_users_records) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  auto catalog = BudgetCatalog();
  {
    Core core(catalog, store, clock);
    BOOST_REQUIRE(core.Start().ok());
    for (auto [at, label] : std::vector<std::pair<int, std::string>>{
             {0, "Lunch"}, {600, "Ready for Calls"}, {900, "Meeting"}, {1000, "Lunch"}}) {
      clock.Set(At(at));
      MustPost(core, Select("a", label));
    }
    clock.Set(At(1100));
    MustPost(core, Call(EventType::kCallStarted, "a", "c1"));  // a record, no change
  }
  const int queries = store.totals_queries();
  clock.Set(At(1200));
  Core restarted(catalog, store, clock);
  BOOST_REQUIRE(restarted.Start().ok());
  BOOST_TEST(Budgets(*restarted.snapshot()->agents.Find("a")) ==
             "Lunch 600 since=1000, Meeting 100 -");
  BOOST_TEST(store.totals_queries() == queries);
  // And it goes on counting from there.
  clock.Set(At(1300));
  BOOST_TEST(Budgets(*MustPost(restarted, Select("a", "Meeting")).state) ==
             "Lunch 900 -, Meeting 100 since=1300");
}

// A stored day that is not a day of the zone now configured (the zone changed while the agent
// was down) cannot be trusted: today's use is added up from the ledger in the new zone.
BOOST_AUTO_TEST_CASE(a_restart_in_another_time_zone_adds_up_the_day_from_the_ledger) {
  // 23:30Z: 00:30 of the next day in Berlin, still today in UTC.
  const Timestamp late = kT0 - std::chrono::hours(9) - std::chrono::minutes(30);
  testing::FakeClock clock(late);
  auto store = tracking::NewMemoryTimeStore();
  {
    Core core(BudgetCatalog(), *store, clock);
    BOOST_REQUIRE(core.Start().ok());
    MustPost(core, Select("a", "Lunch"));
    clock.Set(late + std::chrono::minutes(10));
    MustPost(core, Select("a", "Ready for Calls"));
  }
  // Kept in Berlin: the Lunch counts today. In UTC it was yesterday's.
  clock.Set(kT0);
  Core berlin(BudgetCatalog(), *store, clock);
  BOOST_REQUIRE(berlin.Start().ok());
  BOOST_TEST(Budgets(*berlin.snapshot()->agents.Find("a")) == "Lunch 600 -, Meeting 0 -");
  berlin.Stop();
  Core utc(BudgetCatalog("UTC"), *store, clock);
  BOOST_REQUIRE(utc.Start().ok());
  auto view = utc.snapshot()->agents.Find("a");
  BOOST_TEST(Budgets(*view) == "Lunch 0 -, Meeting 0 -");
  BOOST_TEST(FormatTime(view->budget_day_ends) == "2026-11-22T00:00:00.000Z");
}

// A state that got a budget while the agent was down was not counted in the stored records:
// its use today comes from the ledger.
BOOST_AUTO_TEST_CASE(a_restart_with_a_newly_budgeted_state_adds_up_its_use_from_the_ledger) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  {
    Core core(BudgetCatalog(), *store, clock);
    BOOST_REQUIRE(core.Start().ok());
    for (auto [at, label] : std::vector<std::pair<int, std::string>>{
             {0, "Lunch"}, {600, "Ready for Calls"}, {900, "Lunch"}}) {
      clock.Set(At(at));
      MustPost(core, Select("a", label));
    }
  }
  clock.Set(At(1000));
  Core restarted(BudgetCatalog("Europe/Berlin", /*budget_ready=*/true), *store, clock);
  BOOST_REQUIRE(restarted.Start().ok());
  BOOST_TEST(Budgets(*restarted.snapshot()->agents.Find("a")) ==
             "Ready for Calls 300 -, Lunch 600 since=900, Meeting 0 -");
}

// A record stored without the core's tally (by replay, or by an older version of the agent):
// that user's use today comes from the ledger.
BOOST_AUTO_TEST_CASE(a_restart_adds_up_the_day_of_users_stored_without_a_tally) {
  testing::FakeClock clock(At(1000));
  auto store = tracking::NewMemoryTimeStore();
  tracking::CommitBatch batch;
  auto change = [&](int at, const std::string& from, const std::string& to) {
    batch.changes.push_back(tracking::Change{
        .agent = "a", .at = At(at), .from_label = from, .label = to, .source = Source::kAgent});
  };
  change(0, "", "Lunch");
  change(300, "Lunch", "Meeting");
  change(400, "Meeting", "Ready for Calls");
  batch.agents.push_back({"a", ""});
  BOOST_REQUIRE(store->Commit(batch).ok());
  Core core(BudgetCatalog(), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  BOOST_TEST(Budgets(*core.snapshot()->agents.Find("a")) == "Lunch 300 -, Meeting 100 -");
}

// What a stream viewer relies on: a snapshot numbered N shows exactly the states of updates 1..N
// (the same state objects), whichever thread reads it while the core goes on publishing.
BOOST_AUTO_TEST_CASE(a_snapshot_shows_exactly_the_updates_up_to_its_number) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  std::mutex mutex;
  std::vector<AgentUpdate> updates;  // in seq order, 1, 2, ...
  core.AddListener([&](const CommitNotice& notice) {
    std::lock_guard<std::mutex> lock(mutex);
    updates.insert(updates.end(), notice.updates.begin(), notice.updates.end());
  });
  BOOST_REQUIRE(core.Start().ok());
  constexpr int kUsers = 300;
  constexpr int kPosters = 4;
  constexpr int kPerPoster = 600;
  std::atomic<bool> posting{true};
  std::atomic<int> checked{0};
  std::vector<std::string> problems;
  auto check = [&] {
    std::shared_ptr<const Snapshot> snapshot = core.snapshot();
    std::map<std::string, std::shared_ptr<const AgentState>> expected;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (updates.size() < snapshot->seq) {
        problems.push_back("snapshot " + std::to_string(snapshot->seq) + " ahead of the updates");
        return;
      }
      for (size_t i = 0; i < snapshot->seq; ++i) {
        if (updates[i].seq != i + 1) problems.push_back("update numbers skip");
        expected[updates[i].state->agent] = updates[i].state;
      }
    }
    if (snapshot->agents.size() != expected.size() || snapshot->agents.Sorted() != expected) {
      std::lock_guard<std::mutex> lock(mutex);
      problems.push_back("snapshot " + std::to_string(snapshot->seq) + " differs from its updates");
    }
    ++checked;
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (posting) check();
      check();
    });
  }
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      const char* labels[] = {"Lunch", "Meeting", "Ready for Calls"};
      for (int i = 0; i < kPerPoster; ++i) {
        const int user = (p + i * kPosters) % kUsers;
        core.Post(Select("u" + std::to_string(user), labels[(i / kUsers + p) % 3])).get();
      }
    });
  }
  for (std::thread& poster : posters) poster.join();
  posting = false;
  for (std::thread& reader : readers) reader.join();
  BOOST_TEST(problems.empty(), (problems.empty() ? "" : problems.front()));
  BOOST_TEST(checked.load() >= 2);
  BOOST_TEST(core.snapshot()->agents.size() == static_cast<size_t>(kUsers));
}

BOOST_AUTO_TEST_CASE(no_budgets_no_budget_figures) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  BOOST_TEST(MustPost(core, Select("a", "Lunch")).state->budgets.empty());
}

BOOST_AUTO_TEST_CASE(wrap_up_timer_fires_at_its_deadline_on_the_fake_clock) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog(kWrap30), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  EnterWrapUpWithLunchPending(core, clock);
  clock.Set(At(89));
  MustPost(core, Select("other", "Meeting"));  // the loop looks at its timers before events
  BOOST_TEST(Timeline(*store, "a").back() == "60 Wrap-up wrap_up");
  clock.Set(At(95));
  core.Wake();
  MustPost(core, Select("other", "Lunch"));
  BOOST_TEST(Timeline(*store, "a").back() == "90 Lunch agent");
}

BOOST_AUTO_TEST_CASE(restart_ends_a_wrap_up_whose_deadline_passed_while_down) {
  testing::TempDir dir;
  testing::FakeClock clock(kT0);
  {
    auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
    BOOST_REQUIRE(store.ok());
    Core core(testing::MakeTestCatalog(kWrap30), **store, clock);
    BOOST_REQUIRE(core.Start().ok());
    EnterWrapUpWithLunchPending(core, clock);
  }  // the process stops in wrap-up
  clock.Set(At(600));
  auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
  BOOST_REQUIRE(store.ok());
  Core core(testing::MakeTestCatalog(kWrap30), **store, clock);
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("other", "Meeting"));  // the overdue timer has run before this
  const std::vector<std::string> expected = {"0 Logout system", "0 Ready for Calls agent",
                                             "0 On a call call", "60 Wrap-up wrap_up",
                                             "90 Lunch agent"};
  BOOST_TEST(Timeline(**store, "a") == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(restart_keeps_a_running_wrap_up_and_its_pending_choice) {
  testing::TempDir dir;
  testing::FakeClock clock(kT0);
  {
    auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
    BOOST_REQUIRE(store.ok());
    Core core(testing::MakeTestCatalog(kWrap30), **store, clock);
    BOOST_REQUIRE(core.Start().ok());
    EnterWrapUpWithLunchPending(core, clock);
  }
  clock.Set(At(70));
  auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
  BOOST_REQUIRE(store.ok());
  Core core(testing::MakeTestCatalog(kWrap30), **store, clock);
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("other", "Meeting"));
  BOOST_TEST(Timeline(**store, "a").back() == "60 Wrap-up wrap_up");
  clock.Set(At(91));
  core.Wake();
  MustPost(core, Select("other", "Lunch"));
  BOOST_TEST(Timeline(**store, "a").back() == "90 Lunch agent");
}

BOOST_AUTO_TEST_CASE(failed_commit_answers_an_error_and_changes_nothing) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock);
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("a", "Meeting"));
  store.FailNext();
  clock.Set(At(10));
  Result<Reply> failed = core.Post(Select("a", "Lunch")).get();
  BOOST_REQUIRE(!failed.ok());
  BOOST_TEST(failed.error().code == "storage_error");
  // The engine forgot the failed change: choosing Lunch again is a change, not a no-op.
  clock.Set(At(20));
  Reply again = MustPost(core, Select("a", "Lunch"));
  BOOST_REQUIRE_EQUAL(again.changes.size(), 1u);
  BOOST_TEST(again.changes[0].from_label == "Meeting");
  BOOST_TEST(Timeline(store, "a").back() == "20 Lunch agent");
}

BOOST_AUTO_TEST_CASE(while_the_store_cannot_be_read_events_are_refused_not_guessed) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock);
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("a", "Lunch"));
  store.FailNext();
  store.FailLoads(2);  // the reload after the failed commit, and the retry at the next event
  clock.Set(At(10));
  BOOST_TEST(!core.Post(Select("a", "Meeting")).get().ok());
  Result<Reply> refused = core.Post(Select("b", "Meeting")).get();
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == "storage_error");
  // The store is readable again: "a" is still in Lunch (not first seen again).
  clock.Set(At(20));
  Reply reply = MustPost(core, Select("a", "Meeting"));
  BOOST_REQUIRE_EQUAL(reply.changes.size(), 1u);
  BOOST_TEST(reply.changes[0].from_label == "Lunch");
  BOOST_TEST(Timeline(store, "b").empty());
}

// The connectors' outbox rows are written in the same transaction as their changes, numbered
// after the last id the store has seen; a failed commit writes none and hands none out.
BOOST_AUTO_TEST_CASE(outbox_rows_are_committed_with_their_changes_and_told_to_listeners) {
  testing::FakeClock clock(kT0);
  testing::GatedStore store(tracking::NewMemoryTimeStore());
  Core core(testing::MakeTestCatalog({}), store, clock);
  core.SetOutboxPlanner(
      [](const std::vector<tracking::Change>& changes, std::vector<tracking::OutboxItem>& rows) {
        for (const tracking::Change& change : changes) {
          if (change.label != "Logout") rows.push_back({0, "pbx", change});
        }
      },
      41);
  std::vector<int64_t> told;
  core.AddListener([&](const CommitNotice& notice) {
    for (const tracking::OutboxItem& row : notice.outbox) told.push_back(row.id);
  });
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("a", "Meeting"));  // first sight (Logout, not wanted), then Meeting
  store.FailNext();
  BOOST_REQUIRE(!core.Post(Select("a", "Lunch")).get().ok());
  MustPost(core, Select("a", "Lunch"));
  Result<tracking::OutboxState> outbox = store.LoadOutbox();
  BOOST_REQUIRE(outbox.ok());
  BOOST_REQUIRE_EQUAL(outbox->items.size(), 2u);
  BOOST_TEST(outbox->items[0].change.label == "Meeting");
  BOOST_TEST(outbox->items[1].change.label == "Lunch");
  BOOST_TEST(outbox->items[1].connector == "pbx");
  // 43 went to the failed commit and is never used again.
  BOOST_TEST(told == (std::vector<int64_t>{42, 44}));
  BOOST_TEST(outbox->items[0].id == 42);
  BOOST_TEST(outbox->items[1].id == 44);
}

// A connector's read-back of the phone system (issue 14) shows in the user's view and is
// published to listeners without writing anything; a report that changes nothing is not
// published again, and an empty one clears it.
BOOST_AUTO_TEST_CASE(pbx_reports_are_published_in_the_view_without_a_commit) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  std::vector<std::pair<bool, size_t>> told;  // durable, mismatches of the first update
  core.AddListener([&](const CommitNotice& notice) {
    BOOST_REQUIRE(!notice.updates.empty());
    told.emplace_back(notice.durable, notice.updates[0].state->pbx_mismatches.size());
  });
  BOOST_REQUIRE(core.Start().ok());
  const reasoncodes::ActionMismatch dnd{"pbx", "dnd", "on", "off", true, At(0)};
  core.ReportPbx("b", "pbx", {dnd});  // b has no state yet: kept until b has one
  MustPost(core, Select("a", "Lunch"));
  core.ReportPbx("a", "pbx", {dnd});
  core.ReportPbx("a", "pbx", {dnd});  // the same again: nothing to publish
  Reply reply = MustPost(core, Select("b", "Lunch"));
  BOOST_TEST(reply.state->pbx_mismatches.size() == 1u);
  std::shared_ptr<const Snapshot> snapshot = core.snapshot();
  BOOST_REQUIRE(snapshot->agents.Find("a"));
  BOOST_TEST(snapshot->agents.Find("a")->pbx_mismatches.size() == 1u);
  BOOST_TEST((snapshot->agents.Find("a")->pbx_mismatches[0] == dnd));
  core.ReportPbx("a", "pbx", {});
  MustPost(core, Select("b", "Meeting"));
  BOOST_TEST(core.snapshot()->agents.Find("a")->pbx_mismatches.empty());
  BOOST_TEST(core.snapshot()->agents.Find("b")->pbx_mismatches.size() == 1u);
  core.Stop();
  // a's Lunch (durable), a's report (not), b's Lunch, the clearing, b's Meeting (reports and
  // commits of one batch may be told in either order). Nothing of the reports was stored.
  std::vector<std::pair<bool, size_t>> expected = {
      {false, 0}, {false, 1}, {true, 0}, {true, 1}, {true, 1}};
  std::sort(told.begin(), told.end());
  BOOST_TEST((told == expected));
  BOOST_TEST(Timeline(*store, "a").size() == 2u);
}

BOOST_AUTO_TEST_CASE(timer_events_cannot_be_posted_from_outside) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  Result<Reply> reply = core.Post(WrapUpTimerEvent("nobody", At(5))).get();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.error().code == "invalid_event");
}

BOOST_AUTO_TEST_CASE(missed_calls_timer_events_cannot_be_posted_from_outside) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  Result<Reply> reply = core.Post(TimerEvent(EventType::kMissedCallsTimer, "nobody", At(5))).get();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.error().code == "invalid_event");
  BOOST_TEST(reply.error().message == "type: missed_calls_timer cannot be posted");
}

const testing::TestSettings kMissedBack{
    .extra_settings =
        R"("missed_calls": {"after": 2, "state": "Meeting", "return_after_seconds": 60})"};

// Two calls to user "a" ring out while Ready: Meeting at t=25, back to Ready due at t=85.
void MissTwoCalls(Core& core, testing::FakeClock& clock) {
  clock.Set(At(0));
  MustPost(core, Event{.type = EventType::kLogin, .agent = "a"});
  for (int t : {10, 20}) {
    const std::string id = "c" + std::to_string(t);
    clock.Set(At(t));
    MustPost(core, Call(EventType::kCallStarted, "a", id));
    clock.Set(At(t + 5));
    MustPost(core, Call(EventType::kCallEnded, "a", id));
  }
}

BOOST_AUTO_TEST_CASE(missed_calls_return_fires_at_its_deadline_on_the_fake_clock) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog(kMissedBack), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  MissTwoCalls(core, clock);
  BOOST_TEST(Timeline(*store, "a").back() == "25 Meeting call");
  clock.Set(At(90));
  core.Wake();
  MustPost(core, Select("other", "Lunch"));
  BOOST_TEST(Timeline(*store, "a").back() == "85 Ready for Calls system");
}

BOOST_AUTO_TEST_CASE(restart_returns_from_the_missed_calls_state_when_its_time_passed) {
  testing::TempDir dir;
  testing::FakeClock clock(kT0);
  {
    auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
    BOOST_REQUIRE(store.ok());
    Core core(testing::MakeTestCatalog(kMissedBack), **store, clock);
    BOOST_REQUIRE(core.Start().ok());
    MissTwoCalls(core, clock);
  }  // the process stops in the missed-calls state
  clock.Set(At(600));
  auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
  BOOST_REQUIRE(store.ok());
  Core core(testing::MakeTestCatalog(kMissedBack), **store, clock);
  BOOST_REQUIRE(core.Start().ok());
  MustPost(core, Select("other", "Meeting"));  // the overdue timer has run before this
  const std::vector<std::string> expected = {"0 Logout system", "0 Ready for Calls agent",
                                             "25 Meeting call", "85 Ready for Calls system"};
  BOOST_TEST(Timeline(**store, "a") == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(engine_errors_reach_the_caller_and_other_events_in_the_batch_still_apply) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  auto bad = core.Post(Select("a", "Lnch"));
  auto good = core.Post(Select("b", "Lunch"));
  Result<Reply> bad_reply = bad.get();
  BOOST_REQUIRE(!bad_reply.ok());
  BOOST_TEST(bad_reply.error().code == "unknown_label");
  BOOST_TEST(good.get().ok());
  BOOST_TEST(Timeline(*store, "a").empty());
}

BOOST_AUTO_TEST_CASE(posts_after_stop_are_refused) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  core.Stop();
  Result<Reply> reply = core.Post(Select("a", "Lunch")).get();
  BOOST_REQUIRE(!reply.ok());
  BOOST_TEST(reply.error().code == "stopped");
}

BOOST_AUTO_TEST_CASE(a_batch_post_answers_each_event_once_in_order_with_its_own_outcome) {
  testing::FakeClock clock(kT0);
  auto store = tracking::NewMemoryTimeStore();
  Core core(testing::MakeTestCatalog({}), *store, clock);
  BOOST_REQUIRE(core.Start().ok());
  std::mutex mutex;
  std::condition_variable answered;
  std::vector<std::pair<int, Result<Reply>>> answers;  // in the order the core answered
  std::vector<Core::Posting> batch;
  auto record = [&](int index) {
    return [&, index](Result<Reply> reply) {
      std::lock_guard<std::mutex> lock(mutex);
      answers.emplace_back(index, std::move(reply));
      answered.notify_all();
    };
  };
  batch.push_back({Select("a", "Lunch"), record(0)});
  batch.push_back({Select("a", "Lnch"), record(1)});  // refused by the engine, alone
  batch.push_back({Select("a", "Meeting"), record(2)});
  batch.push_back({Select("b", "Lunch"), record(3)});
  // A timer type is refused at once, on this thread, before PostBatch returns.
  batch.push_back({Event{.type = EventType::kWrapUpTimer, .agent = "a"}, record(4)});
  core.PostBatch(std::move(batch));
  {
    std::unique_lock<std::mutex> lock(mutex);
    BOOST_REQUIRE(
        answered.wait_for(lock, std::chrono::seconds(10), [&] { return answers.size() == 5; }));
    BOOST_TEST(answers[0].first == 4);
    BOOST_TEST(answers[0].second.error().code == "invalid_event");
    for (size_t i = 1; i < answers.size(); ++i) BOOST_TEST(answers[i].first == int(i) - 1);
    BOOST_TEST(answers[1].second.ok());
    BOOST_TEST(answers[2].second.error().code == "unknown_label");
    BOOST_REQUIRE(answers[3].second.ok());
    BOOST_TEST(answers[3].second->state->label == "Meeting");
    BOOST_TEST(answers[4].second.ok());
  }
  // Applied in order: Lunch, then Meeting (the refused Lnch left nothing).
  const std::vector<std::string> timeline = Timeline(*store, "a");
  BOOST_REQUIRE(timeline.size() >= 2);
  BOOST_TEST(timeline[timeline.size() - 2] == "0 Lunch agent");
  BOOST_TEST(timeline.back() == "0 Meeting agent");
  // After Stop, every event of a batch is refused at once as "stopped".
  core.Stop();
  std::vector<Core::Posting> late;
  late.push_back({Select("a", "Lunch"), record(5)});
  core.PostBatch(std::move(late));
  std::lock_guard<std::mutex> lock(mutex);
  BOOST_REQUIRE(answers.size() == 6);
  BOOST_TEST(answers[5].second.error().code == "stopped");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
