#include "connectors/omni_channel/omni_channel_connector.h"

#include <algorithm>
#include <array>
#include <vector>

#include "connectors/connector_config.h"
#include "reasoncodes/source.h"
#include "reasoncodes/status_code.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Problems;
using json::Quote;
using json::Report;

constexpr std::string_view kType = "omni_channel";
constexpr std::string_view kIdentity = "salesforce";
constexpr std::string_view kUserIdPrefix = "005";
constexpr std::string_view kPresenceStatusPrefix = "0N5";
constexpr std::array<std::string_view, 2> kMappingKeys = {"status_id", "logout"};

std::vector<std::string_view> BlockKeys() {
  std::vector<std::string_view> keys(kSalesforceAuthKeys.begin(), kSalesforceAuthKeys.end());
  keys.push_back("event_object");
  return keys;
}

DeliveryPolicy DefaultPolicy() {
  DeliveryPolicy policy;
  policy.coalesce = true;
  policy.concurrency = 2;
  policy.skip_sources = {reasoncodes::Source::kCrm};
  return policy;
}

// The mapping of the state in force with this label, or nullopt (no block, or the state is
// gone after a reload). Blocks were validated when the configuration was loaded.
std::optional<OmniChannelMapping> MappingFor(const std::string& label, const Directory& directory) {
  const reasoncodes::State* state = directory.FindState(label);
  if (!state) return std::nullopt;
  std::optional<json::Object> block = StateMapping(*state, kType);
  if (!block) return std::nullopt;
  Problems ignored;
  return ReadOmniChannelMapping(*block, "", ignored);
}

bool IsRequestLimit(const std::vector<SalesforceError>& errors) {
  return std::any_of(errors.begin(), errors.end(), [](const SalesforceError& error) {
    return error.code == kRequestLimitExceeded;
  });
}

class OmniChannelConnector final : public Connector {
 public:
  OmniChannelConnector(std::shared_ptr<const OmniChannelSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)),
        clock_(*env.clock),
        client_(settings_->auth, *env.http, *env.clock) {}

  bool Wants(const Change& change, const Directory& directory) const override {
    return MappingFor(change.label, directory).has_value();
  }

  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override;

  std::optional<ConnectorDetails> Details() const override {
    ConnectorDetails details = client_.Details();
    details["event_object"] = settings_->event_object;
    return details;
  }

 private:
  DeliveryResult Classify(const Result<HttpResponse>& response, const std::string& what) const;

  std::shared_ptr<const OmniChannelSettings> settings_;
  const Clock& clock_;
  SalesforceClient client_;
};

DeliveryResult OmniChannelConnector::Deliver(const Delivery& delivery, const Directory& directory) {
  const Change& change = delivery.change;
  std::optional<OmniChannelMapping> mapping = MappingFor(change.label, directory);
  if (!mapping) {
    return DeliveryResult::Delivered("state " + Quote(change.label) +
                                     " has no omni_channel mapping: nothing published");
  }
  const User* user = directory.FindUser(change.agent);
  if (!user) return DeliveryResult::Rejected("unknown user " + Quote(change.agent));
  auto identity = user->identities.find(std::string(kIdentity));
  if (identity == user->identities.end() || identity->second.empty()) {
    return DeliveryResult::Rejected(
        "user " + Quote(change.agent) +
        " has no identities.salesforce (the Salesforce user id, 005..., 15 or 18 characters)");
  }
  if (!IsSalesforceId(identity->second, kUserIdPrefix)) {
    return DeliveryResult::Rejected("user " + Quote(change.agent) + ": identities.salesforce " +
                                    Quote(identity->second) +
                                    " is not a Salesforce user id (005..., 15 or 18 characters)");
  }
  std::string body = FieldsJson(OmniChannelEventFields(change, identity->second, *mapping));
  std::string what = settings_->event_object + " for " + change.agent + " (" + change.label + ")";
  return Classify(client_.Send("POST", "/sobjects/" + settings_->event_object + "/", body), what);
}

// 3.5/3.6: 201 success:true is queued (its OPERATION_ENQUEUED entry is a receipt); a refusal
// of the event itself is final; limits, throttling and outages pass, so they are retried.
DeliveryResult OmniChannelConnector::Classify(const Result<HttpResponse>& response,
                                              const std::string& what) const {
  if (!response) return DeliveryResult::Retry(what + ": " + response.error().message);
  const HttpResponse& answer = *response;
  if (answer.status == 200 || answer.status == 201) {
    Result<SaveResult> result = ParseSaveResult(answer.body);
    if (!result) return DeliveryResult::Delivered(what + ": published (answer unreadable)");
    std::vector<SalesforceError> errors = RealErrors(*result);
    if (!result->success) {
      return DeliveryResult::Rejected(what + ": not published: " + DescribeErrors(errors));
    }
    return DeliveryResult::Delivered(what + ": published (event " + EnqueuedEventUuid(*result) +
                                     ")");
  }
  std::vector<SalesforceError> errors = ParseErrorArray(answer.body);
  std::string detail = what + ": HTTP " + std::to_string(answer.status);
  if (!errors.empty()) detail += " " + DescribeErrors(errors);
  bool passing = answer.status == 401 || answer.status == 408 || answer.status == 429 ||
                 answer.status >= 500 || (answer.status == 403 && IsRequestLimit(errors));
  if (passing) return DeliveryResult::Retry(detail, RetryAfter(answer, clock_.Now()));
  return DeliveryResult::Rejected(detail);
}

void CheckStateMappings(const reasoncodes::Catalog& catalog, Problems& problems) {
  ForEachStateMapping(catalog, kType, [&](const json::Object& block, const std::string& path) {
    ReadOmniChannelMapping(block, path, problems);
  });
}

std::shared_ptr<const ConnectorSettings> Parse(const BlockContext& context, Problems& problems) {
  std::size_t before = problems.size();
  auto settings = std::make_shared<OmniChannelSettings>();
  if (auto auth = ParseSalesforceAuth(context.block, context.path, problems)) {
    settings->auth = std::move(*auth);
  }
  if (context.block.has("event_object")) {
    std::string path = Child(context.path, "event_object");
    if (auto name = json::ReadString(context.block.get("event_object"), path, problems)) {
      if (IsApiName(*name, "__e")) {
        settings->event_object = *name;
      } else {
        Report(problems, path,
               Quote(*name) + " is not a platform event API name (e.g. Presence_Agent_Status__e)");
      }
    }
  }
  CheckStateMappings(context.catalog, problems);
  if (problems.size() != before) return nullptr;
  return settings;
}

std::unique_ptr<Connector> Create(std::shared_ptr<const ConnectorSettings> settings,
                                  const ConnectorEnv& env) {
  return std::make_unique<OmniChannelConnector>(
      SettingsAs<OmniChannelSettings>(std::move(settings), kType), env);
}

}  // namespace

std::optional<OmniChannelMapping> ReadOmniChannelMapping(const json::Object& block,
                                                         std::string_view path,
                                                         Problems& problems) {
  std::size_t before = problems.size();
  json::CheckKeys(block, path, kMappingKeys, problems);
  OmniChannelMapping mapping;
  if (block.has("status_id")) {
    std::string key_path = Child(path, "status_id");
    if (auto id = json::ReadString(block.get("status_id"), key_path, problems)) {
      if (IsSalesforceId(*id, kPresenceStatusPrefix)) {
        mapping.status_id = *id;
      } else {
        Report(problems, key_path,
               Quote(*id) + " is not a ServicePresenceStatus id (15 or 18 characters, 0N5...)");
      }
    }
  }
  if (block.has("logout")) {
    if (auto logout = json::ReadBool(block.get("logout"), Child(path, "logout"), problems)) {
      mapping.logout = *logout;
    }
  }
  if (problems.size() != before) return std::nullopt;
  if (mapping.logout && block.has("status_id")) {
    Report(problems, path, "status_id and \"logout\": true exclude each other");
    return std::nullopt;
  }
  if (!mapping.logout && !block.has("status_id")) {
    Report(problems, path,
           "needs \"status_id\" (a ServicePresenceStatus id, 0N5...) or \"logout\": true");
    return std::nullopt;
  }
  return mapping;
}

Fields OmniChannelEventFields(const Change& change, const std::string& salesforce_user,
                              const OmniChannelMapping& mapping) {
  FieldValue status_id = nullptr;
  if (!mapping.logout) status_id = mapping.status_id;
  return {
      {"User_Id__c", salesforce_user},
      {"Agent_Key__c", change.agent},
      {"Status_Id__c", std::move(status_id)},
      {"Logout__c", mapping.logout},
      {"Label__c", change.label},
      {"Reason_Code__c", change.reason_code},
      {"Status_Code__c", static_cast<long long>(reasoncodes::ToInt(change.status))},
      {"Changed_At__c", FormatTime(change.at)},
      {"Source__c", std::string(reasoncodes::SourceName(change.source))},
  };
}

ConnectorType OmniChannelConnectorType() {
  ConnectorType type;
  type.type = kType;
  type.summary = "Salesforce Omni-Channel: publishes a platform event per change for the console";
  type.keys = BlockKeys();
  type.defaults = DefaultPolicy();
  type.mode = "";
  type.parse = Parse;
  type.create = Create;
  return type;
}

}  // namespace presence::connectors
