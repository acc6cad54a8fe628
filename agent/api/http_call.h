#pragma once

// One HTTP request as the API handlers see it: who is asking, the path parameters, and
// helpers to read a JSON body and to answer. Internal to http_api.cc and api_handlers.cc.

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/StreamSocket.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/api/http_api.h"
#include "agent/api/request_target.h"

namespace presence::agent {

struct Principal {
  Role role = Role::kAgent;
  std::string user;  // agent tokens: the one user it acts for
  std::string name;  // the token's name, for logs
  std::string token_hash;
};

// The event-loop server's side of a request (http_loop.cc), for handlers that must not block
// the loop thread they run on. Null on a thread that may block.
class AsyncAnswers {
 public:
  virtual ~AsyncAnswers() = default;
  // Queues `event` for the core with the other requests of this wake-up; `then` runs on the
  // loop thread once the event is durable or failed, and answers the request.
  virtual void Post(Event event, std::function<void(Result<Reply>)> then) = 0;
};

// What the event-loop server's requests offer besides Poco's HTTPServerRequest.
class RequestHooks {
 public:
  virtual ~RequestHooks() = default;
  // Takes the connection away from the server (the stream hub's viewers, an answer cut off
  // part-way): the server then neither writes to nor closes the socket.
  virtual Poco::Net::StreamSocket DetachSocket() = 0;
  // Non-null while the request runs on a loop thread, where nothing may block.
  virtual AsyncAnswers* async() = 0;
  // The whole body, read before the handler runs (chunks decoded; past the body limit, its
  // first max_body + 1 bytes and the connection closes after the answer).
  virtual const std::string& body() const = 0;
};

struct Call : std::enable_shared_from_this<Call> {
  Call(ApiContext& the_ctx, Poco::Net::HTTPServerRequest& the_request,
       Poco::Net::HTTPServerResponse& the_response, std::shared_ptr<const Config> the_config)
      : ctx(the_ctx), request(the_request), response(the_response), config(std::move(the_config)) {}

  ApiContext& ctx;
  Poco::Net::HTTPServerRequest& request;
  Poco::Net::HTTPServerResponse& response;
  std::shared_ptr<const Config> config;  // one configuration for the whole request
  RequestTarget target;                  // the request-target, parsed once (path, query)
  std::vector<std::string> params;       // path parameters in order (decoded)
  const User* user = nullptr;            // params[0]'s configured user, once KnownUser found it
  std::optional<Principal> who;          // set for authenticated routes
  int status = 0;                        // the status sent, for metrics
  bool detached = false;                 // the socket went to the stream hub
  RequestHooks* hooks = nullptr;         // the server's, when it offers them
  AsyncAnswers* async = nullptr;         // set on an event-loop thread: nothing may block
  bool deferred = false;                 // the answer comes later, through `async`
  // Deferred: what the server does once the answer is out (metrics, the rest of the body).
  std::function<void(Call&)> finish;

  // The first query parameter of that name (decoded), or nullopt.
  std::optional<std::string> Query(const std::string& name) const;
};

// Answers. Each sets call.status.
void SendJson(Call& call, int status, const Poco::Dynamic::Var& body);
void SendError(Call& call, int status, const std::string& code, const std::string& message);
void SendText(Call& call, int status, const std::string& content_type, const std::string& text);
// Status, content type and the headers every answer carries (no-store, no framing, nosniff),
// for handlers that stream their body themselves.
void SetAnswerHead(Call& call, int status, const std::string& content_type);
// The headers every answer carries (no-store, no framing, nosniff): for answers sent outside
// a Call too (the connection's own 400s).
void SetStandardHeaders(Poco::Net::HTTPResponse& response);
// {"error": {"code": ..., "message": ...}} as valid JSON in valid UTF-8.
std::string JsonErrorBody(std::string_view code, std::string_view message);

// An engine/store error, mapped to its HTTP status (unknown_label 422, storage_error 503...).
void SendFailure(Call& call, const Error& error);

// Guessing tokens is slowed per client address (server.auth_failures_per_minute): true, with
// 429 too_many_failures sent, while the caller's address is throttled; call before looking at
// credentials. CountFailedCredentials counts one wrong token or session of the caller.
bool SendIfThrottled(Call& call);
void CountFailedCredentials(Call& call);

// The request body as a JSON object: 415 unless Content-Type is application/json, 413 over
// server.max_body_bytes, 400 when not a JSON object. On failure the error has been sent.
std::optional<Poco::JSON::Object::Ptr> ReadJsonBody(Call& call);

}  // namespace presence::agent
