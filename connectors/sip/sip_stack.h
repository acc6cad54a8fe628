#pragma once

// The SIP side of the sip_presence connector: one thread running a libre event loop (the SIP
// library under baresip; see docs/architecture.md "Libraries") that owns every SIP object.
// Other threads talk to it through a locked queue and one wake-up per batch, never by
// touching libre. It keeps, per user:
//  - a publication (RFC 3903): the latest PIDF document, its SIP-ETag and granted lifetime.
//    Changes are sent as "modify" (SIP-If-Match + body), refreshed before they expire by
//    sending the body again (Kamailio stores an empty document on a body-less refresh),
//    re-established with an initial PUBLISH after 412 (or Kamailio's 500 on a bad ETag),
//    answered with digest credentials after 401/407, and removed with Expires: 0;
//  - subscriptions (RFC 6665) to the user's presence and dialog events, refreshed by libre
//    and re-established after a failure with back-off (the server's Retry-After if given).
// A health probe every keepalive interval re-sends a publication of the agent's own URI that
// nobody watches (or, where the server refuses it, an OPTIONS): a 412 there, or an answer
// after a spell without one, means the server lost (or may have lost) its state, and every
// publication and subscription is made again.
//
// libre is C and not thread-safe: nothing of it leaks out of sip_stack.cc.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "connectors/sip/sip_inbound.h"

namespace presence::connectors::sip {

enum class Transport { kUdp, kTcp, kTls };
std::string_view TransportName(Transport transport);  // "udp", "tcp", "tls"

struct StackOptions {
  std::string server_host;  // an IP address or a DNS name
  uint16_t server_port = 5060;
  Transport transport = Transport::kUdp;
  std::string local_host;   // the address to bind; empty: the one that routes to the server
  uint16_t local_port = 0;  // 0: any free port
  std::string agent_uri;    // the agent's own identity (From of SUBSCRIBE), "sip:agent@domain"
  std::string username;     // digest credentials, used only when the server asks
  std::string password;
  std::string tls_ca_file;             // tls: the CAs the server's certificate must chain to
  std::chrono::seconds expires{600};   // asked lifetime of publications and subscriptions
  std::chrono::seconds keepalive{30};  // health probe interval
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{60000};
};

// The outcome of one publication request as the outbox sees it.
struct PublishOutcome {
  enum class Kind { kDone, kRetry, kRejected };
  Kind kind = Kind::kDone;
  int status = 0;  // the final SIP status, 0 when no answer came
  std::string detail;
  std::optional<std::chrono::seconds> retry_after;
};

using NotifyHandler = std::function<void(const Notification&)>;

// What GET /api/v1/connectors shows per user.
struct PublicationStatus {
  std::string etag;
  int64_t expires_in_s = 0;  // 0 when none is held
  std::string last_result;   // "200 OK", "412 Conditional Request Failed", "no answer"...
};
struct SubscriptionStatus {
  std::string state;        // "active", "pending", "terminated", "trying"
  std::string last_notify;  // ISO-8601 wall time of the last NOTIFY, empty for none
  int64_t notifies = 0;
};
struct StackStatus {
  bool server_reachable = false;
  int64_t server_restarts = 0;  // times the server was found to have lost its state
  int64_t notifies = 0;
  int64_t notifies_ignored = 0;  // bodies too large or of the wrong type (see Notification)
  // tls: why the server's certificate was last refused ("the server's certificate is not
  // trusted (...)"); empty when none was, or the server has answered since.
  std::string tls_error;
  std::map<std::string, PublicationStatus> publications;                           // by user
  std::map<std::string, std::map<std::string, SubscriptionStatus>> subscriptions;  // user, event
};

struct WatchedUser {
  std::string user;
  std::string aor;  // the presentity, "sip:1001@pbx.example"
};

class SipStack {
 public:
  SipStack(StackOptions options, LogSink log, NotifyHandler notify);
  ~SipStack();  // Stop()
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  // Binds the transport and starts the SIP thread. An error when the local address cannot
  // be bound or the server's name does not resolve to anything usable.
  Status Start();
  // Removes nothing at the server (publications simply expire); joins the thread.
  void Stop();

  // Any thread. Publishes `body` (application/pidf+xml) as user's presence at `aor`, or with
  // remove=true takes the publication down (Expires: 0). The future resolves when the server
  // answered for good (after an ETag recovery or a digest round if needed) or the SIP
  // transaction timed out.
  std::future<PublishOutcome> Publish(const std::string& user, const std::string& aor,
                                      std::string body, bool remove);

  // Any thread. The users whose events (e.g. {"presence", "dialog"}) are subscribed to;
  // subscriptions of users no longer listed are ended.
  void Watch(std::vector<WatchedUser> users, std::vector<std::string> events);

  // The address the server sends NOTIFYs to ("127.0.0.1:40123"), after Start.
  std::string local_address() const;

  StackStatus status() const;  // any thread

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace presence::connectors::sip
