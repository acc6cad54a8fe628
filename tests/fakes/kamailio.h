#pragma once

// A real Kamailio 5.6 presence server on loopback for SIP tests (integrations.md 5.6, the
// no-database variant: publ_cache 2, subs_db_mode 0, so every start begins empty). It handles
// PUBLISH and SUBSCRIBE for the events presence (presence_xml, every watcher authorized) and
// dialog (presence_dialoginfo), answers OPTIONS with 200, and optionally demands digest
// authentication for PUBLISH and SUBSCRIBE with one fixed user and password (auth module,
// pv_www_authenticate / pv_proxy_authenticate, no database), and optionally listens on TLS too
// (tls module) with a server certificate signed by a test CA the fixture makes with the openssl
// command line.
//
// Kamailio runs as a child process of the test, as the current user, with its configuration,
// run directory and log in a fresh temporary directory. It needs the Debian packages kamailio
// and kamailio-presence-modules, for TLS kamailio-tls-modules and openssl
// (scripts/install-deps.sh); the constructor throws std::runtime_error naming them when the
// binary or a module is missing.
//
// Not thread-safe: construct, Stop, Start and destroy it on one thread, the one that lives as
// long as the object (the child gets SIGTERM when that thread exits, PR_SET_PDEATHSIG).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "tests/fakes/temp_dir.h"

namespace presence::testing {

class Kamailio {
 public:
  // Digest authentication for PUBLISH and SUBSCRIBE (in-dialog refreshes too). Realm, user and
  // password may hold letters, digits and ".-_@" only (they are written into the config).
  struct DigestAuth {
    enum class Challenge {
      kWww,    // 401 with WWW-Authenticate; the client answers with Authorization
      kProxy,  // 407 with Proxy-Authenticate; the client answers with Proxy-Authorization
    };
    std::string realm = "presence.test";
    std::string user = "agent";
    std::string password = "secret";
    Challenge challenge = Challenge::kProxy;
  };

  // A TLS listener on a port of its own (tls_port()). Its certificate and key are made in the
  // fixture's folder at construction: a test CA (tls_ca_path()) signs a server certificate for
  // subject_alt_name. Kamailio asks no certificate of its clients.
  struct Tls {
    // The server certificate's subjectAltName in openssl's syntax: "IP:127.0.0.1" (what the
    // agent must see when it connects to 127.0.0.1), "DNS:sip.other.example"...
    std::string subject_alt_name = "IP:127.0.0.1";
  };

  struct Options {
    bool tcp = false;  // also listen on TCP, at the same port number as UDP
    std::optional<DigestAuth> auth;
    // The longest lifetime Kamailio grants a publication or subscription (presence module
    // max_expires), so tests see refreshes in seconds; 0 keeps Kamailio's default (3600).
    int max_expires = 0;
    // Shared memory in MB (kamailio -m); 0: 32. Thousands of publications and subscriptions
    // need more (Kamailio answers 500 when its shared memory runs out).
    int shared_memory_mb = 0;
    std::optional<Tls> tls;  // also listen on TLS
  };

  // Picks a free port on 127.0.0.1, writes and checks the config (`kamailio -c`), starts
  // Kamailio and returns once it answers an OPTIONS over UDP with 200. Throws
  // std::runtime_error with Kamailio's log when it does not start.
  Kamailio();  // UDP only, no authentication
  explicit Kamailio(Options options);
  ~Kamailio();  // Stop(), then removes the temporary directory
  Kamailio(const Kamailio&) = delete;
  Kamailio& operator=(const Kamailio&) = delete;

  uint16_t port() const { return port_; }
  uint16_t tls_port() const { return tls_port_; }  // 0 without Options::tls
  // The test CA that signed the TLS certificate (PEM); empty without Options::tls.
  std::string tls_ca_path() const;
  std::string host() const { return "127.0.0.1"; }
  std::string uri() const;  // "sip:127.0.0.1:<port>"
  const Options& options() const { return options_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM, then waits for the exit; SIGKILL to every Kamailio process after 10 s. Kamailio
  // forgets every publication and subscription. Does nothing when it is not running.
  void Stop();
  // Starts it again on the same port (waiting until the old processes have let it go), and
  // returns once it answers; does nothing when it runs. Throws std::runtime_error when it does
  // not come up within 15 s.
  void Start();

  // Kamailio's standard error and output so far, over all starts.
  std::string Log() const;
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string config_path() const { return dir_.File("kamailio.cfg"); }

  // The configuration text for a port (what the constructor writes); with options.tls, the TLS
  // port and the tls module's configuration file. Throws std::invalid_argument for auth values
  // with characters other than the allowed ones.
  static std::string Config(const Options& options, const std::string& modules_dir, uint16_t port,
                            uint16_t tls_port = 0, const std::string& tls_config = "");

  // Makes a self-signed test CA in dir (<name>.pem, <name>.key, EC P-256, valid 2 days) with the
  // openssl command line and returns the certificate's path; a CA that signed nothing of a
  // Kamailio is what a test gives the agent to see a certificate refused. Throws
  // std::runtime_error with openssl's output when it fails.
  static std::string MakeTestCa(const std::filesystem::path& dir, const std::string& name);
  // Makes <name>.pem and <name>.key in dir: a server certificate for subject_alt_name signed by
  // the CA MakeTestCa made as ca_name in the same folder.
  static void MakeServerCertificate(const std::filesystem::path& dir, const std::string& ca_name,
                                    const std::string& name, const std::string& subject_alt_name);

 private:
  enum class Outcome { kAnswered, kExited, kTimedOut };

  void MakeTlsFiles();
  void WriteAndCheckConfig();
  void Launch();
  Outcome WaitUntilAnswering(std::chrono::milliseconds timeout);
  bool ChildExited(int wait_ms);  // true when the main process has exited (not yet reaped)
  void KillGroupAndReap();

  const Options options_;
  std::string binary_;
  std::string modules_dir_;
  TempDir dir_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  pid_t pid_ = -1;  // the main Kamailio process, leader of its own process group
  int pidfd_ = -1;  // readable when pid_ exits
};

}  // namespace presence::testing
