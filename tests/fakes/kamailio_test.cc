// The SIP test fixtures against each other: a real Kamailio 5.6 presence server
// (tests/fakes/kamailio.h) and raw-socket SIP peers (tests/fakes/sip_peer.h) as watchers and
// publishers. These cases pin down the Kamailio behaviour that the agent's SIP tests rely on
// (integrations.md 5.1-5.6): initial and later NOTIFYs, ETags, 412/500 for forged ETags, the
// dialog event, restarts, digest authentication, and how two publishers' PIDFs are merged.

#include "tests/fakes/kamailio.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/fakes/sip_peer.h"
#include "tests/fakes/subprocess.h"
#include "tests/fakes/temp_dir.h"

namespace presence::testing {
namespace {

using std::chrono::seconds;

const std::string kPresentity = "sip:1001@127.0.0.1";
const std::string kPidfType = "application/pidf+xml";
const std::string kDialogType = "application/dialog-info+xml";

// integrations.md 5.3, for sip:1001@127.0.0.1, with a tuple id, person id and note of choice.
std::string Pidf(const std::string& tuple_id, const std::string& person_id,
                 const std::string& activity, const std::string& note) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
         "          xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
         "          xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
         "          entity=\"" +
         kPresentity +
         "\">\n"
         "  <tuple id=\"" +
         tuple_id +
         "\">\n"
         "    <status><basic>open</basic></status>\n"
         "    <contact>" +
         kPresentity +
         "</contact>\n"
         "    <timestamp>2024-05-01T09:30:00Z</timestamp>\n"
         "  </tuple>\n"
         "  <dm:person id=\"" +
         person_id +
         "\">\n"
         "    <rpid:activities><rpid:" +
         activity +
         "/></rpid:activities>\n"
         "    <dm:note>" +
         note +
         "</dm:note>\n"
         "  </dm:person>\n"
         "  <note>" +
         note +
         "</note>\n"
         "</presence>\n";
}

std::string DndPidf() { return Pidf("t-agent-1001", "p-1001", "busy", "Do Not Disturb"); }

// integrations.md 5.5, for sip:1001@127.0.0.1.
const std::string kDialogInfo =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"0\" state=\"full\" "
    "entity=\"sip:1001@127.0.0.1\">\n"
    "  <dialog id=\"call-1234\" call-id=\"call-1234@127.0.0.1\" local-tag=\"lt1\" "
    "remote-tag=\"rt1\" direction=\"recipient\">\n"
    "    <state>confirmed</state>\n"
    "    <local><identity>sip:1001@127.0.0.1</identity></local>\n"
    "    <remote><identity>sip:+15551234567@127.0.0.1</identity></remote>\n"
    "  </dialog>\n"
    "</dialog-info>\n";

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A NOTIFY of `event` about kPresentity whose body holds `part` ("" matches any body).
auto NotifyWith(const std::string& event, const std::string& part) {
  return [event, part](const SipPeer::Notify& notify) {
    return notify.event == event && notify.from_uri == kPresentity && Has(notify.body, part);
  };
}

size_t Count(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

bool UdpPortFree(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return free;
}

// Sends an OPTIONS over a new TCP connection and returns what came back within 5 s.
std::string OptionsOverTcp(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    sockaddr_in local{};
    socklen_t size = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size);
    const std::string request = "OPTIONS sip:127.0.0.1:" + std::to_string(port) +
                                ";transport=tcp SIP/2.0\r\n"
                                "Via: SIP/2.0/TCP 127.0.0.1:" +
                                std::to_string(ntohs(local.sin_port)) +
                                ";branch=z9hG4bKtcpprobe1\r\n"
                                "Max-Forwards: 70\r\n"
                                "From: <sip:probe@127.0.0.1>;tag=tcp1\r\n"
                                "To: <sip:127.0.0.1>\r\n"
                                "Call-ID: tcp-probe-1\r\n"
                                "CSeq: 1 OPTIONS\r\n"
                                "Content-Length: 0\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      const auto deadline = std::chrono::steady_clock::now() + seconds(5);
      while (!Has(answer, "\r\n\r\n") && std::chrono::steady_clock::now() < deadline) {
        pollfd ready{fd, POLLIN, 0};
        if (poll(&ready, 1, 100) <= 0) continue;
        char buffer[2048];
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        answer.append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return answer;
}

// A UDP socket on 127.0.0.1 that sends raw datagrams to a peer and reads its answers.
class RawUdp {
 public:
  RawUdp() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  ~RawUdp() { close(fd_); }
  void Send(uint16_t port, const std::string& datagram) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  // The next datagram within `timeout`, or "".
  std::string Receive(std::chrono::milliseconds timeout) const {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buffer[65536];
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_;
};

// A NOTIFY as Kamailio sends it, with the given Call-ID, extra header lines and body, and
// `length` as Content-Length (the body's size when empty).
std::string RawNotify(const std::string& call_id, const std::string& extra, const std::string& body,
                      const std::string& length = "") {
  return "NOTIFY sip:watcher@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK" +
         call_id +
         "\r\n"
         "From: <sip:1001@127.0.0.1>;tag=f1\r\n"
         "To: <sip:watcher@127.0.0.1>;tag=t1\r\n"
         "Call-ID: " +
         call_id +
         "\r\n"
         "CSeq: 2 NOTIFY\r\n"
         "Event: presence\r\n"
         "Subscription-State: active;expires=600\r\n" +
         extra + "Content-Type: application/pidf+xml\r\nContent-Length: " +
         (length.empty() ? std::to_string(body.size()) : length) + "\r\n\r\n" + body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kamailio_test)

// The peer's parser drops what it cannot take whole, without an answer and without recording,
// and still answers a good NOTIFY afterwards (once, however often it is retransmitted).
BOOST_AUTO_TEST_CASE(the_sip_peer_drops_malformed_datagrams_and_answers_good_notifies) {
  SipPeer peer("watcher");
  RawUdp kamailio;
  std::string many_headers;
  for (size_t i = 0; i <= SipPeer::kMaxHeaders; ++i) many_headers += "X-Filler: x\r\n";
  const std::vector<std::string> bad = {
      RawNotify("long", "", "<presence/>", "4096"),  // Content-Length beyond the datagram
      RawNotify("sign", "", "<presence/>", "-5"),
      RawNotify("huge", "", "<presence/>", "99999999999999999999"),
      RawNotify("many", many_headers, "<presence/>"),
      "NOTIFY sip:watcher@127.0.0.1 SIP/2.0\r\nCall-ID: nohead\r\n",  // no empty line
      "NOTIFY sip:watcher@127.0.0.1 SIP/3.0\r\nCall-ID: v3\r\n\r\n",
      "SIP/2.0 2000 OK\r\n\r\n",
      std::string("\r\n\r\n"),
  };
  for (const std::string& datagram : bad) kamailio.Send(peer.port(), datagram);
  const std::string good = RawNotify("good", "", "<presence/>");
  kamailio.Send(peer.port(), good);
  kamailio.Send(peer.port(), good);  // a retransmission

  std::string answer = kamailio.Receive(seconds(5));
  BOOST_TEST(answer.starts_with("SIP/2.0 200 OK\r\n"), answer);
  BOOST_TEST(Has(answer, "Call-ID: good\r\n"));
  BOOST_TEST(Has(answer, "CSeq: 2 NOTIFY\r\n"));
  BOOST_TEST(Has(answer, "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKgood\r\n"));
  BOOST_TEST(kamailio.Receive(seconds(5)).starts_with("SIP/2.0 200 OK"));  // answered again
  auto recorded = peer.WaitForNotify([](const SipPeer::Notify&) { return true; });
  BOOST_REQUIRE(recorded);
  BOOST_TEST(recorded->call_id == "good");
  BOOST_TEST(recorded->body == "<presence/>");
  BOOST_TEST(recorded->from_uri == "sip:1001@127.0.0.1");
  BOOST_TEST(peer.Notifies().size() == 1u);
}

BOOST_AUTO_TEST_CASE(watcher_gets_an_empty_notify_then_the_published_pidf) {
  Kamailio kamailio;
  SipPeer watcher("watcher");
  SipPeer publisher("publisher");

  BOOST_REQUIRE_EQUAL(watcher.Subscribe(kPresentity, kamailio.port(), "presence", 600), 200);
  auto initial = watcher.WaitForNotify(NotifyWith("presence", ""));
  BOOST_REQUIRE_MESSAGE(initial, kamailio.Log());
  BOOST_TEST(initial->body.empty());  // nothing published yet
  BOOST_TEST(initial->subscription_state.starts_with("active"));

  SipPeer::PublishResult published =
      publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf(), 3600);
  BOOST_REQUIRE_MESSAGE(published.status == 200, publisher.LastResponse());
  BOOST_TEST(!published.etag.empty());
  BOOST_TEST(published.expires == 3600);

  auto dnd = watcher.WaitForNotify(NotifyWith("presence", "Do Not Disturb"));
  BOOST_REQUIRE_MESSAGE(dnd, kamailio.Log());
  BOOST_TEST(dnd->content_type == kPidfType);
  BOOST_TEST(Has(dnd->body, "<tuple id=\"t-agent-1001\">"));
  BOOST_TEST(Has(dnd->body, "<rpid:busy/>"));

  // A watcher that comes later gets the current document at once.
  SipPeer late("late");
  BOOST_REQUIRE_EQUAL(late.Subscribe(kPresentity, kamailio.port()), 200);
  BOOST_TEST(late.WaitForNotify(NotifyWith("presence", "Do Not Disturb")).has_value());
}

BOOST_AUTO_TEST_CASE(a_modify_with_sip_if_match_reaches_the_watcher_under_a_new_etag) {
  Kamailio kamailio;
  SipPeer watcher("watcher");
  SipPeer publisher("publisher");
  BOOST_REQUIRE_EQUAL(watcher.Subscribe(kPresentity, kamailio.port()), 200);
  auto first = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf());
  BOOST_REQUIRE_EQUAL(first.status, 200);

  auto modified = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType,
                                    Pidf("t-agent-1001", "p-1001", "on-the-phone", "On the phone"),
                                    3600, first.etag);
  BOOST_REQUIRE_MESSAGE(modified.status == 200, publisher.LastResponse());
  BOOST_TEST(!modified.etag.empty());
  BOOST_TEST(modified.etag != first.etag);

  auto on_the_phone = watcher.WaitForNotify(NotifyWith("presence", "On the phone"));
  BOOST_REQUIRE_MESSAGE(on_the_phone, kamailio.Log());
  BOOST_TEST(!Has(on_the_phone->body, "Do Not Disturb"));  // replaced, not merged

  // Removing the publication (Expires: 0) leaves the tuple closed for the watcher.
  auto removed =
      publisher.Publish(kPresentity, kamailio.port(), "presence", "", "", 0, modified.etag);
  BOOST_TEST(removed.status == 200);
  BOOST_TEST(removed.expires == 0);
  BOOST_TEST(watcher.WaitForNotify(NotifyWith("presence", "<basic>closed</basic>")).has_value());

  // Unsubscribing ends with a NOTIFY whose state is terminated.
  BOOST_TEST(watcher.Unsubscribe(kPresentity, kamailio.port()) == 200);
  BOOST_TEST(watcher
                 .WaitForNotify([](const SipPeer::Notify& notify) {
                   return notify.subscription_state.starts_with("terminated");
                 })
                 .has_value());
}

BOOST_AUTO_TEST_CASE(a_forged_etag_gets_412_when_well_formed_and_500_without_dots) {
  Kamailio kamailio;
  SipPeer publisher("publisher");
  auto first = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf());
  BOOST_REQUIRE_EQUAL(first.status, 200);

  auto forged = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf(),
                                  3600, "a.1700000000.999.1.0");
  BOOST_TEST(forged.status == 412, publisher.LastResponse());
  auto no_dots = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf(),
                                   3600, "bogus");
  BOOST_TEST(no_dots.status == 500, publisher.LastResponse());

  // The real ETag still works, and the other answers of integrations.md 5.1.
  auto refresh = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf(),
                                   3600, first.etag);
  BOOST_TEST(refresh.status == 200);
  BOOST_TEST(publisher.Publish(kPresentity, kamailio.port(), "presence", "", "").status == 400);
  BOOST_TEST(publisher.Publish(kPresentity, kamailio.port(), "foo", kPidfType, DndPidf()).status ==
             489);
}

BOOST_AUTO_TEST_CASE(a_dialog_watcher_gets_the_published_dialog_info) {
  Kamailio kamailio;
  SipPeer phone("phone");
  SipPeer publisher("publisher");
  BOOST_REQUIRE_EQUAL(phone.Subscribe(kPresentity, kamailio.port(), "dialog", 600), 200);
  auto initial = phone.WaitForNotify(NotifyWith("dialog", ""));
  BOOST_REQUIRE_MESSAGE(initial, kamailio.Log());
  BOOST_TEST_MESSAGE("initial dialog NOTIFY body: [" << initial->body << "]");

  auto published =
      publisher.Publish(kPresentity, kamailio.port(), "dialog", kDialogType, kDialogInfo);
  BOOST_REQUIRE_MESSAGE(published.status == 200, publisher.LastResponse());
  auto busy = phone.WaitForNotify(NotifyWith("dialog", "call-1234"));
  BOOST_REQUIRE_MESSAGE(busy, kamailio.Log());
  BOOST_TEST(busy->content_type == kDialogType);
  BOOST_TEST(Has(busy->body, "<state>confirmed</state>"));
  BOOST_TEST_MESSAGE("dialog NOTIFY body: [" << busy->body << "]");
}

BOOST_AUTO_TEST_CASE(a_restart_forgets_publications_so_the_old_etag_gets_412) {
  Kamailio kamailio;
  SipPeer publisher("publisher");
  const uint16_t port = kamailio.port();
  auto first = publisher.Publish(kPresentity, port, "presence", kPidfType, DndPidf());
  BOOST_REQUIRE_EQUAL(first.status, 200);

  kamailio.Stop();
  BOOST_TEST(!kamailio.running());
  BOOST_TEST(UdpPortFree(port));  // every Kamailio process has let the port go
  kamailio.Start();
  BOOST_TEST(kamailio.port() == port);

  auto stale =
      publisher.Publish(kPresentity, port, "presence", kPidfType, DndPidf(), 3600, first.etag);
  BOOST_TEST(stale.status == 412, publisher.LastResponse());
  auto fresh = publisher.Publish(kPresentity, port, "presence", kPidfType, DndPidf());
  BOOST_TEST(fresh.status == 200);
  BOOST_TEST(Has(kamailio.Log(), "starting kamailio on port " + std::to_string(port)));
}

BOOST_AUTO_TEST_CASE(digest_auth_challenges_unauthenticated_requests_with_401_or_407) {
  for (auto challenge :
       {Kamailio::DigestAuth::Challenge::kWww, Kamailio::DigestAuth::Challenge::kProxy}) {
    const int expected = challenge == Kamailio::DigestAuth::Challenge::kWww ? 401 : 407;
    BOOST_TEST_CONTEXT("challenge " << expected) {
      Kamailio::DigestAuth auth;
      auth.realm = "presence.test";
      auth.user = "agent1001";
      auth.password = "s3cret";
      auth.challenge = challenge;
      Kamailio kamailio({.tcp = false, .auth = auth});
      SipPeer publisher("agent1001");
      auto refused =
          publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf());
      BOOST_TEST(refused.status == expected);
      BOOST_TEST(Has(publisher.LastResponse(), "realm=\"presence.test\""));

      publisher.SetCredentials(SipPeer::Credentials{"agent1001", "wrong"});
      BOOST_TEST(publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf())
                     .status == expected);
      publisher.SetCredentials(SipPeer::Credentials{"someone", "s3cret"});
      BOOST_TEST(publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf())
                     .status == expected);

      publisher.SetCredentials(SipPeer::Credentials{"agent1001", "s3cret"});
      auto accepted =
          publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf());
      BOOST_REQUIRE_MESSAGE(accepted.status == 200, publisher.LastResponse() + kamailio.Log());
      auto modified = publisher.Publish(kPresentity, kamailio.port(), "presence", kPidfType,
                                        DndPidf(), 3600, accepted.etag);
      BOOST_TEST(modified.status == 200);

      SipPeer watcher("watcher");
      BOOST_TEST(watcher.Subscribe(kPresentity, kamailio.port()) == expected);
      watcher.SetCredentials(SipPeer::Credentials{"agent1001", "s3cret"});
      BOOST_REQUIRE_EQUAL(watcher.Subscribe(kPresentity, kamailio.port()), 200);
      BOOST_TEST(watcher.WaitForNotify(NotifyWith("presence", "Do Not Disturb")).has_value());
      BOOST_TEST(watcher.Subscribe(kPresentity, kamailio.port()) == 200);  // in-dialog refresh
      BOOST_TEST(watcher.Unsubscribe(kPresentity, kamailio.port()) == 200);
    }
  }
}

// What presence_xml does with two publishers of one presentity (integrations.md 5.6: "merged
// into one PIDF"); the agent's echo suppression depends on it. Observed with Kamailio 5.6.3:
// one <presence> root with the root element of the publication updated least recently; that
// publication's children verbatim; then, after a blank line, every other publication's
// children (tuples, dm:person, root notes all kept) with their namespaces declared on each
// element. Ids and notes are not merged or deduplicated.
BOOST_AUTO_TEST_CASE(two_publishers_are_merged_into_one_document_for_the_watcher) {
  Kamailio kamailio;
  SipPeer watcher("watcher");
  SipPeer agent("agent");
  SipPeer phone("phone");
  auto agent_published = agent.Publish(kPresentity, kamailio.port(), "presence", kPidfType,
                                       Pidf("t-agent", "p-agent", "busy", "Agent note"));
  BOOST_REQUIRE_EQUAL(agent_published.status, 200);
  auto phone_published = phone.Publish(kPresentity, kamailio.port(), "presence", kPidfType,
                                       Pidf("t-phone", "p-phone", "on-the-phone", "Phone note"));
  BOOST_REQUIRE_EQUAL(phone_published.status, 200);
  BOOST_REQUIRE_EQUAL(watcher.Subscribe(kPresentity, kamailio.port()), 200);
  auto merged = watcher.WaitForNotify(NotifyWith("presence", "t-phone"));
  BOOST_REQUIRE_MESSAGE(merged, kamailio.Log());
  BOOST_TEST_MESSAGE("merged NOTIFY body: [" << merged->body << "]");
  const std::string expected =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
      "xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "
      "xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:1001@127.0.0.1\">\n"
      "  <tuple id=\"t-agent\">\n"
      "    <status><basic>open</basic></status>\n"
      "    <contact>sip:1001@127.0.0.1</contact>\n"
      "    <timestamp>2024-05-01T09:30:00Z</timestamp>\n"
      "  </tuple>\n"
      "  <dm:person id=\"p-agent\">\n"
      "    <rpid:activities><rpid:busy/></rpid:activities>\n"
      "    <dm:note>Agent note</dm:note>\n"
      "  </dm:person>\n"
      "  <note>Agent note</note>\n"
      "\n"
      "  <tuple xmlns=\"urn:ietf:params:xml:ns:pidf\" id=\"t-phone\">\n"
      "    <status><basic>open</basic></status>\n"
      "    <contact>sip:1001@127.0.0.1</contact>\n"
      "    <timestamp>2024-05-01T09:30:00Z</timestamp>\n"
      "  </tuple>\n"
      "  <dm:person xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "
      "xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" id=\"p-phone\">\n"
      "    <rpid:activities><rpid:on-the-phone/></rpid:activities>\n"
      "    <dm:note>Phone note</dm:note>\n"
      "  </dm:person>\n"
      "  <note xmlns=\"urn:ietf:params:xml:ns:pidf\">Phone note</note>\n"
      "</presence>\n";
  BOOST_TEST(merged->body == expected);

  // A modify moves that publication to the end: the order is by last update, not by first
  // publication.
  auto modified =
      agent.Publish(kPresentity, kamailio.port(), "presence", kPidfType,
                    Pidf("t-agent", "p-agent", "meeting", "Agent two"), 3600, agent_published.etag);
  BOOST_REQUIRE_EQUAL(modified.status, 200);
  auto reordered = watcher.WaitForNotify(NotifyWith("presence", "Agent two"));
  BOOST_REQUIRE(reordered);
  const std::string& body = reordered->body;
  BOOST_TEST(Has(body, "<tuple id=\"t-phone\">"));
  BOOST_TEST(Has(body, "<tuple xmlns=\"urn:ietf:params:xml:ns:pidf\" id=\"t-agent\">"));
  BOOST_TEST(body.find("t-phone") < body.find("t-agent"));
  BOOST_TEST(Count(body, "<note") == 2);
  BOOST_TEST(Count(body, "<dm:person ") == 2);

  // Removing one publication (Expires: 0) leaves its tuple, closed and without contact, and
  // drops its dm:person and notes; the other publication stays as it was.
  BOOST_REQUIRE_EQUAL(
      phone.Publish(kPresentity, kamailio.port(), "presence", "", "", 0, phone_published.etag)
          .status,
      200);
  auto removed = watcher.WaitForNotify(NotifyWith("presence", "<basic>closed</basic>"));
  BOOST_REQUIRE(removed);
  BOOST_TEST_MESSAGE("after removing one: [" << removed->body << "]");
  BOOST_TEST(Has(removed->body, "id=\"t-phone\""));
  BOOST_TEST(!Has(removed->body, "p-phone"));
  BOOST_TEST(!Has(removed->body, "Phone note"));
  BOOST_TEST(Has(removed->body, "Agent two"));
}

// integrations.md 5.7: a refresh without a body is accepted, and leaves an empty document.
BOOST_AUTO_TEST_CASE(a_refresh_without_body_gets_200_and_empties_the_document) {
  Kamailio kamailio;
  SipPeer watcher("watcher");
  SipPeer agent("agent");
  auto published = agent.Publish(kPresentity, kamailio.port(), "presence", kPidfType, DndPidf());
  BOOST_REQUIRE_EQUAL(published.status, 200);
  BOOST_REQUIRE_EQUAL(watcher.Subscribe(kPresentity, kamailio.port()), 200);
  BOOST_REQUIRE(watcher.WaitForNotify(NotifyWith("presence", "Do Not Disturb")));

  auto refreshed =
      agent.Publish(kPresentity, kamailio.port(), "presence", "", "", 3600, published.etag);
  BOOST_TEST(refreshed.status == 200);
  BOOST_TEST(refreshed.etag != published.etag);
  // The watcher subscribed after the publication, so an empty body comes from the refresh.
  BOOST_TEST(
      watcher.WaitForNotify([](const SipPeer::Notify& notify) { return notify.body.empty(); })
          .has_value());
  SipPeer late("late");
  BOOST_REQUIRE_EQUAL(late.Subscribe(kPresentity, kamailio.port()), 200);
  auto initial = late.WaitForNotify(NotifyWith("presence", ""));
  BOOST_REQUIRE(initial);
  BOOST_TEST(initial->body.empty());
}

BOOST_AUTO_TEST_CASE(tcp_listens_on_the_udp_port_number) {
  Kamailio kamailio({.tcp = true, .auth = std::nullopt});
  std::string answer = OptionsOverTcp(kamailio.port());
  BOOST_TEST(answer.starts_with("SIP/2.0 200 "), answer);
  BOOST_TEST(Has(answer, "tcp-probe-1"));

  SipPeer watcher("watcher");  // UDP still works next to TCP
  BOOST_TEST(watcher.Subscribe(kPresentity, kamailio.port()) == 200);
}

// `openssl s_client` against the TLS port, checking the certificate with ca_file; its exit code
// is 0 only when the handshake and the verification worked.
RunResult TlsHandshake(const Kamailio& kamailio, const std::string& ca_file) {
  return RunCommand({"/usr/bin/openssl", "s_client", "-connect",
                     "127.0.0.1:" + std::to_string(kamailio.tls_port()), "-CAfile", ca_file,
                     "-verify_return_error", "-verify_ip", "127.0.0.1", "-brief"});
}

BOOST_AUTO_TEST_CASE(tls_listens_on_its_own_port_with_a_certificate_of_the_test_ca) {
  Kamailio kamailio(Kamailio::Options{.tls = Kamailio::Tls{}});
  BOOST_REQUIRE_NE(kamailio.tls_port(), 0);
  BOOST_TEST(kamailio.tls_port() != kamailio.port());
  RunResult good = TlsHandshake(kamailio, kamailio.tls_ca_path());
  BOOST_TEST(good.exit_code == 0, good.out + good.err);
  BOOST_TEST(Has(good.out + good.err, "Verification: OK"), good.out + good.err);

  TempDir other;
  RunResult bad = TlsHandshake(kamailio, Kamailio::MakeTestCa(other.path(), "other-ca"));
  BOOST_TEST(bad.exit_code != 0, bad.out + bad.err);

  SipPeer watcher("watcher");  // UDP still works next to TLS
  BOOST_TEST(watcher.Subscribe(kPresentity, kamailio.port()) == 200);
}

BOOST_AUTO_TEST_CASE(destruction_stops_kamailio_and_removes_its_folder) {
  uint16_t port = 0;
  std::filesystem::path dir;
  {
    Kamailio kamailio;
    port = kamailio.port();
    dir = kamailio.dir();
    BOOST_TEST(std::filesystem::exists(kamailio.config_path()));
    BOOST_TEST(!UdpPortFree(port));
  }
  BOOST_TEST(UdpPortFree(port));
  BOOST_TEST(!std::filesystem::exists(dir));
}

BOOST_AUTO_TEST_CASE(auth_values_that_would_break_the_config_are_refused) {
  Kamailio::DigestAuth auth;
  auth.password = "pa\"ss";
  BOOST_CHECK_THROW(Kamailio::Config({.tcp = false, .auth = auth}, "/nowhere", 5060),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::testing
