// The only file that includes CLI11 (it is slow to compile).

#include "agent/cli/cli.h"

#include <Poco/JSON/Parser.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent/cli/dashboard_dir.h"
#include "agent/cli/ingest.h"
#include "agent/cli/man_page.h"
#include "agent/config/config.h"
#include "agent/core/core.h"
#include "agent/core/replay.h"
#include "agent/reports/output.h"
#include "agent/reports/report_export.h"
#include "agent/service/service.h"
#include "agent/simulate/simulate.h"
#include "common/log.h"
#include "common/poco_json.h"
#include "connectors/builtin/builtin_connectors.h"
#include "connectors/sip/sip_check.h"
#include "tracking/memory/memory_time_store.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::agent {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitRuntime = 2;
constexpr int kExitBadLines = 3;

std::string Stringify(const Poco::Dynamic::Var& value) { return json::JsonText(value); }

// Loads the configuration or prints every problem; nullptr on problems.
std::shared_ptr<Config> LoadOrReport(const std::string& path) {
  ConfigLoad load = LoadConfigFile(path);
  for (const std::string& warning : load.warnings)
    std::cerr << path << ": " << FormatLogLine(LogLevel::kWarning, warning) << "\n";
  if (load.ok()) return load.config;
  std::cerr << path << ": " << load.problems.size() << " problem"
            << (load.problems.size() == 1 ? "" : "s") << ":\n";
  for (const std::string& problem : load.problems) std::cerr << "  " << problem << "\n";
  return nullptr;
}

Result<std::unique_ptr<tracking::TimeStore>> OpenStore(const std::string& db) {
  if (db.empty()) return tracking::NewMemoryTimeStore();
  tracking::LedgerOptions options;
  options.log = [](LogLevel level, std::string_view text) {
    std::cerr << FormatLogLine(level, text) << "\n";
  };
  return tracking::OpenSqliteTimeStore(db, options);
}

int CheckConfig(const std::string& path) {
  std::shared_ptr<Config> config = LoadOrReport(path);
  if (!config) return kExitConfig;
  const reasoncodes::Catalog& catalog = *config->catalog;
  const reasoncodes::Settings& settings = catalog.settings();
  std::cout << path << ": OK: " << catalog.states().size() << " states ("
            << catalog.Picklist().size() << " selectable), mode "
            << reasoncodes::ModeName(settings.mode) << ", wrap-up "
            << (settings.wrap_up_seconds > 0 ? std::to_string(settings.wrap_up_seconds) +
                                                   " s in '" + catalog.wrap_up()->label + "'"
                                             : std::string("off"))
            << ", active call state "
            << (settings.active_call_state ? "'" + catalog.on_call()->label + "'" : "off")
            << ", ready '" << catalog.ready().label << "'\n";
  for (const connectors::ConnectorConfig& connector : config->connectors) {
    const connectors::ConnectorType* type = connectors::BuiltinConnectors().Find(connector.type);
    std::cout << "  connector " << connector.name << " (" << connector.type << ": "
              << (type ? type->summary : std::string_view()) << ")"
              << (connector.policy.coalesce ? ", latest state only" : ", every change") << ", "
              << connector.policy.concurrency << " at a time"
              << (connector.policy.rate_per_second > 0
                      ? ", at most " + Stringify(connector.policy.rate_per_second) + "/s"
                      : std::string())
              << "\n";
  }
  return kExitOk;
}

struct SipCheckArgs {
  std::string config;
  std::string user;
  std::string connector;  // empty: the first sip_presence block
  std::string label;      // empty: the ready state
  int timeout_ms = 5000;
};

int SipCheckCommand(const SipCheckArgs& args) {
  std::shared_ptr<Config> config = LoadOrReport(args.config);
  if (!config) return kExitConfig;
  const connectors::ConnectorConfig* block = nullptr;
  for (const connectors::ConnectorConfig& connector : config->connectors) {
    if (connector.type != "sip_presence") continue;
    if (args.connector.empty() || connector.name == args.connector) {
      block = &connector;
      break;
    }
  }
  if (!block) {
    std::cerr << args.config << ": no connector of type sip_presence"
              << (args.connector.empty() ? "" : " named " + args.connector) << "\n";
    return kExitConfig;
  }
  const User* user = config->FindUser(args.user);
  if (!user) {
    std::cerr << args.config << ": no user " << args.user << "\n";
    return kExitConfig;
  }
  const reasoncodes::Catalog& catalog = *config->catalog;
  const reasoncodes::State* state =
      args.label.empty() ? &catalog.ready() : catalog.Find(args.label);
  if (!state) {
    std::cerr << args.config << ": no state " << args.label << "\n";
    return kExitConfig;
  }
  connectors::Directory directory;
  directory.catalog = config->catalog;
  directory.SetUsers(std::shared_ptr<const std::vector<User>>(config, &config->users));
  connectors::sip::SipCheckRequest request;
  request.settings = dynamic_cast<const connectors::sip::SipSettings*>(block->settings.get());
  request.user = user;
  request.change.agent = user->id;
  request.change.at = SystemClock().Now();
  request.change.label = state->label;
  request.change.reason_code = state->reason_code;
  request.change.status = state->status;
  request.change.source = reasoncodes::Source::kSystem;
  request.timeout = std::chrono::milliseconds(args.timeout_ms);
  return connectors::sip::RunSipCheck(request, directory, std::cout) == 0 ? kExitOk : kExitRuntime;
}

int States(const std::string& path, bool json, bool all) {
  std::shared_ptr<Config> config = LoadOrReport(path);
  if (!config) return kExitConfig;
  std::vector<const reasoncodes::State*> states;
  for (const reasoncodes::State& state : config->catalog->states()) {
    if (all || state.selectable) states.push_back(&state);
  }
  if (json) {
    Poco::JSON::Array array;
    for (const reasoncodes::State* state : states) array.add(StateJson(*state));
    std::cout << Stringify(array) << "\n";
    return kExitOk;
  }
  for (const reasoncodes::State* state : states) {
    std::cout << state->DisplayText();
    if (!state->reason_code.empty()) std::cout << "  [" << state->reason_code << "]";
    if (!state->selectable) std::cout << "  (set by the agent, not selectable)";
    std::cout << "\n";
  }
  return kExitOk;
}

std::optional<Timestamp> TimeOption(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  std::optional<Timestamp> t = ParseTime(text);
  if (!t)
    throw CLI::ValidationError(name, "'" + text + "' is not a time like 2026-11-21T09:00:00Z");
  return t;
}

struct ReplayArgs {
  std::string config, events, db, until;
  bool json = false;
};

int ReplayCommand(const ReplayArgs& args) {
  std::shared_ptr<Config> config = LoadOrReport(args.config);
  if (!config) return kExitConfig;
  std::ifstream in(args.events);
  if (!std::filesystem::is_regular_file(args.events) || !in) {
    std::cerr << args.events << ": cannot be read (not a file, or not permitted)\n";
    return kExitConfig;
  }
  auto store = OpenStore(args.db);
  if (!store.ok()) {
    std::cerr << "database: " << store.error().message << "\n";
    return kExitRuntime;
  }
  ReplayOptions options;
  options.until = TimeOption(args.until, "--until");
  Result<ReplayReport> report = Replay(config->catalog, in, **store, options);
  if (!report.ok()) {
    std::cerr << "replay failed: " << report.error().message << "\n";
    return kExitRuntime;
  }
  for (const LineError& bad : report->errors) {
    std::cerr << args.events << ":" << bad.line << ": " << bad.error.code << ": "
              << bad.error.message << "\n";
  }
  if (report->skipped_after_until > 0) {
    std::cerr << "note: " << report->skipped_after_until
              << " event(s) after --until were not replayed\n";
  }
  if (args.json) {
    Poco::JSON::Object root(Poco::JSON_PRESERVE_KEY_ORDER);
    root.set("transitions", ChangesJson(report->transitions));
    root.set("totals", TotalsJson(report->totals));
    std::cout << Stringify(root) << "\n";
  } else {
    std::cout << "Transitions (" << report->transitions.size() << ", from " << report->events
              << " events)\n";
    WriteChangesText(report->transitions, std::cout);
    std::cout << "\nTime per user and state, " << (report->from ? FormatTime(*report->from) : "-")
              << " to " << (report->until ? FormatTime(*report->until) : "-") << "\n";
    WriteTotalsText(report->totals, std::cout);
  }
  return report->errors.empty() ? kExitOk : kExitBadLines;
}

struct ReportArgs {
  std::string db, config, from, to, format = "text", user, team, status, group_by, time_zone,
                                    output;
  bool detail = false;
  bool no_progress = false;
};

// "report: 412/1000 users, 1834112 intervals, 12 s" on one line, redrawn at most 4 times a
// second, only when standard error is a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void Show(const ReportProgress& progress) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(250) &&
        progress.users_done < progress.users_total) {
      return;
    }
    shown_ = true;
    last_ = now;
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - start_).count();
    std::cerr << "\rreport: " << progress.users_done << "/" << progress.users_total << " users, "
              << progress.intervals << " intervals, " << seconds << " s   " << std::flush;
  }
  void End() {
    if (on_ && shown_) std::cerr << "\n";
  }

 private:
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

std::vector<std::pair<std::string, std::string>> ReportParams(const ReportArgs& args) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::pair<const char*, const std::string*> given[] = {
      {"from", &args.from},           {"to", &args.to},        {"group_by", &args.group_by},
      {"time_zone", &args.time_zone}, {"user", &args.user},    {"team", &args.team},
      {"status", &args.status},       {"format", &args.format}};
  for (const auto& [name, value] : given) {
    if (!value->empty()) params.emplace_back(name, *value);
  }
  return params;
}

int ReportCommand(const ReportArgs& args) {
  std::shared_ptr<Config> config;
  if (!args.config.empty()) {
    config = LoadOrReport(args.config);
    if (!config) return kExitConfig;
  }
  std::string db = args.db;
  if (db.empty() && config) db = config->server.data_dir + "/presence.db";
  if (db.empty()) throw CLI::ValidationError("--db", "give --db or -c/--config");
  auto store = tracking::OpenSqliteTimeStoreReadOnly(db);
  if (!store.ok()) {
    std::cerr << "database: " << store.error().message << "\n";
    return kExitRuntime;
  }
  ReportContext context{.config = config.get(), .now = SystemClock().Now(), .allow_text = true};
  auto agents = (*store)->LoadAgents();
  if (!agents.ok()) {
    std::cerr << "database: " << agents.error().message << "\n";
    return kExitRuntime;
  }
  for (const tracking::StoredAgent& agent : *agents) context.ledger_users.push_back(agent.agent);
  Result<ReportRequest> request = ReadReportRequest(
      ReportParams(args), args.detail ? ReportKind::kDetail : ReportKind::kTotals, context);
  if (!request.ok()) {
    std::cerr << "report: " << request.error().message << "\n";
    return kExitConfig;
  }
  std::ofstream file;
  if (!args.output.empty()) {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << args.output << ": cannot be written\n";
      return kExitRuntime;
    }
  }
  std::ostream& out = args.output.empty() ? std::cout : file;
  // Progress on the terminal only when the report itself does not go there.
  const bool report_on_terminal = args.output.empty() && isatty(STDOUT_FILENO) != 0;
  ProgressLine progress(!args.no_progress && !report_on_terminal && isatty(STDERR_FILENO) != 0);
  Status written = WriteReport(**store, *request, config.get(), out,
                               [&](const ReportProgress& p) { progress.Show(p); });
  progress.End();
  out.flush();
  if (!written.ok() || !out) {
    std::cerr << "report failed: "
              << (written.ok() ? std::string("could not write the output")
                               : written.error().message)
              << "\n";
    // Half a report must not pass for a whole one: a file of it goes (standard output has
    // only the exit code to say so).
    if (!args.output.empty()) {
      file.close();
      std::error_code error;
      if (std::filesystem::is_regular_file(args.output, error) &&
          std::filesystem::remove(args.output, error)) {
        std::cerr << "removed the incomplete " << args.output << "\n";
      }
    }
    return kExitRuntime;
  }
  return kExitOk;
}

int IngestCommand(const std::string& config_path, const std::string& db) {
  std::shared_ptr<Config> config = LoadOrReport(config_path);
  if (!config) return kExitConfig;
  auto store = OpenStore(db);
  if (!store.ok()) {
    std::cerr << "database: " << store.error().message << "\n";
    return kExitRuntime;
  }
  SystemClock clock;
  Core core(config->catalog, **store, clock);
  if (Status status = core.Start(); !status.ok()) {
    std::cerr << "start-up failed: " << status.error().message << "\n";
    return kExitRuntime;
  }
  int bad = RunIngest(core, std::cin, std::cout);
  core.Stop();
  return bad == 0 ? kExitOk : kExitBadLines;
}

// Writes `text` to `path` through a new file renamed over it, so a reader never sees half a
// file; the new file gets the old one's permissions (it holds token hashes). A symbolic link
// stays a link: the file it points to is replaced. Returns 0, or the errno of the failure.
int ReplaceFile(const std::string& path, const std::string& text) {
  std::error_code ignored;
  std::filesystem::path target = std::filesystem::canonical(path, ignored);
  if (target.empty()) target = path;
  struct stat info {};
  const bool existed = ::stat(target.c_str(), &info) == 0;
  const mode_t mode = existed ? (info.st_mode & 07777) : 0600;
  const std::string temporary = target.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  int error = ::fchmod(fd, mode) == 0 ? 0 : errno;
  // The owner and group too: root adding a token to /etc/presence-agent/presence.json must
  // leave it readable by the service's group. Who may not give the file away keeps it.
  if (error == 0 && existed && ::fchown(fd, info.st_uid, info.st_gid) != 0) {
    [[maybe_unused]] const int group_only = ::fchown(fd, static_cast<uid_t>(-1), info.st_gid);
  }
  for (std::size_t done = 0; error == 0 && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0) done += static_cast<std::size_t>(n);
    if (n <= 0) error = n < 0 ? errno : EIO;
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(temporary.c_str(), target.c_str()) != 0) error = errno;
  if (error != 0) ::unlink(temporary.c_str());
  return error;
}

// Adds `entry` to the configuration's "tokens". The result is checked before anything is
// written: a file that would have problems (an unknown --user, say) is left as it was.
int AddTokenEntry(const std::string& path, const Poco::JSON::Object::Ptr& entry) {
  Result<std::string> text = ReadConfigFile(path);
  if (!text.ok()) {
    std::cerr << text.error().message << "\n";
    return kExitConfig;
  }
  Poco::JSON::Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    parser.setAllowComments(false);
    root = parser.parse(*text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    std::cerr << path << ": cannot be read as a JSON object: " << e.displayText() << "\n";
    return kExitConfig;
  }
  Poco::JSON::Array::Ptr tokens = root->getArray("tokens");
  if (!tokens) tokens = new Poco::JSON::Array();
  tokens->add(entry);
  root->set("tokens", tokens);
  // The one place JSON is written indented: a configuration file a person reads and edits.
  // Poco's Stringifier keeps the file's key order; what it writes is re-read and checked below.
  std::ostringstream updated;
  root->stringify(updated, 2);
  ConfigLoad check = LoadConfigText(updated.str());
  if (!check.ok()) {
    std::cerr << path << ": not changed; with the new token it would have " << check.problems.size()
              << " problem" << (check.problems.size() == 1 ? "" : "s") << ":\n";
    for (const std::string& problem : check.problems) std::cerr << "  " << problem << "\n";
    return kExitConfig;
  }
  if (int error = ReplaceFile(path, updated.str()); error != 0) {
    std::cerr << path << ": cannot be written (" << std::strerror(error) << "); not changed\n";
    return kExitRuntime;
  }
  return kExitOk;
}

// Prints a new token once, and its entry for the configuration's "tokens" list. With
// --add-to, writes that entry into the file (the token itself is never stored).
int TokenCommand(const std::string& role, const std::string& user, const std::string& name,
                 const std::string& add_to) {
  const std::string token = NewToken();
  Poco::JSON::Object::Ptr entry = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  entry->set("name", name.empty() ? role : name);
  entry->set("role", role);
  if (!user.empty()) entry->set("user", user);
  entry->set("sha256", TokenHash(token));
  if (!add_to.empty()) {
    if (int code = AddTokenEntry(add_to, entry); code != kExitOk) return code;
  }
  std::cout << token << "\n";
  if (add_to.empty()) std::cerr << "add to \"tokens\": " << Stringify(entry) << "\n";
  return kExitOk;
}

std::atomic<bool> g_stop_simulation{false};

int SimulateCommand(SimulationOptions options) {
  // Ctrl-C or SIGTERM ends the run cleanly: calls in progress are ended on the server.
  std::signal(SIGINT, [](int) { g_stop_simulation = true; });
  std::signal(SIGTERM, [](int) { g_stop_simulation = true; });
  options.stop = &g_stop_simulation;
  return RunSimulation(options, std::cout);
}

ManOption DescribeOption(const CLI::Option& option) {
  ManOption out;
  out.positional = !option.nonpositional();
  if (out.positional) {
    out.names = option.get_name(true);
  } else {
    for (const std::string& name : option.get_snames()) {
      out.names += (out.names.empty() ? "-" : ", -") + name;
    }
    for (const std::string& name : option.get_lnames()) {
      out.names += (out.names.empty() ? "--" : ", --") + name;
    }
  }
  if (option.get_type_size_max() > 0) out.value = option.get_type_name();
  out.description = option.get_description();
  out.required = option.get_required();
  return out;
}

// The command line as the manual page shows it: visible commands and options, in the order
// they were declared (positionals first), without each command's own --help.
ManPage DescribeCli(const CLI::App& app) {
  ManPage page{
      .program = "presence-agent", .version = PRESENCE_VERSION, .summary = app.get_description()};
  for (const CLI::Option* option : app.get_options()) {
    if (!option->get_group().empty()) page.options.push_back(DescribeOption(*option));
  }
  auto visible = [](const CLI::App* command) { return !command->get_group().empty(); };
  for (const CLI::App* command : app.get_subcommands(visible)) {
    ManCommand described{.name = command->get_name(), .description = command->get_description()};
    for (const CLI::Option* option : command->get_options()) {
      if (option->get_group().empty() || option == command->get_help_ptr()) continue;
      described.options.push_back(DescribeOption(*option));
    }
    std::stable_partition(described.options.begin(), described.options.end(),
                          [](const ManOption& option) { return option.positional; });
    page.commands.push_back(std::move(described));
  }
  return page;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"Presence Agent: presence states, wrap-up and time tracking for call centers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "presence-agent " PRESENCE_VERSION);

  std::string config;
  CLI::App* check = app.add_subcommand("check-config", "Validate a configuration file");
  check->add_option("-c,--config", config, "Configuration file")->required();

  bool json = false;
  bool all = false;
  CLI::App* states = app.add_subcommand("states", "Print the picklist");
  states->add_option("-c,--config", config, "Configuration file")->required();
  states->add_flag("--json", json, "JSON output");
  states->add_flag("--all", all, "Also the states only the agent sets (On a call, wrap-up)");

  ReplayArgs replay;
  CLI::App* replay_cmd = app.add_subcommand("replay", "Run a recorded day of events");
  replay_cmd->add_option("-c,--config", replay.config, "Configuration file")->required();
  replay_cmd->add_option("events", replay.events, "Events, one JSON object per line")->required();
  replay_cmd->add_option("--db", replay.db, "SQLite ledger to write (default: in memory)");
  replay_cmd->add_option("--until", replay.until, "Stop at this time (default: the last event)");
  replay_cmd->add_flag("--json", replay.json, "JSON output");

  ReportArgs report;
  CLI::App* report_cmd = app.add_subcommand(
      "report", "Time per user per state from a ledger, streamed (also beside a running agent)");
  report_cmd->add_option("--db", report.db, "SQLite ledger (default: the configuration's)")
      ->check(CLI::ExistingFile);
  report_cmd->add_option("-c,--config", report.config,
                         "Configuration: names, teams, time zone, ledger location");
  report_cmd->add_option("--from", report.from, "Start: ISO-8601, or a local date/time")
      ->required();
  report_cmd->add_option("--to", report.to, "End, exclusive: ISO-8601, or a local date/time")
      ->required();
  report_cmd->add_option("--group-by", report.group_by, "none, day, hour, 30min or 15min");
  report_cmd->add_option("--time-zone", report.time_zone,
                         "IANA zone (default: settings.time_zone, or UTC)");
  report_cmd->add_option("--user,--agent", report.user, "Only these users (comma-separated)");
  report_cmd->add_option("--team", report.team, "Only these teams (comma-separated)");
  report_cmd->add_option("--status", report.status,
                         "Only states with these statuses (codes or names, comma-separated)");
  report_cmd->add_option("--format", report.format, "text, csv or json");
  report_cmd->add_flag("--detail", report.detail,
                       "Every interval with its source and cause instead of totals");
  report_cmd->add_option("-o,--output", report.output, "Write to this file (default: stdout)");
  report_cmd->add_flag("--no-progress", report.no_progress, "No progress line on a terminal");

  std::string db;
  CLI::App* ingest = app.add_subcommand(
      "ingest", "Apply live events from standard input (JSON lines), answering each once durable");
  ingest->add_option("-c,--config", config, "Configuration file")->required();
  ingest->add_option("--db", db, "SQLite ledger (default: in memory)");

  ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Run the service: HTTP API, live stream and dashboard (SIGHUP reloads)");
  serve_cmd->add_option("-c,--config", serve.config_path, "Configuration file")->required();
  serve_cmd->add_option("--dashboard", serve.dashboard_dir,
                        "Folder of the supervisor page (default: <prefix>/share/presence-agent/"
                        "dashboard next to the executable, else the source tree's)");
  serve_cmd->add_flag("--full-check", serve.full_check,
                      "Check the ledger with PRAGMA integrity_check at start (default: "
                      "quick_check; the full check also compares every index with its table)");

  std::string role, user, name, add_to;
  CLI::App* token = app.add_subcommand("token", "Create an API token; prints it once");
  token->add_option("--role", role, "agent, integration, supervisor or admin")
      ->required()
      ->check(CLI::IsMember({"agent", "integration", "supervisor", "admin"}));
  token->add_option("--user", user, "The user an agent token acts for");
  token->add_option("--name", name, "A name for logs (default: the role)");
  token->add_option("--add-to", add_to, "Add the token's hash to this configuration file")
      ->check(CLI::ExistingFile);

  SimulationOptions simulation;
  CLI::App* simulate = app.add_subcommand(
      "simulate", "Drive a running agent's API as a floor of softphones would (demo, load)");
  simulate->add_option("--url", simulation.url, "The agent, e.g. http://127.0.0.1:8080");
  simulate->add_option("--token", simulation.token, "An integration (or admin) token")->required();
  simulate->add_option("--agents", simulation.agents, "How many softphones")
      ->check(CLI::Range(1, 100000));
  simulate->add_option("--agent-ids", simulation.agent_ids, "These users (default: from the API)");
  simulate->add_option("--rate", simulation.rate, "Events per second, all agents together")
      ->check(CLI::PositiveNumber);
  simulate
      ->add_option("--duration", simulation.duration_s, "Seconds to run (default: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  simulate->add_option("--seed", simulation.seed, "Random seed (same seed, same traffic)");
  simulate->add_option("--workers", simulation.workers, "Connections (default: from the rate)")
      ->check(CLI::Range(0, 64));

  SipCheckArgs sip_check;
  CLI::App* sip_check_cmd = app.add_subcommand(
      "sip-check", "Publish and subscribe once against the configured SIP presence server");
  sip_check_cmd->add_option("-c,--config", sip_check.config, "Configuration file")->required();
  sip_check_cmd->add_option("--user", sip_check.user, "The user whose presence to publish")
      ->required();
  sip_check_cmd->add_option("--connector", sip_check.connector,
                            "The sip_presence block's name (default: the first)");
  sip_check_cmd->add_option("--label", sip_check.label, "The state to publish (default: ready)");
  sip_check_cmd->add_option("--timeout-ms", sip_check.timeout_ms, "Wait per step")
      ->check(CLI::Range(100, 60000));

  // For the build: the manual page, from this tree (see man_page.h). Hidden from --help.
  CLI::App* man = app.add_subcommand("man", "Print the manual page (roff)")->group("");

  try {
    app.parse(argc, argv);
    if (man->parsed()) {
      std::cout << RenderManPage(DescribeCli(app));
      return kExitOk;
    }
    if (sip_check_cmd->parsed()) return SipCheckCommand(sip_check);
    if (simulate->parsed()) return SimulateCommand(simulation);
    if (serve_cmd->parsed()) {
      serve.dashboard_dir =
          FindDashboardDir(serve.dashboard_dir, ExecutablePath(), PRESENCE_DASHBOARD_DIR);
      return RunServe(serve);
    }
    if (token->parsed()) return TokenCommand(role, user, name, add_to);
    if (check->parsed()) return CheckConfig(config);
    if (states->parsed()) return States(config, json, all);
    if (replay_cmd->parsed()) return ReplayCommand(replay);
    if (report_cmd->parsed()) return ReportCommand(report);
    if (ingest->parsed()) return IngestCommand(config, db);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitConfig;
  }
  return kExitConfig;
}

}  // namespace presence::agent
