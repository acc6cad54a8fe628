#pragma once

// A fake Microsoft identity platform and Microsoft Graph presence API on one loopback
// FakeHttpServer (integrations.md 1.1-1.7). It checks what it is sent against the documented
// wire formats and keeps, per user, the presence sessions and the preferred presence, so a test
// can ask what a Teams user would see.
//
//   POST /{tenant}/oauth2/v2.0/token                      client credentials (1.1)
//   POST /v1.0/users/{id}/presence/setPresence            (1.2)
//   POST /v1.0/users/{id}/presence/setUserPreferredPresence, clearUserPreferredPresence (1.3)
//   POST /v1.0/users/{id}/presence/clearPresence          404 for an unknown session (1.4)
//   GET  /v1.0/users/{id}/presence                        the visible presence (1.5)
//
// Failures on demand (429 + Retry-After, 500, hang, drop, refuse) go through http().

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "common/time.h"
#include "tests/fakes/fake_http_server.h"

namespace presence::testing {

struct GraphPresence {
  std::string availability;
  std::string activity;
  friend bool operator==(const GraphPresence&, const GraphPresence&) = default;
};
std::ostream& operator<<(std::ostream& out, const GraphPresence& presence);

// A request the fake answered itself (requests failed through http() are not here).
struct GraphCall {
  // "token", "setPresence", "setUserPreferredPresence", "clearUserPreferredPresence",
  // "clearPresence", "getPresence" or "unknown".
  std::string action;
  std::string user;  // the id in the path; empty for the token endpoint
  std::string body;
  int status = 0;
};

class FakeGraph {
 public:
  struct Options {
    std::string tenant = "contoso.onmicrosoft.com";
    std::string client_id = "22553876-f5ab-4529-bffb-cfe50aa89f87";
    std::string client_secret = "graph-secret-value";
    int expires_in = 3599;  // seconds, as the token answer says
    // Token expiry and session timeouts follow this clock; nullptr: tokens never expire and
    // sessions never fade.
    const Clock* clock = nullptr;
  };

  explicit FakeGraph(Options options);
  FakeGraph(const FakeGraph&) = delete;
  FakeGraph& operator=(const FakeGraph&) = delete;

  FakeHttpServer& http() { return server_; }
  std::string login_url() const { return server_.url(); }
  std::string graph_url() const { return server_.url() + "/v1.0"; }
  const Options& options() const { return options_; }

  // Users Graph knows (Entra object ids); any other id is 404.
  void AddUser(const std::string& id);
  // expires_in of tokens issued from now on.
  void SetExpiresIn(int seconds);
  // The next request for `action` ("setUserPreferredPresence", ...) gets `response` instead,
  // once it has passed the token check (a failure of one call within a delivery).
  void FailAction(const std::string& action, FakeResponse response);
  // Every token issued so far is refused (401) from now on.
  void RevokeTokens();
  int tokens_issued() const;

  // A Teams client's own session (another session besides the application's).
  void SetClientSession(const std::string& user, const std::string& session_id,
                        GraphPresence presence);
  // The session the application set (sessionId = client id), after fading, or nullopt.
  std::optional<GraphPresence> AppSession(const std::string& user) const;
  std::optional<GraphPresence> PreferredPresence(const std::string& user) const;
  // What Teams shows: the preferred presence while a session exists, else the strongest
  // session (DoNotDisturb > Busy > Available > Away), else Offline/Offline (1.2-1.4).
  GraphPresence VisiblePresence(const std::string& user) const;

  std::vector<GraphCall> calls() const;
  std::vector<std::string> actions() const;  // calls()' actions, in order
  void ClearCalls();

 private:
  struct Session {
    GraphPresence presence;
    std::optional<Timestamp> set_at;
    std::optional<Timestamp> expires_at;
  };
  struct Preferred {
    GraphPresence presence;
    std::optional<Timestamp> expires_at;
  };
  struct Token {
    std::optional<Timestamp> expires_at;
    bool revoked = false;
  };
  struct UserPresence {
    std::map<std::string, Session> sessions;  // by sessionId
    std::optional<Preferred> preferred;
  };

  FakeResponse Handle(const RecordedRequest& request);
  FakeResponse IssueToken(const RecordedRequest& request);
  FakeResponse Presence(const RecordedRequest& request, GraphCall& call);
  FakeResponse SetPresence(const std::string& user, const RecordedRequest& request);
  FakeResponse SetPreferred(const std::string& user, const RecordedRequest& request);
  FakeResponse ClearPreferred(const std::string& user, const RecordedRequest& request);
  FakeResponse ClearPresence(const std::string& user, const RecordedRequest& request);
  FakeResponse GetPresence(const std::string& user) const;
  std::optional<FakeResponse> CheckBearer(const RecordedRequest& request) const;
  std::optional<Timestamp> Now() const;
  std::optional<Session> Live(const Session& session) const;
  std::optional<GraphPresence> LivePreferred(const UserPresence& presence) const;
  GraphPresence VisibleLocked(const std::string& user) const;

  Options options_;
  mutable std::mutex mutex_;
  std::set<std::string> users_;
  std::map<std::string, Token> tokens_;
  std::map<std::string, UserPresence> presence_;
  std::vector<GraphCall> calls_;
  std::map<std::string, std::vector<FakeResponse>> failures_;  // by action, oldest first
  FakeHttpServer server_;  // last: its threads call Handle, which uses the members above
};

}  // namespace presence::testing
