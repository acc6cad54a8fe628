#pragma once

// Prometheus metrics for GET /metrics. Recording is lock-free (atomics on fixed series
// registered up front), so it can sit on the hot path of every request and commit.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine.h"

namespace presence::agent {

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
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  // Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace presence::agent
