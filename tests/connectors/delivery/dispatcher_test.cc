// Delivery workers over a real store: rows are delivered and removed, a remote system that was
// down gets the latest state once when it returns, one hung connector does not hold up another,
// rows survive a restart, and changes are never echoed to their source. Back-off runs on a
// fake clock the tests move.
#include "connectors/delivery/dispatcher.h"

#include <boost/test/unit_test.hpp>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_monotonic_clock.h"
#include "tests/fakes/recording_connector.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::connectors {
namespace {

using presence::FromEpochMillis;
using testing::FakeClock;
using testing::FakeMonotonicClock;
using testing::RecordingConnector;
using tracking::OutboxItem;

const Timestamp kT0 = FromEpochMillis(1'800'000'000'000);

OutboxItem Row(int64_t id, const std::string& connector, const std::string& user,
               const std::string& label) {
  OutboxItem item;
  item.id = id;
  item.connector = connector;
  item.change.agent = user;
  item.change.label = label;
  item.change.at = kT0 + Millis(id);
  item.change.source = reasoncodes::Source::kAgent;
  return item;
}

void Log(LogLevel, std::string_view) {}

struct Fixture {
  FakeClock clock{kT0};
  FakeMonotonicClock steady{clock};  // moves `clock` too
  std::unique_ptr<tracking::TimeStore> store = tracking::NewMemoryTimeStore();
  std::shared_ptr<const Directory> directory = [] {
    auto made = std::make_shared<Directory>();
    made->catalog = testing::MakeTestCatalog({});
    return made;
  }();

  std::unique_ptr<Dispatcher> Make(const std::string& name,
                                   std::shared_ptr<RecordingConnector::Log> log,
                                   DeliveryPolicy policy = {}) {
    return std::make_unique<Dispatcher>(name, "recording", policy,
                                        std::make_unique<RecordingConnector>(log), *store, clock,
                                        &Log, steady);
  }
  void Commit(std::vector<OutboxItem> rows) {
    tracking::CommitBatch batch;
    batch.outbox = std::move(rows);
    BOOST_REQUIRE(store->Commit(batch).ok());
  }
  size_t Waiting() { return store->LoadOutbox()->items.size(); }
};

// A connector whose first delivery throws: a bug, not a remote system's answer.
class ThrowingConnector final : public Connector {
 public:
  explicit ThrowingConnector(std::shared_ptr<RecordingConnector::Log> log)
      : inner_(std::move(log)) {}
  bool Wants(const Change&, const Directory&) const override { return true; }
  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override {
    if (!thrown_.exchange(true)) throw std::runtime_error("mapping table is broken");
    return inner_.Deliver(delivery, directory);
  }

 private:
  RecordingConnector inner_;
  std::atomic<bool> thrown_{false};
};

uint64_t SwallowedBy(std::string_view component) {
  for (const auto& [name, count] : SwallowedErrors()) {
    if (name == component) return count;
  }
  return 0;
}

BOOST_AUTO_TEST_SUITE(dispatcher_test)

// The catch-all per delivery (design.md 5): the exception is logged with the delivery's
// fields, counted for presence_swallowed_errors_total, and the row is retried.
BOOST_FIXTURE_TEST_CASE(a_delivery_that_throws_is_logged_counted_and_retried, Fixture) {
  auto log = std::make_shared<RecordingConnector::Log>();
  std::mutex events_mutex;
  std::vector<std::string> events;
  LogSink sink = [&](const LogEvent& event) {
    std::lock_guard lock(events_mutex);
    events.push_back(FormatLogText(event));
  };
  DeliveryPolicy policy;
  const uint64_t before = SwallowedBy("connector");
  Dispatcher dispatcher("hook", "recording", policy, std::make_unique<ThrowingConnector>(log),
                        *store, clock, sink.For("connector", {{"connector", "hook"}}), steady);
  Commit({Row(1, "hook", "1001", "Lunch")});
  dispatcher.Start(store->LoadOutbox()->items, {}, [&] { return directory; });
  BOOST_REQUIRE(steady.AwaitWaiters(1));  // the back-off after the throw
  steady.Advance(std::chrono::minutes(1));
  BOOST_REQUIRE(log->WaitFor([&] { return log->delivered.size() == 1; }));
  dispatcher.Stop();
  BOOST_TEST(log->delivered[0].attempt == 2);
  BOOST_TEST(SwallowedBy("connector") == before + 1);
  std::lock_guard lock(events_mutex);
  BOOST_REQUIRE(!events.empty());
  BOOST_TEST(events[0] ==
             "connector[hook]: delivering a change: mapping table is broken user=1001 "
             "label=Lunch delivery=1 attempt=1");
}

BOOST_FIXTURE_TEST_CASE(every_row_is_delivered_in_order_and_then_removed, Fixture) {
  auto log = std::make_shared<RecordingConnector::Log>();
  DeliveryPolicy policy;
  policy.coalesce = false;
  policy.concurrency = 4;
  auto dispatcher = Make("hook", log, policy);
  Commit({Row(1, "hook", "1001", "Lunch"), Row(2, "hook", "1001", "Ready for Calls"),
          Row(3, "hook", "1002", "Meeting")});
  dispatcher->Start(store->LoadOutbox()->items, {}, [&] { return directory; });
  BOOST_REQUIRE(log->WaitFor([&] { return log->delivered.size() == 3; }));
  dispatcher->Stop();
  std::vector<int64_t> order_1001;
  for (const Delivery& d : log->delivered) {
    if (d.change.agent == "1001") order_1001.push_back(d.id);
  }
  BOOST_TEST(order_1001 == (std::vector<int64_t>{1, 2}));
  BOOST_TEST(Waiting() == 0u);
  BOOST_TEST(dispatcher->stats().delivered == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_system_that_was_down_gets_the_latest_state_once_when_it_returns,
                        Fixture) {
  auto log = std::make_shared<RecordingConnector::Log>();
  log->down = true;
  auto dispatcher = Make("teams", log);  // coalescing: only the latest state matters
  dispatcher->Start({}, {}, [&] { return directory; });
  Commit({Row(1, "teams", "1001", "Lunch")});
  dispatcher->Enqueue({Row(1, "teams", "1001", "Lunch")});
  BOOST_REQUIRE(log->WaitFor([&] { return log->attempts.size() == 1; }));
  BOOST_REQUIRE(log->WaitFor([&] { return dispatcher->stats().consecutive_failures == 1; }));
  BOOST_TEST(dispatcher->stats().paused_until.has_value());
  // Paused: the worker waits on the monotonic clock for as long as the pause lasts.
  BOOST_REQUIRE(steady.AwaitWaiters(1));
  const Millis pause = *dispatcher->stats().paused_until - clock.Now();
  BOOST_TEST(pause.count() > 0);
  BOOST_TEST((steady.Deadlines() == std::vector<MonotonicClock::Instant>{steady.Now() + pause}));
  // While it is down the agent goes on changing state.
  Commit({Row(2, "teams", "1001", "Meeting"), Row(3, "teams", "1001", "Ready for Calls")});
  dispatcher->Enqueue(
      {Row(2, "teams", "1001", "Meeting"), Row(3, "teams", "1001", "Ready for Calls")});
  BOOST_TEST(log->attempts.size() == 1u);  // no hammering while it is down
  log->Set([&] { log->down = false; });
  steady.Advance(pause - Millis(1));
  BOOST_TEST(log->attempts.size() == 1u);  // the worker was not woken: its deadline is ahead
  steady.Advance(std::chrono::minutes(10));
  BOOST_REQUIRE(log->WaitFor([&] { return log->delivered.size() == 1; }));
  dispatcher->Stop();
  BOOST_TEST(log->delivered[0].change.label == "Ready for Calls");
  BOOST_TEST(log->delivered.size() == 1u);
  BOOST_TEST(dispatcher->stats().coalesced == 2u);
  BOOST_TEST(Waiting() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_hung_connector_does_not_delay_another, Fixture) {
  auto hung_log = std::make_shared<RecordingConnector::Log>();
  hung_log->hold = true;
  auto fine_log = std::make_shared<RecordingConnector::Log>();
  ConnectorSet set(*store, &Log);
  set.SetDirectory(directory);
  set.Add(Make("hung", hung_log));
  set.Add(Make("fine", fine_log));
  set.Start({}, {});
  std::vector<OutboxItem> rows;
  tracking::Change change = Row(1, "", "1001", "Lunch").change;
  set.Plan({change}, rows);
  BOOST_REQUIRE(rows.size() == 2u);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].id = static_cast<int64_t>(i + 1);
  Commit(rows);
  set.Enqueue(rows);
  BOOST_REQUIRE(hung_log->WaitFor([&] { return hung_log->attempts.size() == 1; }));
  BOOST_REQUIRE(fine_log->WaitFor([&] { return fine_log->delivered.size() == 1; }));
  BOOST_TEST(hung_log->delivered.empty());
  hung_log->Set([&] { hung_log->hold = false; });
  BOOST_REQUIRE(hung_log->WaitFor([&] { return hung_log->delivered.size() == 1; }));
  set.Stop();
  BOOST_TEST(Waiting() == 0u);
}

BOOST_FIXTURE_TEST_CASE(changes_are_not_echoed_to_the_system_they_came_from, Fixture) {
  auto log = std::make_shared<RecordingConnector::Log>();
  log->unwanted_labels = {"Meeting"};
  DeliveryPolicy policy;
  policy.skip_sources = {reasoncodes::Source::kCrm};
  ConnectorSet set(*store, &Log);
  set.SetDirectory(directory);
  set.Add(Make("crm", log, policy));
  tracking::Change from_crm = Row(1, "", "1001", "Lunch").change;
  from_crm.source = reasoncodes::Source::kCrm;
  tracking::Change from_agent = Row(2, "", "1001", "Lunch").change;
  tracking::Change unwanted = Row(3, "", "1001", "Meeting").change;
  std::vector<OutboxItem> rows;
  set.Plan({from_crm, from_agent, unwanted}, rows);
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST((rows[0].change.at == from_agent.at));
  BOOST_TEST(rows[0].connector == "crm");
}

BOOST_AUTO_TEST_CASE(rows_left_at_a_restart_are_delivered_after_it_and_ids_are_not_reused) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "presence.db").string();
  {
    auto store = tracking::OpenSqliteTimeStore(path);
    BOOST_REQUIRE(store.ok());
    tracking::CommitBatch batch;
    batch.outbox = {Row(7, "hook", "1001", "Lunch"), Row(8, "hook", "1001", "Meeting"),
                    Row(9, "gone", "1001", "Meeting")};
    BOOST_REQUIRE((*store)->Commit(batch).ok());
    BOOST_REQUIRE((*store)->RemoveOutbox({7}).ok());
  }
  auto store = tracking::OpenSqliteTimeStore(path);
  BOOST_REQUIRE(store.ok());
  Result<tracking::OutboxState> outbox = (*store)->LoadOutbox();
  BOOST_REQUIRE(outbox.ok());
  BOOST_TEST(outbox->last_id == 9);
  BOOST_REQUIRE(outbox->items.size() == 2u);
  BOOST_TEST(outbox->items[0].change.label == "Meeting");
  BOOST_TEST((outbox->items[0].change.at == kT0 + Millis(8)));
  FakeClock clock(kT0);
  auto log = std::make_shared<RecordingConnector::Log>();
  DeliveryPolicy policy;
  policy.coalesce = false;
  std::vector<std::string> logged;
  std::mutex logged_mutex;
  ConnectorSet set(**store, [&](LogLevel, std::string_view text) {
    std::lock_guard<std::mutex> lock(logged_mutex);
    logged.push_back(std::string(text));
  });
  auto directory = std::make_shared<Directory>();
  set.SetDirectory(directory);
  set.Add(std::make_unique<Dispatcher>("hook", "recording", policy,
                                       std::make_unique<RecordingConnector>(log), **store, clock,
                                       &Log));
  set.Start(std::move(outbox).value(), {});
  BOOST_REQUIRE(log->WaitFor([&] { return log->delivered.size() == 1; }));
  set.Stop();
  BOOST_TEST(log->delivered[0].id == 8);
  // The row of a connector that is no longer configured is dropped, and that is said.
  BOOST_TEST((*store)->LoadOutbox()->items.empty());
  BOOST_TEST((*store)->LoadOutbox()->last_id == 9);
  BOOST_TEST(logged.size() == 2u);
}

// What a connector works out for a change at commit time (the AMI connector's actions) is
// stored in the row and handed to the delivery as it was, also after a restart.
BOOST_AUTO_TEST_CASE(a_rows_payload_is_planned_stored_and_delivered_after_a_restart) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "presence.db").string();
  Change change;
  change.agent = "1001";
  change.label = "Lunch";
  change.at = kT0;
  change.source = reasoncodes::Source::kAgent;
  {
    auto store = tracking::OpenSqliteTimeStore(path);
    BOOST_REQUIRE(store.ok());
    auto log = std::make_shared<RecordingConnector::Log>();
    log->payload_prefix = "actions for ";
    FakeClock clock(kT0);
    ConnectorSet set(**store, &Log);
    set.SetDirectory(std::make_shared<Directory>());
    set.Add(std::make_unique<Dispatcher>("pbx", "recording", DeliveryPolicy{},
                                         std::make_unique<RecordingConnector>(log), **store, clock,
                                         &Log));
    tracking::CommitBatch batch;
    set.Plan({change}, batch.outbox);
    BOOST_REQUIRE(batch.outbox.size() == 1u);
    BOOST_TEST(batch.outbox[0].payload == "actions for Lunch");
    batch.outbox[0].id = 1;
    BOOST_REQUIRE((*store)->Commit(batch).ok());
  }
  auto store = tracking::OpenSqliteTimeStore(path);
  BOOST_REQUIRE(store.ok());
  Result<tracking::OutboxState> outbox = (*store)->LoadOutbox();
  BOOST_REQUIRE(outbox.ok());
  BOOST_REQUIRE(outbox->items.size() == 1u);
  BOOST_TEST(outbox->items[0].payload == "actions for Lunch");
  auto log = std::make_shared<RecordingConnector::Log>();
  log->payload_prefix = "changed by a reload: ";
  FakeClock clock(kT0);
  ConnectorSet set(**store, &Log);
  set.SetDirectory(std::make_shared<Directory>());
  set.Add(std::make_unique<Dispatcher>("pbx", "recording", DeliveryPolicy{},
                                       std::make_unique<RecordingConnector>(log), **store, clock,
                                       &Log));
  set.Start(std::move(outbox).value(), {});
  BOOST_REQUIRE(log->WaitFor([&] { return log->delivered.size() == 1; }));
  set.Stop();
  BOOST_TEST(log->delivered[0].payload == "actions for Lunch");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
