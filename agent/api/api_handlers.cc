#include "agent/api/api_handlers.h"

#include <Poco/JSON/Array.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/NameValueCollection.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "agent/api/agent_view.h"
#include "agent/api/connector_status_json.h"
#include "agent/api/openapi_document.h"
#include "agent/core/event_json.h"
#include "agent/reports/output.h"
#include "agent/reports/report_export.h"
#include "agent/stream/websocket_protocol.h"
#include "common/json_writer.h"
#include "common/web_origin.h"

namespace presence::agent {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Longest token POST /api/v1/session reads, in bytes (tokens are far shorter).
constexpr std::size_t kMaxTokenBytes = 1024;

constexpr const char* kVersion = "0.1.0";
constexpr auto kMaxRange = std::chrono::hours(24 * 366);

Object::Ptr NewObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Timestamp Now(const Call& call) { return call.ctx.clock.Now(); }

// Today's seconds per state, per user (settings.time_zone's day so far).
std::map<std::string, Array::Ptr> TodayTotals(Call& call, const std::optional<std::string>& agent) {
  std::map<std::string, Array::Ptr> today;
  const Timestamp now = Now(call);
  auto totals = call.ctx.store.Totals(
      {.from = call.config->zone.DayStart(now), .to = now + Millis(1), .now = now, .agent = agent});
  if (!totals.ok()) return today;
  for (const tracking::Total& total : *totals) {
    Array::Ptr& list = today[total.agent];
    if (!list) list = new Array();
    Object::Ptr item = TotalJson(total);
    item->remove("agent");
    list->add(item);
  }
  return today;
}

// The view of a configured user never seen yet: no state until its first event.
Object::Ptr UnseenUserJson(const User& user, const reasoncodes::Catalog& catalog, Timestamp now,
                           const tracking::ReportZone& zone) {
  Object::Ptr json = NewObject();
  json->set("id", user.id);
  json->set("name", user.name);
  json->set("extension", user.extension);
  json->set("team", user.team);
  json->set("state", Poco::Dynamic::Var());
  json->set("since", Poco::Dynamic::Var());
  json->set("active_calls", Array::Ptr(new Array()));
  json->set("pending", Poco::Dynamic::Var());
  json->set("wrap_up_until", Poco::Dynamic::Var());
  json->set("pbx_mismatches", Array::Ptr(new Array()));
  if (catalog.settings().omni_channel) json->set("omni_channel", Poco::Dynamic::Var());
  Array::Ptr budgets = new Array();
  for (const reasoncodes::State& state : catalog.states()) {
    if (state.budget_seconds_per_day <= 0) continue;
    Object::Ptr item = NewObject();
    item->set("label", state.label);
    item->set("budget_seconds", state.budget_seconds_per_day);
    item->set("used_seconds", 0);
    item->set("counting_since", Poco::Dynamic::Var());
    item->set("left_seconds", state.budget_seconds_per_day);
    item->set("over", false);
    budgets->add(item);
  }
  if (budgets->size() > 0) {
    Object::Ptr block = NewObject();
    block->set("day_ends", FormatTime(zone.NextDayStart(now)));
    block->set("states", budgets);
    json->set("budgets", block);
  }
  return json;
}

Object::Ptr ViewWithToday(Call& call, const Snapshot& snapshot, const std::string& id,
                          std::map<std::string, Array::Ptr>& today) {
  const User* user = call.config->FindUser(id);
  std::shared_ptr<const AgentState> state = snapshot.agents.Find(id);
  const Timestamp now = Now(call);
  Object::Ptr view = state ? AgentViewJson(*state, *snapshot.catalog, user)
                           : UnseenUserJson(*user, *snapshot.catalog, now, call.config->zone);
  if (state) AddBudgetFigures(*view, state.get(), now, call.config->zone);
  Array::Ptr totals = today[id];
  view->set("today", totals ? totals : Array::Ptr(new Array()));
  // When "today" (settings.time_zone's day) ends: a page showing it asks again then.
  view->set("today_ends", FormatTime(call.config->zone.NextDayStart(now)));
  return view;
}

// 404 unless the user is configured (changes) or at least known to the ledger (reads).
bool KnownUser(Call& call, bool must_be_configured) {
  const std::string& id = call.params.at(0);
  call.user = call.config->FindUser(id);
  if (call.user != nullptr) return true;
  if (!must_be_configured && call.ctx.core.snapshot()->agents.contains(id)) return true;
  SendError(call, 404, "unknown_user",
            "no user '" + Excerpt(id) + "' in the configuration (users[].id)");
  return false;
}

// Answers a posted event: {"agent": view, "changes": [...]}, or the engine's or store's error.
void AnswerPosted(Call& call, EventType type, const Result<Reply>& reply) {
  call.ctx.metrics.CountEvent(type, reply.ok());
  if (!reply.ok()) return SendFailure(call, reply.error());
  for (const tracking::Change& change : reply->changes) call.ctx.metrics.CountChange(change.source);
  // The hot path of every change: written straight to text, no intermediate JSON objects
  // (about 750 bytes for a user with two budgeted states).
  JsonWriter out(1024);
  out.BeginObject().Key("agent");
  // The user KnownUser found (at 100,000 users each look-up costs cache misses).
  const std::string& agent = reply->state->agent;
  const User* user =
      call.user != nullptr && call.user->id == agent ? call.user : call.config->FindUser(agent);
  WriteAgentView(out, *reply->state, *call.ctx.core.snapshot()->catalog, user);
  out.Key("changes").BeginArray();
  for (const tracking::Change& change : reply->changes) WriteChange(out, change);
  out.EndArray().EndObject();
  SendText(call, 200, "application/json", out.str());
}

// Posts the event and answers once it is durable. On an event loop the answer comes later,
// when the core has committed the batch the event went in with; elsewhere this waits.
void PostAndAnswer(Call& call, Event event) {
  const EventType type = event.type;
  if (call.async == nullptr) {
    AnswerPosted(call, type, call.ctx.core.Post(std::move(event)).get());
    return;
  }
  call.deferred = true;
  call.async->Post(std::move(event), [self = call.shared_from_this(), type](Result<Reply> reply) {
    Call& later = *self;
    try {
      AnswerPosted(later, type, reply);
    } catch (const std::exception& e) {
      // The per-request catch-all, as in the API handler (design.md 5).
      later.ctx.log.Swallowed("request failed", e.what(),
                              {{"path", LoggablePath(later.target.raw_path)}, {"status", 500}});
      later.response.setKeepAlive(false);
      if (!later.response.sent()) {
        SendError(later, 500, "internal_error", "the request failed on the server; see its log");
      }
    }
    if (later.finish) later.finish(later);
  });
}

// The source a caller may claim: agent tokens are always "agent"; others may name one.
std::optional<reasoncodes::Source> AllowedSource(Call& call,
                                                 std::optional<reasoncodes::Source> asked,
                                                 reasoncodes::Source fallback) {
  using reasoncodes::Source;
  if (call.who->role == Role::kAgent) {
    if (asked && *asked != Source::kAgent) {
      SendError(call, 403, "forbidden", "an agent token changes state only as source 'agent'");
      return std::nullopt;
    }
    return Source::kAgent;
  }
  if (asked &&
      (*asked == Source::kSupervisor || *asked == Source::kWrapUp || *asked == Source::kCall)) {
    SendError(call, 422, "invalid_value",
              "source: '" + std::string(reasoncodes::SourceName(*asked)) +
                  "' is set by the agent itself; allowed: agent, crm, pbx, system");
    return std::nullopt;
  }
  return asked.value_or(fallback);
}

std::optional<Timestamp> TimeParam(Call& call, const std::string& name,
                                   std::optional<Timestamp> fallback) {
  std::optional<std::string> text = call.Query(name);
  if (!text) {
    if (!fallback) SendError(call, 400, "missing_parameter", name + ": required (ISO-8601 time)");
    return fallback;
  }
  std::optional<Timestamp> t = ParseTime(*text);
  if (!t) {
    SendError(call, 400, "invalid_parameter",
              name + ": '" + Excerpt(*text) + "' is not a time like 2026-11-21T09:00:00.000Z");
  }
  return t;
}

// from/to for ranges: to > from, at most a year and a day.
bool ValidRange(Call& call, Timestamp from, Timestamp to) {
  if (to <= from) {
    SendError(call, 400, "invalid_parameter", "to: must be after from");
    return false;
  }
  if (to - from > kMaxRange) {
    SendError(call, 400, "invalid_parameter", "the range may span at most 366 days");
    return false;
  }
  return true;
}

Object::Ptr WhoJson(const Principal& who) {
  Object::Ptr json = NewObject();
  json->set("role", std::string(RoleName(who.role)));
  json->set("name", who.name);
  json->set("user", who.user.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(who.user));
  return json;
}

std::string Resume(Call& call) {
  if (std::optional<std::string> since = call.Query("since")) return *since;
  return call.request.get("Last-Event-ID", "");
}

// Whether the configuration in force still has the caller's token, as it was.
bool TokenStillValid(const ApiContext& ctx, const Principal& who) {
  const TokenEntry* token = ctx.config.load()->FindTokenHash(who.token_hash);
  return token != nullptr && token->role == who.role && token->user == who.user;
}

// Hands the connection to the stream hub. An agent token may hold only
// server.max_streams_per_agent_token streams (429 beyond); other roles are bounded by
// server.max_viewers alone (a wall of dashboards may share one supervisor token).
void Detach(Call& call, StreamHub::Kind kind, const std::string& key) {
  const Principal& who = *call.who;
  const bool limited = who.role == Role::kAgent;
  if (limited) {
    const int limit = call.config->server.max_streams_per_agent_token;
    if (!call.ctx.hub.Claim(who.token_hash, static_cast<size_t>(limit))) {
      call.response.set("Retry-After", "5");
      return SendError(call, 429, "too_many_streams",
                       "this agent token has its maximum of " + std::to_string(limit) +
                           " live streams open (server.max_streams_per_agent_token); close one "
                           "first");
    }
  }
  Poco::Net::StreamSocket socket;
  try {
    socket = dynamic_cast<RequestHooks&>(call.request).DetachSocket();
  } catch (...) {
    if (limited) call.ctx.hub.Unclaim(who.token_hash);
    throw;
  }
  call.detached = true;
  call.status = kind == StreamHub::Kind::kSse ? 200 : 101;
  // An agent token follows its own user only; integrations act for any user, like readers.
  std::string only_agent = limited ? who.user : std::string();
  // Poco's sockets are shared handles (copied, never moved): this one lets go of its handle
  // before the hub starts, so the hub holds the only one and frees the socket on its thread.
  call.ctx.hub.Add(std::exchange(socket, Poco::Net::StreamSocket()), kind, key, Resume(call),
                   std::move(only_agent), StreamHub::Owner{who.token_hash, limited});
  // A reload that removed the token since this request was authorized closed the token's
  // streams before this one was added: close it too. (A reload after this check closes it.)
  if (!TokenStillValid(call.ctx, who)) call.ctx.hub.CloseOwners({who.token_hash});
}

// Whether agent sessions must work inside another site's frame (the agent page in a softphone
// panel): TLS on and server.frame_ancestors set. Such a frame sends the session cookie only
// when it is SameSite=None and Secure, and, where third-party cookies are blocked, Partitioned
// (CHIPS: kept apart per top-level site).
bool FramedSessions(const Call& call) {
  return call.ctx.tls && !call.config->server.frame_ancestors.empty();
}

// Sets the session cookie `value` ("" with Max-Age=0 removes it): HttpOnly, path /, Secure
// under TLS; SameSite=Strict, or None + Partitioned when `framed`.
void AddSessionCookie(Call& call, const std::string& value, bool framed) {
  Poco::Net::HTTPCookie cookie("pa_session", value);
  cookie.setHttpOnly(true);
  cookie.setPath("/");
  if (value.empty()) cookie.setMaxAge(0);
  cookie.setSameSite(framed ? Poco::Net::HTTPCookie::SAME_SITE_NONE
                            : Poco::Net::HTTPCookie::SAME_SITE_STRICT);
  cookie.setSecure(call.ctx.tls);
  // Poco writes no Partitioned attribute: appended to its text.
  call.response.add("Set-Cookie", cookie.toString() + (framed ? "; Partitioned" : ""));
}

}  // namespace

void HandleHealth(Call& call) {
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("status", "ok");
  body.set("version", kVersion);
  body.set("time", FormatTime(Now(call)));
  body.set("agents", static_cast<int>(call.ctx.core.snapshot()->agents.size()));
  body.set("viewers", static_cast<int>(call.ctx.hub.viewers()));
  SendJson(call, 200, body);
}

// Each connector's outbox and delivery health (connector_status_json.h).
void HandleConnectors(Call& call) {
  SendText(call, 200, "application/json",
           ConnectorsAnswer(Now(call), call.ctx.connectors.Statuses()));
}

void HandleOpenApi(Call& call) { SendText(call, 200, "application/json", kOpenApiDocument); }

void HandleMetrics(Call& call) {
  SendText(call, 200, "text/plain; version=0.0.4; charset=utf-8", call.ctx.metrics.Render());
}

void HandleOpenSession(Call& call) {
  std::optional<Object::Ptr> body = ReadJsonBody(call);
  if (!body) return;
  if (Status fields = CheckFields(**body, {"token"}); !fields.ok()) {
    return SendFailure(call, fields.error());
  }
  Result<std::optional<std::string>> read = ReadStringField(**body, "token", kMaxTokenBytes);
  if (!read.ok()) return SendFailure(call, read.error());
  const std::string token = read->value_or("");
  // Exchanging a token for a session is a guess like any other (README, Limits).
  if (SendIfThrottled(call)) return;
  const TokenEntry* entry = token.empty() ? nullptr : call.config->FindTokenHash(TokenHash(token));
  if (entry == nullptr) {
    if (!token.empty()) CountFailedCredentials(call);
    return SendError(call, 401, "unauthorized", "token: not a valid token");
  }
  if (entry->role == Role::kIntegration) {
    return SendError(call, 403, "forbidden",
                     "browser sessions are for agent, supervisor and admin tokens; an "
                     "integration uses its token as 'Authorization: Bearer' for the API");
  }
  std::string session = call.ctx.sessions.Open(entry->sha256, std::chrono::system_clock::now());
  const bool framed = entry->role == Role::kAgent && FramedSessions(call);
  AddSessionCookie(call, session, framed);
  // A partitioned and an unpartitioned pa_session are two cookies to a browser, and both would
  // be sent at the top level, the older first: the other kind goes, so the browser holds one
  // session, the latest sign-in's (the other page then finds itself signed out).
  if (FramedSessions(call)) AddSessionCookie(call, "", !framed);
  SendJson(call, 200, WhoJson(Principal{entry->role, entry->user, entry->name, entry->sha256}));
}

void HandleWhoAmI(Call& call) { SendJson(call, 200, WhoJson(*call.who)); }

void HandleCloseSession(Call& call) {
  Poco::Net::NameValueCollection cookies;
  call.request.getCookies(cookies);
  for (const auto& [name, value] : cookies) {  // every one sent (see HandleOpenSession)
    if (name == "pa_session") call.ctx.sessions.Close(value);
  }
  AddSessionCookie(call, "", false);
  // A partitioned cookie is removed only by a Set-Cookie that is partitioned too.
  if (FramedSessions(call)) AddSessionCookie(call, "", true);
  call.status = 204;
  call.response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
  call.response.setContentLength(0);
  call.response.send();
}

void HandleStates(Call& call) {
  Array states;
  for (const reasoncodes::State& state : call.ctx.core.snapshot()->catalog->states()) {
    states.add(StateJson(state));
  }
  SendJson(call, 200, states);
}

void HandleAgents(Call& call) {
  auto snapshot = call.ctx.core.snapshot();
  auto today = TodayTotals(call, std::nullopt);
  std::set<std::string> ids;
  for (const User& user : call.config->users) ids.insert(user.id);
  for (const auto& [id, state] : snapshot->agents.Sorted()) ids.insert(id);
  Array::Ptr agents = new Array();
  for (const std::string& id : ids) agents->add(ViewWithToday(call, *snapshot, id, today));
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("epoch", call.ctx.hub.epoch());
  body.set("seq", static_cast<Poco::UInt64>(snapshot->seq));
  body.set("agents", agents);
  SendJson(call, 200, body);
}

void HandleAgent(Call& call) {
  if (!KnownUser(call, false)) return;
  auto snapshot = call.ctx.core.snapshot();
  auto today = TodayTotals(call, call.params[0]);
  SendJson(call, 200, ViewWithToday(call, *snapshot, call.params[0], today));
}

void HandleSetState(Call& call) {
  if (!KnownUser(call, true)) return;
  std::optional<Object::Ptr> body = ReadJsonBody(call);
  if (!body) return;
  if (Status fields = CheckFields(**body, {"label", "source"}); !fields.ok()) {
    return SendFailure(call, fields.error());
  }
  Result<std::optional<std::string>> label = ReadStringField(**body, "label");
  if (!label.ok()) return SendFailure(call, label.error());
  if (!*label) {
    return SendError(call, 422, "missing_field", "label: the state to change to (a string)");
  }
  Result<std::optional<std::string>> source_name = ReadStringField(**body, "source");
  if (!source_name.ok()) return SendFailure(call, source_name.error());
  std::optional<reasoncodes::Source> asked;
  if (*source_name) {
    asked = reasoncodes::SourceFromName(**source_name);
    if (!asked) {
      return SendError(call, 422, "invalid_value",
                       "source: '" + Excerpt(**source_name) +
                           "' is not a source; allowed: agent, crm, pbx, system");
    }
  }
  std::optional<reasoncodes::Source> source = AllowedSource(call, asked, reasoncodes::Source::kCrm);
  if (!source) return;
  Event event{.type = EventType::kSelect,
              .agent = call.params[0],
              .label = std::move(**label),
              .source = source};
  PostAndAnswer(call, std::move(event));
}

void HandleEvent(Call& call) {
  if (!KnownUser(call, true)) return;
  std::optional<Object::Ptr> body = ReadJsonBody(call);
  if (!body) return;
  Result<TimedEvent> parsed = ParseEvent(**body, {.require_at = false, .require_agent = false});
  if (!parsed.ok()) return SendFailure(call, parsed.error());
  Event& event = parsed->event;
  if (parsed->at) {
    return SendError(call, 422, "invalid_event", "at: not allowed; the server's clock is used");
  }
  if (!event.agent.empty() && event.agent != call.params[0]) {
    return SendError(call, 422, "invalid_event", "agent: must be the user in the path or absent");
  }
  if (event.type == EventType::kOverride) {
    return SendError(call, 422, "invalid_event",
                     "type: override is a supervisor's action: POST /api/v1/agents/{id}/override");
  }
  event.agent = call.params[0];
  // A claimed source is checked for every event type: no token may pass itself off as a
  // supervisor, the wrap-up timer or the engine's call handling.
  if (event.type == EventType::kSelect || event.source || call.who->role == Role::kAgent) {
    std::optional<reasoncodes::Source> source = AllowedSource(
        call, event.source,
        event.type == EventType::kSelect ? reasoncodes::Source::kCrm : DefaultSource(event.type));
    if (!source) return;
    if (event.type == EventType::kSelect || event.source) event.source = source;
  }
  PostAndAnswer(call, std::move(event));
}

void HandleOverride(Call& call) {
  if (!KnownUser(call, true)) return;
  std::optional<Object::Ptr> body = ReadJsonBody(call);
  if (!body) return;
  if (Status fields = CheckFields(**body, {"label"}); !fields.ok()) {
    return SendFailure(call, fields.error());
  }
  Result<std::optional<std::string>> label = ReadStringField(**body, "label");
  if (!label.ok()) return SendFailure(call, label.error());
  if (!*label) return SendError(call, 422, "missing_field", "label: the state to set (a string)");
  Event event{.type = EventType::kOverride,
              .agent = call.params[0],
              .label = std::move(**label),
              .source = reasoncodes::Source::kSupervisor};
  PostAndAnswer(call, std::move(event));
}

void HandleIntervals(Call& call) {
  if (!KnownUser(call, false)) return;
  const Timestamp now = Now(call);
  std::optional<Timestamp> from = TimeParam(call, "from", call.config->zone.DayStart(now));
  if (!from) return;
  std::optional<Timestamp> to = TimeParam(call, "to", now + Millis(1));
  if (!to || !ValidRange(call, *from, *to)) return;
  auto intervals = call.ctx.store.Intervals(call.params[0], *from, *to);
  if (!intervals.ok()) return SendFailure(call, intervals.error());
  Array::Ptr list = new Array();
  for (const tracking::Interval& interval : *intervals) {
    Object::Ptr item = NewObject();
    item->set("label", interval.label);
    item->set("reason_code", interval.reason_code);
    item->set("status", reasoncodes::ToInt(interval.status));
    item->set("source", std::string(reasoncodes::SourceName(interval.source)));
    item->set("cause", interval.cause);
    item->set("start", FormatTime(interval.start));
    item->set("end",
              interval.end ? Poco::Dynamic::Var(FormatTime(*interval.end)) : Poco::Dynamic::Var());
    list->add(item);
  }
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("agent", call.params[0]);
  body.set("from", FormatTime(*from));
  body.set("to", FormatTime(*to));
  body.set("intervals", list);
  SendJson(call, 200, body);
}

namespace {

// Does nothing with what it is shown: a scan that only opens the ledger.
class NoVisitor final : public tracking::IntervalVisitor {
 public:
  bool BeginUser(const std::string&) override { return false; }
  bool Add(const tracking::Interval&) override { return false; }
};

// Ends a chunked answer that failed part-way without its last (0-length) chunk: the socket is
// taken from the session, which then has nowhere to write that chunk, and closed. The client
// sees a transfer cut short (RFC 9112, 7.1) instead of a body that looks complete.
void AbortChunkedAnswer(Call& call) {
  Poco::Net::StreamSocket socket = dynamic_cast<RequestHooks&>(call.request).DetachSocket();
  try {
    socket.shutdown();
  } catch (const Poco::Exception&) {
    // The client may have gone already; closing is all that is left to do.
  }
  socket.close();
}

// Reports stream: the status and headers go out first, then the figures as they are computed
// (chunked), so the server never holds a whole export. The ledger is opened for a scan before
// the headers, so an unreadable ledger is still a 503; a failure after that point is logged and
// the answer aborted (AbortChunkedAnswer): a cut-off CSV must not look whole.
void StreamReport(Call& call, ReportKind kind) {
  const std::vector<std::pair<std::string, std::string>>& params = call.target.query;
  ReportContext context{.config = call.config.get(), .now = Now(call)};
  Result<std::vector<tracking::StoredAgent>> agents = call.ctx.store.LoadAgents();
  if (!agents.ok()) return SendFailure(call, agents.error());
  for (const tracking::StoredAgent& agent : *agents) context.ledger_users.push_back(agent.agent);
  Result<ReportRequest> request = ReadReportRequest(params, kind, context);
  if (!request.ok()) {
    return SendError(call, ReportErrorStatus(request.error()), request.error().code,
                     request.error().message);
  }
  NoVisitor probe;
  const tracking::IntervalScan first{request->spec.from, request->spec.from, {"-"}};
  if (Status open = call.ctx.store.ScanIntervals(first, probe); !open.ok()) {
    return SendFailure(call, open.error());
  }
  SetAnswerHead(call, 200, ReportContentType(request->format));
  call.response.setChunkedTransferEncoding(true);
  if (request->format == ReportFormat::kCsv) {
    call.response.set("Content-Disposition",
                      "attachment; filename=\"" + ReportFileName(*request) + "\"");
  }
  std::ostream& out = call.response.send();
  Status written = Status::Ok();
  try {
    written = WriteReport(call.ctx.store, *request, call.config.get(), out);
  } catch (const std::exception& e) {
    // Whatever stops the report once the head is out must not end it like a whole one.
    written = Error{"internal_error", e.what()};
  }
  if (written.ok()) {
    out.flush();
    return;
  }
  call.status = 500;
  call.ctx.log(LogLevel::kError,
               "report aborted part-way, connection closed: " + written.error().message,
               {{"method", "GET"}, {"path", LoggablePath(call.target.raw_path)}, {"status", 500}});
  AbortChunkedAnswer(call);
}

}  // namespace

void HandleTimeReport(Call& call) { StreamReport(call, ReportKind::kTotals); }

void HandleIntervalReport(Call& call) { StreamReport(call, ReportKind::kDetail); }

void HandleCrmSync(Call& call) {
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("time", FormatTime(Now(call)));
  Object::Ptr status = call.ctx.crm_sync_status ? call.ctx.crm_sync_status() : nullptr;
  body.set("configured", status != nullptr);
  body.set("sync", status ? Poco::Dynamic::Var(status) : Poco::Dynamic::Var());
  SendJson(call, 200, body);
}

void HandleSse(Call& call) { Detach(call, StreamHub::Kind::kSse, ""); }

void HandleWebSocket(Call& call) {
  std::string upgrade = Poco::toLower(call.request.get("Upgrade", ""));
  std::string key = call.request.get("Sec-WebSocket-Key", "");
  if (upgrade != "websocket" || key.empty()) {
    return SendError(call, 400, "not_websocket",
                     "GET /api/v1/ws needs a WebSocket upgrade (Upgrade: websocket, "
                     "Sec-WebSocket-Key); for plain HTTP use GET /api/v1/stream (SSE)");
  }
  if (call.request.get("Sec-WebSocket-Version", "") != "13") {
    call.response.set("Sec-WebSocket-Version", "13");
    return SendError(call, 426, "upgrade_required", "only WebSocket version 13 is supported");
  }
  // RFC 6455 10.2: browsers send the page's Origin, and send cookies with the upgrade whatever
  // the page; a page of another site must not read the stream. No Origin: not a browser.
  const std::string origin = call.request.get("Origin", "");
  const std::string host = call.request.get("Host", "");
  if (!origin.empty() &&
      !OriginAllowed(origin, host, call.ctx.tls, call.config->server.allowed_origins)) {
    return SendError(call, 403, "forbidden_origin",
                     "a page of origin '" + Excerpt(origin) +
                         "' may not open the stream: allowed are " +
                         (call.ctx.tls ? "https://" : "http://") + Excerpt(host) +
                         " (this server) and server.allowed_origins");
  }
  Detach(call, StreamHub::Kind::kWebSocket, key);
}

void HandleReload(Call& call) {
  std::vector<std::string> problems = call.ctx.reload();
  if (problems.empty()) {
    Object body;
    body.set("reloaded", true);
    return SendJson(call, 200, body);
  }
  Object::Ptr error = NewObject();
  error->set("code", "invalid_config");
  error->set("message", "the new configuration has " + std::to_string(problems.size()) +
                            " problem(s); the old one stays in force");
  Array::Ptr list = new Array();
  for (const std::string& problem : problems) list->add(problem);
  error->set("problems", list);
  Object body;
  body.set("error", error);
  SendJson(call, 422, body);
}

namespace {

struct PageFile {
  std::string content;
  std::string content_type;
};

// A static file of dashboard_dir/<folder> ("" or "agent"): a plain name of [A-Za-z0-9._-] not
// starting with '.', a regular file. Sends 404 and returns nullopt otherwise.
std::optional<PageFile> ReadPageFile(Call& call, const std::string& folder,
                                     const std::string& file) {
  bool safe = !file.empty() && file.front() != '.' &&
              file.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._-") == std::string::npos;
  const std::string path =
      call.ctx.dashboard_dir + (folder.empty() ? "" : "/" + folder) + "/" + file;
  std::error_code error;
  if (call.ctx.dashboard_dir.empty() || !safe || !std::filesystem::is_regular_file(path, error)) {
    SendError(call, 404, "not_found", "no such page: " + Excerpt(file));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    SendError(call, 404, "not_found", "no such page: " + Excerpt(file));
    return std::nullopt;
  }
  std::ostringstream content;
  content << in.rdbuf();
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"}};
  size_t dot = file.rfind('.');
  auto type = kTypes.find(dot == std::string::npos ? "" : file.substr(dot));
  return PageFile{content.str(), type == kTypes.end() ? "application/octet-stream" : type->second};
}

}  // namespace

void HandleDashboard(Call& call) {
  std::optional<PageFile> page =
      ReadPageFile(call, "", call.params.empty() ? "index.html" : call.params[0]);
  if (page) SendText(call, 200, page->content_type, page->content);
}

// A softphone panel (Salesforce Open CTI, a web softphone) shows the agent page in a frame:
// the sites in server.frame_ancestors may, and only for this page's files. Every other answer
// keeps "frame-ancestors 'none'" (an override confirmation must not be clickjacked).
void HandleAgentPage(Call& call) {
  std::optional<PageFile> page =
      ReadPageFile(call, "agent", call.params.empty() ? "index.html" : call.params[0]);
  if (!page) return;
  SetAnswerHead(call, 200, page->content_type);
  const std::vector<std::string>& ancestors = call.config->server.frame_ancestors;
  if (!ancestors.empty()) {
    std::string policy = "frame-ancestors 'self'";
    for (const std::string& origin : ancestors) policy += " " + origin;
    call.response.set("Content-Security-Policy", policy);
    // X-Frame-Options has no way to name a site (ALLOW-FROM is gone from browsers); the CSP
    // above says who may frame.
    call.response.erase("X-Frame-Options");
  }
  call.response.sendBuffer(page->content.data(), page->content.size());
}

}  // namespace presence::agent
