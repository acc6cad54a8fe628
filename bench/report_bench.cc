// Measures report exports over a large ledger and prints the figures:
//  1. builds a ledger of U users x D days with K changes per user per day (default 1,000 x 365
//     x 16: about 5.8 million intervals), committed in batches like the agent does;
//  2. runs the real `presence-agent report` against it (totals by day and by 15 minutes in a
//     zone with DST, and the detail export), each in its own process, and prints its wall time,
//     output size and peak memory: the child's maximum resident set size, which includes the
//     ledger pages the scan maps, and its anonymous memory, which stays flat however long the
//     range is because the export streams.
//     Every report runs in Europe/Berlin and in Asia/Kolkata; detail exports also show rows/s.
// Usage: report_bench [--quick] [--users U] [--days D] [--keep DIR] [--agent PATH]
// (a benchmark, not a test: it never fails on a number)

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace {

using namespace presence;
using Clock = std::chrono::steady_clock;

struct Options {
  int users = 1000;
  int days = 365;
  int changes_per_day = 16;
  std::string dir;
  std::string agent;  // the presence-agent to run (another build, to compare)
};

const char* kLabels[] = {"Ready for Calls", "On a call",    "Wrap-up", "Break",
                         "Lunch",           "In a meeting", "Logout"};
const reasoncodes::StatusCode kStatuses[] = {
    reasoncodes::StatusCode::kOnline, reasoncodes::StatusCode::kOnCall,
    reasoncodes::StatusCode::kDnd,    reasoncodes::StatusCode::kAway,
    reasoncodes::StatusCode::kAway,   reasoncodes::StatusCode::kBusy,
    reasoncodes::StatusCode::kLogout};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Outcome {
  long long rows = 0;  // CSV lines after the header
};

// The child's resident anonymous memory now (kB), from /proc: its peak RSS also counts the
// ledger pages a scan maps, which are the kernel's page cache, not the export's own memory.
long ReadRssAnonKb(pid_t child) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(child));
  FILE* status = std::fopen(path, "r");
  if (status == nullptr) return 0;
  long kb = 0;
  char line[256];
  while (std::fgets(line, sizeof line, status)) {
    if (std::sscanf(line, "RssAnon: %ld", &kb) == 1) break;
  }
  std::fclose(status);
  return kb;
}

// Every user changes state changes_per_day times a day at pseudo-random moments; a batch holds
// the changes of one slot of the day for every user, in time order.
void BuildLedger(const Options& options, const std::string& path) {
  auto store = tracking::OpenSqliteTimeStore(path, tracking::Durability::kProcessCrash);
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), store.error().message.c_str());
    std::exit(1);
  }
  const Timestamp start = *ParseTime("2025-01-01T00:00:00Z");
  const auto slot = std::chrono::milliseconds(86400000LL / options.changes_per_day);
  std::vector<std::string> previous(options.users);
  unsigned seed = 12345;
  long long changes = 0;
  auto began = Clock::now();
  for (int day = 0; day < options.days; ++day) {
    for (int s = 0; s < options.changes_per_day; ++s) {
      tracking::CommitBatch batch;
      const Timestamp slot_start = start + std::chrono::days(day) + slot * s;
      for (int u = 0; u < options.users; ++u) {
        seed = seed * 1103515245u + 12345u;
        const int pick = static_cast<int>((seed >> 16) % 7);
        tracking::Change change;
        change.agent = "u" + std::to_string(u);
        change.at = slot_start + std::chrono::milliseconds(u * 7);
        change.from_label = previous[u];
        change.label = kLabels[pick];
        change.reason_code = std::to_string(pick);
        change.status = kStatuses[pick];
        change.source = reasoncodes::Source::kPbx;
        change.cause = "select";
        previous[u] = change.label;
        batch.changes.push_back(std::move(change));
      }
      if (Status status = (*store)->Commit(batch); !status.ok()) {
        std::fprintf(stderr, "commit failed: %s\n", status.error().message.c_str());
        std::exit(1);
      }
      changes += options.users;
    }
  }
  const double s = Seconds(Clock::now() - began);
  std::printf(
      "ledger:  %lld intervals (%d users x %d days x %d) written in %.1f s (%.0f/s), %.0f MB\n",
      changes, options.users, options.days, options.changes_per_day, s, changes / s,
      static_cast<double>(std::filesystem::file_size(path)) / 1e6);
}

// Opens the ledger for writing once: a ledger of an older schema is upgraded here (the report
// CLI only reads, and falls back to the intervals on an old ledger), with its progress lines.
void UpgradeLedger(const std::string& path) {
  auto began = Clock::now();
  tracking::LedgerOptions options{.durability = tracking::Durability::kProcessCrash,
                                  .log = [](LogLevel, std::string_view text) {
                                    std::printf("  %.*s\n", static_cast<int>(text.size()),
                                                text.data());
                                  }};
  if (!tracking::OpenSqliteTimeStore(path, options).ok()) std::exit(1);
  std::printf("ledger opened for writing (check, upgrade if any) in %.1f s, %.0f MB\n",
              Seconds(Clock::now() - began),
              static_cast<double>(std::filesystem::file_size(path)) / 1e6);
}

// Runs the CLI with `args`, reading its standard output through a pipe (counted, then
// dropped: no disk in the way), and prints wall and CPU time, output size, rows per second
// (`rows`, when given, else the CSV lines counted), the child's peak RSS and its peak anonymous
// memory (sampled every 10 ms).
Outcome Export(const char* name, const char* zone, const std::vector<std::string>& args,
               long long rows = -1) {
  auto began = Clock::now();
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) std::exit(1);
  pid_t child = fork();
  if (child == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(const_cast<char*>("--no-progress"));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  long long bytes = 0;
  long long lines = 0;
  long anon_kb = 0;
  auto sampled = Clock::now();
  char buffer[1 << 16];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno != EINTR) break;
      continue;
    }
    bytes += n;
    for (const char* at = buffer;
         (at = static_cast<const char*>(std::memchr(at, '\n', buffer + n - at))) != nullptr; ++at) {
      ++lines;
    }
    if (Clock::now() - sampled > std::chrono::milliseconds(10)) {
      anon_kb = std::max(anon_kb, ReadRssAnonKb(child));
      sampled = Clock::now();
    }
  }
  close(pipe_fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(child, &status, 0, &usage);
  const double s = Seconds(Clock::now() - began);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  Outcome outcome{rows >= 0 ? rows : std::max(0LL, lines - 1)};
  char rate[32] = "";
  if (rows != 0) {
    std::snprintf(rate, sizeof rate, "%6.0fk rows/s", static_cast<double>(outcome.rows) / s / 1e3);
  }
  std::printf(
      "%-34s %-13s %6.1f s (cpu %5.1f) %8.1f MB out %15s  peak RSS %6.1f MB (anon %4.1f)%s\n", name,
      zone, s, cpu, static_cast<double>(bytes) / 1e6, rate,
      static_cast<double>(usage.ru_maxrss) / 1024.0, static_cast<double>(anon_kb) / 1024.0,
      ok ? "" : "  (FAILED)");
  std::fflush(stdout);
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      options.users = 100;
      options.days = 60;
    } else if (arg == "--users" && i + 1 < argc) {
      options.users = std::atoi(argv[++i]);
    } else if (arg == "--days" && i + 1 < argc) {
      options.days = std::atoi(argv[++i]);
    } else if (arg == "--agent" && i + 1 < argc) {
      options.agent = argv[++i];
    } else if (arg == "--keep" && i + 1 < argc) {
      options.dir = argv[++i];
      keep = true;
    } else {
      std::fprintf(
          stderr,
          "usage: report_bench [--quick] [--users U] [--days D] [--keep DIR] [--agent PATH]\n");
      return 2;
    }
  }
  if (options.dir.empty()) {
    char pattern[] = "/tmp/report-bench-XXXXXX";
    options.dir = mkdtemp(pattern);
  }
  std::filesystem::create_directories(options.dir);
  const std::string db = options.dir + "/presence.db";
  if (!std::filesystem::exists(db)) BuildLedger(options, db);
  UpgradeLedger(db);
  const std::string agent = PRESENCE_AGENT_BINARY;
  // The data's last day: a range past it would count every user's open interval up to now.
  const std::string end =
      FormatTime(*ParseTime("2025-01-01T00:00:00Z") + std::chrono::days(options.days));
  const std::string binary = options.agent.empty() ? agent : options.agent;
  auto report = [&](const char* zone, const std::string& from, const std::string& to,
                    std::vector<std::string> extra) {
    std::vector<std::string> args = {agent,  "report", "--db",        db,  "--from", from,
                                     "--to", to,       "--time-zone", zone};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::string first = "2025-01-01";
  // The targets name both: a zone with DST and one with a half-hour offset.
  for (const char* zone : {"Europe/Berlin", "Asia/Kolkata"}) {
    Export("totals, all days, csv", zone, report(zone, first, end, {"--format", "csv"}), 0);
    Export("totals by day, all days, csv", zone,
           report(zone, first, end, {"--group-by", "day", "--format", "csv"}), 0);
    Outcome detail = Export("detail, all days, csv", zone,
                            report(zone, first, end, {"--detail", "--format", "csv"}));
    // The same rows as the CSV.
    Export("detail, all days, json", zone,
           report(zone, first, end, {"--detail", "--format", "json"}), detail.rows);
    Export("totals by 15 min, March, csv", zone,
           report(zone, "2025-03-01", "2025-04-01", {"--group-by", "15min", "--format", "csv"}), 0);
  }
  if (!keep) std::filesystem::remove_all(options.dir);
  return 0;
}
