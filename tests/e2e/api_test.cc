// End to end: the HTTP API of the real `presence-agent serve`, on a free port, over HTTP.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "agent/api/http_api.h"
#include "agent/config/config.h"
#include "tests/fakes/acked_changes.h"
#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"
#include "tracking/sqlite/change_journal.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::agent {
namespace {

namespace data = boost::unit_test::data;
using Poco::JSON::Array;
using Poco::JSON::Object;
using testing::AgentServer;
using testing::HttpClient;
using testing::HttpRequest;
using testing::HttpResponse;

constexpr auto kWait = std::chrono::seconds(10);  // bound on waiting for a log line
constexpr int kMaxBody = 1024;

void SmallBodies(Object& config) { config.getObject("server")->set("max_body_bytes", kMaxBody); }

AgentServer& Started(AgentServer& server) {
  server.Start();
  return server;
}

// A started server with small bodies (server.max_body_bytes 1024) and one client.
struct ServerFixture {
  ServerFixture() : server(SmallBodies), http(Started(server).port()) {}
  const testing::AgentTokens& tokens() const { return server.tokens(); }

  AgentServer server;
  HttpClient http;
};

std::string Stringify(const Poco::Dynamic::Var& value) {
  std::ostringstream text;
  Poco::JSON::Stringifier::stringify(value, text);
  return text.str();
}

Object::Ptr ParseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

Timestamp Time(const std::string& text) {
  std::optional<Timestamp> t = ParseTime(text);
  if (!t) throw std::runtime_error("not a time: '" + text + "'");
  return *t;
}

double Seconds(Timestamp from, Timestamp to) {
  return static_cast<double>((to - from).count()) / 1000.0;
}

// The label of an agent view's state, "" for a user without one.
std::string Label(const Object::Ptr& view) {
  if (view->isNull("state")) return "";
  return view->getObject("state")->getValue<std::string>("label");
}

// An agent view without what GET works out as of the request ("today", whose open interval
// grows by the millisecond, "today_ends", and the budgets' "left_seconds" and "over"): what
// must stay the same when nothing happens.
std::string Stable(const Object::Ptr& view) {
  Object::Ptr copy = ParseObject(Stringify(view));
  copy->remove("today");
  copy->remove("today_ends");
  if (Object::Ptr budgets = copy->getObject("budgets")) {
    Poco::JSON::Array::Ptr states = budgets->getArray("states");
    for (size_t i = 0; states && i < states->size(); ++i) {
      states->getObject(static_cast<unsigned>(i))->remove("left_seconds");
      states->getObject(static_cast<unsigned>(i))->remove("over");
    }
  }
  return Stringify(copy);
}

// Every user's view without "today", and the update sequence number.
std::string StableAgents(HttpClient& http, const std::string& token) {
  HttpResponse response = http.Get("/api/v1/agents", token);
  if (response.status != 200) throw std::runtime_error("GET /agents: " + response.body);
  Object::Ptr body = response.Json();
  std::string text = "seq " + body->get("seq").toString();
  Array::Ptr agents = body->getArray("agents");
  for (size_t i = 0; i < agents->size(); ++i) {
    text += "\n" + Stable(agents->getObject(static_cast<unsigned>(i)));
  }
  return text;
}

Object::Ptr GetAgent(HttpClient& http, const std::string& token, const std::string& id) {
  HttpResponse response = http.Get("/api/v1/agents/" + id, token);
  if (response.status != 200) throw std::runtime_error("GET agent " + id + ": " + response.body);
  return response.Json();
}

// PUT /agents/{id}/state; the answer's body, after checking it is a 200.
Object::Ptr SetState(HttpClient& http, const std::string& token, const std::string& id,
                     const std::string& label) {
  HttpResponse response =
      http.Put("/api/v1/agents/" + id + "/state", token, R"({"label": ")" + label + "\"}");
  if (response.status != 200) throw std::runtime_error("PUT state: " + response.body);
  return response.Json();
}

Object::Ptr PostEvent(HttpClient& http, const std::string& token, const std::string& id,
                      const std::string& event) {
  HttpResponse response = http.Post("/api/v1/agents/" + id + "/events", token, event);
  if (response.status != 200) throw std::runtime_error("POST event: " + response.body);
  return response.Json();
}

Object::Ptr LastChange(const Object::Ptr& answer) {
  Array::Ptr changes = answer->getArray("changes");
  if (changes->size() == 0) throw std::runtime_error("no change in " + Stringify(answer));
  return changes->getObject(static_cast<unsigned>(changes->size() - 1));
}

std::set<std::string> Labels(const Array::Ptr& states) {
  std::set<std::string> labels;
  for (size_t i = 0; i < states->size(); ++i) {
    labels.insert(states->getObject(static_cast<unsigned>(i))->getValue<std::string>("label"));
  }
  return labels;
}

std::set<std::string> StateLabels(HttpClient& http, const std::string& token) {
  HttpResponse response = http.Get("/api/v1/states", token);
  Poco::JSON::Parser parser;
  return Labels(parser.parse(response.body).extract<Array::Ptr>());
}

// The server's UTC day: [00:00, 24:00) of the day its clock is in.
std::pair<Timestamp, Timestamp> ServerDay(HttpClient& http) {
  Timestamp now = Time(http.Get("/api/v1/health").Json()->getValue<std::string>("time"));
  Timestamp start = UtcDayStart(now);
  return {start, start + std::chrono::hours(24)};
}

// A report row's seconds; 0 for a row not listed.
double SecondsOf(const std::map<std::pair<std::string, std::string>, double>& rows,
                 const std::pair<std::string, std::string>& key) {
  auto found = rows.find(key);
  return found == rows.end() ? 0.0 : found->second;
}

// Seconds per label in a view's "today" list.
std::map<std::string, double> Today(const Object::Ptr& view) {
  std::map<std::string, double> today;
  Array::Ptr list = view->getArray("today");
  for (size_t i = 0; i < list->size(); ++i) {
    Object::Ptr item = list->getObject(static_cast<unsigned>(i));
    today[item->getValue<std::string>("label")] = item->getValue<double>("seconds");
  }
  return today;
}

// The session id from a Set-Cookie header ("pa_session=<id>; path=/; ..."), or "".
std::string SessionId(const std::string& set_cookie) {
  const std::string prefix = "pa_session=";
  if (set_cookie.rfind(prefix, 0) != 0) return "";
  return set_cookie.substr(prefix.size(), set_cookie.find(';') - prefix.size());
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A JSON error body: {"error": {"code": ..., "message": ...}} with a non-empty message.
bool IsJsonError(const HttpResponse& response, const std::string& code) {
  if (response.ErrorCode() != code) return false;
  return !response.Json()->getObject("error")->getValue<std::string>("message").empty();
}

// --- The role table ---------------------------------------------------------------------

enum class Who { kNone, kBadToken, kAgent, kIntegration, kSupervisor, kAdmin };
constexpr std::array<Who, 6> kEveryone = {Who::kNone,        Who::kBadToken,   Who::kAgent,
                                          Who::kIntegration, Who::kSupervisor, Who::kAdmin};

std::ostream& operator<<(std::ostream& out, Who who) {
  constexpr const char* kNames[] = {"no token",    "bad token",  "agent",
                                    "integration", "supervisor", "admin"};
  return out << kNames[static_cast<int>(who)];
}

std::string TokenOf(const AgentServer& server, Who who) {
  switch (who) {
    case Who::kNone:
      return "";
    case Who::kBadToken:
      return "not-a-token-of-this-server";
    case Who::kAgent:
      return server.tokens().agent;
    case Who::kIntegration:
      return server.tokens().integration;
    case Who::kSupervisor:
      return server.tokens().supervisor;
    case Who::kAdmin:
      return server.tokens().admin;
  }
  return "";
}

// One endpoint and the status each caller gets, in kEveryone's order. The agent token acts
// for user 1001; 1002 is someone else.
struct Endpoint {
  std::string method;
  std::string path;
  std::string body;
  std::array<int, 6> expect;
};

std::ostream& operator<<(std::ostream& out, const Endpoint& endpoint) {
  return out << endpoint.method << " " << endpoint.path;
}

const std::string kLunch = R"({"label": "Lunch"})";
const std::string kTraining = R"({"label": "Training"})";
const std::string kLogin = R"({"type": "login"})";
const std::string kReport =
    "/api/v1/reports/time?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z";
const std::string kDetailReport =
    "/api/v1/reports/intervals?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z";

// clang-format off
const Endpoint kEndpoints[] = {
    // method path                              body       none bad  agent integ super admin
    {"GET",  "/api/v1/health",                  "",        {200, 200, 200, 200, 200, 200}},
    {"GET",  "/api/v1/openapi.json",            "",        {200, 200, 200, 200, 200, 200}},
    {"GET",  "/metrics",                        "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  "/api/v1/metrics",                 "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  "/api/v1/session",                 "",        {401, 401, 200, 200, 200, 200}},
    {"GET",  "/api/v1/states",                  "",        {401, 401, 200, 200, 200, 200}},
    {"GET",  "/api/v1/agents",                  "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  "/api/v1/agents/1001",             "",        {401, 401, 200, 200, 200, 200}},
    {"GET",  "/api/v1/agents/1002",             "",        {401, 401, 403, 200, 200, 200}},
    {"PUT",  "/api/v1/agents/1001/state",       kLunch,    {401, 401, 200, 200, 403, 200}},
    {"PUT",  "/api/v1/agents/1002/state",       kLunch,    {401, 401, 403, 200, 403, 200}},
    {"POST", "/api/v1/agents/1001/events",      kLogin,    {401, 401, 200, 200, 403, 200}},
    {"POST", "/api/v1/agents/1002/events",      kLogin,    {401, 401, 403, 200, 403, 200}},
    {"POST", "/api/v1/agents/1001/override",    kTraining, {401, 401, 403, 403, 200, 200}},
    {"POST", "/api/v1/agents/1002/override",    kTraining, {401, 401, 403, 403, 200, 200}},
    {"GET",  "/api/v1/agents/1001/intervals",   "",        {401, 401, 200, 200, 200, 200}},
    {"GET",  "/api/v1/agents/1002/intervals",   "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  kReport,                           "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  kReport + "&format=csv",           "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  kDetailReport,                     "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  kReport + "&status=OnCall,dnd",    "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  "/api/v1/crm-sync",                "",        {401, 401, 403, 200, 200, 200}},
    {"GET",  "/api/v1/connectors",              "",        {401, 401, 403, 200, 200, 200}},
    {"POST", "/api/v1/admin/reload",            "",        {401, 401, 403, 403, 403, 200}},
    // A stream's 200 is a response that never ends: api_stream_test reads those (0: skipped).
    {"GET",  "/api/v1/stream",                  "",        {401, 401, 0,   0,   0,   0}},
    {"GET",  "/api/v1/ws",                      "",        {401, 401, 0,   0,   0,   0}},
};
// clang-format on

// One server for the whole role table: the answers do not depend on what earlier rows did.
AgentServer& RoleTableServer() {
  static std::unique_ptr<AgentServer> server = [] {
    // The table sends many wrong tokens from one address: without the throttle (its own tests
    // are in connection_hardening_test), every row gets the status of its role.
    auto started = std::make_unique<AgentServer>(
        [](Object& config) { config.getObject("server")->set("auth_failures_per_minute", 0); });
    started->Start();
    return started;
  }();
  return *server;
}

// --- Bad input --------------------------------------------------------------------------

struct BadInput {
  const char* name;
  Who who;
  const char* method;
  const char* path;
  std::string body;
  const char* content_type;
  bool chunked;
  int status;
  const char* code;
};

std::ostream& operator<<(std::ostream& out, const BadInput& bad) { return out << bad.name; }

// JSON that would change 1001's state if its size were allowed.
std::string Padded(size_t size) {
  std::string body = R"({"label": "Break")";
  body.append(size - body.size() - 1, ' ');
  return body + "}";
}

const std::string kState = "/api/v1/agents/1001/state";
const std::string kEvents = "/api/v1/agents/1001/events";
const std::string kOverride = "/api/v1/agents/1001/override";
const char* const kJson = "application/json";

const BadInput kBadInputs[] = {
    {"malformed JSON", Who::kIntegration, "PUT", kState.c_str(), R"({"label": )", kJson, false, 400,
     "malformed_json"},
    {"malformed JSON event", Who::kIntegration, "POST", kEvents.c_str(), "{type: login}", kJson,
     false, 400, "malformed_json"},
    {"empty body", Who::kIntegration, "PUT", kState.c_str(), "", kJson, false, 400,
     "malformed_json"},
    {"array body", Who::kIntegration, "PUT", kState.c_str(), R"(["Break"])", kJson, false, 400,
     "malformed_json"},
    {"string body", Who::kIntegration, "POST", kEvents.c_str(), R"("login")", kJson, false, 400,
     "malformed_json"},
    {"label not a string", Who::kIntegration, "PUT", kState.c_str(), R"({"label": 5})", kJson,
     false, 422, "invalid_value"},
    {"label missing", Who::kIntegration, "PUT", kState.c_str(), R"({"source": "crm"})", kJson,
     false, 422, "missing_field"},
    {"unknown field", Who::kIntegration, "PUT", kState.c_str(),
     R"({"label": "Break", "colour": "red"})", kJson, false, 422, "invalid_value"},
    {"source not a source", Who::kIntegration, "PUT", kState.c_str(),
     R"({"label": "Break", "source": "boss"})", kJson, false, 422, "invalid_value"},
    {"call id not a string", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "call_started", "call_id": 7})", kJson, false, 422, "invalid_value"},
    {"duration not a number", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "call_ended", "call_id": "c9", "duration_s": "long"})", kJson, false, 422,
     "invalid_value"},
    {"negative duration", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "call_ended", "call_id": "c9", "duration_s": -4})", kJson, false, 422,
     "invalid_value"},
    {"internal not a bool", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "call_started", "call_id": "c9", "internal": "yes"})", kJson, false, 422,
     "invalid_value"},
    {"unknown event type", Who::kIntegration, "POST", kEvents.c_str(), R"({"type": "teleport"})",
     kJson, false, 422, "invalid_event"},
    {"event without type", Who::kIntegration, "POST", kEvents.c_str(), R"({"label": "Break"})",
     kJson, false, 422, "missing_field"},
    {"event with its own time", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "select", "label": "Break", "at": "2026-11-20T09:00:00Z"})", kJson, false, 422,
     "invalid_event"},
    {"event for another user", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "select", "label": "Break", "agent": "1002"})", kJson, false, 422,
     "invalid_event"},
    {"override as an event", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "override", "label": "Break"})", kJson, false, 422, "invalid_event"},
    {"override label not a string", Who::kSupervisor, "POST", kOverride.c_str(),
     R"({"label": true})", kJson, false, 422, "invalid_value"},
    {"unknown label", Who::kIntegration, "PUT", kState.c_str(), R"({"label": "Lnch"})", kJson,
     false, 422, "unknown_label"},
    {"unknown label event", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "select", "label": "Lnch"})", kJson, false, 422, "unknown_label"},
    {"unknown label override", Who::kSupervisor, "POST", kOverride.c_str(), R"({"label": "Lnch"})",
     kJson, false, 422, "unknown_label"},
    {"label not selectable", Who::kAgent, "PUT", kState.c_str(), R"({"label": "On a call"})", kJson,
     false, 422, "not_selectable"},
    {"agent claims crm", Who::kAgent, "PUT", kState.c_str(),
     R"({"label": "Break", "source": "crm"})", kJson, false, 403, "forbidden"},
    {"integration claims supervisor", Who::kIntegration, "PUT", kState.c_str(),
     R"({"label": "Break", "source": "supervisor"})", kJson, false, 422, "invalid_value"},
    {"unknown user state", Who::kIntegration, "PUT", "/api/v1/agents/nobody/state",
     R"({"label": "Break"})", kJson, false, 404, "unknown_user"},
    {"unknown user event", Who::kIntegration, "POST", "/api/v1/agents/nobody/events",
     R"({"type": "login"})", kJson, false, 404, "unknown_user"},
    {"unknown user override", Who::kSupervisor, "POST", "/api/v1/agents/nobody/override",
     R"({"label": "Break"})", kJson, false, 404, "unknown_user"},
    {"unknown user read", Who::kSupervisor, "GET", "/api/v1/agents/nobody", "", "", false, 404,
     "unknown_user"},
    {"oversized body", Who::kIntegration, "PUT", kState.c_str(), Padded(kMaxBody + 1), kJson, false,
     413, "payload_too_large"},
    {"oversized event", Who::kIntegration, "POST", kEvents.c_str(),
     R"({"type": "logout", "call_id": ")" + std::string(3 * kMaxBody, 'x') + "\"}", kJson, false,
     413, "payload_too_large"},
    {"oversized chunked body", Who::kIntegration, "PUT", kState.c_str(), Padded(3 * kMaxBody),
     kJson, true, 413, "payload_too_large"},
    {"text content type", Who::kIntegration, "PUT", kState.c_str(), R"({"label": "Break"})",
     "text/plain", false, 415, "unsupported_media_type"},
    {"form content type", Who::kIntegration, "POST", kEvents.c_str(), "type=logout",
     "application/x-www-form-urlencoded", false, 415, "unsupported_media_type"},
    {"no content type", Who::kIntegration, "PUT", kState.c_str(), R"({"label": "Break"})", "",
     false, 415, "unsupported_media_type"},
    {"unknown route", Who::kSupervisor, "GET", "/api/v1/nothing", "", "", false, 404, "not_found"},
    {"unknown version", Who::kSupervisor, "GET", "/api/v2/agents", "", "", false, 404, "not_found"},
    {"unknown sub-resource", Who::kIntegration, "PUT", "/api/v1/agents/1001/mood",
     R"({"label": "Break"})", kJson, false, 404, "not_found"},
    {"wrong method", Who::kIntegration, "POST", kState.c_str(), R"({"label": "Break"})", kJson,
     false, 405, "method_not_allowed"},
    {"intervals from not a time", Who::kSupervisor, "GET",
     "/api/v1/agents/1001/intervals?from=yesterday", "", "", false, 400, "invalid_parameter"},
    {"intervals to before from", Who::kSupervisor, "GET",
     "/api/v1/agents/1001/intervals?from=2026-11-21T10:00:00Z&to=2026-11-21T09:00:00Z", "", "",
     false, 400, "invalid_parameter"},
    {"report without from", Who::kSupervisor, "GET", "/api/v1/reports/time?to=2026-11-21T09:00:00Z",
     "", "", false, 400, "missing_parameter"},
    {"report month 13", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-13-01T00:00:00Z&to=2026-11-21T09:00:00Z", "", "", false, 400,
     "invalid_parameter"},
    {"report to before from", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-22&to=2026-11-21", "", "", false, 400, "invalid_parameter"},
    {"report unknown parameter", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21&to=2026-11-22&agent=1001", "", "", false, 400,
     "invalid_parameter"},
    {"report repeated parameter", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21&to=2026-11-22&user=1001&user=1002", "", "", false, 400,
     "invalid_parameter"},
    {"report grouping", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21&to=2026-11-22&group_by=week", "", "", false, 400,
     "invalid_parameter"},
    {"report time zone", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21&to=2026-11-22&time_zone=Europe/Berln", "", "", false,
     400, "invalid_parameter"},
    {"report status", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21&to=2026-11-22&status=8", "", "", false, 400,
     "invalid_parameter"},
    {"report empty status list", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21&to=2026-11-22&status=", "", "", false, 400,
     "invalid_parameter"},
    {"report unknown team", Who::kSupervisor, "GET",
     "/api/v1/reports/intervals?from=2026-11-21&to=2026-11-22&team=Nobody", "", "", false, 404,
     "unknown_team"},
    {"detail format", Who::kSupervisor, "GET",
     "/api/v1/reports/intervals?from=2026-11-21&to=2026-11-22&format=text", "", "", false, 400,
     "invalid_parameter"},
    {"report format", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z&format=xml", "", "",
     false, 400, "invalid_parameter"},
    {"report unknown user", Who::kSupervisor, "GET",
     "/api/v1/reports/time?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z&user=nobody", "", "",
     false, 404, "unknown_user"},
};

// One server for every bad input; 1001 is in Lunch with a call ringing, 1002 in Break.
struct BadInputServer {
  BadInputServer() : server(SmallBodies), http(Started(server).port()) {
    const std::string& crm = server.tokens().integration;
    PostEvent(http, crm, "1001", R"({"type": "login"})");
    SetState(http, crm, "1001", "Lunch");
    PostEvent(http, crm, "1001", R"({"type": "call_started", "call_id": "c1"})");
    SetState(http, crm, "1002", "Break");
  }
  AgentServer server;
  HttpClient http;
};

BadInputServer& SharedBadInputServer() {
  static BadInputServer shared;
  return shared;
}

// --- Restarts ---------------------------------------------------------------------------

// 1001 on a call with Lunch pending, 1002 in wrap-up after a call, 1004 in Training.
void MakeStatesWorthKeeping(HttpClient& http, const testing::AgentTokens& tokens) {
  PostEvent(http, tokens.integration, "1001", R"({"type": "login"})");
  PostEvent(http, tokens.integration, "1001",
            R"({"type": "call_started", "call_id": "c1", "direction": "inbound"})");
  PostEvent(http, tokens.integration, "1001", R"({"type": "call_answered", "call_id": "c1"})");
  SetState(http, tokens.agent, "1001", "Lunch");
  PostEvent(http, tokens.integration, "1002", R"({"type": "login"})");
  PostEvent(http, tokens.integration, "1002",
            R"({"type": "call_ended", "call_id": "c2", "duration_s": 60})");
  SetState(http, tokens.integration, "1004", "Training");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_test)

// --- Every endpoint ---------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(health_answers_without_a_token, ServerFixture) {
  HttpResponse response = http.Get("/api/v1/health");
  BOOST_TEST(response.status == 200);
  BOOST_TEST(response.Header("Content-Type") == "application/json");
  Object::Ptr body = response.Json();
  BOOST_TEST(body->getValue<std::string>("status") == "ok");
  BOOST_TEST(!body->getValue<std::string>("version").empty());
  BOOST_TEST(ParseTime(body->getValue<std::string>("time")).has_value());
  BOOST_TEST(body->getValue<int>("agents") == 0);
  SetState(http, tokens().integration, "1001", "Lunch");
  BOOST_TEST(http.Get("/api/v1/health").Json()->getValue<int>("agents") == 1);
}

BOOST_FIXTURE_TEST_CASE(openapi_document_is_served_and_describes_every_route, ServerFixture) {
  HttpResponse response = http.Get("/api/v1/openapi.json");
  BOOST_TEST(response.status == 200);
  BOOST_TEST(response.Header("Content-Type") == "application/json");
  Object::Ptr document = response.Json();
  BOOST_TEST(document->getValue<std::string>("openapi").rfind("3.", 0) == 0u);
  Object::Ptr paths = document->getObject("paths");
  BOOST_REQUIRE(paths);
  // Every route the server answers ("GET /api/v1/agents/{id}"); paths may be written relative
  // to a server URL ending in /api/v1.
  for (const std::string& route : ApiRouteNames()) {
    const size_t space = route.find(' ');
    const std::string method = Poco::toLower(route.substr(0, space));
    const std::string path = route.substr(space + 1);
    const std::string relative =
        path.starts_with("/api/v1/") ? path.substr(std::string("/api/v1").size()) : path;
    Object::Ptr item = paths->has(path) ? paths->getObject(path) : paths->getObject(relative);
    BOOST_TEST_CONTEXT(route) {
      BOOST_TEST(item);
      if (item) BOOST_TEST(item->has(method));
    }
  }
}

BOOST_FIXTURE_TEST_CASE(metrics_are_prometheus_text_on_both_paths, ServerFixture) {
  SetState(http, tokens().integration, "1001", "Lunch");
  SetState(http, tokens().agent, "1001", "Break");
  for (const std::string path : {"/metrics", "/api/v1/metrics"}) {
    BOOST_TEST_CONTEXT(path) {
      HttpResponse response = http.Get(path, tokens().supervisor);
      BOOST_TEST(response.status == 200);
      BOOST_TEST(response.Header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0u,
                 response.Header("Content-Type"));
      for (const char* text :
           {"# TYPE presence_http_requests_total counter",
            "# TYPE presence_http_request_seconds histogram", "presence_events_total",
            "presence_changes_total{source=\"crm\"}", "presence_changes_total{source=\"agent\"}",
            "presence_ledger_commit_seconds_bucket", "presence_stream_viewers",
            "# TYPE presence_stream_errors_total counter",
            "presence_stream_errors_total{where=\"format\"} 0",
            "presence_stream_errors_total{where=\"write\"} 0"}) {
        BOOST_TEST(response.body.find(text) != std::string::npos, "missing " << text);
      }
    }
  }
}

BOOST_FIXTURE_TEST_CASE(session_cookie_is_http_only_strict_and_authenticates_alone, ServerFixture) {
  HttpResponse opened =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens().supervisor + "\"}");
  BOOST_TEST(opened.status == 200);
  BOOST_TEST(opened.Json()->getValue<std::string>("role") == "supervisor");
  BOOST_TEST(opened.Json()->isNull("user"));
  const std::string set_cookie = opened.Header("Set-Cookie");
  const std::string attributes = Lower(set_cookie);
  BOOST_TEST(attributes.find("; httponly") != std::string::npos, set_cookie);
  BOOST_TEST(attributes.find("; samesite=strict") != std::string::npos, set_cookie);
  BOOST_TEST(attributes.find("; path=/") != std::string::npos, set_cookie);
  BOOST_TEST(set_cookie.find(tokens().supervisor) == std::string::npos);  // never the token
  const std::string session = SessionId(set_cookie);
  BOOST_REQUIRE(session.size() >= 32u);

  // A browser that sends only the cookie.
  HttpClient browser(server.port());
  const testing::HttpHeaders cookie = {{"Cookie", "pa_session=" + session}};
  HttpResponse agents = browser.Send({.path = "/api/v1/agents", .headers = cookie});
  BOOST_TEST(agents.status == 200, agents.body);
  HttpResponse who = browser.Send({.path = "/api/v1/session", .headers = cookie});
  BOOST_TEST(who.status == 200);
  BOOST_TEST(who.Json()->getValue<std::string>("role") == "supervisor");
  BOOST_TEST(who.Json()->getValue<std::string>("name") == "floor");

  // Browser sessions are for people (agent page, dashboard): an integration uses its token.
  // (An agent's session, for the agent page, is in agent_page_test.)
  HttpResponse refused =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens().integration + "\"}");
  BOOST_TEST(refused.status == 403);
  BOOST_TEST(IsJsonError(refused, "forbidden"));
  BOOST_TEST(refused.Header("Set-Cookie").empty());
  // Answers carry anti-framing headers (the dashboard must not be framed by another site).
  BOOST_TEST(who.Header("X-Frame-Options") == "DENY");
  BOOST_TEST(who.Header("Content-Security-Policy") == "frame-ancestors 'none'");

  HttpResponse closed =
      browser.Send({.method = "DELETE", .path = "/api/v1/session", .headers = cookie});
  BOOST_TEST(closed.status == 204);
  BOOST_TEST(closed.Header("Set-Cookie").rfind("pa_session=;", 0) == 0u,
             closed.Header("Set-Cookie"));
  HttpResponse after = browser.Send({.path = "/api/v1/agents", .headers = cookie});
  BOOST_TEST(after.status == 401);
  BOOST_TEST(IsJsonError(after, "unauthorized"));
  BOOST_TEST(browser.Send({.path = "/api/v1/agents", .headers = {{"Cookie", "pa_session=forged"}}})
                 .status == 401);
}

BOOST_FIXTURE_TEST_CASE(a_session_needs_a_valid_token, ServerFixture) {
  for (const std::string body : {R"({"token": "not-a-token"})", R"({"token": ""})", R"({})"}) {
    BOOST_TEST_CONTEXT(body) {
      HttpResponse response = http.Post("/api/v1/session", "", body);
      BOOST_TEST(response.status == 401);
      BOOST_TEST(IsJsonError(response, "unauthorized"));
      BOOST_TEST(response.Header("Set-Cookie").empty());
    }
  }
  // A token that is not a string is a wrong JSON type (422), and opens no session either.
  HttpResponse number = http.Post("/api/v1/session", "", R"({"token": 5})");
  BOOST_TEST(number.status == 422);
  BOOST_TEST(IsJsonError(number, "invalid_value"));
  BOOST_TEST(number.Header("Set-Cookie").empty());
}

BOOST_FIXTURE_TEST_CASE(states_lists_the_whole_catalog_with_display_text, ServerFixture) {
  HttpResponse response = http.Get("/api/v1/states", tokens().agent);
  BOOST_TEST(response.status == 200);
  Poco::JSON::Parser parser;
  Array::Ptr states = parser.parse(response.body).extract<Array::Ptr>();
  BOOST_REQUIRE_EQUAL(states->size(), 11u);
  Object::Ptr ready = states->getObject(0);
  BOOST_TEST(ready->getValue<std::string>("label") == "Ready for Calls");
  BOOST_TEST(ready->getValue<std::string>("reason_code") == "*60");
  BOOST_TEST(ready->getValue<int>("status") == 1);
  BOOST_TEST(ready->getValue<std::string>("status_name") == "Online");
  BOOST_TEST(ready->getValue<std::string>("display") == "Ready for Calls (Online)");
  BOOST_TEST(ready->getValue<bool>("selectable"));
  Object::Ptr on_call = states->getObject(8);
  BOOST_TEST(on_call->getValue<std::string>("label") == "On a call");
  BOOST_TEST(on_call->getValue<std::string>("display") == "On a call (On a call)");
  BOOST_TEST(!on_call->getValue<bool>("selectable"));
}

BOOST_FIXTURE_TEST_CASE(agents_lists_every_configured_user_and_their_states, ServerFixture) {
  Object::Ptr before = http.Get("/api/v1/agents", tokens().supervisor).Json();
  BOOST_TEST(!before->getValue<std::string>("epoch").empty());
  Array::Ptr agents = before->getArray("agents");
  BOOST_REQUIRE_EQUAL(agents->size(), 4u);
  for (unsigned i = 0; i < 4; ++i) {
    BOOST_TEST(agents->getObject(i)->getValue<std::string>("id") == "100" + std::to_string(i + 1));
    BOOST_TEST(agents->getObject(i)->isNull("state"));
  }
  SetState(http, tokens().integration, "1002", "Lunch");
  Object::Ptr after = http.Get("/api/v1/agents", tokens().integration).Json();
  BOOST_TEST(after->getValue<uint64_t>("seq") > before->getValue<uint64_t>("seq"));
  Object::Ptr ben = after->getArray("agents")->getObject(1);
  BOOST_TEST(ben->getValue<std::string>("name") == "Ben Busy");
  BOOST_TEST(Label(ben) == "Lunch");
  BOOST_TEST(ben->getValue<std::string>("source") == "crm");
  for (const auto& [label, seconds] : Today(ben)) {  // a state only milliseconds old may be 0
    BOOST_TEST((label == "Logout" || label == "Lunch"), label);
  }
}

BOOST_FIXTURE_TEST_CASE(an_agent_view_has_its_state_and_todays_seconds_per_state, ServerFixture) {
  Object::Ptr login = PostEvent(http, tokens().agent, "1001", R"({"type": "login"})");
  const Timestamp logged_in = Time(LastChange(login)->getValue<std::string>("at"));
  Object::Ptr lunch = SetState(http, tokens().agent, "1001", "Lunch");
  const Timestamp at_lunch = Time(LastChange(lunch)->getValue<std::string>("at"));
  Object::Ptr brk = SetState(http, tokens().agent, "1001", "Break");
  const Timestamp at_break = Time(LastChange(brk)->getValue<std::string>("at"));

  Object::Ptr view = GetAgent(http, tokens().agent, "1001");
  const Timestamp now = Time(http.Get("/api/v1/health").Json()->getValue<std::string>("time"));
  BOOST_TEST(view->getValue<std::string>("id") == "1001");
  BOOST_TEST(view->getValue<std::string>("name") == "Anna Agent");
  BOOST_TEST(view->getValue<std::string>("extension") == "2001");
  BOOST_TEST(view->getValue<std::string>("team") == "blue");
  BOOST_TEST(Label(view) == "Break");
  BOOST_TEST(view->getObject("state")->getValue<std::string>("reason_code") == "*63");
  BOOST_TEST(view->getObject("state")->getValue<int>("status") == 3);
  BOOST_TEST(view->getValue<std::string>("since") == FormatTime(at_break));
  BOOST_TEST(view->getValue<std::string>("source") == "agent");
  BOOST_TEST(view->getArray("active_calls")->size() == 0u);
  BOOST_TEST(view->isNull("pending"));
  BOOST_TEST(view->isNull("wrap_up_until"));

  // Closed intervals count exactly; the open one up to the moment of the request.
  std::map<std::string, double> today = Today(view);
  BOOST_TEST(std::abs(today["Ready for Calls"] - Seconds(logged_in, at_lunch)) < 0.0005);
  BOOST_TEST(std::abs(today["Lunch"] - Seconds(at_lunch, at_break)) < 0.0005);
  BOOST_TEST(today["Break"] >= 0.0);
  BOOST_TEST(today["Break"] <= Seconds(at_break, now) + 0.0005);
  for (const auto& [label, seconds] : today) {
    BOOST_TEST(
        (label == "Logout" || label == "Ready for Calls" || label == "Lunch" || label == "Break"),
        label);
  }
}

BOOST_FIXTURE_TEST_CASE(a_configured_user_never_seen_has_no_state_yet, ServerFixture) {
  Object::Ptr view = GetAgent(http, tokens().supervisor, "1003");
  BOOST_TEST(view->getValue<std::string>("id") == "1003");
  BOOST_TEST(view->getValue<std::string>("name") == "Chris Unseen");
  BOOST_TEST(view->getValue<std::string>("extension") == "2003");
  BOOST_TEST(view->isNull("state"));
  BOOST_TEST(view->isNull("since"));
  BOOST_TEST(view->isNull("pending"));
  BOOST_TEST(view->isNull("wrap_up_until"));
  BOOST_TEST(view->getArray("active_calls")->size() == 0u);
  BOOST_TEST(view->getArray("today")->size() == 0u);
  HttpResponse intervals = http.Get("/api/v1/agents/1003/intervals", tokens().supervisor);
  BOOST_TEST(intervals.status == 200);
  BOOST_TEST(intervals.Json()->getArray("intervals")->size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(put_state_changes_the_state_with_the_callers_source, ServerFixture) {
  Object::Ptr first = SetState(http, tokens().agent, "1001", "Lunch");
  Array::Ptr changes = first->getArray("changes");
  BOOST_REQUIRE_EQUAL(changes->size(), 2u);  // first seen (initial state), then the choice
  BOOST_TEST(changes->getObject(0)->getValue<std::string>("to") == "Logout");
  BOOST_TEST(changes->getObject(0)->getValue<std::string>("cause") == "first_seen");
  Object::Ptr chosen = changes->getObject(1);
  BOOST_TEST(chosen->getValue<std::string>("agent") == "1001");
  BOOST_TEST(chosen->getValue<std::string>("from") == "Logout");
  BOOST_TEST(chosen->getValue<std::string>("to") == "Lunch");
  BOOST_TEST(chosen->getValue<std::string>("reason_code") == "*62");
  BOOST_TEST(chosen->getValue<int>("status") == 3);
  BOOST_TEST(chosen->getValue<std::string>("source") == "agent");
  BOOST_TEST(chosen->getValue<std::string>("cause") == "select");
  BOOST_TEST(Label(first->getObject("agent")) == "Lunch");
  BOOST_TEST(first->getObject("agent")->getValue<std::string>("since") ==
             chosen->getValue<std::string>("at"));

  // Integration tokens act for anyone, as crm unless they name a source.
  Object::Ptr crm = SetState(http, tokens().integration, "1001", "Break");
  BOOST_TEST(LastChange(crm)->getValue<std::string>("source") == "crm");
  HttpResponse pbx = http.Put("/api/v1/agents/1002/state", tokens().integration,
                              R"({"label": "In a meeting", "source": "pbx"})");
  BOOST_TEST(pbx.status == 200);
  BOOST_TEST(LastChange(pbx.Json())->getValue<std::string>("source") == "pbx");
  // Admin tokens too.
  Object::Ptr admin = SetState(http, tokens().admin, "1004", "Training");
  BOOST_TEST(LastChange(admin)->getValue<std::string>("source") == "crm");

  // A body sent chunked, without Content-Length, is read like any other.
  HttpResponse chunked = http.Send({.method = "PUT",
                                    .path = "/api/v1/agents/1004/state",
                                    .token = tokens().integration,
                                    .body = R"({"label": "Lunch"})",
                                    .chunked = true});
  BOOST_TEST(chunked.status == 200, chunked.body);
  BOOST_TEST(Label(GetAgent(http, tokens().supervisor, "1004")) == "Lunch");

  // The current state again: answered, nothing changes.
  Object::Ptr same = SetState(http, tokens().integration, "1001", "Break");
  BOOST_TEST(same->getArray("changes")->size() == 0u);
  BOOST_TEST(Label(GetAgent(http, tokens().agent, "1001")) == "Break");
  BOOST_TEST(GetAgent(http, tokens().agent, "1001")->getValue<std::string>("source") == "crm");
}

BOOST_FIXTURE_TEST_CASE(call_events_go_on_a_call_then_into_wrap_up, ServerFixture) {
  const std::string& crm = tokens().integration;
  Object::Ptr login = PostEvent(http, crm, "1001", R"({"type": "login"})");
  BOOST_TEST(Label(login->getObject("agent")) == "Ready for Calls");
  BOOST_TEST(LastChange(login)->getValue<std::string>("cause") == "login");

  Object::Ptr started = PostEvent(
      http, crm, "1001", R"({"type": "call_started", "call_id": "c1", "direction": "inbound"})");
  BOOST_TEST(started->getArray("changes")->size() == 0u);  // ringing changes nothing
  Array::Ptr ringing = started->getObject("agent")->getArray("active_calls");
  BOOST_REQUIRE_EQUAL(ringing->size(), 1u);
  BOOST_TEST(ringing->getObject(0)->getValue<std::string>("id") == "c1");
  BOOST_TEST(ringing->getObject(0)->getValue<std::string>("direction") == "inbound");
  BOOST_TEST(ringing->getObject(0)->isNull("answered"));

  Object::Ptr answered =
      PostEvent(http, crm, "1001", R"({"type": "call_answered", "call_id": "c1"})");
  Object::Ptr on_call = LastChange(answered);
  BOOST_TEST(answered->getArray("changes")->size() == 1u);
  BOOST_TEST(on_call->getValue<std::string>("from") == "Ready for Calls");
  BOOST_TEST(on_call->getValue<std::string>("to") == "On a call");
  BOOST_TEST(on_call->getValue<int>("status") == 6);
  BOOST_TEST(on_call->getValue<std::string>("reason_code") == "*69");
  BOOST_TEST(on_call->getValue<std::string>("source") == "call");
  BOOST_TEST(on_call->getValue<std::string>("cause") == "call_answered:c1");
  Object::Ptr talking = answered->getObject("agent");
  BOOST_TEST(Label(talking) == "On a call");
  BOOST_TEST(!talking->getArray("active_calls")->getObject(0)->isNull("answered"));

  Object::Ptr ended =
      PostEvent(http, crm, "1001", R"({"type": "call_ended", "call_id": "c1", "duration_s": 42})");
  Object::Ptr wrap_up = LastChange(ended);
  BOOST_TEST(wrap_up->getValue<std::string>("from") == "On a call");
  BOOST_TEST(wrap_up->getValue<std::string>("to") == "Wrap-up");
  BOOST_TEST(wrap_up->getValue<std::string>("source") == "wrap_up");
  BOOST_TEST(wrap_up->getValue<std::string>("cause") == "call_ended:c1");
  Object::Ptr after = ended->getObject("agent");
  BOOST_TEST(Label(after) == "Wrap-up");
  BOOST_TEST(after->getArray("active_calls")->size() == 0u);
  BOOST_REQUIRE(!after->isNull("wrap_up_until"));
  // The sample's 30 s of wrap-up, from the call's end.
  BOOST_TEST((Time(after->getValue<std::string>("wrap_up_until")) -
              Time(wrap_up->getValue<std::string>("at")))
                 .count() == 30000);

  // A choice during wrap-up ends it at once (wrap_up_locked is false in the sample).
  Object::Ptr chosen =
      PostEvent(http, tokens().agent, "1001", R"({"type": "select", "label": "Back office"})");
  BOOST_TEST(LastChange(chosen)->getValue<std::string>("source") == "agent");
  BOOST_TEST(chosen->getObject("agent")->isNull("wrap_up_until"));
  Object::Ptr logout = PostEvent(http, tokens().admin, "1001", R"({"type": "logout"})");
  BOOST_TEST(Label(logout->getObject("agent")) == "Logout");
}

BOOST_FIXTURE_TEST_CASE(override_is_recorded_as_the_supervisors_everywhere, ServerFixture) {
  const std::string& crm = tokens().integration;
  PostEvent(http, crm, "1001", R"({"type": "login"})");
  PostEvent(http, crm, "1001", R"({"type": "call_answered", "call_id": "c1"})");
  HttpResponse response =
      http.Post("/api/v1/agents/1001/override", tokens().supervisor, R"({"label": "Back office"})");
  BOOST_TEST(response.status == 200);
  Object::Ptr change = LastChange(response.Json());
  BOOST_TEST(change->getValue<std::string>("from") == "On a call");
  BOOST_TEST(change->getValue<std::string>("to") == "Back office");
  BOOST_TEST(change->getValue<std::string>("source") == "supervisor");
  BOOST_TEST(change->getValue<std::string>("cause") == "override");
  Object::Ptr view = GetAgent(http, tokens().supervisor, "1001");
  BOOST_TEST(Label(view) == "Back office");
  BOOST_TEST(view->getValue<std::string>("source") == "supervisor");

  // The call's end leaves the supervisor's choice standing.
  Object::Ptr ended =
      PostEvent(http, crm, "1001", R"({"type": "call_ended", "call_id": "c1", "duration_s": 9})");
  BOOST_TEST(ended->getArray("changes")->size() == 0u);
  BOOST_TEST(Label(ended->getObject("agent")) == "Back office");

  // Admins override as supervisors; a body cannot make an override anything else.
  HttpResponse admin = http.Post("/api/v1/agents/1002/override", tokens().admin,
                                 R"({"label": "Training", "source": "crm"})");
  if (admin.status == 200) {
    BOOST_TEST(LastChange(admin.Json())->getValue<std::string>("source") == "supervisor");
  } else {
    BOOST_TEST(admin.status == 422);
  }
  HttpResponse plain =
      http.Post("/api/v1/agents/1004/override", tokens().admin, R"({"label": "Training"})");
  BOOST_TEST(plain.status == 200);
  BOOST_TEST(LastChange(plain.Json())->getValue<std::string>("source") == "supervisor");

  Array::Ptr intervals =
      http.Get("/api/v1/agents/1001/intervals", tokens().supervisor).Json()->getArray("intervals");
  Object::Ptr last = intervals->getObject(static_cast<unsigned>(intervals->size() - 1));
  BOOST_TEST(last->getValue<std::string>("label") == "Back office");
  BOOST_TEST(last->getValue<std::string>("source") == "supervisor");
  BOOST_TEST(last->getValue<std::string>("cause") == "override");
}

BOOST_FIXTURE_TEST_CASE(integration_cannot_record_a_supervisor_source_through_events,
                        ServerFixture) {
  // PUT state refuses source supervisor from an integration (422); the events endpoint must
  // not be a way around that for login and logout.
  for (const std::string type : {"login", "logout"}) {
    BOOST_TEST_CONTEXT(type) {
      HttpResponse response = http.Post("/api/v1/agents/1002/events", tokens().integration,
                                        R"({"type": ")" + type + R"(", "source": "supervisor"})");
      BOOST_TEST(response.status == 422, response.body);
      BOOST_TEST(response.ErrorCode() == "invalid_value");
    }
  }
  Array::Ptr intervals =
      http.Get("/api/v1/agents/1002/intervals", tokens().supervisor).Json()->getArray("intervals");
  for (size_t i = 0; i < intervals->size(); ++i) {
    BOOST_TEST(intervals->getObject(static_cast<unsigned>(i))->getValue<std::string>("source") !=
               "supervisor");
  }
}

BOOST_FIXTURE_TEST_CASE(intervals_list_a_users_time_in_order, ServerFixture) {
  PostEvent(http, tokens().agent, "1001", R"({"type": "login"})");
  SetState(http, tokens().agent, "1001", "Lunch");
  SetState(http, tokens().agent, "1001", "Break");
  HttpResponse response = http.Get("/api/v1/agents/1001/intervals", tokens().agent);
  BOOST_TEST(response.status == 200);
  Object::Ptr body = response.Json();
  BOOST_TEST(body->getValue<std::string>("agent") == "1001");
  BOOST_TEST(body->getValue<std::string>("from") == FormatTime(ServerDay(http).first));
  Array::Ptr intervals = body->getArray("intervals");
  BOOST_REQUIRE_EQUAL(intervals->size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expected = {{"Logout", "first_seen"},
                                                                     {"Ready for Calls", "login"},
                                                                     {"Lunch", "select"},
                                                                     {"Break", "select"}};
  for (unsigned i = 0; i < 4; ++i) {
    Object::Ptr interval = intervals->getObject(i);
    BOOST_TEST(interval->getValue<std::string>("label") == expected[i].first);
    BOOST_TEST(interval->getValue<std::string>("cause") == expected[i].second);
    if (i + 1 < 4) {  // continuous: each ends where the next starts
      BOOST_TEST(interval->getValue<std::string>("end") ==
                 intervals->getObject(i + 1)->getValue<std::string>("start"));
    }
  }
  BOOST_TEST(intervals->getObject(3)->isNull("end"));  // the open one
  BOOST_TEST(intervals->getObject(2)->getValue<std::string>("reason_code") == "*62");

  HttpResponse old =
      http.Get("/api/v1/agents/1001/intervals?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z",
               tokens().supervisor);
  BOOST_TEST(old.status == 200);
  BOOST_TEST(old.Json()->getValue<std::string>("from") == "2000-01-01T00:00:00.000Z");
  BOOST_TEST(old.Json()->getValue<std::string>("to") == "2000-01-02T00:00:00.000Z");
  BOOST_TEST(old.Json()->getArray("intervals")->size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(time_report_in_json_and_csv_agree, ServerFixture) {
  const std::string& crm = tokens().integration;
  auto at = [](const Object::Ptr& answer) {
    return Time(LastChange(answer)->getValue<std::string>("at"));
  };
  const Timestamp login = at(PostEvent(http, crm, "1001", R"({"type": "login"})"));
  const Timestamp lunch = at(SetState(http, crm, "1001", "Lunch"));
  const Timestamp training = at(SetState(http, crm, "1002", "Training"));
  const Timestamp back_office = at(SetState(http, crm, "1002", "Back office"));
  // Closed intervals are exact; a report leaves out states with no time at all (two changes
  // in one millisecond), so only those with time must be listed.
  using Key = std::pair<std::string, std::string>;
  const std::map<Key, double> closed = {{{"1001", "Ready for Calls"}, Seconds(login, lunch)},
                                        {{"1002", "Training"}, Seconds(training, back_office)}};
  const std::set<Key> possible = {{"1001", "Logout"},   {"1001", "Ready for Calls"},
                                  {"1001", "Lunch"},    {"1002", "Logout"},
                                  {"1002", "Training"}, {"1002", "Back office"}};
  const auto [from, to] = ServerDay(http);
  const std::string range = "?from=" + FormatTime(from) + "&to=" + FormatTime(to);

  HttpResponse json = http.Get("/api/v1/reports/time" + range, tokens().supervisor);
  BOOST_TEST(json.status == 200, json.body);
  BOOST_TEST(json.Json()->getValue<std::string>("from") == FormatTime(from));
  BOOST_TEST(json.Json()->getValue<std::string>("to") == FormatTime(to));
  Array::Ptr users = json.Json()->getArray("users");
  std::map<Key, double> rows;
  for (size_t u = 0; u < users->size(); ++u) {
    Object::Ptr user = users->getObject(static_cast<unsigned>(u));
    Array::Ptr states = user->getArray("states");
    double sum = 0;
    for (size_t i = 0; i < states->size(); ++i) {
      Object::Ptr state = states->getObject(static_cast<unsigned>(i));
      Key key{user->getValue<std::string>("user"), state->getValue<std::string>("label")};
      BOOST_TEST(possible.contains(key), key.first << " " << key.second);
      BOOST_TEST(!state->getValue<std::string>("status_name").empty());
      rows[key] = state->getValue<double>("seconds");
      sum += rows[key];
      BOOST_TEST(rows[key] >= 0.0);
    }
    // Every state of a user adds up to the time the ledger covers for that user.
    BOOST_TEST(std::abs(sum - user->getValue<double>("covered_seconds")) < 0.0005);
  }
  for (const auto& [key, seconds] : closed) {
    BOOST_TEST_CONTEXT(key.first << " " << key.second << " " << seconds << " s") {
      BOOST_TEST((rows.contains(key) || seconds == 0.0));
      BOOST_TEST(std::abs(SecondsOf(rows, key) - seconds) < 0.0005);
    }
  }

  HttpResponse csv =
      http.Get("/api/v1/reports/time" + range + "&format=csv&user=1002", tokens().integration);
  BOOST_TEST(csv.status == 200);
  BOOST_TEST(csv.Header("Content-Type").rfind("text/csv", 0) == 0u, csv.Header("Content-Type"));
  BOOST_TEST(csv.Header("Content-Disposition").find("attachment") != std::string::npos);
  std::istringstream lines(csv.body);
  std::string line;
  std::getline(lines, line);
  BOOST_TEST(line ==
             "row,user,name,team,period_start,period_end,label,reason_code,status,status_name,"
             "seconds,covered_seconds,percent\r");
  // Seed 004: the reason code is a value in the users' own reports.
  std::map<std::string, std::string> reason_codes;
  {
    Poco::JSON::Parser parser;
    Array::Ptr states =
        parser.parse(http.Get("/api/v1/states", tokens().integration).body).extract<Array::Ptr>();
    for (size_t i = 0; i < states->size(); ++i) {
      Object::Ptr state = states->getObject(static_cast<unsigned>(i));
      reason_codes[state->getValue<std::string>("label")] =
          state->getValue<std::string>("reason_code");
    }
  }
  std::map<Key, double> csv_rows;
  while (std::getline(lines, line)) {
    BOOST_TEST_CONTEXT(line) {
      BOOST_TEST(line.rfind("total,1002,", 0) == 0u);  // only the user asked for
      BOOST_TEST(line.back() == '\r');
      std::vector<std::string> fields;
      std::istringstream cells(line.substr(0, line.size() - 1));
      for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
      BOOST_REQUIRE_EQUAL(fields.size(), 13u);
      BOOST_TEST(possible.contains(Key{fields[1], fields[6]}));
      BOOST_TEST(fields[7] == reason_codes[fields[6]]);
      BOOST_TEST(!fields[7].empty());
      csv_rows[{fields[1], fields[6]}] = std::stod(fields[10]);
    }
  }
  const Key trained{"1002", "Training"};
  BOOST_TEST(csv_rows.contains(trained) == rows.contains(trained), csv.body << json.body);
  BOOST_TEST(std::abs(SecondsOf(csv_rows, trained) - SecondsOf(rows, trained)) < 0.0005);
}

BOOST_FIXTURE_TEST_CASE(admin_reload_applies_a_good_file_and_refuses_a_bad_one, ServerFixture) {
  Object::Ptr config = server.Config();
  testing::AddState(config, "Coaching", "*70", 5);
  server.WriteConfig(config);
  HttpResponse good = http.Post("/api/v1/admin/reload", tokens().admin, "");
  BOOST_TEST(good.status == 200, good.body);
  BOOST_TEST(good.Json()->getValue<bool>("reloaded"));
  BOOST_TEST(StateLabels(http, tokens().agent).contains("Coaching"));  // at once: synchronous
  BOOST_TEST(LastChange(SetState(http, tokens().agent, "1001", "Coaching"))
                 ->getValue<std::string>("reason_code") == "*70");

  server.WriteConfigText(R"({"settings": {}, "states": [{"label": "Odd", "status": 9}]})");
  HttpResponse bad = http.Post("/api/v1/admin/reload", tokens().admin, "");
  BOOST_TEST(bad.status == 422);
  BOOST_TEST(IsJsonError(bad, "invalid_config"));
  Array::Ptr problems = bad.Json()->getObject("error")->getArray("problems");
  BOOST_REQUIRE(problems);
  bool named = false;
  for (size_t i = 0; i < problems->size(); ++i) {
    named = named ||
            problems->getElement<std::string>(static_cast<unsigned>(i)).find("states[0].status") !=
                std::string::npos;
  }
  BOOST_TEST(named, Stringify(problems));
  BOOST_TEST(StateLabels(http, tokens().agent).contains("Coaching"));  // the old one stands
  BOOST_TEST(SetState(http, tokens().agent, "1001", "Lunch")->getArray("changes")->size() == 1u);
}

// --- Every role rule --------------------------------------------------------------------

BOOST_DATA_TEST_CASE(each_role_gets_the_documented_status,
                     data::make(kEndpoints) * data::make(kEveryone), endpoint, who) {
  const int expected = endpoint.expect[static_cast<size_t>(who)];
  if (expected == 0) return;  // a stream would be opened: see api_stream_test
  AgentServer& server = RoleTableServer();
  HttpClient http(server.port());
  HttpRequest request{.method = endpoint.method,
                      .path = endpoint.path,
                      .token = TokenOf(server, who),
                      .body = endpoint.body};
  HttpResponse response = http.Send(request);
  BOOST_TEST(response.status == expected, response.body);
  if (expected == 401) {
    BOOST_TEST(response.Header("WWW-Authenticate") == "Bearer");
    BOOST_TEST(IsJsonError(response, "unauthorized"));
  }
  if (expected == 403) BOOST_TEST(IsJsonError(response, "forbidden"));
}

BOOST_FIXTURE_TEST_CASE(only_a_bearer_token_of_this_server_authenticates, ServerFixture) {
  const std::vector<std::string> refused = {
      "Basic " + tokens().supervisor,  // another scheme
      "Bearer",                        // no token
      "Bearer " + tokens().supervisor + "x",
      "bearer-" + tokens().supervisor,
      tokens().supervisor,  // no scheme
  };
  for (const std::string& authorization : refused) {
    BOOST_TEST_CONTEXT(authorization) {
      HttpResponse response =
          http.Send({.path = "/api/v1/agents", .headers = {{"Authorization", authorization}}});
      BOOST_TEST(response.status == 401);
      BOOST_TEST(response.Header("WWW-Authenticate") == "Bearer");
    }
  }
  // Not a token, its hash: the file's sha256 must not work as a token.
  HttpResponse hash = http.Get("/api/v1/agents", TokenHash(tokens().supervisor));
  BOOST_TEST(hash.status == 401);
  BOOST_TEST(http.Get("/api/v1/agents", tokens().supervisor).status == 200);
  // Each thread remembers the last token it hashed: one that differs from it in its last byte
  // only, right after it on the same connection (and so the same event loop: /states is
  // answered there), must not pass for it (8 failures in all here, under the throttle's 10).
  std::string near = tokens().supervisor;
  near.back() = near.back() == 'A' ? 'B' : 'A';
  for (int round = 0; round < 2; ++round) {
    BOOST_TEST(http.Get("/api/v1/states", tokens().supervisor).status == 200);
    BOOST_TEST(http.Get("/api/v1/states", near).status == 401);
  }
}

// --- Bad input --------------------------------------------------------------------------

BOOST_DATA_TEST_CASE(bad_input_gets_its_json_error_and_changes_nothing, data::make(kBadInputs),
                     bad) {
  BadInputServer& shared = SharedBadInputServer();
  const std::string& supervisor = shared.server.tokens().supervisor;
  HttpClient check(shared.server.port());
  const std::string before = StableAgents(check, supervisor);

  HttpClient http(shared.server.port());  // a fresh connection: the last answer may close it
  HttpRequest request{.method = bad.method,
                      .path = bad.path,
                      .token = TokenOf(shared.server, bad.who),
                      .body = bad.body,
                      .chunked = bad.chunked,
                      .content_type = bad.content_type};
  HttpResponse response = http.Send(request);
  BOOST_TEST(response.status == bad.status, response.body);
  BOOST_TEST(response.Header("Content-Type") == "application/json");
  BOOST_TEST(IsJsonError(response, bad.code), response.body);
  if (bad.status == 405) BOOST_TEST(response.Header("Allow") == "PUT");

  BOOST_TEST(StableAgents(check, supervisor) == before);
  BOOST_TEST(check.Get("/api/v1/health").status == 200);
}

BOOST_FIXTURE_TEST_CASE(wrong_method_lists_the_allowed_ones, ServerFixture) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"POST", "/api/v1/states", "GET"},
      {"DELETE", "/api/v1/agents/1001", "GET"},
      {"GET", "/api/v1/agents/1001/override", "POST"},
      {"PUT", "/api/v1/session", "POST, GET, DELETE"},
  };
  for (const auto& [method, path, allow] : cases) {
    BOOST_TEST_CONTEXT(method << " " << path) {
      // A GET carries no body (a GET with one is a 400 malformed_request).
      HttpResponse response = http.Send({.method = method,
                                         .path = path,
                                         .token = tokens().admin,
                                         .body = method == "GET" ? "" : "{}"});
      BOOST_TEST(response.status == 405);
      BOOST_TEST(IsJsonError(response, "method_not_allowed"));
      std::set<std::string> allowed;
      std::istringstream list(response.Header("Allow"));
      for (std::string item; std::getline(list >> std::ws, item, ',');) allowed.insert(item);
      std::set<std::string> want;
      std::istringstream wanted(allow);
      for (std::string item; std::getline(wanted >> std::ws, item, ',');) want.insert(item);
      BOOST_TEST(allowed == want, response.Header("Allow"));
    }
  }
}

BOOST_FIXTURE_TEST_CASE(error_statuses_carry_their_reason_phrase, ServerFixture) {
  // RFC 9110 15: the status line's reason phrase describes the status; clients and proxies
  // log it, so "404 OK" misleads whoever reads those logs.
  const std::vector<std::tuple<std::string, std::string, int, std::string>> cases = {
      {"GET", "/api/v1/nothing", 404, "Not Found"},
      {"GET", "/api/v1/agents", 401, "Unauthorized"},
      {"POST", "/api/v1/states", 405, "Method Not Allowed"},
  };
  for (const auto& [method, path, status, reason] : cases) {
    HttpResponse response = http.Send({.method = method, .path = path});
    BOOST_TEST(response.status == status);
    BOOST_TEST(response.reason == reason);
  }
}

// A refused request whose body was not read must not leave that body on a keep-alive
// connection, where it would be taken for the start of the next request.
BOOST_DATA_TEST_CASE(a_refused_body_does_not_spill_into_the_next_request,
                     data::make({401, 404, 413, 415}), status) {
  AgentServer& server = SharedBadInputServer().server;
  HttpClient http(server.port());
  HttpRequest request{.method = "PUT",
                      .path = kState,
                      .token = server.tokens().integration,
                      .body = R"({"label": "Training"})"};
  if (status == 401) request.token.clear();
  if (status == 404) request.path = "/api/v1/agents/nobody/state";
  if (status == 413) request.body = Padded(2 * kMaxBody);
  if (status == 415) request.content_type = "text/plain";
  HttpResponse refused = http.Send(request);
  BOOST_TEST(refused.status == status);
  // Either the server read the body, or it answered "Connection: close" (the client then
  // reconnects); the next request on this client must get its own answer.
  try {
    HttpResponse next = http.Get("/api/v1/health");
    BOOST_TEST(next.status == 200, "after a " << status << ", the next request got " << next.status
                                              << " " << next.body);
  } catch (const Poco::Exception& e) {
    BOOST_ERROR("after a " << status
                           << " answered with 'Connection: " << refused.Header("Connection")
                           << "', the next request on the connection failed: " << e.displayText());
  }
}

// --- Configuration reload (SIGHUP) ------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(sighup_with_a_good_file_adds_a_state_and_drops_a_removed_token,
                        ServerFixture) {
  SetState(http, tokens().integration, "1001", "Lunch");
  const std::string before = Stable(GetAgent(http, tokens().supervisor, "1001"));
  HttpResponse session =
      http.Post("/api/v1/session", "", R"({"token": ")" + tokens().admin + "\"}");
  const testing::HttpHeaders admin_cookie = {
      {"Cookie", "pa_session=" + SessionId(session.Header("Set-Cookie"))}};
  BOOST_REQUIRE(http.Send({.path = "/api/v1/agents", .headers = admin_cookie}).status == 200);
  HttpClient held(server.port());  // a keep-alive connection open across the reload
  BOOST_REQUIRE(held.Get("/api/v1/health").status == 200);

  Object::Ptr config = server.Config();
  testing::AddState(config, "Coaching", "*70", 5);
  Array::Ptr kept = new Array();
  Array::Ptr tokens_before = config->getArray("tokens");
  for (size_t i = 0; i < tokens_before->size(); ++i) {
    Object::Ptr token = tokens_before->getObject(static_cast<unsigned>(i));
    if (token->getValue<std::string>("role") != "admin") kept->add(token);
  }
  config->set("tokens", kept);
  server.WriteConfig(config);
  server.Signal(SIGHUP);

  // The log line comes once the new configuration is wholly in force.
  BOOST_REQUIRE(server.WaitForLog("configuration reloaded", kWait));
  BOOST_TEST(StateLabels(http, tokens().agent).contains("Coaching"));
  HttpResponse removed = http.Get("/api/v1/agents", tokens().admin);
  BOOST_TEST(removed.status == 401);
  BOOST_TEST(removed.Header("WWW-Authenticate") == "Bearer");
  // The removed token's dashboard session ends with it.
  BOOST_TEST(http.Send({.path = "/api/v1/agents", .headers = admin_cookie}).status == 401);
  // The new state is in force for changes, and nobody lost their state.
  BOOST_TEST(Stable(GetAgent(http, tokens().supervisor, "1001")) == before);
  Object::Ptr coached = SetState(http, tokens().agent, "1001", "Coaching");
  BOOST_TEST(LastChange(coached)->getValue<std::string>("reason_code") == "*70");
  BOOST_TEST(held.Get("/api/v1/agents", tokens().supervisor).status == 200);
}

BOOST_FIXTURE_TEST_CASE(sighup_with_a_bad_file_is_refused_and_the_old_configuration_stays,
                        ServerFixture) {
  SetState(http, tokens().integration, "1001", "Lunch");
  const std::set<std::string> states_before = StateLabels(http, tokens().agent);

  // Valid JSON with a bad state, and the supervisor's token gone: none of it may apply.
  Object::Ptr config = server.Config();
  Object::Ptr odd = new Object();
  odd->set("label", "Odd");
  odd->set("reason_code", "*71");
  odd->set("status", 9);
  config->getArray("states")->add(odd);
  config->set("tokens", Array::Ptr(new Array()));
  server.WriteConfig(config);
  server.Signal(SIGHUP);
  BOOST_REQUIRE(server.WaitForLog("reload refused", kWait));
  // Each problem is a line of its own after that one: waited for, not merely looked for.
  BOOST_TEST(server.WaitForLog("states[11].status: 9 is not a status code", kWait), server.Log());
  BOOST_TEST(http.Get("/api/v1/health").status == 200);
  BOOST_TEST(http.Get("/api/v1/agents", tokens().supervisor).status == 200);
  BOOST_TEST(StateLabels(http, tokens().agent) == states_before);
  BOOST_TEST(SetState(http, tokens().agent, "1001", "Break")->getArray("changes")->size() == 1u);

  // Not even JSON.
  server.WriteConfigText("{\"settings\": {\"mode\": ");
  server.Signal(SIGHUP);
  BOOST_REQUIRE(server.WaitForLog("reload refused", kWait, 2));
  BOOST_TEST(http.Get("/api/v1/agents", tokens().supervisor).status == 200);
  BOOST_TEST(StateLabels(http, tokens().agent) == states_before);
  BOOST_TEST(server.CountInLog("configuration reloaded") == 0u);
}

// --- Stop (SIGTERM) and restarts --------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(sigterm_exits_0_with_the_change_acknowledged_just_before_stored,
                        ServerFixture) {
  Object::Ptr answer = SetState(http, tokens().integration, "1001", "Lunch");
  const std::string since = answer->getObject("agent")->getValue<std::string>("since");
  BOOST_TEST(server.Stop(SIGTERM) == 0, server.Log());
  BOOST_TEST(server.Log().find("stopped cleanly") != std::string::npos, server.Log());

  auto store = tracking::OpenSqliteTimeStoreReadOnly(server.ledger_path());
  BOOST_REQUIRE(store.ok());
  auto intervals =
      store.value()->Intervals(std::string("1001"), Time(since) - std::chrono::hours(1),
                               Time(since) + std::chrono::hours(1));
  BOOST_REQUIRE(intervals.ok());
  BOOST_REQUIRE(!intervals->empty());
  BOOST_TEST(intervals->back().label == "Lunch");
  BOOST_TEST(FormatTime(intervals->back().start) == since);

  server.Start();
  HttpClient again(server.port());
  Object::Ptr view = GetAgent(again, tokens().supervisor, "1001");
  BOOST_TEST(Label(view) == "Lunch");
  BOOST_TEST(view->getValue<std::string>("since") == since);
}

BOOST_FIXTURE_TEST_CASE(sigterm_during_a_burst_loses_no_acknowledged_change, ServerFixture) {
  const std::vector<std::string> labels = {"Lunch", "Break", "Training", "Back office"};
  std::mutex mutex;
  std::condition_variable acked_enough;
  testing::AckedChanges acked;
  size_t acks = 0;
  std::atomic<int> server_errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client(server.port());
      const std::string user = "100" + std::to_string(w + 1);
      for (int i = 0;; ++i) {
        HttpResponse response;
        try {
          response = client.Put("/api/v1/agents/" + user + "/state", tokens().integration,
                                R"({"label": ")" + labels[(i + w) % labels.size()] + "\"}");
        } catch (const Poco::Exception&) {
          return;  // the server has gone
        }
        if (response.status == 503) return;  // stopping: refused, not acknowledged
        if (response.status != 200) {
          ++server_errors;
          return;
        }
        Array::Ptr changes = response.Json()->getArray("changes");
        std::lock_guard<std::mutex> lock(mutex);
        acked.Add(*changes);
        ++acks;
        acked_enough.notify_all();
      }
    });
  }
  bool enough = false;
  {
    std::unique_lock<std::mutex> lock(mutex);
    enough = acked_enough.wait_for(lock, kWait, [&] { return acks >= 40; });
  }
  server.Signal(SIGTERM);  // while the writers keep going
  const int code = server.Wait();
  for (std::thread& writer : writers) writer.join();
  BOOST_REQUIRE(enough);
  BOOST_TEST(code == 0, server.Log());
  BOOST_TEST(server_errors == 0);

  std::optional<testing::AckedChanges::LedgerCheck> ledger =
      acked.CheckLedger(server.ledger_path());
  BOOST_REQUIRE(ledger.has_value());
  BOOST_TEST(acked.size() > 0u);
  BOOST_TEST(ledger->missing == 0);
}

// Whether the ledger's journal has a segment that was prepared ahead (journal-prep).
bool HoldsPreparedSegment(const std::string& ledger_path) {
  auto segments = tracking::ListJournalSegments(ledger_path);
  if (!segments.ok()) throw std::runtime_error(segments.error().message);
  for (const tracking::JournalSegmentFile& segment : *segments) {
    std::ifstream in(segment.path, std::ios::binary);
    std::string magic(tracking::kJournalPreparedMagic.size(), '\0');
    in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
    if (magic == tracking::kJournalPreparedMagic) return true;
  }
  return false;
}

BOOST_FIXTURE_TEST_CASE(changes_acknowledged_into_a_prepared_journal_segment_survive_kill_9,
                        ServerFixture) {
  // power_loss (the default): once the journal's open segment holds 1 MB, journal-prep writes
  // the next one ahead and the agent appends into it. Changes until that has happened and 200
  // more, then kill -9: a restart replays every acknowledged one from it.
  const std::vector<std::string> labels = {"Lunch", "Break", "Training", "Back office"};
  testing::AckedChanges acked;
  HttpClient client(server.port());
  int after = -1;  // changes acknowledged since the prepared segment took over
  for (int i = 0; i < 60'000 && after < 200; ++i) {
    const std::string user = "100" + std::to_string(i % 4 + 1);
    HttpResponse response = client.Put("/api/v1/agents/" + user + "/state", tokens().integration,
                                       R"({"label": ")" + labels[(i / 4) % labels.size()] + "\"}");
    BOOST_TEST_REQUIRE(response.status == 200, response.body);
    acked.Add(*response.Json()->getArray("changes"));
    if (after >= 0) {
      ++after;
    } else if (i % 100 == 0 && HoldsPreparedSegment(server.ledger_path())) {
      after = 0;
    }
  }
  BOOST_TEST_REQUIRE(after >= 200, "no prepared segment took over within 60,000 changes");
  BOOST_TEST(server.Stop(SIGKILL) == 128 + SIGKILL);
  std::optional<testing::AckedChanges::LedgerCheck> ledger =
      acked.CheckLedger(server.ledger_path());
  BOOST_REQUIRE(ledger.has_value());
  BOOST_TEST(ledger->missing == 0);
  BOOST_TEST(ledger->intervals >= acked.size());
}

BOOST_DATA_TEST_CASE(a_restart_on_the_same_data_dir_resumes_every_state,
                     data::make({SIGKILL, SIGTERM}), stop_signal) {
  AgentServer server(SmallBodies);
  server.Start();
  HttpClient http(server.port());
  MakeStatesWorthKeeping(http, server.tokens());
  const std::string before = StableAgents(http, server.tokens().supervisor);
  Object::Ptr anna = GetAgent(http, server.tokens().supervisor, "1001");
  BOOST_TEST(Label(anna) == "On a call");
  BOOST_TEST(anna->getObject("pending")->getValue<std::string>("label") == "Lunch");
  BOOST_TEST(!GetAgent(http, server.tokens().supervisor, "1002")->isNull("wrap_up_until"));

  const int code = server.Stop(stop_signal);
  BOOST_TEST(code == (stop_signal == SIGKILL ? 128 + SIGKILL : 0));
  server.Start();
  HttpClient again(server.port());
  const std::string after = StableAgents(again, server.tokens().supervisor);
  // The sequence numbers restart with the process; the states must not.
  BOOST_TEST(after.substr(after.find('\n')) == before.substr(before.find('\n')));
  // And they go on from there: the call's end applies the pending choice after wrap-up.
  Object::Ptr ended = PostEvent(again, server.tokens().integration, "1001",
                                R"({"type": "call_ended", "call_id": "c1"})");
  BOOST_TEST(Label(ended->getObject("agent")) == "Wrap-up");
  BOOST_TEST(ended->getObject("agent")->getObject("pending")->getValue<std::string>("label") ==
             "Lunch");
}

BOOST_FIXTURE_TEST_CASE(a_second_serve_on_the_same_data_dir_is_refused, ServerFixture) {
  testing::Subprocess second({testing::AgentBinary(), "serve", "-c", server.config_path()});
  std::optional<std::string> line;
  int code = 0;
  {
    testing::ProcessWatchdog watchdog(second.pid(), std::chrono::seconds(20));  // if it waits
    line = second.ReadLine();
    BOOST_TEST(!line.has_value(), "the second process printed: " << line.value_or(""));
    if (line) second.Kill(SIGKILL);
    code = second.Wait();
  }
  BOOST_TEST(code != 0);
  BOOST_TEST(code != 128 + SIGKILL);
  BOOST_TEST(second.Stderr().find("in use") != std::string::npos, second.Stderr());
  // The first one goes on.
  BOOST_TEST(http.Get("/api/v1/health").status == 200);
  BOOST_TEST(SetState(http, tokens().integration, "1001", "Lunch")->getArray("changes")->size() ==
             2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
