#include "tracking/sqlite/sqlite_ledger_reader.h"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "tracking/day_aggregate.h"
#include "tracking/sqlite/sqlite_schema.h"
#include "tracking/sqlite/sqlite_sync_state.h"

namespace presence::tracking {
namespace {

std::string IntervalQuery(const char* rest) {
  return std::string("SELECT ") + kIntervalColumns + " " + rest;
}

SQLite::Database OpenReader(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  PrepareLedgerReader(db);
  return db;
}

// Runs `body` under the reader lock; storage failures become Error values.
template <class T, class Body>
Result<T> Guarded(std::mutex& mutex, Body&& body) {
  std::lock_guard lock(mutex);
  try {
    return body();
  } catch (const std::exception& e) {
    return Error{"storage_error", StorageFailureText(e)};
  }
}

}  // namespace

Interval ReadIntervalRow(SQLite::Statement& row, int first) {
  Interval interval;
  interval.id = row.getColumn(first).getInt64();
  interval.agent = row.getColumn(first + 1).getString();
  interval.label = row.getColumn(first + 2).getString();
  interval.reason_code = row.getColumn(first + 3).getString();
  auto status = reasoncodes::StatusFromInt(row.getColumn(first + 4).getInt64());
  auto source = reasoncodes::SourceFromName(row.getColumn(first + 5).getString());
  if (!status || !source) {
    throw std::runtime_error("interval " + std::to_string(interval.id) +
                             " has an unknown status or source");
  }
  interval.status = *status;
  interval.source = *source;
  interval.cause = row.getColumn(first + 6).getString();
  interval.start = FromEpochMillis(row.getColumn(first + 7).getInt64());
  if (!row.getColumn(first + 8).isNull()) {
    interval.end = FromEpochMillis(row.getColumn(first + 8).getInt64());
  }
  return interval;
}

namespace {

void ReadText(sqlite3_stmt* row, int column, std::string& text) {
  const unsigned char* data = sqlite3_column_text(row, column);
  if (data == nullptr) {  // NULL, as getString reads it
    text.clear();
    return;
  }
  // Bytes after text: sqlite3_column_bytes counts what sqlite3_column_text converted.
  text.assign(reinterpret_cast<const char*>(data), sqlite3_column_bytes(row, column));
}

}  // namespace

void ReadIntervalRow(sqlite3_stmt* row, int first, Interval& interval) {
  interval.id = sqlite3_column_int64(row, first);
  ReadText(row, first + 1, interval.agent);
  ReadText(row, first + 2, interval.label);
  ReadText(row, first + 3, interval.reason_code);
  auto status = reasoncodes::StatusFromInt(sqlite3_column_int64(row, first + 4));
  const unsigned char* source_text = sqlite3_column_text(row, first + 5);
  auto source = reasoncodes::SourceFromName(
      source_text ? std::string_view(reinterpret_cast<const char*>(source_text),
                                     sqlite3_column_bytes(row, first + 5))
                  : std::string_view());
  if (!status || !source) {
    throw std::runtime_error("interval " + std::to_string(interval.id) +
                             " has an unknown status or source");
  }
  interval.status = *status;
  interval.source = *source;
  ReadText(row, first + 6, interval.cause);
  interval.start = FromEpochMillis(sqlite3_column_int64(row, first + 7));
  if (sqlite3_column_type(row, first + 8) == SQLITE_NULL) {
    interval.end.reset();
  } else {
    interval.end = FromEpochMillis(sqlite3_column_int64(row, first + 8));
  }
}

SqliteLedgerReader::SqliteLedgerReader(const std::string& path)
    : db_(OpenReader(path)),
      starting_in_range_{
          {db_, IntervalQuery("FROM intervals i WHERE i.start_ms >= :from AND i.start_ms < :to")},
          {db_, IntervalQuery("FROM intervals i WHERE i.agent = :agent AND i.start_ms >= :from "
                              "AND i.start_ms < :to")}},
      // Per-user continuity means the latest interval starting before a moment is the only one
      // that can cover it; the (agent, start_ms) index finds it in one step.
      covering_{{db_, IntervalQuery("FROM agents a JOIN intervals i ON i.id = (SELECT c.id FROM "
                                    "intervals c WHERE c.agent = a.agent AND c.start_ms < :at "
                                    "ORDER BY c.start_ms DESC, c.id DESC LIMIT 1)")},
                {db_, IntervalQuery("FROM intervals i WHERE i.agent = :agent AND i.start_ms < "
                                    ":at ORDER BY i.start_ms DESC, i.id DESC LIMIT 1")}},
      open_before_{{db_, IntervalQuery("FROM agents a JOIN intervals i ON i.id = "
                                       "a.open_interval_id WHERE i.start_ms < :before")},
                   {db_, IntervalQuery("FROM agents a JOIN intervals i ON i.id = "
                                       "a.open_interval_id WHERE a.agent = :agent AND "
                                       "i.start_ms < :before")}},
      load_agents_(db_,
                   "SELECT a.agent, a.engine_state, i.id, i.agent, i.label, i.reason_code, "
                   "i.status, i.source, i.cause, i.start_ms, i.end_ms FROM agents a LEFT JOIN "
                   "intervals i ON i.id = a.open_interval_id ORDER BY a.agent") {}

SQLite::Statement& SqliteLedgerReader::Begin(QueryPair& pair,
                                             const std::optional<std::string>& agent) {
  SQLite::Statement& statement = agent ? pair.one : pair.all;
  // tryReset: after a failed step, reset() would throw that old error again.
  statement.tryReset();
  statement.clearBindings();
  if (agent) statement.bind(":agent", *agent);
  return statement;
}

Result<std::vector<StoredAgent>> SqliteLedgerReader::LoadAgents() {
  return Guarded<std::vector<StoredAgent>>(mutex_, [&] {
    std::vector<StoredAgent> agents;
    load_agents_.tryReset();
    while (load_agents_.executeStep()) {
      StoredAgent agent{load_agents_.getColumn(0).getString(),
                        load_agents_.getColumn(1).getString(), std::nullopt};
      if (!load_agents_.getColumn(2).isNull()) agent.open = ReadIntervalRow(load_agents_, 2);
      agents.push_back(std::move(agent));
    }
    load_agents_.tryReset();
    return agents;
  });
}

void SqliteLedgerReader::CollectOverlapping(const std::optional<std::string>& agent, Timestamp from,
                                            Timestamp to, std::vector<Interval>& out) {
  SQLite::Statement& covering = Begin(covering_, agent);
  covering.bind(":at", ToEpochMillis(from));
  while (covering.executeStep()) {
    Interval interval = ReadIntervalRow(covering, 0);
    if (!interval.end || *interval.end > from) out.push_back(std::move(interval));
  }
  SQLite::Statement& starting = Begin(starting_in_range_, agent);
  starting.bind(":from", ToEpochMillis(from));
  starting.bind(":to", ToEpochMillis(to));
  while (starting.executeStep()) out.push_back(ReadIntervalRow(starting, 0));
}

Result<std::vector<Interval>> SqliteLedgerReader::Intervals(const std::optional<std::string>& agent,
                                                            Timestamp from, Timestamp to) {
  if (to <= from) return std::vector<Interval>{};
  return Guarded<std::vector<Interval>>(mutex_, [&] {
    SQLite::Transaction snapshot(db_);
    std::vector<Interval> found;
    CollectOverlapping(agent, from, to, found);
    snapshot.commit();
    std::sort(found.begin(), found.end(), [](const Interval& a, const Interval& b) {
      return a.start != b.start ? a.start < b.start : a.id < b.id;
    });
    return found;
  });
}

void SqliteLedgerReader::AddPartialRegion(const TotalsQuery& query, Timestamp from, Timestamp to,
                                          TotalsBuilder& totals) {
  if (to <= from) return;
  std::vector<Interval> overlapping;
  CollectOverlapping(query.agent, from, to, overlapping);
  for (const Interval& interval : overlapping) {
    Millis time = Overlap(interval.start, CountedEnd(interval, query), from, to);
    totals.Add(interval.agent, interval.label, interval.status, time);
  }
}

SQLite::Statement& SqliteLedgerReader::BeginDays(std::optional<QueryPair>& pair, const char* all,
                                                 const char* one,
                                                 const std::optional<std::string>& agent,
                                                 Timestamp from, Timestamp to) {
  if (!pair) pair.emplace(QueryPair{{db_, all}, {db_, one}});
  SQLite::Statement& statement = Begin(*pair, agent);
  statement.bind(":first", UtcDayNumber(from));
  statement.bind(":end", UtcDayNumber(to));
  return statement;
}

void SqliteLedgerReader::AddAggregatedDays(const TotalsQuery& query, Timestamp from, Timestamp to,
                                           TotalsBuilder& totals) {
  // The states the day rows name by id.
  std::unordered_map<int64_t, std::pair<std::string, StatusCode>> states;
  SQLite::Statement state_rows(db_, "SELECT id, label, status FROM states");
  while (state_rows.executeStep()) {
    auto status = reasoncodes::StatusFromInt(state_rows.getColumn(2).getInt64());
    if (!status) throw std::runtime_error("the states table holds an unknown status");
    states.emplace(state_rows.getColumn(0).getInt64(),
                   std::make_pair(state_rows.getColumn(1).getString(), *status));
  }
  SQLite::Statement& days = BeginDays(
      day_rows_, "SELECT agent, day, data FROM day_aggregates WHERE day >= :first AND day < :end",
      "SELECT agent, day, data FROM day_aggregates WHERE agent = :agent AND day >= :first AND day "
      "< :end",
      query.agent, from, to);
  DayAggregateView view;
  // Per user and state id over all the days, named once at the end.
  std::unordered_map<std::string, std::unordered_map<int64_t, int64_t>> sums;
  std::vector<std::pair<std::string, int64_t>> damaged;  // (agent, day)
  while (days.executeStep()) {
    const SQLite::Column data = days.getColumn(2);
    const std::string_view blob(static_cast<const char*>(data.getBlob()),
                                static_cast<size_t>(data.getBytes()));
    // The day's totals come first in its row: the quarters are not read. A row that fails its
    // checks, or names a state the ledger lacks, is damaged.
    bool readable = view.Parse(blob, /*with_quarters=*/false).ok();
    for (size_t i = 0; readable && i < view.size(); ++i) {
      readable = states.count(view.state(i)) != 0;
    }
    if (!readable) {
      damaged.emplace_back(days.getColumn(0).getString(), days.getColumn(1).getInt64());
      continue;
    }
    std::unordered_map<int64_t, int64_t>& user = sums[days.getColumn(0).getString()];
    for (size_t i = 0; i < view.size(); ++i) user[view.state(i)] += view.total(i).count();
  }
  days.tryReset();
  for (const auto& [agent, by_state] : sums) {
    for (const auto& [state, ms] : by_state) {
      const auto& [label, status] = states.at(state);
      totals.Add(agent, label, status, Millis(ms));
    }
  }
  // A damaged day row (the writer rebuilds it when it next writes that day): its closed time
  // from the intervals, as a report does.
  for (const auto& [agent, day] : damaged) {
    const Timestamp day_start = FromEpochMillis(day * kDayMs);
    const Timestamp day_end = day_start + std::chrono::days(1);
    std::vector<Interval> overlapping;
    CollectOverlapping(agent, day_start, day_end, overlapping);
    for (const Interval& interval : overlapping) {
      if (!interval.end) continue;  // open: counted with the open intervals below
      totals.Add(interval.agent, interval.label, interval.status,
                 Overlap(interval.start, *interval.end, day_start, day_end));
    }
  }
}

void SqliteLedgerReader::AddDailyTotals(const TotalsQuery& query, Timestamp from, Timestamp to,
                                        TotalsBuilder& totals) {
  SQLite::Statement& daily = BeginDays(
      daily_totals_,
      "SELECT agent, label, status, SUM(ms) FROM daily_totals WHERE day >= :first AND day < :end "
      "GROUP BY agent, label, status",
      "SELECT agent, label, status, SUM(ms) FROM daily_totals WHERE agent = :agent AND day >= "
      ":first AND day < :end GROUP BY agent, label, status",
      query.agent, from, to);
  while (daily.executeStep()) {
    auto status = reasoncodes::StatusFromInt(daily.getColumn(2).getInt64());
    if (!status) throw std::runtime_error("daily_totals holds an unknown status");
    totals.Add(daily.getColumn(0).getString(), daily.getColumn(1).getString(), *status,
               Millis(daily.getColumn(3).getInt64()));
  }
}

void SqliteLedgerReader::AddWholeDays(const TotalsQuery& query, Timestamp from, Timestamp to,
                                      TotalsBuilder& totals) {
  // Asked each time: the agent may upgrade the file while a report reads it.
  if (LedgerSchemaVersion(db_) >= kLedgerDayTotalsInAggregatesVersion) {
    AddAggregatedDays(query, from, to, totals);
  } else {
    AddDailyTotals(query, from, to, totals);
  }
  // Open intervals are not in the closed time yet: they count up to min(now, to).
  SQLite::Statement& open = Begin(open_before_, query.agent);
  open.bind(":before", ToEpochMillis(to));
  while (open.executeStep()) {
    Interval interval = ReadIntervalRow(open, 0);
    Millis time = Overlap(interval.start, CountedEnd(interval, query), from, to);
    totals.Add(interval.agent, interval.label, interval.status, time);
  }
}

Result<std::vector<Total>> SqliteLedgerReader::Totals(const TotalsQuery& query) {
  if (query.to <= query.from) return std::vector<Total>{};
  return Guarded<std::vector<Total>>(mutex_, [&] {
    SQLite::Transaction snapshot(db_);
    TotalsBuilder totals;
    Timestamp first_midnight = UtcDayCeil(query.from);
    Timestamp last_midnight = UtcDayStart(query.to);
    if (first_midnight >= last_midnight) {
      AddPartialRegion(query, query.from, query.to, totals);
    } else {
      AddPartialRegion(query, query.from, first_midnight, totals);
      AddWholeDays(query, first_midnight, last_midnight, totals);
      AddPartialRegion(query, last_midnight, query.to, totals);
    }
    snapshot.commit();
    return totals.Finish();
  });
}

Result<SyncState> SqliteLedgerReader::LoadSyncState(const std::string& target) {
  return Guarded<SyncState>(mutex_, [&] {
    SQLite::Transaction snapshot(db_);
    // Asked each time, not at open: the agent may upgrade the file while a report reads it.
    SyncState state;
    if (LedgerSchemaVersion(db_) >= kLedgerSyncStateVersion) state = ReadSyncState(db_, target);
    snapshot.commit();
    return state;
  });
}

}  // namespace presence::tracking
