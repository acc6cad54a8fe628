#include "connectors/crm_sync/crm_sync_figures.h"

#include <utility>

namespace presence::connectors {
namespace {

constexpr std::string_view kIdentity = "salesforce";
constexpr std::string_view kUserIdPrefix = "005";

// Appends the field unless its configured name is "" (an optional field left out).
void Add(Fields& fields, const std::string& name, FieldValue value) {
  if (!name.empty()) fields.push_back(Field{name, std::move(value)});
}

bool Acknowledged(const CrmFigure& figure, const AckedFigures& acked, bool need_final) {
  auto found = acked.find(figure.key);
  if (found == acked.end()) return false;
  return found->second.duration == figure.duration && (!need_final || found->second.final);
}

void AddUserFields(Fields& fields, const std::string& agent, const CrmSyncFields& names,
                   const Directory& directory) {
  const User* user = directory.FindUser(agent);
  if (!user) return;
  Add(fields, names.user_name, user->name);
  Add(fields, names.team, user->team);
  auto identity = user->identities.find(std::string(kIdentity));
  // A malformed id would make Salesforce refuse the record (and hold its day open) forever.
  if (identity != user->identities.end() && IsSalesforceId(identity->second, kUserIdPrefix)) {
    Add(fields, names.salesforce_user, identity->second);
  }
}

}  // namespace

std::string CrmExternalId(std::string_view agent, std::string_view day, std::string_view label,
                          reasoncodes::StatusCode status) {
  std::string key;
  key.reserve(agent.size() + day.size() + label.size() + 4);
  key.append(agent).append("|").append(day).append("|").append(label).append("|");
  return key + std::to_string(reasoncodes::ToInt(status));
}

std::vector<CrmFigure> FiguresOfDay(const std::vector<tracking::Total>& totals,
                                    const std::string& day) {
  std::vector<CrmFigure> figures;
  for (const tracking::Total& total : totals) {
    if (total.duration <= Millis(0)) continue;
    figures.push_back(CrmFigure{CrmExternalId(total.agent, day, total.label, total.status),
                                total.agent, day, total.label, total.status, total.duration});
  }
  return figures;
}

std::vector<CrmRecord> RecordsToSend(const std::vector<CrmFigure>& figures,
                                     const AckedFigures& acked, bool ended, bool final_field) {
  std::vector<CrmRecord> records;
  for (const CrmFigure& figure : figures) {
    if (!Acknowledged(figure, acked, ended && final_field)) {
      records.push_back(CrmRecord{figure, ended});
    }
  }
  return records;
}

tracking::SyncedFigure Acknowledgement(const CrmRecord& record) {
  return tracking::SyncedFigure{record.figure.key, record.figure.day, record.figure.duration,
                                record.final};
}

FieldValue SecondsValue(Millis duration) {
  // The text of FormatSeconds. Whole seconds go as an integer: as a double, 100000 s would be
  // written "1e+05". Otherwise a whole number of milliseconds over 1000 is the double closest
  // to the decimal, and FieldsJson writes the shortest text that reads back as it: exactly that
  // decimal.
  if (duration.count() % 1000 == 0) return static_cast<long long>(duration.count() / 1000);
  return static_cast<double>(duration.count()) / 1000.0;
}

Fields CrmRecordFields(const CrmRecord& record, const CrmSyncFields& names,
                       const Directory& directory) {
  const CrmFigure& figure = record.figure;
  Fields fields;
  Add(fields, names.external_id, figure.key);
  Add(fields, names.user, figure.agent);
  AddUserFields(fields, figure.agent, names, directory);
  Add(fields, names.day, figure.day);
  Add(fields, names.state, figure.label);
  if (const reasoncodes::State* state = directory.FindState(figure.label)) {
    Add(fields, names.reason_code, state->reason_code);
  }
  Add(fields, names.status, static_cast<long long>(reasoncodes::ToInt(figure.status)));
  Add(fields, names.seconds, SecondsValue(figure.duration));
  Add(fields, names.final, record.final);
  return fields;
}

}  // namespace presence::connectors
