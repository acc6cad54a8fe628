#pragma once

// Time reports for the HTTP API (GET /api/v1/reports/time, /api/v1/reports/intervals) and the
// CLI (presence-agent report): the parameters are read and checked once, here, for both; the
// ledger is then scanned user by user (TimeStore::ScanIntervals) and the figures written as
// they are computed (tracking/report/time_report.h), so an export of any size holds one user's
// current bucket in memory, never the whole range.
//
// Parameters (query string or command-line options, same names):
//   from, to    required; ISO-8601 with Z or an offset, or a local date/time in the report's
//               zone ("2026-11-21", "2026-11-21T08:00"); to is exclusive
//   group_by    none (default), day, hour, 30min, 15min
//   time_zone   IANA name; default settings.time_zone
//   user        comma-separated user ids (default: every configured user and every user in
//               the ledger)
//   team        comma-separated teams (users of those teams)
//   status      comma-separated status codes or names (1-7, Online, Offline, Away, DND, Busy,
//               "On a call", Logout; case, spaces and underscores ignored; also OnCall,
//               do_not_disturb, available, logged_out): only states with those statuses
//   format      json (default) or csv; the CLI also has text (totals only)

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "common/result.h"
#include "tracking/report/time_report.h"
#include "tracking/time_store.h"

namespace presence::agent {

enum class ReportFormat { kJson, kCsv, kText };
enum class ReportKind {
  kTotals,  // seconds per user per state (per bucket when grouped), totals and percentages
  kDetail,  // every interval (piece, when grouped) with its source and cause
};

struct ReportRequest {
  ReportKind kind = ReportKind::kTotals;
  tracking::ReportSpec spec;
  std::vector<std::string> users;  // the users reported, by id
  ReportFormat format = ReportFormat::kJson;
};

// Everything the parameters are checked against.
struct ReportContext {
  const Config* config = nullptr;         // users (names, teams), default time zone
  std::vector<std::string> ledger_users;  // users the ledger knows (TimeStore::LoadAgents)
  Timestamp now;
  bool allow_text = false;  // the CLI's format=text
};

// Reads `params` (name, value; in the order given). Errors, with the parameter and what is
// allowed in the message: "missing_parameter", "invalid_parameter" (also an unknown or
// repeated parameter, a bad time zone, a range with to <= from), "unknown_user" and
// "unknown_team" (with the closest known name).
Result<ReportRequest> ReadReportRequest(
    const std::vector<std::pair<std::string, std::string>>& params, ReportKind kind,
    const ReportContext& context);

// HTTP status for a ReadReportRequest error: 404 for unknown_user/unknown_team, else 400.
int ReportErrorStatus(const Error& error);

// How far an export got, for the CLI's progress line.
struct ReportProgress {
  std::size_t users_done = 0;
  std::size_t users_total = 0;
  long long intervals = 0;
};

// Scans the ledger and writes the report to `out` as it goes. `progress` (may be empty) is
// called after each user and every 65,536 intervals. Stops early, returning Ok, when `out`
// fails (the client went away). Errors from the store come back as they are; by then part of
// the report may have been written.
Status WriteReport(tracking::TimeStore& store, const ReportRequest& request, const Config* config,
                   std::ostream& out,
                   const std::function<void(const ReportProgress&)>& progress = {});

// "time-report-2026-11-01-2026-12-01.csv": a download name for Content-Disposition.
std::string ReportFileName(const ReportRequest& request);
std::string ReportContentType(ReportFormat format);

}  // namespace presence::agent
