#include "connectors/webhook/webhook_connector.h"

#include <Poco/String.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <utility>
#include <vector>

#include "common/json_read.h"
#include "connectors/connector_config.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Problems;
using json::Report;

constexpr long long kMinTimeoutMs = 100;
constexpr long long kMaxTimeoutMs = 120000;
constexpr std::string_view kUserAgent = "presence-agent";

// Headers the connector sets itself or the HTTP layer owns; "x-presence-*" is ours too.
constexpr std::array<std::string_view, 6> kReservedHeaders = {
    "content-type", "content-length", "user-agent", "host", "transfer-encoding", "connection"};

// RFC 9110 5.1: a field name is a token.
bool IsToken(std::string_view name) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

void CheckHeaderName(const std::string& name, const std::string& path,
                     std::vector<std::string>& seen_names, Problems& problems) {
  std::string lower = Poco::toLower(name);
  if (!IsToken(name)) {
    Report(problems, path, "is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
  } else if (lower.starts_with("x-presence-") ||
             std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) !=
                 kReservedHeaders.end()) {
    Report(problems, path,
           "is set by the connector itself (Content-Type, User-Agent, X-Presence-*) or by HTTP; "
           "pick another name");
  } else if (std::find(seen_names.begin(), seen_names.end(), lower) != seen_names.end()) {
    Report(problems, path, "is given twice (header names ignore case)");
  }
  seen_names.push_back(std::move(lower));
}

void ReadHeaders(const json::Var& value, const std::string& path, WebhookSettings& settings,
                 Problems& problems) {
  json::Object::Ptr object = json::AsObject(value);
  if (!object) {
    Report(problems, path,
           "must be an object of header name -> value (e.g. {\"X-Tenant\": \"acme\"}), got " +
               json::Describe(value));
    return;
  }
  std::vector<std::string> seen_names;
  for (const auto& [name, header_value] : *object) {
    std::string header_path = Child(path, name);
    const std::size_t before = problems.size();
    CheckHeaderName(name, header_path, seen_names, problems);
    // A value may be a token ({"env": ...}): read as a secret and never quoted back.
    std::optional<std::string> text = ReadSecret(header_value, header_path, problems);
    if (text && text->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      Report(problems, header_path, "value holds a line break or NUL (not allowed in a header)");
    }
    if (text && problems.size() == before) settings.headers.emplace_back(name, std::move(*text));
  }
}

void CheckStateMappings(const BlockContext& context, Problems& problems) {
  RefuseStateMappings(context.catalog, "webhook", "every change is sent as it is", problems);
}

void ReadSecretKey(const BlockContext& context, WebhookSettings& settings, Problems& problems) {
  std::string path = Child(context.path, "secret");
  if (!context.block.has("secret")) {
    Report(problems, path,
           "missing (the signing key, at least 16 bytes: a string, {\"env\": \"NAME\"} or "
           "{\"file\": \"path\"})");
    return;
  }
  std::optional<std::string> secret = ReadSecret(context.block.get("secret"), path, problems);
  if (!secret) return;
  if (secret->size() < kMinWebhookSecretBytes) {
    Report(problems, path,
           "is shorter than 16 bytes (use a random key, e.g. the output of `openssl rand -hex "
           "32`)");
    return;
  }
  settings.secret = std::move(*secret);
}

std::shared_ptr<const ConnectorSettings> ParseWebhook(const BlockContext& context,
                                                      Problems& problems) {
  const std::size_t before = problems.size();
  auto settings = std::make_shared<WebhookSettings>();
  settings->name = context.name;
  const json::Object& block = context.block;
  std::string url_path = Child(context.path, "url");
  if (!block.has("url")) {
    Report(problems, url_path, "missing (the receiver's http:// or https:// URL)");
  } else if (auto url = ReadHttpUrl(block.get("url"), url_path, problems)) {
    settings->url = *url;
  }
  ReadSecretKey(context, *settings, problems);
  if (block.has("headers")) {
    ReadHeaders(block.get("headers"), Child(context.path, "headers"), *settings, problems);
  }
  if (auto ms = json::ReadOptionalNumber(block, "request_timeout_ms", context.path, kMinTimeoutMs,
                                         kMaxTimeoutMs, problems)) {
    settings->request_timeout = Millis(*ms);
  }
  CheckStateMappings(context, problems);
  if (problems.size() != before) return nullptr;
  return settings;
}

class WebhookConnector final : public Connector {
 public:
  WebhookConnector(std::shared_ptr<const WebhookSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)), env_(env) {}

  bool Wants(const Change&, const Directory&) const override { return true; }

  // Delivered, retried and rejected posts are counted by the dispatcher (connector status).
  std::optional<ConnectorDetails> Details() const override {
    ConnectorDetails details;
    details["url"] = RedactUrl(settings_->url);
    std::vector<std::string> names;
    for (const auto& header : settings_->headers) names.push_back(header.first);
    details["headers"] = std::move(names);
    details["request_timeout_ms"] = static_cast<int64_t>(settings_->request_timeout.count());
    return details;
  }

  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override {
    const Change& change = delivery.change;
    // A user removed by a reload still had this change: send it with the id alone.
    const User* known = directory.FindUser(change.agent);
    User user = known != nullptr ? *known : User{.id = change.agent};
    std::string id = WebhookDeliveryId(settings_->name, delivery.id);
    HttpRequest request = Request(id, WebhookBody(id, user, change));
    std::string what = "POST " + id + " to " + RedactUrl(settings_->url);
    Result<HttpResponse> answer = env_.http->Send(request);
    if (answer && answer->status == 410) {
      return DeliveryResult::Rejected(
          what + ": the receiver answered 410 Gone (it no longer takes deliveries)");
    }
    return ClassifyHttp(answer, env_.clock->Now(), what);
  }

 private:
  // Signed at send time: a retry carries the same id and body with a fresh timestamp, so a
  // receiver may refuse stale timestamps without refusing retries.
  HttpRequest Request(const std::string& id, std::string body) const {
    auto seconds = std::chrono::floor<std::chrono::seconds>(env_.clock->Now());
    std::string timestamp = std::to_string(seconds.time_since_epoch().count());
    HttpRequest request;
    request.method = "POST";
    request.url = settings_->url;
    request.timeout = settings_->request_timeout;
    request.headers = {
        {"Content-Type", "application/json"},
        {"User-Agent", std::string(kUserAgent)},
        {"X-Presence-Delivery", id},
        {"X-Presence-Timestamp", timestamp},
        {"X-Presence-Signature", WebhookSignature(settings_->secret, timestamp, body)},
    };
    request.headers.insert(request.headers.end(), settings_->headers.begin(),
                           settings_->headers.end());
    request.body = std::move(body);
    return request;
  }

  std::shared_ptr<const WebhookSettings> settings_;
  ConnectorEnv env_;
};

std::unique_ptr<Connector> CreateWebhook(std::shared_ptr<const ConnectorSettings> settings,
                                         const ConnectorEnv& env) {
  return std::make_unique<WebhookConnector>(
      SettingsAs<WebhookSettings>(std::move(settings), "webhook"), env);
}

}  // namespace

ConnectorType WebhookConnectorType() {
  DeliveryPolicy defaults;
  defaults.coalesce = false;  // a CRM wants every change, in order
  defaults.concurrency = 4;
  defaults.skip_sources = {reasoncodes::Source::kCrm};
  return ConnectorType{
      .type = "webhook",
      .summary = "POSTs every change as signed JSON to a URL (HMAC-SHA256, X-Presence-Signature)",
      .keys = {"url", "secret", "headers", "request_timeout_ms"},
      .defaults = std::move(defaults),
      .mode = "",
      .parse = ParseWebhook,
      .create = CreateWebhook,
  };
}

}  // namespace presence::connectors
