// End to end, on the real `presence-agent serve`: the agent's own page (/agent/, files in
// dashboard/agent/), its framing headers (server.frame_ancestors) and the browser session an
// agent token opens for it, scoped to the token's user.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "tests/fakes/agent_server.h"
#include "tests/fakes/http_client.h"

namespace presence::agent {
namespace {

namespace data = boost::unit_test::data;
using Poco::JSON::Object;
using testing::AgentServer;
using testing::HttpClient;
using testing::HttpResponse;

const std::string kLightning = "https://myorg.lightning.force.com";
const std::string kClassic = "https://myorg.my.salesforce.com";

// One server for the suite, allowing two sites to frame the agent page.
AgentServer& Framed() {
  static std::unique_ptr<AgentServer> server = [] {
    auto started = std::make_unique<AgentServer>([](Object& config) {
      Poco::JSON::Array::Ptr origins = new Poco::JSON::Array();
      origins->add("HTTPS://MyOrg.Lightning.Force.com");  // kept as browsers send it
      origins->add(kClassic);
      config.getObject("server")->set("frame_ancestors", origins);
    });
    started->Start();
    return started;
  }();
  return *server;
}

// One server for the suite without server.frame_ancestors.
AgentServer& Plain() {
  static std::unique_ptr<AgentServer> server = [] {
    auto started = std::make_unique<AgentServer>();
    started->Start();
    return started;
  }();
  return *server;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "pa_session=<id>" from a Set-Cookie header.
std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

BOOST_AUTO_TEST_SUITE(agent_page_test)

struct PageFile {
  std::string path;
  std::string content_type;
  std::string contains;  // a piece of the file
};
std::ostream& operator<<(std::ostream& out, const PageFile& file) { return out << file.path; }

const std::vector<PageFile> kPageFiles = {
    {"/agent/", "text/html; charset=utf-8", "<title>"},
    {"/agent", "text/html; charset=utf-8", "<title>"},
    {"/agent/index.html", "text/html; charset=utf-8", "/agent/agent.js"},
    {"/agent/agent.js", "text/javascript; charset=utf-8", "/api/v1/session"},
    {"/agent/agent.css", "text/css; charset=utf-8", "@media"},
};

BOOST_DATA_TEST_CASE(the_agent_page_is_served_from_the_agent_folder_typed_by_extension,
                     data::make(kPageFiles), file) {
  HttpResponse response = Plain().Client().Get(file.path);
  BOOST_TEST(response.status == 200, response.body);
  BOOST_TEST(response.Header("Content-Type") == file.content_type);
  BOOST_TEST(response.body.find(file.contains) != std::string::npos);
  // Without server.frame_ancestors no site may frame it, like every other answer.
  BOOST_TEST(response.Header("Content-Security-Policy") == "frame-ancestors 'none'");
  BOOST_TEST(response.Header("X-Frame-Options") == "DENY");
  BOOST_TEST(response.Header("X-Content-Type-Options") == "nosniff");
}

const std::vector<std::string> kNotFiles = {
    "/agent/..%2Fapp.js",      // a separator inside the name
    "/agent/.hidden",          // a leading dot
    "/agent/agent.js%00.css",  // a NUL
    "/agent/agent%20.js",      // a character outside [A-Za-z0-9._-]
    "/agent/app.js",           // the dashboard's script is not the agent page's
    "/agent/missing.js",       // no such file
    "/agent/x/agent.js",       // no sub-folders
    "/dashboard/agent",        // a folder is not a file
    "/dashboard/agent%2Fagent.js",
};

BOOST_DATA_TEST_CASE(unsafe_or_missing_agent_page_names_are_a_404_json_error, data::make(kNotFiles),
                     path) {
  HttpResponse response = Plain().Client().Get(path);
  BOOST_TEST(response.status == 404, response.body);
  BOOST_TEST(response.Header("Content-Type") == "application/json");
  BOOST_TEST(response.body.find("\"not_found\"") != std::string::npos, response.body);
}

BOOST_AUTO_TEST_CASE(frame_ancestors_let_those_sites_frame_the_agent_page_and_nothing_else) {
  HttpClient http = Framed().Client();
  const std::string policy = "frame-ancestors 'self' " + kLightning + " " + kClassic;
  for (const std::string path : {"/agent/", "/agent", "/agent/agent.js", "/agent/agent.css"}) {
    BOOST_TEST_CONTEXT(path) {
      HttpResponse page = http.Get(path);
      BOOST_TEST(page.status == 200);
      BOOST_TEST(page.Header("Content-Security-Policy") == policy);
      BOOST_TEST(page.Header("X-Frame-Options").empty());  // DENY would forbid the frame
      BOOST_TEST(page.Header("X-Content-Type-Options") == "nosniff");
    }
  }
  // The dashboard and the API stay unframeable.
  for (const std::string path : {"/", "/dashboard/app.js", "/api/v1/health", "/agent/missing.js"}) {
    BOOST_TEST_CONTEXT(path) {
      HttpResponse other = http.Get(path);
      BOOST_TEST(other.Header("Content-Security-Policy") == "frame-ancestors 'none'");
      BOOST_TEST(other.Header("X-Frame-Options") == "DENY");
    }
  }
}

BOOST_AUTO_TEST_CASE(an_agent_session_acts_for_its_own_user_only) {
  AgentServer& server = Plain();
  HttpClient http = server.Client();
  HttpResponse opened =
      http.Post("/api/v1/session", "", R"({"token": ")" + server.tokens().agent + "\"}");
  BOOST_TEST(opened.status == 200, opened.body);
  BOOST_TEST(opened.Json()->getValue<std::string>("role") == "agent");
  BOOST_TEST(opened.Json()->getValue<std::string>("user") == "1001");
  const std::string set_cookie = opened.Header("Set-Cookie");
  // Without TLS and frame_ancestors, the cookie is the dashboard's: HttpOnly, SameSite=Strict.
  BOOST_TEST(Lower(set_cookie).find("; httponly") != std::string::npos, set_cookie);
  BOOST_TEST(Lower(set_cookie).find("; samesite=strict") != std::string::npos, set_cookie);
  BOOST_TEST(Lower(set_cookie).find("partitioned") == std::string::npos, set_cookie);
  const testing::HttpHeaders cookie = {{"Cookie", CookiePair(set_cookie)}};

  HttpClient browser(server.port());
  const auto send = [&](const std::string& method, const std::string& path,
                        const std::string& body = "") {
    return browser.Send({.method = method, .path = path, .headers = cookie, .body = body});
  };
  BOOST_TEST(send("GET", "/api/v1/session").Json()->getValue<std::string>("user") == "1001");
  BOOST_TEST(send("PUT", "/api/v1/agents/1001/state", R"({"label": "Lunch"})").status == 200);
  HttpResponse own = send("GET", "/api/v1/agents/1001");
  BOOST_TEST(own.status == 200);
  BOOST_TEST(own.Json()->getValue<std::string>("source") == "agent");
  for (const auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/api/v1/agents/1002", ""},
           {"PUT", "/api/v1/agents/1002/state", R"({"label": "Lunch"})"},
           {"GET", "/api/v1/agents", ""},
           {"POST", "/api/v1/agents/1002/override", R"({"label": "Lunch"})"}}) {
    BOOST_TEST_CONTEXT(method << " " << path) {
      HttpResponse refused = send(method, path, body);
      BOOST_TEST(refused.status == 403, refused.body);
      BOOST_TEST(refused.body.find("\"forbidden\"") != std::string::npos);
    }
  }
  BOOST_TEST(server.Client()
                 .Get("/api/v1/agents/1002", server.tokens().supervisor)
                 .Json()
                 ->isNull("state"));  // nothing changed for 1002

  // An integration token still gets no browser session: it uses its token.
  HttpResponse integration =
      http.Post("/api/v1/session", "", R"({"token": ")" + server.tokens().integration + "\"}");
  BOOST_TEST(integration.status == 403);
  BOOST_TEST(integration.Header("Set-Cookie").empty());
  BOOST_TEST(integration.body.find("agent, supervisor and admin") != std::string::npos,
             integration.body);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::agent
