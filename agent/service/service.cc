#include "agent/service/service.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <list>
#include <mutex>
#include <optional>

#include "agent/api/agent_view.h"
#include "agent/api/http_api.h"
#include "agent/api/http_loop.h"
#include "agent/api/metrics.h"
#include "agent/service/log_output.h"
#include "agent/service/systemd_notify.h"
#include "agent/stream/stream_hub.h"
#include "common/log.h"
#include "connectors/builtin/builtin_connectors.h"
#include "connectors/delivery/dispatcher.h"
#include "connectors/http/http_client.h"
#include "tracking/sqlite/sqlite_store.h"

namespace presence::agent {
namespace {

// The service's log on stderr, set from the configuration's "logging" block at start and on
// every reload. One per process: made before the first line is logged, never destroyed
// (threads may still log while the process exits).
LogOutput& Output() {
  static SystemClock* clock = new SystemClock();
  static LogOutput* output = new LogOutput(std::cerr, *clock, StreamIsJournal(STDERR_FILENO));
  return *output;
}

// A sink for one component's events (common/log.h).
LogSink SinkFor(std::string component, LogFields fields = {}) {
  return Output().SinkFor(std::move(component), std::move(fields));
}

// The service's own lines.
void Log(LogLevel level, std::string_view text, const LogFields& fields = {}) {
  static const LogSink* service = new LogSink(SinkFor("service"));
  (*service)(level, text, fields);
}

// A data folder the agent creates is its own (0700): the ledger holds everyone's working day.
// One that exists is left as the operator made it.
Status CreateDataDir(const std::string& data_dir) {
  std::error_code error;
  if (std::filesystem::exists(data_dir, error)) return Status::Ok();
  std::filesystem::create_directories(data_dir, error);
  if (!error) {
    std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, error);
  }
  if (error) {
    return Error{"storage_error",
                 "cannot create server.data_dir '" + data_dir + "': " + error.message()};
  }
  return Status::Ok();
}

// glibc gives each thread that allocates its own heap arena (up to 8 per core), and the
// blocking HTTP workers would each keep one, tens of MB that idle floors never give back; the
// few threads that allocate often (loops, core, hub) share 4 well. MALLOC_ARENA_MAX overrides.
void LimitHeapArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
}

// Streams hold a socket each: lift the soft limit on open files to the hard one.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

sigset_t ControlSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// SO_REUSEADDR, so a restart binds while the last run's connections linger in TIME_WAIT, but
// not SO_REUSEPORT, which Poco's ServerSocket(address, backlog) also sets: with it a second
// server binds the same port and the kernel splits the clients, and their acknowledged
// changes, between two ledgers.
void BindAndListen(Poco::Net::ServerSocket& socket, const Poco::Net::SocketAddress& address) {
  try {
    socket.bind(address, true, false);
  } catch (const Poco::Net::NetException& e) {
    if (e.code() != EADDRINUSE) throw;
    throw Poco::Net::NetException("port in use: another process listens on " + address.toString() +
                                  " (another presence-agent?)");
  }
  socket.listen(256);
}

// With TLS, the certificate and key are checked before anything is served: a mistake stops
// the start with the setting and the file named (the caller prefixes "cannot listen on ...").
Poco::Net::ServerSocket Listen(const ServerSettings& server) {
  using Poco::Net::Context;
  Poco::Net::SocketAddress address(server.host, static_cast<Poco::UInt16>(server.port));
  if (!server.tls) {
    Poco::Net::ServerSocket socket;
    BindAndListen(socket, address);
    return socket;
  }
  const TlsSettings& tls = *server.tls;
  for (const auto& [key, path] : {std::pair{"server.tls.certificate", tls.certificate},
                                  std::pair{"server.tls.private_key", tls.private_key}}) {
    if (::access(path.c_str(), R_OK) != 0) {
      throw Poco::OpenFileException(std::string(key) + " \"" + path +
                                    "\": " + std::strerror(errno));
    }
  }
  Poco::Net::initializeSSL();
  Context::Ptr context;
  try {
    context = new Context(Context::TLS_SERVER_USE, tls.private_key, tls.certificate, "",
                          Context::VERIFY_NONE);
  } catch (const Poco::Exception& e) {
    // Poco's message names the file and gives OpenSSL's reason ("PEM routines::no start line").
    throw Poco::Net::SSLContextException("server.tls: " + e.message());
  }
  // Poco loads the key first; OpenSSL then quietly discards it if the certificate does not match.
  if (SSL_CTX_check_private_key(context->sslContext()) != 1) {
    ERR_clear_error();
    throw Poco::Net::SSLContextException("server.tls.private_key \"" + tls.private_key +
                                         "\" is not the key of server.tls.certificate \"" +
                                         tls.certificate + "\"");
  }
  context->disableProtocols(Context::PROTO_SSLV2 | Context::PROTO_SSLV3 | Context::PROTO_TLSV1 |
                            Context::PROTO_TLSV1_1);
  Poco::Net::SecureServerSocket socket(context);
  BindAndListen(socket, address);
  return socket;
}

// Tokens a reload removed, or gave another role or user: their live streams must end.
std::vector<std::string> RevokedTokens(const Config& old, const Config& fresh) {
  std::vector<std::string> revoked;
  for (const TokenEntry& token : old.tokens) {
    const TokenEntry* now = fresh.FindTokenHash(token.sha256);
    if (now == nullptr || now->role != token.role || now->user != token.user) {
      revoked.push_back(token.sha256);
    }
  }
  return revoked;
}

// Counters of one value each, without labels.
Metrics::Family Counter(std::string name, std::string help, double value) {
  return Metrics::Family{std::move(name), "counter", std::move(help), {{"", value}}};
}

// The connectors' view of the configuration: its users are shared, not copied (100,000 users
// would cost 45 MB a copy).
std::shared_ptr<const connectors::Directory> MakeDirectory(std::shared_ptr<const Config> config) {
  auto directory = std::make_shared<connectors::Directory>();
  directory->catalog = config->catalog;
  directory->SetUsers(std::shared_ptr<const std::vector<User>>(config, &config->users));
  return directory;
}

// The user's present state as a change: what keep-alive connectors re-assert after a start.
tracking::Change CurrentState(const AgentState& state, const reasoncodes::Catalog& catalog) {
  tracking::Change change;
  change.agent = state.agent;
  change.at = state.since;
  change.label = state.label;
  change.source = state.source;
  change.cause = state.cause;
  if (const reasoncodes::State* found = catalog.Find(state.label)) {
    change.reason_code = found->reason_code;
    change.status = found->status;
  }
  return change;
}

double Seconds(const std::optional<Timestamp>& at) {
  return at ? std::chrono::duration<double>(at->time_since_epoch()).count() : 0;
}

// presence_crm_sync_* series of the one CRM sync (no labels).
std::vector<Metrics::Family> CrmSyncFamilies(const connectors::CrmSyncStats& stats) {
  auto one = [](std::string name, std::string type, std::string help, double value) {
    return Metrics::Family{
        "crm_sync_" + std::move(name), std::move(type), std::move(help), {{"", value}}};
  };
  auto count = [](long long value) { return static_cast<double>(value); };
  return {
      one("api_calls_total", "counter", "Salesforce REST calls made by the CRM sync",
          count(stats.api_calls_total)),
      one("api_calls_24h", "gauge", "Salesforce REST calls of the CRM sync in the last 24 hours",
          count(stats.api_calls_24h)),
      one("api_budget_per_day", "gauge", "The CRM sync's configured API calls per 24 hours",
          count(stats.api_budget_per_day)),
      one("records_upserted_total", "counter", "Records Salesforce acknowledged",
          count(stats.records_upserted)),
      one("records_refused_total", "counter", "Records Salesforce refused",
          count(stats.records_refused)),
      one("pending_records", "gauge", "Changed figures not yet acknowledged",
          count(stats.pending_records)),
      one("consecutive_failures", "gauge", "Failed passes since the last success",
          count(stats.consecutive_failures)),
      one("last_success_timestamp_seconds", "gauge", "When a pass last succeeded (0: never)",
          Seconds(stats.last_success)),
  };
}

std::vector<Metrics::Family> ConnectorFamilies(
    const std::vector<std::pair<std::string, connectors::QueueStats>>& all) {
  using Stats = connectors::QueueStats;
  auto family = [&all](std::string name, std::string type, std::string help,
                       double (*value)(const Stats&)) {
    Metrics::Family made{"connector_" + name, std::move(type), std::move(help), {}};
    for (const auto& [connector, stats] : all) {
      made.samples.emplace_back(Metrics::Label("connector", connector), value(stats));
    }
    return made;
  };
  std::vector<Metrics::Family> families = {
      family("queue_depth", "gauge", "Changes waiting in the outbox",
             [](const Stats& s) { return static_cast<double>(s.depth); }),
      family("in_flight", "gauge", "Deliveries under way",
             [](const Stats& s) { return static_cast<double>(s.in_flight); }),
      family("consecutive_failures", "gauge", "Failed attempts since the last success",
             [](const Stats& s) { return static_cast<double>(s.consecutive_failures); }),
      family("last_success_timestamp_seconds", "gauge", "When a delivery last succeeded (0: never)",
             [](const Stats& s) { return Seconds(s.last_success); }),
      family("last_failure_timestamp_seconds", "gauge", "When a delivery last failed (0: never)",
             [](const Stats& s) { return Seconds(s.last_failure); }),
  };
  Metrics::Family deliveries{"connector_deliveries_total", "counter", "Delivery outcomes", {}};
  for (const auto& [connector, s] : all) {
    const std::pair<const char*, uint64_t> results[] = {{"delivered", s.delivered},
                                                        {"retried", s.retried},
                                                        {"rejected", s.rejected},
                                                        {"coalesced", s.coalesced},
                                                        {"refreshed", s.refreshed}};
    for (const auto& [result, count] : results) {
      deliveries.samples.emplace_back(
          Metrics::Label("connector", connector) + "," + Metrics::Label("result", result),
          static_cast<double>(count));
    }
  }
  families.push_back(std::move(deliveries));
  return families;
}

// presence_stream_errors_total{where}: what the live stream caught and logged.
Metrics::Family StreamErrors(const StreamHub& hub) {
  Metrics::Family family{"stream_errors_total",
                         "counter",
                         "Unexpected errors the live stream caught and logged, by where",
                         {}};
  for (const auto& [where, count] : hub.errors()) {
    family.samples.emplace_back(Metrics::Label("where", where), static_cast<double>(count));
  }
  return family;
}

class Service {
 public:
  Service(const ServeOptions& options, std::shared_ptr<const Config> config,
          std::unique_ptr<tracking::TimeStore> store)
      : options_(options),
        store_(std::move(store)),
        http_(connectors::NewHttpClient()),
        connectors_(*store_, SinkFor("connector")),
        core_(config->catalog, *store_, clock_),
        metrics_(ApiRouteNames()),
        hub_(
            HubOptions(config->server),
            [this](const AgentState& state) { return FormatAgent(state); },
            [this] { return core_.snapshot(); }, SinkFor("stream")),
        context_(config, *store_, core_, hub_, metrics_, clock_, connectors_) {
    context_.reload = [this] { return Reload(); };
    context_.log = SinkFor("http");
    context_.tls = config->server.tls.has_value();
    context_.dashboard_dir = options.dashboard_dir;
    const std::string sessions = config->server.data_dir + "/sessions";
    if (!context_.sessions.Persist(sessions, std::chrono::system_clock::now())) {
      Log(LogLevel::kWarning, sessions + ": unreadable; dashboard sessions start afresh");
    }
    core_.AddListener([this](const CommitNotice& notice) {
      connectors_.Enqueue(notice.outbox);
      hub_.Publish(notice.updates);
      if (notice.durable) metrics_.ObserveCommit(notice.commit_time, notice.events);
    });
    metrics_.AddFamilies([this] { return ConnectorFamilies(connectors_.Stats()); });
    metrics_.AddFamilies([this] {
      return crm_sync_ ? CrmSyncFamilies(crm_sync_->stats()) : std::vector<Metrics::Family>{};
    });
    context_.crm_sync_status = [this] {
      return crm_sync_ ? crm_sync_->StatusJson() : Poco::JSON::Object::Ptr();
    };
    metrics_.AddGauge("presence_stream_viewers", "Live-stream connections",
                      [this] { return static_cast<double>(hub_.viewers()); });
    metrics_.AddGauge("presence_stream_dropped_slow", "Viewers disconnected for falling behind",
                      [this] { return static_cast<double>(hub_.dropped_slow()); });
    metrics_.AddFamilies([this] { return std::vector<Metrics::Family>{StreamErrors(hub_)}; });
    metrics_.AddGauge("presence_pbx_mismatch_users",
                      "Users whose phone system differs from what their state's actions asked for",
                      [this] {
                        double users = 0;
                        std::shared_ptr<const Snapshot> snapshot = core_.snapshot();
                        snapshot->agents.ForEach([&](const AgentState& state) {
                          if (!state.pbx_mismatches.empty()) users += 1;
                        });
                        return users;
                      });
    metrics_.AddGauge("presence_over_budget_users",
                      "Users over today's budget (budget_seconds_per_day) of some state", [this] {
                        double users = 0;
                        const Timestamp now = clock_.Now();
                        std::shared_ptr<const Config> now_config = context_.config.load();
                        core_.snapshot()->agents.ForEach([&](const AgentState& state) {
                          if (OverBudget(state, now, now_config->zone)) users += 1;
                        });
                        return users;
                      });
    metrics_.AddFamilies([this] {
      Metrics::Family family{"users_by_status",
                             "gauge",
                             "Users per status of their current state (settings' seven codes)",
                             {}};
      std::array<double, 8> users{};  // by status code 1-7
      std::shared_ptr<const Snapshot> snapshot = core_.snapshot();
      snapshot->agents.ForEach([&](const AgentState& state) {
        if (const reasoncodes::State* known = snapshot->catalog->Find(state.label)) {
          users[static_cast<size_t>(reasoncodes::ToInt(known->status))] += 1;
        }
      });
      for (int code = 1; code <= 7; ++code) {
        family.samples.emplace_back(
            Metrics::Label("status",
                           reasoncodes::StatusName(static_cast<reasoncodes::StatusCode>(code))),
            users[static_cast<size_t>(code)]);
      }
      return std::vector<Metrics::Family>{std::move(family)};
    });
    metrics_.AddGauge("presence_users", "Users with a state",
                      [this] { return static_cast<double>(core_.snapshot()->agents.size()); });
    AddConnectionMetrics();
  }

  int Run() {
    Result<tracking::OutboxState> outbox = store_->LoadOutbox();
    if (!outbox.ok()) {
      Log(LogLevel::kError, "start-up failed: " + outbox.error().message);
      return 2;
    }
    std::shared_ptr<const Config> initial = context_.config.load();
    // The port first: a second server must stop before it starts anything.
    Poco::Net::ServerSocket socket;
    try {
      socket = Listen(initial->server);
    } catch (const Poco::Exception& e) {
      Log(LogLevel::kError, "cannot listen on " + initial->server.host + ":" +
                                std::to_string(initial->server.port) + ": " + e.displayText());
      return 2;
    }
    if (!CreateConnectors(initial)) return 1;
    if (!CreateCrmSync(initial)) return 2;
    core_.SetOutboxPlanner(
        [this](const std::vector<tracking::Change>& changes,
               std::vector<tracking::OutboxItem>& rows) { connectors_.Plan(changes, rows); },
        outbox->last_id);
    // systemd's WatchdogSec: the core thread itself says it is alive, at half the interval.
    if (std::optional<std::chrono::microseconds> watchdog = WatchdogInterval()) {
      core_.SetHeartbeat(
          [this] { static_cast<void>(notifier_.Notify("WATCHDOG=1")); },
          std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog / 2),
                   std::chrono::milliseconds(1)));
    }
    if (Status status = core_.Start(); !status.ok()) {
      Log(LogLevel::kError, "start-up failed: " + status.error().message);
      return 2;
    }
    std::vector<tracking::Change> current;
    std::shared_ptr<const Snapshot> snapshot = core_.snapshot();
    for (const auto& [id, state] : snapshot->agents.Sorted()) {
      current.push_back(CurrentState(*state, *snapshot->catalog));
    }
    connectors_.Start(std::move(outbox).value(), current);
    if (crm_sync_) crm_sync_->Start();
    if (Status status = hub_.Start(); !status.ok()) {
      Log(LogLevel::kError, "stream hub: " + status.error().message);
      // The connectors may be posting inbound events to the core: stop them before the
      // members go (the core is destroyed before the connectors).
      if (crm_sync_) crm_sync_->Stop();
      connectors_.Stop();
      core_.Stop();
      return 2;
    }
    StartHttp(initial->server, socket);
    Log(LogLevel::kInfo, "dashboard files: " + options_.dashboard_dir);
    // Ready only now: the port listens and the core has restored every user from the ledger.
    Notify("READY=1\nSTATUS=" + serving_);
    WaitForStop();
    Notify("STOPPING=1\nSTATUS=stopping: finishing requests in flight");
    Log(LogLevel::kInfo, "stopping: finishing requests in flight");
    server_->Stop();
    core_.Stop();
    if (crm_sync_) crm_sync_->Stop();
    connectors_.Stop();
    hub_.Stop();
    Log(LogLevel::kInfo, "stopped cleanly");
    return 0;
  }

 private:
  static StreamHubOptions HubOptions(const ServerSettings& server) {
    StreamHubOptions options;
    options.max_viewers = server.max_viewers;
    options.viewer_buffer_bytes = static_cast<size_t>(server.viewer_buffer_bytes);
    options.history_bytes = static_cast<size_t>(server.stream_history_bytes);
    return options;
  }

  // Connections and authentication for /metrics (see http_loop.h, auth_throttle.h).
  void AddConnectionMetrics() {
    metrics_.AddGauge("presence_http_connections_open",
                      "HTTP connections open (live streams are counted by the stream hub)",
                      [this] { return server_ ? double(server_->stats().open) : 0.0; });
    metrics_.AddGauge("presence_http_workers_busy",
                      "Blocking HTTP workers running a request (reports, ledger reads, files)",
                      [this] { return server_ ? double(server_->stats().busy_workers) : 0.0; });
    metrics_.AddGauge("presence_http_connections_queued",
                      "Requests waiting for a blocking HTTP worker",
                      [this] { return server_ ? double(server_->stats().waiting) : 0.0; });
    metrics_.AddFamilies([this] {
      const ConnectionCounters& connections = *connection_counters_;
      return std::vector<Metrics::Family>{
          Counter("connections_refused_total",
                  "Connections refused: their address had server.max_connections_per_client open",
                  static_cast<double>(connections.refused.load())),
          Counter("connections_dropped_total",
                  "Connections closed unserved: the process was out of file descriptors",
                  server_ ? double(server_->stats().dropped) : 0.0),
          Counter("connections_broken_total",
                  "Connections ended by a network error or server.io_timeout_seconds",
                  static_cast<double>(connections.broken.load())),
          Counter("auth_failures_total", "Requests with a wrong token or session",
                  static_cast<double>(context_.auth_throttle.failures())),
          Counter("auth_throttled_total",
                  "Requests refused (429) after server.auth_failures_per_minute failures",
                  static_cast<double>(context_.auth_throttle.throttled())),
      };
    });
  }

  std::string FormatAgent(const AgentState& state) {
    std::shared_ptr<const Config> config = context_.config.load();
    return AgentViewText(state, *core_.snapshot()->catalog, config->FindUser(state.agent));
  }

  // Every configured connector, created from its parsed block. False (logged) on a failure.
  bool CreateConnectors(const std::shared_ptr<const Config>& shared) {
    const Config& config = *shared;
    connectors_.SetDirectory(MakeDirectory(shared));
    connectors::ConnectorEnv env{&clock_, {}, http_.get()};
    env.inbound = [this](connectors::InboundEvent event) { PostInbound(std::move(event)); };
    for (const connectors::ConnectorConfig& entry : config.connectors) {
      const connectors::ConnectorType* type = connectors::BuiltinConnectors().Find(entry.type);
      env.name = entry.name;
      env.log = SinkFor("connector", {{"connector", entry.name}});
      std::unique_ptr<connectors::Connector> connector =
          type ? type->create(entry.settings, env) : nullptr;
      if (!connector) {
        Log(LogLevel::kError,
            "connector " + entry.name + " (" + entry.type + ") cannot be created");
        return false;
      }
      connectors_.Add(std::make_unique<connectors::Dispatcher>(
          entry.name, entry.type, entry.policy, std::move(connector), *store_, clock_, env.log));
      env.log(LogLevel::kInfo, "configured", {{"type", entry.type}});
    }
    return true;
  }

  // An event a connector read from its system (the PBX as a source): posted to the core like
  // an API request. The connector's thread does not wait for the commit.
  void PostInbound(connectors::InboundEvent inbound) {
    if (inbound.kind == connectors::InboundEvent::Kind::kPbxStatus) {
      if (!inbound.mismatches.empty()) {
        SinkFor("connector", {{"connector", inbound.connector}})(
            LogLevel::kWarning,
            inbound.user + "'s " + inbound.mismatches[0].item + " is " +
                inbound.mismatches[0].actual + ", the state asked for " +
                inbound.mismatches[0].wanted + (inbound.mismatches.size() > 1 ? " (and more)" : ""),
            {{"user", inbound.user}});
      }
      core_.ReportPbx(inbound.user, inbound.connector, std::move(inbound.mismatches));
      return;
    }
    Event event;
    event.agent = inbound.user;
    event.source = inbound.source;
    switch (inbound.kind) {
      case connectors::InboundEvent::Kind::kSelect:
        event.type = EventType::kSelect;
        event.label = inbound.label;
        break;
      case connectors::InboundEvent::Kind::kCallStarted:
        event.type = EventType::kCallStarted;
        break;
      case connectors::InboundEvent::Kind::kCallAnswered:
        event.type = EventType::kCallAnswered;
        break;
      case connectors::InboundEvent::Kind::kCallEnded:
        event.type = EventType::kCallEnded;
        event.duration_s = inbound.duration_s;
        break;
      case connectors::InboundEvent::Kind::kLogout:
        event.type = EventType::kLogout;
        break;
      case connectors::InboundEvent::Kind::kPbxStatus:
        return;  // handled above
    }
    event.call_id = inbound.call_id;
    event.direction = inbound.outbound ? Direction::kOutbound : Direction::kInbound;
    event.internal = inbound.internal;
    std::string what = std::string(EventTypeName(event.type)) + " for " + event.agent +
                       (event.label.empty() ? "" : " (" + event.label + ")") +
                       (event.call_id.empty() ? "" : " call " + event.call_id);
    const LogSink log = SinkFor("connector", {{"connector", inbound.connector}});
    log(LogLevel::kInfo, what, {{"user", event.agent}});
    std::future<Result<Reply>> reply = core_.Post(std::move(event));
    // The engine's answer is read later, without waiting: a refusal (a label removed by a
    // reload, a user's clock going backwards) is logged when the next event comes.
    std::lock_guard lock(inbound_mutex_);
    inbound_replies_.emplace_back(Inbound{log, std::move(what), inbound.user}, std::move(reply));
    for (auto it = inbound_replies_.begin(); it != inbound_replies_.end();) {
      if (it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ++it;
        continue;
      }
      Result<Reply> result = it->second.get();
      if (!result.ok()) {
        it->first.log(LogLevel::kWarning, it->first.what + " refused: " + result.error().message,
                      {{"user", it->first.user}, {"error", result.error().code}});
      }
      it = inbound_replies_.erase(it);
    }
  }

  // The CRM time-tracking sync, when configured: its saved progress is loaded and its API
  // spending checked against the budget before anything starts. False (logged) on a failure.
  bool CreateCrmSync(const std::shared_ptr<const Config>& shared) {
    const Config& config = *shared;
    const reasoncodes::Settings& settings = config.catalog->settings();
    if (!config.crm_sync) {
      if (settings.time_tracking) {
        Log(LogLevel::kInfo,
            "time tracking: kept in the ledger for reports; no crm_sync block, so "
            "nothing is sent to a CRM");
      }
      return true;
    }
    connectors::TimeTrackingSync::Schedule schedule{settings.tracking_update_seconds, config.zone};
    crm_sync_ = std::make_unique<connectors::TimeTrackingSync>(
        *config.crm_sync, schedule,
        connectors::ConnectorEnv{&clock_, SinkFor("crm_sync"), http_.get()}, *store_);
    crm_sync_->SetDirectory(*MakeDirectory(shared));
    if (Status loaded = crm_sync_->Load(); !loaded.ok()) {
      SinkFor("crm_sync")(LogLevel::kError,
                          "cannot read its saved progress: " + loaded.error().message);
      return false;
    }
    WarnAboutApiBudget(config);
    SinkFor("crm_sync")(LogLevel::kInfo, "upserting " + config.crm_sync->object + " every " +
                                             std::to_string(settings.tracking_update_seconds) +
                                             " s (days in " + config.zone.name() + ")");
    return true;
  }

  // Start-up check of the sync's expected REST calls against its daily budget.
  void WarnAboutApiBudget(const Config& config) {
    std::set<std::string> users;
    for (const User& user : config.users) users.insert(user.id);
    if (auto stored = store_->LoadAgents(); stored.ok()) {
      for (const tracking::StoredAgent& agent : *stored) users.insert(agent.agent);
    }
    const int interval = config.catalog->settings().tracking_update_seconds;
    const long long projected = connectors::ProjectedCallsPerDay(
        static_cast<int>(users.size()), interval, config.crm_sync->batch_size);
    if (projected > config.crm_sync->api_budget_per_day) {
      SinkFor("crm_sync")(LogLevel::kWarning,
                          std::to_string(users.size()) + " users every " +
                              std::to_string(interval) + " s need about " +
                              std::to_string(projected) +
                              " Salesforce API calls a day, more than api_budget_per_day (" +
                              std::to_string(config.crm_sync->api_budget_per_day) +
                              "); the sync will pause when the budget is spent. Raise "
                              "settings.tracking_update_seconds or the budget.");
    }
  }

  void StartHttp(const ServerSettings& settings, const Poco::Net::ServerSocket& socket) {
    LoopServerOptions options;
    // A few event-loop threads serve every connection; the blocking workers take only the
    // routes that may wait (reports, ledger reads, files, reloads). One per two cores (at least
    // one, at most 4): the core, the journal's sync, the fold and the stream hub need the
    // others (on 2 cores one loop answered 8% more durable changes than two: README, Benchmarks).
    options.loops = static_cast<int>(std::clamp(std::thread::hardware_concurrency() / 2, 1u, 4u));
    options.workers = settings.workers;
    options.io_timeout = std::chrono::seconds(settings.io_timeout_seconds);
    options.keep_alive = std::chrono::seconds(settings.keep_alive_seconds);
    options.max_per_client = settings.max_connections_per_client;
    server_ = std::make_unique<LoopServer>(context_, socket, options, connection_counters_);
    server_->Start();
    serving_ = std::string("serving on ") + (settings.tls ? "https" : "http") + "://" +
               settings.host + ":" + std::to_string(socket.address().port());
    std::cout << "listening on " << (settings.tls ? "https" : "http") << "://" << settings.host
              << ":" << socket.address().port() << std::endl;
  }

  // A failure is logged, not fatal: the agent serves on; systemd decides about a start that
  // never says READY.
  void Notify(const std::string& message) {
    if (Status sent = notifier_.Notify(message); !sent.ok()) {
      Log(LogLevel::kWarning, sent.error().message);
    }
  }

  // Serves until SIGTERM or SIGINT; SIGHUP reloads the configuration.
  void WaitForStop() {
    sigset_t set = ControlSignals();
    for (;;) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      if (signal != SIGHUP) return;
      Notify(ReloadingMessage());
      const bool reloaded = Reload().empty();
      Notify("READY=1\nSTATUS=" + serving_ +
             (reloaded ? "; configuration reloaded" : "; reload refused, see the log"));
    }
  }

  std::vector<std::string> Reload() {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    ConfigLoad load = LoadConfigFile(options_.config_path);
    if (!load.ok()) {
      Log(LogLevel::kError,
          "reload refused; the old configuration stays in force. " +
              std::to_string(load.problems.size()) + " problem(s) follow",
          {{"problems", load.problems.size()}});
      for (const std::string& problem : load.problems) {
        Log(LogLevel::kError, "reload problem: " + problem);
      }
      return load.problems.empty() ? std::vector<std::string>{"configuration not loaded"}
                                   : load.problems;
    }
    Output().Configure(load.config->logging);  // this reload's own lines already follow it
    std::shared_ptr<const Config> old = context_.config.load();
    if (load.config->server.port != old->server.port ||
        load.config->server.host != old->server.host ||
        load.config->server.data_dir != old->server.data_dir) {
      Log(LogLevel::kWarning, "server settings changed; they take effect at the next start");
    }
    if (load.config->connectors_text != old->connectors_text) {
      Log(LogLevel::kWarning,
          "connector settings changed; they take effect at the next start (mappings "
          "and users apply now)");
    }
    if (load.config->crm_sync_text != old->crm_sync_text ||
        load.config->zone.name() != old->zone.name() ||
        load.config->catalog->settings().tracking_update_seconds !=
            old->catalog->settings().tracking_update_seconds) {
      Log(LogLevel::kWarning,
          "crm_sync, settings.time_zone or settings.tracking_update_seconds changed; the CRM "
          "sync uses them from the next start (reports use the new time zone now)");
    }
    const ServerSettings& was = old->server;
    const ServerSettings& now = load.config->server;
    if (now.io_timeout_seconds != was.io_timeout_seconds ||
        now.max_connections_per_client != was.max_connections_per_client ||
        now.stream_history_bytes != was.stream_history_bytes) {
      Log(LogLevel::kWarning,
          "server.io_timeout_seconds, max_connections_per_client or stream_history_bytes changed; "
          "they take effect at the next start");
    }
    for (const std::string& warning : load.warnings) Log(LogLevel::kWarning, warning);
    const std::vector<std::string> revoked = RevokedTokens(*old, *load.config);
    context_.config.store(load.config);
    if (!revoked.empty()) {
      // After the store: a stream authorized by the old configuration and added later is
      // closed by its own handler's check (api_handlers.cc, Detach).
      hub_.CloseOwners(revoked);
      context_.sessions.DropTokens(revoked);
      Log(LogLevel::kInfo,
          std::to_string(revoked.size()) +
              " token(s) removed or changed: their live streams and dashboard sessions "
              "are closed");
    }
    core_.SetCatalog(load.config->catalog).get();
    connectors_.SetDirectory(MakeDirectory(load.config));
    if (crm_sync_) crm_sync_->SetDirectory(*MakeDirectory(load.config));
    Log(LogLevel::kInfo,
        "configuration reloaded: " + std::to_string(load.config->catalog->states().size()) +
            " states, " + std::to_string(load.config->users.size()) + " users, " +
            std::to_string(load.config->tokens.size()) + " tokens",
        {{"warnings", load.warnings.size()}});
    return {};
  }

  ServeOptions options_;
  SystemdNotifier notifier_ = SystemdNotifier::FromEnvironment();
  std::string serving_;  // "serving on http://HOST:PORT", for systemd's STATUS=
  SystemClock clock_;
  std::unique_ptr<tracking::TimeStore> store_;
  std::unique_ptr<connectors::HttpClient> http_;
  // Inbound events posted by connectors whose answer was not read yet (see PostInbound).
  std::mutex inbound_mutex_;
  struct Inbound {
    LogSink log;  // the connector's
    std::string what;
    std::string user;
  };
  std::list<std::pair<Inbound, std::future<Result<Reply>>>> inbound_replies_;
  connectors::ConnectorSet connectors_;  // before core_: the core's planner uses it
  Core core_;
  Metrics metrics_;
  StreamHub hub_;
  ApiContext context_;
  std::unique_ptr<connectors::TimeTrackingSync> crm_sync_;
  std::shared_ptr<ConnectionCounters> connection_counters_ = std::make_shared<ConnectionCounters>();
  std::unique_ptr<LoopServer> server_;
  std::mutex reload_mutex_;
};

}  // namespace

int RunServe(const ServeOptions& options) {
  // Before any thread starts, so every thread inherits the mask and only sigwait sees them.
  sigset_t set = ControlSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  ConfigLoad load = LoadConfigFile(options.config_path);
  if (load.ok()) Output().Configure(load.config->logging);
  for (const std::string& warning : load.warnings) Log(LogLevel::kWarning, warning);
  if (!load.ok()) {
    std::cerr << options.config_path << ": " << load.problems.size() << " problem(s):\n";
    for (const std::string& problem : load.problems) std::cerr << "  " << problem << "\n";
    return 1;
  }
  RaiseFileLimit();
  LimitHeapArenas();
  const std::string data_dir = load.config->server.data_dir;
  if (Status created = CreateDataDir(data_dir); !created.ok()) {
    Log(LogLevel::kError, created.error().message);
    return 2;
  }
  tracking::LedgerOptions ledger{
      .durability = load.config->server.durability,
      .check = options.full_check ? tracking::LedgerCheck::kFull : tracking::LedgerCheck::kQuick,
      .log = SinkFor("ledger")};
  auto store = tracking::OpenSqliteTimeStore(data_dir + "/presence.db", ledger);
  if (!store.ok()) {
    Log(LogLevel::kError, store.error().message);
    return 2;
  }
  Service service(options, load.config, std::move(store).value());
  return service.Run();
}

}  // namespace presence::agent
