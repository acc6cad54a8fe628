// Report exports byte for byte (pinned from the writers before issue 17's rewrite): escaping
// of names, labels, reason codes and causes (quotes, commas, line breaks, formula text,
// non-ASCII) in every format, the same value repeated across rows and users, more distinct
// states than a writer keeps at hand, DST, +05:45, -03:30 and 30-minute-DST zones; the head
// reaching the client before the ledger is read; a stream that fails stops the export.

#include "agent/reports/report_export.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "tests/fakes/temp_dir.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"

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

// The sample ledger in memory, or (with `dir`) in a SQLite ledger there: the scan reads rows
// through SQLite's C interface, and both must give the same bytes.
std::unique_ptr<tracking::TimeStore> MakeStore(const testing::TempDir* dir = nullptr) {
  std::unique_ptr<tracking::TimeStore> store;
  if (dir == nullptr) {
    store = tracking::NewMemoryTimeStore();
  } else {
    auto opened =
        tracking::OpenSqliteTimeStore(dir->File("ledger.db"), tracking::Durability::kProcessCrash);
    if (!opened.ok()) BOOST_FAIL(opened.error().message);
    store = std::move(*opened);
  }
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
      add(MakeChange("u3", at, "Ready", "1", StatusCode::kOnline,
                     "cause \xE2\x82\xAC" + std::to_string(i)));
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
                          const std::string& zone, const Config& config,
                          std::vector<std::string> ledger_users = {"u1", "u2", "u3"}) {
  ReportContext context{.config = &config,
                        .ledger_users = std::move(ledger_users),
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
                   const std::string& zone, bool sqlite = false) {
  Config config = MakeConfig();
  testing::TempDir dir;
  auto store = MakeStore(sqlite ? &dir : nullptr);
  std::ostringstream out;
  Status status =
      WriteReport(*store, MakeRequest(kind, format, group_by, zone, config), &config, out);
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

// A stream as an HTTP answer sees it: bytes reach the client only when flushed (sync), as
// with a chunked answer; it can fail after a number of bytes, as when the client goes away.
class ClientStream : public std::streambuf {
 public:
  std::string received;  // what the writer handed over
  std::size_t sent = 0;  // what a flush sent on (the first `sent` bytes of received)
  std::size_t fail_after = std::string::npos;

 protected:
  std::streamsize xsputn(const char* text, std::streamsize count) override {
    if (received.size() + static_cast<std::size_t>(count) > fail_after) return 0;
    received.append(text, static_cast<std::size_t>(count));
    return count;
  }
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    if (received.size() + 1 > fail_after) return traits_type::eof();
    received += static_cast<char>(c);
    return c;
  }
  int sync() override {
    sent = received.size();
    return 0;
  }
};

std::vector<std::string> UserIds(int users) {
  std::vector<std::string> ids;
  for (int u = 0; u < users; ++u) ids.push_back("u" + std::to_string(u));
  return ids;
}

// A ledger of `users` users (u0, u1, ...) with `changes` intervals each, 10 minutes apart, in
// the report's range.
std::unique_ptr<tracking::TimeStore> MakeBigStore(int users, int changes) {
  auto store = tracking::NewMemoryTimeStore();
  tracking::CommitBatch batch;
  for (int c = 0; c < changes; ++c) {
    for (int u = 0; u < users; ++u) {
      tracking::Change change =
          MakeChange("u" + std::to_string(u), "2025-03-30T00:00:00Z", c % 2 ? "Ready" : "Break",
                     "1", StatusCode::kOnline, "select");
      change.at += std::chrono::seconds(c * 600 + u);
      batch.changes.push_back(std::move(change));
    }
  }
  Status committed = store->Commit(batch);
  if (!committed.ok()) BOOST_FAIL(committed.error().message);
  return store;
}

struct HeadCase {
  ReportKind kind;
  std::string format;
  std::string head;  // what the client must have before the first user is read
};

std::ostream& operator<<(std::ostream& out, const HeadCase& c) {
  return out << (c.kind == ReportKind::kDetail ? "detail " : "totals ") << c.format;
}

const HeadCase kHeadCases[] = {
    {ReportKind::kDetail, "csv",
     "user,name,team,interval_id,label,reason_code,status,status_name,source,cause,"
     "interval_start,interval_end,bucket_start,bucket_end,counted_start,counted_end,seconds\r\n"},
    {ReportKind::kDetail, "json", "{\"from\":\"2025-03-29T23:00:00.000Z\""},
    {ReportKind::kTotals, "csv", "row,user,name,team,period_start,period_end,label,"},
    {ReportKind::kTotals, "json", "{\"from\":\"2025-03-29T23:00:00.000Z\""},
    {ReportKind::kTotals, "text", "Time per user and state, "},
};
}  // namespace

BOOST_AUTO_TEST_SUITE(report_export_test)

BOOST_DATA_TEST_CASE(exports_keep_their_bytes, data::make(kCases), c) {
  const std::string text = Export(c.kind, c.format, c.group_by, c.zone);
  BOOST_TEST(text.size() == c.size, text);
  BOOST_TEST(Hash(text) == c.hash, text);
  BOOST_TEST(Export(c.kind, c.format, c.group_by, c.zone, true) == text, "from a SQLite ledger");
}

BOOST_DATA_TEST_CASE(the_head_reaches_the_client_before_the_ledger_is_read, data::make(kHeadCases),
                     c) {
  Config config = MakeConfig();
  auto store = MakeBigStore(20, 50);
  ClientStream client;
  std::ostream out(&client);
  std::string sent_at_first_user;
  bool first = true;
  Status status = WriteReport(
      *store, MakeRequest(c.kind, c.format, "hour", "Europe/Berlin", config, UserIds(20)), &config,
      out, [&](const ReportProgress&) {
        if (first) sent_at_first_user = client.received.substr(0, client.sent);
        first = false;
      });
  BOOST_TEST_REQUIRE(status.ok());
  BOOST_TEST(!first, "no progress was reported");
  BOOST_TEST(sent_at_first_user.rfind(c.head, 0) == 0, sent_at_first_user);
  BOOST_TEST(client.received.size() > sent_at_first_user.size());
}

BOOST_DATA_TEST_CASE(a_stream_that_fails_stops_the_export, data::make(kHeadCases), c) {
  Config config = MakeConfig();
  const int users = 200;
  auto store = MakeBigStore(users, 100);
  // The whole export first, to know its size.
  std::ostringstream whole;
  BOOST_TEST_REQUIRE(
      WriteReport(*store,
                  MakeRequest(c.kind, c.format, "15min", "Europe/Berlin", config, UserIds(users)),
                  &config, whole)
          .ok());
  BOOST_TEST_REQUIRE(whole.str().size() > 4 * 256 * 1024, whole.str().size());
  ClientStream client;
  client.fail_after = 1000;  // the client goes away after the first kilobyte
  std::ostream out(&client);
  ReportProgress last;
  Status status = WriteReport(
      *store, MakeRequest(c.kind, c.format, "15min", "Europe/Berlin", config, UserIds(users)),
      &config, out, [&](const ReportProgress& progress) { last = progress; });
  BOOST_TEST(status.ok());  // stopping for a client that left is no error
  BOOST_TEST(!out.good());
  // The scan stopped within a chunk or two of the failure, far from the end.
  BOOST_TEST(last.users_done < static_cast<std::size_t>(users) / 2,
             last.users_done << " of " << users << " users were scanned");
  BOOST_TEST(whole.str().rfind(client.received, 0) == 0, "what was sent is not the export's start");
}

BOOST_AUTO_TEST_CASE(escaped_values_are_the_same_in_every_row_that_repeats_them) {
  const std::string csv = Export(ReportKind::kDetail, "csv", "hour", "Europe/Berlin");
  auto count = [&csv](const std::string& text) {
    std::size_t found = 0;
    for (std::size_t at = csv.find(text); at != std::string::npos; at = csv.find(text, at + 1)) {
      ++found;
    }
    return found;
  };
  // u1's name and team open each of its rows; the odd label (quote, comma, line break) comes
  // back after another state, and every cut of it by the hour repeats it.
  const std::string u1 = "u1,\"Zo\xC3\xAB \xC3\x9Cnal, \"\"Z\"\"\",\"Sales\nEMEA\",";
  BOOST_TEST(count(u1) == count("\r\nu1,"));
  BOOST_TEST(count(",\"Break, \"\"long\"\"\nnight\",\"B,1\",3,Away,pbx,\"call:\"\"c7\"\"\",") ==
             2);  // interval 2 (no time), then interval 4 after Lunch
  // Same label, another reason code and status: not taken for the state met before.
  BOOST_TEST(count(",Ready,2,5,Busy,pbx,select,") >= 1);
  BOOST_TEST(count(",Ready,1,1,Online,pbx,other,") >= 1);
  // 40 causes met twice each, more than a writer keeps escaped at hand: all still right.
  for (int i = 0; i < 40; ++i) {
    BOOST_TEST(count(",Ready,1,1,Online,pbx,cause \xE2\x82\xAC" + std::to_string(i) + ",") >= 2, i);
  }
  // The formula guard on a name that would run in a spreadsheet.
  BOOST_TEST(count("\r\nu2,'=cmd|' /C calc'!A0,Back\\office,") == count("\r\nu2,"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent

namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<presence::agent::Case> {
  void operator()(std::ostream& out, const presence::agent::Case& c) {
    presence::agent::operator<<(out, c);
  }
};
}  // namespace boost::test_tools::tt_detail
