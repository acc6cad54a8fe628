#include "connectors/salesforce/salesforce_protocol.h"

#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>
#include <set>
#include <sstream>

#include "common/json_read.h"
#include "common/json_writer.h"
#include "connectors/http/http_client.h"

namespace presence::connectors {
namespace {

using json::Array;
using json::AsArray;
using json::AsObject;
using json::Object;
using json::Var;

constexpr std::size_t kMaxNameLength = 40;  // an API name without namespace and suffix
constexpr std::size_t kMaxNamespaceLength = 15;
constexpr std::size_t kMaxRemoteText = 300;  // of a remote message quoted in ours
constexpr std::string_view kNotAKey = "not an unencrypted RSA private key in PEM form";

bool IsAsciiAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool IsAsciiAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Cut(std::string text) {
  if (text.size() > kMaxRemoteText) text = text.substr(0, kMaxRemoteText) + "...";
  return text;
}

// ---- JSON reading ------------------------------------------------------------------------------

// The parsed value, or an empty Var when `text` is not JSON.
Var ParseJson(std::string_view text) {
  if (text.empty()) return Var();
  try {
    Poco::JSON::Parser parser;
    return parser.parse(std::string(text));
  } catch (const Poco::Exception&) {
    return Var();
  }
}

std::string StringMember(const Object& object, const std::string& key) {
  Var value = object.get(key);
  return value.isString() ? value.extract<std::string>() : std::string();
}

std::optional<bool> BoolMember(const Object& object, const std::string& key) {
  Var value = object.get(key);
  if (!value.isBoolean()) return std::nullopt;
  return value.extract<bool>();
}

std::optional<SalesforceError> ReadErrorEntry(const Var& value) {
  Object::Ptr entry = AsObject(value);
  if (!entry) return std::nullopt;
  SalesforceError error;
  error.code = StringMember(*entry, "errorCode");
  if (error.code.empty()) error.code = StringMember(*entry, "statusCode");
  error.message = StringMember(*entry, "message");
  if (Array::Ptr fields = AsArray(entry->get("fields"))) {
    for (const Var& field : *fields) {
      if (field.isString()) error.fields.push_back(field.extract<std::string>());
    }
  }
  if (error.code.empty() && error.message.empty()) return std::nullopt;
  return error;
}

std::vector<SalesforceError> ReadErrorEntries(const Array::Ptr& array) {
  std::vector<SalesforceError> errors;
  if (!array) return errors;
  for (const Var& value : *array) {
    if (auto error = ReadErrorEntry(value)) errors.push_back(std::move(*error));
  }
  return errors;
}

std::optional<SaveResult> ReadSaveResult(const Var& value) {
  Object::Ptr object = AsObject(value);
  if (!object) return std::nullopt;
  std::optional<bool> success = BoolMember(*object, "success");
  if (!success) return std::nullopt;
  SaveResult result;
  result.success = *success;
  result.id = StringMember(*object, "id");
  result.created = BoolMember(*object, "created");
  result.errors = ReadErrorEntries(AsArray(object->get("errors")));
  return result;
}

Error BadAnswer(std::string what) { return Error{"bad_response", std::move(what)}; }
Error BadRequest(std::string what) { return Error{"invalid_request", std::move(what)}; }

// ---- ids ---------------------------------------------------------------------------------------

// Bit i of each 5-character chunk says whether character i is an upper-case letter.
std::string IdChecksum(std::string_view first15) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  std::string suffix;
  for (std::size_t chunk = 0; chunk < 3; ++chunk) {
    int flags = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      char c = first15[chunk * 5 + i];
      if (c >= 'A' && c <= 'Z') flags |= 1 << i;
    }
    suffix += kAlphabet[static_cast<std::size_t>(flags)];
  }
  return suffix;
}

bool IsBaseName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (!IsAsciiAlpha(name.front()) || name.back() == '_') return false;
  if (name.find("__") != std::string_view::npos) return false;
  for (char c : name) {
    if (!IsAsciiAlnum(c) && c != '_') return false;
  }
  return true;
}

bool IsNamespacePrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxNamespaceLength || !IsAsciiAlpha(prefix.front())) {
    return false;
  }
  for (char c : prefix) {
    if (!IsAsciiAlnum(c)) return false;
  }
  return true;
}

bool IsCustomSuffix(std::string_view suffix) {
  if (suffix.size() < 3 || suffix.size() > 5 || suffix.substr(0, 2) != "__") return false;
  for (char c : suffix.substr(2)) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

// ---- OpenSSL -----------------------------------------------------------------------------------

// The key is read here rather than by Poco::Crypto::RSAKey: given an encrypted key and no pass
// phrase, Poco lets OpenSSL ask for one on the terminal, which would stall start-up.
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// An encrypted key must fail, not prompt for a pass phrase on the terminal.
int NoPassPhrase(char*, int, int, void*) { return -1; }

KeyPtr ReadPrivateKey(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassPhrase, nullptr);
  ERR_clear_error();  // a failed read leaves entries that would confuse later OpenSSL users
  if (key && EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return KeyPtr(key);
}

// ---- JSON writing ------------------------------------------------------------------------------

void WriteValue(JsonWriter& out, const FieldValue& value) {
  if (std::holds_alternative<std::nullptr_t>(value)) {
    out.Null();
  } else if (const bool* flag = std::get_if<bool>(&value)) {
    out.Bool(*flag);
  } else if (const long long* whole = std::get_if<long long>(&value)) {
    out.Int(*whole);
  } else if (const double* number = std::get_if<double>(&value)) {
    out.Double(*number);
  } else {
    out.String(std::get<std::string>(value));
  }
}

// "A__c":1,"B__c":"x" inside the object being written.
void WriteMembers(JsonWriter& out, const Fields& fields) {
  for (const Field& field : fields) {
    out.Key(field.name);
    WriteValue(out, field.value);
  }
}

const Field* FindField(const Fields& fields, std::string_view name) {
  for (const Field& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

bool IsReferenceId(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (!IsAsciiAlnum(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

// ---- JSON bodies -------------------------------------------------------------------------------

std::string FieldsJson(const Fields& fields) {
  JsonWriter out;
  out.BeginObject();
  WriteMembers(out, fields);
  out.EndObject();
  return out.Take();
}

// ---- API names and ids -----------------------------------------------------------------------

bool IsApiName(std::string_view name, std::string_view suffix) {
  if (suffix.empty()) {
    std::size_t last = name.rfind("__");
    if (last == std::string_view::npos) return IsBaseName(name);
    return IsCustomSuffix(name.substr(last)) && IsApiName(name, name.substr(last));
  }
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) {
    return false;
  }
  std::string_view stem = name.substr(0, name.size() - suffix.size());
  std::size_t separator = stem.find("__");
  if (separator != std::string_view::npos) {
    if (!IsNamespacePrefix(stem.substr(0, separator))) return false;
    stem = stem.substr(separator + 2);
  }
  return IsBaseName(stem);
}

bool IsSalesforceId(std::string_view id, std::string_view prefix) {
  if (id.size() != 15 && id.size() != 18) return false;
  if (id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id) {
    if (!IsAsciiAlnum(c)) return false;
  }
  if (id.size() == 15) return true;
  std::string expected = IdChecksum(id.substr(0, 15));
  for (std::size_t i = 0; i < 3; ++i) {
    if (std::toupper(static_cast<unsigned char>(id[15 + i])) != expected[i]) return false;
  }
  return true;
}

std::string To18CharId(std::string_view id) {
  if (id.size() != 15) return std::string(id);
  return std::string(id) + IdChecksum(id);
}

// ---- OAuth -------------------------------------------------------------------------------------

std::string ClientCredentialsBody(std::string_view client_id, std::string_view client_secret) {
  return FormEncode({{"grant_type", "client_credentials"},
                     {"client_id", std::string(client_id)},
                     {"client_secret", std::string(client_secret)}});
}

Status CheckRsaPrivateKey(std::string_view pem) {
  if (!ReadPrivateKey(pem)) return Error{"bad_key", std::string(kNotAKey)};
  return Status::Ok();
}

Result<std::string> JwtAssertion(const JwtClaims& claims, std::string_view private_key_pem) {
  KeyPtr key = ReadPrivateKey(private_key_pem);
  if (!key) return Error{"bad_key", std::string(kNotAKey)};
  Poco::JWT::Token token;
  // Poco sorts claims by name unless the object keeps insertion order; 3.2 lists iss, sub,
  // aud, exp and so do the bytes we have always sent. exp is set as an integer because
  // Token::setExpiration would store a double.
  token.payload() = Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  token.setIssuer(ValidUtf8(claims.issuer));
  token.setSubject(ValidUtf8(claims.subject));
  token.setAudience(ValidUtf8(claims.audience));
  token.payload().set(Poco::JWT::Token::CLAIM_EXPIRATION, Poco::Int64{claims.expires});
  try {
    Poco::JWT::Signer signer(new Poco::Crypto::RSAKey(Poco::Crypto::EVPPKey(key.get())));
    return signer.sign(token, Poco::JWT::Signer::ALGO_RS256);
  } catch (const Poco::Exception&) {
    ERR_clear_error();
    return Error{"sign_failed", "RS256 signing failed"};
  }
}

std::string JwtBearerBody(std::string_view assertion) {
  return FormEncode(
      {{"grant_type", std::string(kJwtBearerGrantType)}, {"assertion", std::string(assertion)}});
}

Result<AccessToken> ParseTokenResponse(int status, std::string_view body) {
  Object::Ptr object = AsObject(ParseJson(body));
  if (status != 200) {
    std::string code = object ? StringMember(*object, "error") : "";
    std::string description = object ? StringMember(*object, "error_description") : "";
    std::string message = "token request refused: HTTP " + std::to_string(status);
    if (!code.empty()) message += " " + code;
    if (!description.empty()) message += " (" + description + ")";
    return Error{code.empty() ? "token_refused" : code, Cut(std::move(message))};
  }
  if (!object) return BadAnswer("token response is not a JSON object");
  AccessToken token;
  token.value = StringMember(*object, "access_token");
  token.instance_url = StringMember(*object, "instance_url");
  if (token.value.empty()) return BadAnswer("token response has no access_token");
  if (token.instance_url.rfind("https://", 0) != 0 && token.instance_url.rfind("http://", 0) != 0) {
    return BadAnswer("token response has no http(s) instance_url");
  }
  while (!token.instance_url.empty() && token.instance_url.back() == '/') {
    token.instance_url.pop_back();
  }
  return token;
}

// ---- REST results and errors -------------------------------------------------------------------

std::vector<SalesforceError> ParseErrorArray(std::string_view body) {
  return ReadErrorEntries(AsArray(ParseJson(body)));
}

std::string DescribeErrors(std::span<const SalesforceError> errors) {
  std::string text;
  for (const SalesforceError& error : errors) {
    if (!text.empty()) text += "; ";
    text += error.code.empty() ? "error" : error.code;
    if (!error.message.empty()) text += ": " + error.message;
    if (!error.fields.empty()) {
      text += " (fields: ";
      for (std::size_t i = 0; i < error.fields.size(); ++i) {
        text += (i ? ", " : "") + error.fields[i];
      }
      text += ")";
    }
  }
  return Cut(std::move(text));
}

Result<SaveResult> ParseSaveResult(std::string_view body) {
  std::optional<SaveResult> result = ReadSaveResult(ParseJson(body));
  if (!result) return BadAnswer("not a save result ({\"id\",\"success\",\"errors\"})");
  return std::move(*result);
}

std::vector<SalesforceError> RealErrors(const SaveResult& result) {
  std::vector<SalesforceError> errors;
  for (const SalesforceError& error : result.errors) {
    if (error.code != kOperationEnqueued) errors.push_back(error);
  }
  return errors;
}

std::string EnqueuedEventUuid(const SaveResult& result) {
  for (const SalesforceError& error : result.errors) {
    if (error.code == kOperationEnqueued) return error.message;
  }
  return "";
}

// ---- sObject Collections -----------------------------------------------------------------------

std::string CollectionUpsertPath(std::string_view sobject, std::string_view external_id_field) {
  return "/composite/sobjects/" + std::string(sobject) + "/" + std::string(external_id_field);
}

Result<std::string> CollectionUpsertBody(std::string_view sobject,
                                         std::string_view external_id_field,
                                         std::span<const Fields> records, bool all_or_none) {
  if (!IsApiName(sobject, "") || !IsApiName(external_id_field, "")) {
    return BadRequest("not an API name: " + std::string(sobject) + "/" +
                      std::string(external_id_field));
  }
  if (records.empty() || records.size() > kMaxCollectionRecords) {
    return BadRequest("an upsert takes 1-200 records, got " + std::to_string(records.size()));
  }
  JsonWriter body;
  body.BeginObject().Key("allOrNone").Bool(all_or_none).Key("records").BeginArray();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Field* key = FindField(records[i], external_id_field);
    if (!key || std::holds_alternative<std::nullptr_t>(key->value)) {
      return BadRequest("record " + std::to_string(i) + " has no " +
                        std::string(external_id_field));
    }
    if (FindField(records[i], "attributes")) {
      return BadRequest("record " + std::to_string(i) + " has a field named attributes");
    }
    body.BeginObject().Key("attributes").BeginObject().Key("type").String(sobject).EndObject();
    WriteMembers(body, records[i]);
    body.EndObject();
  }
  body.EndArray().EndObject();
  return body.Take();
}

Result<std::vector<SaveResult>> ParseCollectionResults(std::string_view body,
                                                       std::size_t expected) {
  Array::Ptr array = AsArray(ParseJson(body));
  if (!array) return BadAnswer("collection result is not a JSON array");
  if (array->size() != expected) {
    return BadAnswer("collection result has " + std::to_string(array->size()) + " items for " +
                     std::to_string(expected) + " records");
  }
  std::vector<SaveResult> results;
  for (std::size_t i = 0; i < array->size(); ++i) {
    std::optional<SaveResult> result = ReadSaveResult(array->get(static_cast<unsigned>(i)));
    if (!result) return BadAnswer("collection result item " + std::to_string(i) + " is malformed");
    results.push_back(std::move(*result));
  }
  return results;
}

// ---- Composite ---------------------------------------------------------------------------------

Result<std::string> CompositeBody(std::span<const CompositeSubrequest> subrequests,
                                  bool all_or_none) {
  if (subrequests.empty() || subrequests.size() > kMaxCompositeSubrequests) {
    return BadRequest("a composite request takes 1-25 subrequests, got " +
                      std::to_string(subrequests.size()));
  }
  std::set<std::string> references;
  JsonWriter body;
  body.BeginObject().Key("allOrNone").Bool(all_or_none).Key("compositeRequest").BeginArray();
  for (std::size_t i = 0; i < subrequests.size(); ++i) {
    const CompositeSubrequest& sub = subrequests[i];
    if (!IsReferenceId(sub.reference_id) || !references.insert(sub.reference_id).second) {
      return BadRequest("subrequest " + std::to_string(i) +
                        ": referenceId must be unique letters, digits and underscores");
    }
    body.BeginObject().Key("method").String(sub.method).Key("url").String(sub.url);
    body.Key("referenceId").String(sub.reference_id);
    if (sub.body_json) body.Key("body").Raw(*sub.body_json);
    body.EndObject();
  }
  body.EndArray().EndObject();
  return body.Take();
}

Result<std::vector<CompositeSubresponse>> ParseCompositeResponse(std::string_view body) {
  Object::Ptr object = AsObject(ParseJson(body));
  Array::Ptr items = object ? AsArray(object->get("compositeResponse")) : nullptr;
  if (!items) return BadAnswer("composite response has no compositeResponse array");
  std::vector<CompositeSubresponse> responses;
  for (const Var& value : *items) {
    Object::Ptr item = AsObject(value);
    Var status = item ? item->get("httpStatusCode") : Var();
    if (!item || !status.isInteger()) return BadAnswer("composite subresponse is malformed");
    CompositeSubresponse response;
    response.http_status = status.convert<int>();
    response.reference_id = StringMember(*item, "referenceId");
    std::ostringstream text;
    Poco::JSON::Stringifier::condense(item->get("body"), text);
    response.body_json = text.str();
    if (response.http_status >= 300) response.errors = ReadErrorEntries(AsArray(item->get("body")));
    responses.push_back(std::move(response));
  }
  return responses;
}

// ---- Limits ------------------------------------------------------------------------------------

std::optional<ApiUsage> ParseLimitInfo(std::string_view header) {
  static constexpr std::string_view kKey = "api-usage=";
  std::size_t at = header.find(kKey);
  while (at != std::string_view::npos && at > 0 && header[at - 1] != ' ' && header[at - 1] != ';' &&
         header[at - 1] != ',') {
    at = header.find(kKey, at + 1);  // skip "per-app-api-usage="
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = header.substr(at + kKey.size());
  ApiUsage usage;
  auto [slash, used_error] = std::from_chars(rest.data(), rest.data() + rest.size(), usage.used);
  if (used_error != std::errc() || slash == rest.data() + rest.size() || *slash != '/') {
    return std::nullopt;
  }
  auto [end, max_error] = std::from_chars(slash + 1, rest.data() + rest.size(), usage.max);
  if (max_error != std::errc()) return std::nullopt;
  return usage;
}

}  // namespace presence::connectors
