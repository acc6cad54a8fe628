#pragma once

// Prometheus metrics for GET /metrics. Recording is lock-free (atomics on fixed series
// registered up front), so it can sit on the hot path of every request and commit.
//
// Series: every event type x {ok, error}; every source; every route given to the constructor
// plus "other", each with the status codes 101 (a WebSocket upgrade) 200 201 204 400 401 403
// 404 405 409 413 415 422 426 429 500 503 plus "other". Latency histograms have buckets from
// 0.5 ms to 10 s; the events-per-commit histogram from 1 to 2000. All names start with
// "presence_".
//
// Why not a library: Debian 12 packages no C++ Prometheus client (prometheus-cpp is not in it,
// and Poco's Prometheus library is newer than its Poco 1.11). The text exposition format is
// "# HELP", "# TYPE" and "name{labels} value" lines, and our series are fixed at start-up, so
// the recording side is plain atomics and Render writes the lines.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine/engine.h"

namespace presence::agent {

// Every method is thread-safe; the recording ones never block and never allocate.
class Metrics {
 public:
  // `routes`: every route template the server answers ("GET /api/v1/agents/{id}"), so their
  // series exist up front; an unknown route is recorded as "other".
  explicit Metrics(std::vector<std::string> routes);
  ~Metrics();

  // presence_events_total{type,result="ok|error"}
  void CountEvent(EventType type, bool ok);
  // presence_changes_total{source}
  void CountChange(reasoncodes::Source source);
  // presence_http_requests_total{route,code} and presence_http_request_seconds{route} histogram
  void ObserveRequest(std::string_view route, int status, std::chrono::nanoseconds latency);
  // presence_ledger_commit_seconds histogram and presence_ledger_commit_events histogram
  void ObserveCommit(std::chrono::nanoseconds latency, size_t events);
  // A gauge read when rendering (stream viewers, users, connector queue depth, ...).
  // `name` gets the "presence_" prefix unless it has it; characters outside [A-Za-z0-9_:]
  // become '_'. Adding a name again replaces the earlier gauge. `read` runs on the thread that
  // calls Render, under a lock that AddGauge also takes: it must be quick and must not call
  // AddGauge. Thread-safe.
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  // Families whose samples carry labels (one series per connector), collected when rendering
  // and written after the built-in families and gauges, in the order added. `collect` runs
  // under the same lock as gauges: quick, and never calling back into Metrics. Thread-safe.
  struct Family {
    std::string name;  // gets the "presence_" prefix like a gauge's
    std::string type;  // "gauge" or "counter"
    std::string help;
    std::vector<std::pair<std::string, double>> samples;  // label set ("a=\"x\",b=\"y\"") -> value
  };
  void AddFamilies(std::function<std::vector<Family>()> collect);
  // One label pair for Family::samples, its value escaped: Label("connector", name).
  static std::string Label(std::string_view key, std::string_view value);

  // Prometheus text exposition format 0.0.4 (serve it as
  // "text/plain; version=0.0.4; charset=utf-8"). Thread-safe; counters read while others
  // record may be a few observations apart from each other, never torn.
  std::string Render() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace presence::agent
