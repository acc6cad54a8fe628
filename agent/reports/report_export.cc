#include "agent/reports/report_export.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "agent/reports/output.h"
#include "common/json_read.h"
#include "common/json_writer.h"
#include "reasoncodes/status_code.h"
#include "tracking/report/aggregate_report.h"

namespace presence::agent {
namespace {

using presence::Timestamp;
using reasoncodes::StatusCode;

constexpr std::array<std::string_view, 8> kParams = {"from", "to",   "group_by", "time_zone",
                                                     "user", "team", "status",   "format"};
constexpr long long kProgressEvery = 65536;

Error Invalid(const std::string& message) { return Error{"invalid_parameter", message}; }

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) items.push_back(item);
    start = comma + 1;
  }
  return items;
}

// Names compare without case, spaces and underscores: "Do Not Disturb", "do_not_disturb".
std::string Squeeze(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::optional<StatusCode> ReadStatus(const std::string& text) {
  if (text.size() == 1 && std::isdigit(static_cast<unsigned char>(text[0]))) {
    return reasoncodes::StatusFromInt(text[0] - '0');
  }
  for (int code = reasoncodes::kMinStatusCode; code <= reasoncodes::kMaxStatusCode; ++code) {
    StatusCode status = *reasoncodes::StatusFromInt(code);
    if (Squeeze(reasoncodes::StatusName(status)) == Squeeze(text)) return status;
  }
  // Other spellings people use for the same statuses.
  static constexpr std::pair<std::string_view, StatusCode> kAliases[] = {
      {"oncall", StatusCode::kOnCall},
      {"donotdisturb", StatusCode::kDnd},
      {"available", StatusCode::kOnline},
      {"loggedout", StatusCode::kLogout}};
  for (const auto& [alias, status] : kAliases) {
    if (Squeeze(text) == alias) return status;
  }
  return std::nullopt;
}

std::string StatusChoices() {
  std::string list;
  for (int code = reasoncodes::kMinStatusCode; code <= reasoncodes::kMaxStatusCode; ++code) {
    if (!list.empty()) list += ", ";
    list += std::to_string(code) + " " +
            std::string(reasoncodes::StatusName(*reasoncodes::StatusFromInt(code)));
  }
  return list;
}

std::string Suggestion(const std::string& word, const std::set<std::string>& known) {
  std::vector<std::string_view> candidates(known.begin(), known.end());
  auto closest = json::ClosestWord(word, candidates);
  return closest ? "; did you mean '" + std::string(*closest) + "'?" : "";
}

struct RawParams {
  std::map<std::string, std::string> values;
};

Result<RawParams> CheckNames(const std::vector<std::pair<std::string, std::string>>& params) {
  RawParams raw;
  for (const auto& [name, value] : params) {
    if (std::find(kParams.begin(), kParams.end(), name) == kParams.end()) {
      std::vector<std::string_view> names(kParams.begin(), kParams.end());
      auto closest = json::ClosestWord(name, names);
      return Invalid("'" + name + "' is not a report parameter" +
                     (closest ? " (did you mean '" + std::string(*closest) + "'?)" : "") +
                     "; allowed: " + json::JoinWords(names));
    }
    if (!raw.values.emplace(name, value).second) {
      return Invalid(name + ": given twice; give one value (lists are comma-separated)");
    }
  }
  return raw;
}

Result<Timestamp> ReadMoment(const RawParams& raw, const std::string& name,
                             const tracking::ReportZone& zone) {
  auto found = raw.values.find(name);
  if (found == raw.values.end()) {
    return Error{"missing_parameter",
                 name +
                     ": required (a time like 2026-11-21T09:00:00Z, or a local date or time "
                     "in " +
                     zone.name() + " like 2026-11-21 or 2026-11-21T09:00)"};
  }
  std::optional<Timestamp> moment = zone.ParseMoment(found->second);
  if (!moment) {
    return Invalid(name + ": '" + found->second +
                   "' is not a time; use 2026-11-21T09:00:00Z, 2026-11-21T10:00:00+01:00, or a "
                   "local date or time in " +
                   zone.name() + " (2026-11-21, 2026-11-21T09:00)");
  }
  return *moment;
}

// The users a report covers: named ones (each must be known), members of the named teams, or
// everyone configured and everyone in the ledger.
Result<std::vector<std::string>> ReadUsers(const RawParams& raw, const ReportContext& context) {
  std::set<std::string> known(context.ledger_users.begin(), context.ledger_users.end());
  std::set<std::string> teams;
  if (context.config) {
    for (const User& user : context.config->users) {
      known.insert(user.id);
      if (!user.team.empty()) teams.insert(user.team);
    }
  }
  std::set<std::string> chosen;
  bool filtered = false;
  if (auto users = raw.values.find("user"); users != raw.values.end()) {
    filtered = true;
    if (SplitList(users->second).empty())
      return Invalid("user: empty; give user ids, comma-separated");
    for (const std::string& id : SplitList(users->second)) {
      if (!known.contains(id)) {
        return Error{"unknown_user", "user: no user '" + id +
                                         "' in the configuration or the ledger" +
                                         Suggestion(id, known)};
      }
      chosen.insert(id);
    }
  }
  if (auto team_list = raw.values.find("team"); team_list != raw.values.end()) {
    filtered = true;
    if (SplitList(team_list->second).empty())
      return Invalid("team: empty; give team names, comma-separated");
    for (const std::string& team : SplitList(team_list->second)) {
      if (!teams.contains(team)) {
        std::string list;
        for (const std::string& name : teams) list += (list.empty() ? "" : ", ") + name;
        return Error{"unknown_team", "team: no configured user is in team '" + team + "'" +
                                         Suggestion(team, teams) +
                                         " (teams: " + (list.empty() ? "none" : list) + ")"};
      }
      for (const User& user : context.config->users) {
        if (user.team == team) chosen.insert(user.id);
      }
    }
  }
  if (!filtered) chosen = known;
  return std::vector<std::string>(chosen.begin(), chosen.end());
}

Status ReadStatuses(const RawParams& raw, std::set<StatusCode>& statuses) {
  auto found = raw.values.find("status");
  if (found == raw.values.end()) return Status::Ok();
  if (SplitList(found->second).empty()) {
    return Invalid("status: empty; allowed: " + StatusChoices() + " (comma-separated)");
  }
  for (const std::string& item : SplitList(found->second)) {
    std::optional<StatusCode> status = ReadStatus(item);
    if (!status) {
      return Invalid("status: '" + item + "' is not a status; allowed: " + StatusChoices());
    }
    statuses.insert(*status);
  }
  return Status::Ok();
}

Result<ReportFormat> ReadFormat(const RawParams& raw, bool allow_text) {
  auto found = raw.values.find("format");
  if (found == raw.values.end()) return ReportFormat::kJson;
  if (found->second == "json") return ReportFormat::kJson;
  if (found->second == "csv") return ReportFormat::kCsv;
  if (found->second == "text" && allow_text) return ReportFormat::kText;
  return Invalid("format: '" + found->second + "'; allowed: json, csv" +
                 (allow_text ? ", text" : ""));
}

Result<tracking::ReportZone> ReadZone(const RawParams& raw, const ReportContext& context) {
  auto found = raw.values.find("time_zone");
  if (found == raw.values.end()) {
    return context.config ? context.config->zone : tracking::ReportZone::Utc();
  }
  Result<tracking::ReportZone> zone = tracking::ReportZone::Find(found->second);
  if (!zone.ok()) return Invalid("time_zone: " + zone.error().message);
  return zone;
}

// ---- writing ----------------------------------------------------------------------------------

// "62.5" for 5 h of 8 h: two decimals at most; "0" without covered time.
std::string Percent(Millis part, Millis whole) {
  if (whole.count() <= 0) return "0";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f",
                100.0 * static_cast<double>(part.count()) / static_cast<double>(whole.count()));
  std::string value(text);
  while (value.back() == '0') value.pop_back();
  if (value.back() == '.') value.pop_back();
  return value;
}

struct UserInfo {
  std::string name;
  std::string team;
};

UserInfo Lookup(const Config* config, const std::string& id) {
  const User* user = config ? config->FindUser(id) : nullptr;
  return user ? UserInfo{user->name, user->team} : UserInfo{};
}

// Writes JSON member by member straight to the stream: one element is built at a time.
class StreamedJson {
 public:
  explicit StreamedJson(std::ostream& out) : out_(out) {}
  void Write(std::string_view text) { out_ << text; }
  // An element of the array being written, comma-separated from the previous one.
  void Element(const JsonWriter& element) {
    if (!first_) out_ << ',';
    first_ = false;
    out_ << element.str();
  }
  void Restart() { first_ = true; }

 private:
  std::ostream& out_;
  bool first_ = true;
};

void WriteHead(JsonWriter& json, const tracking::ReportSpec& spec) {
  json.Key("from").String(FormatTime(spec.from));
  json.Key("to").String(FormatTime(spec.to));
  json.Key("from_local").String(spec.zone.FormatLocal(spec.from));
  json.Key("to_local").String(spec.zone.FormatLocal(spec.to));
  json.Key("time_zone").String(spec.zone.name());
  json.Key("group_by").String(tracking::GroupingName(spec.grouping));
  json.Key("generated_at").String(FormatTime(spec.now));
  json.Key("statuses");
  if (spec.statuses.empty()) {
    json.Null();
  } else {
    json.BeginArray();
    for (StatusCode status : spec.statuses) json.Int(reasoncodes::ToInt(status));
    json.EndArray();
  }
}

// The head of the report object, left open so the list can follow: {"from":...,"<list>":[
std::string OpenReport(const tracking::ReportSpec& spec, std::string_view list) {
  JsonWriter head;
  head.BeginObject();
  WriteHead(head, spec);
  head.EndObject();
  std::string text = head.Take();
  text.pop_back();  // the closing brace
  return text + ",\"" + std::string(list) + "\":[";
}

void WriteStates(JsonWriter& json, const std::vector<tracking::StateTime>& states, Millis covered) {
  json.BeginArray();
  for (const tracking::StateTime& state : states) {
    json.BeginObject();
    json.Key("label").String(state.label);
    json.Key("reason_code").String(state.reason_code);
    json.Key("status").Int(reasoncodes::ToInt(state.status));
    json.Key("status_name").String(reasoncodes::StatusName(state.status));
    json.Key("seconds").Seconds(state.duration.count());
    json.Key("percent").Raw(Percent(state.duration, covered));
    json.EndObject();
  }
  json.EndArray();
}

// A report sink that may have to close what it wrote once the last user is done.
class TotalsWriter : public tracking::ReportSink {
 public:
  virtual void Finish() {}
};

class JsonTotals final : public TotalsWriter {
 public:
  JsonTotals(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out), json_(out) {
    json_.Write(OpenReport(request.spec, "users"));
  }
  void Bucket(const tracking::BucketFigures& figures) override {
    // A bucket whose states the status filter took out has nothing to show.
    if (request_.spec.grouping == tracking::Grouping::kNone || figures.states.empty()) return;
    StartUser(figures.agent);
    JsonWriter bucket;
    bucket.BeginObject();
    bucket.Key("start").String(request_.spec.zone.FormatLocal(figures.bucket_start));
    bucket.Key("end").String(request_.spec.zone.FormatLocal(figures.bucket_end));
    bucket.Key("covered_seconds").Seconds(figures.covered.count());
    bucket.Key("states");
    WriteStates(bucket, figures.states, figures.covered);
    bucket.EndObject();
    buckets_.Element(bucket);
  }
  void UserTotals(const tracking::UserFigures& figures) override {
    StartUser(figures.agent);
    JsonWriter tail;
    tail.BeginObject();
    tail.Key("covered_seconds").Seconds(figures.covered.count());
    tail.Key("states");
    WriteStates(tail, figures.states, figures.covered);
    tail.EndObject();
    std::string text = tail.Take();  // {"covered_seconds":...}: its members close the user
    if (request_.spec.grouping != tracking::Grouping::kNone) out_ << "],";
    out_ << std::string_view(text).substr(1);
    user_open_ = false;
  }
  void Finish() override { out_ << "]}\n"; }

 private:
  void StartUser(const std::string& agent) {
    if (user_open_) return;
    user_open_ = true;
    UserInfo info = Lookup(config_, agent);
    JsonWriter head;
    head.BeginObject();
    head.Key("user").String(agent);
    head.Key("name").String(info.name);
    head.Key("team").String(info.team);
    head.EndObject();
    std::string text = head.Take();
    text.pop_back();
    if (users_written_++ > 0) out_ << ',';
    out_ << text;
    if (request_.spec.grouping != tracking::Grouping::kNone)
      out_ << ",\"buckets\":[";
    else
      out_ << ',';
    buckets_.Restart();
  }

  const ReportRequest& request_;
  const Config* config_;
  std::ostream& out_;
  StreamedJson json_;
  StreamedJson buckets_{out_};
  bool user_open_ = false;
  long long users_written_ = 0;
};

class CsvTotals final : public TotalsWriter {
 public:
  CsvTotals(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out) {
    out_ << "row,user,name,team,period_start,period_end,label,reason_code,status,status_name,"
            "seconds,covered_seconds,percent\r\n";
  }
  void Bucket(const tracking::BucketFigures& figures) override {
    if (request_.spec.grouping == tracking::Grouping::kNone || figures.states.empty()) return;
    Rows("bucket", figures.agent, figures.bucket_start, figures.bucket_end, figures.states,
         figures.covered);
  }
  void UserTotals(const tracking::UserFigures& figures) override {
    Rows("total", figures.agent, request_.spec.from, request_.spec.to, figures.states,
         figures.covered);
  }

 private:
  void Rows(std::string_view kind, const std::string& agent, Timestamp start, Timestamp end,
            const std::vector<tracking::StateTime>& states, Millis covered) {
    UserInfo info = Lookup(config_, agent);
    std::string lead = std::string(kind) + ',' + CsvField(agent) + ',' + CsvField(info.name) + ',' +
                       CsvField(info.team) + ',' + request_.spec.zone.FormatLocal(start) + ',' +
                       request_.spec.zone.FormatLocal(end) + ',';
    const std::string covered_text = FormatSeconds(covered);
    if (states.empty()) {  // a user without time still shows up, with nothing to add
      out_ << lead << ",,,,0," << covered_text << ",0\r\n";
      return;
    }
    for (const tracking::StateTime& state : states) {
      out_ << lead << CsvField(state.label) << ',' << CsvField(state.reason_code) << ','
           << reasoncodes::ToInt(state.status) << ','
           << CsvField(std::string(reasoncodes::StatusName(state.status))) << ','
           << FormatSeconds(state.duration) << ',' << covered_text << ','
           << Percent(state.duration, covered) << "\r\n";
    }
  }

  const ReportRequest& request_;
  const Config* config_;
  std::ostream& out_;
};

// `text` padded with spaces to `width` bytes (as printf's %-Ns and %Ns), never cut.
std::string PadRight(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}
std::string PadLeft(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

class TextTotals final : public TotalsWriter {
 public:
  TextTotals(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out) {
    out_ << "Time per user and state, " << request.spec.zone.FormatLocal(request.spec.from)
         << " to " << request.spec.zone.FormatLocal(request.spec.to) << " ("
         << request.spec.zone.name() << ")\n";
  }
  void Bucket(const tracking::BucketFigures& figures) override {
    if (request_.spec.grouping == tracking::Grouping::kNone || figures.states.empty()) return;
    Heading(figures.agent);
    out_ << "  " << request_.spec.zone.FormatLocal(figures.bucket_start) << "  covered "
         << FormatHms(figures.covered) << "\n";
    Lines(figures.states, figures.covered, "    ");
  }
  void UserTotals(const tracking::UserFigures& figures) override {
    Heading(figures.agent);
    out_ << "  total  covered " << FormatHms(figures.covered) << "\n";
    Lines(figures.states, figures.covered, "    ");
    heading_done_ = false;
  }

 private:
  void Heading(const std::string& agent) {
    if (heading_done_) return;
    heading_done_ = true;
    UserInfo info = Lookup(config_, agent);
    out_ << "\n" << agent;
    if (!info.name.empty()) out_ << "  " << info.name;
    if (!info.team.empty()) out_ << "  (" << info.team << ")";
    out_ << "\n";
  }
  void Lines(const std::vector<tracking::StateTime>& states, Millis covered, const char* indent) {
    for (const tracking::StateTime& state : states) {
      // Columns padded by bytes like printf's, but never cut: a label may be 64 characters of
      // any script.
      out_ << indent << PadRight(state.label, 28) << ' ' << PadRight(state.reason_code, 8) << ' '
           << PadRight(std::string(reasoncodes::StatusName(state.status)), 10) << ' '
           << PadLeft(FormatHms(state.duration), 10) << ' '
           << PadLeft(Percent(state.duration, covered), 7) << "%\n";
    }
  }

  const ReportRequest& request_;
  const Config* config_;
  std::ostream& out_;
  bool heading_done_ = false;
};

// ---- detail -------------------------------------------------------------------------------------

class DetailWriter {
 public:
  DetailWriter(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out), json_(out) {
    if (request_.format == ReportFormat::kJson) json_.Write(OpenReport(request.spec, "intervals"));
    if (request_.format != ReportFormat::kJson) {
      out_ << "user,name,team,interval_id,label,reason_code,status,status_name,source,cause,"
              "interval_start,interval_end,bucket_start,bucket_end,counted_start,counted_end,"
              "seconds\r\n";
    }
  }
  void BeginUser(const std::string& agent) {
    agent_ = agent;
    info_ = Lookup(config_, agent);
  }
  void Line(const tracking::DetailLine& line) {
    if (request_.format == ReportFormat::kJson) return JsonLine(line);
    const tracking::Interval& interval = *line.interval;
    const tracking::ReportZone& zone = request_.spec.zone;
    out_ << CsvField(agent_) << ',' << CsvField(info_.name) << ',' << CsvField(info_.team) << ','
         << interval.id << ',' << CsvField(interval.label) << ',' << CsvField(interval.reason_code)
         << ',' << reasoncodes::ToInt(interval.status) << ','
         << CsvField(std::string(reasoncodes::StatusName(interval.status))) << ','
         << reasoncodes::SourceName(interval.source) << ',' << CsvField(interval.cause) << ','
         << zone.FormatLocal(interval.start) << ','
         << (interval.end ? zone.FormatLocal(*interval.end) : std::string()) << ','
         << zone.FormatLocal(line.bucket_start) << ',' << zone.FormatLocal(line.bucket_end) << ','
         << zone.FormatLocal(line.counted_start) << ',' << zone.FormatLocal(line.counted_end) << ','
         << FormatSeconds(line.counted_end - line.counted_start) << "\r\n";
  }
  void Finish() {
    if (request_.format == ReportFormat::kJson) out_ << "]}\n";
  }

 private:
  void JsonLine(const tracking::DetailLine& line) {
    const tracking::Interval& interval = *line.interval;
    const tracking::ReportZone& zone = request_.spec.zone;
    JsonWriter json;
    json.BeginObject();
    json.Key("user").String(agent_);
    json.Key("name").String(info_.name);
    json.Key("team").String(info_.team);
    json.Key("interval_id").Int(interval.id);
    json.Key("label").String(interval.label);
    json.Key("reason_code").String(interval.reason_code);
    json.Key("status").Int(reasoncodes::ToInt(interval.status));
    json.Key("status_name").String(reasoncodes::StatusName(interval.status));
    json.Key("source").String(reasoncodes::SourceName(interval.source));
    json.Key("cause").String(interval.cause);
    json.Key("start").String(zone.FormatLocal(interval.start));
    json.Key("end");
    if (interval.end) {
      json.String(zone.FormatLocal(*interval.end));
    } else {
      json.Null();
    }
    json.Key("bucket_start").String(zone.FormatLocal(line.bucket_start));
    json.Key("bucket_end").String(zone.FormatLocal(line.bucket_end));
    json.Key("counted_start").String(zone.FormatLocal(line.counted_start));
    json.Key("counted_end").String(zone.FormatLocal(line.counted_end));
    json.Key("seconds").Seconds((line.counted_end - line.counted_start).count());
    json.EndObject();
    json_.Element(json);
  }

  const ReportRequest& request_;
  const Config* config_;
  std::ostream& out_;
  StreamedJson json_;
  std::string agent_;
  UserInfo info_;
};

// Feeds the scan into the report or the detail writer and reports progress.
class ScanFeed final : public tracking::IntervalVisitor {
 public:
  ScanFeed(const ReportRequest& request, std::ostream& out,
           const std::function<void(const ReportProgress&)>& progress,
           tracking::ReportBuilder* builder, DetailWriter* detail)
      : request_(request), out_(out), progress_(progress), builder_(builder), detail_(detail) {
    counts_.users_total = request.users.size();
  }
  bool BeginUser(const std::string& agent) override {
    if (started_) ++counts_.users_done;
    started_ = true;
    Report();
    if (builder_) builder_->BeginUser(agent);
    if (detail_) detail_->BeginUser(agent);
    return out_.good();
  }
  bool Add(const tracking::Interval& interval) override {
    if (builder_) builder_->Add(interval);
    if (detail_) {
      tracking::ForEachDetailLine(
          request_.spec, interval,
          [this](const tracking::DetailLine& line) { detail_->Line(line); });
    }
    if (++counts_.intervals % kProgressEvery == 0) Report();
    return out_.good();
  }
  void Done() {
    if (started_) ++counts_.users_done;
    Report();
  }

 private:
  void Report() {
    if (progress_) progress_(counts_);
  }

  const ReportRequest& request_;
  std::ostream& out_;
  const std::function<void(const ReportProgress&)>& progress_;
  tracking::ReportBuilder* builder_;
  DetailWriter* detail_;
  ReportProgress counts_;
  bool started_ = false;
};

std::unique_ptr<TotalsWriter> NewTotalsSink(const ReportRequest& request, const Config* config,
                                            std::ostream& out) {
  switch (request.format) {
    case ReportFormat::kCsv:
      return std::make_unique<CsvTotals>(request, config, out);
    case ReportFormat::kText:
      return std::make_unique<TextTotals>(request, config, out);
    case ReportFormat::kJson:
      break;
  }
  return std::make_unique<JsonTotals>(request, config, out);
}

}  // namespace

Result<ReportRequest> ReadReportRequest(
    const std::vector<std::pair<std::string, std::string>>& params, ReportKind kind,
    const ReportContext& context) {
  Result<RawParams> raw = CheckNames(params);
  if (!raw.ok()) return raw.error();
  ReportRequest request;
  request.kind = kind;
  Result<tracking::ReportZone> zone = ReadZone(*raw, context);
  if (!zone.ok()) return zone.error();
  request.spec.zone = *zone;
  Result<Timestamp> from = ReadMoment(*raw, "from", *zone);
  if (!from.ok()) return from.error();
  Result<Timestamp> to = ReadMoment(*raw, "to", *zone);
  if (!to.ok()) return to.error();
  if (*to <= *from) {
    return Invalid("to: " + zone->FormatLocal(*to) + " must be after from (" +
                   zone->FormatLocal(*from) + ")");
  }
  request.spec.from = *from;
  request.spec.to = *to;
  request.spec.now = context.now;
  if (auto group = raw->values.find("group_by"); group != raw->values.end()) {
    std::optional<tracking::Grouping> grouping = tracking::GroupingFromName(group->second);
    if (!grouping) {
      return Invalid("group_by: '" + group->second + "'; allowed: " + tracking::GroupingNames());
    }
    request.spec.grouping = *grouping;
  }
  if (Status statuses = ReadStatuses(*raw, request.spec.statuses); !statuses.ok()) {
    return statuses.error();
  }
  Result<ReportFormat> format = ReadFormat(*raw, context.allow_text && kind == ReportKind::kTotals);
  if (!format.ok()) return format.error();
  request.format = *format;
  Result<std::vector<std::string>> users = ReadUsers(*raw, context);
  if (!users.ok()) return users.error();
  request.users = std::move(*users);
  return request;
}

int ReportErrorStatus(const Error& error) {
  return error.code == "unknown_user" || error.code == "unknown_team" ? 404 : 400;
}

Status WriteReport(tracking::TimeStore& store, const ReportRequest& request, const Config* config,
                   std::ostream& out, const std::function<void(const ReportProgress&)>& progress) {
  // An empty user list means "everyone" to a scan, but "nobody" here: no scan then.
  const tracking::IntervalScan scan{request.spec.from, request.spec.to, request.users};
  if (request.kind == ReportKind::kDetail) {
    DetailWriter detail(request, config, out);
    ScanFeed feed(request, out, progress, nullptr, &detail);
    Status status = request.users.empty() ? Status::Ok() : store.ScanIntervals(scan, feed);
    if (!status.ok()) return status;
    feed.Done();
    detail.Finish();
    return Status::Ok();
  }
  std::unique_ptr<TotalsWriter> sink = NewTotalsSink(request, config, out);
  // Pre-aggregated time where the store keeps it (the same figures, without reading every
  // interval of the range); the intervals where it does not.
  if (!request.users.empty()) {
    Result<std::unique_ptr<tracking::AggregateSnapshot>> aggregates = store.OpenAggregates();
    if (aggregates.ok()) {
      Status status = tracking::BuildAggregateReport(
          request.spec, request.users, **aggregates, *sink,
          [&](const tracking::AggregateReportProgress& done) {
            if (progress) progress({done.users_done, request.users.size(), done.intervals});
            return out.good();
          });
      if (!status.ok()) return status;
      sink->Finish();
      return Status::Ok();
    }
    if (aggregates.error().code != "not_available") return aggregates.error();
  }
  tracking::ReportBuilder builder(request.spec, *sink);
  ScanFeed feed(request, out, progress, &builder, nullptr);
  Status status = request.users.empty() ? Status::Ok() : store.ScanIntervals(scan, feed);
  if (!status.ok()) return status;
  builder.Finish();
  feed.Done();
  sink->Finish();
  return Status::Ok();
}

std::string ReportFileName(const ReportRequest& request) {
  const tracking::ReportZone& zone = request.spec.zone;
  std::string name = request.kind == ReportKind::kDetail ? "time-detail-" : "time-report-";
  name += zone.LocalDate(request.spec.from) + "-" + zone.LocalDate(request.spec.to);
  return name + (request.format == ReportFormat::kCsv ? ".csv" : ".json");
}

std::string ReportContentType(ReportFormat format) {
  switch (format) {
    case ReportFormat::kCsv:
      return "text/csv; charset=utf-8";
    case ReportFormat::kText:
      return "text/plain; charset=utf-8";
    case ReportFormat::kJson:
      break;
  }
  return "application/json";
}

}  // namespace presence::agent
