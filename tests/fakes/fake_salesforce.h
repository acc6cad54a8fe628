#pragma once

// A fake Salesforce org on one FakeHttpServer, checking requests against integrations.md 3:
//   POST /services/oauth2/token                          client credentials (3.1), JWT bearer
//                                                        (3.2: structure, claims, exp within
//                                                        3 minutes, RS256 with the test's key)
//   POST   /services/data/v59.0/sobjects/<X>__e/         platform event publish (3.6)
//   PATCH  /services/data/v59.0/sobjects/<Obj>/<Ext>/<v> single upsert (3.3)
//   PATCH  /services/data/v59.0/composite/sobjects/<Obj>/<Ext>   collection upsert (3.4)
//   POST   /services/data/v59.0/composite                 composite (3.4)
// Tokens it issued are valid until RevokeTokens; any other bearer gets 401 INVALID_SESSION_ID.
// Token answers carry instance_url = the fake's own URL. Failures on demand go through
// server() (FailNext, FailAll, Refuse). Everything it accepted is recorded for assertions.

#include <Poco/JSON/Object.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "tests/fakes/fake_http_server.h"

namespace presence::testing {

// A fresh RSA key pair in PEM (private: PKCS#8, public: SubjectPublicKeyInfo), made at run
// time so no key is checked in.
struct RsaKeyPair {
  std::string private_pem;
  std::string public_pem;
};
RsaKeyPair GenerateRsaKeyPair(int bits = 2048);
// One 2048-bit pair for the whole test run: generating one takes a noticeable fraction of a
// second. Tests that need a key the org does not know generate their own.
const RsaKeyPair& SharedRsaKeyPair();

// What the fake checks a JWT assertion with (RFC 7515), written with OpenSSL so that it does
// not trust the Poco::JWT code under test (its parts are decoded with common/base64.h's strict
// Base64UrlDecode). Whether `signature` (raw bytes) is the RSA-SHA256 signature of `data` under the
// RSA public key in `public_key_pem` (SubjectPublicKeyInfo PEM).
bool VerifyRs256(std::string_view data, std::string_view signature,
                 std::string_view public_key_pem);

struct FakeSalesforceConfig {
  std::string client_id = "3MVG9fake.consumer.key";
  std::string client_secret = "fake-consumer-secret";
  std::string username = "integration@example.com";  // the pre-authorised JWT user
  std::string public_key_pem;                        // verifies JWT assertions; "" = none
  std::string audience = "https://login.salesforce.com";
  std::string api_version = "59.0";
};

// Field types of defined objects; the fake refuses values of another JSON type (400). A Number
// takes any JSON number (decimals too), a Date only "YYYY-MM-DD", a Lookup a 15- or
// 18-character record id.
enum class FakeFieldType { kText, kCheckbox, kNumber, kDateTime, kDate, kLookup };
using FakeFields = std::map<std::string, FakeFieldType>;

struct PublishedEvent {
  std::string object;  // "Presence_Agent_Status__e"
  std::string body;    // as received
  Poco::JSON::Object::Ptr fields;
};

// One sObject Collections upsert the fake answered 200 (3.4).
struct CollectionRequest {
  std::string object;
  std::string external_id_field;
  std::size_t records = 0;
  std::string body;  // as received
};

struct StoredRecord {
  std::string id;
  Poco::JSON::Object::Ptr fields;  // the latest values of every field ever written
};

class FakeSalesforce {
 public:
  // `clock` (kept by reference) is what JWT exp is checked against: pass the connector's.
  explicit FakeSalesforce(FakeSalesforceConfig config, const Clock& clock);
  FakeSalesforce(const FakeSalesforce&) = delete;
  FakeSalesforce& operator=(const FakeSalesforce&) = delete;

  FakeHttpServer& server() { return server_; }
  std::string url() const { return server_.url(); }

  // A platform event object and its fields (API name -> type).
  void DefineEvent(const std::string& object, FakeFields fields);
  // A custom object with its external id field (a Text field) and other fields.
  void DefineObject(const std::string& object, const std::string& external_id_field,
                    FakeFields fields);

  // Every token issued so far stops working (a session timeout or an admin revoking it).
  void RevokeTokens();
  // While on, every REST request gets 401 INVALID_SESSION_ID, even with a fresh token.
  void RefuseAllSessions(bool on);

  // Each record of `object` with this external id is refused in collection upserts (its
  // result item carries `code` and `message`) until ClearRefusals: a validation rule.
  void RefuseRecord(const std::string& object, const std::string& key, const std::string& code,
                    const std::string& message);
  void ClearRefusals();

  int tokens_issued() const;
  int token_requests() const;
  // REST requests under /services/data/ (what counts against the org's API limit).
  int api_requests() const;
  std::vector<PublishedEvent> events() const;
  // Collection upserts answered 200, in arrival order.
  std::vector<CollectionRequest> collection_requests() const;
  std::optional<StoredRecord> Record(const std::string& object, const std::string& key) const;
  std::size_t RecordCount(const std::string& object) const;

 private:
  struct ObjectDef {
    bool is_event = false;
    std::string external_id_field;
    FakeFields fields;
  };
  // One refused field, record or request: "errorCode" in REST answers, "statusCode" in
  // collection items (3.4, 3.5).
  struct Problem {
    std::string code;
    std::string message;
    std::vector<std::string> fields;
  };
  // A single save (event or upsert), rendered as a REST answer or a collection item.
  struct SaveOutcome {
    int status = 0;  // as a single request: 200/201, or 400/404 with `problem`
    std::string id;
    bool created = false;
    std::optional<Problem> problem;
    std::string enqueued_uuid;  // events: the OPERATION_ENQUEUED receipt
  };
  using Table = std::map<std::string, std::map<std::string, StoredRecord>>;

  FakeResponse Handle(const RecordedRequest& request);
  FakeResponse Token(const RecordedRequest& request);
  FakeResponse JwtToken(const std::string& assertion);
  FakeResponse IssueToken();
  FakeResponse Rest(const std::string& method, const std::string& path, const std::string& body);
  FakeResponse CollectionUpsert(const std::string& object, const std::string& field,
                                const std::string& body);
  Poco::JSON::Object::Ptr UpsertItem(const std::string& object, const std::string& field,
                                     const Poco::JSON::Object::Ptr& record);
  FakeResponse Composite(const std::string& body);
  FakeResponse Subrequest(const Poco::JSON::Object::Ptr& sub,
                          const std::map<std::string, Poco::JSON::Object::Ptr>& done);
  SaveOutcome Publish(const std::string& object, const std::string& body);
  SaveOutcome Upsert(const std::string& object, const std::string& field, const std::string& key,
                     Poco::JSON::Object::Ptr values);
  std::optional<Problem> CheckFields(const std::string& object, const ObjectDef& def,
                                     const Poco::JSON::Object& values) const;
  const ObjectDef* FindObject(const std::string& object, bool is_event) const;
  std::string NextId(const std::string& prefix);

  FakeSalesforceConfig config_;
  const Clock& clock_;
  mutable std::mutex mutex_;  // guards everything below; the server calls in on many threads
  std::map<std::string, ObjectDef> objects_;
  std::set<std::string> tokens_;
  bool refuse_sessions_ = false;
  int tokens_issued_ = 0;
  int token_requests_ = 0;
  int api_requests_ = 0;
  int next_id_ = 1;
  std::vector<PublishedEvent> events_;
  std::vector<CollectionRequest> collections_;
  std::map<std::pair<std::string, std::string>, Problem> refusals_;  // by object and key
  Table table_;
  FakeHttpServer server_;  // last: stops (joining its threads) before the state goes away
};

}  // namespace presence::testing
