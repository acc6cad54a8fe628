// The CRM time-tracking sync against the fake Salesforce org on loopback: records and their
// values, batching, only changed figures, failures and back-off, token renewal, local days and
// their final figures, restarts, refused records, the API budget, configuration.

#include "connectors/crm_sync/time_tracking_sync.h"

#include <Poco/JSON/Object.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "connectors/http/http_client.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_monotonic_clock.h"
#include "tests/fakes/fake_salesforce.h"
#include "tests/fakes/salesforce_test_env.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_catalog.h"
#include "tests/fakes/test_json.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeFailure;
using testing::FakeSalesforce;
using testing::JoinProblems;
using testing::SalesforceBlock;
using testing::Stringify;

const std::string kObject = "Presence_Time__c";
const std::string kKeyField = "Presence_Key__c";
const std::string kUpsertPath =
    "/services/data/v59.0/composite/sobjects/Presence_Time__c/Presence_Key__c";
const std::string kSecret = "fake-consumer-secret";

Timestamp T(const std::string& text) { return *ParseTime(text); }

// The object's fields as samples/salesforce/ defines them.
testing::FakeFields ObjectFields() {
  testing::FakeFields fields = testing::SampleObjectFields(kObject);
  BOOST_TEST_REQUIRE(fields.size() == 11u);
  return fields;
}

User MakeUser(const std::string& id, const std::string& name, const std::string& team,
              const std::string& salesforce) {
  User user;
  user.id = id;
  user.name = name;
  user.team = team;
  if (!salesforce.empty()) user.identities["salesforce"] = salesforce;
  return user;
}

struct RigOptions {
  std::string extra = "{}";  // crm_sync keys
  std::string zone = "UTC";
  Timestamp start = T("2026-11-21T10:00:00.000Z");
  tracking::TimeStore* store = nullptr;  // default: the rig's own memory store
};

// A sync built the way the service builds it, on a real HTTP client, a fake clock, and a
// ledger the test fills by committing changes.
class Rig {
 public:
  explicit Rig(RigOptions options = {})
      : clock(options.start),
        fake({}, clock),
        http(NewHttpClient()),
        own_store(tracking::NewMemoryTimeStore()),
        store(options.store ? options.store : own_store.get()) {
    fake.DefineObject(kObject, kKeyField, ObjectFields());
    directory.catalog = testing::MakeTestCatalog({});
    directory.SetUsers(
        std::vector<User>{MakeUser("1001", "Ada Agent", "Blue", "005000000000001AAA"),
                          MakeUser("1002", "Bob", "", ""), MakeUser("1003", "Cy", "Red", "")});
    json::Problems problems;
    std::optional<CrmSyncConfig> parsed =
        ParseCrmSync(*SalesforceBlock(fake.url(), options.extra), "crm_sync", problems);
    BOOST_TEST_REQUIRE(problems.empty(), JoinProblems(problems));
    config = *parsed;
    auto zone = tracking::ReportZone::Find(options.zone);
    BOOST_TEST_REQUIRE(zone.ok());
    schedule.zone = *zone;
    NewSync();
  }

  // A new sync over the same ledger and org, as after a restart.
  void NewSync() {
    sync.reset();
    ConnectorEnv env{&clock,
                     [this](LogLevel level, std::string_view text) {
                       std::lock_guard lock(log_mutex);
                       logs.push_back(FormatLogLine(level, text));
                     },
                     http.get(), &steady};
    sync = std::make_unique<TimeTrackingSync>(config, schedule, env, *store);
    sync->SetDirectory(directory);
    Status loaded = sync->Load();
    BOOST_TEST_REQUIRE(loaded.ok());
  }

  void Commit(const std::string& agent, Timestamp at, const std::string& label) {
    tracking::Change change;
    change.agent = agent;
    change.at = at;
    change.from_label = labels[agent];
    change.label = label;
    if (const reasoncodes::State* state = directory.FindState(label)) {
      change.reason_code = state->reason_code;
      change.status = state->status;
    }
    change.source = reasoncodes::Source::kAgent;
    change.cause = "select";
    labels[agent] = label;
    tracking::CommitBatch batch;
    batch.changes.push_back(std::move(change));
    Status committed = store->Commit(batch);
    BOOST_TEST_REQUIRE(committed.ok());
  }
  void Commit(const std::string& agent, const std::string& at, const std::string& label) {
    Commit(agent, T(at), label);
  }

  Timestamp Pass() { return sync->RunOnce(); }

  std::optional<testing::StoredRecord> Record(const std::string& key) const {
    return fake.Record(kObject, key);
  }
  double SecondsOf(const std::string& key) const {
    auto record = Record(key);
    BOOST_TEST_REQUIRE(record.has_value(), "no record " + key);
    return record->fields->getValue<double>("Seconds__c");
  }
  bool FinalOf(const std::string& key) const {
    auto record = Record(key);
    BOOST_TEST_REQUIRE(record.has_value(), "no record " + key);
    return record->fields->getValue<bool>("Final__c");
  }
  // Record counts of the collection upserts answered so far.
  std::vector<std::size_t> Batches() const {
    std::vector<std::size_t> sizes;
    for (const auto& request : fake.collection_requests()) sizes.push_back(request.records);
    return sizes;
  }
  std::vector<std::string> Logs(const std::string& level) {
    std::lock_guard lock(log_mutex);
    std::vector<std::string> found;
    for (const std::string& line : logs) {
      if (line.rfind(level + ": ", 0) == 0) found.push_back(line);
    }
    return found;
  }
  std::string State() const { return sync->StatusJson()->getValue<std::string>("state"); }
  std::string DoneThrough() const { return sync->stats().done_through.value_or("(none)"); }

  testing::FakeClock clock;
  testing::FakeMonotonicClock steady{clock};  // what the thread waits on; moves `clock` too
  FakeSalesforce fake;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<tracking::TimeStore> own_store;
  tracking::TimeStore* store;
  Directory directory;
  CrmSyncConfig config;
  TimeTrackingSync::Schedule schedule;
  std::map<std::string, std::string> labels;  // each user's current label
  std::mutex log_mutex;
  std::vector<std::string> logs;
  std::unique_ptr<TimeTrackingSync> sync;  // last: stops before what it uses goes away
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

BOOST_AUTO_TEST_SUITE(time_tracking_sync_test)

BOOST_AUTO_TEST_CASE(upserts_one_record_per_user_day_and_state_with_exact_values) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Commit("1001", "2026-11-21T09:00:00.000Z", "Lunch");
  rig.Commit("1001", "2026-11-21T09:01:35.500Z", "Ready for Calls");
  rig.Commit("1002", "2026-11-21T08:00:00.000Z", "Meeting");
  rig.Commit("9999", "2026-11-21T09:00:00.000Z", "Do Not Disturb");

  BOOST_TEST((rig.Pass() == T("2026-11-21T10:01:00.000Z")));

  auto requests = rig.fake.collection_requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].records == 4u);
  const std::string& body = requests[0].body;
  BOOST_TEST(Contains(body, R"({"allOrNone":false,"records":[)"), body);
  BOOST_TEST(Contains(body, R"({"attributes":{"type":"Presence_Time__c"},)"
                            R"("Presence_Key__c":"1001|2026-11-21|Lunch|3","Agent_Id__c":"1001",)"
                            R"("Agent_Name__c":"Ada Agent","Team__c":"Blue",)"
                            R"("User__c":"005000000000001AAA","Day__c":"2026-11-21",)"
                            R"("State__c":"Lunch","Reason_Code__c":"*62","Status_Code__c":3,)"
                            R"("Seconds__c":95.5,"Final__c":false})"),
             body);
  BOOST_TEST(Contains(body, R"("Seconds__c":7104.5,)"), body);  // 3600 + 3504.5, up to now
  BOOST_TEST(Contains(body, R"("Seconds__c":7200,)"), body);
  BOOST_TEST(Contains(body, R"("Seconds__c":3600,)"), body);

  BOOST_TEST(rig.fake.RecordCount(kObject) == 4u);
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 7104.5);
  auto bob = rig.Record("1002|2026-11-21|Meeting|5");
  BOOST_TEST_REQUIRE(bob.has_value());
  BOOST_TEST(bob->fields->getValue<std::string>("Agent_Name__c") == "Bob");
  BOOST_TEST(!bob->fields->has("User__c"));  // no identities.salesforce
  auto stranger = rig.Record("9999|2026-11-21|Do Not Disturb|4");
  BOOST_TEST_REQUIRE(stranger.has_value());  // in the ledger, not in the directory
  BOOST_TEST(!stranger->fields->has("Agent_Name__c"));
  BOOST_TEST(!stranger->fields->has("Team__c"));
  BOOST_TEST(stranger->fields->getValue<std::string>("Reason_Code__c") == "*61");
  BOOST_TEST(rig.SecondsOf("9999|2026-11-21|Do Not Disturb|4") == 3600.0);

  CrmSyncStats stats = rig.sync->stats();
  BOOST_TEST(stats.api_calls_total == 1);
  BOOST_TEST(stats.api_calls_24h == 1);
  BOOST_TEST(stats.records_upserted == 4);
  BOOST_TEST(stats.pending_records == 0);
  BOOST_TEST(stats.passes_ok == 1);
  BOOST_TEST((stats.last_success == T("2026-11-21T10:00:00.000Z")));
}

BOOST_AUTO_TEST_CASE(the_current_state_counts_up_to_now) {
  Rig rig({.start = T("2026-11-21T09:30:00.250Z")});
  rig.Commit("1001", "2026-11-21T09:00:00.000Z", "Ready for Calls");
  rig.Pass();
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 1800.25);
  rig.clock.Advance(seconds(61));
  rig.Pass();
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 1861.25);
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({1, 1}));
  BOOST_TEST(Contains(rig.fake.collection_requests().back().body, R"("Seconds__c":1861.25,)"));
}

BOOST_AUTO_TEST_CASE(a_pass_sends_only_the_records_whose_figure_changed) {
  Rig rig;
  for (const char* user : {"1001", "1002", "1003"}) {
    rig.Commit(user, "2026-11-21T08:00:00.000Z", "Ready for Calls");
  }
  rig.Commit("1002", "2026-11-21T08:30:00.000Z", "Lunch");
  rig.Pass();
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({4}));

  const int requests = rig.fake.api_requests();
  BOOST_TEST((rig.Pass() == T("2026-11-21T10:01:00.000Z")));
  BOOST_TEST(rig.fake.api_requests() == requests);  // nothing changed: no call at all

  rig.Commit("1003", "2026-11-21T09:50:00.000Z", "Lunch");
  rig.Pass();
  auto collections = rig.fake.collection_requests();
  BOOST_TEST_REQUIRE(collections.size() == 2u);
  BOOST_TEST(collections[1].records == 2u);  // 1003's Ready (now shorter) and its Lunch
  BOOST_TEST(Contains(collections[1].body, "1003|2026-11-21|Ready for Calls|1"));
  BOOST_TEST(Contains(collections[1].body, "1003|2026-11-21|Lunch|3"));
  BOOST_TEST(rig.SecondsOf("1003|2026-11-21|Ready for Calls|1") == 6600.0);
  BOOST_TEST(rig.SecondsOf("1003|2026-11-21|Lunch|3") == 600.0);
}

BOOST_AUTO_TEST_CASE(records_go_in_batches_of_batch_size) {
  Rig rig({.extra = R"({"batch_size": 200})"});
  for (int i = 0; i < 450; ++i) {
    rig.Commit("u" + std::to_string(1000 + i), "2026-11-21T08:00:00.000Z", "Ready for Calls");
  }
  rig.Pass();
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({200, 200, 50}));
  BOOST_TEST(rig.fake.RecordCount(kObject) == 450u);
  BOOST_TEST(rig.sync->stats().api_calls_total == 3);
  BOOST_TEST(rig.sync->stats().records_upserted == 450);
}

BOOST_AUTO_TEST_CASE(a_smaller_batch_size_splits_the_records) {
  Rig rig({.extra = R"({"batch_size": 2})"});
  for (const char* user : {"1001", "1002", "1003"}) {
    rig.Commit(user, "2026-11-21T08:00:00.000Z", "Ready for Calls");
  }
  rig.Pass();
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({2, 1}));
}

struct FailureCase {
  std::string name;
  FakeFailure failure;
};
std::ostream& operator<<(std::ostream& out, const FailureCase& c) { return out << c.name; }

const FailureCase kFailureCases[] = {
    {"503", FakeFailure::Status(503)},
    {"500 with an error array",
     FakeFailure::Status(500, {}, R"([{"message":"boom","errorCode":"UNKNOWN_EXCEPTION"}])")},
    {"connection dropped", FakeFailure::Drop()},
    {"org API limit",
     FakeFailure::Status(
         403, {},
         R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])")},
};

BOOST_DATA_TEST_CASE(a_failed_call_backs_off_exponentially_and_recovers, data::make(kFailureCases),
                     c) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Pass();  // gets the token, so the failures below hit the upserts
  rig.fake.server().FailAll(c.failure);

  rig.clock.Advance(minutes(1));
  Timestamp now = rig.clock.Now();
  Timestamp next = rig.Pass();
  BOOST_TEST((next >= now + Millis(500) && next <= now + Millis(1000)));
  BOOST_TEST(rig.State() == "failing");
  rig.clock.Set(next);
  now = next;
  next = rig.Pass();
  BOOST_TEST((next >= now + Millis(1000) && next <= now + Millis(2000)));
  CrmSyncStats stats = rig.sync->stats();
  BOOST_TEST(stats.consecutive_failures == 2);
  BOOST_TEST(stats.passes_failed == 2);
  BOOST_TEST(stats.pending_records == 1);
  BOOST_TEST((stats.last_failure == now));

  rig.fake.server().ClearFailures();
  rig.clock.Set(next);
  BOOST_TEST((rig.Pass() == next + seconds(60)));
  BOOST_TEST(rig.State() == "idle");
  BOOST_TEST(rig.sync->stats().consecutive_failures == 0);
  BOOST_TEST(rig.sync->stats().pending_records == 0);
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") ==
             std::chrono::duration<double>(next - T("2026-11-21T08:00:00.000Z")).count());
  BOOST_TEST(rig.Logs("warning").size() == 1u);  // failing: once, not every pass
  BOOST_TEST(rig.Logs("info").size() == 1u);     // syncing again
}

BOOST_AUTO_TEST_CASE(back_off_doubles_up_to_five_minutes) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Pass();  // gets the token
  rig.fake.server().FailAll(FakeFailure::Status(503));
  rig.clock.Advance(minutes(1));
  for (int failure = 1; failure <= 12; ++failure) {
    Timestamp now = rig.clock.Now();
    Timestamp next = rig.Pass();
    long long base = std::min<long long>(1000LL << std::min(failure - 1, 20), 300000);
    BOOST_TEST((next >= now + Millis(base / 2) && next <= now + Millis(base)),
               "failure " << failure);
    rig.clock.Set(next);
  }
}

struct RetryAfterCase {
  int status;
  std::string header;
  Millis wait;
};
std::ostream& operator<<(std::ostream& out, const RetryAfterCase& c) {
  return out << c.status << " " << c.header;
}

const RetryAfterCase kRetryAfterCases[] = {
    {429, "120", seconds(120)},
    {503, "30", seconds(30)},
    {429, "Sat, 21 Nov 2026 10:05:00 GMT", minutes(4)},  // the failing pass runs at 10:01
};

BOOST_DATA_TEST_CASE(the_next_try_waits_for_retry_after, data::make(kRetryAfterCases), c) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Pass();
  rig.fake.server().FailNext(1, FakeFailure::Status(c.status, {{"Retry-After", c.header}}));
  rig.clock.Advance(minutes(1));
  BOOST_TEST((rig.Pass() == T("2026-11-21T10:01:00.000Z") + c.wait));
  BOOST_TEST(rig.State() == "failing");
}

BOOST_AUTO_TEST_CASE(a_request_refused_as_a_whole_is_logged_once_and_retried_at_the_cap) {
  Rig rig({.extra = R"({"object": "Missing_Object__c"})"});
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  Timestamp now = rig.clock.Now();
  BOOST_TEST((rig.Pass() == now + minutes(5)));
  rig.clock.Advance(minutes(5));
  BOOST_TEST((rig.Pass() == now + minutes(10)));
  std::vector<std::string> errors = rig.Logs("error");
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(Contains(errors[0], "Missing_Object__c"), errors[0]);
  BOOST_TEST(Contains(errors[0], "NOT_FOUND: The requested resource does not exist"), errors[0]);
  auto status = rig.sync->StatusJson();
  BOOST_TEST(status->getValue<std::string>("state") == "failing");
  BOOST_TEST(Contains(status->getValue<std::string>("last_error"), "HTTP 404"));
  BOOST_TEST(rig.sync->stats().passes_failed == 2);
}

BOOST_AUTO_TEST_CASE(a_refused_token_request_is_logged_once_without_the_secret) {
  Rig rig({.extra = R"({"client_secret": "wrong-secret-6f1d"})"});
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  Timestamp now = rig.clock.Now();
  BOOST_TEST((rig.Pass() == now + minutes(5)));
  rig.clock.Advance(minutes(5));
  BOOST_TEST((rig.Pass() == now + minutes(10)));
  BOOST_TEST(rig.fake.api_requests() == 0);
  std::vector<std::string> errors = rig.Logs("error");
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(Contains(errors[0], "invalid_client"), errors[0]);
  std::string status = Stringify(rig.sync->StatusJson());
  for (const std::string& line : rig.logs) BOOST_TEST(!Contains(line, "wrong-secret"), line);
  BOOST_TEST(!Contains(status, "wrong-secret"), status);
}

BOOST_AUTO_TEST_CASE(an_unreachable_token_endpoint_is_retried_with_back_off) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.fake.server().FailNext(1, FakeFailure::Status(503));  // the token request
  Timestamp now = rig.clock.Now();
  Timestamp next = rig.Pass();
  BOOST_TEST((next >= now + Millis(500) && next <= now + Millis(1000)));
  BOOST_TEST(rig.Logs("error").empty());
  rig.clock.Set(next);
  BOOST_TEST((rig.Pass() == next + minutes(1)));
  BOOST_TEST(rig.fake.RecordCount(kObject) == 1u);
}

BOOST_AUTO_TEST_CASE(a_revoked_token_is_renewed_and_the_pass_succeeds) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Pass();
  rig.fake.RevokeTokens();
  rig.clock.Advance(minutes(1));
  BOOST_TEST((rig.Pass() == rig.clock.Now() + minutes(1)));
  BOOST_TEST(rig.fake.tokens_issued() == 2);
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 7260.0);
  CrmSyncStats stats = rig.sync->stats();
  BOOST_TEST(stats.api_calls_total == 3);  // the first upsert, the refused one, its retry
  BOOST_TEST(stats.passes_ok == 2);
  BOOST_TEST(stats.passes_failed == 0);
}

BOOST_AUTO_TEST_CASE(a_day_ends_at_local_midnight_with_final_figures) {
  // Europe/Berlin is UTC+1 in November: the 21st ends at 23:00 UTC.
  Rig rig({.zone = "Europe/Berlin", .start = T("2026-11-21T22:30:00.000Z")});
  rig.Commit("1001", "2026-11-21T20:00:00.000Z", "Ready for Calls");
  rig.Pass();
  const std::string yesterday = "1001|2026-11-21|Ready for Calls|1";
  const std::string today = "1001|2026-11-22|Ready for Calls|1";
  BOOST_TEST(rig.SecondsOf(yesterday) == 9000.0);
  BOOST_TEST(!rig.FinalOf(yesterday));
  BOOST_TEST(rig.DoneThrough() == "2026-11-20");

  rig.clock.Set(T("2026-11-21T23:00:30.000Z"));
  rig.Pass();
  BOOST_TEST(rig.SecondsOf(yesterday) == 10800.0);
  BOOST_TEST(rig.FinalOf(yesterday));
  BOOST_TEST(rig.SecondsOf(today) == 30.0);
  BOOST_TEST(!rig.FinalOf(today));
  BOOST_TEST(rig.DoneThrough() == "2026-11-21");
  BOOST_TEST(Contains(rig.fake.collection_requests().back().body, R"("Day__c":"2026-11-22")"));

  rig.clock.Set(T("2026-11-22T00:30:00.000Z"));  // a new UTC day, the same local one
  rig.Pass();
  BOOST_TEST(rig.Batches().back() == 1u);  // today's record only; yesterday is finished
  BOOST_TEST(rig.SecondsOf(today) == 5400.0);
  BOOST_TEST(rig.fake.RecordCount(kObject) == 2u);
}

BOOST_AUTO_TEST_CASE(days_that_ended_while_the_agent_was_down_get_final_figures) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Pass();
  rig.sync.reset();  // down from the 21st 10:00 to the 23rd 10:00
  rig.clock.Set(T("2026-11-23T10:00:00.000Z"));
  rig.NewSync();
  rig.Pass();
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 57600.0);
  BOOST_TEST(rig.FinalOf("1001|2026-11-21|Ready for Calls|1"));
  BOOST_TEST(rig.SecondsOf("1001|2026-11-22|Ready for Calls|1") == 86400.0);
  BOOST_TEST(rig.FinalOf("1001|2026-11-22|Ready for Calls|1"));
  BOOST_TEST(rig.SecondsOf("1001|2026-11-23|Ready for Calls|1") == 36000.0);
  BOOST_TEST(!rig.FinalOf("1001|2026-11-23|Ready for Calls|1"));
  BOOST_TEST(rig.DoneThrough() == "2026-11-22");
}

BOOST_AUTO_TEST_CASE(backfill_days_sends_finished_days_before_the_first_start) {
  Rig rig({.extra = R"({"backfill_days": 2})"});
  rig.Commit("1001", "2026-11-18T12:00:00.000Z", "Lunch");
  rig.Pass();
  BOOST_TEST(!rig.Record("1001|2026-11-18|Lunch|3").has_value());  // before the backfill
  BOOST_TEST(rig.SecondsOf("1001|2026-11-19|Lunch|3") == 86400.0);
  BOOST_TEST(rig.FinalOf("1001|2026-11-19|Lunch|3"));
  BOOST_TEST(rig.FinalOf("1001|2026-11-20|Lunch|3"));
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Lunch|3") == 36000.0);
  BOOST_TEST(rig.DoneThrough() == "2026-11-20");
}

BOOST_AUTO_TEST_CASE(a_restart_sends_nothing_unchanged_and_never_double_counts) {
  testing::TempDir dir;
  auto open = [&] {
    auto store = tracking::OpenSqliteTimeStore(dir.File("ledger.db"));
    BOOST_TEST_REQUIRE(store.ok(), (store.ok() ? "" : store.error().message));
    return std::move(*store);
  };
  std::unique_ptr<tracking::TimeStore> ledger = open();
  Rig rig({.store = ledger.get()});
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Commit("1001", "2026-11-21T09:00:00.000Z", "Lunch");
  rig.Commit("1001", "2026-11-21T09:30:00.000Z", "Ready for Calls");
  rig.Commit("1002", "2026-11-21T08:00:00.000Z", "Meeting");
  rig.Pass();
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({3}));

  rig.sync.reset();
  ledger.reset();
  ledger = open();
  rig.store = ledger.get();
  rig.NewSync();
  const int requests = rig.fake.api_requests();
  rig.Pass();
  BOOST_TEST(rig.fake.api_requests() == requests);  // same figures: nothing to send

  rig.clock.Advance(minutes(1));
  rig.Pass();
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({3, 2}));  // the two current states
  auto totals = ledger->Totals(tracking::TotalsQuery{
      T("2026-11-21T00:00:00.000Z"), T("2026-11-22T00:00:00.000Z"), rig.clock.Now(), {}});
  BOOST_TEST_REQUIRE(totals.ok());
  BOOST_TEST_REQUIRE(totals->size() == 3u);
  for (const tracking::Total& total : *totals) {
    std::string key = total.agent + "|2026-11-21|" + total.label + "|" +
                      std::to_string(reasoncodes::ToInt(total.status));
    BOOST_TEST(rig.SecondsOf(key) == total.duration.count() / 1000.0, key);
  }
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 3600.0 + 1860.0);
  rig.sync.reset();
}

BOOST_AUTO_TEST_CASE(refused_records_stay_pending_and_are_sent_again) {
  Rig rig;
  const std::string lunch = "1001|2026-11-21|Lunch|3";
  rig.fake.RefuseRecord(kObject, lunch, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "no lunch today");
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Commit("1001", "2026-11-21T09:00:00.000Z", "Lunch");
  rig.Commit("1001", "2026-11-21T09:30:00.000Z", "Ready for Calls");
  BOOST_TEST((rig.Pass() == rig.clock.Now() + minutes(1)));  // the call itself worked
  CrmSyncStats stats = rig.sync->stats();
  BOOST_TEST(stats.records_upserted == 1);
  BOOST_TEST(stats.records_refused == 1);
  BOOST_TEST(stats.pending_records == 1);
  std::string last_error = rig.sync->StatusJson()->getValue<std::string>("last_error");
  BOOST_TEST(Contains(last_error, lunch + ": FIELD_CUSTOM_VALIDATION_EXCEPTION: no lunch today"),
             last_error);

  rig.Pass();  // same time: only the refused record goes again
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({2, 1}));
  BOOST_TEST(Contains(rig.fake.collection_requests().back().body, lunch));
  BOOST_TEST(rig.sync->stats().records_refused == 2);
  BOOST_TEST(rig.Logs("warning").size() == 1u);

  rig.fake.ClearRefusals();
  rig.Pass();
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({2, 1, 1}));
  BOOST_TEST(rig.SecondsOf(lunch) == 1800.0);
  BOOST_TEST(rig.sync->stats().pending_records == 0);
}

BOOST_AUTO_TEST_CASE(a_day_with_refused_records_is_not_finished) {
  Rig rig;
  const std::string lunch = "1001|2026-11-21|Lunch|3";
  rig.Commit("1001", "2026-11-21T09:00:00.000Z", "Lunch");
  rig.Commit("1001", "2026-11-21T09:30:00.000Z", "Ready for Calls");
  rig.Pass();
  rig.fake.RefuseRecord(kObject, lunch, "FIELD_INTEGRITY_EXCEPTION", "locked");
  rig.clock.Set(T("2026-11-22T00:00:30.000Z"));
  rig.Pass();
  BOOST_TEST(rig.FinalOf("1001|2026-11-21|Ready for Calls|1"));
  BOOST_TEST(!rig.FinalOf(lunch));
  BOOST_TEST(rig.DoneThrough() == "2026-11-20");

  rig.fake.ClearRefusals();
  rig.clock.Advance(minutes(1));
  rig.Pass();
  BOOST_TEST(rig.FinalOf(lunch));
  BOOST_TEST(rig.Batches().back() == 2u);  // the day's last record and today's
  BOOST_TEST(rig.DoneThrough() == "2026-11-21");
}

struct FinalFieldCase {
  std::string final_field;
  std::size_t day_end_records;
};
std::ostream& operator<<(std::ostream& out, const FinalFieldCase& c) {
  return out << "final field \"" << c.final_field << "\"";
}

const FinalFieldCase kFinalFieldCases[] = {{"Final__c", 3}, {"", 2}};

BOOST_DATA_TEST_CASE(the_final_field_decides_whether_unchanged_records_go_again,
                     data::make(kFinalFieldCases), c) {
  Rig rig({.extra = R"({"fields": {"final": ")" + c.final_field + R"("}})"});
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Commit("1001", "2026-11-21T09:00:00.000Z", "Lunch");
  rig.Pass();  // Ready 3600 s (done), Lunch 3600 s (still growing)
  rig.clock.Set(T("2026-11-22T00:00:30.000Z"));
  rig.Pass();
  BOOST_TEST(rig.Batches().back() == c.day_end_records);
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Lunch|3") == 54000.0);
  BOOST_TEST(rig.DoneThrough() == "2026-11-21");
  auto ready = rig.Record("1001|2026-11-21|Ready for Calls|1");
  BOOST_TEST_REQUIRE(ready.has_value());
  BOOST_TEST(ready->fields->has("Final__c") == !c.final_field.empty());
}

BOOST_AUTO_TEST_CASE(no_call_is_made_over_the_api_budget) {
  Rig rig({.extra = R"({"api_budget_per_day": 2})"});
  for (int i = 0; i < 450; ++i) {
    rig.Commit("u" + std::to_string(1000 + i), "2026-11-21T08:00:00.000Z", "Ready for Calls");
  }
  const Timestamp reopens = T("2026-11-22T10:01:00.000Z");  // the 10:00 minute, a day on
  BOOST_TEST((rig.Pass() == reopens));
  BOOST_TEST(rig.Batches() == std::vector<std::size_t>({200, 200}));
  BOOST_TEST(rig.State() == "over_budget");
  CrmSyncStats stats = rig.sync->stats();
  BOOST_TEST(stats.api_calls_24h == 2);
  BOOST_TEST(stats.api_budget_per_day == 2);
  BOOST_TEST(stats.pending_records == 50);

  const int requests = rig.fake.api_requests();
  rig.clock.Advance(hours(5));
  BOOST_TEST((rig.Pass() == reopens));
  BOOST_TEST(rig.fake.api_requests() == requests);
  BOOST_TEST(rig.Logs("warning").size() == 1u);

  rig.clock.Set(reopens);
  BOOST_TEST((rig.Pass() == T("2026-11-23T10:02:00.000Z")));  // two more calls, then full
  BOOST_TEST(rig.fake.api_requests() == requests + 2);
  BOOST_TEST(rig.sync->stats().api_calls_total == 4);
}

BOOST_AUTO_TEST_CASE(status_shows_progress_and_never_a_secret) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.Pass();
  Poco::JSON::Object::Ptr status = rig.sync->StatusJson();
  std::string text = Stringify(status);
  BOOST_TEST(!Contains(text, kSecret), text);
  BOOST_TEST(!Contains(text, "AQfake"), text);  // the fake's tokens
  BOOST_TEST(status->getValue<std::string>("object") == kObject);
  BOOST_TEST(status->getValue<int>("interval_seconds") == 60);
  BOOST_TEST(status->getValue<std::string>("time_zone") == "UTC");
  BOOST_TEST(status->getValue<std::string>("state") == "idle");
  BOOST_TEST(status->getValue<std::string>("done_through") == "2026-11-20");
  BOOST_TEST(status->getValue<std::string>("last_success") == "2026-11-21T10:00:00.000Z");
  BOOST_TEST(status->getValue<std::string>("next_pass") == "2026-11-21T10:01:00.000Z");
  BOOST_TEST(status->getValue<long long>("records_upserted") == 1);
  BOOST_TEST(status->isNull("last_error"));
  Poco::JSON::Object::Ptr salesforce = status->getObject("salesforce");
  BOOST_TEST_REQUIRE(salesforce);
  BOOST_TEST(salesforce->getValue<long long>("api_calls") == 1);
}

BOOST_AUTO_TEST_CASE(start_runs_passes_on_a_thread_until_stop) {
  // The thread waits on the fake monotonic clock for the next pass: only Stop wakes it.
  Rig rig({.start = T("2099-11-21T10:00:00.000Z")});
  rig.Commit("1001", "2099-11-21T08:00:00.000Z", "Ready for Calls");
  rig.sync->Start();
  bool upserted = rig.fake.server().WaitFor([](const auto& requests) {
    for (const auto& request : requests) {
      if (request.path == kUpsertPath) return true;
    }
    return false;
  });
  BOOST_TEST(upserted);
  rig.sync->Stop();  // wakes the thread from its wait for the next pass
  BOOST_TEST(rig.sync->stats().passes_ok + rig.sync->stats().passes_failed >= 1);
  const std::size_t requests = rig.fake.server().count();
  rig.sync->Stop();  // twice is harmless
  BOOST_TEST(rig.fake.server().count() == requests);
}

BOOST_AUTO_TEST_CASE(the_thread_runs_the_next_pass_once_the_interval_has_passed) {
  Rig rig;
  rig.Commit("1001", "2026-11-21T08:00:00.000Z", "Ready for Calls");
  rig.sync->Start();
  // The first pass runs at once; then the thread waits one interval on the monotonic clock.
  BOOST_REQUIRE(rig.steady.AwaitWaiters(1));
  BOOST_TEST(rig.sync->stats().passes_ok == 1);
  BOOST_TEST((rig.steady.Deadlines() ==
              std::vector<MonotonicClock::Instant>{rig.steady.Now() + seconds(60)}));
  const std::size_t upserts = rig.Batches().size();
  rig.steady.Advance(seconds(59));
  BOOST_TEST(rig.sync->stats().passes_ok == 1);  // not due: the thread was not woken
  rig.steady.Advance(seconds(1));
  // The second pass has run once the thread waits for the third.
  BOOST_REQUIRE(rig.steady.AwaitWaiters(1));
  BOOST_TEST(rig.sync->stats().passes_ok == 2);
  BOOST_TEST(rig.Batches().size() == upserts + 1);  // 2 h 1 min in Ready for Calls now
  BOOST_TEST(rig.SecondsOf("1001|2026-11-21|Ready for Calls|1") == 7260.0);
  rig.sync->Stop();
}

// ---- configuration -----------------------------------------------------------------------------

struct ConfigCase {
  std::string name;
  std::string extra;
  std::string problem;  // a problem that must be reported ("" = none)
};
std::ostream& operator<<(std::ostream& out, const ConfigCase& c) { return out << c.name; }

const ConfigCase kConfigCases[] = {
    {"defaults", "{}", ""},
    {"optional fields left out or standard",
     R"({"fields": {"final": "", "team": "", "reason_code": "", "user_name": "Name",
                    "salesforce_user": "OwnerId"}})",
     ""},
    {"unknown key", R"({"budget": 5})", "crm_sync.budget: unknown key"},
    {"unknown field key", R"({"fields": {"secnds": "Seconds__c"}})",
     "crm_sync.fields.secnds: unknown key, did you mean \"seconds\"?"},
    {"fields not an object", R"({"fields": "Day__c"})",
     "crm_sync.fields: must be an object of field API names, got"},
    {"field not a string", R"({"fields": {"day": 5}})", "crm_sync.fields.day: must be a string"},
    {"required field empty", R"({"fields": {"day": ""}})",
     "crm_sync.fields.day: must not be empty (a Date field for the local day, e.g. \"Day__c\")"},
    {"required field not custom", R"({"fields": {"seconds": "Seconds"}})",
     "crm_sync.fields.seconds: \"Seconds\" is not a custom (__c) API name"},
    {"bad optional name", R"({"fields": {"team": "Team Name"}})",
     "crm_sync.fields.team: \"Team Name\" is not an API name"},
    {"one field twice", R"({"fields": {"team": "agent_name__c"}})",
     "crm_sync.fields.team: \"agent_name__c\" is already the field of crm_sync.fields.user_name"},
    {"object not custom", R"({"object": "Account"})",
     "crm_sync.object: \"Account\" is not a custom object API name"},
    {"object not a string", R"({"object": 1})", "crm_sync.object: must be a string"},
    {"budget zero", R"({"api_budget_per_day": 0})",
     "crm_sync.api_budget_per_day: 0 is out of range (1-10000000)"},
    {"batch too big", R"({"batch_size": 201})", "crm_sync.batch_size: 201 is out of range (1-200)"},
    {"batch zero", R"({"batch_size": 0})", "crm_sync.batch_size: 0 is out of range (1-200)"},
    {"backfill too long", R"({"backfill_days": 32})",
     "crm_sync.backfill_days: 32 is out of range (0-31)"},
    {"no client id", R"({"client_id": null})", "crm_sync.client_id: missing"},
    {"bad auth", R"({"auth": "password"})", "crm_sync.auth: \"password\" is not an auth type"},
};

BOOST_DATA_TEST_CASE(configuration_problems_are_reported_at_their_key, data::make(kConfigCases),
                     c) {
  json::Problems problems;
  std::optional<CrmSyncConfig> config = ParseCrmSync(
      *SalesforceBlock("https://example.my.salesforce.com", c.extra), "crm_sync", problems);
  if (c.problem.empty()) {
    BOOST_TEST(problems.empty(), JoinProblems(problems));
    BOOST_TEST(config.has_value());
    return;
  }
  BOOST_TEST(!config.has_value());
  std::string all = JoinProblems(problems);
  BOOST_TEST(Contains(all, c.problem), all);
}

BOOST_AUTO_TEST_CASE(configuration_values_are_read) {
  json::Problems problems;
  std::optional<CrmSyncConfig> config = ParseCrmSync(
      *SalesforceBlock("https://example.my.salesforce.com",
                       R"({"object": "Agent_Time__c", "api_budget_per_day": 5000, "batch_size": 50,
                 "backfill_days": 3, "fields": {"final": "", "user_name": "Name",
                 "seconds": "ns__Secs__c"}})"),
      "crm_sync", problems);
  BOOST_TEST_REQUIRE(config.has_value(), JoinProblems(problems));
  BOOST_TEST(config->object == "Agent_Time__c");
  BOOST_TEST(config->api_budget_per_day == 5000);
  BOOST_TEST(config->batch_size == 50);
  BOOST_TEST(config->backfill_days == 3);
  BOOST_TEST(config->fields.final == "");
  BOOST_TEST(config->fields.user_name == "Name");
  BOOST_TEST(config->fields.seconds == "ns__Secs__c");
  BOOST_TEST(config->fields.day == "Day__c");
  BOOST_TEST(config->auth.client_secret == kSecret);

  CrmSyncConfig defaults =
      *ParseCrmSync(*SalesforceBlock("https://example.my.salesforce.com"), "crm_sync", problems);
  BOOST_TEST(defaults.object == "Presence_Time__c");
  BOOST_TEST(defaults.api_budget_per_day == 10000);
  BOOST_TEST(defaults.batch_size == 200);
  BOOST_TEST(defaults.backfill_days == 0);
  BOOST_TEST(defaults.fields.final == "Final__c");
}

BOOST_AUTO_TEST_CASE(keys_are_the_client_keys_and_the_sync_keys) {
  std::vector<std::string_view> keys = CrmSyncKeys();
  for (std::string_view key : {"login_url", "client_secret", "private_key", "object", "fields",
                               "api_budget_per_day", "batch_size", "backfill_days"}) {
    BOOST_TEST((std::find(keys.begin(), keys.end(), key) != keys.end()), key);
  }
  BOOST_TEST(keys.size() == kSalesforceAuthKeys.size() + 5);
}

struct ProjectionCase {
  int users;
  int interval;
  int batch;
  long long calls;
};
std::ostream& operator<<(std::ostream& out, const ProjectionCase& c) {
  return out << c.users << " users every " << c.interval << " s in " << c.batch;
}

const ProjectionCase kProjectionCases[] = {
    {0, 60, 200, 0},         // nobody: no calls
    {1, 60, 200, 1441},      // 1440 passes + the day's end
    {200, 60, 200, 1441},    // one batch holds them all
    {450, 60, 200, 4323},    // 3 calls a pass
    {450, 999, 200, 264},    // ceil(86400 / 999) = 87 passes of 3 calls, + 3
    {10, 7, 3, 49376},       // 12343 passes of 4 calls, + 4
    {1000, 300, 200, 1445},  // 288 passes of 5 calls, + 5
};

BOOST_DATA_TEST_CASE(projected_calls_per_day, data::make(kProjectionCases), c) {
  BOOST_TEST(ProjectedCallsPerDay(c.users, c.interval, c.batch) == c.calls);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
