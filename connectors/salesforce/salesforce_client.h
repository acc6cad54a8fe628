#pragma once

// A Salesforce REST client shared by the Salesforce connectors (Omni-Channel today, the
// time-tracking sync later): it gets an OAuth token (client credentials, 3.1, or JWT bearer,
// 3.2), keeps it until Salesforce refuses it (tokens carry no expiry; a 401
// INVALID_SESSION_ID renews it and the request is retried once, 3.5), and sends requests
// relative to the org's instance_url + /services/data/vNN.0. It counts the REST calls it makes
// (they spend the org's daily API allocation) separately from token requests (which do not).
//
// Configuration keys (read by ParseSalesforceAuth, part of a connector's block):
//   login_url          where tokens come from. client_credentials: the org's My Domain
//                      (https://yourorg.my.salesforce.com; login/test.salesforce.com refuse
//                      that grant). jwt_bearer: default https://login.salesforce.com.
//   auth               "client_credentials" | "jwt_bearer"
//   client_id          the consumer key of the External Client App / connected app
//   client_secret      secret; client_credentials only
//   username           jwt_bearer only: the user the agent acts as (sub)
//   private_key        secret; jwt_bearer only: PEM text of the unencrypted RSA key whose
//                      certificate is uploaded to the app
//   audience           jwt_bearer only (aud): default https://login.salesforce.com
//                      (https://test.salesforce.com for sandboxes)
//   api_version        "NN.0", 46.0 or later (sObject Collections upsert); default "59.0"
//   request_timeout_ms 1000-120000, default 10000

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_read.h"
#include "common/result.h"
#include "common/time.h"
#include "connectors/connector_details.h"
#include "connectors/http/http_client.h"
#include "connectors/http/token_cache.h"
#include "connectors/salesforce/salesforce_protocol.h"

namespace presence::connectors {

enum class SalesforceAuthKind { kClientCredentials, kJwtBearer };
std::string_view SalesforceAuthName(SalesforceAuthKind kind);  // "client_credentials", ...

inline constexpr std::string_view kDefaultSalesforceAudience = "https://login.salesforce.com";
inline constexpr std::string_view kDefaultSalesforceApiVersion = "59.0";

struct SalesforceAuth {
  SalesforceAuthKind kind = SalesforceAuthKind::kClientCredentials;
  std::string login_url;  // without a trailing slash
  std::string client_id;
  std::string client_secret;    // secret
  std::string username;         // jwt_bearer
  std::string private_key_pem;  // secret; jwt_bearer
  std::string audience = std::string(kDefaultSalesforceAudience);
  std::string api_version = std::string(kDefaultSalesforceApiVersion);
  Millis request_timeout{10000};
};

// The keys ParseSalesforceAuth reads, for a connector type's `keys` list.
inline constexpr std::array<std::string_view, 9> kSalesforceAuthKeys = {
    "login_url",   "auth",     "client_id",   "client_secret",     "username",
    "private_key", "audience", "api_version", "request_timeout_ms"};

// Reads the keys above from a connector block at `path` ("connectors[1]"), reporting each
// problem at its key ("connectors[1].client_id: missing ..."). nullopt when there is one.
std::optional<SalesforceAuth> ParseSalesforceAuth(const json::Object& block, std::string_view path,
                                                  json::Problems& problems);

class SalesforceClient {
 public:
  // `http` and `clock` must outlive the client.
  SalesforceClient(SalesforceAuth auth, HttpClient& http, const Clock& clock);

  // Sends `method` to instance_url + DataPath() + `path` ("/sobjects/X__e/") with a JSON body
  // (none when empty) and the bearer token. Any answer from Salesforce is a response, whatever
  // its status; after a 401 the token is renewed and the request sent once more, and that
  // answer is returned. Errors: no token (code "network"/"timeout" when the token endpoint was
  // unreachable, the OAuth error such as "invalid_grant" when it refused, "bad_response" or
  // "bad_key" otherwise) or the REST request itself failed ("network"/"timeout").
  // Thread-safe: workers share one token.
  Result<HttpResponse> Send(std::string_view method, std::string_view path,
                            std::string_view json_body = {});

  // "/services/data/v59.0": the prefix of composite subrequest URLs.
  std::string DataPath() const;
  const SalesforceAuth& auth() const { return auth_; }

  struct Usage {
    long long api_calls = 0;            // REST requests sent (each retry counts)
    long long token_requests = 0;       // token endpoint requests (not charged to the API limit)
    std::string instance_url;           // of the last token, "" before the first
    std::optional<ApiUsage> org_usage;  // the last Sforce-Limit-Info seen
  };
  Usage usage() const;

  // {"auth", "login_url", "instance_url", "api_version", "token_requests", "api_calls",
  // "org_api_usage": {"used", "max"}} for a connector's Details; never a secret or token.
  ConnectorDetails Details() const;

 private:
  Result<AccessToken> FetchToken();
  Result<std::string> TokenRequestBody() const;
  Result<HttpResponse> SendWith(const AccessToken& token, std::string_view method,
                                std::string_view path, std::string_view json_body);

  SalesforceAuth auth_;
  HttpClient& http_;
  const Clock& clock_;
  TokenCache tokens_;
  std::atomic<long long> api_calls_{0};
  mutable std::mutex mutex_;  // guards the two below
  std::string instance_url_;
  std::optional<ApiUsage> org_usage_;
};

}  // namespace presence::connectors
