// End to end, on the real `presence-agent serve`: what a malformed or hostile request gets.
// Every refusal is a JSON error in valid UTF-8 with the headers every answer carries, including
// the refusals of a request head the HTTP library cannot read, and changes nothing.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

namespace data = boost::unit_test::data;
using Poco::JSON::Object;
using testing::AgentServer;
using testing::HttpClient;
using testing::HttpRequest;
using testing::HttpResponse;
using testing::RawConnection;

constexpr auto kWait = std::chrono::seconds(10);

// One server for the whole suite (1001 in Lunch): nothing here may change a state, so the
// tests share it.
struct SharedServer {
  SharedServer() : http((server.Start(), server.port())) {
    const std::string& crm = server.tokens().integration;
    http.Post("/api/v1/agents/1001/events", crm, R"({"type": "login"})");
    http.Put("/api/v1/agents/1001/state", crm, R"({"label": "Lunch"})");
  }
  AgentServer server;
  HttpClient http;
};

AgentServer& Started() {
  static SharedServer shared;  // stopped (SIGKILL) when the test program exits
  return shared.server;
}

// RFC 3629: well-formed UTF-8 only (no overlongs, surrogates or stray bytes).
bool IsValidUtf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead < 0x80) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) return false;
    }
    i += length;
  }
  return true;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The answer's JSON error, checked for everything every error carries: valid UTF-8, a JSON
// object {"error": {"code", "message"}} with a message, application/json and the standard
// headers. Returns the message ("" after a failed check).
std::string CheckedError(int status, const std::string& content_type, const std::string& body,
                         const std::function<std::string(std::string_view)>& header,
                         int want_status, const std::string& want_code) {
  BOOST_TEST(status == want_status, body);
  BOOST_TEST(content_type == "application/json");
  BOOST_TEST(header("X-Content-Type-Options") == "nosniff");
  BOOST_TEST(header("X-Frame-Options") == "DENY");
  BOOST_TEST(header("Cache-Control") == "no-store");
  BOOST_TEST(header("Content-Security-Policy") == "frame-ancestors 'none'");
  BOOST_TEST(IsValidUtf8(body), body);
  try {
    Poco::JSON::Parser parser;
    Object::Ptr json = parser.parse(body).extract<Object::Ptr>();
    Object::Ptr error = json->getObject("error");
    BOOST_TEST(error->getValue<std::string>("code") == want_code, body);
    std::string message = error->getValue<std::string>("message");
    BOOST_TEST(!message.empty());
    return message;
  } catch (const std::exception& e) {
    BOOST_ERROR("not a JSON error: " << body << " (" << e.what() << ")");
    return "";
  }
}

std::string CheckedError(const HttpResponse& response, int status, const std::string& code) {
  return CheckedError(
      response.status, response.Header("Content-Type"), response.body,
      [&](std::string_view name) { return response.Header(name); }, status, code);
}

// A raw exchange: sends `request` on a new connection and reads until the server closes it.
struct RawAnswer {
  int status = 0;
  std::string head;
  std::string body;
  std::string Header(std::string_view name) const {
    const std::string lower_head = Lower(head);
    const std::string key = "\r\n" + Lower(std::string(name)) + ":";
    std::size_t at = lower_head.find(key);
    if (at == std::string::npos) return "";
    std::size_t start = head.find_first_not_of(' ', at + key.size());
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

RawAnswer Exchange(uint16_t port, const std::string& request) {
  RawConnection connection(port);
  connection.SendAll(request);
  RawAnswer answer;
  answer.status = connection.ReadHead(kWait);
  answer.head = connection.head();
  std::string body = connection.leftover;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  const std::string length = answer.Header("Content-Length");
  while (std::chrono::steady_clock::now() < deadline &&
         (length.empty() || body.size() < std::stoul(length))) {
    std::optional<std::string> more = connection.Receive(std::chrono::milliseconds(500));
    if (!more) break;
    body += *more;
  }
  answer.body = body;
  return answer;
}

std::string CheckedError(const RawAnswer& answer, int status, const std::string& code) {
  return CheckedError(
      answer.status, answer.Header("Content-Type"), answer.body,
      [&](std::string_view name) { return answer.Header(name); }, status, code);
}

std::string Label(HttpClient& http, const std::string& id) {
  HttpResponse response = http.Get("/api/v1/agents/" + id, Started().tokens().supervisor);
  if (response.status != 200) throw std::runtime_error("GET agent: " + response.body);
  Object::Ptr view = response.Json();
  if (view->isNull("state")) return "";
  return view->getObject("state")->getValue<std::string>("label");
}

struct BadTarget {
  const char* name;
  const char* path;
};
std::ostream& operator<<(std::ostream& out, const BadTarget& bad) { return out << bad.name; }

const BadTarget kBadTargets[] = {
    {"lone percent in the path", "/api/v1/agents/%"},
    {"non-hex escape in the path", "/api/v1/agents/%zz"},
    {"non-hex escape in a report query", "/api/v1/reports/time?from=%zz&to=2026-11-22"},
    {"non-hex escape in the stream's resume point", "/api/v1/stream?since=%zz"},
    {"cut escape at the end of the query", "/api/v1/agents/1001/intervals?from=%2"},
};

struct BadBody {
  const char* name;
  const char* method;
  const char* path;
  bool supervisor;
  std::string body;
  const char* code;
  const char* says;  // a part of the message
};
std::ostream& operator<<(std::ostream& out, const BadBody& bad) { return out << bad.name; }

const std::string kLong(257, 'x');
const char* const kEvents = "/api/v1/agents/1001/events";
const char* const kState = "/api/v1/agents/1001/state";
const char* const kOverride = "/api/v1/agents/1001/override";

const BadBody kBadBodies[] = {
    {"duration true", "POST", kEvents, false,
     R"({"type": "call_ended", "call_id": "c1", "duration_s": true})", "invalid_value",
     "duration_s: must be a number of seconds, got true or false"},
    {"duration a string", "POST", kEvents, false,
     R"({"type": "call_ended", "call_id": "c1", "duration_s": "95"})", "invalid_value",
     "duration_s: must be a number of seconds, got a string"},
    {"duration past any call", "POST", kEvents, false,
     R"({"type": "call_ended", "call_id": "c1", "duration_s": 1e300})", "invalid_value",
     "duration_s: at most"},
    {"internal a number", "POST", kEvents, false,
     R"({"type": "call_started", "call_id": "c1", "internal": 1})", "invalid_value",
     "internal: must be true or false, got a number"},
    {"call id a number", "POST", kEvents, false, R"({"type": "call_started", "call_id": 7})",
     "invalid_value", "call_id: must be a string, got a number"},
    {"type an array", "POST", kEvents, false, R"({"type": ["login"]})", "invalid_value",
     "type: must be a string, got an array"},
    {"event label an object", "POST", kEvents, false, R"({"type": "select", "label": {}})",
     "invalid_value", "label: must be a string, got an object"},
    {"agent a number", "POST", kEvents, false, R"({"type": "login", "agent": 1001})",
     "invalid_value", "agent: must be a string"},
    {"direction true", "POST", kEvents, false,
     R"({"type": "call_started", "call_id": "c1", "direction": true})", "invalid_value",
     "direction: must be a string"},
    {"event source a number", "POST", kEvents, false, R"({"type": "login", "source": 3})",
     "invalid_value", "source: must be a string"},
    {"state label a number", "PUT", kState, false, R"({"label": 5})", "invalid_value",
     "label: must be a string, got a number"},
    {"state source a number", "PUT", kState, false, R"({"label": "Break", "source": 5})",
     "invalid_value", "source: must be a string, got a number"},
    {"override label true", "POST", kOverride, true, R"({"label": true})", "invalid_value",
     "label: must be a string, got true or false"},
    {"override unknown field", "POST", kOverride, true, R"({"label": "Break", "why": "x"})",
     "invalid_value", "why: unknown field; allowed: label"},
    {"session token a number", "POST", "/api/v1/session", false, R"({"token": 5})", "invalid_value",
     "token: must be a string, got a number"},
    {"state label too long", "PUT", kState, false, R"({"label": ")" + kLong + "\"}", "too_long",
     "label: at most 256 bytes, got 257"},
    {"state source too long", "PUT", kState, false,
     R"({"label": "Break", "source": ")" + kLong + "\"}", "too_long", "source: at most 256"},
    {"call id too long", "POST", kEvents, false,
     R"({"type": "call_started", "call_id": ")" + kLong + "\"}", "too_long",
     "call_id: at most 256 bytes"},
    {"event label too long", "POST", kEvents, false,
     R"({"type": "select", "label": ")" + kLong + "\"}", "too_long", "label: at most 256"},
    {"event type too long", "POST", kEvents, false, R"({"type": ")" + kLong + "\"}", "too_long",
     "type: at most 256"},
    {"override label too long", "POST", kOverride, true, R"({"label": ")" + kLong + "\"}",
     "too_long", "label: at most 256"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_hardening_test)

BOOST_DATA_TEST_CASE(a_malformed_percent_escape_is_a_400_json_error, data::make(kBadTargets), bad) {
  HttpClient http(Started().port());
  HttpResponse response = http.Get(bad.path, Started().tokens().supervisor);
  std::string message = CheckedError(response, 400, "malformed_request");
  BOOST_TEST(message.find("percent escape") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(an_encoded_slash_is_part_of_an_id_not_a_separator) {
  HttpClient http(Started().port());
  const std::string& crm = Started().tokens().integration;
  HttpResponse put = http.Put("/api/v1/agents%2F1001%2Fstate", crm, R"({"label": "Break"})");
  CheckedError(put, 404, "not_found");
  HttpResponse get = http.Get("/api/v1/agents/1001%2Fstate", Started().tokens().supervisor);
  std::string message = CheckedError(get, 404, "unknown_user");
  BOOST_TEST(message.find("'1001/state'") != std::string::npos, message);
  BOOST_TEST(Label(http, "1001") == "Lunch");
}

BOOST_AUTO_TEST_CASE(a_content_length_that_is_not_a_byte_count_is_a_400_json_error) {
  const std::string& crm = Started().tokens().integration;
  const std::string head =
      "PUT /api/v1/agents/1001/state HTTP/1.1\r\nHost: test\r\n"
      "Authorization: Bearer " +
      crm + "\r\nContent-Type: application/json\r\n";
  const std::string body = R"({"label": "Break"})";
  const std::string size = std::to_string(body.size());
  const std::vector<std::string> framings = {
      "Content-Length: -1\r\n",
      "Content-Length: abc\r\n",
      "Content-Length: +" + size + "\r\n",
      "Content-Length: " + size + "\r\nContent-Length: 3\r\n",
      "Content-Length: " + size + "\r\nTransfer-Encoding: chunked\r\n",
  };
  for (const std::string& framing : framings) {
    BOOST_TEST_CONTEXT(framing) {
      RawAnswer answer = Exchange(Started().port(), head + framing + "\r\n" + body);
      CheckedError(answer, 400, "malformed_request");
    }
  }
  HttpClient http(Started().port());
  BOOST_TEST(Label(http, "1001") == "Lunch");
}

BOOST_AUTO_TEST_CASE(a_get_with_a_body_is_a_400_json_error) {
  RawAnswer answer = Exchange(Started().port(),
                              "GET /api/v1/health HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n"
                              "\r\n{}");
  std::string message = CheckedError(answer, 400, "malformed_request");
  BOOST_TEST(message.find("GET request carries no body") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(a_folded_header_is_refused_and_the_same_header_unfolded_is_not) {
  const std::string& token = Started().tokens().supervisor;
  for (const std::string fold : {"\r\n ", "\r\n\t", "\n "}) {
    BOOST_TEST_CONTEXT("fold " << (fold[1] == '\t' ? "tab" : "space")) {
      RawAnswer folded = Exchange(Started().port(),
                                  "GET /api/v1/agents HTTP/1.1\r\nHost: test\r\n"
                                  "Authorization: Bearer" +
                                      fold + token + "\r\n\r\n");
      std::string message = CheckedError(folded, 400, "malformed_request");
      BOOST_TEST(message.find("folded") != std::string::npos, message);
    }
  }
  RawAnswer plain = Exchange(Started().port(),
                             "GET /api/v1/agents HTTP/1.1\r\nHost: test\r\nConnection: "
                             "close\r\nAuthorization: Bearer " +
                                 token + "\r\n\r\n");
  BOOST_TEST(plain.status == 200);
}

BOOST_AUTO_TEST_CASE(a_folded_header_is_refused_in_a_request_sent_right_behind_another) {
  const std::string& token = Started().tokens().supervisor;
  const std::string folded =
      "GET /api/v1/agents HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer"
      "\r\n " +
      token + "\r\n\r\n";
  const std::string put_body = R"({"label": "Lnch"})";  // unknown: changes nothing
  const std::vector<std::pair<std::string, int>> firsts = {
      {"GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n", 200},
      {"PUT /api/v1/agents/1001/state HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " +
           Started().tokens().integration +
           "\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(put_body.size()) + "\r\n\r\n" + put_body,
       422},
  };
  for (const auto& [first, status] : firsts) {
    BOOST_TEST_CONTEXT(first.substr(0, 3)) {
      RawConnection connection(Started().port());
      connection.SendAll(first + folded);  // one write: both arrive together
      BOOST_TEST(connection.ReadHead(kWait) == status);
      RawAnswer one;
      one.head = connection.head();
      const std::size_t length = std::stoul(one.Header("Content-Length"));
      const auto deadline = std::chrono::steady_clock::now() + kWait;
      while (connection.leftover.size() < length && std::chrono::steady_clock::now() < deadline) {
        std::optional<std::string> more = connection.Receive(std::chrono::milliseconds(500));
        if (!more) break;
        connection.leftover += *more;
      }
      connection.leftover.erase(0, length);
      RawAnswer second;
      second.status = connection.ReadHead(kWait);
      second.head = connection.head();
      second.body = connection.leftover;
      while (second.body.size() < std::stoul("0" + second.Header("Content-Length")) &&
             std::chrono::steady_clock::now() < deadline) {
        std::optional<std::string> more = connection.Receive(std::chrono::milliseconds(500));
        if (!more) break;
        second.body += *more;
      }
      CheckedError(second, 400, "malformed_request");
    }
  }
  HttpClient http(Started().port());
  BOOST_TEST(Label(http, "1001") == "Lunch");
}

RawAnswer ReadAnswer(RawConnection& connection);  // below

BOOST_AUTO_TEST_CASE(a_request_sent_while_the_one_before_waits_for_its_sync_is_answered_after_it) {
  // The second change goes out right behind the first, in a write of its own, while the first
  // mostly still waits for the journal's sync (the loop keeps such a connection registered and
  // drops the registration only when more arrives): both are answered, in order, on the one
  // connection, and the later one is the state that stays.
  RawConnection connection(Started().port());
  auto put = [&](const std::string& label) {
    const std::string body = R"({"label": ")" + label + R"("})";
    return "PUT /api/v1/agents/1002/state HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " +
           Started().tokens().integration +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  for (int round = 0; round < 20; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      connection.SendAll(put("Break"));
      connection.SendAll(put("Lunch"));
      RawAnswer first = ReadAnswer(connection);
      RawAnswer second = ReadAnswer(connection);
      BOOST_TEST_REQUIRE(first.status == 200, first.body);
      BOOST_TEST_REQUIRE(second.status == 200, second.body);
      BOOST_TEST(first.body.find(R"("label":"Break")") != std::string::npos, first.body);
      BOOST_TEST(second.body.find(R"("label":"Lunch")") != std::string::npos, second.body);
    }
  }
  HttpClient http(Started().port());
  BOOST_TEST(Label(http, "1002") == "Lunch");
}

BOOST_AUTO_TEST_CASE(nothing_sent_after_a_refused_request_is_read_even_behind_many_pipelined) {
  // More requests in one write than the server answers in one turn, then a request it must
  // refuse (smuggling-shaped framing), then a change: the change must never be applied.
  const std::string change_body = R"({"label": "Meeting"})";
  std::string burst;
  for (int i = 0; i < 40; ++i) burst += "GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n";
  burst +=
      "POST /api/v1/agents/1001/events HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  burst += "PUT /api/v1/agents/1001/state HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " +
           Started().tokens().integration +
           "\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(change_body.size()) + "\r\n\r\n" + change_body;
  RawConnection connection(Started().port());
  connection.SendAll(burst);
  std::string received = connection.leftover;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<std::string> more = connection.Receive(std::chrono::milliseconds(500));
    if (!more || more->empty()) break;  // closed by the server
    received += *more;
  }
  size_t ok = 0;
  for (size_t at = received.find("HTTP/1.1 200"); at != std::string::npos;
       at = received.find("HTTP/1.1 200", at + 1)) {
    ++ok;
  }
  BOOST_TEST(ok == 40u);
  BOOST_TEST(received.find("HTTP/1.1 400") != std::string::npos);
  BOOST_TEST(received.find("Content-Length and Transfer-Encoding together") != std::string::npos);
  HttpClient http(Started().port());
  BOOST_TEST(Label(http, "1001") == "Lunch");
}

BOOST_AUTO_TEST_CASE(a_control_character_in_a_header_is_refused) {
  RawAnswer answer = Exchange(Started().port(),
                              "GET /api/v1/health HTTP/1.1\r\nHost: test\r\n"
                              "X-A: a" +
                                  std::string(1, '\0') + "b\r\n\r\n");
  CheckedError(answer, 400, "malformed_request");
}

BOOST_AUTO_TEST_CASE(request_heads_the_server_cannot_read_get_the_json_error) {
  std::string many_headers;
  for (int i = 0; i < 120; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  const std::vector<std::pair<std::string, std::string>> heads = {
      {"request line too long", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n"},
      {"header value too long",
       "GET /api/v1/health HTTP/1.1\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n"},
      {"too many headers", "GET /api/v1/health HTTP/1.1\r\n" + many_headers + "\r\n"},
      {"method too long", std::string(40, 'G') + " /api/v1/health HTTP/1.1\r\n\r\n"},
  };
  for (const auto& [name, head] : heads) {
    BOOST_TEST_CONTEXT(name) {
      RawAnswer answer = Exchange(Started().port(), head);
      CheckedError(answer, 400, "malformed_request");
    }
  }
  HttpClient http(Started().port());
  BOOST_TEST(http.Get("/api/v1/health").status == 200);
}

BOOST_DATA_TEST_CASE(a_body_field_of_the_wrong_type_or_too_long_is_a_422_that_names_it,
                     data::make(kBadBodies), bad) {
  AgentServer& server = Started();
  HttpClient http(server.port());
  const std::string& token =
      bad.supervisor ? server.tokens().supervisor : server.tokens().integration;
  HttpResponse response =
      http.Send({.method = bad.method, .path = bad.path, .token = token, .body = bad.body});
  std::string message = CheckedError(response, 422, bad.code);
  BOOST_TEST(message.find(bad.says) != std::string::npos, message);
  BOOST_TEST(Label(http, "1001") == "Lunch");
}

BOOST_AUTO_TEST_CASE(a_label_of_exactly_the_bound_reaches_the_catalog) {
  HttpClient http(Started().port());
  HttpResponse response = http.Put(kState, Started().tokens().integration,
                                   R"({"label": ")" + std::string(256, 'x') + "\"}");
  CheckedError(response, 422, "unknown_label");
}

BOOST_AUTO_TEST_CASE(errors_that_echo_invalid_utf8_are_still_valid_utf8) {
  HttpClient http(Started().port());
  const std::string& supervisor = Started().tokens().supervisor;
  for (const std::string path : {"/api/v1/agents/%FF", "/api/v1/agents/%C3", "/api/v1/%ED%A0%80",
                                 "/api/v1/agents/1001/intervals?from=%FE"}) {
    BOOST_TEST_CONTEXT(path) {
      HttpResponse response = http.Get(path, supervisor);
      BOOST_TEST(response.status >= 400);
      CheckedError(response, response.status, response.ErrorCode());
    }
  }
  HttpResponse event =
      http.Post(kEvents, Started().tokens().integration, "{\"type\": \"te\xFFleport\"}");
  CheckedError(event, event.status, event.ErrorCode());
  BOOST_TEST(event.status >= 400);
}

BOOST_AUTO_TEST_CASE(echoed_text_is_cut_short) {
  HttpClient http(Started().port());
  HttpResponse response =
      http.Get("/api/v1/agents/" + std::string(1000, 'x'), Started().tokens().supervisor);
  std::string message = CheckedError(response, 404, "unknown_user");
  BOOST_TEST(message.size() < 200u, message);
  BOOST_TEST(message.find(std::string(64, 'x') + "...") != std::string::npos, message);
  HttpResponse route = http.Get("/api/v1/" + std::string(1000, 'y'));
  std::string route_message = CheckedError(route, 404, "not_found");
  BOOST_TEST(route_message.size() < 200u, route_message);
}

BOOST_AUTO_TEST_CASE(a_failed_request_leaves_no_query_in_the_log) {
  AgentServer& server = Started();
  HttpClient http(server.port());
  http.Get("/api/v1/agents/%zz?access_token=s3cr3t-in-a-url", server.tokens().supervisor);
  http.Get("/api/v1/reports/time?from=%&to=x&token=s3cr3t-in-a-url", server.tokens().supervisor);
  // A reload logs a line after anything the requests above could have logged.
  const size_t reloads = server.CountInLog("configuration reloaded");
  server.Signal(SIGHUP);
  BOOST_TEST(server.WaitForLog("configuration reloaded", kWait, reloads + 1));
  BOOST_TEST(server.CountInLog("s3cr3t") == 0u, server.Log());
}

// Reads one whole answer (head and Content-Length body) from an open connection.
RawAnswer ReadAnswer(RawConnection& connection) {
  RawAnswer answer;
  answer.status = connection.ReadHead(kWait);
  answer.head = connection.head();
  const std::size_t length = std::stoul("0" + answer.Header("Content-Length"));
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (connection.leftover.size() < length && std::chrono::steady_clock::now() < deadline) {
    std::optional<std::string> more = connection.Receive(std::chrono::milliseconds(500));
    if (!more) break;
    connection.leftover += *more;
  }
  answer.body = connection.leftover.substr(0, length);
  connection.leftover.erase(0, std::min(length, connection.leftover.size()));
  return answer;
}

BOOST_AUTO_TEST_CASE(a_post_without_a_length_has_no_body_and_the_next_request_is_answered) {
  // RFC 9112 6.3: neither Content-Length nor chunked coding means an empty body; reading to
  // the end of the connection would take the next request for the body.
  RawConnection connection(Started().port());
  connection.SendAll(
      "POST /api/v1/agents/1001/events HTTP/1.1\r\nHost: test\r\nAuthorization: "
      "Bearer " +
      Started().tokens().integration +
      "\r\nContent-Type: application/json\r\n\r\n"
      "GET /api/v1/health HTTP/1.1\r\nHost: test\r\n\r\n");
  RawAnswer first = ReadAnswer(connection);
  CheckedError(first, 400, "malformed_json");
  RawAnswer second = ReadAnswer(connection);
  BOOST_TEST(second.status == 200, second.head);
  BOOST_TEST(second.body.find("\"status\":\"ok\"") != std::string::npos, second.body);
}

BOOST_AUTO_TEST_CASE(a_transfer_coding_other_than_chunked_is_refused) {
  for (const std::string& coding : {std::string("gzip, chunked"), std::string("identity")}) {
    RawAnswer answer =
        Exchange(Started().port(),
                 "POST /api/v1/agents/1001/events HTTP/1.1\r\nHost: test\r\nContent-Type: "
                 "application/json\r\nTransfer-Encoding: " +
                     coding + "\r\nConnection: close\r\n\r\n0\r\n\r\n");
    BOOST_TEST_CONTEXT(coding) { CheckedError(answer, 400, "malformed_request"); }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
