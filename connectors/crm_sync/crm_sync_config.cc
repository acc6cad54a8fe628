// The "crm_sync" block (time_tracking_sync.h) and the sync's expected API spending.

#include <Poco/String.h>

#include <array>
#include <utility>

#include "connectors/crm_sync/time_tracking_sync.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Problems;
using json::Quote;
using json::Report;

constexpr long long kMaxBudget = 10'000'000;
constexpr int kMaxBackfillDays = 31;

struct FieldSpec {
  std::string_view key;
  std::string CrmSyncFields::*member;
  bool optional;          // may be "" (left out of every record)
  std::string_view kind;  // for messages
};

// Required fields live on the custom object, so they must be custom fields (__c). Optional ones
// may also be standard fields where that makes sense: the user's name in Name, the Salesforce
// user in OwnerId.
constexpr std::array<FieldSpec, 11> kFieldSpecs = {{
    {"external_id", &CrmSyncFields::external_id, false, "a Text(255) External ID, Unique"},
    {"user", &CrmSyncFields::user, false, "a Text(64) field for the user id"},
    {"user_name", &CrmSyncFields::user_name, true, "a Text(255) field for the user's name"},
    {"team", &CrmSyncFields::team, true, "a Text(255) field for the team"},
    {"salesforce_user", &CrmSyncFields::salesforce_user, true, "a Lookup(User) field"},
    {"day", &CrmSyncFields::day, false, "a Date field for the local day"},
    {"state", &CrmSyncFields::state, false, "a Text(255) field for the state's label"},
    {"reason_code", &CrmSyncFields::reason_code, true, "a Text(64) field for the reason code"},
    {"status", &CrmSyncFields::status, false, "a Number(1,0) field for the status code"},
    {"seconds", &CrmSyncFields::seconds, false, "a Number(9,3) field for the seconds"},
    {"final", &CrmSyncFields::final, true, "a Checkbox field for a finished day"},
}};

std::vector<std::string_view> FieldKeys() {
  std::vector<std::string_view> keys;
  for (const FieldSpec& spec : kFieldSpecs) keys.push_back(spec.key);
  return keys;
}

void ReadFieldName(const json::Object& fields, const FieldSpec& spec, std::string_view path,
                   CrmSyncFields& names, Problems& problems) {
  std::string key(spec.key);
  if (!fields.has(key)) return;
  std::string key_path = Child(path, key);
  std::optional<std::string> name = json::ReadString(fields.get(key), key_path, problems);
  if (!name) return;
  const std::string what = std::string(spec.kind) + ", e.g. " + Quote(names.*spec.member);
  if (name->empty()) {
    if (!spec.optional) Report(problems, key_path, "must not be empty (" + what + ")");
  } else if (spec.optional ? !IsApiName(*name, "") : !IsApiName(*name, "__c")) {
    Report(problems, key_path,
           Quote(*name) + " is not " + (spec.optional ? "an" : "a custom (__c)") + " API name (" +
               what + ")");
    return;
  }
  names.*spec.member = std::move(*name);
}

// Two keys naming one field would send it twice in a record; API names ignore case.
void CheckDistinct(const CrmSyncFields& names, std::string_view path, Problems& problems) {
  for (std::size_t i = 0; i < kFieldSpecs.size(); ++i) {
    const std::string& name = names.*kFieldSpecs[i].member;
    if (name.empty()) continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (Poco::icompare(name, names.*kFieldSpecs[j].member) == 0) {
        Report(problems, Child(path, kFieldSpecs[i].key),
               Quote(name) + " is already the field of " + Child(path, kFieldSpecs[j].key) +
                   " (each key needs its own field)");
        break;
      }
    }
  }
}

void ReadFields(const json::Object& block, std::string_view path, CrmSyncFields& names,
                Problems& problems) {
  if (!block.has("fields")) return;
  std::string fields_path = Child(path, "fields");
  json::Object::Ptr fields = json::AsObject(block.get("fields"));
  if (!fields) {
    Report(problems, fields_path,
           "must be an object of field API names, got " + json::Describe(block.get("fields")));
    return;
  }
  std::vector<std::string_view> keys = FieldKeys();
  json::CheckKeys(*fields, fields_path, keys, problems);
  std::size_t before = problems.size();
  for (const FieldSpec& spec : kFieldSpecs) {
    ReadFieldName(*fields, spec, fields_path, names, problems);
  }
  if (problems.size() == before) CheckDistinct(names, fields_path, problems);
}

void ReadObjectName(const json::Object& block, std::string_view path, std::string& object,
                    Problems& problems) {
  if (!block.has("object")) return;
  std::string key_path = Child(path, "object");
  std::optional<std::string> name = json::ReadString(block.get("object"), key_path, problems);
  if (!name) return;
  if (!IsApiName(*name, "__c")) {
    Report(problems, key_path,
           Quote(*name) + " is not a custom object API name (e.g. \"Presence_Time__c\")");
    return;
  }
  object = std::move(*name);
}

long long CeilDiv(long long a, long long b) { return (a + b - 1) / b; }

}  // namespace

std::vector<std::string_view> CrmSyncKeys() {
  std::vector<std::string_view> keys(kSalesforceAuthKeys.begin(), kSalesforceAuthKeys.end());
  for (std::string_view key :
       {"object", "fields", "api_budget_per_day", "batch_size", "backfill_days"}) {
    keys.push_back(key);
  }
  return keys;
}

std::optional<CrmSyncConfig> ParseCrmSync(const json::Object& block, std::string_view path,
                                          Problems& problems) {
  std::size_t before = problems.size();
  std::vector<std::string_view> keys = CrmSyncKeys();
  json::CheckKeys(block, path, keys, problems);
  CrmSyncConfig config;
  if (auto auth = ParseSalesforceAuth(block, path, problems)) config.auth = std::move(*auth);
  ReadObjectName(block, path, config.object, problems);
  ReadFields(block, path, config.fields, problems);
  if (auto budget =
          json::ReadOptionalNumber(block, "api_budget_per_day", path, 1, kMaxBudget, problems)) {
    config.api_budget_per_day = *budget;
  }
  if (auto batch = json::ReadOptionalNumber(
          block, "batch_size", path, 1, static_cast<long long>(kMaxCollectionRecords), problems)) {
    config.batch_size = static_cast<int>(*batch);
  }
  if (auto days =
          json::ReadOptionalNumber(block, "backfill_days", path, 0, kMaxBackfillDays, problems)) {
    config.backfill_days = static_cast<int>(*days);
  }
  if (problems.size() != before) return std::nullopt;
  return config;
}

// Every pass upserts at least each user's current-state record (its seconds grow while the
// user stays in it): ceil(users / batch_size) calls per pass, ceil(86400 / interval) passes a
// day. The first pass after midnight also marks every record of the ended day final; with a
// few states per user that is about one more pass's worth: ceil(users / batch_size). Refused
// records and retries come on top.
long long ProjectedCallsPerDay(int users, int interval_seconds, int batch_size) {
  if (users <= 0) return 0;
  long long interval = std::max(interval_seconds, 1);
  long long batch = std::max(batch_size, 1);
  long long calls_per_pass = CeilDiv(users, batch);
  return CeilDiv(86400, interval) * calls_per_pass + calls_per_pass;
}

}  // namespace presence::connectors
