#include "connectors/salesforce/salesforce_client.h"

#include <Poco/String.h>
#include <Poco/URI.h>

#include <cctype>

#include "common/enum_names.h"
#include "connectors/connector_config.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Problems;
using json::Quote;
using json::Report;

// 3.2 allows exp up to 3 minutes ahead of Salesforce's clock; 2 minutes leaves a minute for
// our clock running fast, and a slow one still has 2 minutes to get the token.
constexpr std::chrono::seconds kJwtLifetime{120};
static_assert(kJwtLifetime <= kMaxJwtLifetime);

constexpr int kMinApiVersion = 46;  // sObject Collections upsert (3.4)

constexpr EnumNames<SalesforceAuthKind, 2> kAuthKinds = {{
    {SalesforceAuthKind::kClientCredentials, "client_credentials"},
    {SalesforceAuthKind::kJwtBearer, "jwt_bearer"},
}};

// The host of a URL ReadHttpUrl accepted, lower-cased, without user info and port.
std::string HostOf(const std::string& url) { return Poco::toLower(Poco::URI(url).getHost()); }

// The site part only: the token path is added by the client.
bool HasPath(std::string_view url) {
  std::size_t start = url.find("://");
  std::size_t slash = url.find_first_of("/?#", start == std::string_view::npos ? 0 : start + 3);
  return slash != std::string_view::npos && url.substr(slash) != "/";
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::optional<std::string> ReadSiteUrl(const json::Object& block, std::string_view path,
                                       const std::string& key, Problems& problems) {
  std::string key_path = Child(path, key);
  std::optional<std::string> url = ReadHttpUrl(block.get(key), key_path, problems);
  if (url && HasPath(*url)) {
    Report(problems, key_path,
           Quote(*url) + " must be the site only (e.g. https://yourorg.my.salesforce.com)");
    return std::nullopt;
  }
  if (url) return WithoutTrailingSlash(*url);
  return std::nullopt;
}

// A key that belongs to the other auth kind is a mistake worth reporting: the admin believes
// it is being used.
void RejectKey(const json::Object& block, std::string_view path, const std::string& key,
               std::string_view only_for, Problems& problems) {
  if (block.has(key)) {
    Report(problems, Child(path, key), "only used with auth " + std::string(only_for));
  }
}

// Whether the required `key` is in the block; reports it missing (with what it is) if not.
bool Present(const json::Object& block, const std::string& key_path, const std::string& key,
             std::string_view what, Problems& problems) {
  if (block.has(key)) return true;
  Report(problems, key_path, "missing (" + std::string(what) + ")");
  return false;
}

std::optional<std::string> RequireString(const json::Object& block, std::string_view path,
                                         const std::string& key, std::string_view what,
                                         Problems& problems) {
  std::string key_path = Child(path, key);
  if (!Present(block, key_path, key, what, problems)) return std::nullopt;
  std::optional<std::string> text = json::ReadString(block.get(key), key_path, problems);
  if (text && text->empty()) {
    Report(problems, key_path, "must not be empty (" + std::string(what) + ")");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> RequireSecret(const json::Object& block, std::string_view path,
                                         const std::string& key, std::string_view what,
                                         Problems& problems) {
  std::string key_path = Child(path, key);
  if (!Present(block, key_path, key, what, problems)) return std::nullopt;
  return ReadSecret(block.get(key), key_path, problems);  // reports an empty secret itself
}

std::optional<std::string> ReadApiVersion(const json::Var& value, std::string_view path,
                                          Problems& problems) {
  std::optional<std::string> text = json::ReadString(value, path, problems);
  if (!text) return std::nullopt;
  const std::string& v = *text;
  bool form = v.size() == 4 && std::isdigit(static_cast<unsigned char>(v[0])) &&
              std::isdigit(static_cast<unsigned char>(v[1])) && v.substr(2) == ".0";
  if (!form || std::stoi(v.substr(0, 2)) < kMinApiVersion) {
    Report(problems, path, Quote(v) + " is not an API version (\"NN.0\", 46.0 or later)");
    return std::nullopt;
  }
  return text;
}

void ReadClientCredentials(const json::Object& block, std::string_view path, SalesforceAuth& auth,
                           Problems& problems) {
  for (const char* key : {"username", "private_key", "audience"}) {
    RejectKey(block, path, key, "jwt_bearer", problems);
  }
  if (!block.has("login_url")) {
    Report(problems, Child(path, "login_url"),
           "missing (the org's My Domain, e.g. https://yourorg.my.salesforce.com)");
  } else if (auto url = ReadSiteUrl(block, path, "login_url", problems)) {
    std::string host = HostOf(*url);
    if (host == "login.salesforce.com" || host == "test.salesforce.com") {
      Report(problems, Child(path, "login_url"),
             "client credentials must go to the org's My Domain "
             "(https://yourorg.my.salesforce.com), " +
                 host + " refuses them");
    }
    auth.login_url = *url;
  }
  if (auto secret =
          RequireSecret(block, path, "client_secret", "the app's consumer secret", problems)) {
    auth.client_secret = std::move(*secret);
  }
}

void ReadJwtBearer(const json::Object& block, std::string_view path, SalesforceAuth& auth,
                   Problems& problems) {
  RejectKey(block, path, "client_secret", "client_credentials", problems);
  if (block.has("audience")) {
    if (auto audience = ReadSiteUrl(block, path, "audience", problems)) auth.audience = *audience;
  }
  auth.login_url = auth.audience;
  if (block.has("login_url")) {
    if (auto url = ReadSiteUrl(block, path, "login_url", problems)) auth.login_url = *url;
  }
  if (auto username = RequireString(block, path, "username",
                                    "the Salesforce username the agent acts as", problems)) {
    auth.username = std::move(*username);
  }
  if (auto key =
          RequireSecret(block, path, "private_key", "PEM text of the app's RSA key", problems)) {
    Status usable = CheckRsaPrivateKey(*key);
    if (!usable.ok()) Report(problems, Child(path, "private_key"), usable.error().message);
    auth.private_key_pem = std::move(*key);
  }
}

}  // namespace

std::string_view SalesforceAuthName(SalesforceAuthKind kind) { return kAuthKinds.Name(kind); }

std::optional<SalesforceAuth> ParseSalesforceAuth(const json::Object& block, std::string_view path,
                                                  Problems& problems) {
  std::size_t before = problems.size();
  SalesforceAuth auth;
  if (auto client_id =
          RequireString(block, path, "client_id", "the app's consumer key", problems)) {
    auth.client_id = std::move(*client_id);
  }
  if (block.has("api_version")) {
    if (auto v = ReadApiVersion(block.get("api_version"), Child(path, "api_version"), problems)) {
      auth.api_version = *v;
    }
  }
  if (block.has("request_timeout_ms")) {
    if (auto ms =
            json::ReadNumberInRange(block.get("request_timeout_ms"),
                                    Child(path, "request_timeout_ms"), 1000, 120000, problems)) {
      auth.request_timeout = Millis(*ms);
    }
  }
  std::optional<SalesforceAuthKind> kind;
  if (!block.has("auth")) {
    Report(problems, Child(path, "auth"), "missing (" + kAuthKinds.List() + ")");
  } else {
    kind = json::ReadChoice(block.get("auth"), Child(path, "auth"), "an auth type", kAuthKinds,
                            problems);
  }
  if (kind == SalesforceAuthKind::kClientCredentials) {
    auth.kind = *kind;
    ReadClientCredentials(block, path, auth, problems);
  } else if (kind == SalesforceAuthKind::kJwtBearer) {
    auth.kind = *kind;
    ReadJwtBearer(block, path, auth, problems);
  }
  if (problems.size() != before) return std::nullopt;
  return auth;
}

// ---- SalesforceClient --------------------------------------------------------------------------

SalesforceClient::SalesforceClient(SalesforceAuth auth, HttpClient& http, const Clock& clock)
    : auth_(std::move(auth)),
      http_(http),
      clock_(clock),
      tokens_(clock, [this] { return FetchToken(); }) {}

std::string SalesforceClient::DataPath() const { return "/services/data/v" + auth_.api_version; }

Result<std::string> SalesforceClient::TokenRequestBody() const {
  if (auth_.kind == SalesforceAuthKind::kClientCredentials) {
    return ClientCredentialsBody(auth_.client_id, auth_.client_secret);
  }
  long long now_seconds = ToEpochMillis(clock_.Now()) / 1000;
  JwtClaims claims{auth_.client_id, auth_.username, auth_.audience,
                   now_seconds + kJwtLifetime.count()};
  Result<std::string> assertion = JwtAssertion(claims, auth_.private_key_pem);
  if (!assertion) return assertion.error();
  return JwtBearerBody(*assertion);
}

Result<AccessToken> SalesforceClient::FetchToken() {
  Result<std::string> body = TokenRequestBody();
  if (!body) return body.error();
  HttpRequest request;
  request.method = "POST";
  request.url = auth_.login_url + std::string(kTokenPath);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = std::move(*body);
  request.timeout = auth_.request_timeout;
  Result<HttpResponse> response = http_.Send(request);
  if (!response) return response.error();
  Result<AccessToken> token = ParseTokenResponse(response->status, response->body);
  if (token) {
    std::lock_guard lock(mutex_);
    instance_url_ = token->instance_url;
  }
  return token;
}

Result<HttpResponse> SalesforceClient::SendWith(const AccessToken& token, std::string_view method,
                                                std::string_view path, std::string_view json_body) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = token.instance_url + DataPath() + std::string(path);
  request.headers = {{"Authorization", "Bearer " + token.value}, {"Accept", "application/json"}};
  if (!json_body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::string(json_body);
  request.timeout = auth_.request_timeout;
  ++api_calls_;
  Result<HttpResponse> response = http_.Send(request);
  if (response) {
    if (auto info = response->Header("Sforce-Limit-Info")) {
      if (auto usage = ParseLimitInfo(*info)) {
        std::lock_guard lock(mutex_);
        org_usage_ = usage;
      }
    }
  }
  return response;
}

Result<HttpResponse> SalesforceClient::Send(std::string_view method, std::string_view path,
                                            std::string_view json_body) {
  Result<AccessToken> token = tokens_.Get();
  if (!token) return token.error();
  Result<HttpResponse> response = SendWith(*token, method, path, json_body);
  // 3.5: a 401 (INVALID_SESSION_ID) means the session ended; Salesforce tokens carry no expiry,
  // so this is the only renewal signal. One new token, one more try.
  if (!response || response->status != 401) return response;
  tokens_.Invalidate(token->value);
  token = tokens_.Get();
  if (!token) return token.error();
  return SendWith(*token, method, path, json_body);
}

SalesforceClient::Usage SalesforceClient::usage() const {
  Usage usage;
  usage.api_calls = api_calls_.load();
  usage.token_requests = tokens_.fetches();
  std::lock_guard lock(mutex_);
  usage.instance_url = instance_url_;
  usage.org_usage = org_usage_;
  return usage;
}

ConnectorDetails SalesforceClient::Details() const {
  Usage now = usage();
  ConnectorDetails details;
  details["auth"] = std::string(SalesforceAuthName(auth_.kind));
  details["login_url"] = auth_.login_url;
  details["instance_url"] = now.instance_url;
  details["api_version"] = auth_.api_version;
  details["token_requests"] = static_cast<int64_t>(now.token_requests);
  details["api_calls"] = static_cast<int64_t>(now.api_calls);
  if (now.org_usage) {
    details["org_api_usage"] = DetailGroup{{"used", static_cast<int64_t>(now.org_usage->used)},
                                           {"max", static_cast<int64_t>(now.org_usage->max)}};
  }
  return details;
}

}  // namespace presence::connectors
