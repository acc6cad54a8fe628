#pragma once

// Salesforce wire formats (integrations.md section 3), pure: request bodies are built and
// responses parsed here, byte for byte, with no sockets. The I/O lives in salesforce_client.h.
//
//   3.1 client credentials token request     ClientCredentialsBody
//   3.2 JWT bearer token request              JwtAssertion (Poco::JWT), JwtBearerBody
//       token response (no expires_in)        ParseTokenResponse
//   3.4 sObject Collections upsert, Composite CollectionUpsertBody/Path, CompositeBody, parsers
//   3.5 error arrays (errorCode)              ParseErrorArray
//   3.6 platform event publish and its 201    FieldsJson, ParseSaveResult, RealErrors

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "connectors/http/token_cache.h"

namespace presence::connectors {

// ---- JSON bodies -------------------------------------------------------------------------------

// One field of a record or event. Fields keep their order so bodies are byte for byte stable.
// A null clears the field (Salesforce stores an empty text field as null).
using FieldValue = std::variant<std::nullptr_t, bool, long long, double, std::string>;
struct Field {
  std::string name;
  FieldValue value;
};
using Fields = std::vector<Field>;

// {"A__c":"x","B__c":true}: no spaces, keys in the given order, strings escaped as
// AppendJsonString does.
std::string FieldsJson(const Fields& fields);

// ---- API names and ids -----------------------------------------------------------------------

// An API name as Salesforce builds them: a letter, then letters, digits and single
// underscores, not ending in one; "__" only before the suffix (and after a namespace prefix).
// `suffix` is "__e" (platform event), "__c" (custom object or field) or "" (any, including
// standard names such as "Id" and "Account").
bool IsApiName(std::string_view name, std::string_view suffix);

// A record id of the given key prefix ("005" users, "0N5" presence statuses): 15 characters
// (case-sensitive) or 18 (the 15 plus a 3-character case checksum, which must match).
bool IsSalesforceId(std::string_view id, std::string_view prefix);
// The 18-character form of a 15-character id (an 18-character id is returned unchanged).
std::string To18CharId(std::string_view id);

// ---- OAuth (3.1, 3.2) --------------------------------------------------------------------------

inline constexpr std::string_view kTokenPath = "/services/oauth2/token";
inline constexpr std::string_view kJwtBearerGrantType =
    "urn:ietf:params:oauth:grant-type:jwt-bearer";
// 3.2: Salesforce refuses an exp more than 3 minutes ahead of its own clock.
inline constexpr std::chrono::seconds kMaxJwtLifetime{180};

// grant_type=client_credentials&client_id=...&client_secret=... (3.1; sent to the My Domain).
std::string ClientCredentialsBody(std::string_view client_id, std::string_view client_secret);

struct JwtClaims {
  std::string issuer;     // iss: the consumer key (client_id)
  std::string subject;    // sub: the Salesforce username to act as
  std::string audience;   // aud: https://login.salesforce.com, https://test.salesforce.com, ...
  long long expires = 0;  // exp: seconds since the epoch
};

// Whether `pem` holds an unencrypted RSA private key (PKCS#8 or PKCS#1 PEM). The message of a
// failure never quotes the key.
Status CheckRsaPrivateKey(std::string_view pem);

// header.claims.signature, each part base64url without padding (3.2, RFC 7515), written and
// signed (RS256) by Poco::JWT: header {"alg":"RS256"}, claims
// {"iss":"...","sub":"...","aud":"...","exp":1700000120} in that order, no spaces. Text that is
// not UTF-8 is sent with U+FFFD in its place; control characters other than \b \f \n \r \t
// are written \u00XX with upper-case hex (Poco's spelling).
Result<std::string> JwtAssertion(const JwtClaims& claims, std::string_view private_key_pem);
// grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=...
std::string JwtBearerBody(std::string_view assertion);

// A token endpoint answer. 200: access_token and instance_url (an http(s) URL) are required;
// there is no expires_in, so expires_at stays empty (valid until a 401). Any other status:
// an error whose code is the OAuth "error" ("invalid_grant") and whose message carries the
// status and error_description.
Result<AccessToken> ParseTokenResponse(int status, std::string_view body);

// ---- REST results and errors (3.4, 3.5, 3.6) --------------------------------------------------

inline constexpr std::string_view kOperationEnqueued = "OPERATION_ENQUEUED";
inline constexpr std::string_view kInvalidSessionId = "INVALID_SESSION_ID";
inline constexpr std::string_view kRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED";

// One error entry. REST calls say "errorCode" (3.5), collection and save results "statusCode"
// (3.4, 3.6); both land in `code`.
struct SalesforceError {
  std::string code;
  std::string message;
  std::vector<std::string> fields;
};

// A non-collection error body: [{"message":"...","errorCode":"...","fields":[...]}]. Empty
// when the body is not such an array (HTML from a proxy, an empty 500).
std::vector<SalesforceError> ParseErrorArray(std::string_view body);
// "REQUIRED_FIELD_MISSING: Required fields are missing: [Name] (fields: Name)"; entries joined
// with "; ".
std::string DescribeErrors(std::span<const SalesforceError> errors);

// One save result: a single create/upsert, a platform event publish, or one item of a
// collection result.
struct SaveResult {
  std::string id;
  bool success = false;
  std::optional<bool> created;  // upserts only
  std::vector<SalesforceError> errors;
};

// {"id":"...","success":true,"errors":[...]} (3.3, 3.6).
Result<SaveResult> ParseSaveResult(std::string_view body);
// The errors that are failures: a platform event's OPERATION_ENQUEUED entry (3.6) is a
// receipt, not an error.
std::vector<SalesforceError> RealErrors(const SaveResult& result);
// The event UUID an OPERATION_ENQUEUED entry carries in its message, or "".
std::string EnqueuedEventUuid(const SaveResult& result);

// ---- sObject Collections upsert (3.4) ----------------------------------------------------------

inline constexpr std::size_t kMaxCollectionRecords = 200;

// "/composite/sobjects/Agent_Presence__c/Agent_Key__c", below the data path (API 46+).
std::string CollectionUpsertPath(std::string_view sobject, std::string_view external_id_field);

// {"allOrNone":false,"records":[{"attributes":{"type":"Obj"},...fields}, ...]}. Errors
// ("invalid_request") for no records, more than 200, bad API names, or a record without the
// external id field.
Result<std::string> CollectionUpsertBody(std::string_view sobject,
                                         std::string_view external_id_field,
                                         std::span<const Fields> records, bool all_or_none = false);

// The 200 answer: one result per record, aligned to the input order. An error when the body
// is not such an array or its length differs from `expected` records.
Result<std::vector<SaveResult>> ParseCollectionResults(std::string_view body, std::size_t expected);

// ---- Composite (3.4) ---------------------------------------------------------------------------

inline constexpr std::size_t kMaxCompositeSubrequests = 25;

struct CompositeSubrequest {
  std::string method;        // "POST", "PATCH", ...
  std::string url;           // "/services/data/v59.0/sobjects/..." (may use @{ref.field})
  std::string reference_id;  // letters, digits and underscores, unique in the request
  std::optional<std::string> body_json;  // a JSON value, inserted as is (e.g. FieldsJson)
};

// {"allOrNone":true,"compositeRequest":[{"method":"PATCH","url":"...","referenceId":"...",
// "body":{...}}, ...]}. Errors for no subrequests, more than 25, or a bad/duplicate
// referenceId.
Result<std::string> CompositeBody(std::span<const CompositeSubrequest> subrequests,
                                  bool all_or_none);

struct CompositeSubresponse {
  int http_status = 0;
  std::string reference_id;
  std::string body_json;  // the subresponse body as JSON text ("null" when none)
  // The subresponse's errors when it failed (its body is an error array, 3.5).
  std::vector<SalesforceError> errors;
};

// {"compositeResponse":[...]} (top-level 200 even when subrequests failed).
Result<std::vector<CompositeSubresponse>> ParseCompositeResponse(std::string_view body);

// ---- Limits (3.5) ------------------------------------------------------------------------------

// Sforce-Limit-Info: "api-usage=18/15000": the org's API calls in the last 24 hours and its
// allocation.
struct ApiUsage {
  long long used = 0;
  long long max = 0;
};
std::optional<ApiUsage> ParseLimitInfo(std::string_view header);

}  // namespace presence::connectors
