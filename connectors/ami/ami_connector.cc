#include "connectors/ami/ami_connector.h"

#include <array>
#include <cctype>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "common/json_read.h"
#include "connectors/connector_config.h"

namespace presence::connectors {
namespace {

using json::Child;
using json::Object;
using json::Problems;
using json::Quote;
using json::Report;
using reasoncodes::StatusCode;

constexpr std::string_view kType = "ami";

const std::vector<std::string_view> kKeys = {
    "host",
    "port",
    "username",
    "secret",
    "events",
    "channel",
    "context",
    "priority",
    "originate_timeout_ms",
    "caller_id",
    "dial",
    "astdb_dnd",
    "device_state",
    "presence_state",
    "ping_seconds",
    "connect_timeout_ms",
    "action_timeout_ms",
};

constexpr std::array<std::string_view, 2> kMappingKeys = {"presence", "message"};

// The exact CustomPresence states (4.5).
constexpr std::array<std::string_view, 7> kPresenceStates = {
    "not_set", "unavailable", "available", "away", "xa", "chat", "dnd"};

constexpr std::array<std::string_view, 4> kPlaceholders = {"{extension}", "{label}",
                                                           "{reason_code}", "{user}"};

// ---- templates ------------------------------------------------------------------------------

struct TemplateValues {
  std::string extension;
  std::string label;
  std::string reason_code;
  std::string user;

  // `placeholder` is one of kPlaceholders, braces included.
  const std::string& Get(std::string_view placeholder) const {
    if (placeholder == "{extension}") return extension;
    if (placeholder == "{label}") return label;
    if (placeholder == "{reason_code}") return reason_code;
    return user;
  }
};

void CheckTemplate(std::string_view text, const std::string& path, Problems& problems) {
  for (std::size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      Report(problems, path, Quote(text) + " has a '{' without its '}'");
      return;
    }
    std::string_view placeholder = text.substr(open, close - open + 1);
    if (std::find(kPlaceholders.begin(), kPlaceholders.end(), placeholder) == kPlaceholders.end()) {
      Report(problems, path,
             "unknown placeholder " + std::string(placeholder) +
                 " (allowed: " + json::JoinWords(kPlaceholders) + ")");
    }
  }
}

// Templates were checked at load: every {name} is a known placeholder.
std::string Expand(std::string_view text, const TemplateValues& values) {
  std::string out;
  std::size_t at = 0;
  for (std::size_t open; (open = text.find('{', at)) != std::string_view::npos;) {
    std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) break;
    out += text.substr(at, open - at);
    out += values.Get(text.substr(open, close - open + 1));
    at = close + 1;
  }
  out += text.substr(at);
  return out;
}

// ---- settings -------------------------------------------------------------------------------

// A state's "ami" mapping block, read and checked.
struct AmiMapping {
  std::optional<std::string> presence;  // not_set|unavailable|available|away|xa|chat|dnd
  std::optional<std::string> message;
};

std::optional<long long> OptionalNumber(const BlockContext& context, std::string_view key,
                                        long long min, long long max, Problems& problems) {
  if (!context.block.has(std::string(key))) return std::nullopt;
  return json::ReadNumberInRange(context.block.get(std::string(key)), Child(context.path, key), min,
                                 max, problems);
}

std::optional<bool> OptionalBool(const BlockContext& context, std::string_view key,
                                 Problems& problems) {
  if (!context.block.has(std::string(key))) return std::nullopt;
  return json::ReadBool(context.block.get(std::string(key)), Child(context.path, key), problems);
}

// A string without spaces or line breaks (host names, contexts, user names, event classes).
std::optional<std::string> OptionalWord(const BlockContext& context, std::string_view key,
                                        std::string_view what, Problems& problems) {
  if (!context.block.has(std::string(key))) return std::nullopt;
  std::string path = Child(context.path, key);
  auto text = json::ReadString(context.block.get(std::string(key)), path, problems);
  if (!text) return std::nullopt;
  bool blank = std::any_of(text->begin(), text->end(),
                           [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (text->empty() || blank) {
    Report(problems, path, Quote(*text) + " is not " + std::string(what) + " (no spaces)");
    return std::nullopt;
  }
  return text;
}

bool IsEventList(std::string_view events) {
  if (events == "on" || events == "off") return true;
  bool word = false;
  for (char c : events) {
    if (c == ',') {
      if (!word) return false;
      word = false;
    } else if (std::islower(static_cast<unsigned char>(c))) {
      word = true;
    } else {
      return false;
    }
  }
  return word;
}

void ReadServer(const BlockContext& context, AmiSettings& settings, Problems& problems) {
  AmiSessionOptions& session = settings.session;
  if (auto host = OptionalWord(context, "host", "a host name or address", problems)) {
    session.host = *host;
  }
  if (auto port = OptionalNumber(context, "port", 1, 65535, problems)) {
    session.port = static_cast<uint16_t>(*port);
  }
  if (!context.block.has("username")) {
    Report(problems, Child(context.path, "username"),
           "missing (the AMI user of manager.conf is required)");
  } else if (auto user = OptionalWord(context, "username", "an AMI user name", problems)) {
    session.username = *user;
  }
  if (!context.block.has("secret")) {
    Report(problems, Child(context.path, "secret"),
           "missing (the AMI user's secret: a string, {\"env\": NAME} or {\"file\": PATH})");
  } else if (auto secret =
                 ReadSecret(context.block.get("secret"), Child(context.path, "secret"), problems)) {
    session.secret = *secret;
  }
  if (auto events = OptionalWord(context, "events", "an event setting", problems)) {
    if (IsEventList(*events)) {
      session.events = *events;
    } else {
      Report(problems, Child(context.path, "events"),
             Quote(*events) + " is not on, off or a list of event classes (e.g. \"call,agent\")");
    }
  }
}

void ReadTimings(const BlockContext& context, AmiSettings& settings, Problems& problems) {
  if (auto seconds = OptionalNumber(context, "ping_seconds", 1, 3600, problems)) {
    settings.session.ping_interval = std::chrono::seconds(*seconds);
  }
  if (auto ms = OptionalNumber(context, "connect_timeout_ms", 100, 60000, problems)) {
    settings.session.connect_timeout = Millis(*ms);
  }
  if (auto ms = OptionalNumber(context, "action_timeout_ms", 100, 120000, problems)) {
    settings.session.action_timeout = Millis(*ms);
  }
  if (auto ms = OptionalNumber(context, "originate_timeout_ms", 1000, 120000, problems)) {
    settings.originate_timeout = Millis(*ms);
  }
}

std::optional<std::string> ReadTemplate(const BlockContext& context, std::string_view key,
                                        Problems& problems) {
  if (!context.block.has(std::string(key))) return std::nullopt;
  std::string path = Child(context.path, key);
  auto text = json::ReadString(context.block.get(std::string(key)), path, problems);
  if (!text) return std::nullopt;
  std::size_t before = problems.size();
  CheckTemplate(*text, path, problems);
  if (problems.size() != before) return std::nullopt;
  return text;
}

void ReadDial(const BlockContext& context, AmiSettings& settings, Problems& problems) {
  if (auto dial = OptionalBool(context, "dial", problems)) settings.dial = *dial;
  if (auto channel = ReadTemplate(context, "channel", problems)) {
    if (channel->find('/') == std::string::npos ||
        channel->find("{extension}") == std::string::npos) {
      Report(problems, Child(context.path, "channel"),
             Quote(*channel) + " must name a technology and the extension (e.g. " +
                 "\"PJSIP/{extension}\")");
    } else {
      settings.channel = *channel;
    }
  }
  if (auto dialplan = OptionalWord(context, "context", "a dialplan context", problems)) {
    settings.context = *dialplan;
  }
  if (auto priority = OptionalNumber(context, "priority", 1, 99999, problems)) {
    settings.priority = static_cast<int>(*priority);
  }
  if (auto caller_id = ReadTemplate(context, "caller_id", problems)) {
    settings.caller_id = *caller_id;
  }
}

void ReadFeatures(const BlockContext& context, AmiSettings& settings, Problems& problems) {
  if (auto on = OptionalBool(context, "astdb_dnd", problems)) settings.astdb_dnd = *on;
  if (auto on = OptionalBool(context, "device_state", problems)) settings.device_state = *on;
  if (auto on = OptionalBool(context, "presence_state", problems)) settings.presence_state = *on;
  if (settings.device_state && !settings.astdb_dnd) {
    Report(problems, Child(context.path, "device_state"),
           "needs \"astdb_dnd\": true (the device states mirror FreePBX's DND)");
  }
  if (!settings.dial && !settings.astdb_dnd && !settings.presence_state) {
    Report(problems, context.path,
           "sends nothing: set at least one of dial, astdb_dnd, presence_state to true");
  }
}

std::optional<AmiMapping> ReadMapping(const Object& block, const std::string& path,
                                      Problems& problems) {
  std::size_t before = problems.size();
  json::CheckKeys(block, path, kMappingKeys, problems);
  AmiMapping mapping;
  if (block.has("presence")) {
    if (auto state = json::ReadChoice(block.get("presence"), Child(path, "presence"),
                                      "a presence state", kPresenceStates, problems)) {
      mapping.presence = std::string(*state);
    }
  }
  if (block.has("message")) {
    mapping.message = json::ReadString(block.get("message"), Child(path, "message"), problems);
  }
  if (problems.size() != before) return std::nullopt;
  return mapping;
}

void CheckStateMappings(const BlockContext& context, Problems& problems) {
  ForEachStateMapping(context.catalog, kType, [&](const Object& block, const std::string& path) {
    ReadMapping(block, path, problems);
  });
}

std::shared_ptr<const ConnectorSettings> Parse(const BlockContext& context, Problems& problems) {
  const std::size_t before = problems.size();
  auto settings = std::make_shared<AmiSettings>();
  ReadServer(context, *settings, problems);
  ReadTimings(context, *settings, problems);
  ReadDial(context, *settings, problems);
  ReadFeatures(context, *settings, problems);
  CheckStateMappings(context, problems);
  if (problems.size() != before) return nullptr;
  return settings;
}

// ---- delivery -------------------------------------------------------------------------------

// The CustomPresence state a status code means when the state has no mapping of its own.
std::string_view PresenceFor(StatusCode status) {
  switch (status) {
    case StatusCode::kOnline:
      return "available";
    case StatusCode::kAway:
      return "away";
    case StatusCode::kDnd:
    case StatusCode::kBusy:
    case StatusCode::kOnCall:
      return "dnd";
    case StatusCode::kOffline:
    case StatusCode::kLogout:
      return "unavailable";
  }
  return "not_set";
}

struct OriginateFailure {
  Timestamp at;
  std::string channel;
  std::string exten;
  int reason = -1;
};

class AmiConnector final : public Connector {
 public:
  AmiConnector(std::shared_ptr<const AmiSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)),
        env_(env),
        session_(std::make_unique<AmiSession>(
            settings_->session, env_.log, [this](const AmiMessage& event) { OnEvent(event); },
            *env_.clock, SteadyOf(env_))) {}
  ~AmiConnector() override { session_->Stop(); }

  // An empty reason code dials nothing; without AstDB or presence there is then nothing to do.
  bool Wants(const Change& change, const Directory&) const override {
    return (settings_->dial && !change.reason_code.empty()) || settings_->astdb_dnd ||
           settings_->presence_state;
  }

  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override;
  void Start() override { session_->Start(); }
  void Stop() override { session_->Stop(); }
  std::optional<ConnectorDetails> Details() const override;

 private:
  using Step = std::optional<DeliveryResult>;  // nullopt: done, go on

  Step Call(AmiMessage action, const std::string& what, AmiReply* reply = nullptr,
            std::string_view harmless_error = {});
  Step Originate(const TemplateValues& values);
  Step ApplyDnd(const std::string& extension, bool on);
  Step SetDeviceStates(const std::string& extension, std::string_view value);
  Step ApplyPresence(const Change& change, const std::string& extension, const Directory& directory,
                     std::string& done);
  void OnEvent(const AmiMessage& event);

  std::shared_ptr<const AmiSettings> settings_;
  const ConnectorEnv env_;

  mutable std::mutex mutex_;  // guards the Originate outcomes below
  int originate_failures_ = 0;
  std::optional<OriginateFailure> last_failure_;

  std::unique_ptr<AmiSession> session_;  // last: stopped before the members its handler uses
};

DeliveryResult AmiConnector::Deliver(const Delivery& delivery, const Directory& directory) {
  const Change& change = delivery.change;
  const User* user = directory.FindUser(change.agent);
  if (!user) return DeliveryResult::Rejected("unknown user '" + change.agent + "'");
  if (user->extension.empty()) {
    return DeliveryResult::Rejected("user '" + user->id + "' has no extension for the PBX");
  }
  const TemplateValues values{user->extension, change.label, change.reason_code, user->id};
  std::string done;
  // A refresh re-asserts flags; dialling again would ring the phone for nothing.
  if (settings_->dial && !change.reason_code.empty() && !delivery.refresh) {
    if (Step failed = Originate(values)) return *failed;
    done += "dialled " + change.reason_code;
  }
  if (settings_->astdb_dnd) {
    bool on = change.status == StatusCode::kDnd;
    if (Step failed = ApplyDnd(user->extension, on)) return *failed;
    done += std::string(done.empty() ? "" : ", ") + (on ? "DND on" : "DND off");
  }
  if (settings_->presence_state) {
    if (Step failed = ApplyPresence(change, user->extension, directory, done)) return *failed;
  }
  return DeliveryResult::Delivered((done.empty() ? "nothing to send" : done) + " for " +
                                   user->extension);
}

// Transport failures are retried (the session reconnects); a "Response: Error" is the PBX
// refusing this change for good, with its own words.
AmiConnector::Step AmiConnector::Call(AmiMessage action, const std::string& what, AmiReply* reply,
                                      std::string_view harmless_error) {
  Result<AmiReply> answer = session_->Send(std::move(action));
  if (!answer) return DeliveryResult::Retry(what + ": " + answer.error().message);
  const AmiMessage& response = answer->response;
  if (response.Is("Response", "Error") && !harmless_error.empty() &&
      response.Get("Message") == harmless_error) {
    if (reply) *reply = std::move(*answer);
    return std::nullopt;
  }
  if (!response.Is("Response", "Success")) {
    std::string message = response.Get("Message");
    return DeliveryResult::Rejected(what + " refused by " + session_->server() + ": " +
                                    (message.empty() ? response.Get("Response") : message));
  }
  if (reply) *reply = std::move(*answer);
  return std::nullopt;
}

// Async: the answer "Originate successfully queued" comes at once; how the call went arrives
// later as an OriginateResponse event (counted in OnEvent).
AmiConnector::Step AmiConnector::Originate(const TemplateValues& values) {
  const std::string channel = Expand(settings_->channel, values);
  AmiMessage action = AmiMessage::Action("Originate");
  action.Add("Channel", channel)
      .Add("Context", settings_->context)
      .Add("Exten", values.reason_code)
      .Add("Priority", std::to_string(settings_->priority))
      .Add("CallerID", Expand(settings_->caller_id, values))
      .Add("Timeout", std::to_string(settings_->originate_timeout.count()))
      .Add("Async", "true");
  return Call(std::move(action), "Originate " + values.reason_code + " on " + channel);
}

// FreePBX keeps DND as AstDB DND/<ext> = YES, and deletes the key for off (4.4). Deleting a
// key that is already gone is fine: DND is off either way.
AmiConnector::Step AmiConnector::ApplyDnd(const std::string& extension, bool on) {
  AmiMessage action = AmiMessage::Action(on ? "DBPut" : "DBDel");
  action.Add("Family", "DND").Add("Key", extension);
  if (on) action.Add("Val", "YES");
  Step failed = on ? Call(std::move(action), "DBPut DND/" + extension)
                   : Call(std::move(action), "DBDel DND/" + extension, nullptr,
                          "Database entry could not be deleted");
  if (failed || !settings_->device_state) return failed;
  return SetDeviceStates(extension, on ? "BUSY" : "UNAVAILABLE");
}

AmiConnector::Step AmiConnector::SetDeviceStates(const std::string& extension,
                                                 std::string_view value) {
  auto set = [&](const std::string& name) {
    AmiMessage action = AmiMessage::Action("Setvar");
    action.Add("Variable", "DEVICE_STATE(Custom:" + name + ")").Add("Value", value);
    return Call(std::move(action), "Setvar DEVICE_STATE(Custom:" + name + ")");
  };
  if (Step failed = set("DND" + extension)) return failed;
  // The user's devices, "&"-separated, as FreePBX keeps them; no entry means no devices.
  AmiMessage get = AmiMessage::Action("DBGet");
  get.Add("Family", "AMPUSER").Add("Key", extension + "/device");
  AmiReply reply;
  if (Step failed = Call(std::move(get), "DBGet AMPUSER/" + extension + "/device", &reply,
                         "Database entry not found")) {
    return failed;
  }
  for (const AmiMessage& item : reply.events) {
    if (!item.Is("Event", "DBGetResponse")) continue;
    std::string devices = item.Get("Val");
    for (std::size_t at = 0; at <= devices.size();) {
      std::size_t end = std::min(devices.find('&', at), devices.size());
      std::string device = devices.substr(at, end - at);
      if (!device.empty()) {
        if (Step failed = set("DEVDND" + device)) return failed;
      }
      at = end + 1;
    }
  }
  return std::nullopt;
}

AmiConnector::Step AmiConnector::ApplyPresence(const Change& change, const std::string& extension,
                                               const Directory& directory, std::string& done) {
  std::string state(PresenceFor(change.status));
  std::string message = change.label;
  const reasoncodes::State* catalog_state = directory.FindState(change.label);
  if (catalog_state) {
    if (std::optional<Object> block = StateMapping(*catalog_state, kType)) {
      Problems ignored;  // checked at load
      if (auto mapping = ReadMapping(*block, "", ignored)) {
        state = mapping->presence.value_or(state);
        message = mapping->message.value_or(message);
      }
    }
  }
  const std::string variable = "PRESENCE_STATE(CustomPresence:" + extension + ")";
  AmiMessage action = AmiMessage::Action("Setvar");
  action.Add("Variable", variable).Add("Value", PresenceStateValue(state, "", message));
  if (Step failed = Call(std::move(action), "Setvar " + variable)) return failed;
  done += std::string(done.empty() ? "" : ", ") + "presence " + state;
  return std::nullopt;
}

void AmiConnector::OnEvent(const AmiMessage& event) {
  if (!event.Is("Event", "OriginateResponse") || !event.Is("Response", "Failure")) return;
  OriginateFailure failure{env_.clock->Now(), event.Get("Channel"), event.Get("Exten"), -1};
  std::string reason = event.Get("Reason");
  std::from_chars(reason.data(), reason.data() + reason.size(), failure.reason);
  {
    std::lock_guard lock(mutex_);
    ++originate_failures_;
    last_failure_ = failure;
  }
  if (env_.log) {
    env_.log(LogLevel::kWarning, "AMI Originate " + failure.exten + " on " + failure.channel +
                                     " failed: " + OriginateReasonText(failure.reason));
  }
}

std::optional<ConnectorDetails> AmiConnector::Details() const {
  AmiSessionStatus status = session_->CurrentStatus();
  ConnectorDetails details;
  details["session"] = std::string(AmiSessionStateName(status.state));
  details["server"] = session_->server();
  details["username"] = settings_->session.username;
  details["version"] = status.version;
  if (status.connected_since) {
    details["connected_since"] = FormatTime(*status.connected_since);
  }
  details["reconnects"] = status.reconnects;
  details["last_error"] = status.last_error;
  std::lock_guard lock(mutex_);
  details["originate_failures"] = originate_failures_;
  if (last_failure_) {
    details["last_originate_failure"] = DetailGroup{
        {"at", FormatTime(last_failure_->at)},
        {"channel", last_failure_->channel},
        {"exten", last_failure_->exten},
        {"reason", last_failure_->reason},
        {"reason_text", OriginateReasonText(last_failure_->reason)},
    };
  }
  return details;
}

}  // namespace

ConnectorType AmiConnectorType() {
  DeliveryPolicy defaults;
  defaults.coalesce = true;
  defaults.concurrency = 4;
  defaults.skip_sources = {reasoncodes::Source::kPbx};
  return ConnectorType{
      .type = kType,
      .summary =
          "Asterisk/FreePBX over AMI: dials the reason code (Originate), FreePBX DND in "
          "AstDB, CustomPresence",
      .keys = kKeys,
      .defaults = defaults,
      .mode = "dial_command",
      .parse = Parse,
      .create = [](std::shared_ptr<const ConnectorSettings> settings,
                   const ConnectorEnv& env) -> std::unique_ptr<Connector> {
        return std::make_unique<AmiConnector>(SettingsAs<AmiSettings>(std::move(settings), kType),
                                              env);
      },
  };
}

}  // namespace presence::connectors
