#pragma once

// The HTTP API (/api/v1, JSON) on Poco's HTTPServer: routing, authentication (bearer token or
// dashboard session cookie), roles, body limits, and JSON errors. Every request is answered
// with JSON (or CSV / Prometheus text where asked); a bad request never changes state.
// Endpoints: see api_handlers.cc and the OpenAPI document served at /api/v1/openapi.json.

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/api/auth_throttle.h"
#include "agent/api/metrics.h"
#include "agent/api/sessions.h"
#include "agent/config/config.h"
#include "agent/core/core.h"
#include "agent/stream/stream_hub.h"
#include "common/log.h"
#include "connectors/delivery/dispatcher.h"
#include "tracking/time_store.h"

namespace presence::agent {

// What the request handlers share. Lives as long as the HTTP server.
struct ApiContext {
  ApiContext(std::shared_ptr<const Config> initial, tracking::TimeStore& the_store, Core& the_core,
             StreamHub& the_hub, Metrics& the_metrics, const Clock& the_clock,
             const connectors::ConnectorSet& the_connectors)
      : config(std::move(initial)),
        store(the_store),
        core(the_core),
        hub(the_hub),
        metrics(the_metrics),
        clock(the_clock),
        connectors(the_connectors) {}

  AtomicShared<const Config> config;  // swapped whole on reload
  tracking::TimeStore& store;
  Core& core;
  StreamHub& hub;
  Metrics& metrics;
  const Clock& clock;
  const connectors::ConnectorSet& connectors;  // for GET /api/v1/connectors
  // The service's log for the HTTP API (component "http"); may be empty. A request that
  // fails with an exception is logged and counted through it.
  LogSink log;
  // The CRM time-tracking sync's status for GET /api/v1/crm-sync; empty or nullptr: none.
  std::function<Poco::JSON::Object::Ptr()> crm_sync_status;
  SessionStore sessions;
  // Re-reads the configuration file (admin reload, SIGHUP): the problems when refused.
  std::function<std::vector<std::string>()> reload;
  bool tls = false;
  std::string dashboard_dir;          // static files for the supervisor page; empty = none
  AuthThrottle auth_throttle{clock};  // wrong credentials per client address (Authorize)
};

Poco::Net::HTTPRequestHandlerFactory::Ptr NewApiHandlerFactory(ApiContext& context);

// Whether a request may run on an event-loop thread (http_loop.h): its handler neither blocks
// nor reads the ledger (a change posted to the core is answered later, see AsyncAnswers).
// Reports, ledger reads, sessions (saved to a file), reloads and the like run on the blocking
// workers instead; the pages' small static files are served on the loop.
// Requests that match no route (answered 404 or 405) run on the loop.
bool RunsOnLoop(const std::string& method, const std::string& uri);

// "GET /api/v1/agents/{id}" for every route, for metrics labels.
std::vector<std::string> ApiRouteNames();

}  // namespace presence::agent
