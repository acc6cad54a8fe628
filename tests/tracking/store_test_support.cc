#include "tests/tracking/store_test_support.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <stdexcept>
#include <tuple>

#include "tracking/ledger_math.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/journaled_time_store.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::tracking::test {
namespace {

struct CatalogEntry {
  const char* label;
  const char* reason_code;
  StatusCode status;
};

constexpr std::array<CatalogEntry, 8> kCatalog = {{
    {"Ready", "*60", StatusCode::kOnline},
    {"Lunch", "*61", StatusCode::kAway},
    {"Meeting", "*62", StatusCode::kBusy},
    {"On a call", "", StatusCode::kOnCall},
    {"Wrap-up", "*63", StatusCode::kDnd},
    {"Away", "*64", StatusCode::kAway},
    {"Offline", "*65", StatusCode::kOffline},
    {"Logged out", "*69", StatusCode::kLogout},
}};

constexpr std::array<Source, 7> kSources = {Source::kAgent, Source::kCrm,    Source::kSupervisor,
                                            Source::kCall,  Source::kWrapUp, Source::kSystem,
                                            Source::kPbx};

const CatalogEntry& Find(const std::string& label) {
  for (const CatalogEntry& entry : kCatalog) {
    if (label == entry.label) return entry;
  }
  throw std::runtime_error("test catalog has no state '" + label + "'");
}

// The std distributions differ between standard libraries; plain modulo of mt19937_64 (whose
// sequence the standard fixes) keeps generated histories the same everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  int64_t Below(int64_t bound) { return static_cast<int64_t>(engine_() % bound); }
  int64_t Between(int64_t low, int64_t high) { return low + Below(high - low + 1); }

 private:
  std::mt19937_64 engine_;
};

constexpr int64_t kHourMs = 3600 * 1000;

// Time from one change of a user to the next: sometimes zero, sometimes a long absence.
int64_t NextGap(Random& random) {
  int64_t kind = random.Below(20);
  if (kind == 0) return 0;
  if (kind == 1) return random.Between(20 * kHourMs, 60 * kHourMs);
  if (kind <= 4) return random.Below(2000);
  return random.Between(1, 3 * kHourMs);
}

std::vector<Change> GenerateChanges(Random& random, const std::vector<std::string>& agents,
                                    Timestamp begin, Timestamp end) {
  std::vector<Change> changes;
  for (const std::string& agent : agents) {
    Timestamp at = begin + Millis(random.Below(10 * kHourMs));
    std::string previous;
    while (at < end) {
      const CatalogEntry& state = kCatalog[random.Below(kCatalog.size())];
      Change change = MakeChangeAt(agent, at, state.label);
      change.from_label = previous;
      change.source = kSources[random.Below(kSources.size())];
      change.cause = "generated:" + std::to_string(changes.size());
      previous = change.label;
      changes.push_back(std::move(change));
      at += Millis(NextGap(random));
    }
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& a, const Change& b) { return a.at < b.at; });
  return changes;
}

// The ledger the changes must produce: one interval per change, closed by the user's next one.
std::vector<Interval> ExpectedLedger(const std::vector<Change>& changes) {
  std::vector<Interval> intervals;
  std::map<std::string, size_t> open;
  for (const Change& change : changes) {
    if (auto it = open.find(change.agent); it != open.end()) {
      intervals[it->second].end = change.at;
    }
    Interval interval;
    interval.id = static_cast<int64_t>(intervals.size()) + 1;
    interval.agent = change.agent;
    interval.label = change.label;
    interval.reason_code = change.reason_code;
    interval.status = change.status;
    interval.source = change.source;
    interval.cause = change.cause;
    interval.start = change.at;
    open[change.agent] = intervals.size();
    intervals.push_back(std::move(interval));
  }
  return intervals;
}

std::vector<Change> Version2Changes() {
  return {MakeChange("a", "2026-11-20T22:00:00Z", "Ready"),
          MakeChange("a", "2026-11-21T02:00:00Z", "Lunch"),
          MakeChange("b", "2026-11-21T08:00:00Z", "Meeting"),
          MakeChange("b", "2026-11-21T09:00:00Z", "Away")};
}

void InsertInterval(SQLite::Database& db, const Interval& interval) {
  SQLite::Statement insert(db,
                           "INSERT INTO intervals (id, agent, label, reason_code, status, source, "
                           "cause, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, interval.id);
  insert.bind(2, interval.agent);
  insert.bind(3, interval.label);
  insert.bind(4, interval.reason_code);
  insert.bind(5, reasoncodes::ToInt(interval.status));
  insert.bind(6, std::string(reasoncodes::SourceName(interval.source)));
  insert.bind(7, interval.cause);
  insert.bind(8, ToEpochMillis(interval.start));
  if (interval.end) insert.bind(9, ToEpochMillis(*interval.end));
  insert.exec();
  if (interval.end) {
    for (const DayShare& share : SplitAtUtcMidnights(interval.start, *interval.end)) {
      SQLite::Statement total(db,
                              "INSERT INTO daily_totals (agent, day, label, status, ms) VALUES "
                              "(?, ?, ?, ?, ?)");
      total.bind(1, interval.agent);
      total.bind(2, share.day);
      total.bind(3, interval.label);
      total.bind(4, reasoncodes::ToInt(interval.status));
      total.bind(5, static_cast<int64_t>(share.duration.count()));
      total.exec();
    }
  } else {
    SQLite::Statement agent(db, "INSERT INTO agents (agent, open_interval_id) VALUES (?, ?)");
    agent.bind(1, interval.agent);
    agent.bind(2, interval.id);
    agent.exec();
  }
}

void InsertOutboxRow(SQLite::Database& db, int64_t id, const Change& change) {
  SQLite::Statement insert(db,
                           "INSERT INTO outbox (id, connector, agent, at_ms, from_label, label, "
                           "reason_code, status, source, cause) VALUES (?, 'crm', ?, ?, ?, ?, ?, "
                           "?, ?, ?)");
  insert.bind(1, id);
  insert.bind(2, change.agent);
  insert.bind(3, ToEpochMillis(change.at));
  insert.bind(4, change.from_label);
  insert.bind(5, change.label);
  insert.bind(6, change.reason_code);
  insert.bind(7, reasoncodes::ToInt(change.status));
  insert.bind(8, std::string(reasoncodes::SourceName(change.source)));
  insert.bind(9, change.cause);
  insert.exec();
}

}  // namespace

void CommitTwoUsers(TimeStore& store) {
  const std::vector<std::vector<Change>> batches = {
      {MakeChange("a", "2026-11-21T08:00:00Z", "Ready"),
       MakeChange("b", "2026-11-21T08:30:00Z", "Meeting"),
       MakeChange("a", "2026-11-21T09:00:00Z", "Lunch")},
      {MakeChange("a", "2026-11-21T09:45:00Z", "Ready"),
       MakeChange("b", "2026-11-21T10:00:00Z", "Ready"),
       MakeChange("a", "2026-11-21T12:00:00Z", "Logged out")}};
  for (const std::vector<Change>& batch : batches) {
    std::string failure = CommitText(store, batch);
    if (!failure.empty()) throw std::runtime_error("CommitTwoUsers: " + failure);
  }
}

bool RecordingVisitor::Record(std::string line) {
  lines_.push_back(std::move(line));
  return !stop_after_ || lines_.size() < *stop_after_;
}

std::vector<std::string> ScanText(TimeStore& store, const IntervalScan& scan) {
  RecordingVisitor visitor;
  Status status = store.ScanIntervals(scan, visitor);
  if (!status.ok()) throw std::runtime_error(status.error().code + ": " + status.error().message);
  return visitor.lines();
}

std::vector<std::string> ExpectedScan(TimeStore& store, const std::vector<std::string>& agents,
                                      Timestamp from, Timestamp to) {
  std::vector<std::string> lines;
  for (const std::string& agent : agents) {
    lines.push_back("user " + agent);
    for (std::string& line : Describe(IntervalsOrThrow(store, agent, from, to))) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

SyncedFigure Figure(const std::string& key, const std::string& day, int64_t ms, bool final) {
  return SyncedFigure{key, day, Millis(ms), final};
}

std::vector<std::string> Describe(const SyncState& state) {
  std::vector<std::string> lines = {"done_through " + state.done_through.value_or("none")};
  for (const SyncedFigure& figure : state.figures) {
    lines.push_back(figure.key + "|" + figure.day + "|" + std::to_string(figure.duration.count()) +
                    "|" + (figure.final ? "final" : "partial"));
  }
  return lines;
}

std::vector<std::string> SyncStateText(TimeStore& store, const std::string& target) {
  auto state = store.LoadSyncState(target);
  if (!state.ok()) throw std::runtime_error(state.error().code + ": " + state.error().message);
  return Describe(*state);
}

std::string SaveText(TimeStore& store, const std::string& target,
                     const std::vector<SyncedFigure>& figures,
                     const std::optional<std::string>& done_through) {
  Status status = store.SaveSyncState(target, figures, done_through);
  return status.ok() ? "" : status.error().code + ": " + status.error().message;
}

std::vector<Interval> Version2Intervals() { return ExpectedLedger(Version2Changes()); }

void WriteVersion2Ledger(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  MigrateLedgerForTesting(db, 2);
  SQLite::Transaction transaction(db);
  for (const Interval& interval : Version2Intervals()) InsertInterval(db, interval);
  std::vector<Change> changes = Version2Changes();
  InsertOutboxRow(db, 1, changes[0]);
  InsertOutboxRow(db, 2, changes[1]);
  transaction.commit();
}

const std::vector<std::string>& StoreKinds() {
  static const std::vector<std::string> kinds = {"sqlite", "memory"};
  return kinds;
}

StoreUnderTest::StoreUnderTest(const std::string& kind) : kind_(kind) {
  if (kind_ == "memory") {
    store_ = NewMemoryTimeStore();
    return;
  }
  if (kind_ != "sqlite") throw std::runtime_error("unknown store kind " + kind_);
  Reopen();
}

void StoreUnderTest::Reopen() {
  if (kind_ != "sqlite") throw std::runtime_error("only a sqlite store can be reopened");
  store_.reset();
  auto opened = OpenSqliteTimeStore(path());
  if (!opened.ok()) throw std::runtime_error(opened.error().message);
  store_ = std::move(opened).value();
}

Timestamp T(const std::string& text) {
  auto parsed = ParseTime(text);
  if (!parsed) throw std::runtime_error("bad time in test: " + text);
  return *parsed;
}

Change MakeChangeAt(const std::string& agent, Timestamp at, const std::string& label) {
  const CatalogEntry& state = Find(label);
  Change change;
  change.agent = agent;
  change.at = at;
  change.label = state.label;
  change.reason_code = state.reason_code;
  change.status = state.status;
  change.source = Source::kAgent;
  change.cause = "select";
  return change;
}

Change MakeChange(const std::string& agent, const std::string& at, const std::string& label) {
  return MakeChangeAt(agent, T(at), label);
}

void SettleOrThrow(TimeStore& store, int attempts) {
  auto* journaled = dynamic_cast<JournaledTimeStore*>(&store);
  if (!journaled) return;
  for (int attempt = 1;; ++attempt) {
    Status settled = journaled->Settle();
    if (settled.ok()) return;
    if (attempt >= attempts) {
      throw std::runtime_error("the ledger's fold failed: " + settled.error().message);
    }
  }
}

std::string CommitText(TimeStore& store, std::vector<Change> changes,
                       std::vector<AgentRecord> agents) {
  Status status = store.Commit(CommitBatch{std::move(changes), std::move(agents)});
  return status.ok() ? "" : status.error().code + ": " + status.error().message;
}

std::string Describe(const Interval& interval) {
  return "#" + std::to_string(interval.id) + " " + interval.agent + " " + interval.label + " " +
         interval.reason_code + " " + std::string(reasoncodes::StatusName(interval.status)) + " " +
         std::string(reasoncodes::SourceName(interval.source)) + " " + interval.cause + " [" +
         FormatTime(interval.start) + ", " +
         (interval.end ? FormatTime(*interval.end) : std::string("open")) + ")";
}

std::vector<std::string> Describe(const std::vector<Interval>& intervals) {
  std::vector<std::string> lines;
  for (const Interval& interval : intervals) lines.push_back(Describe(interval));
  return lines;
}

std::vector<std::string> Describe(const std::vector<Total>& totals) {
  std::vector<std::string> lines;
  for (const Total& total : totals) {
    lines.push_back(total.agent + "|" + total.label + "|" +
                    std::to_string(reasoncodes::ToInt(total.status)) + "|" +
                    std::to_string(total.duration.count()));
  }
  return lines;
}

std::vector<Interval> IntervalsOrThrow(TimeStore& store, const std::optional<std::string>& agent,
                                       Timestamp from, Timestamp to) {
  auto result = store.Intervals(agent, from, to);
  if (!result.ok()) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

std::vector<Total> TotalsOrThrow(TimeStore& store, const TotalsQuery& query) {
  auto result = store.Totals(query);
  if (!result.ok()) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

GeneratedHistory CommitGeneratedHistory(TimeStore& store, uint64_t seed) {
  Random random(seed);
  GeneratedHistory history;
  history.agents = {"alice", "bob", "carol", "dave"};
  Timestamp begin = T("2026-11-19T00:00:00Z");
  std::vector<Change> changes =
      GenerateChanges(random, history.agents, begin, begin + std::chrono::days(5));
  for (size_t next = 0; next < changes.size();) {
    size_t count = std::min<size_t>(random.Between(1, 25), changes.size() - next);
    std::vector<Change> batch(changes.begin() + next, changes.begin() + next + count);
    std::string error = CommitText(store, std::move(batch));
    if (!error.empty()) throw std::runtime_error("generated batch refused: " + error);
    next += count;
  }
  history.intervals = ExpectedLedger(changes);
  history.first = changes.front().at;
  history.last = changes.back().at;
  return history;
}

std::vector<std::string> ExpectedTotals(const std::vector<Interval>& intervals,
                                        const TotalsQuery& query) {
  std::map<std::tuple<std::string, std::string, int>, int64_t> sums;
  for (const Interval& interval : intervals) {
    if (query.agent && interval.agent != *query.agent) continue;
    Timestamp end = interval.end ? *interval.end : std::min(query.now, query.to);
    Timestamp lo = std::max(interval.start, query.from);
    Timestamp hi = std::min(end, query.to);
    if (hi <= lo) continue;
    sums[{interval.agent, interval.label, reasoncodes::ToInt(interval.status)}] +=
        (hi - lo).count();
  }
  std::vector<std::string> lines;
  for (const auto& [key, ms] : sums) {
    const auto& [agent, label, status] = key;
    lines.push_back(agent + "|" + label + "|" + std::to_string(status) + "|" + std::to_string(ms));
  }
  return lines;
}

std::vector<std::string> ExpectedIntervals(const std::vector<Interval>& intervals,
                                           const std::optional<std::string>& agent, Timestamp from,
                                           Timestamp to) {
  std::vector<Interval> found;
  for (const Interval& interval : intervals) {
    if (agent && interval.agent != *agent) continue;
    bool starts_inside = interval.start >= from && interval.start < to;
    bool runs_into = interval.start < from && (!interval.end || *interval.end > from);
    if (from < to && (starts_inside || runs_into)) found.push_back(interval);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Interval& a, const Interval& b) { return a.start < b.start; });
  return Describe(found);
}

void WriteNewerSchemaFile(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("CREATE TABLE something_new (x); PRAGMA user_version = " +
          std::to_string(kLedgerSchemaVersion + 1));
}

namespace {

std::string StatesText(const std::vector<StateTime>& states) {
  std::string text;
  for (const StateTime& state : states) {
    text += " " + state.label + "/" + state.reason_code + "/" +
            std::to_string(reasoncodes::ToInt(state.status)) + "=" +
            std::to_string(state.duration.count());
  }
  return text;
}

class RecordingSink final : public ReportSink {
 public:
  void Bucket(const BucketFigures& figures) override {
    events.push_back("bucket " + figures.agent + " [" + FormatTime(figures.bucket_start) + ", " +
                     FormatTime(figures.bucket_end) + ") " +
                     std::to_string(figures.covered.count()) + StatesText(figures.states));
  }
  void UserTotals(const UserFigures& figures) override {
    events.push_back("totals " + figures.agent + " " + std::to_string(figures.covered.count()) +
                     StatesText(figures.states));
  }
  std::vector<std::string> events;
};

class BuilderFeed final : public IntervalVisitor {
 public:
  explicit BuilderFeed(ReportBuilder& builder) : builder_(builder) {}
  bool BeginUser(const std::string& agent) override {
    builder_.BeginUser(agent);
    return true;
  }
  bool Add(const Interval& interval) override {
    builder_.Add(interval);
    return true;
  }

 private:
  ReportBuilder& builder_;
};

}  // namespace

ReportZone TestZone(const std::string& name) {
  Result<ReportZone> zone = ReportZone::Find(name);
  if (!zone.ok()) throw std::runtime_error("zone missing from tzdata: " + name);
  return *zone;
}

std::vector<std::string> ReportViaIntervals(TimeStore& store, const ReportSpec& spec,
                                            const std::vector<std::string>& users) {
  RecordingSink sink;
  ReportBuilder builder(spec, sink);
  BuilderFeed feed(builder);
  Status status = store.ScanIntervals(IntervalScan{spec.from, spec.to, users}, feed);
  if (!status.ok()) throw std::runtime_error(status.error().message);
  builder.Finish();
  return sink.events;
}

std::vector<std::string> ReportViaAggregates(TimeStore& store, const ReportSpec& spec,
                                             const std::vector<std::string>& users,
                                             AggregateReportProgress* progress) {
  RecordingSink sink;
  auto snapshot = store.OpenAggregates();
  if (!snapshot.ok()) throw std::runtime_error(snapshot.error().message);
  Status status =
      BuildAggregateReport(spec, users, **snapshot, sink, [&](const AggregateReportProgress& done) {
        if (progress) *progress = done;
        return true;
      });
  if (!status.ok()) throw std::runtime_error(status.error().message);
  return sink.events;
}

}  // namespace presence::tracking::test
