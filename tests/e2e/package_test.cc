// End to end: the Debian package and `cmake --install` of this build folder, unpacked and run
// the way systemd would run them (NOTIFY_SOCKET, WATCHDOG_USEC), as an unprivileged test can.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"
#include "tests/fakes/notify_socket.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_json.h"

namespace presence::agent {
namespace {

namespace fs = std::filesystem;
using Poco::JSON::Object;
using testing::HttpClient;
using testing::HttpResponse;
using testing::NotifySocket;
using testing::RunCommand;
using testing::RunResult;
using testing::Subprocess;

const fs::path kBuildDir = PRESENCE_BUILD_DIR;
constexpr std::chrono::seconds kWait{20};
constexpr std::string_view kListening = "listening on http://127.0.0.1:";
// Every subcommand a user may run; the manual page must describe each.
const char* const kCommands[] = {"check-config", "states", "replay",   "report",   "ingest",
                                 "serve",        "token",  "simulate", "sip-check"};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

bool Executable(const fs::path& path) {
  return (fs::status(path).permissions() & fs::perms::owner_exec) != fs::perms::none;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs a command that must succeed; its standard output.
std::string Must(std::vector<std::string> argv) {
  // A bare name is looked up in PATH (RunCommand does not).
  if (argv[0].front() != '/') argv.insert(argv.begin(), "/usr/bin/env");
  RunResult result = RunCommand(argv);
  std::string line;
  for (const std::string& arg : argv) line += arg + " ";
  BOOST_REQUIRE_MESSAGE(result.exit_code == 0, line << "exited " << result.exit_code << ":\n"
                                                    << result.out << result.err);
  return result.out;
}

// The .deb of this build folder, made once for the suite with cpack (no rebuild: the folder
// is the one the tests run from), unpacked with dpkg-deb into `root`, its control files in
// `control`.
struct Package {
  testing::TempDir dir;
  fs::path deb;
  fs::path root;
  fs::path control;
  std::string listing;  // dpkg-deb --contents
};

const Package& BuiltPackage() {
  static std::unique_ptr<Package> package = [] {
    auto made = std::make_unique<Package>();
    const fs::path out = made->dir.path() / "out";
    Must({PRESENCE_CPACK, "-G", "DEB", "--config", (kBuildDir / "CPackConfig.cmake").string(), "-B",
          out.string()});
    for (const auto& entry : fs::directory_iterator(out)) {
      if (entry.path().extension() == ".deb") made->deb = entry.path();
    }
    BOOST_REQUIRE_MESSAGE(!made->deb.empty(), "cpack wrote no .deb into " << out);
    made->root = made->dir.path() / "root";
    made->control = made->dir.path() / "control";
    Must({"dpkg-deb", "-x", made->deb.string(), made->root.string()});
    Must({"dpkg-deb", "-e", made->deb.string(), made->control.string()});
    made->listing = Must({"dpkg-deb", "--contents", made->deb.string()});
    BOOST_TEST_MESSAGE("package: " << made->deb.filename().string() << ", "
                                   << fs::file_size(made->deb) << " bytes");
    return made;
  }();
  return *package;
}

// The packaged configuration made runnable here: a free port and a data folder of the test's
// own (the service's are 8080 and /var/lib/presence-agent), plus a supervisor token; nothing
// else changed. Returns the token.
std::string RunnableConfig(const fs::path& packaged, const fs::path& binary,
                           const testing::TempDir& dir, const fs::path& config_path) {
  Object::Ptr config = testing::ParseObject(ReadFile(packaged));
  Object::Ptr server = config->getObject("server");
  if (!server) {
    server = new Object();
    config->set("server", server);
  }
  server->set("listen", "127.0.0.1:0");
  server->set("data_dir", dir.File("data"));
  WriteFile(config_path, testing::Stringify(config));
  std::string token =
      Must({binary.string(), "token", "--role", "supervisor", "--add-to", config_path.string()});
  return token.substr(0, token.find('\n'));
}

// The port of a started agent, from its first line.
uint16_t ReadPort(Subprocess& agent) {
  std::optional<std::string> line = agent.ReadLine();
  BOOST_REQUIRE_MESSAGE(line && line->rfind(kListening, 0) == 0, "no listening line; log:\n"
                                                                     << agent.Stderr());
  return static_cast<uint16_t>(std::stoi(line->substr(kListening.size())));
}

// Starts `binary serve` with the given environment (VAR=value) in front of it.
std::unique_ptr<Subprocess> StartAgent(const fs::path& binary, const fs::path& config,
                                       const std::vector<std::string>& environment) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  argv.insert(argv.end(), environment.begin(), environment.end());
  argv.insert(argv.end(), {binary.string(), "serve", "-c", config.string()});
  return std::make_unique<Subprocess>(argv);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(package_test)

BOOST_AUTO_TEST_CASE(the_package_puts_every_file_where_it_belongs) {
  const Package& package = BuiltPackage();
  const fs::path usr = package.root / "usr";
  BOOST_TEST(Executable(usr / "bin/presence-agent"));
  for (const char* file : {"index.html", "app.js", "style.css"}) {
    BOOST_TEST(fs::is_regular_file(usr / "share/presence-agent/dashboard" / file), file);
  }
  BOOST_TEST(!fs::exists(usr / "share/presence-agent/dashboard/screenshot.png"));
  BOOST_TEST(
      fs::is_regular_file(usr / "share/doc/presence-agent/samples/grafana/presence-agent.json"));
  BOOST_TEST(fs::is_regular_file(usr / "share/doc/presence-agent/samples/time-tracking-only.json"));
  BOOST_TEST(fs::is_regular_file(usr / "share/doc/presence-agent/README.md"));
  const std::string unit = ReadFile(usr / "lib/systemd/system/presence-agent.service");
  for (const char* line : {"Type=notify", "WatchdogSec=30s", "ExecReload=/bin/kill -HUP $MAINPID",
                           "User=presence-agent", "StateDirectory=presence-agent",
                           "ExecStart=/usr/bin/presence-agent serve -c "
                           "/etc/presence-agent/presence.json"}) {
    BOOST_TEST(Has(unit, std::string("\n") + line + "\n"), line);
  }
  // The configuration: a conffile, readable by root and the service's group only.
  BOOST_TEST(ReadFile(package.control / "conffiles") == "/etc/presence-agent/presence.json\n");
  std::istringstream listing(package.listing);
  std::string config_entry;
  for (std::string line; std::getline(listing, line);) {
    if (Has(line, "./etc/presence-agent/presence.json")) config_entry = line;
  }
  BOOST_TEST(config_entry.rfind("-rw-r----- root/root", 0) == 0, config_entry);
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    BOOST_TEST(Executable(package.control / script), script);
  }
  BOOST_TEST(Has(ReadFile(package.control / "postinst"), "adduser --quiet --system"));
  // Dependencies: ours, and the libraries the binary links (dpkg-shlibdeps).
  const std::string depends = Must({"dpkg-deb", "--field", package.deb.string(), "Depends"});
  for (const char* name : {"adduser", "tzdata", "libc6", "libcpprest2.10", "libsqlite3-0"}) {
    BOOST_TEST(Has(depends, name), name << " in " << depends);
  }
#if defined(PRESENCE_JEMALLOC)
  BOOST_TEST(Has(depends, "libjemalloc2"), depends);  // the allocator (CMakeLists.txt)
#endif
}

BOOST_AUTO_TEST_CASE(the_manual_page_describes_every_command) {
  const Package& package = BuiltPackage();
  const std::string page =
      Must({"gzip", "-dc", (package.root / "usr/share/man/man1/presence-agent.1.gz").string()});
  BOOST_TEST(Has(page, ".TH PRESENCE\\-AGENT 1"));
  for (const char* command : kCommands) {
    std::string roff = command;  // hyphens are written \- in roff
    for (size_t at = roff.find('-'); at != std::string::npos; at = roff.find('-', at + 2)) {
      roff.replace(at, 1, "\\-");
    }
    BOOST_TEST(Has(page, "\n.SS " + roff + "\n"), command);
  }
  BOOST_TEST(!Has(page, "\n.SS man\n"));  // the generator itself stays hidden
  BOOST_TEST(Has(page, "\\-\\-dashboard"));
  BOOST_TEST(Has(page, "\\-\\-full\\-check"));
}

BOOST_AUTO_TEST_CASE(the_packaged_configuration_is_valid_and_serves_on_loopback_only) {
  const Package& package = BuiltPackage();
  const fs::path config = package.root / "etc/presence-agent/presence.json";
  Must({(package.root / "usr/bin/presence-agent").string(), "check-config", "-c", config.string()});
  Object::Ptr server = testing::ParseObject(ReadFile(config))->getObject("server");
  BOOST_TEST(server->getValue<std::string>("listen") == "127.0.0.1:8080");
  BOOST_TEST(server->getValue<std::string>("data_dir") == "/var/lib/presence-agent");
}

BOOST_AUTO_TEST_CASE(the_unit_passes_systemd_analyze_verify) {
  const Package& package = BuiltPackage();
  if (RunCommand({"/bin/sh", "-c", "command -v systemd-analyze"}).exit_code != 0) {
    BOOST_TEST_MESSAGE("note: systemd-analyze is not installed; the unit was not verified");
    return;
  }
  const std::string unit =
      (package.root / "usr/lib/systemd/system/presence-agent.service").string();
  // Documentation=man:presence-agent(1) is looked up with man(1): in the unpacked tree.
  std::vector<std::string> verify = {"/usr/bin/env",
                                     "MANPATH=" + (package.root / "usr/share/man").string(),
                                     "systemd-analyze", "verify", unit};
  if (RunCommand({"/bin/sh", "-c", "command -v man"}).exit_code != 0) {
    BOOST_TEST_MESSAGE("note: man is not installed; Documentation= was not checked");
    verify.insert(verify.begin() + 3, "--man=no");
  }
  RunResult result = RunCommand(verify);
  BOOST_TEST_MESSAGE("systemd-analyze verify: exit " << result.exit_code << "\n"
                                                     << result.out << result.err);
  // The unit is checked as systemd would load it: a misspelt key, a bad value or a missing
  // command is a line naming it. The one line allowed is that ExecStart's binary is not
  // installed, when it is not (this test does not install into /usr).
  const std::string not_installed =
      "presence-agent.service: Command /usr/bin/presence-agent is not executable: No such file "
      "or directory";
  std::istringstream lines(result.out + result.err);
  size_t ours = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!Has(line, "presence-agent")) continue;
    ++ours;
    if (line == not_installed && !fs::exists("/usr/bin/presence-agent")) continue;
    BOOST_ERROR("systemd-analyze verify: " << line);
  }
  if (ours == 0) BOOST_TEST(result.exit_code == 0, result.out << result.err);

  // The hardening stays where it is: exposure at most 2.0 ("OK") in systemd's own scoring.
  RunResult security = RunCommand(
      {"/usr/bin/env", "systemd-analyze", "security", "--offline=true", "--threshold=20", unit});
  BOOST_TEST(security.exit_code == 0, security.out << security.err);
}

BOOST_AUTO_TEST_CASE(the_unpacked_agent_tells_systemd_when_it_is_ready_alive_reloading_and_done) {
  const Package& package = BuiltPackage();
  testing::TempDir dir;
  const fs::path binary = package.root / "usr/bin/presence-agent";
  const fs::path config = dir.File("presence.json");
  const std::string token =
      RunnableConfig(package.root / "etc/presence-agent/presence.json", binary, dir, config);
  // A mark only the unpacked copy of the page has: `/` must come from <root>/usr/share.
  const fs::path index = package.root / "usr/share/presence-agent/dashboard/index.html";
  WriteFile(index, ReadFile(index) + "<!-- the unpacked copy -->\n");

  NotifySocket systemd(dir.File("notify"));
  std::unique_ptr<Subprocess> agent =
      StartAgent(binary, config, {"NOTIFY_SOCKET=" + systemd.name(), "WATCHDOG_USEC=200000"});
  testing::ProcessWatchdog hang_guard(agent->pid(), std::chrono::seconds(60));
  std::optional<std::string> ready = systemd.WaitForLine("READY=1", kWait);
  BOOST_REQUIRE_MESSAGE(ready, "no READY=1; log:\n" << agent->Stderr());
  const uint16_t port = ReadPort(*agent);
  // Ready names the open port, which answers at once.
  BOOST_TEST(testing::HasLine(*ready, "STATUS=serving on http://127.0.0.1:" + std::to_string(port)),
             *ready);
  HttpClient client(port);
  BOOST_TEST(client.Get("/api/v1/health").status == 200);
  HttpResponse page = client.Get("/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(Has(page.body, "<!-- the unpacked copy -->"));
  BOOST_TEST(Has(agent->Stderr(), "dashboard files: " + index.parent_path().string()));
  BOOST_TEST(client.Get("/metrics", token).status == 200);

  // WATCHDOG_USEC=200000: the core thread pings every 100 ms.
  BOOST_TEST(systemd.WaitForLine("WATCHDOG=1", kWait).has_value());

  // SIGHUP: RELOADING=1 (with the time systemd 253+ matches it by), then READY=1 again, with
  // the new configuration in force.
  Object::Ptr edited = testing::ParseObject(ReadFile(config));
  testing::AddState(edited, "Training", "40", 5);
  WriteFile(config, testing::Stringify(edited));
  agent->Kill(SIGHUP);
  std::optional<std::string> reloading = systemd.WaitForLine("RELOADING=1", kWait);
  BOOST_REQUIRE(reloading);
  BOOST_TEST(Has(*reloading, "\nMONOTONIC_USEC="));
  std::optional<std::string> reloaded = systemd.WaitForLine("READY=1", kWait);
  BOOST_REQUIRE(reloaded);
  BOOST_TEST(Has(*reloaded, "; configuration reloaded"), *reloaded);
  BOOST_TEST(Has(client.Get("/api/v1/states", token).body, "\"Training\""));

  // SIGTERM: STOPPING=1, then a clean exit.
  agent->Kill(SIGTERM);
  BOOST_TEST(systemd.WaitForLine("STOPPING=1", kWait).has_value());
  BOOST_TEST(agent->Wait() == 0, agent->Stderr());
  BOOST_TEST(Has(agent->Stderr(), "stopped cleanly"));
}

BOOST_AUTO_TEST_CASE(cmake_install_to_a_prefix_serves_the_installed_dashboard) {
  testing::TempDir dir;
  const fs::path prefix = dir.path() / "prefix";
  Must({PRESENCE_CMAKE, "--install", kBuildDir.string(), "--prefix", prefix.string(), "--strip"});
  BOOST_TEST(fs::is_regular_file(prefix / "bin/presence-agent"));
  BOOST_TEST(fs::is_regular_file(prefix / "share/man/man1/presence-agent.1.gz"));
  BOOST_TEST(fs::is_regular_file(prefix / "share/doc/presence-agent/samples/dial-command.json"));
  // The service's files are the package's only: an install never writes /etc or a unit.
  BOOST_TEST(!fs::exists(prefix / "etc"));
  BOOST_TEST(!fs::exists(prefix / "lib/systemd"));
  const fs::path index = prefix / "share/presence-agent/dashboard/index.html";
  WriteFile(index, ReadFile(index) + "<!-- the installed copy -->\n");

  const fs::path binary = prefix / "bin/presence-agent";
  const fs::path config = dir.File("presence.json");
  RunnableConfig(prefix / "share/doc/presence-agent/samples/time-tracking-only.json", binary, dir,
                 config);
  // Started through a symbolic link elsewhere (as from /usr/local/bin): the lookup goes by
  // the executable itself.
  const fs::path link = dir.path() / "presence-agent";
  fs::create_symlink(binary, link);
  Subprocess agent({link.string(), "serve", "-c", config.string()});
  testing::ProcessWatchdog hang_guard(agent.pid(), std::chrono::seconds(60));
  HttpClient client(ReadPort(agent));
  HttpResponse page = client.Get("/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(Has(page.body, "<!-- the installed copy -->"));
  BOOST_TEST(client.Get("/dashboard/app.js").status == 200);
  agent.Kill(SIGTERM);
  BOOST_TEST(agent.Wait() == 0, agent.Stderr());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
