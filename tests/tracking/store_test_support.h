#pragma once

// Helpers for running one suite of TimeStore behaviours against every implementation: a store
// of a named kind in a fresh directory, short ways to build and commit changes, and printable
// descriptions so failures show what differed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/temp_dir.h"
#include "tracking/report/aggregate_report.h"
#include "tracking/report/time_report.h"
#include "tracking/time_store.h"

namespace presence::tracking::test {

// A zone from the system's tzdata; throws std::runtime_error when it is missing.
ReportZone TestZone(const std::string& name);

// A report's ReportSink calls as text (buckets with their edges, totals, every state with its
// label, reason code, status and time), computed from the intervals (ReportBuilder over
// ScanIntervals) or from the store's pre-aggregated time (BuildAggregateReport; `progress`, when
// given, gets the last progress report). Throw std::runtime_error when the store fails.
std::vector<std::string> ReportViaIntervals(TimeStore& store, const ReportSpec& spec,
                                            const std::vector<std::string>& users);
std::vector<std::string> ReportViaAggregates(TimeStore& store, const ReportSpec& spec,
                                             const std::vector<std::string>& users,
                                             AggregateReportProgress* progress = nullptr);

// "sqlite" or "memory": the kinds every shared behaviour runs against.
const std::vector<std::string>& StoreKinds();

class StoreUnderTest {
 public:
  // Throws std::runtime_error when the store cannot be opened.
  explicit StoreUnderTest(const std::string& kind);

  TimeStore& operator*() { return *store_; }
  TimeStore* operator->() { return store_.get(); }
  const std::string& kind() const { return kind_; }
  // The database file of a "sqlite" store.
  std::string path() const { return dir_.File("ledger.db"); }
  // Closes the store and opens the same file again ("sqlite" only).
  void Reopen();
  // Closes the store, e.g. before a test opens the file with another connection.
  void Close() { store_.reset(); }

 private:
  std::string kind_;
  presence::testing::TempDir dir_;
  std::unique_ptr<TimeStore> store_;
};

// "2026-11-21T09:30:00.000Z" or any form ParseTime accepts; throws on bad text.
Timestamp T(const std::string& text);

constexpr Millis kMinute = std::chrono::minutes(1);
constexpr Millis kHour = std::chrono::hours(1);
constexpr Millis kDay = std::chrono::days(1);

// One of a small fixed catalog: "Ready", "Lunch", "Meeting", "On a call", "Wrap-up", "Away",
// "Logged out", each with its own reason code and status.
Change MakeChange(const std::string& agent, const std::string& at, const std::string& label);
Change MakeChangeAt(const std::string& agent, Timestamp at, const std::string& label);

// Waits until a SQLite store's tables hold every commit so far (its change journal folded), as
// before another connection reads or changes the file; nothing for other stores. Throws
// std::runtime_error with the fold's error after `attempts` failed folds.
void SettleOrThrow(TimeStore& store, int attempts = 1);

// Commits and returns "" on success, or "code: message".
std::string CommitText(TimeStore& store, std::vector<Change> changes,
                       std::vector<AgentRecord> agents = {});

// Two batches: a: Ready 08:00, Lunch 09:00, Ready 09:45, Logged out 12:00 (open); b: Meeting
// 08:30, Ready 10:00 (open), all on 2026-11-21 (ids 1 to 6 in commit order). Throws
// std::runtime_error when a commit fails.
void CommitTwoUsers(TimeStore& store);

// "#3 alice Lunch *61 Away agent select [2026-...Z, 2026-...Z)" ("open" for an open end).
std::string Describe(const Interval& interval);
std::vector<std::string> Describe(const std::vector<Interval>& intervals);
// "alice|Lunch|3|1800000" (agent, label, status number, milliseconds).
std::vector<std::string> Describe(const std::vector<Total>& totals);

// Unwraps a query result; throws std::runtime_error with the store's error otherwise.
std::vector<Interval> IntervalsOrThrow(TimeStore& store, const std::optional<std::string>& agent,
                                       Timestamp from, Timestamp to);
std::vector<Total> TotalsOrThrow(TimeStore& store, const TotalsQuery& query);

// A deterministic pseudo-random history: four users over about five days, with gaps from zero
// to sixty hours, committed in batches of 1 to 25 changes in time order.
struct GeneratedHistory {
  std::vector<Interval> intervals;  // what the store must now hold, ids in commit order
  std::vector<std::string> agents;
  Timestamp first;  // the earliest change
  Timestamp last;   // the latest change
};
GeneratedHistory CommitGeneratedHistory(TimeStore& store, uint64_t seed);

// Brute force over a known list of intervals, independent of any store: what Totals and
// Intervals must answer.
std::vector<std::string> ExpectedTotals(const std::vector<Interval>& intervals,
                                        const TotalsQuery& query);
std::vector<std::string> ExpectedIntervals(const std::vector<Interval>& intervals,
                                           const std::optional<std::string>& agent, Timestamp from,
                                           Timestamp to);

// Records a scan as text: "user <agent>" for BeginUser, Describe(interval) for Add. With
// `stop_after`, the call that makes the record that long returns false (asks to stop).
class RecordingVisitor : public IntervalVisitor {
 public:
  explicit RecordingVisitor(std::optional<size_t> stop_after = std::nullopt)
      : stop_after_(stop_after) {}
  bool BeginUser(const std::string& agent) override { return Record("user " + agent); }
  bool Add(const Interval& interval) override {
    intervals_.push_back(interval);
    return Record(Describe(interval));
  }
  const std::vector<std::string>& lines() const { return lines_; }
  const std::vector<Interval>& intervals() const { return intervals_; }

 private:
  bool Record(std::string line);

  std::optional<size_t> stop_after_;
  std::vector<std::string> lines_;
  std::vector<Interval> intervals_;
};

// Runs the scan to the end; throws std::runtime_error with the store's error otherwise.
std::vector<std::string> ScanText(TimeStore& store, const IntervalScan& scan);
// What a scan of `agents` must record, built from the same store's Intervals() per user.
std::vector<std::string> ExpectedScan(TimeStore& store, const std::vector<std::string>& agents,
                                      Timestamp from, Timestamp to);

SyncedFigure Figure(const std::string& key, const std::string& day, int64_t ms, bool final = false);
// "done_through 2026-11-20" (or "done_through none"), then "key|day|ms|final" per figure.
std::vector<std::string> Describe(const SyncState& state);
// LoadSyncState described; throws std::runtime_error with the store's error.
std::vector<std::string> SyncStateText(TimeStore& store, const std::string& target);
// SaveSyncState: "" on success, or "code: message".
std::string SaveText(TimeStore& store, const std::string& target,
                     const std::vector<SyncedFigure>& figures,
                     const std::optional<std::string>& done_through = std::nullopt);

// Writes a ledger at `path` as a schema version 2 program left it: the intervals of
// Version2Intervals with their daily totals and open intervals, and two outbox rows (ids 1 and
// 2, connector "crm", the first two changes). Throws SQLite::Exception.
void WriteVersion2Ledger(const std::string& path);
// a: Ready 2026-11-20T22:00Z, Lunch 2026-11-21T02:00Z (open); b: Meeting 2026-11-21T08:00Z,
// Away 09:00Z (open); ids 1 to 4 in that order.
std::vector<Interval> Version2Intervals();

// Creates a database at `path` as a newer program would leave it: schema version
// kLedgerSchemaVersion + 1 and a table this program does not know. Throws SQLite::Exception.
void WriteNewerSchemaFile(const std::string& path);

}  // namespace presence::tracking::test
