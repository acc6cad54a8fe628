#include "tests/fakes/fake_graph.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <array>
#include <regex>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/json_read.h"

namespace presence::testing {
namespace {

using Poco::JSON::Object;

constexpr std::string_view kUsersPrefix = "/v1.0/users/";
constexpr std::string_view kTokenSuffix = "/oauth2/v2.0/token";
constexpr std::string_view kGraphScope = "https://graph.microsoft.com/.default";

// The fake keeps its own copy of the documented tables (1.2, 1.3) so that it checks the
// connector against the documentation rather than against the connector's own tables.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kSessionPairs = {{
    {"Available", "Available"},
    {"Busy", "InACall"},
    {"Busy", "InAConferenceCall"},
    {"Away", "Away"},
    {"DoNotDisturb", "Presenting"},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kPreferredPairs = {{
    {"Available", "Available"},
    {"Busy", "Busy"},
    {"DoNotDisturb", "DoNotDisturb"},
    {"BeRightBack", "BeRightBack"},
    {"Away", "Away"},
    {"Offline", "OffWork"},
}};

template <std::size_t N>
bool Allowed(const std::array<std::pair<std::string_view, std::string_view>, N>& pairs,
             const GraphPresence& presence) {
  return std::any_of(pairs.begin(), pairs.end(), [&](const auto& pair) {
    return pair.first == presence.availability && pair.second == presence.activity;
  });
}

std::string Stringify(const Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

// The AAD error answer of the token endpoint (1.1).
FakeResponse AadError(int status, const std::string& error, int aadsts,
                      const std::string& description) {
  Object body;
  body.set("error", error);
  body.set("error_description", "AADSTS" + std::to_string(aadsts) + ": " + description);
  Poco::JSON::Array codes;
  codes.add(aadsts);
  body.set("error_codes", codes);
  body.set("timestamp", "2026-11-21 09:30:00Z");
  body.set("trace_id", "00000000-0000-0000-0000-000000000001");
  body.set("correlation_id", "00000000-0000-0000-0000-000000000002");
  return FakeResponse::Json(status, Stringify(body));
}

// The Graph error envelope (1.6).
FakeResponse GraphError(int status, const std::string& code, const std::string& message) {
  Object inner;
  inner.set("date", "2026-11-21T09:30:00");
  inner.set("request-id", "00000000-0000-0000-0000-000000000003");
  inner.set("client-request-id", "00000000-0000-0000-0000-000000000004");
  Object error;
  error.set("code", code);
  error.set("message", message);
  error.set("innerError", inner);
  Object body;
  body.set("error", error);
  return FakeResponse::Json(status, Stringify(body));
}

FakeResponse BadRequest(const std::string& message) {
  return GraphError(400, "BadRequest", message);
}

Object::Ptr ParseObject(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    return json::AsObject(parser.parse(body));
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

std::optional<std::string> StringField(const Object& object, const std::string& key) {
  if (!object.has(key) || !object.get(key).isString()) return std::nullopt;
  return object.get(key).extract<std::string>();
}

// A member not in `allowed`, if any.
std::optional<std::string> ExtraKey(const Object& object,
                                    std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) return key;
  }
  return std::nullopt;
}

// ISO-8601 "PT[nH][nM][nS]" in seconds; deliberately not the connector's parser.
std::optional<long long> DurationSeconds(const std::string& text) {
  static const std::regex kDuration(R"(PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)");
  std::smatch match;
  if (text == "PT" || !std::regex_match(text, match, kDuration)) return std::nullopt;
  long long seconds = 0;
  constexpr std::array<long long, 3> kUnit = {3600, 60, 1};
  for (std::size_t i = 0; i < kUnit.size(); ++i) {
    if (match[i + 1].matched) seconds += std::stoll(match[i + 1].str()) * kUnit[i];
  }
  return seconds;
}

int Rank(const std::string& availability) {
  if (availability == "DoNotDisturb") return 4;
  if (availability == "Busy") return 3;
  if (availability == "Available") return 2;
  if (availability == "Away") return 1;
  return 0;
}

bool IsJson(const RecordedRequest& request) {
  return request.Header("Content-Type").starts_with("application/json");
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const GraphPresence& presence) {
  return out << presence.availability << "/" << presence.activity;
}

FakeGraph::FakeGraph(Options options)
    : options_(std::move(options)),
      server_([this](const RecordedRequest& request) { return Handle(request); }) {}

void FakeGraph::AddUser(const std::string& id) {
  std::lock_guard lock(mutex_);
  users_.insert(id);
}

void FakeGraph::SetExpiresIn(int seconds) {
  std::lock_guard lock(mutex_);
  options_.expires_in = seconds;
}

void FakeGraph::FailAction(const std::string& action, FakeResponse response) {
  std::lock_guard lock(mutex_);
  failures_[action].push_back(std::move(response));
}

void FakeGraph::RevokeTokens() {
  std::lock_guard lock(mutex_);
  for (auto& [value, token] : tokens_) token.revoked = true;
}

int FakeGraph::tokens_issued() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(tokens_.size());
}

void FakeGraph::SetClientSession(const std::string& user, const std::string& session_id,
                                 GraphPresence presence) {
  std::lock_guard lock(mutex_);
  presence_[user].sessions[session_id] = Session{std::move(presence), Now(), std::nullopt};
}

std::optional<GraphPresence> FakeGraph::AppSession(const std::string& user) const {
  std::lock_guard lock(mutex_);
  auto it = presence_.find(user);
  if (it == presence_.end()) return std::nullopt;
  auto session = it->second.sessions.find(options_.client_id);
  if (session == it->second.sessions.end()) return std::nullopt;
  std::optional<Session> live = Live(session->second);
  if (!live) return std::nullopt;
  return live->presence;
}

std::optional<GraphPresence> FakeGraph::PreferredPresence(const std::string& user) const {
  std::lock_guard lock(mutex_);
  auto it = presence_.find(user);
  if (it == presence_.end()) return std::nullopt;
  return LivePreferred(it->second);
}

GraphPresence FakeGraph::VisiblePresence(const std::string& user) const {
  std::lock_guard lock(mutex_);
  return VisibleLocked(user);
}

std::vector<GraphCall> FakeGraph::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::vector<std::string> FakeGraph::actions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const GraphCall& call : calls_) out.push_back(call.action);
  return out;
}

void FakeGraph::ClearCalls() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

std::optional<Timestamp> FakeGraph::Now() const {
  if (!options_.clock) return std::nullopt;
  return options_.clock->Now();
}

// A session as it looks now: gone after its expirationDuration; an Available session not
// refreshed for 5 minutes shows AvailableInactive, after 10 minutes Away (1.2).
std::optional<FakeGraph::Session> FakeGraph::Live(const Session& session) const {
  std::optional<Timestamp> now = Now();
  if (!now) return session;
  if (session.expires_at && *now >= *session.expires_at) return std::nullopt;
  Session live = session;
  if (session.presence.availability == "Available" && session.set_at) {
    auto idle = *now - *session.set_at;
    if (idle >= std::chrono::minutes(10)) {
      live.presence = {"Away", "Away"};
    } else if (idle >= std::chrono::minutes(5)) {
      live.presence = {"Available", "AvailableInactive"};
    }
  }
  return live;
}

GraphPresence FakeGraph::VisibleLocked(const std::string& user) const {
  const GraphPresence offline{"Offline", "Offline"};
  auto it = presence_.find(user);
  if (it == presence_.end()) return offline;
  std::optional<GraphPresence> best;
  for (const auto& [id, session] : it->second.sessions) {
    std::optional<Session> live = Live(session);
    if (live && (!best || Rank(live->presence.availability) > Rank(best->availability))) {
      best = live->presence;
    }
  }
  if (!best) return offline;  // a preferred presence needs a session to show (1.3)
  return LivePreferred(it->second).value_or(*best);
}

std::optional<GraphPresence> FakeGraph::LivePreferred(const UserPresence& presence) const {
  if (!presence.preferred) return std::nullopt;
  std::optional<Timestamp> now = Now();
  const std::optional<Timestamp>& expires_at = presence.preferred->expires_at;
  if (now && expires_at && *now >= *expires_at) return std::nullopt;
  return presence.preferred->presence;
}

FakeResponse FakeGraph::Handle(const RecordedRequest& request) {
  std::lock_guard lock(mutex_);
  GraphCall call{"unknown", "", request.body, 0};
  FakeResponse response;
  if (request.path.ends_with(kTokenSuffix)) {
    call.action = "token";
    response = IssueToken(request);
  } else if (request.path.starts_with(kUsersPrefix)) {
    response = Presence(request, call);
  } else {
    response = GraphError(404, "NotFound", "Resource not found for the segment.");
  }
  call.status = response.status;
  calls_.push_back(std::move(call));
  return response;
}

FakeResponse FakeGraph::IssueToken(const RecordedRequest& request) {
  std::string tenant = request.path.substr(1, request.path.size() - kTokenSuffix.size() - 1);
  if (request.method != "POST") {
    return AadError(400, "invalid_request", 900561, "The endpoint only accepts POST requests.");
  }
  if (!request.Header("Content-Type").starts_with("application/x-www-form-urlencoded")) {
    return AadError(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'grant_type'.");
  }
  if (tenant != options_.tenant) {
    return AadError(400, "invalid_tenant", 90002, "Tenant '" + tenant + "' not found.");
  }
  if (request.FormField("grant_type") != "client_credentials") {
    return AadError(400, "unsupported_grant_type", 70003,
                    "The app requested an unsupported grant type.");
  }
  if (request.FormField("scope") != kGraphScope) {
    return AadError(400, "invalid_scope", 70011,
                    "The provided value for the input parameter 'scope' is not valid.");
  }
  if (request.FormField("client_id") != options_.client_id) {
    return AadError(400, "unauthorized_client", 700016,
                    "Application was not found in the directory.");
  }
  if (request.FormField("client_secret") != options_.client_secret) {
    return AadError(401, "invalid_client", 7000215, "Invalid client secret provided.");
  }
  std::string value = "fake-graph-token-" + std::to_string(tokens_.size() + 1);
  std::optional<Timestamp> now = Now();
  tokens_[value] =
      Token{now ? std::optional(*now + std::chrono::seconds(options_.expires_in)) : std::nullopt};
  Object body;
  body.set("token_type", "Bearer");
  body.set("expires_in", options_.expires_in);
  body.set("ext_expires_in", options_.expires_in);
  body.set("access_token", value);
  return FakeResponse::Json(200, Stringify(body));
}

std::optional<FakeResponse> FakeGraph::CheckBearer(const RecordedRequest& request) const {
  std::string authorization = request.Header("Authorization");
  if (!authorization.starts_with("Bearer ")) {
    return GraphError(401, "InvalidAuthenticationToken", "Access token is empty.");
  }
  auto token = tokens_.find(authorization.substr(7));
  if (token == tokens_.end() || token->second.revoked) {
    return GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.");
  }
  std::optional<Timestamp> now = Now();
  if (now && token->second.expires_at && *now >= *token->second.expires_at) {
    return GraphError(401, "InvalidAuthenticationToken",
                      "Lifetime validation failed, the token is expired.");
  }
  return std::nullopt;
}

FakeResponse FakeGraph::Presence(const RecordedRequest& request, GraphCall& call) {
  std::string rest = request.path.substr(kUsersPrefix.size());
  std::size_t slash = rest.find('/');
  call.user = rest.substr(0, slash);
  std::string tail = slash == std::string::npos ? "" : rest.substr(slash);
  constexpr std::array<std::string_view, 4> kActions = {
      "setPresence", "setUserPreferredPresence", "clearUserPreferredPresence", "clearPresence"};
  bool post = request.method == "POST";
  for (std::string_view action : kActions) {
    if (post && tail == "/presence/" + std::string(action)) call.action = action;
  }
  if (request.method == "GET" && tail == "/presence") call.action = "getPresence";
  if (auto refused = CheckBearer(request)) return *refused;
  if (auto failing = failures_.find(call.action);
      failing != failures_.end() && !failing->second.empty()) {
    FakeResponse response = std::move(failing->second.front());
    failing->second.erase(failing->second.begin());
    return response;
  }
  if (call.action == "unknown") {
    return GraphError(405, "Request_BadRequest", "Unsupported method or segment.");
  }
  // [UNCONFIRMED] code for an unknown user on the presence endpoints.
  if (!users_.count(call.user)) return GraphError(404, "NotFound", "User not found.");
  if (call.action == "getPresence") return GetPresence(call.user);
  if (!IsJson(request)) return BadRequest("Content-Type must be application/json.");
  if (call.action == "setPresence") return SetPresence(call.user, request);
  if (call.action == "setUserPreferredPresence") return SetPreferred(call.user, request);
  if (call.action == "clearUserPreferredPresence") return ClearPreferred(call.user, request);
  return ClearPresence(call.user, request);
}

FakeResponse FakeGraph::SetPresence(const std::string& user, const RecordedRequest& request) {
  Object::Ptr body = ParseObject(request.body);
  if (!body) return BadRequest("Unable to read JSON request payload.");
  if (auto extra =
          ExtraKey(*body, {"sessionId", "availability", "activity", "expirationDuration"})) {
    return BadRequest("Invalid property '" + *extra + "'.");
  }
  if (StringField(*body, "sessionId") != options_.client_id) {
    return BadRequest("sessionId must be the application id of the caller.");
  }
  GraphPresence pair{StringField(*body, "availability").value_or(""),
                     StringField(*body, "activity").value_or("")};
  if (!Allowed(kSessionPairs, pair)) return BadRequest("Unsupported availability/activity pair.");
  long long seconds = 300;
  if (body->has("expirationDuration")) {
    std::optional<long long> parsed =
        DurationSeconds(StringField(*body, "expirationDuration").value_or(""));
    if (!parsed || *parsed < 300 || *parsed > 14400) {
      return BadRequest("expirationDuration must be between PT5M and PT4H.");
    }
    seconds = *parsed;
  }
  std::optional<Timestamp> now = Now();
  presence_[user].sessions[options_.client_id] =
      Session{pair, now, now ? std::optional(*now + std::chrono::seconds(seconds)) : std::nullopt};
  return FakeResponse::Empty(200);
}

FakeResponse FakeGraph::SetPreferred(const std::string& user, const RecordedRequest& request) {
  Object::Ptr body = ParseObject(request.body);
  if (!body) return BadRequest("Unable to read JSON request payload.");
  if (auto extra = ExtraKey(*body, {"availability", "activity", "expirationDuration"})) {
    return BadRequest("Invalid property '" + *extra + "'.");
  }
  GraphPresence pair{StringField(*body, "availability").value_or(""),
                     StringField(*body, "activity").value_or("")};
  if (!Allowed(kPreferredPairs, pair)) return BadRequest("Unsupported availability/activity pair.");
  // Without expirationDuration: 1 day for DoNotDisturb and Busy, 7 days for the rest (1.3).
  bool short_default = pair.availability == "DoNotDisturb" || pair.availability == "Busy";
  long long seconds = (short_default ? 1 : 7) * 86400LL;
  if (body->has("expirationDuration")) {
    std::optional<long long> parsed =
        DurationSeconds(StringField(*body, "expirationDuration").value_or(""));
    if (!parsed || *parsed <= 0) return BadRequest("expirationDuration is not a duration.");
    seconds = *parsed;
  }
  std::optional<Timestamp> now = Now();
  presence_[user].preferred =
      Preferred{pair, now ? std::optional(*now + std::chrono::seconds(seconds)) : std::nullopt};
  return FakeResponse::Empty(200);
}

FakeResponse FakeGraph::ClearPreferred(const std::string& user, const RecordedRequest& request) {
  Object::Ptr body = ParseObject(request.body);
  if (!body || body->size() != 0) return BadRequest("The body must be an empty JSON object.");
  presence_[user].preferred.reset();
  return FakeResponse::Empty(200);
}

FakeResponse FakeGraph::ClearPresence(const std::string& user, const RecordedRequest& request) {
  Object::Ptr body = ParseObject(request.body);
  if (!body) return BadRequest("Unable to read JSON request payload.");
  if (StringField(*body, "sessionId") != options_.client_id) {
    return BadRequest("sessionId must be the application id of the caller.");
  }
  UserPresence& presence = presence_[user];
  auto session = presence.sessions.find(options_.client_id);
  if (session == presence.sessions.end() || !Live(session->second)) {
    return GraphError(404, "NotFound", "Presence session not found.");
  }
  presence.sessions.erase(session);
  return FakeResponse::Empty(200);
}

FakeResponse FakeGraph::GetPresence(const std::string& user) const {
  GraphPresence visible = VisibleLocked(user);
  Object body;
  body.set("id", user);
  body.set("availability", visible.availability);
  body.set("activity", visible.activity);
  return FakeResponse::Json(200, Stringify(body));
}

}  // namespace presence::testing
