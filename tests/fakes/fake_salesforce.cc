#include "tests/fakes/fake_salesforce.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "common/base64.h"
#include "common/json_read.h"
#include "connectors/salesforce/salesforce_protocol.h"

namespace presence::testing {
namespace {

using json::Array;
using json::AsArray;
using json::AsObject;
using json::Object;
using json::Var;

constexpr int kApiAllocation = 15000;
constexpr std::size_t kMaxRecords = 200;
constexpr std::size_t kMaxSubrequests = 25;
constexpr std::string_view kTokenPath = "/services/oauth2/token";
constexpr std::string_view kDataRoot = "/services/data/";

std::string Stringify(const Var& value) {
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(value, out);
  return out.str();
}

Var Parse(const std::string& text) {
  if (text.empty()) return Var();
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text);
  } catch (const Poco::Exception&) {
    return Var();
  }
}

Object::Ptr ParseObject(const std::string& text) { return AsObject(Parse(text)); }

std::string Text(const Object& object, const std::string& key) {
  Var value = object.get(key);
  return value.isString() ? value.extract<std::string>() : "";
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// 3.1/3.2 error answers.
FakeResponse OAuthError(int status, const std::string& error, const std::string& description) {
  Object body;
  body.set("error", error);
  body.set("error_description", description);
  return FakeResponse::Json(status, Stringify(body));
}

Object::Ptr ErrorEntry(const std::string& key, const std::string& code, const std::string& message,
                       const std::vector<std::string>& fields) {
  Object::Ptr entry = new Object;
  entry->set("message", message);
  entry->set(key, code);
  Array::Ptr names = new Array;
  for (const std::string& field : fields) names->add(field);
  entry->set("fields", names);
  return entry;
}

// 3.5: [{"message":"...","errorCode":"...","fields":[...]}].
FakeResponse RestError(int status, const std::string& code, const std::string& message,
                       const std::vector<std::string>& fields = {}) {
  Array body;
  body.add(ErrorEntry("errorCode", code, message, fields));
  return FakeResponse::Json(status, Stringify(body));
}

FakeResponse NotFound() {
  return RestError(404, "NOT_FOUND", "The requested resource does not exist");
}

std::string TypeName(FakeFieldType type) {
  switch (type) {
    case FakeFieldType::kText:
      return "Text";
    case FakeFieldType::kCheckbox:
      return "Checkbox";
    case FakeFieldType::kNumber:
      return "Number";
    case FakeFieldType::kDateTime:
      return "DateTime";
    case FakeFieldType::kDate:
      return "Date";
    case FakeFieldType::kLookup:
      return "Lookup";
  }
  return "?";
}

// A Date field's JSON form: exactly "YYYY-MM-DD", a real date.
bool IsDate(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return ParseTime(text + "T00:00:00Z").has_value();
}

bool Fits(FakeFieldType type, const Var& value) {
  if (value.isEmpty()) return type != FakeFieldType::kCheckbox;
  switch (type) {
    case FakeFieldType::kText:
      return value.isString();
    case FakeFieldType::kCheckbox:
      return value.isBoolean();
    case FakeFieldType::kNumber:
      return value.isNumeric() && !value.isBoolean();
    case FakeFieldType::kDateTime:
      return value.isString() && ParseTime(value.extract<std::string>()).has_value();
    case FakeFieldType::kDate:
      return value.isString() && IsDate(value.extract<std::string>());
    case FakeFieldType::kLookup:
      return value.isString() && connectors::IsSalesforceId(value.extract<std::string>(), "");
  }
  return false;
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string ReadBio(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

bool VerifyRs256(std::string_view data, std::string_view signature,
                 std::string_view public_key_pem) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = key && EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data),
                             data.size()) == 1;
  ERR_clear_error();
  return ok;
}

RsaKeyPair GenerateRsaKeyPair(int bits) {
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_RSA_gen(static_cast<unsigned>(bits)),
                                                     EVP_PKEY_free);
  std::unique_ptr<BIO, BioFree> private_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> public_bio(BIO_new(BIO_s_mem()));
  if (!key || !private_bio || !public_bio ||
      PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio.get(), key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("RSA key generation failed");
  }
  return RsaKeyPair{ReadBio(private_bio.get()), ReadBio(public_bio.get())};
}

const RsaKeyPair& SharedRsaKeyPair() {
  static const RsaKeyPair keys = GenerateRsaKeyPair();
  return keys;
}

FakeSalesforce::FakeSalesforce(FakeSalesforceConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  server_.SetHandler([this](const RecordedRequest& request) { return Handle(request); });
}

void FakeSalesforce::DefineEvent(const std::string& object, FakeFields fields) {
  std::lock_guard lock(mutex_);
  objects_[object] = ObjectDef{true, "", std::move(fields)};
}

void FakeSalesforce::DefineObject(const std::string& object, const std::string& external_id_field,
                                  FakeFields fields) {
  std::lock_guard lock(mutex_);
  fields[external_id_field] = FakeFieldType::kText;
  objects_[object] = ObjectDef{false, external_id_field, std::move(fields)};
}

void FakeSalesforce::RevokeTokens() {
  std::lock_guard lock(mutex_);
  tokens_.clear();
}

void FakeSalesforce::RefuseAllSessions(bool on) {
  std::lock_guard lock(mutex_);
  refuse_sessions_ = on;
}

void FakeSalesforce::RefuseRecord(const std::string& object, const std::string& key,
                                  const std::string& code, const std::string& message) {
  std::lock_guard lock(mutex_);
  refusals_[{object, key}] = Problem{code, message, {}};
}

void FakeSalesforce::ClearRefusals() {
  std::lock_guard lock(mutex_);
  refusals_.clear();
}

int FakeSalesforce::tokens_issued() const {
  std::lock_guard lock(mutex_);
  return tokens_issued_;
}

int FakeSalesforce::token_requests() const {
  std::lock_guard lock(mutex_);
  return token_requests_;
}

int FakeSalesforce::api_requests() const {
  std::lock_guard lock(mutex_);
  return api_requests_;
}

std::vector<PublishedEvent> FakeSalesforce::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<CollectionRequest> FakeSalesforce::collection_requests() const {
  std::lock_guard lock(mutex_);
  return collections_;
}

std::optional<StoredRecord> FakeSalesforce::Record(const std::string& object,
                                                   const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto table = table_.find(object);
  if (table == table_.end()) return std::nullopt;
  auto record = table->second.find(key);
  if (record == table->second.end()) return std::nullopt;
  return record->second;
}

std::size_t FakeSalesforce::RecordCount(const std::string& object) const {
  std::lock_guard lock(mutex_);
  auto table = table_.find(object);
  return table == table_.end() ? 0 : table->second.size();
}

std::string FakeSalesforce::NextId(const std::string& prefix) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%012d", next_id_++);
  return prefix + digits + "AAA";  // all-digit chunks: the case checksum is AAA
}

// ---- OAuth ---------------------------------------------------------------------------------

FakeResponse FakeSalesforce::Handle(const RecordedRequest& request) {
  std::lock_guard lock(mutex_);
  if (request.path == kTokenPath) return Token(request);
  if (request.path.rfind(kDataRoot, 0) != 0) return NotFound();
  ++api_requests_;
  std::string root = std::string(kDataRoot) + "v" + config_.api_version;
  std::string authorization = request.Header("Authorization");
  if (refuse_sessions_ || authorization.rfind("Bearer ", 0) != 0 ||
      tokens_.count(authorization.substr(7)) == 0) {
    return RestError(401, "INVALID_SESSION_ID", "Session expired or invalid");
  }
  if (request.path.rfind(root + "/", 0) != 0) return NotFound();
  if (!request.body.empty() && request.Header("Content-Type").rfind("application/json", 0) != 0) {
    return RestError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
  }
  FakeResponse response = Rest(request.method, request.path.substr(root.size()), request.body);
  response.headers.emplace_back("Sforce-Limit-Info", "api-usage=" + std::to_string(api_requests_) +
                                                         "/" + std::to_string(kApiAllocation));
  return response;
}

FakeResponse FakeSalesforce::Token(const RecordedRequest& request) {
  ++token_requests_;
  if (request.method != "POST" ||
      request.Header("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0) {
    return OAuthError(400, "invalid_request", "must use HTTP POST with a form body");
  }
  std::string grant = request.FormField("grant_type");
  if (grant == "client_credentials") {
    if (request.FormField("client_id") != config_.client_id) {
      return OAuthError(400, "invalid_client_id", "client identifier invalid");
    }
    if (request.FormField("client_secret") != config_.client_secret) {
      return OAuthError(400, "invalid_client", "invalid client credentials");
    }
    return IssueToken();
  }
  if (grant == connectors::kJwtBearerGrantType) return JwtToken(request.FormField("assertion"));
  return OAuthError(400, "unsupported_grant_type", "grant type not supported");
}

FakeResponse FakeSalesforce::JwtToken(const std::string& assertion) {
  FakeResponse invalid = OAuthError(400, "invalid_grant", "invalid assertion");
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = assertion.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(assertion.substr(start, dot - start));
  }
  parts.push_back(assertion.substr(start));
  if (parts.size() != 3) return invalid;
  auto header_text = Base64UrlDecode(parts[0]);
  auto claims_text = Base64UrlDecode(parts[1]);
  auto signature = Base64UrlDecode(parts[2]);
  Object::Ptr header = header_text ? ParseObject(*header_text) : nullptr;
  Object::Ptr claims = claims_text ? ParseObject(*claims_text) : nullptr;
  if (!header || !claims || !signature || Text(*header, "alg") != "RS256") return invalid;
  if (config_.public_key_pem.empty() ||
      !VerifyRs256(parts[0] + "." + parts[1], *signature, config_.public_key_pem)) {
    return invalid;
  }
  if (Text(*claims, "iss") != config_.client_id) {
    return OAuthError(400, "invalid_client_id", "client identifier invalid");
  }
  if (Text(*claims, "aud") != config_.audience) {
    return OAuthError(400, "invalid_grant", "audience is invalid");
  }
  Var exp = claims->get("exp");
  long long now = ToEpochMillis(clock_.Now()) / 1000;
  if (!exp.isInteger() || exp.convert<long long>() <= now ||
      exp.convert<long long>() > now + connectors::kMaxJwtLifetime.count()) {
    return OAuthError(400, "invalid_grant", "expired authorization code");
  }
  if (Text(*claims, "sub") != config_.username) {
    return OAuthError(400, "invalid_grant", "user hasn't approved this consumer");
  }
  return IssueToken();
}

FakeResponse FakeSalesforce::IssueToken() {
  ++tokens_issued_;
  std::string token = "00D000000000001!AQfake." + std::to_string(tokens_issued_);
  tokens_.insert(token);
  Object body;
  body.set("access_token", token);
  body.set("signature", "ZmFrZQ");
  body.set("scope", "api");
  body.set("instance_url", server_.url());
  body.set("id", server_.url() + "/id/00D000000000001AAA/005000000000001AAA");
  body.set("token_type", "Bearer");
  body.set("issued_at", std::to_string(ToEpochMillis(clock_.Now())));
  return FakeResponse::Json(200, Stringify(body));
}

// ---- REST ----------------------------------------------------------------------------------

namespace {

// A single request's answer for an outcome (3.3, 3.6).
FakeResponse SingleAnswer(int status, const std::string& id, std::optional<bool> created,
                          const std::string& enqueued_uuid) {
  Object body;
  body.set("id", id);
  body.set("success", true);
  Array::Ptr errors = new Array;
  if (!enqueued_uuid.empty()) {
    errors->add(
        ErrorEntry("statusCode", std::string(connectors::kOperationEnqueued), enqueued_uuid, {}));
  }
  body.set("errors", errors);
  if (created) body.set("created", *created);
  return FakeResponse::Json(status, Stringify(body));
}

Object::Ptr FailedItem(const std::string& code, const std::string& message,
                       const std::vector<std::string>& fields) {
  Object::Ptr item = new Object;
  item->set("success", false);
  Array::Ptr errors = new Array;
  errors->add(ErrorEntry("statusCode", code, message, fields));
  item->set("errors", errors);
  return item;
}

}  // namespace

FakeResponse FakeSalesforce::Rest(const std::string& method, const std::string& path,
                                  const std::string& body) {
  std::vector<std::string> parts = Split(path);
  auto answer = [](const SaveOutcome& outcome, bool with_created) {
    if (outcome.problem) {
      return RestError(outcome.status, outcome.problem->code, outcome.problem->message,
                       outcome.problem->fields);
    }
    return SingleAnswer(outcome.status, outcome.id,
                        with_created ? std::optional<bool>(outcome.created) : std::nullopt,
                        outcome.enqueued_uuid);
  };
  if (method == "POST" && parts.size() == 2 && parts[0] == "sobjects") {
    return answer(Publish(parts[1], body), false);
  }
  if (method == "PATCH" && parts.size() == 4 && parts[0] == "sobjects") {
    Object::Ptr values = ParseObject(body);
    if (!values) return RestError(400, "JSON_PARSER_ERROR", "body must be a JSON object");
    return answer(Upsert(parts[1], parts[2], Poco::URI(parts[3]).getPath(), values), true);
  }
  if (method == "PATCH" && parts.size() == 4 && parts[0] == "composite" && parts[1] == "sobjects") {
    return CollectionUpsert(parts[2], parts[3], body);
  }
  if (method == "POST" && parts.size() == 1 && parts[0] == "composite") return Composite(body);
  return NotFound();
}

const FakeSalesforce::ObjectDef* FakeSalesforce::FindObject(const std::string& object,
                                                            bool is_event) const {
  auto def = objects_.find(object);
  if (def == objects_.end() || def->second.is_event != is_event) return nullptr;
  return &def->second;
}

std::optional<FakeSalesforce::Problem> FakeSalesforce::CheckFields(const std::string& object,
                                                                   const ObjectDef& def,
                                                                   const Object& values) const {
  for (const auto& [name, value] : values) {
    if (name == "attributes") continue;  // collection records; checked by the caller
    auto field = def.fields.find(name);
    if (field == def.fields.end()) {
      return Problem{
          "INVALID_FIELD", "No such column '" + name + "' on sobject of type " + object, {name}};
    }
    if (!Fits(field->second, value)) {
      return Problem{"JSON_PARSER_ERROR",
                     "Cannot deserialize " + name + " (" + TypeName(field->second) + ") from " +
                         Stringify(value),
                     {name}};
    }
  }
  return std::nullopt;
}

FakeSalesforce::SaveOutcome FakeSalesforce::Publish(const std::string& object,
                                                    const std::string& body) {
  const ObjectDef* def = FindObject(object, true);
  if (!def) {
    return SaveOutcome{404, "", false,
                       Problem{"NOT_FOUND", "The requested resource does not exist", {}}, ""};
  }
  Object::Ptr values = ParseObject(body);
  if (!values) {
    return SaveOutcome{400, "", false, Problem{"JSON_PARSER_ERROR", "body is not an object", {}},
                       ""};
  }
  if (auto problem = CheckFields(object, *def, *values)) {
    return SaveOutcome{400, "", false, std::move(problem), ""};
  }
  events_.push_back(PublishedEvent{object, body, values});
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012zu", events_.size());
  return SaveOutcome{201, NextId("e00"), false, std::nullopt, uuid};
}

FakeSalesforce::SaveOutcome FakeSalesforce::Upsert(const std::string& object,
                                                   const std::string& field, const std::string& key,
                                                   Object::Ptr values) {
  const ObjectDef* def = FindObject(object, false);
  if (!def || def->external_id_field != field) {
    return SaveOutcome{404, "", false,
                       Problem{"NOT_FOUND", "The requested resource does not exist", {}}, ""};
  }
  if (auto problem = CheckFields(object, *def, *values)) {
    return SaveOutcome{400, "", false, std::move(problem), ""};
  }
  if (values->has(field) && Text(*values, field) != key) {
    return SaveOutcome{
        400, "", false,
        Problem{"INVALID_FIELD", field + " in the body differs from the URL", {field}}, ""};
  }
  auto& rows = table_[object];
  auto existing = rows.find(key);
  bool created = existing == rows.end();
  StoredRecord& record = rows[key];
  // Copy on write: a snapshot taken for allOrNone keeps the old values.
  Object::Ptr fields = created ? new Object : new Object(*record.fields);
  if (created) {
    record.id = NextId("a00");
    fields->set(field, key);
  }
  for (const auto& [name, value] : *values) {
    if (name != "attributes") fields->set(name, value);
  }
  record.fields = fields;
  return SaveOutcome{created ? 201 : 200, record.id, created, std::nullopt, ""};
}

namespace {

// allOrNone: the records that succeeded report that they were rolled back (3.4).
void MarkRolledBack(Array& results) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    Object::Ptr item = results.getObject(static_cast<unsigned>(i));
    if (!item->getValue<bool>("success")) continue;
    results.set(static_cast<unsigned>(i),
                FailedItem("ALL_OR_NONE_OPERATION_ROLLED_BACK",
                           "Record rolled back because not all records were valid and the "
                           "request was using AllOrNone header",
                           {}));
  }
}

}  // namespace

// One record of a collection upsert, as its result item.
Object::Ptr FakeSalesforce::UpsertItem(const std::string& object, const std::string& field,
                                       const Object::Ptr& record) {
  Object::Ptr attributes = AsObject(record->get("attributes"));
  if (Text(*attributes, "type") != object) {
    return FailedItem("INVALID_TYPE", "attributes.type must be " + object, {});
  }
  if (Text(*record, field).empty()) {
    return FailedItem("MISSING_ARGUMENT", field + " not specified", {field});
  }
  auto refusal = refusals_.find({object, Text(*record, field)});
  if (refusal != refusals_.end()) {
    return FailedItem(refusal->second.code, refusal->second.message, refusal->second.fields);
  }
  SaveOutcome outcome = Upsert(object, field, Text(*record, field), record);
  if (outcome.problem) {
    return FailedItem(outcome.problem->code, outcome.problem->message, outcome.problem->fields);
  }
  return AsObject(Parse(SingleAnswer(200, outcome.id, outcome.created, "").body));
}

// 3.4: PATCH /composite/sobjects/{SObject}/{ExternalIdField}; 200 with results aligned to the
// input; allOrNone:true rolls back every record when one fails.
FakeResponse FakeSalesforce::CollectionUpsert(const std::string& object, const std::string& field,
                                              const std::string& body) {
  const ObjectDef* def = FindObject(object, false);
  if (!def || def->external_id_field != field) return NotFound();
  Object::Ptr request = ParseObject(body);
  Array::Ptr records = request ? AsArray(request->get("records")) : nullptr;
  if (!records) return RestError(400, "JSON_PARSER_ERROR", "body needs a records array");
  if (records->size() == 0 || records->size() > kMaxRecords) {
    return RestError(400, "EXCEEDED_ID_LIMIT",
                     "record limit reached. cannot submit more than 200 records into this call");
  }
  for (const Var& value : *records) {
    Object::Ptr record = AsObject(value);
    Object::Ptr attributes = record ? AsObject(record->get("attributes")) : nullptr;
    if (!attributes || Text(*attributes, "type").empty()) {
      return RestError(400, "INVALID_TYPE", "every record needs attributes.type");
    }
  }
  Table before = table_;
  Array results;
  bool failed = false;
  for (const Var& value : *records) {
    Object::Ptr item = UpsertItem(object, field, AsObject(value));
    failed = failed || !item->getValue<bool>("success");
    results.add(item);
  }
  if (request->optValue("allOrNone", false) && failed) {
    table_ = before;
    MarkRolledBack(results);
  }
  collections_.push_back(CollectionRequest{object, field, records->size(), body});
  return FakeResponse::Json(200, Stringify(results));
}

namespace {

// @{referenceId.field} in a subrequest's URL or body, from an earlier subresponse body.
std::optional<std::string> Resolve(std::string text,
                                   const std::map<std::string, Object::Ptr>& done) {
  for (std::size_t at; (at = text.find("@{")) != std::string::npos;) {
    std::size_t end = text.find('}', at);
    std::size_t dot = text.find('.', at);
    if (end == std::string::npos || dot == std::string::npos || dot > end) return std::nullopt;
    auto earlier = done.find(text.substr(at + 2, dot - at - 2));
    if (earlier == done.end() || !earlier->second) return std::nullopt;
    Var value = earlier->second->get(text.substr(dot + 1, end - dot - 1));
    if (value.isEmpty()) return std::nullopt;
    text.replace(at, end - at + 1, value.convert<std::string>());
  }
  return text;
}

Object::Ptr SubResponse(const std::string& reference, int status, const Var& body) {
  Object::Ptr item = new Object;
  item->set("body", body);
  item->set("httpHeaders", Object::Ptr(new Object));
  item->set("httpStatusCode", status);
  item->set("referenceId", reference);
  return item;
}

Var Halted() {
  Array::Ptr errors = new Array;
  errors->add(ErrorEntry("errorCode", "PROCESSING_HALTED",
                         "The transaction was rolled back since another operation in the same "
                         "transaction failed.",
                         {}));
  return errors;
}

}  // namespace

// One subrequest of a composite request, answered as if it came alone.
FakeResponse FakeSalesforce::Subrequest(const Object::Ptr& sub,
                                        const std::map<std::string, Object::Ptr>& done) {
  std::string data_path = std::string(kDataRoot) + "v" + config_.api_version;
  std::string reference = sub ? Text(*sub, "referenceId") : "";
  std::optional<std::string> url = sub ? Resolve(Text(*sub, "url"), done) : std::nullopt;
  std::optional<std::string> body =
      sub && sub->has("body") ? Resolve(Stringify(sub->get("body")), done) : std::string();
  if (reference.empty() || done.count(reference) || !url || !body) {
    return RestError(400, "INVALID_FIELD", "bad referenceId, url or reference");
  }
  if (url->rfind(data_path + "/", 0) != 0 || Split(*url).back() == "composite") {
    return NotFound();
  }
  return Rest(Text(*sub, "method"), url->substr(data_path.size()), *body);
}

// 3.4: POST /composite; top-level 200 even when subrequests fail; with allOrNone a failure
// rolls back everything and the other items report PROCESSING_HALTED.
FakeResponse FakeSalesforce::Composite(const std::string& body) {
  Object::Ptr request = ParseObject(body);
  Array::Ptr subrequests = request ? AsArray(request->get("compositeRequest")) : nullptr;
  if (!subrequests) return RestError(400, "JSON_PARSER_ERROR", "body needs compositeRequest");
  if (subrequests->size() == 0 || subrequests->size() > kMaxSubrequests) {
    return RestError(400, "LIMIT_EXCEEDED", "a composite request takes 1-25 subrequests");
  }
  bool all_or_none = request->optValue("allOrNone", false);
  Table table_before = table_;
  std::size_t events_before = events_.size();
  std::map<std::string, Object::Ptr> done;
  Array::Ptr items = new Array;
  std::optional<std::size_t> failed_at;
  for (std::size_t i = 0; i < subrequests->size(); ++i) {
    Object::Ptr sub = subrequests->getObject(static_cast<unsigned>(i));
    std::string reference = sub ? Text(*sub, "referenceId") : "";
    if (failed_at && all_or_none) {
      items->add(SubResponse(reference, 400, Halted()));
      continue;
    }
    FakeResponse answer = Subrequest(sub, done);
    Var answer_body = Parse(answer.body);
    done[reference] = AsObject(answer_body);
    if (answer.status >= 400 && !failed_at) failed_at = i;
    items->add(SubResponse(reference, answer.status, answer_body));
  }
  if (all_or_none && failed_at) {
    table_ = table_before;
    events_.resize(events_before);
    for (std::size_t i = 0; i < *failed_at; ++i) {
      Object::Ptr item = items->getObject(static_cast<unsigned>(i));
      items->set(static_cast<unsigned>(i), SubResponse(Text(*item, "referenceId"), 400, Halted()));
    }
  }
  Object response;
  response.set("compositeResponse", items);
  return FakeResponse::Json(200, Stringify(response));
}

}  // namespace presence::testing
