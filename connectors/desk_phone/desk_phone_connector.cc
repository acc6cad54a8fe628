#include "connectors/desk_phone/desk_phone_connector.h"

#include <array>
#include <utility>

#include "common/enum_names.h"
#include "common/json_read.h"
#include "connectors/connector_config.h"
#include "connectors/http/http_client.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Problems;
using json::Quote;
using json::ReadOptionalNumber;
using json::Report;

constexpr EnumNames<DeskPhoneVendor, 3> kVendors = {{
    {DeskPhoneVendor::kYealink, "yealink"},
    {DeskPhoneVendor::kGrandstream, "grandstream"},
    {DeskPhoneVendor::kCustom, "custom"},
}};

constexpr std::array<std::string_view, 2> kSchemes = {"http", "https"};

constexpr long long kMinTimeoutMs = 100;
constexpr long long kMaxTimeoutMs = 60000;

// A desk_phone mapping block has nothing to say: the state's reason_code is what is dialled.
void CheckStateMappings(const BlockContext& context, Problems& problems) {
  RefuseStateMappings(context.catalog, "desk_phone", "it dials the state's reason_code", problems);
}

void ReadVendorKeys(const BlockContext& context, DeskPhoneAccess& access, Problems& problems) {
  const json::Object& block = context.block;
  bool custom = access.vendor == DeskPhoneVendor::kCustom;
  if (block.has("scheme")) {
    if (custom) {
      Report(problems, Child(context.path, "scheme"),
             "not used with vendor \"custom\" (the url_template's own scheme is used)");
    } else if (auto scheme = json::ReadChoice(block.get("scheme"), Child(context.path, "scheme"),
                                              "a scheme", kSchemes, problems)) {
      access.scheme = std::string(*scheme);
    }
  }
  if (block.has("url_template")) {
    std::string path = Child(context.path, "url_template");
    if (!custom) {
      Report(problems, path, "only for vendor \"custom\" (yealink and grandstream URLs are fixed)");
    } else if (auto text = json::ReadString(block.get("url_template"), path, problems)) {
      for (const std::string& problem : CheckUrlTemplate(*text)) Report(problems, path, problem);
      access.url_template = *text;
    }
  } else if (custom) {
    Report(problems, Child(context.path, "url_template"),
           "missing (vendor \"custom\" needs one, e.g. \"http://{host}/dial?number={code}\")");
  }
}

void ReadCredentials(const BlockContext& context, DeskPhoneAccess& access, Problems& problems) {
  const json::Object& block = context.block;
  if (block.has("username")) {
    std::string path = Child(context.path, "username");
    if (access.vendor == DeskPhoneVendor::kGrandstream) {
      Report(problems, path, "not used by vendor \"grandstream\" (its passcode is the password)");
    } else if (auto name = json::ReadString(block.get("username"), path, problems)) {
      if (name->empty() || name->find(':') != std::string::npos) {
        Report(problems, path, "must be a non-empty name without ':' (HTTP Basic auth)");
      } else {
        access.username = *name;
      }
    }
  }
  std::string path = Child(context.path, "password");
  bool required = access.vendor != DeskPhoneVendor::kCustom;
  if (block.has("password")) {
    if (auto secret = ReadSecret(block.get("password"), path, problems)) {
      access.password = std::move(*secret);
    }
  } else if (required) {
    Report(problems, path,
           "missing (the phone's admin password: a string, {\"env\": \"NAME\"} or "
           "{\"file\": \"path\"})");
  }
}

std::shared_ptr<const ConnectorSettings> ParseDeskPhone(const BlockContext& context,
                                                        Problems& problems) {
  const std::size_t before = problems.size();
  auto settings = std::make_shared<DeskPhoneSettings>();
  const json::Object& block = context.block;
  std::string vendor_path = Child(context.path, "vendor");
  std::optional<DeskPhoneVendor> vendor;
  if (!block.has("vendor")) {
    Report(problems, vendor_path, "missing (yealink, grandstream or custom)");
  } else {
    vendor = json::ReadChoice(block.get("vendor"), vendor_path, "a desk phone vendor", kVendors,
                              problems);
  }
  if (vendor) {
    settings->access.vendor = *vendor;
    ReadVendorKeys(context, settings->access, problems);
    ReadCredentials(context, settings->access, problems);
  }
  if (auto port = ReadOptionalNumber(block, "port", context.path, 1, 65535, problems)) {
    settings->access.port = static_cast<int>(*port);
  }
  if (auto ms = ReadOptionalNumber(block, "request_timeout_ms", context.path, kMinTimeoutMs,
                                   kMaxTimeoutMs, problems)) {
    settings->request_timeout = Millis(*ms);
  }
  CheckStateMappings(context, problems);
  if (problems.size() != before) return nullptr;
  return settings;
}

class DeskPhoneConnector final : public Connector {
 public:
  DeskPhoneConnector(std::shared_ptr<const DeskPhoneSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)), env_(env) {}

  // An empty reason code dials nothing (seed 004: codes are the PBX's dial commands).
  bool Wants(const Change& change, const Directory&) const override {
    return !change.reason_code.empty();
  }

  // Delivered, retried and rejected dials are counted by the dispatcher (connector status).
  std::optional<ConnectorDetails> Details() const override {
    const DeskPhoneAccess& access = settings_->access;
    ConnectorDetails details;
    details["vendor"] = std::string(DeskPhoneVendorName(access.vendor));
    if (access.vendor != DeskPhoneVendor::kCustom) details["scheme"] = access.scheme;
    details["request_timeout_ms"] = static_cast<int64_t>(settings_->request_timeout.count());
    return details;
  }

  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override {
    const Change& change = delivery.change;
    if (change.reason_code.empty()) return DeliveryResult::Delivered("nothing to dial");
    const User* user = directory.FindUser(change.agent);
    if (user == nullptr) {
      return DeliveryResult::Rejected("user " + Quote(change.agent) +
                                      " is not configured (no desk phone to dial)");
    }
    auto phone = user->identities.find("desk_phone");
    if (phone == user->identities.end() || phone->second.empty()) {
      return DeliveryResult::Rejected("user " + Quote(user->id) +
                                      " has no desk phone (set users[].identities.desk_phone "
                                      "to the phone's host or host:port)");
    }
    DialTarget target{.address = phone->second,
                      .code = change.reason_code,
                      .extension = user->extension,
                      .user_id = user->id};
    Result<HttpRequest> request =
        BuildDialRequest(settings_->access, target, settings_->request_timeout);
    if (!request) {
      return DeliveryResult::Rejected("user " + Quote(user->id) + ": " + request.error().message);
    }
    std::string what = "dial " + Quote(change.reason_code) + " for " + Quote(user->id) + " at " +
                       RedactUrl(request->url);
    Result<HttpResponse> answer = env_.http->Send(*request);
    DeliveryResult result =
        ReadDialAnswer(settings_->access.vendor, answer, env_.clock->Now(), what);
    // One phone that is off or busy says nothing about the other users' phones.
    result.whole_connector = false;
    return result;
  }

 private:
  std::shared_ptr<const DeskPhoneSettings> settings_;
  ConnectorEnv env_;
};

std::unique_ptr<Connector> CreateDeskPhone(std::shared_ptr<const ConnectorSettings> settings,
                                           const ConnectorEnv& env) {
  return std::make_unique<DeskPhoneConnector>(
      SettingsAs<DeskPhoneSettings>(std::move(settings), "desk_phone"), env);
}

}  // namespace

ConnectorType DeskPhoneConnectorType() {
  DeliveryPolicy defaults;
  defaults.coalesce = true;  // only the state the user is in now matters to the PBX
  defaults.concurrency = 8;
  defaults.skip_sources = {reasoncodes::Source::kPbx};
  return ConnectorType{
      .type = "desk_phone",
      .summary =
          "dials the reason code on each user's desk phone (Yealink, Grandstream, custom "
          "action URL)",
      .keys = {"vendor", "scheme", "port", "username", "password", "url_template",
               "request_timeout_ms"},
      .defaults = std::move(defaults),
      .mode = "dial_command",
      .parse = ParseDeskPhone,
      .create = CreateDeskPhone,
  };
}

}  // namespace presence::connectors
