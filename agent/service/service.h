#pragma once

// `presence-agent serve`: the long-lived service. Opens the ledger in server.data_dir, runs
// the core, the live-stream hub and the HTTP API, and prints "listening on http://HOST:PORT"
// as its first line on standard output. SIGHUP re-reads the configuration (catalog, users,
// tokens) without dropping connections or state; a bad file is refused, its problems logged,
// and the old one kept. SIGTERM or SIGINT stops accepting, finishes the requests in flight,
// commits what is queued, and exits 0.

#include <string>

namespace presence::agent {

struct ServeOptions {
  std::string config_path;
  std::string dashboard_dir;  // static files of the supervisor page
  // PRAGMA integrity_check of the ledger at start instead of quick_check: also compares every
  // index with its table; takes longer on a large ledger.
  bool full_check = false;
};

// Returns the process exit code: 0 after a clean stop, 1 for a bad configuration, 2 when the
// ledger or the listening socket cannot be opened (also a damaged ledger, or one the agent may
// not write: checked before anything is served).
int RunServe(const ServeOptions& options);

}  // namespace presence::agent
