#pragma once

// The presence-agent command line. Exit codes: 0 success; 1 bad usage or configuration;
// 2 a runtime failure (storage, I/O); 3 replay/ingest finished but some input lines were bad.

namespace presence::agent {

int RunCli(int argc, char** argv);

}  // namespace presence::agent
