#pragma once

// A connector carries state changes to one outside system (PBX, Teams, Salesforce, a webhook).
// Changes reach it through the durable outbox: the core writes one row per change per
// connector in the same transaction as the change, and the connector's delivery workers (see
// dispatcher.h) call Deliver for each row, in order per user, retrying with back-off. A
// connector never blocks or rolls back a change.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_details.h"
#include "reasoncodes/catalog.h"
#include "reasoncodes/user.h"
#include "tracking/ledger_types.h"

namespace presence::connectors {

using reasoncodes::Catalog;
using reasoncodes::User;
using tracking::Change;
using Millis = std::chrono::milliseconds;

// What deliveries look things up in: the catalog and the users in force. Replaced as a whole
// when the configuration is reloaded; a delivery uses the one it was handed.
class Directory {
 public:
  std::shared_ptr<const Catalog> catalog;

  // The users, by id. A directory shares them with whoever keeps them (the configuration, a
  // test): one per connector costs a pointer per user, not a copy of every user.
  void SetUsers(std::shared_ptr<const std::vector<User>> users);
  void SetUsers(std::vector<User> users);

  const User* FindUser(const std::string& id) const;
  // Every user, ordered by id.
  const std::vector<const User*>& users() const { return by_id_; }
  // The state with this label in the catalog in force, or nullptr (a state removed by a reload).
  const reasoncodes::State* FindState(const std::string& label) const;

 private:
  std::shared_ptr<const std::vector<User>> users_;
  std::vector<const User*> by_id_;
};

// One thing to deliver: a change of one user, from one outbox row.
struct Delivery {
  int64_t id = 0;  // the outbox row; 0 for a refresh
  Change change;
  bool refresh = false;  // re-asserting the user's latest state (keep-alive), not a new change
  int attempt = 1;       // 1 on the first try of this row
  // What Connector::Payload returned for this change when it was committed; empty for a
  // refresh (the connector works it out again from the directory).
  std::string payload;
};

struct DeliveryResult {
  enum class Kind {
    kDelivered,  // the remote system has it: the row is removed
    kRetry,      // try again later (remote down, throttled, 5xx): the row stays
    kRejected,   // the remote system refused it for good (bad mapping, unknown user): the
                 // row is removed and the error shown in the connector's status
  };
  Kind kind = Kind::kDelivered;
  std::string detail;  // what happened, for logs and status; never a secret
  // kRetry: the remote system's Retry-After, if it sent one (the wait is at least this long).
  std::optional<Millis> retry_after;
  // kRetry: true when the whole connector should pause (the remote system is down or
  // throttling); false when only this user's row should wait.
  bool whole_connector = true;

  static DeliveryResult Delivered(std::string detail = {}) {
    return {Kind::kDelivered, std::move(detail), std::nullopt, true};
  }
  static DeliveryResult Retry(std::string error, std::optional<Millis> retry_after = std::nullopt,
                              bool whole_connector = true) {
    return {Kind::kRetry, std::move(error), retry_after, whole_connector};
  }
  static DeliveryResult Rejected(std::string error) {
    return {Kind::kRejected, std::move(error), std::nullopt, true};
  }
};

// How the outbox feeds a connector. Each type has defaults; the configuration may override
// the common keys (see connector_config.h).
struct DeliveryPolicy {
  // Only the latest state matters: when several rows of a user wait, the older ones are
  // dropped and only the newest is delivered. Off for connectors that record every change.
  bool coalesce = true;
  int concurrency = 1;           // deliveries in flight at once (never two for the same user)
  double rate_per_second = 0;    // 0 = no limit
  int burst = 1;                 // deliveries allowed at once after an idle spell
  Millis initial_backoff{1000};  // first retry after this (with jitter), doubling
  Millis max_backoff{300000};
  // Re-deliver each user's latest state this often while nothing new waits (keep-alive for
  // presences that fade, such as a Graph presence session). nullopt = never.
  std::optional<Millis> refresh_every;
  // No echo: changes from these sources came from this connector's own system.
  std::set<reasoncodes::Source> skip_sources;
  // With coalesce: folds a dropped row's payload into the next row's (older, newer -> what
  // the newer row carries from now on), for payloads that are not only "the latest state"
  // (the AMI connector's actions: a skipped login's queue additions must still happen).
  // Empty: the newer payload stands alone.
  std::function<std::string(const std::string& older, const std::string& newer)> merge_payloads;
};

class Connector {
 public:
  virtual ~Connector() = default;

  // Core thread, while the commit that makes the change is built: whether this change has
  // anything to deliver (a dial connector skips an empty reason code). Changes from the
  // policy's skip_sources never get here. Cheap: no I/O, no lock that a delivery holds.
  virtual bool Wants(const Change& change, const Directory& directory) const = 0;

  // Core thread, right after Wants said yes: what the connector works out for this change
  // from the configuration in force when it is committed (the AMI connector's phone-system
  // actions). Stored in the change's outbox row and handed back in Delivery::payload, so a
  // retry after a reload or a restart carries out exactly what was acknowledged. Cheap.
  virtual std::string Payload(const Change& change, const Directory& directory) const {
    (void)change;
    (void)directory;
    return {};
  }

  // A delivery worker thread. Up to policy.concurrency calls run at once, never two for the
  // same user. Returns within the connector's own timeouts. Should not throw; an exception is
  // treated as a retry.
  virtual DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) = 0;

  // Before the first and after the last delivery: open and close long-lived sessions (AMI).
  // Start must not block on the remote system: it may be down.
  virtual void Start() {}
  virtual void Stop() {}

  // The catalog and users in force: after Start and again after each reload (any thread).
  // For connectors that act on users by themselves, not only per delivery (subscriptions).
  virtual void UseDirectory(std::shared_ptr<const Directory> directory) { (void)directory; }

  // Connector-specific status for GET /api/v1/connectors (e.g. the AMI session's state), or
  // nullopt (shown as null). Any thread; must not expose secrets.
  virtual std::optional<ConnectorDetails> Details() const { return std::nullopt; }
};

}  // namespace presence::connectors
