#pragma once

// `presence-agent simulate`: drives a running agent's HTTP API the way a floor of softphones
// would, for demos and load checks. The random process is agent/simulate/traffic_model.h; this half
// does the HTTP (Poco, keep-alive, one connection per worker thread) and the reporting.
//
// Simulated time is scaled so that all agents together send `rate` events per second: with
// many agents and a low rate a call lasts minutes as in real life; with few agents and a high
// rate the day runs fast (the log prints the factor). Call ends carry duration_s, so the
// recorded talk time is the simulated one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace presence::agent {

struct SimulationOptions {
  // The agent's base URL, "http://host:port" (no TLS).
  std::string url = "http://127.0.0.1:8080";
  // Bearer token. An integration token may act for every user; an agent token only for its own.
  std::string token;
  // How many softphones. With `agent_ids` empty the ids come from GET /api/v1/agents (the
  // first `agents` of them) when the token may read it, else "1001", "1002", ... in order.
  int agents = 10;
  // The users to simulate (then `agents` <= 0 means all of them, else the first `agents`).
  std::vector<std::string> agent_ids;
  // Events per second, all agents together (> 0).
  double rate = 5;
  // Seconds to run; 0: until *stop.
  double duration_s = 0;
  // The same seed (against the same catalog and ids) sends the same actions in the same order
  // per connection.
  uint64_t seed = 1;
  // Connections, one thread each, agents shared out round-robin; 0: one per 100 events/s,
  // 2 to 16, never more than the agents.
  int workers = 0;
  // On stop, send call_ended for every call in progress so none stays open on the server.
  bool end_calls_on_stop = true;
  // Set by the caller (its SIGINT/SIGTERM handler) to stop; may be null. Read, never written.
  const std::atomic<bool>* stop = nullptr;
  // How often the totals line is printed.
  std::chrono::milliseconds report_every{1000};
};

// Runs until `duration_s` has passed or *stop is set. Writes a header, a line of totals per
// report period ("sent, ok, errors by HTTP status and error code") and a summary to `log`.
// Returns 0 when it ran (errors are counted, not fatal), 1 for bad options, 2 when the agent
// could not be used: unreachable, its states unreadable, or not one request succeeded.
int RunSimulation(const SimulationOptions& options, std::ostream& log);

}  // namespace presence::agent
