// Salesforce wire formats (integrations.md 3) byte for byte: token requests and answers, JWT
// assertions, error arrays, platform event receipts, sObject Collections and Composite.

#include "connectors/salesforce/salesforce_protocol.h"

#include <Poco/JSON/Parser.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/base64.h"
#include "tests/fakes/fake_salesforce.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;

using testing::SharedRsaKeyPair;
using testing::VerifyRs256;

// `private_pem` encrypted with AES-256 under the pass phrase "secret" (PKCS#8).
std::string EncryptedPem(const std::string& private_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  char pass[] = "secret";
  BOOST_TEST_REQUIRE(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), pass, 6,
                                                   nullptr, nullptr) == 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::vector<std::string> SplitDots(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = text.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(text.substr(start, dot - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

struct NameCase {
  std::string name;
  std::string suffix;
  bool valid;
};
std::ostream& operator<<(std::ostream& out, const NameCase& c) {
  return out << c.name << " (suffix '" << c.suffix << "')";
}

struct IdCase {
  std::string id;
  std::string prefix;
  bool valid;
};
std::ostream& operator<<(std::ostream& out, const IdCase& c) {
  return out << c.id << " (prefix " << c.prefix << ")";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(salesforce_protocol_test)

// ---- OAuth -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(client_credentials_body_is_the_form_of_3_1) {
  BOOST_TEST(ClientCredentialsBody("3MVG9.key_A", "s3cr&t=+") ==
             "grant_type=client_credentials&client_id=3MVG9.key_A&client_secret=s3cr%26t%3D%2B");
}

BOOST_AUTO_TEST_CASE(jwt_bearer_body_encodes_the_grant_type_urn) {
  BOOST_TEST(JwtBearerBody("aGVhZA.Y2xhaW1z.c2ln") ==
             "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
             "&assertion=aGVhZA.Y2xhaW1z.c2ln");
}

// The decoded header and claims of an assertion; empty strings when it is not three
// canonical base64url parts.
std::vector<std::string> DecodedParts(const std::string& assertion) {
  std::vector<std::string> decoded;
  for (const std::string& part : SplitDots(assertion)) {
    decoded.push_back(Base64UrlDecode(part).value_or(""));
  }
  return decoded;
}

BOOST_AUTO_TEST_CASE(jwt_header_and_claims_are_the_json_of_3_2) {
  JwtClaims claims{"3MVG9.key", "agent\"sync@example.com", "https://login.salesforce.com",
                   1700000120};
  Result<std::string> assertion = JwtAssertion(claims, SharedRsaKeyPair().private_pem);
  BOOST_TEST_REQUIRE(assertion.ok());
  std::vector<std::string> parts = DecodedParts(*assertion);
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  BOOST_TEST(parts[0] == R"({"alg":"RS256"})");
  BOOST_TEST(parts[1] == R"({"iss":"3MVG9.key","sub":"agent\"sync@example.com",)"
                         R"("aud":"https://login.salesforce.com","exp":1700000120})");
}

// What a configuration could slip in: the claims stay valid JSON in valid UTF-8 that reads
// back as the configured text (bytes that are not UTF-8 become U+FFFD).
BOOST_AUTO_TEST_CASE(jwt_claims_with_odd_text_stay_valid_json) {
  JwtClaims claims{"key\x01\x1f\t/\\", "caf\xc3\xa9@example.com", "https://x\xc3", 1};
  Result<std::string> assertion = JwtAssertion(claims, SharedRsaKeyPair().private_pem);
  BOOST_TEST_REQUIRE(assertion.ok());
  std::vector<std::string> parts = DecodedParts(*assertion);
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  // Poco writes control characters with upper-case hex (\u001F); JsonWriter wrote \u001f.
  BOOST_TEST(parts[1] == R"({"iss":"key\u0001\u001F\t/\\","sub":"caf)"
                         "\xc3\xa9"
                         R"(@example.com","aud":"https://x)"
                         "\xef\xbf\xbd"
                         R"(","exp":1})");
  Poco::JSON::Object::Ptr read =
      Poco::JSON::Parser().parse(parts[1]).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(read->getValue<std::string>("iss") == claims.issuer);
  BOOST_TEST(read->getValue<std::string>("sub") == claims.subject);
  BOOST_TEST(read->getValue<std::string>("aud") == "https://x\xef\xbf\xbd");
}

BOOST_AUTO_TEST_CASE(jwt_assertion_parts_decode_to_the_claims_and_the_signature_verifies) {
  JwtClaims claims{"3MVG9.key", "sync@example.com", "https://test.salesforce.com", 1700000120};
  Result<std::string> assertion = JwtAssertion(claims, SharedRsaKeyPair().private_pem);
  BOOST_TEST_REQUIRE(assertion.ok());
  std::vector<std::string> parts = SplitDots(*assertion);
  BOOST_TEST_REQUIRE(parts.size() == 3u);
  for (const std::string& part : parts) {
    // base64url, unpadded, in its canonical spelling
    BOOST_TEST(part.find_first_of("+/=") == std::string::npos, part);
    BOOST_TEST(Base64UrlDecode(part).has_value(), part);
  }
  BOOST_TEST(Base64UrlDecode(parts[0]).value_or("") == R"({"alg":"RS256"})");
  BOOST_TEST(Base64UrlDecode(parts[1]).value_or("") ==
             R"({"iss":"3MVG9.key","sub":"sync@example.com",)"
             R"("aud":"https://test.salesforce.com","exp":1700000120})");
  std::string signature = Base64UrlDecode(parts[2]).value_or("");
  BOOST_TEST(signature.size() == 256u);  // RSA-2048
  BOOST_TEST(VerifyRs256(parts[0] + "." + parts[1], signature, SharedRsaKeyPair().public_pem));
  // Changing the claims or using another key breaks the signature.
  JwtClaims other = claims;
  other.subject = "admin@example.com";
  Result<std::string> forged = JwtAssertion(other, SharedRsaKeyPair().private_pem);
  BOOST_TEST_REQUIRE(forged.ok());
  std::vector<std::string> forged_parts = SplitDots(*forged);
  BOOST_TEST_REQUIRE(forged_parts.size() == 3u);
  BOOST_TEST(!VerifyRs256(forged_parts[0] + "." + forged_parts[1], signature,
                          SharedRsaKeyPair().public_pem));
  testing::RsaKeyPair stranger = testing::GenerateRsaKeyPair();
  BOOST_TEST(!VerifyRs256(parts[0] + "." + parts[1], signature, stranger.public_pem));
}

BOOST_AUTO_TEST_CASE(private_keys_must_be_unencrypted_rsa_pem) {
  BOOST_TEST(CheckRsaPrivateKey(SharedRsaKeyPair().private_pem).ok());
  for (const std::string& bad : {std::string("not a key"), SharedRsaKeyPair().public_pem,
                                 std::string(), EncryptedPem(SharedRsaKeyPair().private_pem)}) {
    Status status = CheckRsaPrivateKey(bad);
    BOOST_TEST_REQUIRE(!status.ok());
    BOOST_TEST(status.error().message == "not an unencrypted RSA private key in PEM form");
    Result<std::string> assertion = JwtAssertion(JwtClaims{"k", "u", "https://a", 1}, bad);
    BOOST_TEST_REQUIRE(!assertion.ok());
    BOOST_TEST(assertion.error().message == "not an unencrypted RSA private key in PEM form");
  }
}

BOOST_AUTO_TEST_CASE(token_answer_gives_the_token_and_instance_url_but_no_expiry) {
  Result<AccessToken> token = ParseTokenResponse(
      200, R"({"access_token":"00Dxx0000001gPF!AQ4AQFdo","signature":"s","scope":"api",)"
           R"("instance_url":"https://yourorg.my.salesforce.com/","id":"https://x/id/00D/005",)"
           R"("token_type":"Bearer","issued_at":"1700000000000"})");
  BOOST_TEST_REQUIRE(token.ok());
  BOOST_TEST(token->value == "00Dxx0000001gPF!AQ4AQFdo");
  BOOST_TEST(token->instance_url == "https://yourorg.my.salesforce.com");
  BOOST_TEST(!token->expires_at.has_value());
}

BOOST_AUTO_TEST_CASE(token_answers_without_token_or_instance_url_are_errors) {
  for (const char* body :
       {R"({"instance_url":"https://x.my.salesforce.com"})", R"({"access_token":"t"})",
        R"({"access_token":"t","instance_url":"x"})", "<html>", ""}) {
    Result<AccessToken> token = ParseTokenResponse(200, body);
    BOOST_TEST_REQUIRE(!token.ok(), body);
    BOOST_TEST(token.error().code == "bad_response");
  }
}

BOOST_AUTO_TEST_CASE(token_refusals_carry_the_oauth_error_and_description) {
  Result<AccessToken> refused = ParseTokenResponse(
      400,
      R"({"error":"invalid_grant","error_description":"request not supported on this domain"})");
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == "invalid_grant");
  BOOST_TEST(
      refused.error().message ==
      "token request refused: HTTP 400 invalid_grant (request not supported on this domain)");
  Result<AccessToken> opaque = ParseTokenResponse(503, "Service Unavailable");
  BOOST_TEST_REQUIRE(!opaque.ok());
  BOOST_TEST(opaque.error().code == "token_refused");
  BOOST_TEST(opaque.error().message == "token request refused: HTTP 503");
}

// ---- errors and results ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rest_error_arrays_give_code_message_and_fields) {
  std::vector<SalesforceError> errors = ParseErrorArray(
      R"([{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING",)"
      R"("fields":["Name"]},{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  BOOST_TEST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(errors[0].code == "REQUIRED_FIELD_MISSING");
  BOOST_TEST(errors[0].message == "Required fields are missing: [Name]");
  BOOST_TEST(errors[0].fields == std::vector<std::string>{"Name"});
  BOOST_TEST(errors[1].code == "INVALID_SESSION_ID");
  BOOST_TEST(errors[1].fields.empty());
  BOOST_TEST(DescribeErrors(errors) ==
             "REQUIRED_FIELD_MISSING: Required fields are missing: [Name] (fields: Name); "
             "INVALID_SESSION_ID: Session expired or invalid");
}

BOOST_AUTO_TEST_CASE(bodies_that_are_not_error_arrays_give_no_errors) {
  for (const char* body : {"", "<html>502</html>", R"({"errorCode":"X"})", "[1,2]", "[]"}) {
    BOOST_TEST(ParseErrorArray(body).empty(), body);
  }
}

BOOST_AUTO_TEST_CASE(platform_event_receipt_is_success_and_operation_enqueued_is_not_an_error) {
  Result<SaveResult> result = ParseSaveResult(
      R"({"id":"e01xx0000000001AAA","success":true,"errors":[{"statusCode":"OPERATION_ENQUEUED",)"
      R"("message":"232fd30e-0a71-42bd-a97b-be0e329b2ded","fields":[]}]})");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(result->success);
  BOOST_TEST(result->id == "e01xx0000000001AAA");
  BOOST_TEST(result->errors.size() == 1u);
  BOOST_TEST(RealErrors(*result).empty());
  BOOST_TEST(EnqueuedEventUuid(*result) == "232fd30e-0a71-42bd-a97b-be0e329b2ded");
}

BOOST_AUTO_TEST_CASE(failed_save_result_keeps_its_real_errors) {
  Result<SaveResult> result = ParseSaveResult(
      R"({"success":false,"errors":[{"statusCode":"OPERATION_ENQUEUED","message":"u","fields":[]},)"
      R"({"statusCode":"INVALID_FIELD","message":"bad","fields":["Label__c"]}]})");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(!result->success);
  std::vector<SalesforceError> real = RealErrors(*result);
  BOOST_TEST_REQUIRE(real.size() == 1u);
  BOOST_TEST(real[0].code == "INVALID_FIELD");
  BOOST_TEST(!ParseSaveResult(R"({"id":"x"})").ok());  // no success flag
  BOOST_TEST(!ParseSaveResult("[]").ok());
}

// ---- sObject Collections -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(collection_upsert_path_and_body_are_the_form_of_3_4) {
  BOOST_TEST(CollectionUpsertPath("Agent_Presence__c", "Agent_Key__c") ==
             "/composite/sobjects/Agent_Presence__c/Agent_Key__c");
  std::vector<Fields> records = {
      {{"Agent_Key__c", std::string("1001")},
       {"Status__c", std::string("DND")},
       {"Seconds__c", 95.5}},
      {{"Agent_Key__c", std::string("1002")}, {"Status__c", nullptr}, {"Calls__c", 3LL}},
  };
  Result<std::string> body = CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", records);
  BOOST_TEST_REQUIRE(body.ok());
  BOOST_TEST(*body == R"({"allOrNone":false,"records":[)"
                      R"({"attributes":{"type":"Agent_Presence__c"},"Agent_Key__c":"1001",)"
                      R"("Status__c":"DND","Seconds__c":95.5},)"
                      R"({"attributes":{"type":"Agent_Presence__c"},"Agent_Key__c":"1002",)"
                      R"("Status__c":null,"Calls__c":3}]})");
}

BOOST_AUTO_TEST_CASE(collection_upsert_refuses_what_salesforce_would) {
  Fields good = {{"Agent_Key__c", std::string("1001")}};
  std::vector<Fields> too_many(kMaxCollectionRecords + 1, good);
  BOOST_TEST(CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c",
                                  std::vector<Fields>(kMaxCollectionRecords, good))
                 .ok());
  BOOST_TEST(CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", too_many).error().message ==
             "an upsert takes 1-200 records, got 201");
  BOOST_TEST(!CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", {}).ok());
  std::vector<Fields> keyless = {good, {{"Status__c", std::string("DND")}}};
  BOOST_TEST(CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", keyless).error().message ==
             "record 1 has no Agent_Key__c");
  std::vector<Fields> null_key = {{{"Agent_Key__c", nullptr}}};
  BOOST_TEST(!CollectionUpsertBody("Agent_Presence__c", "Agent_Key__c", null_key).ok());
  BOOST_TEST(
      !CollectionUpsertBody("Agent Presence", "Agent_Key__c", std::vector<Fields>{good}).ok());
}

BOOST_AUTO_TEST_CASE(collection_results_align_to_the_input_and_read_status_code) {
  Result<std::vector<SaveResult>> results = ParseCollectionResults(
      R"([{"id":"a01000000000001AAA","success":true,"errors":[],"created":true},)"
      R"({"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"m",)"
      R"("fields":["Name"]}]},{"id":"a01000000000002AAA","success":true,"errors":[],"created":false}])",
      3);
  BOOST_TEST_REQUIRE(results.ok());
  BOOST_TEST((*results)[0].success);
  BOOST_TEST(((*results)[0].created == std::optional<bool>(true)));
  BOOST_TEST(!(*results)[1].success);
  BOOST_TEST_REQUIRE((*results)[1].errors.size() == 1u);
  BOOST_TEST((*results)[1].errors[0].code == "REQUIRED_FIELD_MISSING");
  BOOST_TEST((*results)[1].errors[0].fields == std::vector<std::string>{"Name"});
  BOOST_TEST(((*results)[2].created == std::optional<bool>(false)));
  BOOST_TEST(!ParseCollectionResults(R"([{"success":true,"errors":[]}])", 2).ok());
  BOOST_TEST(!ParseCollectionResults(R"({"success":true})", 1).ok());
}

// ---- Composite ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(composite_body_is_the_example_of_3_4) {
  std::vector<CompositeSubrequest> subrequests = {
      {"PATCH", "/services/data/v59.0/sobjects/Agent_Presence__c/Agent_Key__c/1001", "pres",
       FieldsJson({{"Status__c", std::string("DND")}})},
      {"POST", "/services/data/v59.0/sobjects/Presence_Event__e", "evt",
       FieldsJson({{"Agent_Key__c", std::string("1001")}, {"Status__c", std::string("DND")}})},
  };
  Result<std::string> body = CompositeBody(subrequests, true);
  BOOST_TEST_REQUIRE(body.ok());
  BOOST_TEST(*body == R"({"allOrNone":true,"compositeRequest":[)"
                      R"({"method":"PATCH","url":"/services/data/v59.0/sobjects/Agent_Presence__c/)"
                      R"(Agent_Key__c/1001","referenceId":"pres","body":{"Status__c":"DND"}},)"
                      R"({"method":"POST","url":"/services/data/v59.0/sobjects/Presence_Event__e",)"
                      R"("referenceId":"evt","body":{"Agent_Key__c":"1001","Status__c":"DND"}}]})");
}

BOOST_AUTO_TEST_CASE(composite_body_refuses_too_many_or_duplicate_references) {
  CompositeSubrequest one{"GET", "/services/data/v59.0/limits", "a", std::nullopt};
  BOOST_TEST(CompositeBody(std::vector{one}, false).value() ==
             R"({"allOrNone":false,"compositeRequest":[)"
             R"({"method":"GET","url":"/services/data/v59.0/limits","referenceId":"a"}]})");
  std::vector<CompositeSubrequest> many(kMaxCompositeSubrequests + 1, one);
  for (std::size_t i = 0; i < many.size(); ++i) many[i].reference_id = "r" + std::to_string(i);
  BOOST_TEST(CompositeBody(many, false).error().message ==
             "a composite request takes 1-25 subrequests, got 26");
  BOOST_TEST(!CompositeBody(std::vector{one, one}, false).ok());
  one.reference_id = "has space";
  BOOST_TEST(!CompositeBody(std::vector{one}, false).ok());
}

BOOST_AUTO_TEST_CASE(composite_response_gives_each_status_body_and_errors) {
  Result<std::vector<CompositeSubresponse>> responses = ParseCompositeResponse(
      R"({"compositeResponse":[{"body":{"id":"a01","success":true,"errors":[],"created":true},)"
      R"("httpHeaders":{},"httpStatusCode":201,"referenceId":"pres"},)"
      R"({"body":[{"errorCode":"PROCESSING_HALTED","message":"rolled back"}],"httpHeaders":{},)"
      R"("httpStatusCode":400,"referenceId":"evt"},)"
      R"({"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"upd"}]})");
  BOOST_TEST_REQUIRE(responses.ok());
  BOOST_TEST_REQUIRE(responses->size() == 3u);
  BOOST_TEST((*responses)[0].http_status == 201);
  BOOST_TEST((*responses)[0].reference_id == "pres");
  BOOST_TEST((ParseSaveResult((*responses)[0].body_json)->created == std::optional<bool>(true)));
  BOOST_TEST((*responses)[0].errors.empty());
  BOOST_TEST((*responses)[1].http_status == 400);
  BOOST_TEST_REQUIRE((*responses)[1].errors.size() == 1u);
  BOOST_TEST((*responses)[1].errors[0].code == "PROCESSING_HALTED");
  BOOST_TEST((*responses)[2].body_json == "null");
  BOOST_TEST(!ParseCompositeResponse(R"({"results":[]})").ok());
}

// ---- JSON, names, ids, limits ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(field_json_escapes_only_what_json_requires) {
  Fields fields = {{"A__c", std::string("say \"hi\"\\ \n\t\x01 Mittagspause \xC3\xA4 / <")},
                   {"B__c", true},
                   {"C__c", nullptr},
                   {"D__c", -7LL},
                   {"E__c", 0.125}};
  BOOST_TEST(FieldsJson(fields) ==
             "{\"A__c\":\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 Mittagspause \xC3\xA4 / <\","
             "\"B__c\":true,\"C__c\":null,\"D__c\":-7,\"E__c\":0.125}");
  BOOST_TEST(FieldsJson({}) == "{}");
  // What we write is what a JSON parser reads back.
  Poco::JSON::Parser parser;
  auto parsed = parser.parse(FieldsJson(fields)).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(parsed->getValue<std::string>("A__c") ==
             "say \"hi\"\\ \n\t\x01 Mittagspause \xC3\xA4 / <");
}

const std::vector<NameCase> kNames = {
    {"Presence_Agent_Status__e", "__e", true},
    {"ns__Presence_Agent_Status__e", "__e", true},
    {"Agent_Status__c", "__e", false},
    {"Presence Agent__e", "__e", false},
    {"Presence__Agent__e", "__e", true},  // namespace "Presence", name "Agent"
    {"_Status__e", "__e", false},
    {"Status___e", "__e", false},
    {"1Status__e", "__e", false},
    {"__e", "__e", false},
    {"Status__E", "__e", false},
    {"Agent_Key__c", "", true},
    {"Id", "", true},
    {"Account", "", true},
    {"Agent__Key__c", "", true},
    {"Agent_Key__", "", false},
    {"Agent-Key__c", "", false},
    {"A2345678901234567890123456789012345678901__c", "", false},  // 41 characters
};

BOOST_DATA_TEST_CASE(api_names_follow_salesforce_rules, data::make(kNames), c) {
  BOOST_TEST(IsApiName(c.name, c.suffix) == c.valid);
}

const std::vector<IdCase> kIds = {
    {"005000000000001", "005", true},     {"005000000000001AAA", "005", true},
    {"005000000000001aaa", "005", true},  // the checksum is case-insensitive
    {"005000000000001AAB", "005", false}, {"0050000000000", "005", false},
    {"00Q000000000001", "005", false},    {"0N5000000000002", "0N5", true},
    {"0N5000000000002CAA", "0N5", true},  {"0N5000000000002AAA", "0N5", false},
    {"0N5-00000000002", "0N5", false},    {"001A0000006Vm9rIAC", "001", true},
};

BOOST_DATA_TEST_CASE(ids_are_15_or_18_characters_with_their_prefix_and_checksum, data::make(kIds),
                     c) {
  BOOST_TEST(IsSalesforceId(c.id, c.prefix) == c.valid);
}

BOOST_AUTO_TEST_CASE(fifteen_character_ids_gain_their_case_checksum) {
  BOOST_TEST(To18CharId("001A0000006Vm9r") == "001A0000006Vm9rIAC");
  BOOST_TEST(To18CharId("0N5000000000002") == "0N5000000000002CAA");
  BOOST_TEST(To18CharId("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC");
}

BOOST_AUTO_TEST_CASE(limit_info_gives_the_org_api_usage) {
  auto usage = ParseLimitInfo("api-usage=18/15000");
  BOOST_TEST_REQUIRE(usage.has_value());
  BOOST_TEST(usage->used == 18);
  BOOST_TEST(usage->max == 15000);
  usage = ParseLimitInfo("per-app-api-usage=17/250(appName=sync); api-usage=25/5000");
  BOOST_TEST_REQUIRE(usage.has_value());
  BOOST_TEST(usage->used == 25);
  BOOST_TEST(!ParseLimitInfo("per-app-api-usage=17/250").has_value());
  BOOST_TEST(!ParseLimitInfo("api-usage=abc").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
