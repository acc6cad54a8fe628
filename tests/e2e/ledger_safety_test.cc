// End to end: the real presence-agent with a ledger it must not trust (damaged, write-protected,
// empty), the permissions of what it creates, and reports that fail part-way.

#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"
#include "tests/fakes/ledger_damage.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/write_protect.h"

namespace presence::agent {
namespace {

using testing::AgentServer;
using testing::ModeOf;

const std::vector<std::string> kUsers = {"1001", "1002", "1003", "1004"};
const std::string kDay = "from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The server's ledger with the four users' history (600 changes each, about 80 pages).
void WriteHistory(const AgentServer& server, int changes = 600) {
  std::filesystem::create_directories(server.data_dir());
  testing::WriteLedgerHistory(server.ledger_path(), kUsers, changes);
}

struct Refusal {
  std::optional<std::string> first_line;  // what it printed; nothing when it refused
  int exit_code = 0;
  std::string log;
};

// Runs `serve` on the server's configuration, expecting it to stop before it listens.
Refusal Serve(const AgentServer& server, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {testing::AgentBinary(), "serve", "-c", server.config_path()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  testing::Subprocess process(argv);
  Refusal refusal;
  {
    testing::ProcessWatchdog watchdog(process.pid(), std::chrono::seconds(30));
    refusal.first_line = process.ReadLine();
    if (refusal.first_line) process.Kill(SIGTERM);
    refusal.exit_code = process.Wait();
  }
  refusal.log = process.Stderr();
  return refusal;
}

// A chunked body (RFC 9112, 7.1) as received: its data, and whether the last (0-length) chunk
// arrived, which is all that tells a complete transfer from one cut short.
struct Chunked {
  std::string data;
  bool complete = false;
};

Chunked DecodeChunked(const std::string& body) {
  Chunked decoded;
  size_t at = 0;
  for (;;) {
    const size_t line_end = body.find("\r\n", at);
    if (line_end == std::string::npos) return decoded;
    const size_t size = std::stoul(body.substr(at, line_end - at), nullptr, 16);
    if (size == 0) {
      decoded.complete = body.compare(line_end + 2, 2, "\r\n") == 0;
      return decoded;
    }
    if (body.size() < line_end + 2 + size + 2) {
      decoded.data += body.substr(line_end + 2);
      return decoded;
    }
    decoded.data += body.substr(line_end + 2, size);
    at = line_end + 2 + size + 2;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger_safety_test)

BOOST_AUTO_TEST_CASE(serve_refuses_a_ledger_with_garbage_pages_and_says_how_to_recover) {
  AgentServer server;
  WriteHistory(server);
  testing::OverwriteMiddlePages(server.ledger_path(), 10);
  const std::string damaged = testing::FileBytes(server.ledger_path());
  Refusal refusal = Serve(server);
  BOOST_TEST(!refusal.first_line.has_value(), "it started: " << refusal.first_line.value_or(""));
  BOOST_TEST(refusal.exit_code == 2);
  BOOST_TEST(Contains(refusal.log, "'" + server.ledger_path() + "' is damaged"), refusal.log);
  BOOST_TEST(Contains(refusal.log, "Restore the ledger from a backup"), refusal.log);
  BOOST_TEST(Contains(refusal.log, "\".clone " + server.ledger_path() + ".salvaged\""),
             refusal.log);
  BOOST_TEST((testing::FileBytes(server.ledger_path()) == damaged), "the damaged file changed");
}

BOOST_AUTO_TEST_CASE(serve_full_check_refuses_a_broken_index_that_the_quick_check_passes) {
  AgentServer server;
  WriteHistory(server);
  testing::DropIndexEntry(server.ledger_path());
  Refusal full = Serve(server, {"--full-check"});
  BOOST_TEST(!full.first_line.has_value(), "it started: " << full.first_line.value_or(""));
  BOOST_TEST(full.exit_code == 2);
  BOOST_TEST(Contains(full.log, "integrity_check found"), full.log);
  BOOST_TEST(Contains(full.log, "intervals_by_start"), full.log);
  // Without the option the start is quick, and this damage is not what it looks for.
  Refusal quick = Serve(server);
  BOOST_TEST(quick.first_line.value_or("").rfind("listening on", 0) == 0u, quick.log);
}

BOOST_AUTO_TEST_CASE(serve_refuses_a_write_protected_ledger_file) {
  AgentServer server;
  WriteHistory(server, 10);
  testing::WriteProtect guard(server.ledger_path());
  if (!guard.effective()) {
    BOOST_TEST_MESSAGE("skipped: nothing here stops this process writing the ledger");
    return;
  }
  BOOST_TEST_MESSAGE("write-protected with " << guard.how());
  Refusal refusal = Serve(server);
  BOOST_TEST(!refusal.first_line.has_value(), "it started: " << refusal.first_line.value_or(""));
  BOOST_TEST(refusal.exit_code == 2);
  BOOST_TEST(Contains(refusal.log, "the time ledger '" + server.ledger_path() +
                                       "' cannot be opened for writing"),
             refusal.log);
}

BOOST_AUTO_TEST_CASE(serve_refuses_a_write_protected_data_folder) {
  AgentServer server;
  WriteHistory(server, 10);
  testing::WriteProtect guard(server.data_dir());
  if (!guard.effective()) {
    BOOST_TEST_MESSAGE("skipped: nothing here stops this process writing in the data folder");
    return;
  }
  BOOST_TEST_MESSAGE("write-protected with " << guard.how());
  Refusal refusal = Serve(server);
  BOOST_TEST(!refusal.first_line.has_value(), "it started: " << refusal.first_line.value_or(""));
  BOOST_TEST(refusal.exit_code == 2);
  BOOST_TEST(Contains(refusal.log, "the folder '" + server.data_dir() + "'"), refusal.log);
  BOOST_TEST(Contains(refusal.log, "is not writable"), refusal.log);
}

BOOST_AUTO_TEST_CASE(serve_warns_that_an_empty_ledger_file_became_a_new_ledger) {
  AgentServer server;
  std::filesystem::create_directories(server.data_dir());
  std::ofstream{server.ledger_path()};  // 0 bytes
  server.Start();
  BOOST_TEST(server.Client().Get("/api/v1/health").status == 200);
  BOOST_TEST(server.Stop(SIGTERM) == 0);
  BOOST_TEST(Contains(server.Log(), "warning ledger: the time ledger '" + server.ledger_path() +
                                        "' was an empty (0-byte) file"),
             server.Log());
}

BOOST_AUTO_TEST_CASE(serve_creates_its_data_folder_and_ledger_for_its_user_only) {
  AgentServer server;
  const mode_t old_umask = ::umask(022);  // inherited by the agent: the usual default
  server.Start();
  ::umask(old_umask);
  BOOST_TEST(server.Stop(SIGTERM) == 0);
  BOOST_TEST(ModeOf(server.data_dir()) == 0700u);
  BOOST_TEST(ModeOf(server.ledger_path()) == 0600u);
  BOOST_TEST(ModeOf(server.ledger_path() + ".lock") == 0600u);
}

BOOST_AUTO_TEST_CASE(a_report_that_fails_part_way_is_cut_off_not_completed) {
  AgentServer server;
  WriteHistory(server, 300);
  server.Start();
  // The third user's rows become unreadable after the start check: the export fails there.
  testing::SpoilIntervalsOf(server.ledger_path(), "1003");
  testing::RawConnection raw(server.port());
  raw.SendAll(testing::RawGet("/api/v1/reports/intervals?" + kDay + "&format=csv",
                              {{"Authorization", "Bearer " + server.tokens().supervisor}}));
  BOOST_REQUIRE(raw.ReadHead(std::chrono::seconds(10)) == 200);
  BOOST_TEST(Contains(raw.head(), "Transfer-Encoding: chunked"), raw.head());
  std::string body = raw.leftover;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    std::optional<std::string> more = raw.Receive(std::chrono::milliseconds(500));
    if (more) {
      body += *more;
    } else {
      closed = true;
    }
  }
  BOOST_TEST(closed, "the connection stayed open");
  Chunked decoded = DecodeChunked(body);
  BOOST_TEST(!decoded.complete, "a failed export ended like a complete one");
  BOOST_TEST(Contains(decoded.data, "\r\n1001,"), "the export did not get going first");
  BOOST_TEST(!Contains(decoded.data, "\r\n1004,"));
  BOOST_TEST(server.WaitForLog("report aborted part-way", std::chrono::seconds(10)), server.Log());
  // The agent goes on serving.
  BOOST_TEST(server.Client().Get("/api/v1/health").status == 200);
}

BOOST_AUTO_TEST_CASE(cli_report_that_fails_part_way_exits_2_and_leaves_no_file) {
  testing::TempDir dir;
  const std::string db = dir.File("ledger.db");
  testing::WriteLedgerHistory(db, kUsers, 300);
  testing::SpoilIntervalsOf(db, "1003");
  const std::string output = dir.File("export.csv");
  auto result = testing::RunCommand({testing::AgentBinary(), "report", "--db", db, "--from",
                                     "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z",
                                     "--detail", "--format", "csv", "-o", output});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(Contains(result.err, "report failed: "), result.err);
  BOOST_TEST(Contains(result.err, "unknown status"), result.err);
  BOOST_TEST(!std::filesystem::exists(output), "a partial export was left in " << output);
  // To standard output, the exit code and the message are what says so.
  auto piped = testing::RunCommand({testing::AgentBinary(), "report", "--db", db, "--from",
                                    "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z",
                                    "--format", "csv"});
  BOOST_TEST(piped.exit_code == 2);
  BOOST_TEST(Contains(piped.err, "report failed: "), piped.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
