#include "tests/fakes/kamailio.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/fakes/subprocess.h"

namespace presence::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kInstallHint[] =
    "install the Debian packages kamailio and kamailio-presence-modules "
    "(scripts/install-deps.sh does)";
constexpr char kTlsInstallHint[] =
    "install the Debian packages kamailio-tls-modules and openssl (scripts/install-deps.sh does)";
constexpr char kDebianModulesDir[] = "/usr/lib/x86_64-linux-gnu/kamailio/modules";
// From the package kamailio, then from kamailio-presence-modules.
const std::vector<std::string> kCoreModules = {"tm",   "sl",      "pv",  "maxfwd",
                                               "xlog", "textops", "auth"};
const std::vector<std::string> kPresenceModules = {"presence", "presence_xml",
                                                   "presence_dialoginfo"};
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr int kPortAttempts = 5;

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool IsExecutable(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

// PATH first, then the sbin folders a non-root PATH often lacks.
std::string FindProgram(const std::string& name, const std::string& hint) {
  std::vector<std::string> folders;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream list(path);
    std::string folder;
    while (std::getline(list, folder, ':')) {
      if (!folder.empty()) folders.push_back(folder);
    }
  }
  for (const char* folder : {"/usr/sbin", "/usr/local/sbin", "/sbin"}) folders.push_back(folder);
  for (const std::string& folder : folders) {
    std::string candidate = folder + "/" + name;
    if (IsExecutable(candidate)) return candidate;
  }
  throw std::runtime_error("the " + name + " binary was not found: " + hint);
}

bool HasModule(const std::string& dir, const std::string& name) {
  return std::filesystem::is_regular_file(std::filesystem::path(dir) / (name + ".so"));
}

// `kamailio -I` prints "Default paths to modules: <dir>[:<dir>...]"; the first one that holds
// the presence module wins, else the Debian folder.
std::string FindModulesDir(const std::string& binary) {
  std::vector<std::string> candidates;
  RunResult info = RunCommand({binary, "-I"});
  std::istringstream lines(info.out + "\n" + info.err);
  const std::string kLabel = "Default paths to modules:";
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(kLabel);
    if (at == std::string::npos) continue;
    std::stringstream dirs(line.substr(at + kLabel.size()));
    for (std::string dir; std::getline(dirs, dir, ':');) {
      dir.erase(0, dir.find_first_not_of(" \t"));
      dir.erase(dir.find_last_not_of(" \t\r") + 1);
      if (!dir.empty()) candidates.push_back(dir);
    }
  }
  candidates.push_back(kDebianModulesDir);
  std::string dir = candidates.front();
  for (const std::string& candidate : candidates) {
    if (HasModule(candidate, "presence")) {
      dir = candidate;
      break;
    }
  }
  for (const std::string& module : kCoreModules) {
    if (!HasModule(dir, module))
      throw std::runtime_error("the Kamailio module " + module + ".so is missing from " + dir +
                               ": " + kInstallHint);
  }
  for (const std::string& module : kPresenceModules) {
    if (!HasModule(dir, module))
      throw std::runtime_error("the Kamailio presence module " + module + ".so is missing from " +
                               dir + ": " + kInstallHint);
  }
  return dir;
}

// A socket bound to 127.0.0.1:port; -1 when the port is taken.
int BindLoopback(int type, uint16_t port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed: " + std::string(strerror(errno)));
  if (type == SOCK_STREAM) {
    int yes = 1;  // as Kamailio does: a connection in TIME_WAIT does not block its listener
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw std::runtime_error("getsockname failed: " + std::string(strerror(errno)));
  return ntohs(address.sin_port);
}

bool PortFree(uint16_t port, bool tcp) {
  Fd udp(BindLoopback(SOCK_DGRAM, port));
  if (udp.get() < 0) return false;
  if (!tcp) return true;
  Fd stream(BindLoopback(SOCK_STREAM, port));
  return stream.get() >= 0;
}

// A TCP port other than `besides` that is free right now (the TLS listener's).
uint16_t PickTcpPort(uint16_t besides) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    Fd stream(BindLoopback(SOCK_STREAM, 0));
    if (stream.get() < 0) throw std::runtime_error("cannot bind a TCP socket on 127.0.0.1");
    uint16_t port = BoundPort(stream.get());
    if (port != besides) return port;
  }
  throw std::runtime_error("no other TCP port on 127.0.0.1 is free");
}

// True once something accepts TCP connections on 127.0.0.1:port.
bool TcpAccepts(uint16_t port) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// Runs the openssl command line; throws with its output when it fails.
void RunOpenssl(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {FindProgram("openssl", kTlsInstallHint)};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  RunResult run = RunCommand(argv);
  if (run.exit_code != 0) {
    std::string command;
    for (const std::string& arg : argv) command += arg + " ";
    throw std::runtime_error("openssl failed: " + command + "\n" + run.out + run.err);
  }
}

// A port that is free for UDP (and TCP) right now. Another process may still take it before
// Kamailio binds it; the constructor then tries another one.
uint16_t PickPort(bool tcp) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    Fd udp(BindLoopback(SOCK_DGRAM, 0));
    if (udp.get() < 0) throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
    uint16_t port = BoundPort(udp.get());
    if (!tcp) return port;
    Fd stream(BindLoopback(SOCK_STREAM, port));
    if (stream.get() >= 0) return port;
  }
  throw std::runtime_error("no port on 127.0.0.1 is free for both UDP and TCP");
}

void CheckConfigWord(const std::string& what, const std::string& value) {
  bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == '@';
  });
  if (!ok)
    throw std::invalid_argument("Kamailio digest " + what + " \"" + value +
                                "\": use letters, digits and .-_@ only, not empty");
}

std::string Tail(const std::string& text, size_t size) {
  return text.size() <= size ? text : "..." + text.substr(text.size() - size);
}

std::string RandomToken() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::ostringstream token;
  token << std::hex << generator();
  return token.str();
}

}  // namespace

std::string Kamailio::Config(const Options& options, const std::string& modules_dir, uint16_t port,
                             uint16_t tls_port, const std::string& tls_config) {
  const std::string address = "127.0.0.1:" + std::to_string(port);
  std::ostringstream cfg;
  cfg << "#!KAMAILIO\n"
      << "# Loopback presence server for tests (integrations.md 5.6, no-database variant).\n"
      << "debug=2\n"
      << "log_stderror=yes\n"
      << "children=2\n"
      << "auto_aliases=no\n"
      << "disable_sctp=yes\n"
      << "listen=udp:" << address << "\n";
  if (options.tcp) cfg << "listen=tcp:" << address << "\n";
  if (options.tls) {
    // TLS runs over Kamailio's TCP layer, so TCP stays enabled (listening only where asked).
    cfg << "enable_tls=yes\n"
        << "listen=tls:127.0.0.1:" << tls_port << "\n";
  }
  if (options.tcp || options.tls) {
    cfg << "tcp_children=1\n";
  } else {
    cfg << "disable_tcp=yes\n";
  }
  cfg << "alias=\"127.0.0.1\"\n"
      << "mpath=\"" << modules_dir << "/\"\n\n";
  // tls first: it sets up OpenSSL before any other module can use it.
  if (options.tls) cfg << "loadmodule \"tls.so\"\n";
  for (const std::string& module : kCoreModules) {
    if (module != "auth" || options.auth) cfg << "loadmodule \"" << module << ".so\"\n";
  }
  for (const std::string& module : kPresenceModules) cfg << "loadmodule \"" << module << ".so\"\n";
  cfg << "\n";
  if (options.tls) cfg << "modparam(\"tls\", \"config\", \"" << tls_config << "\")\n";
  cfg << "modparam(\"presence\", \"publ_cache\", 2)\n"
      << "modparam(\"presence\", \"subs_db_mode\", 0)\n"
      << (options.max_expires > 0 ? "modparam(\"presence\", \"max_expires\", " +
                                        std::to_string(options.max_expires) + ")\n"
                                  : std::string())
      << "modparam(\"presence\", \"server_address\", \"sip:" << address << "\")\n"
      << "modparam(\"presence_xml\", \"force_active\", 1)\n\n"
      << "request_route {\n"
      << "\tif (!mf_process_maxfwd_header(\"10\")) {\n"
      << "\t\tsl_send_reply(\"483\", \"Too Many Hops\");\n"
      << "\t\texit;\n"
      << "\t}\n"
      << "\tif (is_method(\"OPTIONS\")) {\n"
      << "\t\tsl_send_reply(\"200\", \"OK\");\n"
      << "\t\texit;\n"
      << "\t}\n"
      << "\tif (is_method(\"PUBLISH|SUBSCRIBE\")) {\n";
  if (options.auth) {
    const DigestAuth& auth = *options.auth;
    CheckConfigWord("realm", auth.realm);
    CheckConfigWord("user", auth.user);
    CheckConfigWord("password", auth.password);
    const bool www = auth.challenge == DigestAuth::Challenge::kWww;
    const std::string check = www ? "pv_www_authenticate" : "pv_proxy_authenticate";
    const std::string challenge = www ? "www_challenge" : "proxy_challenge";
    const std::string realm = "\"" + auth.realm + "\"";
    // Flags "1": qop=auth; "17": qop=auth and stale=true, for an expired nonce (-4).
    cfg << "\t\t" << check << "(" << realm << ", \"" << auth.password << "\", \"0\");\n"
        << "\t\t$var(auth) = $rc;\n"
        << "\t\tif ($var(auth) < 0 || $au != \"" << auth.user << "\") {\n"
        << "\t\t\tif ($var(auth) == -4) {\n"
        << "\t\t\t\t" << challenge << "(" << realm << ", \"17\");\n"
        << "\t\t\t} else {\n"
        << "\t\t\t\t" << challenge << "(" << realm << ", \"1\");\n"
        << "\t\t\t}\n"
        << "\t\t\texit;\n"
        << "\t\t}\n"
        << "\t\tconsume_credentials();\n";
  }
  cfg << "\t\tif (!t_newtran()) {\n"
      << "\t\t\tsl_reply_error();\n"
      << "\t\t\texit;\n"
      << "\t\t}\n"
      << "\t\tif (is_method(\"PUBLISH\")) {\n"
      << "\t\t\thandle_publish();\n"
      << "\t\t} else {\n"
      << "\t\t\thandle_subscribe();\n"
      << "\t\t}\n"
      << "\t\tt_release();\n"
      << "\t\texit;\n"
      << "\t}\n"
      << "\tif (is_method(\"ACK\")) {\n"
      << "\t\texit;\n"
      << "\t}\n"
      << "\tsl_send_reply(\"405\", \"Method Not Allowed\");\n"
      << "\texit;\n"
      << "}\n";
  return cfg.str();
}

Kamailio::Kamailio() : Kamailio(Options{}) {}

Kamailio::Kamailio(Options options) : options_(std::move(options)) {
  binary_ = FindProgram("kamailio", kInstallHint);
  modules_dir_ = FindModulesDir(binary_);
  if (options_.tls && !HasModule(modules_dir_, "tls"))
    throw std::runtime_error("the Kamailio module tls.so is missing from " + modules_dir_ + ": " +
                             kTlsInstallHint);
  std::filesystem::create_directories(dir_.path() / "run");
  if (options_.tls) MakeTlsFiles();
  for (int attempt = 1;; ++attempt) {
    port_ = PickPort(options_.tcp);
    if (options_.tls) tls_port_ = PickTcpPort(port_);
    WriteAndCheckConfig();
    const size_t log_before = Log().size();
    Launch();
    Outcome outcome = WaitUntilAnswering(kStartTimeout);
    if (outcome == Outcome::kAnswered) return;
    std::string log = Log().substr(log_before);
    KillGroupAndReap();
    // Someone else took a port between PickPort and Kamailio's bind: try others.
    bool clash =
        outcome == Outcome::kExited && log.find("Address already in use") != std::string::npos;
    if (!clash || attempt == kPortAttempts)
      throw std::runtime_error(std::string("Kamailio did not start on 127.0.0.1:") +
                               std::to_string(port_) +
                               (outcome == Outcome::kExited ? " (it exited)" : " (no answer)") +
                               "; its log:\n" + Tail(log, 4000));
  }
}

Kamailio::~Kamailio() {
  try {
    Stop();
  } catch (...) {
    // A destructor must not throw; Stop only throws when a system call fails.
  }
}

std::string Kamailio::uri() const { return "sip:127.0.0.1:" + std::to_string(port_); }

std::string Kamailio::tls_ca_path() const {
  return options_.tls ? dir_.File("test-ca.pem") : std::string();
}

std::string Kamailio::MakeTestCa(const std::filesystem::path& dir, const std::string& name) {
  const std::string key = (dir / (name + ".key")).string();
  const std::string pem = (dir / (name + ".pem")).string();
  RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", key, "-out", pem, "-days", "2", "-subj",
              "/O=Presence Agent tests/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign"});
  return pem;
}

void Kamailio::MakeServerCertificate(const std::filesystem::path& dir, const std::string& ca_name,
                                     const std::string& name, const std::string& subject_alt_name) {
  const std::string key = (dir / (name + ".key")).string();
  const std::string request = (dir / (name + ".csr")).string();
  const std::string extensions = (dir / (name + ".ext")).string();
  {
    std::ofstream out(extensions, std::ios::trunc);
    out << "basicConstraints = CA:FALSE\n"
        << "keyUsage = critical, digitalSignature\n"
        << "extendedKeyUsage = serverAuth\n"
        << "subjectAltName = " << subject_alt_name << "\n";
    if (!out) throw std::runtime_error("cannot write " + extensions);
  }
  RunOpenssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
              "-keyout", key, "-out", request, "-subj", "/O=Presence Agent tests/CN=" + name});
  RunOpenssl({"x509", "-req", "-in", request, "-CA", (dir / (ca_name + ".pem")).string(), "-CAkey",
              (dir / (ca_name + ".key")).string(), "-set_serial",
              std::to_string(std::random_device{}() | 1U), "-days", "2", "-extfile", extensions,
              "-out", (dir / (name + ".pem")).string()});
}

void Kamailio::MakeTlsFiles() {
  MakeTestCa(dir_.path(), "test-ca");
  MakeServerCertificate(dir_.path(), "test-ca", "server", options_.tls->subject_alt_name);
  std::ofstream out(dir_.File("tls.cfg"), std::ios::trunc);
  // Kamailio presents the certificate and asks none of its clients; as a client (a NOTIFY on a
  // new connection) it does not check the other side either.
  out << "[server:default]\n"
      << "method = TLSv1.2+\n"
      << "verify_certificate = no\n"
      << "require_certificate = no\n"
      << "certificate = " << dir_.File("server.pem") << "\n"
      << "private_key = " << dir_.File("server.key") << "\n\n"
      << "[client:default]\n"
      << "method = TLSv1.2+\n"
      << "verify_certificate = no\n"
      << "require_certificate = no\n";
  if (!out) throw std::runtime_error("cannot write " + dir_.File("tls.cfg"));
}

void Kamailio::WriteAndCheckConfig() {
  {
    std::ofstream out(config_path(), std::ios::trunc);
    out << Config(options_, modules_dir_, port_, tls_port_, dir_.File("tls.cfg"));
    if (!out) throw std::runtime_error("cannot write " + config_path());
  }
  RunResult check = RunCommand({binary_, "-c", "-f", config_path()});
  if (check.exit_code != 0)
    throw std::runtime_error("kamailio -c rejected " + config_path() + ":\n" +
                             Tail(check.out + check.err, 4000));
}

void Kamailio::Launch() {
  const std::string log_path = dir_.File("kamailio.log");
  const std::string run_dir = (dir_.path() / "run").string();
  const std::string work_dir = dir_.path().string();
  Fd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  Fd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log.get() < 0 || null.get() < 0)
    throw std::runtime_error("cannot open " + log_path + " or /dev/null");
  {
    std::ofstream marker(log_path, std::ios::app);
    marker << "=== presence tests: starting kamailio on port " << port_ << " ===\n";
  }
  // Shared memory 32 MB (unless the options ask for more), private 8 MB per process: plenty
  // for tests, and several Kamailios fit on one machine.
  const std::string shared =
      std::to_string(options_.shared_memory_mb > 0 ? options_.shared_memory_mb : 32);
  std::vector<std::string> argv = {binary_, "-f", config_path(), "-DD", "-E", "-Y",
                                   run_dir, "-m", shared,        "-M",  "8"};
  // Built before fork: the child of a threaded process may only call async-signal-safe code.
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed: " + std::string(strerror(errno)));
  if (pid == 0) {
    // Its own process group, so Stop can reach the workers; SIGTERM when the test dies, which
    // Kamailio turns into an orderly shutdown of its workers.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    // exec keeps the signal mask and ignored signals (the test ignores SIGPIPE): start clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(null.get(), STDIN_FILENO);
    dup2(log.get(), STDOUT_FILENO);
    dup2(log.get(), STDERR_FILENO);
    // No inherited sockets of other fakes in Kamailio's processes.
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    }
    if (chdir(work_dir.c_str()) != 0) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so that the group exists before the parent signals it
  pid_ = pid;
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels: polled then
}

bool Kamailio::ChildExited(int wait_ms) {
  if (pidfd_ >= 0) {
    pollfd ready{pidfd_, POLLIN, 0};
    int n;
    do {
      n = poll(&ready, 1, wait_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    siginfo_t info{};
    // WNOWAIT: the zombie keeps its pid, so the process group id cannot be reused yet.
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_)
      return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Kamailio::KillGroupAndReap() {
  if (pid_ <= 0) return;
  // Workers normally left with the main process; this reaches any that did not.
  kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
  pid_ = -1;
}

Kamailio::Outcome Kamailio::WaitUntilAnswering(std::chrono::milliseconds timeout) {
  Fd probe(BindLoopback(SOCK_DGRAM, 0));
  if (probe.get() < 0) throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
  const uint16_t local_port = BoundPort(probe.get());
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port_);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string call_id = "probe-" + RandomToken();
  const auto deadline = Clock::now() + timeout;
  for (int cseq = 1; Clock::now() < deadline; ++cseq) {
    std::ostringstream options;
    options << "OPTIONS sip:127.0.0.1:" << port_ << " SIP/2.0\r\n"
            << "Via: SIP/2.0/UDP 127.0.0.1:" << local_port << ";branch=z9hG4bK" << RandomToken()
            << ";rport\r\n"
            << "Max-Forwards: 70\r\n"
            << "From: <sip:probe@127.0.0.1>;tag=" << RandomToken() << "\r\n"
            << "To: <sip:127.0.0.1:" << port_ << ">\r\n"
            << "Call-ID: " << call_id << "\r\n"
            << "CSeq: " << cseq << " OPTIONS\r\n"
            << "Content-Length: 0\r\n\r\n";
    const std::string request = options.str();
    // Refused (ICMP port unreachable) while Kamailio is not bound yet: ignored, sent again.
    sendto(probe.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&server),
           sizeof server);
    pollfd fds[2] = {{probe.get(), POLLIN, 0}, {pidfd_, POLLIN, 0}};
    const nfds_t count = pidfd_ >= 0 ? 2 : 1;
    int n = poll(fds, count, 100);
    if (n < 0 && errno != EINTR) throw std::runtime_error("poll failed");
    if (n > 0 && (fds[0].revents & POLLIN)) {
      char buffer[4096];
      ssize_t size = recv(probe.get(), buffer, sizeof buffer, 0);
      std::string_view answer(buffer, size > 0 ? static_cast<size_t>(size) : 0);
      // Kamailio listens on every socket before its workers answer; checked all the same.
      if (answer.starts_with("SIP/2.0 200 ") && answer.find(call_id) != std::string_view::npos &&
          (tls_port_ == 0 || TcpAccepts(tls_port_)))
        return Outcome::kAnswered;
    }
    if (ChildExited(0)) return Outcome::kExited;
  }
  return Outcome::kTimedOut;
}

void Kamailio::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const int wait_ms =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kStopTimeout).count());
  if (!ChildExited(wait_ms)) {
    kill(-pid_, SIGKILL);
    ChildExited(wait_ms);
  }
  KillGroupAndReap();
}

void Kamailio::Start() {
  if (pid_ > 0) return;
  const auto deadline = Clock::now() + kStartTimeout;
  for (;;) {
    // The old processes let the port go as they exit; the kernel may also still hold it.
    while (!PortFree(port_, options_.tcp) ||
           (tls_port_ != 0 && Fd(BindLoopback(SOCK_STREAM, tls_port_)).get() < 0)) {
      if (Clock::now() >= deadline)
        throw std::runtime_error("port " + std::to_string(port_) +
                                 " did not become free for the Kamailio restart");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const size_t log_before = Log().size();
    Launch();
    Outcome outcome = WaitUntilAnswering(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (outcome == Outcome::kAnswered) return;
    std::string log = Log().substr(log_before);
    KillGroupAndReap();
    bool clash =
        outcome == Outcome::kExited && log.find("Address already in use") != std::string::npos;
    if (!clash || Clock::now() >= deadline)
      throw std::runtime_error("Kamailio did not restart on 127.0.0.1:" + std::to_string(port_) +
                               "; its log:\n" + Tail(log, 4000));
  }
}

std::string Kamailio::Log() const {
  std::ifstream in(dir_.File("kamailio.log"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace presence::testing
