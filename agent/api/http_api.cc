#include "agent/api/http_api.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/NameValueCollection.h>

#include <chrono>
#include <set>
#include <sstream>

#include "agent/api/api_handlers.h"
#include "agent/api/http_call.h"
#include "common/json_writer.h"
#include "common/poco_json.h"

namespace presence::agent {
namespace {

using Poco::JSON::Object;
using Poco::Net::HTTPResponse;

constexpr unsigned kAgentRole = 1u << static_cast<int>(Role::kAgent);
constexpr unsigned kIntegrationRole = 1u << static_cast<int>(Role::kIntegration);
constexpr unsigned kSupervisorRole = 1u << static_cast<int>(Role::kSupervisor);
constexpr unsigned kAdminRole = 1u << static_cast<int>(Role::kAdmin);
constexpr unsigned kEveryone = kAgentRole | kIntegrationRole | kSupervisorRole | kAdminRole;
constexpr unsigned kReaders = kIntegrationRole | kSupervisorRole | kAdminRole;
constexpr unsigned kPublic = 0;  // no token needed

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/agents/{id}/state"
  unsigned roles;
  bool own_user;  // an agent token may use it only for its own user ({id})
  void (*handle)(Call&);
  std::vector<std::string> parts = {};  // the pattern's segments, split once
  std::string name = {};                // "GET /api/v1/agents/{id}": the metrics label
};

std::vector<std::string> Split(const std::string& path);

const std::vector<Route>& Routes() {
  static std::vector<Route> routes = {
      {"GET", "/api/v1/health", kPublic, false, HandleHealth},
      {"GET", "/api/v1/openapi.json", kPublic, false, HandleOpenApi},
      {"GET", "/metrics", kReaders, false, HandleMetrics},
      {"GET", "/api/v1/metrics", kReaders, false, HandleMetrics},
      {"POST", "/api/v1/session", kPublic, false, HandleOpenSession},
      {"GET", "/api/v1/session", kEveryone, false, HandleWhoAmI},
      {"DELETE", "/api/v1/session", kPublic, false, HandleCloseSession},
      {"GET", "/api/v1/states", kEveryone, false, HandleStates},
      {"GET", "/api/v1/agents", kReaders, false, HandleAgents},
      {"GET", "/api/v1/agents/{id}", kEveryone, true, HandleAgent},
      {"PUT", "/api/v1/agents/{id}/state", kAgentRole | kIntegrationRole | kAdminRole, true,
       HandleSetState},
      {"POST", "/api/v1/agents/{id}/events", kAgentRole | kIntegrationRole | kAdminRole, true,
       HandleEvent},
      {"POST", "/api/v1/agents/{id}/override", kSupervisorRole | kAdminRole, false, HandleOverride},
      {"GET", "/api/v1/agents/{id}/intervals", kEveryone, true, HandleIntervals},
      {"GET", "/api/v1/reports/time", kReaders, false, HandleTimeReport},
      {"GET", "/api/v1/reports/intervals", kReaders, false, HandleIntervalReport},
      {"GET", "/api/v1/crm-sync", kReaders, false, HandleCrmSync},
      {"GET", "/api/v1/stream", kEveryone, false, HandleSse},    // agents: own user only
      {"GET", "/api/v1/ws", kEveryone, false, HandleWebSocket},  // agents: own user only
      {"GET", "/api/v1/connectors", kReaders, false, HandleConnectors},
      {"POST", "/api/v1/admin/reload", kAdminRole, false, HandleReload},
      {"GET", "/", kPublic, false, HandleDashboard},
      {"GET", "/dashboard/{file}", kPublic, false, HandleDashboard},
      {"GET", "/agent", kPublic, false, HandleAgentPage},  // also "/agent/"
      {"GET", "/agent/{file}", kPublic, false, HandleAgentPage},
  };
  static const bool split = [] {
    for (Route& route : routes) {
      route.parts = Split(route.pattern);
      route.name = route.method + " " + route.pattern;
    }
    return true;
  }();
  (void)split;
  return routes;
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// Matches a path against a pattern; fills params with the {placeholders}' values.
bool Matches(const std::vector<std::string>& want, const std::vector<std::string>& path,
             std::vector<std::string>& params) {
  if (want.size() != path.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].front() == '{') {
      found.push_back(path[i]);
    } else if (want[i] != path[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

std::optional<std::string> SessionCookie(const Poco::Net::HTTPServerRequest& request) {
  Poco::Net::NameValueCollection cookies;
  request.getCookies(cookies);
  if (!cookies.has("pa_session")) return std::nullopt;
  return cookies.get("pa_session");
}

// Whether a and b are the same bytes, in a time that depends on their lengths only.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ |= static_cast<unsigned char>(a[i] ^ b[i]);
  return differ == 0;
}

// TokenHash for the token a request presents. An integration sends the same token on every
// request; each thread remembers the last one and its hash (compared in constant time, so
// the answer's timing tells nothing of it), which spares a SHA-256 per request.
std::string PresentedHashOf(std::string_view token) {
  struct Last {
    std::string token;
    std::string hash;
  };
  thread_local Last last;
  if (last.hash.empty() || !SameSecret(token, last.token)) {
    last.hash.clear();  // never the new token with the old hash, should an assignment throw
    last.token = token;
    last.hash = TokenHash(last.token);
  }
  return last.hash;
}

// The token hash from "Authorization: Bearer <token>" or from the session cookie.
std::optional<std::string> PresentedTokenHash(Call& call) {
  if (call.request.has("Authorization")) {
    const std::string& header = call.request.get("Authorization");
    if (header.rfind("Bearer ", 0) != 0) return std::nullopt;
    return PresentedHashOf(std::string_view(header).substr(7));
  }
  if (std::optional<std::string> session = SessionCookie(call.request)) {
    return call.ctx.sessions.Use(*session, std::chrono::system_clock::now());
  }
  return std::nullopt;
}

// Sends 401/403 (429 while its address is throttled) and returns false when the caller may not
// use the route.
bool Authorize(Call& call, const Route& route) {
  if (route.roles == kPublic) return true;
  if (SendIfThrottled(call)) return false;
  std::optional<std::string> hash = PresentedTokenHash(call);
  const TokenEntry* token = hash ? call.config->FindTokenHash(*hash) : nullptr;
  if (token == nullptr) {
    if (call.request.has("Authorization") || SessionCookie(call.request)) {
      CountFailedCredentials(call);
    }
    call.response.set("WWW-Authenticate", "Bearer");
    SendError(call, 401, "unauthorized",
              "a valid token is required: 'Authorization: Bearer <token>' or a browser "
              "session (POST /api/v1/session)");
    return false;
  }
  call.who = Principal{token->role, token->user, token->name, token->sha256};
  if ((route.roles & (1u << static_cast<int>(token->role))) == 0) {
    SendError(call, 403, "forbidden",
              "a " + std::string(RoleName(token->role)) + " token may not use " + route.method +
                  " " + route.pattern);
    return false;
  }
  if (route.own_user && token->role == Role::kAgent && call.params.at(0) != token->user) {
    SendError(call, 403, "forbidden",
              "an agent token acts only for its own user '" + token->user + "'");
    return false;
  }
  return true;
}

// Whether the request carries a body: Content-Length or chunked coding. Without either the
// body is empty (RFC 9112 6.3); Poco would read such a body to the end of the connection and
// swallow the next request on it.
bool HasBody(const Poco::Net::HTTPServerRequest& request) {
  return request.hasContentLength() || request.getChunkedTransferEncoding();
}

// A request refused before its body was read (401, 403, 404, 413...) leaves the body on a
// keep-alive connection, where it would be read as the next request. Read it away; a body
// over the limit is not worth reading: the connection closes after this response instead.
void DrainBody(Call& call) {
  // Without Content-Length or chunked coding a request has no body (RFC 9112 6.3), and a
  // connection that closes anyway need not be read.
  // The server that read the whole body before the handler has nothing left to read.
  if (call.hooks != nullptr || !HasBody(call.request) || !call.response.getKeepAlive()) return;
  try {
    const std::streamsize limit = call.config->server.max_body_bytes;
    std::istream& body = call.request.stream();
    body.ignore(limit + 1);
    if (body.gcount() > limit) call.response.setKeepAlive(false);
  } catch (const std::exception&) {
    // The client broke off or sent a bad chunk: its connection ends, nothing of ours failed.
    call.response.setKeepAlive(false);
  }
}

class ApiHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ApiHandler(ApiContext& context) : context_(context) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const auto started = std::chrono::steady_clock::now();
    auto shared = std::make_shared<Call>(context_, request, response, context_.config.load());
    Call& call = *shared;
    if (auto* hooks = dynamic_cast<RequestHooks*>(&request)) {
      call.hooks = hooks;
      call.async = hooks->async();
    }
    std::string_view route_name = "other";
    try {
      const Route* route = Dispatch(call);
      if (route != nullptr) route_name = route->name;
    } catch (const std::exception& e) {
      // The per-request catch-all (design.md 5): log, answer 500 if nothing was sent yet.
      // The path only: a query may hold a secret (a token pasted into a URL) and must not
      // reach the log.
      context_.log.Swallowed("request failed", e.what(),
                             {{"method", ValidUtf8(Excerpt(request.getMethod(), 16))},
                              {"path", LoggablePath(request.getURI())},
                              {"status", 500}});
      // A failed request (a write to a client that stopped reading, say) leaves the connection
      // in an unknown state: end it rather than read another request from it.
      response.setKeepAlive(false);
      if (!call.detached && !response.sent()) {
        SendError(call, 500, "internal_error", "the request failed on the server; see its log");
      }
    }
    ApiContext& context = context_;
    auto finish = [&context, route_name, started](Call& done) {
      if (!done.detached) DrainBody(done);
      context.metrics.ObserveRequest(route_name, done.detached ? 101 : done.status,
                                     std::chrono::steady_clock::now() - started);
    };
    // A deferred answer runs on this loop thread after this returns: finish goes with it.
    if (call.deferred) {
      call.finish = std::move(finish);
      return;
    }
    finish(call);
  }

 private:
  const Route* Dispatch(Call& call) {
    Result<RequestTarget> target = ParseRequestTarget(call.request.getURI());
    if (!target.ok()) {
      SendError(call, 400, target.error().code, target.error().message);
      return nullptr;
    }
    call.target = std::move(*target);
    std::string allowed;
    for (const Route& route : Routes()) {
      if (!Matches(route.parts, call.target.segments, call.params)) continue;
      if (route.method != call.request.getMethod()) {
        allowed += (allowed.empty() ? "" : ", ") + route.method;
        continue;
      }
      if (Authorize(call, route)) route.handle(call);
      return &route;
    }
    if (!allowed.empty()) {
      call.response.set("Allow", allowed);
      SendError(
          call, 405, "method_not_allowed",
          Excerpt(call.request.getMethod(), 16) + " is not allowed here; allowed: " + allowed);
    } else {
      SendError(call, 404, "not_found", "no such endpoint: " + Excerpt(call.target.raw_path));
    }
    return nullptr;
  }

  ApiContext& context_;
};

class ApiHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit ApiHandlerFactory(ApiContext& context) : context_(context) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new ApiHandler(context_);
  }

 private:
  ApiContext& context_;
};

int StatusFor(const std::string& code) {
  if (code == "malformed_json") return 400;
  if (code == "time_went_backwards") return 409;
  if (code == "storage_error" || code == "stopped") return 503;
  return 422;  // unknown_label, not_selectable, missing_field, invalid_event, invalid_value
}

}  // namespace

bool SendIfThrottled(Call& call) {
  if (!call.ctx.auth_throttle.Watching()) return false;
  const std::string client = call.request.clientAddress().host().toString();
  const int failures_allowed = call.config->server.auth_failures_per_minute;
  std::optional<std::chrono::seconds> wait =
      call.ctx.auth_throttle.Refuse(client, failures_allowed);
  if (!wait) return false;
  const std::string seconds = std::to_string(wait->count());
  call.response.set("Retry-After", seconds);
  SendError(call, 429, "too_many_failures",
            "too many wrong tokens or sessions from this address "
            "(server.auth_failures_per_minute); try again in " +
                seconds + " s");
  return true;
}

void CountFailedCredentials(Call& call) {
  call.ctx.auth_throttle.Failed(call.request.clientAddress().host().toString(),
                                call.config->server.auth_failures_per_minute);
}

std::optional<std::string> Call::Query(const std::string& name) const {
  for (const auto& [key, value] : target.query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

void SetStandardHeaders(HTTPResponse& response) {
  response.set("Cache-Control", "no-store");
  // The dashboard must not be framed by another site (clickjacking an override confirmation).
  response.set("X-Frame-Options", "DENY");
  response.set("Content-Security-Policy", "frame-ancestors 'none'");
  response.set("X-Content-Type-Options", "nosniff");
}

std::string JsonErrorBody(std::string_view code, std::string_view message) {
  JsonWriter out;
  out.BeginObject().Key("error").BeginObject();
  out.Key("code").String(code).Key("message").String(message);
  out.EndObject().EndObject();
  return out.Take();
}

void SetAnswerHead(Call& call, int status, const std::string& content_type) {
  call.status = status;
  call.response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  call.response.setContentType(content_type);
  SetStandardHeaders(call.response);
}

void SendText(Call& call, int status, const std::string& content_type, const std::string& text) {
  SetAnswerHead(call, status, content_type);
  // Head and body in one write (one packet when they fit) rather than two.
  call.response.sendBuffer(text.data(), text.size());
}

void SendJson(Call& call, int status, const Poco::Dynamic::Var& body) {
  SendText(call, status, "application/json", json::JsonText(body));
}

void SendError(Call& call, int status, const std::string& code, const std::string& message) {
  SendText(call, status, "application/json", JsonErrorBody(code, message));
}

void SendFailure(Call& call, const Error& error) {
  SendError(call, StatusFor(error.code), error.code, error.message);
}

std::optional<Object::Ptr> ReadJsonBody(Call& call) {
  Poco::Net::MediaType type(call.request.getContentType().empty() ? "none/none"
                                                                  : call.request.getContentType());
  if (type.getType() != "application" || type.getSubType() != "json") {
    SendError(call, 415, "unsupported_media_type",
              "the body must be JSON with 'Content-Type: application/json'");
    return std::nullopt;
  }
  if (call.request.hasContentLength() && call.request.getContentLength64() < 0) {
    // Also refused by the connection (request_reader.h) before any handler runs.
    call.response.setKeepAlive(false);
    SendError(call, 400, "malformed_request", "Content-Length: must be a number of bytes >= 0");
    return std::nullopt;
  }
  const auto limit = static_cast<std::streamsize>(call.config->server.max_body_bytes);
  const std::string too_large =
      "the body is larger than " + std::to_string(limit) + " bytes (server.max_body_bytes)";
  if (call.request.hasContentLength() && call.request.getContentLength() > limit) {
    call.response.setKeepAlive(false);  // the unread body must not become the next request
    SendError(call, 413, "payload_too_large", too_large);
    return std::nullopt;
  }
  // The loop's server has read the body already. Otherwise read what was announced (or,
  // chunked, up to one byte past the limit): no buffer of the full limit per request.
  // Without a body there is nothing to read: empty, which is malformed JSON.
  std::string read;
  if (call.hooks == nullptr && HasBody(call.request)) {
    std::istream& in = call.request.stream();
    if (call.request.hasContentLength()) {
      read.resize(static_cast<size_t>(call.request.getContentLength()));
      in.read(read.data(), static_cast<std::streamsize>(read.size()));
      read.resize(static_cast<size_t>(in.gcount()));
    } else {
      char chunk[4096];
      while (static_cast<std::streamsize>(read.size()) <= limit &&
             in.read(chunk, sizeof chunk).gcount() > 0) {
        read.append(chunk, static_cast<size_t>(in.gcount()));
      }
    }
  }
  const std::string& body = call.hooks != nullptr ? call.hooks->body() : read;
  if (static_cast<std::streamsize>(body.size()) > limit) {
    call.response.setKeepAlive(false);  // the unread body must not become the next request
    SendError(call, 413, "payload_too_large", too_large);
    return std::nullopt;
  }
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(body);
    if (parsed.type() == typeid(Object::Ptr)) return parsed.extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    SendError(call, 400, "malformed_json",
              "the body is not valid JSON: " + Excerpt(e.displayText(), 200));
    return std::nullopt;
  }
  SendError(call, 400, "malformed_json", "the body must be a JSON object");
  return std::nullopt;
}

Poco::Net::HTTPRequestHandlerFactory::Ptr NewApiHandlerFactory(ApiContext& context) {
  return new ApiHandlerFactory(context);
}

bool RunsOnLoop(const std::string& method, const std::string& uri) {
  static const std::set<std::string, std::less<>> kOnLoop = {
      "GET /api/v1/health",
      "GET /api/v1/openapi.json",
      "GET /api/v1/states",
      "PUT /api/v1/agents/{id}/state",
      "POST /api/v1/agents/{id}/events",
      "POST /api/v1/agents/{id}/override",
      "GET /api/v1/stream",
      "GET /api/v1/ws",
      // The pages' few small files, read through the page cache.
      "GET /",
      "GET /dashboard/{file}",
      "GET /agent",
      "GET /agent/{file}",
  };
  Result<RequestTarget> target = ParseRequestTarget(uri);
  if (!target.ok()) return true;
  std::vector<std::string> params;
  for (const Route& route : Routes()) {
    if (route.method != method || !Matches(route.parts, target->segments, params)) continue;
    return kOnLoop.count(route.name) != 0;
  }
  return true;
}

std::vector<std::string> ApiRouteNames() {
  std::vector<std::string> names;
  for (const Route& route : Routes()) names.push_back(route.name);
  return names;
}

}  // namespace presence::agent
