#pragma once

// A loopback Asterisk Manager Interface for connector tests (integrations.md 4.1-4.9). It
// sends the banner, wants Login first, checks the credentials, and answers Ping, Originate
// (validated as 4.3, followed by an OriginateResponse event), DBPut/DBGet/DBDel over an
// in-memory AstDB with the messages of 4.4, Setvar (DEVICE_STATE(Custom:x) as func_devstate.c
// does it: AstDB CustomDevstate/x and a DeviceStateChange when the state changes), the queue
// actions QueueAdd/QueueRemove/QueuePause/QueueStatus over an in-memory queue table
// (apps/app_queue.c: replies, errors, QueueMember* events), CoreShowChannels over channels the
// test sets, and Logoff; anything else gets the unknown-command error.
// Events reach a session as main/manager.c sends them: only when every class of the event's
// Privilege header (other than "all") is in the session's Login Events setting ("on", "off", a
// number, or a comma list of classes). It records every action and fails on demand the ways a
// PBX fails: refused connections, a hang, a dropped connection, a refused login, an Error
// answer, writes that are acknowledged but lost.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/ami/ami_protocol.h"

namespace Poco::Net {
class ServerSocket;
}  // namespace Poco::Net

namespace presence::testing {

using connectors::AmiMessage;

// One member of a queue, as app_queue.c keeps it (struct member).
struct AmiQueueMember {
  std::string interface;        // "Local/1001@from-queue/n", compared case-insensitively
  std::string name;             // MemberName; the interface when none was given
  std::string state_interface;  // the interface when none was given
  int penalty = 0;
  bool paused = false;
  std::string paused_reason;  // emptied on unpause
  bool dynamic = true;        // Membership: dynamic (QueueAdd) or static (queues.conf)
  long last_pause = 0;        // epoch seconds of the last pause, 0 = never
  long login_time = 0;        // epoch seconds it was added
};

class FakeAmiServer {
 public:
  // Listens on 127.0.0.1 at a free port at once; logins must use these credentials.
  FakeAmiServer(std::string username, std::string secret, std::string version = "13.0.0");
  ~FakeAmiServer();
  FakeAmiServer(const FakeAmiServer&) = delete;
  FakeAmiServer& operator=(const FakeAmiServer&) = delete;

  uint16_t port() const { return port_; }

  // The AstDB (family, key) -> value.
  void DbPut(const std::string& family, const std::string& key, const std::string& value);
  std::optional<std::string> DbGet(const std::string& family, const std::string& key) const;
  // The last value each Setvar wrote, by variable name.
  std::optional<std::string> Variable(const std::string& name) const;

  // How Originates end, in their OriginateResponse: nullopt = answered (Response Success,
  // Reason 4); a number = Response Failure with that Reason (0, 1, 3, 5, 8; see 4.3). As on a
  // real server, the event only reaches sessions that logged in with Events other than "off".
  void SetOriginateFailure(std::optional<int> reason);
  // An unrelated event written before every answer and between the parts of a list answer,
  // to show that a client demultiplexes (4.1: events interleave with responses at any time).
  void SetInterleavedEvent(std::optional<AmiMessage> event);
  // Writes an event now to every logged-in connection whose Events setting takes it: all the
  // classes of its Privilege header other than "all" (e.g. "call,all" needs class call; "on"
  // takes everything, "off" nothing). An event without a Privilege header, or with no known
  // class in it, reaches every session whose Events setting is not "off". Returns after the
  // bytes are written.
  void Emit(const AmiMessage& event);
  // Emits each event in order (e.g. a transcript of tests/fakes/ami_scenarios.h).
  void Play(const std::vector<AmiMessage>& events);

  // Queues (app_queue.c). The test's setup, without events: a queue of queues.conf, and a
  // member present at start (static = from queues.conf: QueueRemove refuses it; dynamic = added
  // at runtime or restored from AstDB). LoginTime is Now(). A member already there is replaced.
  void AddQueue(const std::string& name);
  void AddMember(const std::string& queue, const std::string& interface, int penalty = 0,
                 bool static_member = false);
  void AddMember(const std::string& queue, AmiQueueMember member);
  // The member as the queue holds it now, nullopt when the queue or the member is not there.
  std::optional<AmiQueueMember> Member(const std::string& queue,
                                       const std::string& interface) const;

  // The channels CoreShowChannels lists, each the fields of one CoreShowChannel event after
  // its ActionID (the snapshot block, Application, ApplicationData, Duration, BridgeId; see
  // CoreShowChannelsList in ami_scenarios.h). Event, ActionID, Privilege and Timestamp headers
  // in them are dropped, so the items of a CoreShowChannelsList answer can be passed as they
  // are.
  void SetChannels(std::vector<AmiMessage> channels);

  // Device states (main/devicestate.c, funcs/func_devstate.c): sets Custom:<name> as a
  // Setvar of DEVICE_STATE(Custom:<name>) does (AstDB CustomDevstate/<name> = value); when
  // the state changes, emits "DeviceStateChange" (Privilege call,all; Device: Custom:<name>;
  // State: <the state in capitals>). Returns false for a value Asterisk refuses (anything
  // but NOT_INUSE, INUSE, BUSY, INVALID, UNAVAILABLE, RINGING, RINGINUSE, ONHOLD).
  bool SetDeviceState(const std::string& name, const std::string& value);
  // The state of a device ("Custom:DND1001"), nullopt when never set.
  std::optional<std::string> DeviceState(const std::string& device) const;
  // A user presses FreePBX's DND feature code on the phone (*78 on, *79 off): AstDB DND/<ext>
  // = YES (on) or deleted (off), then device state Custom:DND<ext> and, for each device of
  // AstDB AMPUSER/<ext>/device ("&"-separated, if set), Custom:DEVDND<device>, to BUSY (on)
  // or UNAVAILABLE (off). Not subject to IgnoreWrites.
  void PressDnd(const std::string& extension, bool on);

  // The clock of LoginTime and LastPause (epoch seconds); the system clock until set.
  void SetNow(long epoch_seconds);

  // Failures on demand.
  // Closes the listening socket (connections are refused) and every open connection;
  // Accept listens again on the same port.
  void Refuse();
  void Accept();
  // Actions are still read and recorded but not answered, until Release.
  void Hang();
  void Release();
  // Closes every open TCP connection now, without a word.
  void DropConnections();
  // The next Login fails with "Authentication failed" (and the connection is closed),
  // whatever its credentials.
  void RejectNextLogin();
  // The next action other than Login, Logoff and Ping is answered with Response: Error and
  // this Message.
  void FailNextAction(std::string message);
  // While on, DBPut, DBDel, QueueAdd, QueueRemove and QueuePause are answered as if they
  // worked (same checks, same Success message) but change nothing and emit no event: a PBX
  // that loses writes, e.g. a FreePBX reload racing the connector.
  void IgnoreWrites(bool ignore);

  // Every action received, in arrival order (also unanswered ones).
  std::vector<AmiMessage> actions() const;
  // Those whose Action is `name` (case-insensitive).
  std::vector<AmiMessage> actions(std::string_view name) const;
  int connections() const;  // accepted so far
  // Waits until `done(actions)` holds or `timeout` passes; returns whether it held. Woken by
  // every action received, never by polling. An action is recorded together with its effect,
  // so DbGet and Variable after a WaitFor that saw it show that effect.
  bool WaitFor(const std::function<bool(const std::vector<AmiMessage>&)>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Waits until at least `count` actions named `name` have arrived.
  bool WaitForAction(std::string_view name, size_t count = 1,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Connection;
  void Listen();
  void StopListening();
  void AcceptLoop(Poco::Net::ServerSocket* server);
  void Serve(std::shared_ptr<Connection> connection);
  // Handles one action; returns false when the connection is to be closed after the answer.
  bool Handle(Connection& connection, const AmiMessage& action);
  std::vector<AmiMessage> Answer(Connection& connection, const AmiMessage& action, bool& close);
  std::vector<AmiMessage> Originate(const Connection& connection, const AmiMessage& action,
                                    const std::string& id);
  std::vector<AmiMessage> Db(const AmiMessage& action, const std::string& id);
  std::vector<AmiMessage> Setvar(const AmiMessage& action, const std::string& id);
  std::vector<AmiMessage> QueueAdd(const AmiMessage& action, const std::string& id);
  std::vector<AmiMessage> QueueRemove(const AmiMessage& action, const std::string& id);
  std::vector<AmiMessage> QueuePause(const AmiMessage& action, const std::string& id);
  std::vector<AmiMessage> QueueStatus(const AmiMessage& action, const std::string& id);
  std::vector<AmiMessage> CoreShowChannels(const std::string& id);
  struct Queue {
    std::string name;
    std::vector<AmiQueueMember> members;  // in the order they joined
  };
  Queue* FindQueue(const std::string& name);
  const Queue* FindQueue(const std::string& name) const;
  // Sets a custom device state (mutex_ held); false when the value is not a state. A change
  // is queued in broadcast_.
  bool ChangeDeviceState(const std::string& name, const std::string& value);
  long Now() const;
  // Writes `events` to the logged-in connections (but `except`) whose Events take them.
  void Broadcast(const std::vector<AmiMessage>& events, const Connection* except = nullptr);
  void Write(Connection& connection, const std::vector<AmiMessage>& messages);

  const std::string username_;
  const std::string secret_;
  const std::string version_;
  uint16_t port_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<AmiMessage> actions_;
  std::map<std::pair<std::string, std::string>, std::string> db_;
  std::map<std::string, std::string> variables_;
  std::vector<Queue> queues_;  // in the order they were added
  std::vector<AmiMessage> channels_;
  std::map<std::string, std::string> device_states_;  // "Custom:DND1001" -> "BUSY"
  // Events an action or a control caused, to be sent once mutex_ is released.
  std::vector<AmiMessage> broadcast_;
  std::optional<long> now_;
  bool ignore_writes_ = false;
  std::optional<int> originate_failure_;
  std::optional<AmiMessage> interleaved_;
  std::optional<std::string> fail_next_;
  bool hang_ = false;
  bool reject_next_login_ = false;
  bool stopping_ = false;
  int connection_count_ = 0;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<std::thread> threads_;
  int next_unique_id_ = 1;

  std::mutex listen_mutex_;  // Refuse/Accept/destructor, one at a time
  std::unique_ptr<Poco::Net::ServerSocket> server_;
  std::thread acceptor_;
};

}  // namespace presence::testing
