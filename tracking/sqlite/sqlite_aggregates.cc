#include "tracking/sqlite/sqlite_aggregates.h"

#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <optional>
#include <stdexcept>

#include "tracking/sqlite/sqlite_ledger_reader.h"
#include "tracking/sqlite/sqlite_schema.h"

namespace presence::tracking {
namespace {

// Days held in memory by the upgrade before they are written: about 3 KB each at most, so a few
// MB whatever the history.
constexpr size_t kFillChunk = 2048;

std::string StateText(const std::string& label, const std::string& reason_code, StatusCode status) {
  return std::to_string(label.size()) + ":" + label + std::to_string(reasoncodes::ToInt(status)) +
         ":" + reason_code;
}

StatusCode ReadStatus(const SQLite::Column& column) {
  auto status = reasoncodes::StatusFromInt(column.getInt64());
  if (!status) throw std::runtime_error("an interval has an unknown status");
  return *status;
}

std::string_view BlobOf(const SQLite::Column& column) {
  return {static_cast<const char*>(column.getBlob()), static_cast<size_t>(column.getBytes())};
}

// "5,840,000"
std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Logs a progress line whenever another 5% of the intervals is done.
class FillProgress {
 public:
  FillProgress(const LogSink& log, int64_t total) : log_(log), total_(total) {}
  void Step(int64_t done) {
    if (!log_ || total_ == 0 || done * 100 < next_percent_ * total_) return;
    const int64_t percent = done * 100 / total_;
    log_(LogLevel::kInfo, "building report aggregates: " + Grouped(done) + " of " +
                              Grouped(total_) + " intervals (" + std::to_string(percent) + "%)");
    next_percent_ = percent / 5 * 5 + 5;
  }

 private:
  const LogSink& log_;
  int64_t total_;
  int64_t next_percent_ = 5;
};

class SqliteAggregateSnapshot final : public AggregateSnapshot {
 public:
  explicit SqliteAggregateSnapshot(const std::string& path) : db_(path, SQLite::OPEN_READONLY) {
    PrepareLedgerReader(db_);
  }

  // Takes the snapshot; false when the ledger has no aggregates yet.
  bool Begin() {
    read_.emplace(db_);
    // The snapshot is taken at the first read: the version read here is the snapshot's.
    if (LedgerSchemaVersion(db_) < kLedgerAggregatesVersion) return false;
    const std::string columns = std::string("SELECT ") + kIntervalColumns + " FROM ";
    open_.emplace(db_, columns +
                           "agents a JOIN intervals i ON i.id = a.open_interval_id WHERE "
                           "a.agent = ?");
    covering_.emplace(db_, columns +
                               "intervals i WHERE i.agent = ? AND i.start_ms < ? ORDER BY "
                               "i.start_ms DESC, i.id DESC LIMIT 1");
    starting_.emplace(db_, columns +
                               "intervals i WHERE i.agent = ? AND i.start_ms >= ? AND "
                               "i.start_ms < ? ORDER BY i.start_ms, i.id");
    days_.emplace(db_,
                  "SELECT day, data FROM day_aggregates WHERE agent = ? AND day >= ? AND day < ? "
                  "ORDER BY day");
    return true;
  }

  Result<std::vector<StateKey>> States() override {
    return Guard<std::vector<StateKey>>([&] {
      std::vector<StateKey> states;
      SQLite::Statement rows(db_, "SELECT id, label, reason_code, status FROM states");
      while (rows.executeStep()) {
        states.push_back(StateKey{rows.getColumn(0).getInt64(), rows.getColumn(1).getString(),
                                  rows.getColumn(2).getString(), ReadStatus(rows.getColumn(3))});
      }
      return states;
    });
  }

  Result<std::optional<Interval>> OpenInterval(const std::string& agent) override {
    return Guard<std::optional<Interval>>([&]() -> std::optional<Interval> {
      Reuse(*open_).bind(1, agent);
      if (!open_->executeStep()) return std::nullopt;
      return ReadIntervalRow(*open_, 0);
    });
  }

  Status Intervals(const std::string& agent, Timestamp from, Timestamp to,
                   const std::function<bool(const Interval&)>& visit) override {
    return Guard<bool>([&] {
             if (to <= from) return true;
             Reuse(*covering_).bind(1, agent);
             covering_->bind(2, ToEpochMillis(from));
             if (covering_->executeStep()) {
               Interval interval = ReadIntervalRow(*covering_, 0);
               if ((!interval.end || *interval.end > from) && !visit(interval)) return false;
             }
             Reuse(*starting_).bind(1, agent);
             starting_->bind(2, ToEpochMillis(from));
             starting_->bind(3, ToEpochMillis(to));
             while (starting_->executeStep()) {
               if (!visit(ReadIntervalRow(*starting_, 0))) return false;
             }
             return true;
           })
        .status();
  }

  Status Days(const std::string& agent, int64_t first_day, int64_t end_day,
              const std::function<bool(int64_t, std::string_view)>& visit) override {
    return Guard<bool>([&] {
             Reuse(*days_).bind(1, agent);
             days_->bind(2, first_day);
             days_->bind(3, end_day);
             while (days_->executeStep()) {
               if (!visit(days_->getColumn(0).getInt64(), BlobOf(days_->getColumn(1)))) {
                 return false;
               }
             }
             return true;
           })
        .status();
  }

 private:
  template <class T, class Body>
  Result<T> Guard(Body&& body) {
    try {
      return body();
    } catch (const std::exception& e) {
      return Error{"storage_error", "cannot read the report aggregates: " + StorageFailureText(e)};
    }
  }

  SQLite::Database db_;
  std::optional<SQLite::Transaction> read_;  // after db_, before the statements
  std::optional<SQLite::Statement> open_;
  std::optional<SQLite::Statement> covering_;
  std::optional<SQLite::Statement> starting_;
  std::optional<SQLite::Statement> days_;
};

}  // namespace

SqliteAggregateWriter::SqliteAggregateWriter(SQLite::Database& db)
    : db_(db),
      insert_state_(db, "INSERT INTO states (label, reason_code, status) VALUES (?, ?, ?)"),
      read_day_(db, "SELECT data FROM day_aggregates WHERE agent = ? AND day = ?"),
      write_day_(db,
                 "INSERT INTO day_aggregates (agent, day, data) VALUES (?, ?, ?) ON CONFLICT "
                 "(agent, day) DO UPDATE SET data = excluded.data"),
      covering_(db,
                "SELECT label, reason_code, status, start_ms, end_ms FROM intervals WHERE agent "
                "= ? AND start_ms < ? ORDER BY start_ms DESC, id DESC LIMIT 1"),
      starting_(db,
                "SELECT label, reason_code, status, start_ms, end_ms FROM intervals WHERE agent "
                "= ? AND start_ms >= ? AND start_ms < ? AND end_ms IS NOT NULL") {}

void SqliteAggregateWriter::LoadStates() {
  states_.clear();
  SQLite::Statement rows(db_, "SELECT id, label, reason_code, status FROM states");
  while (rows.executeStep()) {
    states_[StateText(rows.getColumn(1).getString(), rows.getColumn(2).getString(),
                      ReadStatus(rows.getColumn(3)))] = rows.getColumn(0).getInt64();
  }
  states_valid_ = true;
}

int64_t SqliteAggregateWriter::StateId(const std::string& label, const std::string& reason_code,
                                       StatusCode status) {
  if (!states_valid_) LoadStates();
  std::string key = StateText(label, reason_code, status);
  if (auto it = states_.find(key); it != states_.end()) return it->second;
  if (auto it = new_states_.find(key); it != new_states_.end()) return it->second;
  Reuse(insert_state_).bind(1, label);
  insert_state_.bind(2, reason_code);
  insert_state_.bind(3, reasoncodes::ToInt(status));
  insert_state_.exec();
  const int64_t id = db_.getLastInsertRowid();
  new_states_.emplace(std::move(key), id);
  return id;
}

void SqliteAggregateWriter::AddClosed(const std::string& agent, const std::string& label,
                                      const std::string& reason_code, StatusCode status,
                                      Timestamp start, Timestamp end) {
  if (end <= start) return;
  const int64_t state = StateId(label, reason_code, status);
  ForEachUtcDayPiece(start, end, [&](int64_t day, Timestamp piece_start, Timestamp piece_end) {
    pending_[{agent, day}].Add(day, state, piece_start, piece_end);
  });
}

DayAggregate SqliteAggregateWriter::RebuildDay(const std::string& agent, int64_t day) {
  const Timestamp day_start = FromEpochMillis(day * kDayMs);
  const Timestamp day_end = day_start + std::chrono::days(1);
  DayAggregate rebuilt;
  auto add = [&](SQLite::Statement& row) {
    if (row.getColumn(4).isNull()) return;
    const Timestamp start = std::max(day_start, FromEpochMillis(row.getColumn(3).getInt64()));
    const Timestamp end = std::min(day_end, FromEpochMillis(row.getColumn(4).getInt64()));
    const int64_t state = StateId(row.getColumn(0).getString(), row.getColumn(1).getString(),
                                  ReadStatus(row.getColumn(2)));
    rebuilt.Add(day, state, start, end);
  };
  // Both statements are reset however this ends: one left on a row would keep the writer's
  // connection reading its old snapshot after the commit, and the next write transaction would
  // fail (SQLITE_BUSY_SNAPSHOT) once another connection had committed.
  struct ResetBoth {
    SQLite::Statement& a;
    SQLite::Statement& b;
    ~ResetBoth() {
      a.tryReset();
      b.tryReset();
    }
  } reset{covering_, starting_};
  Reuse(covering_).bind(1, agent);
  covering_.bind(2, ToEpochMillis(day_start));
  if (covering_.executeStep()) add(covering_);
  Reuse(starting_).bind(1, agent);
  starting_.bind(2, ToEpochMillis(day_start));
  starting_.bind(3, ToEpochMillis(day_end));
  while (starting_.executeStep()) add(starting_);
  return rebuilt;
}

void SqliteAggregateWriter::Flush(bool rebuild_damaged) {
  for (const auto& [key, time] : pending_) {
    const auto& [agent, day] = key;
    DayAggregate row;
    bool rebuilt = false;
    Reuse(read_day_).bind(1, agent);
    read_day_.bind(2, day);
    if (read_day_.executeStep()) {
      Result<DayAggregate> stored = DayAggregate::Decode(BlobOf(read_day_.getColumn(0)));
      read_day_.tryReset();
      if (stored.ok()) {
        row = std::move(*stored);
      } else if (rebuild_damaged) {
        row = RebuildDay(agent, day);
        rebuilt = true;
      } else {
        throw std::runtime_error("agent '" + agent + "', day " + std::to_string(day) + ": " +
                                 stored.error().message);
      }
    }
    if (!rebuilt) row.Merge(time);
    if (row.empty()) continue;
    const std::string blob = row.Encode();
    Reuse(write_day_).bind(1, agent);
    write_day_.bind(2, day);
    write_day_.bind(3, blob.data(), static_cast<int>(blob.size()));
    write_day_.exec();
  }
  pending_.clear();
}

void SqliteAggregateWriter::Committed() {
  for (auto& entry : new_states_) states_.insert(std::move(entry));
  new_states_.clear();
  pending_.clear();
}

void SqliteAggregateWriter::RolledBack() {
  states_valid_ = false;
  new_states_.clear();
  pending_.clear();
}

void FillDayAggregates(SQLite::Database& db, const LogSink& log) {
  const auto began = std::chrono::steady_clock::now();
  const int64_t total = db.execAndGet("SELECT COUNT(*) FROM intervals").getInt64();
  if (log && total > 0) {
    log(LogLevel::kInfo, "upgrading the time ledger to schema 5: building report aggregates from " +
                             Grouped(total) + " intervals (once; reports read them from now on)");
  }
  SqliteAggregateWriter writer(db);
  FillProgress progress(log, total);
  // Commit order: each user's intervals come in time order, and the table is read in the order
  // it is stored.
  SQLite::Statement rows(db,
                         "SELECT agent, label, reason_code, status, start_ms, end_ms FROM "
                         "intervals ORDER BY id");
  int64_t done = 0;
  while (rows.executeStep()) {
    if (!rows.getColumn(5).isNull()) {
      writer.AddClosed(rows.getColumn(0).getString(), rows.getColumn(1).getString(),
                       rows.getColumn(2).getString(), ReadStatus(rows.getColumn(3)),
                       FromEpochMillis(rows.getColumn(4).getInt64()),
                       FromEpochMillis(rows.getColumn(5).getInt64()));
    }
    if (writer.pending() >= kFillChunk) writer.Flush(false);
    progress.Step(++done);
  }
  writer.Flush(false);
  if (log && total > 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    char text[64];
    std::snprintf(text, sizeof(text), "%.1f s", seconds);
    log(LogLevel::kInfo,
        "report aggregates built from " + Grouped(total) + " intervals in " + text);
  }
}

Result<std::unique_ptr<AggregateSnapshot>> OpenSqliteAggregates(const std::string& path) {
  try {
    auto snapshot = std::make_unique<SqliteAggregateSnapshot>(path);
    if (!snapshot->Begin()) {
      return Error{"not_available",
                   "the ledger '" + path + "' has no report aggregates yet (schema older than 5)"};
    }
    return std::unique_ptr<AggregateSnapshot>(std::move(snapshot));
  } catch (const std::exception& e) {
    return Error{"storage_error",
                 "cannot read the ledger '" + path + "': " + StorageFailureText(e)};
  }
}

}  // namespace presence::tracking
