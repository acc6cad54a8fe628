#include "connectors/teams/teams_connector.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json_read.h"
#include "connectors/connector_config.h"
#include "connectors/http/http_client.h"
#include "connectors/http/token_cache.h"
#include "connectors/teams/teams_protocol.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Object;
using json::Problems;
using json::Quote;
using json::Report;

constexpr std::string_view kType = "teams";
constexpr std::string_view kSetPresence = "setPresence";
constexpr std::string_view kSetPreferred = "setUserPreferredPresence";
constexpr std::string_view kClearPreferred = "clearUserPreferredPresence";
constexpr std::string_view kDefaultLoginUrl = "https://login.microsoftonline.com";
constexpr std::string_view kDefaultGraphUrl = "https://graph.microsoft.com/v1.0";
constexpr std::string_view kExampleGuid = "22553876-f5ab-4529-bffb-cfe50aa89f87";
constexpr long long kMinTimeoutMs = 100;
constexpr long long kMaxTimeoutMs = 120000;
// A preferred presence set without expirationDuration lapses after 1 day for Busy and
// DoNotDisturb (1.3); refresh deliveries set it again well before that.
constexpr std::chrono::hours kPreferredRenewAfter{12};

struct TeamsSettings final : ConnectorSettings {
  std::string name;
  std::string tenant;
  std::string client_id;
  std::string client_secret;
  std::string login_url{kDefaultLoginUrl};
  std::string graph_url{kDefaultGraphUrl};
  std::chrono::seconds expiration{3600};
  Millis request_timeout{10000};
};

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::optional<std::string> ReadRequired(const Object& block, const std::string& path,
                                        const std::string& key, std::string_view what,
                                        Problems& problems) {
  if (!block.has(key)) {
    Report(problems, Child(path, key), "missing (" + std::string(what) + ")");
    return std::nullopt;
  }
  return json::ReadString(block.get(key), Child(path, key), problems);
}

void ReadApplication(const Object& block, const std::string& path, TeamsSettings& settings,
                     Problems& problems) {
  if (auto tenant = ReadRequired(block, path, "tenant",
                                 "the Entra tenant: a GUID or a domain such as "
                                 "contoso.onmicrosoft.com",
                                 problems)) {
    if (IsGuid(*tenant) || IsTenantDomain(*tenant)) {
      settings.tenant = *tenant;
    } else {
      Report(problems, Child(path, "tenant"),
             Quote(*tenant) +
                 " is neither a tenant GUID nor a domain such as "
                 "contoso.onmicrosoft.com");
    }
  }
  std::string guid_example = "a GUID such as " + std::string(kExampleGuid);
  if (auto client_id = ReadRequired(block, path, "client_id",
                                    "the application (client) id, " + guid_example, problems)) {
    if (IsGuid(*client_id)) {
      settings.client_id = *client_id;
    } else {
      Report(problems, Child(path, "client_id"),
             Quote(*client_id) + " is not an application (client) id (" + guid_example + ")");
    }
  }
  if (!block.has("client_secret")) {
    Report(problems, Child(path, "client_secret"),
           "missing (the application's client secret: \"text\", {\"env\": \"NAME\"} or "
           "{\"file\": \"path\"})");
  } else if (auto secret =
                 ReadSecret(block.get("client_secret"), Child(path, "client_secret"), problems)) {
    settings.client_secret = std::move(*secret);  // never empty: ReadSecret reports that
  }
}

void ReadEndpoints(const Object& block, const std::string& path, TeamsSettings& settings,
                   Problems& problems) {
  if (block.has("login_url")) {
    if (auto url = ReadHttpUrl(block.get("login_url"), Child(path, "login_url"), problems)) {
      settings.login_url = WithoutTrailingSlash(*url);
    }
  }
  if (block.has("graph_url")) {
    if (auto url = ReadHttpUrl(block.get("graph_url"), Child(path, "graph_url"), problems)) {
      settings.graph_url = WithoutTrailingSlash(*url);
    }
  }
  if (block.has("request_timeout_ms")) {
    if (auto ms = json::ReadNumberInRange(block.get("request_timeout_ms"),
                                          Child(path, "request_timeout_ms"), kMinTimeoutMs,
                                          kMaxTimeoutMs, problems)) {
      settings.request_timeout = Millis(*ms);
    }
  }
}

void ReadExpiration(const Object& block, const std::string& path, TeamsSettings& settings,
                    Problems& problems) {
  if (!block.has("expiration")) return;
  std::string at = Child(path, "expiration");
  std::optional<std::string> text = json::ReadString(block.get("expiration"), at, problems);
  if (!text) return;
  std::string allowed =
      FormatIsoDuration(kMinExpiration) + ".." + FormatIsoDuration(kMaxExpiration);
  std::optional<std::chrono::seconds> duration = ParseIsoDuration(*text);
  if (!duration) {
    Report(problems, at,
           Quote(*text) + " is not an ISO-8601 duration (" + allowed + ", e.g. \"PT1H\")");
  } else if (*duration < kMinExpiration || *duration > kMaxExpiration) {
    Report(problems, at, Quote(*text) + " is out of range (" + allowed + ")");
  } else {
    settings.expiration = *duration;
  }
}

// Every state's "teams" block, checked now so a bad pair stops the load instead of every
// delivery of that state.
void CheckStateMappings(const reasoncodes::Catalog& catalog, Problems& problems) {
  ForEachStateMapping(catalog, kType, [&](const Object& block, const std::string& path) {
    ReadTeamsMapping(block, path, problems);
  });
}

std::shared_ptr<const ConnectorSettings> ParseTeams(const BlockContext& context,
                                                    Problems& problems) {
  auto settings = std::make_shared<TeamsSettings>();
  settings->name = context.name;
  std::size_t before = problems.size();
  ReadApplication(context.block, context.path, *settings, problems);
  ReadEndpoints(context.block, context.path, *settings, problems);
  ReadExpiration(context.block, context.path, *settings, problems);
  CheckStateMappings(context.catalog, problems);
  if (problems.size() != before) return nullptr;
  return settings;
}

// The pair a change shows in Teams, from the catalog the delivery was handed.
Result<PresencePair> PairFor(const Change& change, const Directory& directory) {
  reasoncodes::Mode mode =
      directory.catalog ? directory.catalog->settings().mode : reasoncodes::Mode::kNone;
  std::optional<PresencePair> mapping;
  if (const reasoncodes::State* state = directory.FindState(change.label)) {
    if (std::optional<json::Object> block = StateMapping(*state, kType)) {
      Problems problems;
      mapping = ReadTeamsMapping(*block, "mappings.teams", problems);
      if (!mapping) {
        return Error{"bad_mapping", "state " + Quote(change.label) + ": " + problems.front()};
      }
    }
  }
  return ChoosePresencePair(mapping, change.reason_code, change.status, mode);
}

class TeamsConnector final : public Connector {
 public:
  TeamsConnector(std::shared_ptr<const TeamsSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)),
        clock_(*env.clock),
        log_(env.log),
        http_(*env.http),
        tokens_(*env.clock, [this] { return FetchToken(); }) {}

  // Every state maps to a pair, so every change goes out (a user without a Graph id is
  // rejected at delivery, where it shows in the connector's status).
  bool Wants(const Change&, const Directory&) const override { return true; }
  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override;
  std::optional<ConnectorDetails> Details() const override;

 private:
  struct Step {
    std::string_view action;
    PresencePair pair;  // what it sets (none for clearUserPreferredPresence)
    std::string body;
  };
  // What this process last left as a user's preferred presence.
  struct Memory {
    std::optional<PresencePair> preferred;
    Timestamp preferred_at;
  };

  Result<AccessToken> FetchToken();
  std::vector<Step> Plan(const Delivery& delivery, PresencePair pair) const;
  DeliveryResult Run(const std::vector<Step>& steps, const std::string& agent,
                     const std::string& object_id);
  DeliveryResult Call(const Step& step, const std::string& agent, const std::string& object_id);
  Result<HttpResponse> Post(const std::string& url, const std::string& body,
                            const std::string& token);
  DeliveryResult Classify(const Result<HttpResponse>& response, const std::string& what) const;
  std::optional<Memory> Recall(const std::string& agent) const;
  void Remember(const std::string& agent, const Step& step);
  void Log(LogLevel level, const std::string& text) const {
    log_(level, text);  // env.log names the connector
  }

  std::shared_ptr<const TeamsSettings> settings_;
  const Clock& clock_;
  LogSink log_;
  HttpClient& http_;
  TokenCache tokens_;
  mutable std::mutex mutex_;
  std::map<std::string, Memory> memory_;  // by user id; absent: unknown since the start
  std::optional<Timestamp> token_expires_at_;
};

DeliveryResult TeamsConnector::Deliver(const Delivery& delivery, const Directory& directory) {
  const std::string& agent = delivery.change.agent;
  const User* user = directory.FindUser(agent);
  if (!user) return DeliveryResult::Rejected("user " + agent + " is not configured");
  auto identity = user->identities.find(std::string(kType));
  if (identity == user->identities.end() || identity->second.empty()) {
    return DeliveryResult::Rejected("user " + agent + " has no identities.teams (Entra object id)");
  }
  if (!IsGuid(identity->second)) {
    return DeliveryResult::Rejected("user " + agent + ": identities.teams " +
                                    Quote(identity->second) +
                                    " is not an Entra object id (a GUID)");
  }
  Result<PresencePair> pair = PairFor(delivery.change, directory);
  if (!pair) return DeliveryResult::Rejected(pair.error().message);
  return Run(Plan(delivery, *pair), agent, identity->second);
}

std::vector<TeamsConnector::Step> TeamsConnector::Plan(const Delivery& delivery,
                                                       PresencePair pair) const {
  const TeamsSettings& settings = *settings_;
  std::optional<Memory> memory = Recall(delivery.change.agent);
  bool session = IsSetPresencePair(pair);
  PresencePair shown = session ? pair : kKeepAlivePair;
  std::vector<Step> steps = {
      {kSetPresence, shown, SetPresenceBody(settings.client_id, shown, settings.expiration)}};
  if (session) {
    // A preferred presence outranks every session (1.2), so one this connector may have left
    // (or cannot know about since it started) has to go.
    if (!memory || memory->preferred) {
      steps.push_back({kClearPreferred, {}, ClearUserPreferredPresenceBody()});
    }
    return steps;
  }
  bool renew = !memory || memory->preferred != pair ||
               clock_.Now() - memory->preferred_at > kPreferredRenewAfter;
  if (!delivery.refresh || renew) {
    steps.push_back({kSetPreferred, pair, SetUserPreferredPresenceBody(pair, std::nullopt)});
  }
  return steps;
}

DeliveryResult TeamsConnector::Run(const std::vector<Step>& steps, const std::string& agent,
                                   const std::string& object_id) {
  std::string done;
  for (const Step& step : steps) {
    DeliveryResult result = Call(step, agent, object_id);
    if (result.kind != DeliveryResult::Kind::kDelivered) return result;
    Remember(agent, step);
    if (!done.empty()) done += ", ";
    done += std::string(step.action);
    if (step.action != kClearPreferred) done += " " + PairText(step.pair);
  }
  return DeliveryResult::Delivered(done);
}

DeliveryResult TeamsConnector::Call(const Step& step, const std::string& agent,
                                    const std::string& object_id) {
  std::string what = std::string(step.action) + " for " + agent;
  std::string url = GraphPresenceUrl(settings_->graph_url, object_id, step.action);
  Result<AccessToken> token = tokens_.Get();
  if (!token) return DeliveryResult::Retry(what + ": " + token.error().message);
  Result<HttpResponse> response = Post(url, step.body, token->value);
  if (response && response->status == 401) {
    // Revoked or expired before its time: one new token and one more try.
    tokens_.Invalidate(token->value);
    token = tokens_.Get();
    if (!token) return DeliveryResult::Retry(what + ": " + token.error().message);
    response = Post(url, step.body, token->value);
  }
  return Classify(response, what);
}

Result<HttpResponse> TeamsConnector::Post(const std::string& url, const std::string& body,
                                          const std::string& token) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Authorization", "Bearer " + token},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
  request.body = body;
  request.timeout = settings_->request_timeout;
  return http_.Send(request);
}

// ClassifyHttp decides retry or reject (429/503 with Retry-After, 5xx, network); the detail
// names Graph's error code, which is what an operator looks up (1.6).
DeliveryResult TeamsConnector::Classify(const Result<HttpResponse>& response,
                                        const std::string& what) const {
  DeliveryResult result = ClassifyHttp(response, clock_.Now(), what);
  if (!response || response->status / 100 == 2) return result;
  GraphError error = ParseGraphError(response->body);
  std::string detail = what + ": HTTP " + std::to_string(response->status);
  if (!error.code.empty()) {
    detail += " " + error.code;
    if (!error.inner_code.empty()) detail += " (" + error.inner_code + ")";
    detail += ": " + error.message;
  }
  // Still refused with a token fetched just now: the app's rights or tenant are wrong, which
  // no single row can fix; keep the rows and let the status show it.
  if (response->status == 401) return DeliveryResult::Retry(detail);
  result.detail = detail;
  return result;
}

std::optional<TeamsConnector::Memory> TeamsConnector::Recall(const std::string& agent) const {
  std::lock_guard lock(mutex_);
  auto it = memory_.find(agent);
  if (it == memory_.end()) return std::nullopt;
  return it->second;
}

void TeamsConnector::Remember(const std::string& agent, const Step& step) {
  std::lock_guard lock(mutex_);
  if (step.action == kSetPreferred) memory_[agent] = Memory{step.pair, clock_.Now()};
  if (step.action == kClearPreferred) memory_[agent] = Memory{};
}

Result<AccessToken> TeamsConnector::FetchToken() {
  const TeamsSettings& settings = *settings_;
  HttpRequest request;
  request.method = "POST";
  request.url = GraphTokenUrl(settings.login_url, settings.tenant);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = GraphTokenForm(settings.client_id, settings.client_secret);
  request.timeout = settings.request_timeout;
  Result<HttpResponse> response = http_.Send(request);
  if (!response) {
    return Error{response.error().code,
                 "token request to " + RedactUrl(request.url) + ": " + response.error().message};
  }
  Result<GraphToken> token = ParseGraphTokenResponse(response->status, response->body);
  if (!token) {
    Log(LogLevel::kError, token.error().message);
    return token.error();
  }
  Timestamp expires_at = clock_.Now() + token->expires_in;
  {
    std::lock_guard lock(mutex_);
    token_expires_at_ = expires_at;
  }
  Log(LogLevel::kInfo, "new Graph token, valid until " + FormatTime(expires_at));
  return AccessToken{token->access_token, expires_at, ""};
}

std::optional<ConnectorDetails> TeamsConnector::Details() const {
  ConnectorDetails details;
  std::vector<std::string> preferred;
  std::lock_guard lock(mutex_);
  details["token_fetches"] = tokens_.fetches();
  details["token_expires_at"] =
      token_expires_at_ ? DetailValue(FormatTime(*token_expires_at_)) : DetailValue(nullptr);
  for (const auto& [agent, memory] : memory_) {
    if (memory.preferred) preferred.push_back(agent);
  }
  details["users_with_preferred_presence"] = std::move(preferred);
  return details;
}

std::unique_ptr<Connector> CreateTeams(std::shared_ptr<const ConnectorSettings> settings,
                                       const ConnectorEnv& env) {
  return std::make_unique<TeamsConnector>(SettingsAs<TeamsSettings>(std::move(settings), kType),
                                          env);
}

}  // namespace

ConnectorType TeamsConnectorType() {
  return ConnectorType{
      .type = kType,
      .summary =
          "Microsoft Teams presence through Microsoft Graph (setPresence, "
          "setUserPreferredPresence)",
      .keys = {"tenant", "client_id", "client_secret", "login_url", "graph_url", "expiration",
               "request_timeout_ms"},
      // Teams never sends changes back (one way only), so nothing is skipped as an echo.
      // 40 deliveries/s is 1,200 per 30 s, under Graph's lower presence limit of 1,500 (1.6);
      // deliveries of two calls can pass it, and the 429s that follow wait for Retry-After.
      .defaults = DeliveryPolicy{.coalesce = true,
                                 .concurrency = 4,
                                 .rate_per_second = 40,
                                 .burst = 40,
                                 .refresh_every = Millis(240000),
                                 .skip_sources = {}},
      .mode = "skype_for_business",
      .parse = ParseTeams,
      .create = CreateTeams,
  };
}

}  // namespace presence::connectors
