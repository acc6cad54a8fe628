#pragma once

// A small SIP endpoint over raw UDP for tests that need another party next to the agent on a
// presence server (tests/fakes/kamailio.h): a desk phone or watcher that SUBSCRIBEs, another
// publisher that PUBLISHes (integrations.md 5.1, 5.4, 5.5). Written on plain sockets, on
// purpose without libre, so that it checks independently what the product sends and receives.
//
// It listens on 127.0.0.1 at a free port, answers every NOTIFY (200 OK unless told otherwise)
// and records it; OPTIONS gets 200, other requests 501. Requests go to 127.0.0.1:<server
// port>; non-2xx answers are returned, not thrown. On a 401 or 407 with credentials set it
// answers the digest challenge (MD5, qop "auth" or none) and sends the request again.
// Retransmits on UDP per RFC 3261 timer E (T1 = 500 ms doubling to T2 = 4 s) until a final
// answer; gives up with 408 after transaction_timeout.
//
// The parser takes datagrams of at most 64 KiB, at most kMaxHeaders header lines, and a
// Content-Length that the datagram holds; anything else is dropped unanswered.
//
// Thread-safety: Subscribe, Unsubscribe and Publish run one at a time (a mutex); the recording
// of NOTIFYs happens on the peer's receive thread and may be read from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace presence::testing {

class SipPeer {
 public:
  static constexpr size_t kMaxHeaders = 128;

  struct Credentials {
    std::string user;
    std::string password;
  };

  struct PublishResult {
    int status = 0;    // final status code; 408 when nothing answered
    std::string etag;  // SIP-ETag of the answer, empty when it had none
    int expires = -1;  // Expires of the answer, -1 when it had none
  };

  // One NOTIFY as received (header values as sent, parameters included).
  struct Notify {
    std::string event;               // "presence", "dialog"
    std::string subscription_state;  // "active;expires=599", "terminated;reason=timeout"
    std::string content_type;        // empty when the NOTIFY had no body
    std::string body;
    std::string from_uri;  // the presentity: the URI of the From header
    std::string call_id;   // the subscription dialog's Call-ID
  };

  // `user` is the user part of this peer's From and Contact ("sip:<user>@127.0.0.1").
  explicit SipPeer(std::string user = "peer", std::optional<Credentials> credentials = {});
  ~SipPeer();
  SipPeer(const SipPeer&) = delete;
  SipPeer& operator=(const SipPeer&) = delete;

  uint16_t port() const { return port_; }
  std::string contact() const;  // "sip:<user>@127.0.0.1:<port>"

  void SetCredentials(std::optional<Credentials> credentials);
  void SetTransactionTimeout(std::chrono::milliseconds timeout);
  // The status the peer answers NOTIFYs with from now on (200; 481 says the subscription is
  // gone).
  void SetNotifyAnswer(int status);

  // SUBSCRIBE to `event` ("presence" sends Accept: application/pidf+xml, "dialog" Accept:
  // application/dialog-info+xml) of `presentity` ("sip:1001@127.0.0.1"). A new dialog the
  // first time; while a dialog for (presentity, event) exists, an in-dialog refresh. Returns
  // the final status code (408 when unanswered). A non-2xx answer ends the dialog.
  int Subscribe(const std::string& presentity, uint16_t server_port,
                const std::string& event = "presence", int expires = 600);
  // In-dialog SUBSCRIBE with Expires: 0; ends the dialog. Throws std::logic_error when there
  // is no subscription to (presentity, event).
  int Unsubscribe(const std::string& presentity, uint16_t server_port,
                  const std::string& event = "presence");
  // PUBLISH out of dialog (RFC 3903). An empty body sends no Content-Type (refresh, remove);
  // a non-empty `if_match` sends SIP-If-Match.
  PublishResult Publish(const std::string& presentity, uint16_t server_port,
                        const std::string& event, const std::string& content_type,
                        const std::string& body, int expires = 3600,
                        const std::string& if_match = "");

  // The first recorded NOTIFY (from the start, in arrival order) that `match` accepts,
  // waiting up to `timeout` for one to arrive; nullopt if none did. Retransmissions are
  // recorded once. `match` runs under the peer's lock: it must not call the peer.
  std::optional<Notify> WaitForNotify(
      const std::function<bool(const Notify&)>& match,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  std::vector<Notify> Notifies() const;
  // The text of the last final answer to one of this peer's requests, for failure messages.
  std::string LastResponse() const;

 private:
  struct Message;
  struct Request;
  struct Dialog {
    std::string call_id;
    std::string local_tag;
    std::string remote_tag;
    std::string remote_target;  // the Contact of the 2xx: the Request-URI of in-dialog requests
    int cseq = 0;
  };

  void ReceiveLoop();
  void HandleRequest(const Message& request, const void* from, unsigned from_size);
  void SendTo(const std::string& text, uint16_t port) const;
  // Sends `request` and answers digest challenges; returns the final answer (408 when none
  // came). Updates request.cseq to the last one used.
  Message Transact(Request& request, uint16_t server_port);
  std::optional<Message> TransactOnce(const std::string& text, const std::string& branch,
                                      uint16_t server_port);
  std::string Build(const Request& request, const std::string& branch) const;

  const std::string user_;
  int socket_ = -1;
  int wake_ = -1;  // eventfd that stops the receive thread
  uint16_t port_ = 0;

  mutable std::mutex mutex_;  // guards what follows, up to client_mutex_
  mutable std::condition_variable changed_;
  std::optional<Credentials> credentials_;
  std::chrono::milliseconds transaction_timeout_{10000};
  int notify_answer_ = 200;
  std::map<std::string, std::optional<std::string>> pending_;  // branch -> final answer text
  std::vector<Notify> notifies_;
  std::set<std::pair<std::string, std::string>> seen_notifies_;  // (Call-ID, CSeq)
  std::string last_response_;

  std::mutex client_mutex_;  // one client request at a time; guards dialogs_
  std::map<std::pair<std::string, std::string>, Dialog> dialogs_;  // (presentity, event)

  std::atomic<bool> stopping_{false};
  std::thread receiver_;
};

}  // namespace presence::testing
