// The SIP stack's publication state machine against a scripted server on loopback: answers a
// real Kamailio gives only in odd moments (500 to an ETag it cannot parse, 423 Min-Expires,
// 503 with Retry-After, 489) are played on purpose, and each request the stack sends is
// checked (SIP-If-Match, Expires, body). tests/e2e/sip_presence_test.cc runs against Kamailio.

#include "connectors/sip/sip_stack.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace presence::connectors::sip {
namespace {

using namespace std::chrono_literals;

// One received request, its headers by lower-case name.
struct Request {
  std::string method;
  std::string text;
  std::string Header(const std::string& name) const {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string key = line.substr(0, colon);
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key == name) {
        size_t start = line.find_first_not_of(' ', colon + 1);
        return start == std::string::npos ? "" : line.substr(start);
      }
    }
    return "";
  }
  std::string Body() const {
    size_t end = text.find("\r\n\r\n");
    return end == std::string::npos ? "" : text.substr(end + 4);
  }
};

// A UDP SIP server that answers each PUBLISH (and OPTIONS) with what `answer` says: a status
// line's code and reason plus extra header lines.
class ScriptedServer {
 public:
  struct Answer {
    int code = 200;
    std::string reason = "OK";
    std::string headers;  // extra "Name: value\r\n" lines
  };
  using Script = std::function<Answer(const Request&, int index)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t size = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<Request> Publishes() const {
    std::lock_guard lock(mutex_);
    return publishes_;
  }

 private:
  void Serve() {
    char buffer[65536];
    while (!stop_) {
      pollfd wait{fd_, POLLIN, 0};
      if (poll(&wait, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t size = sizeof from;
      ssize_t got =
          recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &size);
      if (got <= 0) continue;
      Request request;
      request.text.assign(buffer, static_cast<size_t>(got));
      request.method = request.text.substr(0, request.text.find(' '));
      if (request.method == "ACK") continue;
      Answer answer;
      if (request.method == "PUBLISH") {
        // On loopback the answer comes long before a retransmission (500 ms).
        int index = 0;
        {
          std::lock_guard lock(mutex_);
          publishes_.push_back(request);
          index = static_cast<int>(publishes_.size()) - 1;
        }
        answer = script_(request, index);
      }
      std::string response =
          "SIP/2.0 " + std::to_string(answer.code) + " " + answer.reason + "\r\n" +
          "Via: " + request.Header("via") + "\r\n" + "From: " + request.Header("from") + "\r\n" +
          "To: " + request.Header("to") + ";tag=scripted\r\n" +
          "Call-ID: " + request.Header("call-id") + "\r\n" + "CSeq: " + request.Header("cseq") +
          "\r\n" + answer.headers + "Content-Length: 0\r\n\r\n";
      sendto(fd_, response.data(), response.size(), 0, reinterpret_cast<sockaddr*>(&from), size);
    }
  }

  Script script_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Request> publishes_;
  std::thread thread_;
};

StackOptions Options(uint16_t port) {
  StackOptions options;
  options.server_host = "127.0.0.1";
  options.server_port = port;
  options.agent_uri = "sip:presence-agent@127.0.0.1";
  options.keepalive = 3600s;  // no probes in these tests
  options.expires = 600s;
  return options;
}

PublishOutcome PublishNow(SipStack& stack, const std::string& body, bool remove = false) {
  auto future = stack.Publish("alice", "sip:1001@127.0.0.1", body, remove);
  BOOST_REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

ScriptedServer::Answer Ok(const std::string& etag, int expires = 600) {
  return {200, "OK", "SIP-ETag: " + etag + "\r\nExpires: " + std::to_string(expires) + "\r\n"};
}

BOOST_AUTO_TEST_SUITE(sip_stack_test)

BOOST_AUTO_TEST_CASE(initial_then_modify_with_the_latest_etag) {
  ScriptedServer server([](const Request&, int index) { return Ok("e" + std::to_string(index)); });
  SipStack stack(Options(server.port()), nullptr, nullptr);
  BOOST_REQUIRE(stack.Start().ok());
  BOOST_TEST((PublishNow(stack, "<a/>").kind == PublishOutcome::Kind::kDone));
  BOOST_TEST((PublishNow(stack, "<b/>").kind == PublishOutcome::Kind::kDone));
  BOOST_TEST((PublishNow(stack, "", true).kind == PublishOutcome::Kind::kDone));
  std::vector<Request> sent = server.Publishes();
  BOOST_REQUIRE(sent.size() == 3u);
  BOOST_TEST(sent[0].Header("sip-if-match") == "");
  BOOST_TEST(sent[0].Header("event") == "presence");
  BOOST_TEST(sent[0].Header("expires") == "600");
  BOOST_TEST(sent[0].Header("content-type") == "application/pidf+xml");
  BOOST_TEST(sent[0].Body() == "<a/>");
  BOOST_TEST(sent[1].Header("sip-if-match") == "e0");
  BOOST_TEST(sent[1].Body() == "<b/>");  // a modify carries the whole document
  BOOST_TEST(sent[2].Header("sip-if-match") == "e1");
  BOOST_TEST(sent[2].Header("expires") == "0");
  BOOST_TEST(sent[2].Body() == "");
  BOOST_TEST(stack.status().publications.count("alice") == 0u);  // removed
}

BOOST_AUTO_TEST_CASE(a_500_to_an_etag_is_taken_as_412_and_publishes_afresh) {
  // Kamailio answers 500 to an ETag it cannot parse, 412 to one it does not know.
  for (int code : {412, 500}) {
    BOOST_TEST_CONTEXT(code) {
      ScriptedServer server([code](const Request& request, int index) {
        if (!request.Header("sip-if-match").empty() && index == 1) {
          return ScriptedServer::Answer{code, "Lost", ""};
        }
        return Ok("e" + std::to_string(index));
      });
      SipStack stack(Options(server.port()), nullptr, nullptr);
      BOOST_REQUIRE(stack.Start().ok());
      PublishNow(stack, "<a/>");
      PublishOutcome outcome = PublishNow(stack, "<b/>");
      BOOST_TEST((outcome.kind == PublishOutcome::Kind::kDone), outcome.detail);
      std::vector<Request> sent = server.Publishes();
      BOOST_REQUIRE(sent.size() == 3u);
      BOOST_TEST(sent[2].Header("sip-if-match") == "");  // initial again
      BOOST_TEST(sent[2].Body() == "<b/>");
      BOOST_TEST(stack.status().publications["alice"].etag == "e2");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_500_without_an_etag_is_a_server_error_to_retry) {
  ScriptedServer server([](const Request&, int) {
    return ScriptedServer::Answer{500, "Server Internal Error", ""};
  });
  SipStack stack(Options(server.port()), nullptr, nullptr);
  BOOST_REQUIRE(stack.Start().ok());
  PublishOutcome outcome = PublishNow(stack, "<a/>");
  BOOST_TEST((outcome.kind == PublishOutcome::Kind::kRetry));
  BOOST_TEST(outcome.status == 500);
  BOOST_TEST(server.Publishes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(interval_too_brief_raises_expires_to_the_minimum) {
  ScriptedServer server([](const Request& request, int index) {
    if (request.Header("expires") == "600") {
      return ScriptedServer::Answer{423, "Interval Too Brief", "Min-Expires: 1800\r\n"};
    }
    return Ok("e" + std::to_string(index), 1800);
  });
  SipStack stack(Options(server.port()), nullptr, nullptr);
  BOOST_REQUIRE(stack.Start().ok());
  BOOST_TEST((PublishNow(stack, "<a/>").kind == PublishOutcome::Kind::kDone));
  std::vector<Request> sent = server.Publishes();
  BOOST_REQUIRE(sent.size() == 2u);
  BOOST_TEST(sent[1].Header("expires") == "1800");
  BOOST_TEST(stack.status().publications["alice"].expires_in_s > 1700);
}

BOOST_AUTO_TEST_CASE(retry_after_and_refusals_reach_the_outbox) {
  ScriptedServer server([](const Request& request, int) {
    if (request.Body() == "<busy/>") {
      return ScriptedServer::Answer{503, "Service Unavailable", "Retry-After: 42\r\n"};
    }
    return ScriptedServer::Answer{489, "Bad Event", "Allow-Events: dialog\r\n"};
  });
  SipStack stack(Options(server.port()), nullptr, nullptr);
  BOOST_REQUIRE(stack.Start().ok());
  PublishOutcome busy = PublishNow(stack, "<busy/>");
  BOOST_TEST((busy.kind == PublishOutcome::Kind::kRetry));
  BOOST_TEST(busy.retry_after.has_value());
  BOOST_TEST(busy.retry_after->count() == 42);
  PublishOutcome refused = PublishNow(stack, "<a/>");
  BOOST_TEST((refused.kind == PublishOutcome::Kind::kRejected));
  BOOST_TEST(refused.detail == "489 Bad Event");
  BOOST_TEST(stack.status().publications["alice"].last_result == "489 Bad Event");
}

BOOST_AUTO_TEST_CASE(a_server_that_does_not_answer_is_a_retry_not_a_hang) {
  // A bound port that never answers: the future resolves when libre's transaction times out;
  // the connector's own request_timeout_ms is what a delivery waits at most. Here: the stack
  // stops cleanly with a request in flight, and the waiting future resolves.
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  getsockname(silent, reinterpret_cast<sockaddr*>(&address), &size);
  auto stack = std::make_unique<SipStack>(Options(ntohs(address.sin_port)), nullptr, nullptr);
  BOOST_REQUIRE(stack->Start().ok());
  auto pending = stack->Publish("alice", "sip:1001@127.0.0.1", "<a/>", false);
  BOOST_TEST((pending.wait_for(300ms) == std::future_status::timeout));
  stack->Stop();
  BOOST_REQUIRE(pending.wait_for(5s) == std::future_status::ready);
  BOOST_TEST((pending.get().kind == PublishOutcome::Kind::kRetry));
  close(silent);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors::sip
