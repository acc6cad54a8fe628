#pragma once

// The CRM time-tracking sync: with settings.time_tracking on and a "crm_sync" block in the
// configuration, every settings.tracking_update_seconds the agent brings a Salesforce custom
// object up to date: one record per user, local day (settings.time_zone) and state, holding
// the seconds spent so far (the state the user is in now included), upserted by an external
// id through sObject Collections (integrations.md 3.4), at most batch_size records per call,
// and only records whose figure changed since Salesforce last acknowledged it.
//
// Idempotent and durable:
// - figures are absolute (seconds so far), never increments, so a repeated upsert cannot
//   double count; the external id is "<user>|<YYYY-MM-DD>|<label>|<status code>".
// - acknowledged figures are saved in the ledger (TimeStore::SaveSyncState), so a restart
//   sends only what changed, and days that ended while the agent was down still get their
//   final figure (with the "final" field set) before the finished-day mark moves past them.
// - a failed pass (network, 5xx, 429, REQUEST_LIMIT_EXCEEDED) is retried with exponential
//   back-off and jitter, never sooner than Retry-After; a 401 renews the token once
//   (SalesforceClient). Records Salesforce refuses one by one are retried at the next pass and
//   their errors shown in the status.
// - API budget: REST calls are counted per rolling 24 hours. When the calls of the last 24
//   hours reach api_budget_per_day, passes stop until the window allows more (the org's
//   allocation is shared with every other integration; exhausting it blocks all of them).
//
// Configuration block "crm_sync" (top level), keys:
//   the Salesforce client's keys (salesforce_client.h: login_url, auth, client_id, ...)
//   object             custom object API name, default "Presence_Time__c"
//   fields             {"external_id": "Presence_Key__c", "user": "Agent_Id__c",
//                       "user_name": "Agent_Name__c", "team": "Team__c",
//                       "salesforce_user": "User__c", "day": "Day__c", "state": "State__c",
//                       "reason_code": "Reason_Code__c", "status": "Status_Code__c",
//                       "seconds": "Seconds__c", "final": "Final__c"}: any may be renamed;
//                      the optional ones (user_name, team, salesforce_user, reason_code,
//                      final) may be "" to leave them out
//   api_budget_per_day REST calls per rolling 24 h this sync may spend, 1-10,000,000,
//                      default 10,000
//   batch_size         records per upsert call, 1-200, default 200
//   backfill_days      finished days before the first start to send too, 0-31, default 0

#include <Poco/JSON/Object.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_read.h"
#include "connectors/connector.h"
#include "connectors/registry.h"
#include "connectors/salesforce/salesforce_client.h"
#include "tracking/report/report_zone.h"
#include "tracking/time_store.h"

namespace presence::connectors {

struct CrmSyncFields {
  std::string external_id = "Presence_Key__c";  // Text(255), External ID, Unique
  std::string user = "Agent_Id__c";             // Text(64): our user id
  std::string user_name = "Agent_Name__c";      // Text(255), optional
  std::string team = "Team__c";                 // Text(255), optional
  std::string salesforce_user = "User__c";      // Lookup(User), optional: identities.salesforce
  std::string day = "Day__c";                   // Date: the local day
  std::string state = "State__c";               // Text(255): the state's label
  std::string reason_code = "Reason_Code__c";   // Text(64), optional
  std::string status = "Status_Code__c";        // Number(1,0): 1-7
  std::string seconds = "Seconds__c";           // Number(9,3): seconds so far that day
  std::string final = "Final__c";               // Checkbox, optional: the day has ended
};

struct CrmSyncConfig {
  SalesforceAuth auth;
  std::string object = "Presence_Time__c";
  CrmSyncFields fields;
  long long api_budget_per_day = 10000;
  int batch_size = 200;
  int backfill_days = 0;
};

// The keys of the "crm_sync" block, for messages and check-config.
std::vector<std::string_view> CrmSyncKeys();

// Reads the block at `path` ("crm_sync"): unknown keys, bad API names, values out of range and
// missing credentials are reported at their key ("crm_sync.fields.day: ..."). nullopt when
// there is a problem.
std::optional<CrmSyncConfig> ParseCrmSync(const json::Object& block, std::string_view path,
                                          json::Problems& problems);

// REST calls a day the sync is expected to spend with `users` users: one pass every
// interval_seconds upserts at least the record of each user's current state, in batches of
// batch_size, plus one pass at each day's end that marks every record final.
long long ProjectedCallsPerDay(int users, int interval_seconds, int batch_size);

struct CrmSyncStats {
  long long api_calls_total = 0;  // REST calls sent (token requests excluded)
  long long api_calls_24h = 0;    // REST calls in the last rolling 24 hours
  long long api_budget_per_day = 0;
  long long records_upserted = 0;  // records Salesforce acknowledged
  long long records_refused = 0;   // records Salesforce refused one by one
  long long passes_ok = 0;
  long long passes_failed = 0;
  long long pending_records = 0;  // figures changed but not yet acknowledged
  int consecutive_failures = 0;
  std::optional<Timestamp> last_success;
  std::optional<Timestamp> last_failure;
  std::optional<std::string> done_through;  // last day whose final figures are all delivered
};

class TimeTrackingSync {
 public:
  struct Schedule {
    int interval_seconds = 60;                                // settings.tracking_update_seconds
    tracking::ReportZone zone = tracking::ReportZone::Utc();  // settings.time_zone
  };

  // env.clock, env.http, env.steady and `store` must outlive the sync.
  TimeTrackingSync(CrmSyncConfig config, Schedule schedule, ConnectorEnv env,
                   tracking::TimeStore& store);
  ~TimeTrackingSync();  // stops the thread

  // The users in force (names, teams, Salesforce ids); replaced on a configuration reload.
  // Users the ledger has but the directory lacks are still synced, without those fields.
  void SetDirectory(Directory directory);

  // Loads the saved progress from the store. Must succeed before RunOnce or Start.
  Status Load();

  // One pass at env.clock->Now(): final figures for ended days not yet finished, then the
  // changed figures of today. Returns when the next pass is due (the next interval after a
  // success, the back-off after a failure, the window's reopening when over budget).
  Timestamp RunOnce();

  // A thread that runs passes when they are due (waiting on env.steady in between).
  void Start();
  void Stop();

  CrmSyncStats stats() const;
  // {"object", "interval_seconds", "time_zone", "state" ("idle", "failing", "over_budget"),
  //  "last_error", ...stats, "salesforce": SalesforceClient::Details()}: never a secret.
  Poco::JSON::Object::Ptr StatusJson() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace presence::connectors
