#include "agent/reports/output.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <iomanip>

#include "common/json_writer.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr NewObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

// Seconds as a JSON number: an integer when whole, else the double of the milliseconds, which
// Poco writes as the same text as FormatSeconds (output_test checks it).
Poco::Dynamic::Var SecondsValue(Millis duration) {
  if (duration.count() % 1000 == 0) return static_cast<Poco::Int64>(duration.count() / 1000);
  return static_cast<double>(duration.count()) / 1000.0;
}

}  // namespace

void WriteChange(JsonWriter& out, const tracking::Change& change) {
  out.BeginObject();
  out.Key("at").String(FormatTime(change.at));
  out.Key("agent").String(change.agent);
  out.Key("from");
  if (change.from_label.empty()) {
    out.Null();
  } else {
    out.String(change.from_label);
  }
  out.Key("to").String(change.label);
  out.Key("status").Int(reasoncodes::ToInt(change.status));
  out.Key("reason_code").String(change.reason_code);
  out.Key("source").String(reasoncodes::SourceName(change.source));
  out.Key("cause").String(change.cause);
  out.EndObject();
}

Object::Ptr ChangeJson(const tracking::Change& change) {
  JsonWriter out;
  WriteChange(out, change);
  Poco::JSON::Parser parser;
  return parser.parse(out.str()).extract<Object::Ptr>();
}

Object::Ptr TotalJson(const tracking::Total& total) {
  Object::Ptr json = NewObject();
  json->set("agent", total.agent);
  json->set("label", total.label);
  json->set("status", reasoncodes::ToInt(total.status));
  json->set("status_name", std::string(reasoncodes::StatusName(total.status)));
  json->set("seconds", SecondsValue(total.duration));
  return json;
}

Object::Ptr StateJson(const reasoncodes::State& state) {
  Object::Ptr json = NewObject();
  json->set("label", state.label);
  json->set("reason_code", state.reason_code);
  json->set("status", reasoncodes::ToInt(state.status));
  json->set("status_name", std::string(reasoncodes::StatusName(state.status)));
  json->set("display", state.DisplayText());
  json->set("selectable", state.selectable);
  json->set("color", state.color);
  json->set("alert_after_seconds", state.alert_after_seconds);
  json->set("budget_seconds_per_day", state.budget_seconds_per_day);
  return json;
}

Array::Ptr ChangesJson(const std::vector<tracking::Change>& changes) {
  Array::Ptr array = new Array();
  for (const tracking::Change& change : changes) array->add(ChangeJson(change));
  return array;
}

Array::Ptr TotalsJson(const std::vector<tracking::Total>& totals) {
  Array::Ptr array = new Array();
  for (const tracking::Total& total : totals) array->add(TotalJson(total));
  return array;
}

std::string CsvField(const std::string& text) {
  std::string field;
  AppendCsvField(field, text);
  return field;
}

void AppendCsvField(std::string& out, std::string_view text) {
  // A leading = + - @ (or tab/CR) makes spreadsheets run the cell as a formula (CSV injection):
  // such text is kept as text with a leading apostrophe.
  const bool formula =
      !text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos;
  const bool quoted = text.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quoted) out += '"';
  if (formula) out += '\'';
  if (!quoted) {
    out += text;
    return;
  }
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void WriteChangesText(const std::vector<tracking::Change>& changes, std::ostream& out) {
  size_t agent_width = 5;
  size_t from_width = 4;
  for (const tracking::Change& change : changes) {
    agent_width = std::max(agent_width, change.agent.size());
    from_width = std::max(from_width, change.from_label.size());
  }
  for (const tracking::Change& change : changes) {
    std::string to = change.label + " (" + std::string(reasoncodes::StatusName(change.status)) +
                     (change.reason_code.empty() ? "" : ", " + change.reason_code) + ")";
    out << FormatTime(change.at) << "  " << std::left << std::setw(agent_width) << change.agent
        << "  " << std::setw(from_width) << (change.from_label.empty() ? "-" : change.from_label)
        << " -> " << std::setw(36) << to << "  " << reasoncodes::SourceName(change.source) << " ("
        << change.cause << ")\n";
  }
}

void WriteTotalsText(const std::vector<tracking::Total>& totals, std::ostream& out) {
  size_t agent_width = 5;
  size_t label_width = 5;
  for (const tracking::Total& total : totals) {
    agent_width = std::max(agent_width, total.agent.size());
    label_width = std::max(label_width,
                           total.label.size() + 3 + reasoncodes::StatusName(total.status).size());
  }
  out << std::left << std::setw(agent_width) << "agent"
      << "  " << std::setw(label_width) << "state"
      << "  " << std::right << std::setw(9) << "h:mm:ss"
      << "  " << std::setw(9) << "seconds"
      << "\n";
  for (const tracking::Total& total : totals) {
    std::string state =
        total.label + " (" + std::string(reasoncodes::StatusName(total.status)) + ")";
    out << std::left << std::setw(agent_width) << total.agent << "  " << std::setw(label_width)
        << state << "  " << std::right << std::setw(9) << FormatHms(total.duration) << "  "
        << std::setw(9) << FormatSeconds(total.duration) << "\n";
  }
}

}  // namespace presence::agent
