#pragma once

// A loopback Asterisk Manager Interface for connector tests (integrations.md 4.1-4.9). It
// sends the banner, wants Login first, checks the credentials, and answers Ping, Originate
// (validated as 4.3, followed by an OriginateResponse event), DBPut/DBGet/DBDel over an
// in-memory AstDB with the messages of 4.4, Setvar and Logoff; anything else gets the
// unknown-command error. It records every action and fails on demand the ways a PBX fails:
// refused connections, a hang, a dropped connection, a refused login, an Error answer.

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
  // Writes an event to every logged-in connection now.
  void Emit(const AmiMessage& event);

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
