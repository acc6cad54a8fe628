// The CRM time-tracking sync end to end through the real `presence-agent serve`: time spent in
// a state reaches the Salesforce custom object (a fake org on loopback), the figure agrees with
// the agent's own report, a kill -9 and restart carry on from the ledger without counting
// anything twice, and the API budget is checked at start-up and shown in the status and
// metrics.
#include <Poco/JSON/Array.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/fake_salesforce.h"
#include "tracking/report/report_zone.h"

namespace presence::testing {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr auto kWait = std::chrono::seconds(20);
const std::string kObject = "Presence_Time__c";
const std::string kZone = "Europe/Berlin";

void DefineTimeObject(FakeSalesforce& salesforce) {
  salesforce.DefineObject(kObject, "Presence_Key__c",
                          {{"Agent_Id__c", FakeFieldType::kText},
                           {"Agent_Name__c", FakeFieldType::kText},
                           {"Team__c", FakeFieldType::kText},
                           {"User__c", FakeFieldType::kLookup},
                           {"Day__c", FakeFieldType::kDate},
                           {"State__c", FakeFieldType::kText},
                           {"Reason_Code__c", FakeFieldType::kText},
                           {"Status_Code__c", FakeFieldType::kNumber},
                           {"Seconds__c", FakeFieldType::kNumber},
                           {"Final__c", FakeFieldType::kCheckbox}});
}

// Time tracking every second in Berlin days, synced to `salesforce` within `budget` calls.
std::function<void(Object&)> WithSync(const FakeSalesforce& salesforce, long long budget) {
  return [&salesforce, budget](Object& config) {
    Object::Ptr settings = config.getObject("settings");
    settings->set("time_tracking", true);
    settings->set("tracking_update_seconds", 1);
    settings->set("time_zone", kZone);
    Object::Ptr sync = new Object();
    sync->set("login_url", salesforce.url());
    sync->set("auth", "client_credentials");
    sync->set("client_id", FakeSalesforceConfig{}.client_id);
    sync->set("client_secret", FakeSalesforceConfig{}.client_secret);
    sync->set("object", kObject);
    sync->set("api_budget_per_day", budget);
    config.set("crm_sync", sync);
  };
}

// The Lunch record of user 1001 for today in Berlin, if the org has it.
std::optional<double> LunchSeconds(const FakeSalesforce& salesforce) {
  const std::string today = (*tracking::ReportZone::Find(kZone)).LocalDate(SystemClock().Now());
  auto record = salesforce.Record(kObject, "1001|" + today + "|Lunch|3");
  if (!record) return std::nullopt;
  return record->fields->getValue<double>("Seconds__c");
}

bool WaitForLunchAbove(FakeSalesforce& salesforce, double seconds) {
  return salesforce.server().WaitFor(
      [&](const auto&) {
        auto now = LunchSeconds(salesforce);
        return now && *now > seconds;
      },
      kWait);
}

// Lunch seconds of user 1001 today in Berlin, from the agent's own report.
double ReportedLunch(AgentServer& server) {
  HttpResponse report =
      server.Client().Get("/api/v1/reports/time?from=" +
                              (*tracking::ReportZone::Find(kZone)).LocalDate(SystemClock().Now()) +
                              "T00:00&to=2100-01-01&user=1001&status=Away",
                          server.tokens().supervisor);
  BOOST_REQUIRE_MESSAGE(report.status == 200, report.body);
  Array::Ptr states = report.Json()->getArray("users")->getObject(0)->getArray("states");
  for (size_t i = 0; i < states->size(); ++i) {
    Object::Ptr state = states->getObject(static_cast<unsigned>(i));
    if (state->getValue<std::string>("label") == "Lunch") return state->getValue<double>("seconds");
  }
  return 0;
}

Object::Ptr SyncStatus(AgentServer& server) {
  HttpResponse response = server.Client().Get("/api/v1/crm-sync", server.tokens().supervisor);
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.body);
  BOOST_REQUIRE(response.Json()->getValue<bool>("configured"));
  return response.Json()->getObject("sync");
}

// The sync status once it has counted `calls` calls: the fake records a request before the
// agent has read the answer and counted it, so the status may lag the records briefly.
Object::Ptr SyncStatusAfterCalls(AgentServer& server, long long calls) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  Object::Ptr status = SyncStatus(server);
  while (status->getValue<long long>("api_calls_total") < calls &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = SyncStatus(server);
  }
  return status;
}

BOOST_AUTO_TEST_SUITE(crm_sync_e2e_test)

BOOST_AUTO_TEST_CASE(time_in_a_state_reaches_salesforce_and_a_kill_9_restart_counts_it_once) {
  SystemClock clock;
  FakeSalesforce salesforce(FakeSalesforceConfig{}, clock);
  DefineTimeObject(salesforce);
  AgentServer server(WithSync(salesforce, 100000));
  server.Start();
  HttpResponse lunch = server.Client().Put("/api/v1/agents/1001/state", server.tokens().agent,
                                           R"({"label": "Lunch"})");
  BOOST_REQUIRE_MESSAGE(lunch.status == 200, lunch.body);

  // The current state counts up to now: the record appears and grows while the user stays.
  BOOST_REQUIRE_MESSAGE(WaitForLunchAbove(salesforce, 0), server.Log());
  const double first = *LunchSeconds(salesforce);
  BOOST_REQUIRE(WaitForLunchAbove(salesforce, first));
  // A figure is never more than the ledger has: the report, read after it, has at least as much.
  const double synced = *LunchSeconds(salesforce);
  BOOST_TEST(synced <= ReportedLunch(server));

  Object::Ptr status = SyncStatusAfterCalls(server, 2);
  BOOST_TEST(status->getValue<long long>("api_calls_total") >= 2);
  BOOST_TEST(status->getValue<long long>("api_calls_24h") >= 2);
  BOOST_TEST(status->getValue<long long>("records_upserted") >= 2);
  HttpResponse metrics = server.Client().Get("/metrics", server.tokens().supervisor);
  BOOST_TEST(metrics.body.find("presence_crm_sync_api_calls_24h ") != std::string::npos);
  BOOST_TEST(metrics.body.find("presence_crm_sync_records_upserted_total ") != std::string::npos);

  BOOST_REQUIRE_EQUAL(server.Stop(SIGKILL), 128 + SIGKILL);
  const double before_restart = *LunchSeconds(salesforce);
  server.Start();
  // The restarted agent goes on from the ledger: the figure keeps growing from where it was,
  // and never runs ahead of the time actually spent (a double count would).
  BOOST_REQUIRE_MESSAGE(WaitForLunchAbove(salesforce, before_restart), server.Log());
  const double after_restart = *LunchSeconds(salesforce);
  BOOST_TEST(after_restart <= ReportedLunch(server));
  BOOST_TEST(server.Log().find(FakeSalesforceConfig{}.client_secret) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_budget_too_small_is_warned_about_at_start_and_stops_the_sync_there) {
  SystemClock clock;
  FakeSalesforce salesforce(FakeSalesforceConfig{}, clock);
  DefineTimeObject(salesforce);
  AgentServer server(WithSync(salesforce, 1));
  server.Start();
  BOOST_TEST(server.WaitForLog("more than api_budget_per_day (1)", kWait), server.Log());
  HttpResponse lunch = server.Client().Put("/api/v1/agents/1001/state", server.tokens().agent,
                                           R"({"label": "Lunch"})");
  BOOST_REQUIRE_MESSAGE(lunch.status == 200, lunch.body);
  // One call is allowed, then the sync waits for the 24-hour window instead of spending more.
  BOOST_REQUIRE_MESSAGE(server.WaitForLog("API budget used up", kWait), server.Log());
  Object::Ptr status = SyncStatus(server);
  BOOST_TEST(status->getValue<long long>("api_calls_24h") <= 1);
  BOOST_TEST(status->getValue<std::string>("state") == "over_budget",
             status->getValue<std::string>("state"));
  BOOST_TEST(salesforce.api_requests() <= 1);
}

BOOST_AUTO_TEST_CASE(a_crm_sync_block_without_time_tracking_is_refused_at_start) {
  SystemClock clock;
  FakeSalesforce salesforce(FakeSalesforceConfig{}, clock);
  AgentServer server([&](Object& config) {
    WithSync(salesforce, 1000)(config);
    config.getObject("settings")->set("time_tracking", false);
    config.getObject("settings")->set("time_zone", "Europe/Berln");
  });
  BOOST_CHECK_THROW(server.Start(), std::runtime_error);
  BOOST_TEST(
      server.Log().find("crm_sync: the CRM time-tracking sync needs settings.time_tracking") !=
          std::string::npos,
      server.Log());
  BOOST_TEST(server.Log().find("did you mean 'Europe/Berlin'") != std::string::npos, server.Log());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::testing
