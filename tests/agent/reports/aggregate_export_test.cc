// WriteReport's totals come from the ledger's aggregates where it keeps them, and are then the
// very bytes the interval path writes: the same history written by the SQLite writer, read
// back by the read-only store (the CLI's), by a copy not yet upgraded to schema 5, and by the
// in-memory store (which keeps no aggregates), gives one output per format and grouping.

#include <SQLiteCpp/SQLiteCpp.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/reports/report_export.h"
#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::agent {
namespace {

using tracking::test::MakeChange;
using tracking::test::T;

std::string Written(tracking::TimeStore& store, const ReportRequest& request) {
  std::ostringstream out;
  Status status = WriteReport(store, request, nullptr, out);
  if (!status.ok()) throw std::runtime_error(status.error().message);
  return out.str();
}

// Copies the ledger and takes the copy back to schema 4, as the last program version left it
// (its tables are those of version 4; the aggregates are what version 5 adds).
void CopyAsVersion4(const std::string& from, const std::string& to) {
  {
    SQLite::Database source(from, SQLite::OPEN_READWRITE);
    source.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  std::filesystem::copy_file(from, to);
  SQLite::Database copy(to, SQLite::OPEN_READWRITE);
  copy.exec("DROP TABLE day_aggregates; DROP TABLE states; PRAGMA user_version = 4");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(aggregate_export_test)

BOOST_AUTO_TEST_CASE(totals_from_aggregates_are_the_bytes_of_totals_from_intervals) {
  presence::testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  std::unique_ptr<tracking::TimeStore> memory = tracking::NewMemoryTimeStore();
  {
    auto writer = tracking::OpenSqliteTimeStore(path, tracking::Durability::kProcessCrash);
    BOOST_REQUIRE(writer.ok());
    for (tracking::TimeStore* store : {writer->get(), memory.get()}) {
      tracking::test::CommitGeneratedHistory(*store, 21);
      tracking::Change late = MakeChange("alice", "2026-11-30T23:50:00Z", "Lunch");
      BOOST_REQUIRE(tracking::test::CommitText(*store, {late}).empty());
    }
  }
  CopyAsVersion4(path, dir.File("old.db"));
  auto current = tracking::OpenSqliteTimeStoreReadOnly(path);
  auto old = tracking::OpenSqliteTimeStoreReadOnly(dir.File("old.db"));
  BOOST_REQUIRE(current.ok());
  BOOST_REQUIRE(old.ok());
  BOOST_REQUIRE((*current)->OpenAggregates().ok());
  BOOST_REQUIRE(!(*old)->OpenAggregates().ok());

  int reports = 0;
  for (const char* zone : {"Europe/Berlin", "Asia/Kolkata", "UTC"}) {
    for (tracking::Grouping grouping :
         {tracking::Grouping::kNone, tracking::Grouping::kDay, tracking::Grouping::kHour,
          tracking::Grouping::kQuarterHour}) {
      for (ReportFormat format : {ReportFormat::kJson, ReportFormat::kCsv, ReportFormat::kText}) {
        ReportRequest request;
        request.spec.zone = *tracking::ReportZone::Find(zone);
        // On a local midnight, and off the quarter-hour grid.
        request.spec.from = request.spec.zone.DayStart(T("2026-11-20T12:00:00Z")) +
                            Millis(format == ReportFormat::kJson ? 0 : 427123);
        request.spec.to = T("2026-12-02T00:00:00Z");
        request.spec.now = T("2026-11-22T13:14:15.161Z");
        request.spec.grouping = grouping;
        if (format == ReportFormat::kCsv) {
          request.spec.statuses = {reasoncodes::StatusCode::kAway};
        }
        request.users = {"alice", "bob", "carol", "dave", "nobody"};
        request.format = format;
        const std::string expected = Written(*memory, request);
        const std::string label =
            std::string(zone) + " " + std::string(tracking::GroupingName(grouping));
        BOOST_TEST(Written(**current, request) == expected, label);
        BOOST_TEST(Written(**old, request) == expected, label);
        ++reports;
      }
    }
  }
  BOOST_TEST(reports == 36);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
