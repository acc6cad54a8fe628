#pragma once

// The pure part of the CRM time-tracking sync (time_tracking_sync.h), no I/O: a local day's
// ledger totals become records, records are compared with the figures Salesforce has
// acknowledged, and a record becomes the fields of an sObject Collections upsert
// (integrations.md 3.4).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "connectors/crm_sync/time_tracking_sync.h"
#include "connectors/salesforce/salesforce_protocol.h"
#include "reasoncodes/status_code.h"
#include "tracking/ledger_types.h"

namespace presence::connectors {

// A user's time in one state (label + status) on one local day.
struct CrmFigure {
  std::string key;  // the external id, CrmExternalId
  std::string agent;
  std::string day;  // local date, "2026-11-21"
  std::string label;
  reasoncodes::StatusCode status = reasoncodes::StatusCode::kOnline;
  Millis duration{0};
};

// One record to upsert. `final`: sent after the day ended, so the figure is complete.
struct CrmRecord {
  CrmFigure figure;
  bool final = false;
};

// What Salesforce acknowledged, by external id.
using AckedFigures = std::map<std::string, tracking::SyncedFigure>;

// "<user>|<YYYY-MM-DD>|<label>|<status code>": "1001|2026-11-21|Lunch|3".
std::string CrmExternalId(std::string_view agent, std::string_view day, std::string_view label,
                          reasoncodes::StatusCode status);

// The figures of local day `day` from TimeStore::Totals over that day, in the totals' order;
// totals of no time are left out.
std::vector<CrmFigure> FiguresOfDay(const std::vector<tracking::Total>& totals,
                                    const std::string& day);

// The records of one day that Salesforce does not have yet. Before the day ends (`ended`
// false): figures not acknowledged with their current duration. After it: the same, sent
// with final = true, and with `final_field` (the "final" field is configured) also every
// figure acknowledged before the end, once more, so Salesforce learns it is the last word.
std::vector<CrmRecord> RecordsToSend(const std::vector<CrmFigure>& figures,
                                     const AckedFigures& acked, bool ended, bool final_field);

// What is saved once Salesforce acknowledged `record`.
tracking::SyncedFigure Acknowledgement(const CrmRecord& record);

// Seconds with millisecond precision, written by FieldsJson as FormatSeconds writes them:
// 95500 ms -> 95.5, 3600000 ms -> 3600, 100000000 ms -> 100000.
FieldValue SecondsValue(Millis duration);

// The record's fields in the order of CrmSyncFields; fields named "" are left out, and so
// are the user's name, team and Salesforce id when the directory does not know the user (the
// Salesforce id also when identities.salesforce is not a user id, 005...). The reason code is
// the one of the state with that label in the directory's catalog, left out when the catalog
// no longer has the state.
Fields CrmRecordFields(const CrmRecord& record, const CrmSyncFields& names,
                       const Directory& directory);

}  // namespace presence::connectors
