#include "connectors/desk_phone/desk_phone_connector.h"

#include <array>
#include <atomic>
#include <stdexcept>
#include <utility>

#include "connectors/connector_config.h"
#include "connectors/http/http_client.h"
#include "reasoncodes/json_read.h"

namespace presence::connectors {
namespace {

using reasoncodes::Child;
using reasoncodes::Problems;
using reasoncodes::Quote;
using reasoncodes::Report;

constexpr std::array<std::pair<std::string_view, DeskPhoneVendor>, 3> kVendors = {{
    {"yealink", DeskPhoneVendor::kYealink},
    {"grandstream", DeskPhoneVendor::kGrandstream},
    {"custom", DeskPhoneVendor::kCustom},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kSchemes = {{
    {"http", "http"},
    {"https", "https"},
}};

constexpr long long kMinTimeoutMs = 100;
constexpr long long kMaxTimeoutMs = 60000;

// A desk_phone mapping block has nothing to say: the state's reason_code is what is dialled.
void CheckStateMappings(const BlockContext& context, Problems& problems) {
  const auto& states = context.catalog.states();
  for (std::size_t i = 0; i < states.size(); ++i) {
    auto mapping = states[i].mappings.find("desk_phone");
    if (mapping == states[i].mappings.end() || !mapping->second) continue;
    std::string path = "states[" + std::to_string(i) + "].mappings.desk_phone";
    for (const auto& entry : *mapping->second) {
      Report(problems, Child(path, entry.first),
             "unknown key (desk_phone takes no per-state settings: it dials the state's "
             "reason_code)");
    }
  }
}

void ReadVendorKeys(const BlockContext& context, DeskPhoneSettings& settings, Problems& problems) {
  const reasoncodes::Object& block = context.block;
  bool custom = settings.vendor == DeskPhoneVendor::kCustom;
  if (block.has("scheme")) {
    if (custom) {
      Report(problems, Child(context.path, "scheme"),
             "not used with vendor \"custom\" (the url_template's own scheme is used)");
    } else if (auto scheme =
                   reasoncodes::ReadChoice(block.get("scheme"), Child(context.path, "scheme"),
                                           "a scheme", kSchemes, problems)) {
      settings.scheme = std::string(*scheme);
    }
  }
  if (block.has("url_template")) {
    std::string path = Child(context.path, "url_template");
    if (!custom) {
      Report(problems, path, "only for vendor \"custom\" (yealink and grandstream URLs are fixed)");
    } else if (auto text = reasoncodes::ReadString(block.get("url_template"), path, problems)) {
      for (const std::string& problem : CheckUrlTemplate(*text)) Report(problems, path, problem);
      settings.url_template = *text;
    }
  } else if (custom) {
    Report(problems, Child(context.path, "url_template"),
           "missing (vendor \"custom\" needs one, e.g. \"http://{host}/dial?number={code}\")");
  }
}

void ReadCredentials(const BlockContext& context, DeskPhoneSettings& settings, Problems& problems) {
  const reasoncodes::Object& block = context.block;
  if (block.has("username")) {
    std::string path = Child(context.path, "username");
    if (settings.vendor == DeskPhoneVendor::kGrandstream) {
      Report(problems, path, "not used by vendor \"grandstream\" (its passcode is the password)");
    } else if (auto name = reasoncodes::ReadString(block.get("username"), path, problems)) {
      if (name->empty() || name->find(':') != std::string::npos) {
        Report(problems, path, "must be a non-empty name without ':' (HTTP Basic auth)");
      } else {
        settings.username = *name;
      }
    }
  }
  std::string path = Child(context.path, "password");
  bool required = settings.vendor != DeskPhoneVendor::kCustom;
  if (block.has("password")) {
    if (auto secret = ReadSecret(block.get("password"), path, problems)) {
      settings.password = std::move(*secret);
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
  const reasoncodes::Object& block = context.block;
  std::string vendor_path = Child(context.path, "vendor");
  std::optional<DeskPhoneVendor> vendor;
  if (!block.has("vendor")) {
    Report(problems, vendor_path, "missing (yealink, grandstream or custom)");
  } else {
    vendor = reasoncodes::ReadChoice(block.get("vendor"), vendor_path, "a desk phone vendor",
                                     kVendors, problems);
  }
  if (vendor) {
    settings->vendor = *vendor;
    ReadVendorKeys(context, *settings, problems);
    ReadCredentials(context, *settings, problems);
  }
  if (block.has("port")) {
    if (auto port = reasoncodes::ReadNumberInRange(block.get("port"), Child(context.path, "port"),
                                                   1, 65535, problems)) {
      settings->port = static_cast<int>(*port);
    }
  }
  if (block.has("request_timeout_ms")) {
    if (auto ms = reasoncodes::ReadNumberInRange(block.get("request_timeout_ms"),
                                                 Child(context.path, "request_timeout_ms"),
                                                 kMinTimeoutMs, kMaxTimeoutMs, problems)) {
      settings->request_timeout = Millis(*ms);
    }
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

  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override {
    DeliveryResult result = Dial(delivery.change, directory);
    (result.kind == DeliveryResult::Kind::kDelivered ? dialled_ : failed_).fetch_add(1);
    return result;
  }

  Poco::JSON::Object::Ptr Details() const override {
    Poco::JSON::Object::Ptr details = new Poco::JSON::Object;
    details->set("vendor", std::string(DeskPhoneVendorName(settings_->vendor)));
    if (settings_->vendor != DeskPhoneVendor::kCustom) details->set("scheme", settings_->scheme);
    details->set("request_timeout_ms", static_cast<int64_t>(settings_->request_timeout.count()));
    details->set("dialled", dialled_.load());
    details->set("failed", failed_.load());
    return details;
  }

 private:
  DeliveryResult Dial(const Change& change, const Directory& directory) const {
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
    Result<HttpRequest> request =
        BuildDialRequest(Target(*user, phone->second, change), settings_->request_timeout);
    if (!request) {
      return DeliveryResult::Rejected("user " + Quote(user->id) + ": " + request.error().message);
    }
    std::string what = "dial " + Quote(change.reason_code) + " for " + Quote(user->id) + " at " +
                       RedactUrl(request->url);
    Result<HttpResponse> answer = env_.http->Send(*request);
    DeliveryResult result = ReadDialAnswer(settings_->vendor, answer, env_.clock->Now(), what);
    // One phone that is off or busy says nothing about the other users' phones.
    result.whole_connector = false;
    return result;
  }

  DialTarget Target(const User& user, const std::string& address, const Change& change) const {
    DialTarget target;
    target.vendor = settings_->vendor;
    target.scheme = settings_->scheme;
    target.port = settings_->port;
    target.username = settings_->username;
    target.password = settings_->password;
    target.url_template = settings_->url_template;
    target.address = address;
    target.code = change.reason_code;
    target.extension = user.extension;
    target.user_id = user.id;
    return target;
  }

  std::shared_ptr<const DeskPhoneSettings> settings_;
  ConnectorEnv env_;
  std::atomic<int64_t> dialled_{0};
  std::atomic<int64_t> failed_{0};
};

std::unique_ptr<Connector> CreateDeskPhone(std::shared_ptr<const ConnectorSettings> settings,
                                           const ConnectorEnv& env) {
  auto own = std::dynamic_pointer_cast<const DeskPhoneSettings>(settings);
  if (!own) throw std::invalid_argument("desk_phone: settings of another connector type");
  if (env.http == nullptr || env.clock == nullptr) {
    throw std::invalid_argument("desk_phone: needs an HTTP client and a clock");
  }
  return std::make_unique<DeskPhoneConnector>(std::move(own), env);
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
