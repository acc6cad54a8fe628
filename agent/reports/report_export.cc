#include "agent/reports/report_export.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "agent/reports/output.h"
#include "agent/reports/report_buffer.h"
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

struct UserInfo {
  std::string name;
  std::string team;
};

UserInfo Lookup(const Config* config, const std::string& id) {
  const User* user = config ? config->FindUser(id) : nullptr;
  return user ? UserInfo{user->name, user->team} : UserInfo{};
}

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

// How rows show a state, escaped for the format.
enum class StateShape {
  kDetailCsv,   // label,reason_code,status,status_name,source,cause,
  kDetailJson,  // ,"label":...,"reason_code":...,"status":1,...,"source":...,"cause":...
  kTotalsCsv,   // label,reason_code,status,status_name,
  kTotalsJson,  // {"label":...,"reason_code":...,"status":1,"status_name":...,"seconds":
};

// A state as rows show it, escaped once per distinct state: a report names a handful of
// states millions of times. The last few are kept; others replace them in turn.
class StateTexts {
 public:
  explicit StateTexts(StateShape shape) : shape_(shape) {}

  // Totals rows name no source or cause: they pass Source::kSystem and "".
  std::string_view Get(const std::string& label, const std::string& reason_code, StatusCode status,
                       reasoncodes::Source source, const std::string& cause) {
    for (const Entry& entry : entries_) {
      if (entry.status == status && entry.source == source && entry.label == label &&
          entry.reason_code == reason_code && entry.cause == cause) {
        return entry.text;
      }
    }
    Entry& entry = entries_.size() < kKept ? entries_.emplace_back() : entries_[next_];
    if (entries_.size() == kKept) next_ = (next_ + 1) % kKept;
    entry.label = label;
    entry.reason_code = reason_code;
    entry.status = status;
    entry.source = source;
    entry.cause = cause;
    entry.text.clear();
    Write(entry);
    return entry.text;
  }
  std::string_view Get(const tracking::Interval& interval) {
    return Get(interval.label, interval.reason_code, interval.status, interval.source,
               interval.cause);
  }
  std::string_view Get(const tracking::StateTime& state) {
    return Get(state.label, state.reason_code, state.status, reasoncodes::Source::kSystem, kNone);
  }

 private:
  static constexpr std::size_t kKept = 32;
  static inline const std::string kNone;

  struct Entry {
    std::string label;
    std::string reason_code;
    StatusCode status = StatusCode::kOnline;
    reasoncodes::Source source = reasoncodes::Source::kSystem;
    std::string cause;
    std::string text;
  };

  void Write(Entry& entry) const {
    std::string& text = entry.text;
    const std::string status = std::to_string(reasoncodes::ToInt(entry.status));
    const std::string_view status_name = reasoncodes::StatusName(entry.status);
    switch (shape_) {
      case StateShape::kDetailCsv:
      case StateShape::kTotalsCsv:
        AppendCsvField(text, entry.label);
        text += ',';
        AppendCsvField(text, entry.reason_code);
        text += ',' + status + ',';
        AppendCsvField(text, status_name);
        text += ',';
        if (shape_ == StateShape::kDetailCsv) {
          text += reasoncodes::SourceName(entry.source);
          text += ',';
          AppendCsvField(text, entry.cause);
          text += ',';
        }
        return;
      case StateShape::kDetailJson:
      case StateShape::kTotalsJson:
        text += shape_ == StateShape::kDetailJson ? ",\"label\":" : "{\"label\":";
        AppendJsonString(text, entry.label);
        text += ",\"reason_code\":";
        AppendJsonString(text, entry.reason_code);
        text += ",\"status\":" + status + ",\"status_name\":";
        AppendJsonString(text, status_name);
        if (shape_ == StateShape::kTotalsJson) {
          text += ",\"seconds\":";
          return;
        }
        text += ",\"source\":";
        AppendJsonString(text, reasoncodes::SourceName(entry.source));
        text += ",\"cause\":";
        AppendJsonString(text, entry.cause);
        return;
    }
  }

  StateShape shape_;
  std::vector<Entry> entries_;
  std::size_t next_ = 0;
};

// Local times as text, the last few kept: a row starts where the row before ended, and every
// row of a bucket shows the bucket's edges. A returned view holds until the next Get.
class TimeTexts {
 public:
  explicit TimeTexts(const tracking::ReportZone& zone) : zone_(zone) {}

  std::string_view Get(Timestamp t) {
    for (const Entry& entry : entries_) {
      if (entry.size != 0 && entry.t == t) return {entry.text, entry.size};
    }
    Entry& entry = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    entry.t = t;
    entry.size = static_cast<std::size_t>(zone_.FormatLocalTo(entry.text, t) - entry.text);
    return {entry.text, entry.size};
  }

 private:
  struct Entry {
    Timestamp t;
    std::size_t size = 0;  // 0: not used yet
    char text[tracking::ReportZone::kLocalTextMax];
  };

  const tracking::ReportZone& zone_;
  std::array<Entry, 8> entries_{};
  std::size_t next_ = 0;
};

// A report sink that may have to close what it wrote once the last user is done.
class TotalsWriter : public tracking::ReportSink {
 public:
  virtual void Finish() {}
};

class JsonTotals final : public TotalsWriter {
 public:
  JsonTotals(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out), times_(request.spec.zone) {
    out_.Append(OpenReport(request.spec, "users"));
    out_.Flush();
  }
  void Bucket(const tracking::BucketFigures& figures) override {
    // A bucket whose states the status filter took out has nothing to show.
    if (request_.spec.grouping == tracking::Grouping::kNone || figures.states.empty()) return;
    StartUser(figures.agent);
    if (buckets_written_++ > 0) out_.Append(',');
    out_.Append("{\"start\":\"");
    out_.Append(times_.Get(figures.bucket_start));
    out_.Append("\",\"end\":\"");
    out_.Append(times_.Get(figures.bucket_end));
    out_.Append("\",\"covered_seconds\":");
    out_.AppendSeconds(figures.covered);
    out_.Append(",\"states\":");
    States(figures.states, figures.covered);
    out_.Append('}');
    out_.EndRow();
  }
  void UserTotals(const tracking::UserFigures& figures) override {
    StartUser(figures.agent);
    if (request_.spec.grouping != tracking::Grouping::kNone) out_.Append("],");
    out_.Append("\"covered_seconds\":");
    out_.AppendSeconds(figures.covered);
    out_.Append(",\"states\":");
    States(figures.states, figures.covered);
    out_.Append('}');
    out_.EndRow();
    user_open_ = false;
  }
  void Finish() override {
    out_.Append("]}\n");
    out_.Drain();
  }

 private:
  void StartUser(const std::string& agent) {
    if (user_open_) return;
    user_open_ = true;
    UserInfo info = Lookup(config_, agent);
    std::string head = users_written_++ > 0 ? ",{\"user\":" : "{\"user\":";
    AppendJsonString(head, agent);
    head += ",\"name\":";
    AppendJsonString(head, info.name);
    head += ",\"team\":";
    AppendJsonString(head, info.team);
    head += request_.spec.grouping != tracking::Grouping::kNone ? ",\"buckets\":[" : ",";
    out_.Append(head);
    buckets_written_ = 0;
  }
  void States(const std::vector<tracking::StateTime>& states, Millis covered) {
    out_.Append('[');
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (i > 0) out_.Append(',');
      out_.Append(states_.Get(states[i]));
      out_.AppendSeconds(states[i].duration);
      out_.Append(",\"percent\":");
      out_.AppendPercent(states[i].duration, covered);
      out_.Append('}');
    }
    out_.Append(']');
  }

  const ReportRequest& request_;
  const Config* config_;
  ReportBuffer out_;
  TimeTexts times_;
  StateTexts states_{StateShape::kTotalsJson};
  bool user_open_ = false;
  long long users_written_ = 0;
  long long buckets_written_ = 0;
};

class CsvTotals final : public TotalsWriter {
 public:
  CsvTotals(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out), times_(request.spec.zone) {
    out_.Append(
        "row,user,name,team,period_start,period_end,label,reason_code,status,status_name,"
        "seconds,covered_seconds,percent\r\n");
    out_.Flush();
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
  void Finish() override { out_.Drain(); }

 private:
  void Rows(std::string_view kind, const std::string& agent, Timestamp start, Timestamp end,
            const std::vector<tracking::StateTime>& states, Millis covered) {
    if (!user_known_ || agent != user_) {  // a user's rows follow each other
      UserInfo info = Lookup(config_, agent);
      user_ = agent;
      user_known_ = true;
      user_text_.clear();
      AppendCsvField(user_text_, agent);
      user_text_ += ',';
      AppendCsvField(user_text_, info.name);
      user_text_ += ',';
      AppendCsvField(user_text_, info.team);
      user_text_ += ',';
    }
    lead_.assign(kind);
    lead_ += ',';
    lead_ += user_text_;
    lead_ += times_.Get(start);
    lead_ += ',';
    lead_ += times_.Get(end);
    lead_ += ',';
    if (states.empty()) {  // a user without time still shows up, with nothing to add
      out_.Append(lead_);
      out_.Append(",,,,0,");
      out_.AppendSeconds(covered);
      out_.Append(",0\r\n");
      out_.EndRow();
      return;
    }
    for (const tracking::StateTime& state : states) {
      out_.Append(lead_);
      out_.Append(states_.Get(state));
      out_.AppendSeconds(state.duration);
      out_.Append(',');
      out_.AppendSeconds(covered);
      out_.Append(',');
      out_.AppendPercent(state.duration, covered);
      out_.Append("\r\n");
      out_.EndRow();
    }
  }

  const ReportRequest& request_;
  const Config* config_;
  ReportBuffer out_;
  TimeTexts times_;
  StateTexts states_{StateShape::kTotalsCsv};
  bool user_known_ = false;
  std::string user_;       // the user user_text_ shows
  std::string user_text_;  // "id,name,team,", escaped
  std::string lead_;       // the columns every row of a bucket repeats
};

class TextTotals final : public TotalsWriter {
 public:
  TextTotals(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request), config_(config), out_(out) {
    const tracking::ReportZone& zone = request.spec.zone;
    out_.Append("Time per user and state, ");
    out_.AppendLocal(zone, request.spec.from);
    out_.Append(" to ");
    out_.AppendLocal(zone, request.spec.to);
    out_.Append(" (");
    out_.Append(zone.name());
    out_.Append(")\n");
    out_.Flush();
  }
  void Bucket(const tracking::BucketFigures& figures) override {
    if (request_.spec.grouping == tracking::Grouping::kNone || figures.states.empty()) return;
    Heading(figures.agent);
    out_.Append("  ");
    out_.AppendLocal(request_.spec.zone, figures.bucket_start);
    out_.Append("  covered ");
    out_.Append(FormatHms(figures.covered));
    out_.Append('\n');
    Lines(figures.states, figures.covered, "    ");
  }
  void UserTotals(const tracking::UserFigures& figures) override {
    Heading(figures.agent);
    out_.Append("  total  covered ");
    out_.Append(FormatHms(figures.covered));
    out_.Append('\n');
    Lines(figures.states, figures.covered, "    ");
    heading_done_ = false;
  }
  void Finish() override { out_.Drain(); }

 private:
  void Heading(const std::string& agent) {
    if (heading_done_) return;
    heading_done_ = true;
    UserInfo info = Lookup(config_, agent);
    out_.Append('\n');
    out_.Append(agent);
    if (!info.name.empty()) {
      out_.Append("  ");
      out_.Append(info.name);
    }
    if (!info.team.empty()) {
      out_.Append("  (");
      out_.Append(info.team);
      out_.Append(')');
    }
    out_.Append('\n');
  }
  // `text` padded with spaces to `width` bytes (as printf's %-Ns and %Ns), never cut: a label
  // may be 64 characters of any script.
  void Padded(std::string_view text, std::size_t width, bool right) {
    const std::size_t pad = text.size() >= width ? 0 : width - text.size();
    if (right) out_.AppendSpaces(pad);
    out_.Append(text);
    if (!right) out_.AppendSpaces(pad);
  }
  void Lines(const std::vector<tracking::StateTime>& states, Millis covered, const char* indent) {
    for (const tracking::StateTime& state : states) {
      out_.Append(indent);
      Padded(state.label, 28, false);
      out_.Append(' ');
      Padded(state.reason_code, 8, false);
      out_.Append(' ');
      Padded(reasoncodes::StatusName(state.status), 10, false);
      out_.Append(' ');
      Padded(FormatHms(state.duration), 10, true);
      out_.Append(' ');
      Padded(PercentText(state.duration, covered), 7, true);
      out_.Append("%\n");
      out_.EndRow();
    }
  }

  const ReportRequest& request_;
  const Config* config_;
  ReportBuffer out_;
  bool heading_done_ = false;
};

// ---- detail -------------------------------------------------------------------------------------

// Rows are put together from text made once per user (id, name, team), once per distinct state
// (StateTexts) and once per distinct instant (TimeTexts), straight into the report buffer.
class DetailWriter {
 public:
  DetailWriter(const ReportRequest& request, const Config* config, std::ostream& out)
      : request_(request),
        config_(config),
        json_(request.format == ReportFormat::kJson),
        out_(out),
        times_(request.spec.zone),
        states_(json_ ? StateShape::kDetailJson : StateShape::kDetailCsv) {
    if (json_) {
      out_.Append(OpenReport(request.spec, "intervals"));
    } else {
      out_.Append(
          "user,name,team,interval_id,label,reason_code,status,status_name,source,cause,"
          "interval_start,interval_end,bucket_start,bucket_end,counted_start,counted_end,"
          "seconds\r\n");
    }
    // The client sees the head now, not once the first chunk of rows is ready.
    out_.Flush();
  }
  void BeginUser(const std::string& agent) {
    UserInfo info = Lookup(config_, agent);
    user_text_.clear();
    if (json_) {
      user_text_ += "{\"user\":";
      AppendJsonString(user_text_, agent);
      user_text_ += ",\"name\":";
      AppendJsonString(user_text_, info.name);
      user_text_ += ",\"team\":";
      AppendJsonString(user_text_, info.team);
      user_text_ += ",\"interval_id\":";
    } else {
      AppendCsvField(user_text_, agent);
      user_text_ += ',';
      AppendCsvField(user_text_, info.name);
      user_text_ += ',';
      AppendCsvField(user_text_, info.team);
      user_text_ += ',';
    }
  }
  void Line(const tracking::DetailLine& line) {
    if (json_) return JsonLine(line);
    const tracking::Interval& interval = *line.interval;
    out_.Append(user_text_);
    out_.AppendInt(interval.id);
    out_.Append(',');
    out_.Append(states_.Get(interval));
    out_.Append(times_.Get(interval.start));
    out_.Append(',');
    if (interval.end) out_.Append(times_.Get(*interval.end));
    out_.Append(',');
    out_.Append(times_.Get(line.bucket_start));
    out_.Append(',');
    out_.Append(times_.Get(line.bucket_end));
    out_.Append(',');
    out_.Append(times_.Get(line.counted_start));
    out_.Append(',');
    out_.Append(times_.Get(line.counted_end));
    out_.Append(',');
    out_.AppendSeconds(line.counted_end - line.counted_start);
    out_.Append("\r\n");
    out_.EndRow();
  }
  void Finish() {
    if (json_) out_.Append("]}\n");
    out_.Drain();
  }

 private:
  void JsonLine(const tracking::DetailLine& line) {
    const tracking::Interval& interval = *line.interval;
    if (rows_++ > 0) out_.Append(',');
    out_.Append(user_text_);
    out_.AppendInt(interval.id);
    out_.Append(states_.Get(interval));
    out_.Append(",\"start\":\"");
    out_.Append(times_.Get(interval.start));
    if (interval.end) {
      out_.Append("\",\"end\":\"");
      out_.Append(times_.Get(*interval.end));
      out_.Append("\",\"bucket_start\":\"");
    } else {
      out_.Append("\",\"end\":null,\"bucket_start\":\"");
    }
    out_.Append(times_.Get(line.bucket_start));
    out_.Append("\",\"bucket_end\":\"");
    out_.Append(times_.Get(line.bucket_end));
    out_.Append("\",\"counted_start\":\"");
    out_.Append(times_.Get(line.counted_start));
    out_.Append("\",\"counted_end\":\"");
    out_.Append(times_.Get(line.counted_end));
    out_.Append("\",\"seconds\":");
    out_.AppendSeconds(line.counted_end - line.counted_start);
    out_.Append('}');
    out_.EndRow();
  }

  const ReportRequest& request_;
  const Config* config_;
  const bool json_;
  ReportBuffer out_;
  TimeTexts times_;
  StateTexts states_;
  std::string user_text_;  // how this user's rows begin, escaped
  long long rows_ = 0;
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
