// The Graph presence wire format (integrations.md 1.1-1.6) byte for byte, the pairs each call
// accepts, and the default mapping from a presence state to a Teams presence (2.1).

#include "connectors/teams/teams_protocol.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/fakes/test_json.h"

namespace presence::connectors {

// Internal linkage: another test file may print pairs too.
static std::ostream& operator<<(std::ostream& out, const PresencePair& pair) {
  return out << PairText(pair);
}

namespace {

namespace data = boost::unit_test::data;
using reasoncodes::Mode;
using reasoncodes::StatusCode;
using std::chrono::seconds;
using testing::ParseObject;

constexpr std::string_view kClientId = "22553876-f5ab-4529-bffb-cfe50aa89f87";

struct StatusCase {
  int status;
  PresencePair pair;
};
std::ostream& operator<<(std::ostream& out, const StatusCase& c) {
  return out << "status " << c.status << " -> " << c.pair;
}

struct SkypeCase {
  std::string code;
  PresencePair pair;
};
std::ostream& operator<<(std::ostream& out, const SkypeCase& c) {
  return out << c.code << " -> " << c.pair;
}

struct DurationCase {
  std::string text;
  long long seconds;
};
std::ostream& operator<<(std::ostream& out, const DurationCase& c) { return out << c.text; }

// Seed 004's status codes 1-7 when no mapping and no Skype for Business code applies.
const std::vector<StatusCase> kStatusCases = {
    {1, {"Available", "Available"}},       {2, {"Offline", "OffWork"}}, {3, {"Away", "Away"}},
    {4, {"DoNotDisturb", "DoNotDisturb"}}, {5, {"Busy", "Busy"}},       {6, {"Busy", "InACall"}},
    {7, {"Offline", "OffWork"}},
};

// Section 2.1's publishable availability numbers.
const std::vector<SkypeCase> kSkypeCases = {
    {"3500", {"Available", "Available"}},
    {"6500", {"Busy", "Busy"}},
    {"9500", {"DoNotDisturb", "DoNotDisturb"}},
    {"12500", {"BeRightBack", "BeRightBack"}},
    {"15500", {"Away", "Away"}},
    {"18500", {"Offline", "OffWork"}},
};

const std::vector<DurationCase> kDurations = {
    {"PT5M", 300},      {"PT1H", 3600}, {"PT4H", 14400},   {"PT1H30M", 5400}, {"PT90S", 90},
    {"PT1H2M3S", 3723}, {"P1D", 86400}, {"P1DT2H", 93600}, {"PT0S", 0},       {"PT8H", 28800},
};

const std::vector<std::string> kNotDurations = {
    "",       "P",      "PT",  "1H",  "pt1h",  "PT1h", "PT1.5H",        "PT-5M",
    "PT5M1H", "PT1H1H", "PT5", "P1H", "PT 5M", "P1DT", "PT1234567890S", "T1H",
};

StatusCode Status(int number) { return static_cast<StatusCode>(number); }

}  // namespace

BOOST_AUTO_TEST_SUITE(teams_protocol_test)

BOOST_AUTO_TEST_CASE(token_form_is_client_credentials_with_the_graph_default_scope) {
  BOOST_TEST(GraphTokenForm(kClientId, "a+b/c=d&e f") ==
             "client_id=22553876-f5ab-4529-bffb-cfe50aa89f87"
             "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
             "&client_secret=a%2Bb%2Fc%3Dd%26e%20f"
             "&grant_type=client_credentials");
}

BOOST_AUTO_TEST_CASE(token_url_is_login_url_tenant_and_the_v2_token_path) {
  BOOST_TEST(GraphTokenUrl("https://login.microsoftonline.com", "contoso.onmicrosoft.com") ==
             "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
}

BOOST_AUTO_TEST_CASE(token_answer_gives_the_token_and_its_lifetime) {
  Result<GraphToken> token = ParseGraphTokenResponse(
      200, R"({ "token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0eXAiOi..." })");
  BOOST_TEST_REQUIRE(token.ok());
  BOOST_TEST(token->access_token == "eyJ0eXAiOi...");
  BOOST_TEST(token->expires_in.count() == 3599);
}

BOOST_AUTO_TEST_CASE(token_answer_with_expires_in_as_text_is_read) {
  Result<GraphToken> token = ParseGraphTokenResponse(
      200, R"({"token_type":"bearer","expires_in":"3600","access_token":"t"})");
  BOOST_TEST_REQUIRE(token.ok());
  BOOST_TEST(token->expires_in.count() == 3600);
}

BOOST_AUTO_TEST_CASE(token_refusal_gives_the_aad_error_code_and_description) {
  Result<GraphToken> token = ParseGraphTokenResponse(401, R"({
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided.",
    "error_codes": [7000215], "timestamp": "2016-01-09 02:02:12Z",
    "trace_id": "255d1aef", "correlation_id": "fb3d2015"})");
  BOOST_TEST_REQUIRE(!token.ok());
  BOOST_TEST(token.error().code == "invalid_client");
  BOOST_TEST(token.error().message ==
             "token request refused (HTTP 401 invalid_client): AADSTS7000215: Invalid client "
             "secret provided.");
}

BOOST_AUTO_TEST_CASE(token_refusal_without_aad_json_still_names_the_status) {
  Result<GraphToken> token = ParseGraphTokenResponse(502, "<html>Bad gateway</html>");
  BOOST_TEST_REQUIRE(!token.ok());
  BOOST_TEST(token.error().code == "token_refused");
  BOOST_TEST(token.error().message == "token request refused (HTTP 502 token_refused)");
}

BOOST_DATA_TEST_CASE(token_answer_without_a_usable_token_is_unreadable,
                     data::make(std::vector<std::string>{
                         "not json",
                         "[]",
                         R"({"token_type":"Bearer","expires_in":3599})",
                         R"({"token_type":"Bearer","access_token":"t"})",
                         R"({"token_type":"Bearer","expires_in":0,"access_token":"t"})",
                         R"({"token_type":"Bearer","expires_in":"soon","access_token":"t"})",
                         R"({"token_type":"PoP","expires_in":3599,"access_token":"secret-tok"})",
                     }),
                     body) {
  Result<GraphToken> token = ParseGraphTokenResponse(200, body);
  BOOST_TEST_REQUIRE(!token.ok());
  BOOST_TEST(token.error().code == "bad_token_response");
  BOOST_TEST(token.error().message.find("secret-tok") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(set_presence_body_is_the_documented_example) {
  BOOST_TEST(SetPresenceBody(kClientId, {"Busy", "InACall"}, seconds(3600)) ==
             R"({"sessionId":"22553876-f5ab-4529-bffb-cfe50aa89f87","availability":"Busy",)"
             R"("activity":"InACall","expirationDuration":"PT1H"})");
}

BOOST_AUTO_TEST_CASE(set_presence_body_writes_the_expiration_in_canonical_form) {
  BOOST_TEST(SetPresenceBody(kClientId, {"Available", "Available"}, seconds(5400)) ==
             R"({"sessionId":"22553876-f5ab-4529-bffb-cfe50aa89f87","availability":"Available",)"
             R"("activity":"Available","expirationDuration":"PT1H30M"})");
}

BOOST_AUTO_TEST_CASE(set_presence_body_escapes_what_json_needs_escaped) {
  BOOST_TEST(SetPresenceBody("a\"b\\c\n", {"Away", "Away"}, seconds(300)) ==
             R"({"sessionId":"a\"b\\c\n","availability":"Away","activity":"Away",)"
             R"("expirationDuration":"PT5M"})");
}

BOOST_AUTO_TEST_CASE(preferred_presence_body_is_the_documented_example) {
  BOOST_TEST(SetUserPreferredPresenceBody({"DoNotDisturb", "DoNotDisturb"}, seconds(8 * 3600)) ==
             R"({"availability":"DoNotDisturb","activity":"DoNotDisturb",)"
             R"("expirationDuration":"PT8H"})");
}

BOOST_AUTO_TEST_CASE(preferred_presence_body_without_expiration_omits_it) {
  BOOST_TEST(SetUserPreferredPresenceBody({"Offline", "OffWork"}, std::nullopt) ==
             R"({"availability":"Offline","activity":"OffWork"})");
}

BOOST_AUTO_TEST_CASE(clear_bodies_are_an_empty_object_and_the_session_id) {
  BOOST_TEST(ClearUserPreferredPresenceBody() == "{}");
  BOOST_TEST(ClearPresenceBody(kClientId) ==
             R"({"sessionId":"22553876-f5ab-4529-bffb-cfe50aa89f87"})");
}

BOOST_AUTO_TEST_CASE(presence_url_is_graph_url_user_and_action) {
  BOOST_TEST(GraphPresenceUrl("https://graph.microsoft.com/v1.0",
                              "fa8bf3dc-eca7-46b7-bad1-db199b62afc3", "setPresence") ==
             "https://graph.microsoft.com/v1.0/users/fa8bf3dc-eca7-46b7-bad1-db199b62afc3/"
             "presence/setPresence");
}

BOOST_AUTO_TEST_CASE(graph_error_envelope_gives_code_message_and_inner_code) {
  GraphError error = ParseGraphError(
      R"({"error":{"code":"TooManyRequests","message":"Too many requests.",)"
      R"("innerError":{"code":"throttled","date":"2022-12-22T08:00:18","request-id":"r"}}})");
  BOOST_TEST(error.code == "TooManyRequests");
  BOOST_TEST(error.message == "Too many requests.");
  BOOST_TEST(error.inner_code == "throttled");
}

BOOST_DATA_TEST_CASE(a_body_that_is_not_an_error_envelope_has_no_code,
                     data::make(std::vector<std::string>{"", "oops", "{}", R"({"error":"x"})",
                                                         R"({"error":{"message":7}})"}),
                     body) {
  GraphError error = ParseGraphError(body);
  BOOST_TEST(error.code.empty());
  BOOST_TEST(error.inner_code.empty());
}

BOOST_DATA_TEST_CASE(iso_durations_parse_to_seconds, data::make(kDurations), c) {
  std::optional<seconds> parsed = ParseIsoDuration(c.text);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->count() == c.seconds);
}

BOOST_DATA_TEST_CASE(malformed_iso_durations_are_refused, data::make(kNotDurations), text) {
  BOOST_TEST(!ParseIsoDuration(text).has_value());
}

BOOST_DATA_TEST_CASE(durations_format_in_the_shortest_canonical_form,
                     data::make(std::vector<long long>{0, 90, 300, 3600, 3723, 5400, 14400}) ^
                         data::make(std::vector<std::string>{"PT0S", "PT1M30S", "PT5M", "PT1H",
                                                             "PT1H2M3S", "PT1H30M", "PT4H"}),
                     count, text) {
  BOOST_TEST(FormatIsoDuration(seconds(count)) == text);
  BOOST_TEST(ParseIsoDuration(text)->count() == count);
}

BOOST_AUTO_TEST_CASE(set_presence_expiration_range_is_five_minutes_to_four_hours) {
  BOOST_TEST(FormatIsoDuration(kMinExpiration) == "PT5M");
  BOOST_TEST(FormatIsoDuration(kMaxExpiration) == "PT4H");
}

BOOST_AUTO_TEST_CASE(set_presence_accepts_exactly_the_documented_pairs) {
  BOOST_TEST(PairList(kSetPresencePairs) ==
             "Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, "
             "DoNotDisturb/Presenting");
  BOOST_TEST(IsSetPresencePair({"Busy", "InACall"}));
  BOOST_TEST(!IsSetPresencePair({"Busy", "Busy"}));
  BOOST_TEST(!IsSetPresencePair({"DoNotDisturb", "DoNotDisturb"}));
}

BOOST_AUTO_TEST_CASE(preferred_presence_accepts_exactly_the_documented_pairs) {
  BOOST_TEST(PairList(kPreferredPresencePairs) ==
             "Available/Available, Busy/Busy, DoNotDisturb/DoNotDisturb, "
             "BeRightBack/BeRightBack, Away/Away, Offline/OffWork");
  BOOST_TEST(IsPreferredPresencePair({"Offline", "OffWork"}));
  BOOST_TEST(!IsPreferredPresencePair({"Busy", "InACall"}));
}

BOOST_AUTO_TEST_CASE(finding_a_pair_is_case_sensitive_and_covers_both_tables) {
  BOOST_TEST(FindPresencePair("Busy", "InAConferenceCall").has_value());
  BOOST_TEST(FindPresencePair("BeRightBack", "BeRightBack").has_value());
  BOOST_TEST(!FindPresencePair("busy", "busy").has_value());
  BOOST_TEST(!FindPresencePair("Busy", "InAMeeting").has_value());
}

BOOST_DATA_TEST_CASE(each_status_has_its_default_pair, data::make(kStatusCases), c) {
  BOOST_TEST(StatusPresencePair(Status(c.status)) == c.pair);
  BOOST_TEST(ChoosePresencePair(std::nullopt, "*60", Status(c.status), Mode::kDialCommand) ==
             c.pair);
}

BOOST_DATA_TEST_CASE(each_skype_for_business_code_is_its_availability, data::make(kSkypeCases), c) {
  BOOST_TEST((SkypeAvailabilityPair(c.code) == std::optional<PresencePair>(c.pair)));
  // The code wins over a status that says something else (a 9500 state with status 1).
  BOOST_TEST(ChoosePresencePair(std::nullopt, c.code, StatusCode::kOnCall,
                                Mode::kSkypeForBusiness) == c.pair);
}

BOOST_DATA_TEST_CASE(skype_for_business_codes_count_only_in_skype_for_business_mode,
                     data::make(kSkypeCases), c) {
  BOOST_TEST(ChoosePresencePair(std::nullopt, c.code, StatusCode::kOnCall, Mode::kDialCommand) ==
             (PresencePair{"Busy", "InACall"}));
  BOOST_TEST(ChoosePresencePair(std::nullopt, c.code, StatusCode::kOnCall, Mode::kNone) ==
             (PresencePair{"Busy", "InACall"}));
}

BOOST_DATA_TEST_CASE(idle_and_unknown_codes_fall_back_to_the_status,
                     data::make(std::vector<std::string>{"5000", "7500", "0", "", "*61"}), code) {
  BOOST_TEST(!SkypeAvailabilityPair(code).has_value());
  BOOST_TEST(ChoosePresencePair(std::nullopt, code, StatusCode::kAway, Mode::kSkypeForBusiness) ==
             (PresencePair{"Away", "Away"}));
}

BOOST_DATA_TEST_CASE(an_explicit_mapping_wins_over_code_and_status, data::make(kSkypeCases), c) {
  PresencePair mapping{"Busy", "InAConferenceCall"};
  BOOST_TEST(ChoosePresencePair(mapping, c.code, StatusCode::kOnline, Mode::kSkypeForBusiness) ==
             mapping);
}

BOOST_AUTO_TEST_CASE(a_mapping_block_reads_to_its_pair) {
  json::Problems problems;
  std::optional<PresencePair> pair = ReadTeamsMapping(
      *ParseObject(R"({"availability": "BeRightBack", "activity": "BeRightBack"})"),
      "states[1].mappings.teams", problems);
  BOOST_TEST(problems.empty());
  BOOST_TEST((pair == std::optional<PresencePair>(PresencePair{"BeRightBack", "BeRightBack"})));
}

BOOST_AUTO_TEST_CASE(a_pair_no_call_accepts_is_reported_with_both_lists) {
  json::Problems problems;
  std::optional<PresencePair> pair =
      ReadTeamsMapping(*ParseObject(R"({"availability": "Busy", "activity": "InAMeeting"})"),
                       "states[1].mappings.teams", problems);
  BOOST_TEST(!pair.has_value());
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems[0] ==
             "states[1].mappings.teams: Busy/InAMeeting is accepted neither by setPresence "
             "(Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, "
             "DoNotDisturb/Presenting) nor by setUserPreferredPresence (Available/Available, "
             "Busy/Busy, DoNotDisturb/DoNotDisturb, BeRightBack/BeRightBack, Away/Away, "
             "Offline/OffWork)");
}

BOOST_AUTO_TEST_CASE(a_mapping_block_reports_missing_wrong_and_unknown_keys) {
  json::Problems problems;
  ReadTeamsMapping(*ParseObject(R"({"availability": 4, "activty": "Busy"})"), "m.teams", problems);
  BOOST_TEST_REQUIRE(problems.size() == 3u);
  BOOST_TEST(problems[0].starts_with("m.teams.activty: "));
  BOOST_TEST(problems[1].starts_with("m.teams.availability: "));
  BOOST_TEST(problems[2] ==
             "m.teams.activity: missing (a Graph activity name, e.g. \"Available\")");
}

BOOST_DATA_TEST_CASE(guids_are_eight_four_four_four_twelve_hex_digits,
                     data::make(std::vector<std::string>{"22553876-f5ab-4529-bffb-cfe50aa89f87",
                                                         "FA8BF3DC-ECA7-46B7-BAD1-DB199B62AFC3"}),
                     text) {
  BOOST_TEST(IsGuid(text));
}

BOOST_DATA_TEST_CASE(other_text_is_not_a_guid,
                     data::make(std::vector<std::string>{"", "22553876f5ab4529bffbcfe50aa89f87",
                                                         "{22553876-f5ab-4529-bffb-cfe50aa89f87}",
                                                         "22553876-f5ab-4529-bffb-cfe50aa89f8g",
                                                         "22553876-f5ab-4529-bffb-cfe50aa89f877",
                                                         "22553876_f5ab-4529-bffb-cfe50aa89f87"}),
                     text) {
  BOOST_TEST(!IsGuid(text));
}

BOOST_DATA_TEST_CASE(tenant_domains_are_dotted_host_names,
                     data::make(std::vector<std::string>{"contoso.onmicrosoft.com", "example.com",
                                                         "my-org.co.uk"}),
                     text) {
  BOOST_TEST(IsTenantDomain(text));
}

BOOST_DATA_TEST_CASE(other_text_is_not_a_tenant_domain,
                     data::make(std::vector<std::string>{"", "contoso", "-a.com", "a-.com",
                                                         "a..com", "a.com.", "con toso.com",
                                                         "https://contoso.com", "a/b.com"}),
                     text) {
  BOOST_TEST(!IsTenantDomain(text));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
