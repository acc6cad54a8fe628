#include "connectors/ami/ami_connector.h"

#include <array>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "common/json_read.h"
#include "common/thread_name.h"
#include "connectors/ami/ami_actions.h"
#include "connectors/connector_config.h"
#include "reasoncodes/actions.h"

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
    "from_pbx",
    "dnd_labels",
    "pause_rules",
    "queue_interface",
    "voicemail",
    "verify_actions",
};

constexpr std::array<std::string_view, 4> kFromPbx = {"calls", "dnd", "queues", "devices"};

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

// Whether any state can ask for phone-system actions.
bool CatalogHasActions(const reasoncodes::Catalog& catalog) {
  const reasoncodes::ActionSettings& settings = catalog.action_settings();
  if (!catalog.profiles().empty() || settings.on_login || settings.on_logout) return true;
  for (const reasoncodes::State& state : catalog.states()) {
    if (state.actions || !state.profile.empty()) return true;
  }
  return false;
}

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
  if (settings.device_state && !settings.astdb_dnd && !CatalogHasActions(context.catalog)) {
    Report(problems, Child(context.path, "device_state"),
           "needs \"astdb_dnd\": true or states with actions (the device states mirror "
           "FreePBX's DND, call forward and Follow Me)");
  }
  if (!settings.dial && !settings.astdb_dnd && !settings.presence_state &&
      !settings.ReadsItsSystem() && !CatalogHasActions(context.catalog)) {
    Report(problems, context.path,
           "does nothing: set at least one of dial, astdb_dnd, presence_state to true, give "
           "states actions, or read the PBX with from_pbx");
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

// A label of the catalog, for a rule that selects it.
std::optional<std::string> ReadLabel(const Poco::Dynamic::Var& value, const std::string& path,
                                     const BlockContext& context, Problems& problems) {
  auto label = json::ReadString(value, path, problems);
  if (!label) return std::nullopt;
  if (!context.catalog.Find(*label)) {
    Report(problems, path, Quote(*label) + " is not a state of the catalog");
    return std::nullopt;
  }
  return label;
}

void ReadFromPbx(const BlockContext& context, AmiSettings& settings, Problems& problems) {
  const Object& block = context.block;
  if (block.has("from_pbx")) {
    const std::string path = Child(context.path, "from_pbx");
    Poco::JSON::Array::Ptr kinds = json::AsArray(block.get("from_pbx"));
    if (!kinds) {
      Report(problems, path, "must be a list of \"calls\", \"dnd\", \"queues\", \"devices\"");
    } else {
      for (std::size_t i = 0; i < kinds->size(); ++i) {
        auto kind = json::ReadChoice(kinds->get(i), path + "[" + std::to_string(i) + "]",
                                     "a kind of event", kFromPbx, problems);
        if (!kind) continue;
        if (*kind == "calls") settings.from_calls = true;
        if (*kind == "dnd") settings.from_dnd = true;
        if (*kind == "queues") settings.from_queues = true;
        if (*kind == "devices") settings.from_devices = true;
      }
    }
  }
  if (block.has("dnd_labels")) {
    const std::string path = Child(context.path, "dnd_labels");
    Object::Ptr labels = json::AsObject(block.get("dnd_labels"));
    if (!labels) {
      Report(problems, path, "must be an object {\"on\": label, \"off\": label}");
    } else {
      constexpr std::array<std::string_view, 2> kOnOff = {"on", "off"};
      json::CheckKeys(*labels, path, kOnOff, problems);
      if (labels->has("on")) {
        settings.dnd_on_label = ReadLabel(labels->get("on"), Child(path, "on"), context, problems);
      }
      if (labels->has("off")) {
        settings.dnd_off_label =
            ReadLabel(labels->get("off"), Child(path, "off"), context, problems);
      }
    }
  }
  if (block.has("pause_rules")) {
    const std::string path = Child(context.path, "pause_rules");
    Poco::JSON::Array::Ptr rules = json::AsArray(block.get("pause_rules"));
    if (!rules) {
      Report(problems, path, "must be a list of {\"paused\", \"reason\", \"label\"}");
    } else {
      constexpr std::array<std::string_view, 3> kRuleKeys = {"paused", "reason", "label"};
      for (std::size_t i = 0; i < rules->size(); ++i) {
        const std::string at = path + "[" + std::to_string(i) + "]";
        Object::Ptr rule = json::AsObject(rules->get(i));
        if (!rule) {
          Report(problems, at, "must be an object with paused, reason (optional) and label");
          continue;
        }
        json::CheckKeys(*rule, at, kRuleKeys, problems);
        AmiPauseRule read;
        std::optional<bool> paused;
        if (rule->has("paused"))
          paused = json::ReadBool(rule->get("paused"), Child(at, "paused"), problems);
        else
          Report(problems, Child(at, "paused"), "missing (true or false)");
        if (rule->has("reason")) {
          read.reason =
              json::ReadString(rule->get("reason"), Child(at, "reason"), problems).value_or("");
        }
        std::optional<std::string> label;
        if (rule->has("label"))
          label = ReadLabel(rule->get("label"), Child(at, "label"), context, problems);
        else
          Report(problems, Child(at, "label"), "missing (the state to select)");
        if (!paused || !label) continue;
        read.paused = *paused;
        read.label = *label;
        settings.pause_rules.push_back(std::move(read));
      }
    }
  }
  if (auto interface = ReadTemplate(context, "queue_interface", problems)) {
    if (interface->find('/') == std::string::npos ||
        interface->find("{extension}") == std::string::npos) {
      Report(problems, Child(context.path, "queue_interface"),
             Quote(*interface) + " must name a technology and the extension (e.g. " +
                 "\"PJSIP/{extension}\" or \"Local/{extension}@from-queue/n\")");
    } else {
      settings.queue_interface = *interface;
    }
  }
  if (auto voicemail = ReadTemplate(context, "voicemail", problems)) {
    settings.voicemail = *voicemail;
  }
  if (auto verify = OptionalBool(context, "verify_actions", problems)) {
    settings.verify_actions = *verify;
  }
  // The session logs in with the event classes the readers need (call: channels and device
  // states; agent: queue members), besides what "events" asks for.
  const bool actions = CatalogHasActions(context.catalog);
  if (settings.ReadsItsSystem() || actions) {
    std::string& events = settings.session.events;
    if (events != "on") {
      std::set<std::string> classes;
      if (events != "off") {
        for (std::size_t at = 0; at <= events.size();) {
          std::size_t end = std::min(events.find(',', at), events.size());
          if (end > at) classes.insert(events.substr(at, end - at));
          at = end + 1;
        }
      }
      if (settings.from_calls || settings.from_dnd || settings.from_devices || actions) {
        classes.insert("call");
      }
      if (settings.from_calls || settings.from_queues || actions) classes.insert("agent");
      events.clear();
      for (const std::string& name : classes) events += (events.empty() ? "" : ",") + name;
    }
  }
}

std::shared_ptr<const ConnectorSettings> Parse(const BlockContext& context, Problems& problems) {
  const std::size_t before = problems.size();
  auto settings = std::make_shared<AmiSettings>();
  ReadServer(context, *settings, problems);
  ReadTimings(context, *settings, problems);
  ReadDial(context, *settings, problems);
  ReadFromPbx(context, *settings, problems);
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

std::string JoinSent(const std::vector<std::string>& sent) {
  std::string out;
  for (const std::string& part : sent) out += (out.empty() ? "" : ", ") + part;
  return out;
}

struct OriginateFailure {
  Timestamp at;
  std::string channel;
  std::string exten;
  int reason = -1;
};

// What a user's last applied actions were: what a read-back compares the PBX with.
struct Applied {
  uint64_t generation = 0;  // a read-back reports only for the Applied it read for
  reasoncodes::ActionSet set;
  AmiActionTarget target;
  AmiItems wanted;
  std::map<std::string, reasoncodes::ActionMismatch> reported;  // by item
};

class AmiConnector final : public Connector {
 public:
  AmiConnector(std::shared_ptr<const AmiSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)),
        env_(env),
        name_(env.name.empty() ? std::string(kType) : env.name),
        inbound_(InboundRules(*settings_, nullptr)),
        session_(std::make_unique<AmiSession>(
            SessionOptions(*settings_, [this] { OnConnected(); }), env_.log,
            [this](const AmiMessage& event) { OnEvent(event); }, *env_.clock, SteadyOf(env_))) {}
  ~AmiConnector() override { Stop(); }

  bool Wants(const Change& change, const Directory& directory) const override;
  std::string Payload(const Change& change, const Directory& directory) const override;
  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override;
  void Start() override;
  void Stop() override;
  void UseDirectory(std::shared_ptr<const Directory> directory) override;
  std::optional<ConnectorDetails> Details() const override;

 private:
  using Step = std::optional<DeliveryResult>;  // nullopt: done, go on

  static AmiSessionOptions SessionOptions(const AmiSettings& settings,
                                          std::function<void()> on_connected) {
    AmiSessionOptions options = settings.session;
    options.on_connected = std::move(on_connected);
    return options;
  }
  static AmiInboundRules InboundRules(const AmiSettings& settings, const Directory* directory);

  // Whether the catalog's mode lets this connector send (outside dial_command it only reads).
  static bool Sends(const Directory& directory) {
    return directory.catalog &&
           directory.catalog->settings().mode == reasoncodes::Mode::kDialCommand;
  }
  std::optional<reasoncodes::ActionSet> Resolve(const Change& change,
                                                const Directory& directory) const;
  AmiActionTarget TargetFor(const User& user, const std::string& label) const;
  Step ApplyActions(const User& user, const reasoncodes::ActionSet& set, const std::string& label,
                    std::string& done);
  // Compares the PBX with what was applied; reports what differs (manual: changed since).
  std::vector<reasoncodes::ActionMismatch> Compare(Applied& applied, const AmiItems& held,
                                                   bool manual);
  void Report(const std::string& user, std::vector<reasoncodes::ActionMismatch> mismatches);
  // Drops the user's applied actions (and clears what was shown for them).
  void Forget(const std::string& user);
  // The outbox row and its change: a retry of the same row has the same key.
  static std::string RowKey(const Delivery& delivery) {
    return std::to_string(delivery.id) + "|" + delivery.change.label + "|" +
           FormatTime(delivery.change.at);
  }
  bool AlreadyDialled(const Delivery& delivery) const {
    std::lock_guard lock(work_mutex_);
    auto it = dialled_.find(delivery.change.agent);
    return it != dialled_.end() && it->second == RowKey(delivery);
  }
  void Post(std::vector<InboundEvent> events);
  double Seconds() const;

  Step Call(AmiMessage action, const std::string& what, AmiReply* reply = nullptr,
            std::string_view harmless_error = {});
  Step Originate(const TemplateValues& values);
  Step ApplyDnd(const std::string& extension, bool on);
  Step SetDeviceStates(const std::string& extension, std::string_view value);
  Step ApplyPresence(const Change& change, const std::string& extension, const Directory& directory,
                     std::string& done);
  void OnEvent(const AmiMessage& event);
  void NoteManualChange(const AmiMessage& event);
  std::vector<InboundEvent> ReadDevice(const AmiMessage& event);
  void OnConnected();
  void Work();  // the re-read thread
  void Resync(const Directory& directory);
  void Recheck(const std::string& user);

  std::shared_ptr<const AmiSettings> settings_;
  const ConnectorEnv env_;
  const std::string name_;

  mutable std::mutex mutex_;  // guards the Originate outcomes below
  int originate_failures_ = 0;
  std::optional<OriginateFailure> last_failure_;

  // The reader of the PBX's events (session thread) and the re-read thread share it.
  mutable std::mutex inbound_mutex_;
  AmiInbound inbound_;
  std::string last_resync_error_;
  std::map<std::string, std::string> devices_;      // device ("PJSIP/1001") -> user
  std::map<std::string, bool> device_unavailable_;  // by device, since the last login
  int64_t devices_gone_ = 0;
  int64_t resyncs_ = 0;  // re-reads after a login, finished

  // Applied actions and the re-read thread's work.
  mutable std::mutex work_mutex_;
  std::condition_variable work_;
  std::shared_ptr<const Directory> directory_;
  std::map<std::string, Applied> applied_;      // by user
  std::map<std::string, std::string> dialled_;  // by user: the RowKey last dialled
  uint64_t generation_ = 0;                     // numbers each Applied
  std::set<std::string> applying_;              // users a delivery is working on
  std::set<std::string> recheck_;               // users to read back (a change seen on the PBX)
  std::map<std::string, std::string> extension_users_;  // extension -> user
  std::map<std::string, std::string> interface_users_;  // queue interface -> user
  bool resync_due_ = false;
  bool stopping_ = false;
  bool started_ = false;
  int64_t actions_applied_ = 0;
  int64_t actions_retried_ = 0;
  std::thread worker_;

  std::unique_ptr<AmiSession> session_;  // last: stopped before the members its handler uses
};

AmiInboundRules AmiConnector::InboundRules(const AmiSettings& settings,
                                           const Directory* directory) {
  AmiInboundRules rules;
  rules.calls = settings.from_calls;
  rules.dnd = settings.from_dnd;
  rules.queues = settings.from_queues;
  rules.channel = settings.channel;
  rules.queue_interface = settings.queue_interface;
  rules.dnd_on_label = settings.dnd_on_label;
  rules.dnd_off_label = settings.dnd_off_label;
  rules.pause_rules = settings.pause_rules;
  const reasoncodes::Catalog* catalog =
      directory && directory->catalog ? directory->catalog.get() : nullptr;
  if (!catalog) return rules;
  const reasoncodes::State* dnd_state = nullptr;
  const reasoncodes::State* away_state = nullptr;
  for (const reasoncodes::State* state : catalog->Picklist()) {
    if (!dnd_state && state->status == StatusCode::kDnd) dnd_state = state;
    if (!away_state && state->status == StatusCode::kAway) away_state = state;
  }
  if (!rules.dnd_on_label && dnd_state) rules.dnd_on_label = dnd_state->label;
  if (!rules.dnd_off_label) rules.dnd_off_label = catalog->ready().label;
  if (rules.pause_rules.empty()) {
    for (const reasoncodes::State* state : catalog->Picklist()) {
      if (state->status != StatusCode::kOnline) {
        rules.pause_rules.push_back(AmiPauseRule{true, state->label, state->label});
      }
    }
    if (away_state) rules.pause_rules.push_back(AmiPauseRule{true, "", away_state->label});
    rules.pause_rules.push_back(AmiPauseRule{false, "", catalog->ready().label});
  }
  return rules;
}

double AmiConnector::Seconds() const {
  return std::chrono::duration<double>(SteadyOf(env_).Now().time_since_epoch()).count();
}

void AmiConnector::Start() {
  {
    std::lock_guard lock(work_mutex_);
    if (started_) return;
    started_ = true;
    stopping_ = false;
  }
  worker_ = std::thread([this] {
    NameThisThread("ami-worker");
    Work();
  });
  session_->Start();
}

void AmiConnector::Stop() {
  session_->Stop();
  {
    std::lock_guard lock(work_mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void AmiConnector::UseDirectory(std::shared_ptr<const Directory> directory) {
  std::map<std::string, std::string> extensions;
  std::map<std::string, std::string> interfaces;
  for (const User* user : directory->users()) {
    if (user->extension.empty()) continue;
    const std::string& id = user->id;
    extensions[user->extension] = id;
    interfaces[Expand(settings_->queue_interface, TemplateValues{user->extension, "", "", id})] =
        id;
  }
  std::map<std::string, std::string> devices;
  for (const auto& [extension, id] : extensions) {
    devices[Expand(settings_->channel, TemplateValues{extension, "", "", id})] = id;
  }
  {
    std::lock_guard lock(inbound_mutex_);
    inbound_.SetRules(InboundRules(*settings_, directory.get()));
    inbound_.SetUsers(extensions);
    devices_ = std::move(devices);
  }
  {
    std::lock_guard lock(work_mutex_);
    directory_ = std::move(directory);
    extension_users_ = std::move(extensions);
    interface_users_ = std::move(interfaces);
    for (auto it = applied_.begin(); it != applied_.end();) {
      it = directory_->FindUser(it->first) ? std::next(it) : applied_.erase(it);
    }
  }
  work_.notify_all();  // a re-read may have waited for the first directory
}

std::optional<reasoncodes::ActionSet> AmiConnector::Resolve(const Change& change,
                                                            const Directory& directory) const {
  const User* user = directory.FindUser(change.agent);
  const reasoncodes::State* to = directory.FindState(change.label);
  if (!user || !to || !directory.catalog) return std::nullopt;
  const reasoncodes::State* from =
      change.from_label.empty() ? nullptr : directory.FindState(change.from_label);
  reasoncodes::ActionSet set = reasoncodes::ResolveActions(*directory.catalog, *user, from, *to);
  if (set.empty()) return std::nullopt;
  return set;
}

// An empty reason code dials nothing; without AstDB, presence or actions there is then
// nothing to do. Outside dial_command nothing is sent at all.
bool AmiConnector::Wants(const Change& change, const Directory& directory) const {
  if (!Sends(directory)) return false;
  // A change the PBX reported is not sent back to it (no echo, and the agent does not fight a
  // key pressed on the phone), except a logout because the phone went away: its on_logout
  // actions (leaving the queues, a forward to voicemail) are what it is for.
  if (change.source == reasoncodes::Source::kPbx) {
    return change.status == StatusCode::kLogout && Resolve(change, directory).has_value();
  }
  return (settings_->dial && !change.reason_code.empty()) || settings_->astdb_dnd ||
         settings_->presence_state || Resolve(change, directory).has_value();
}

// "{}" when the state asks for nothing: the row then says so, and a reload before the delivery
// cannot add actions nobody acknowledged ("" is left for rows from before actions existed).
std::string AmiConnector::Payload(const Change& change, const Directory& directory) const {
  std::optional<reasoncodes::ActionSet> set = Resolve(change, directory);
  return reasoncodes::ActionSetJson(set.value_or(reasoncodes::ActionSet{}));
}

DeliveryResult AmiConnector::Deliver(const Delivery& delivery, const Directory& directory) {
  const Change& change = delivery.change;
  const User* user = directory.FindUser(change.agent);
  if (!user) return DeliveryResult::Rejected("unknown user '" + change.agent + "'");
  if (user->extension.empty()) {
    return DeliveryResult::Rejected("user '" + user->id + "' has no extension for the PBX");
  }
  const TemplateValues values{user->extension, change.label, change.reason_code, user->id};
  // The actions as committed with the change (a refresh works them out again).
  std::optional<reasoncodes::ActionSet> actions;
  if (!delivery.payload.empty()) {
    actions = reasoncodes::ParseActionSetJson(delivery.payload);
    if (!actions) return DeliveryResult::Rejected("the change's stored actions are unreadable");
    if (actions->empty()) actions.reset();
  } else if (!delivery.refresh) {
    actions = Resolve(change, directory);
  }
  // The new state asks for nothing: what the last one asked for no longer stands.
  if (!actions && !delivery.refresh) Forget(user->id);
  std::string done;
  // From the PBX itself (a logout because the phone went away): only the actions.
  const bool from_pbx = change.source == reasoncodes::Source::kPbx;
  if (from_pbx) {
    if (actions) {
      if (Step failed = ApplyActions(*user, *actions, change.label, done)) return *failed;
    }
    return DeliveryResult::Delivered((done.empty() ? "nothing to send" : done) + " for " +
                                     user->extension);
  }
  // A refresh re-asserts flags; dialling again would ring the phone for nothing.
  // Nor again for a row retried because the PBX did not take its actions.
  if (settings_->dial && !change.reason_code.empty() && !delivery.refresh &&
      !AlreadyDialled(delivery)) {
    if (Step failed = Originate(values)) return *failed;
    done += "dialled " + change.reason_code;
    std::lock_guard lock(work_mutex_);
    dialled_[user->id] = RowKey(delivery);
  }
  // A state's own dnd action takes the place of the DND that follows the status code.
  if (settings_->astdb_dnd && !(actions && actions->dnd)) {
    bool on = change.status == StatusCode::kDnd;
    {
      std::lock_guard lock(inbound_mutex_);
      inbound_.ExpectDnd(user->id, on, Seconds());  // its lamp's event is not a key pressed
    }
    if (Step failed = ApplyDnd(user->extension, on)) return *failed;
    done += std::string(done.empty() ? "" : ", ") + (on ? "DND on" : "DND off");
  }
  if (settings_->presence_state) {
    if (Step failed = ApplyPresence(change, user->extension, directory, done)) return *failed;
  }
  if (actions) {
    if (Step failed = ApplyActions(*user, *actions, change.label, done)) return *failed;
  }
  return DeliveryResult::Delivered((done.empty() ? "nothing to send" : done) + " for " +
                                   user->extension);
}

AmiActionTarget AmiConnector::TargetFor(const User& user, const std::string& label) const {
  const TemplateValues values{user.extension, label, "", user.id};
  AmiActionTarget target;
  target.extension = user.extension;
  target.interface = Expand(settings_->queue_interface, values);
  target.member_name = user.name;
  target.label = label;
  target.voicemail = Expand(settings_->voicemail, values);
  target.device_state = settings_->device_state;
  return target;
}

// Reads what the PBX holds, sends what differs, reads it back. What the PBX did not take is
// reported and the delivery retried for this user only.
AmiConnector::Step AmiConnector::ApplyActions(const User& user, const reasoncodes::ActionSet& set,
                                              const std::string& label, std::string& done) {
  Applied applied{0, set, TargetFor(user, label), {}, {}};
  applied.wanted = WantedItems(set, applied.target);
  {
    std::lock_guard lock(work_mutex_);
    applying_.insert(user.id);
  }
  struct Done {
    AmiConnector* self;
    std::string user;
    ~Done() {
      std::lock_guard lock(self->work_mutex_);
      self->applying_.erase(user);
    }
  } finished{this, user.id};
  AmiSend send = [this](AmiMessage action) { return session_->Send(std::move(action)); };
  auto failed = [&](const Error& error) -> DeliveryResult {
    if (error.code == "not_answered") return DeliveryResult::Retry(error.message);
    Forget(user.id);  // refused for good: nothing of this state's actions stands
    return DeliveryResult::Rejected(error.message);
  };
  Result<AmiItems> held = ReadItems(send, applied.wanted, applied.target);
  if (!held) return failed(held.error());
  AmiApplyHooks hooks;
  hooks.expect_dnd = [&](bool on) {
    std::lock_guard lock(inbound_mutex_);
    inbound_.ExpectDnd(user.id, on, Seconds());
  };
  hooks.expect_pause = [&](bool paused, const std::string& reason) {
    std::lock_guard lock(inbound_mutex_);
    inbound_.ExpectPause(user.id, paused, reason, Seconds());
  };
  std::vector<std::string> sent;
  Status status = ApplyItems(send, applied.wanted, *held, applied.target, set, hooks, sent);
  if (!status.ok()) return failed(status.error());
  std::vector<reasoncodes::ActionMismatch> mismatches;
  if (settings_->verify_actions) {
    Result<AmiItems> after = ReadItems(send, applied.wanted, applied.target);
    if (!after) return failed(after.error());
    mismatches = Compare(applied, *after, false);
  }
  {
    std::lock_guard lock(work_mutex_);
    ++(mismatches.empty() ? actions_applied_ : actions_retried_);
    applied.generation = ++generation_;
    applied_[user.id] = applied;
  }
  const std::string what = sent.empty() ? "actions already in place" : JoinSent(sent);
  done += std::string(done.empty() ? "" : ", ") + what;
  Report(user.id, mismatches);
  if (!mismatches.empty()) {
    return DeliveryResult::Retry("the PBX holds " + mismatches[0].item + " " +
                                     mismatches[0].actual + ", not " + mismatches[0].wanted +
                                     " (after " + what + ")",
                                 std::nullopt, /*whole_connector=*/false);
  }
  return std::nullopt;
}

std::vector<reasoncodes::ActionMismatch> AmiConnector::Compare(Applied& applied,
                                                               const AmiItems& held, bool manual) {
  std::vector<reasoncodes::ActionMismatch> mismatches;
  std::map<std::string, reasoncodes::ActionMismatch> reported;
  for (const auto& [item, want] : applied.wanted) {
    auto have = held.find(item);
    if (have == held.end() || ItemHolds(item, want, have->second)) continue;
    reasoncodes::ActionMismatch mismatch{name_,        item,   want,
                                         have->second, manual, env_.clock->Now()};
    // The same finding as before keeps its time and how it came about.
    if (auto before = applied.reported.find(item);
        before != applied.reported.end() && before->second.actual == mismatch.actual) {
      mismatch = before->second;
    }
    reported[item] = mismatch;
    mismatches.push_back(mismatch);
  }
  applied.reported = std::move(reported);
  return mismatches;
}

void AmiConnector::Report(const std::string& user,
                          std::vector<reasoncodes::ActionMismatch> mismatches) {
  InboundEvent event;
  event.kind = InboundEvent::Kind::kPbxStatus;
  event.user = user;
  event.mismatches = std::move(mismatches);
  Post({std::move(event)});
}

void AmiConnector::Forget(const std::string& user) {
  bool had = false;
  {
    std::lock_guard lock(work_mutex_);
    had = applied_.erase(user) > 0;
  }
  if (had) Report(user, {});
}

void AmiConnector::Post(std::vector<InboundEvent> events) {
  if (!env_.inbound) return;
  for (InboundEvent& event : events) {
    event.source = reasoncodes::Source::kPbx;
    event.connector = name_;
    env_.inbound(std::move(event));
  }
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
  if (settings_->ReadsItsSystem()) {
    std::vector<InboundEvent> events;
    {
      std::lock_guard lock(inbound_mutex_);
      events = inbound_.Read(event, Seconds());
      if (settings_->from_devices) {
        for (InboundEvent& gone : ReadDevice(event)) events.push_back(std::move(gone));
      }
    }
    std::vector<std::string> cleared;
    for (const InboundEvent& read : events) {
      if (read.kind != InboundEvent::Kind::kSelect) continue;
      // The user changed state on the phone: the state follows the phone, so what the last
      // state's actions asked for no longer stands.
      std::lock_guard lock(work_mutex_);
      if (applied_.erase(read.user)) cleared.push_back(read.user);
    }
    for (const std::string& user : cleared) Report(user, {});
    Post(std::move(events));
  }
  NoteManualChange(event);
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

// A DND lamp, a call-forward lamp or a queue member changing: if the user has actions applied,
// read them back (the re-read thread), to show a change made on the phone.
void AmiConnector::NoteManualChange(const AmiMessage& event) {
  std::string user;
  std::lock_guard lock(work_mutex_);
  if (applied_.empty()) return;
  if (event.Is("Event", "DeviceStateChange")) {
    const std::string device = event.Get("Device");
    for (std::string_view prefix : {"Custom:DND", "Custom:CF"}) {
      if (device.rfind(prefix, 0) != 0) continue;
      auto it = extension_users_.find(device.substr(prefix.size()));
      if (it != extension_users_.end()) user = it->second;
    }
  } else if (event.Is("Event", "QueueMemberPause") || event.Is("Event", "QueueMemberAdded") ||
             event.Is("Event", "QueueMemberRemoved")) {
    auto it = interface_users_.find(event.Get("Interface"));
    if (it != interface_users_.end()) user = it->second;
  }
  if (user.empty() || !applied_.count(user)) return;
  recheck_.insert(user);
  work_.notify_all();
}

// inbound_mutex_ held. DeviceStateChange of a user's own device: UNAVAILABLE after any other
// state (the first state seen since the login is only a baseline) logs the user out.
std::vector<InboundEvent> AmiConnector::ReadDevice(const AmiMessage& event) {
  if (!event.Is("Event", "DeviceStateChange")) return {};
  auto user = devices_.find(event.Get("Device"));
  if (user == devices_.end()) return {};
  const bool unavailable = event.Is("State", "UNAVAILABLE");
  auto known = device_unavailable_.find(user->first);
  const bool was_known = known != device_unavailable_.end();
  const bool was_unavailable = was_known && known->second;
  device_unavailable_[user->first] = unavailable;
  if (!unavailable || was_unavailable) return {};
  ++devices_gone_;
  InboundEvent gone;
  gone.kind = InboundEvent::Kind::kLogout;
  gone.user = user->second;
  return {gone};
}

void AmiConnector::OnConnected() {
  {
    std::lock_guard lock(inbound_mutex_);
    inbound_.Reconnected();
    device_unavailable_.clear();
  }
  std::lock_guard lock(work_mutex_);
  resync_due_ = true;
  work_.notify_all();
}

// The re-read thread: after each login the state the readers need (DND keys, queue members,
// channels) and every user's applied actions; after a change seen on the PBX, that user's.
void AmiConnector::Work() {
  std::unique_lock lock(work_mutex_);
  for (;;) {
    // A login before the first directory (Start comes before UseDirectory) waits for it.
    work_.wait(lock, [&] { return stopping_ || (resync_due_ && directory_) || !recheck_.empty(); });
    if (stopping_) return;
    if (resync_due_ && directory_) {
      resync_due_ = false;
      std::shared_ptr<const Directory> directory = directory_;
      for (const auto& [user, applied] : applied_) recheck_.insert(user);
      lock.unlock();
      if (directory) Resync(*directory);
      lock.lock();
      continue;
    }
    std::string user = *recheck_.begin();
    recheck_.erase(recheck_.begin());
    lock.unlock();
    Recheck(user);
    lock.lock();
  }
}

void AmiConnector::Resync(const Directory& directory) {
  if (!settings_->ReadsItsSystem()) return;
  std::string error;
  auto send = [&](AmiMessage action, const std::string& what) -> std::optional<AmiReply> {
    Result<AmiReply> reply = session_->Send(std::move(action));
    if (!reply) {
      if (error.empty()) error = what + ": " + reply.error().message;
      return std::nullopt;
    }
    return std::move(*reply);
  };
  if (settings_->from_dnd) {
    for (const User* each : directory.users()) {
      const User& user = *each;
      if (user.extension.empty()) continue;
      AmiMessage get = AmiMessage::Action("DBGet");
      get.Add("Family", "DND").Add("Key", user.extension);
      std::optional<AmiReply> reply = send(std::move(get), "DBGet DND/" + user.extension);
      if (!reply) break;
      bool on = false;
      for (const AmiMessage& item : reply->events) {
        on |= item.Is("Event", "DBGetResponse") && item.Get("Val") == "YES";
      }
      std::lock_guard lock(inbound_mutex_);
      inbound_.BaselineDnd(user.extension, on);
    }
  }
  if (settings_->from_queues) {
    if (std::optional<AmiReply> reply = send(AmiMessage::Action("QueueStatus"), "QueueStatus")) {
      std::lock_guard lock(inbound_mutex_);
      for (const AmiMessage& item : reply->events) {
        if (item.Is("Event", "QueueMember")) inbound_.BaselineQueueMember(item);
      }
    }
  }
  if (settings_->from_calls) {
    std::set<std::string> followed;
    {
      std::lock_guard lock(inbound_mutex_);
      followed = inbound_.FollowedLegs();
    }
    if (std::optional<AmiReply> reply =
            send(AmiMessage::Action("CoreShowChannels"), "CoreShowChannels")) {
      std::vector<AmiMessage> channels;
      for (const AmiMessage& item : reply->events) {
        if (item.Is("Event", "CoreShowChannel")) channels.push_back(item);
      }
      std::vector<InboundEvent> events;
      {
        std::lock_guard lock(inbound_mutex_);
        events = inbound_.Resync(channels, Seconds(), &followed);
      }
      Post(std::move(events));
    }
  }
  std::lock_guard lock(inbound_mutex_);
  last_resync_error_ = error;
  ++resyncs_;
}

// A user's applied actions read back: what differs now was changed on the phone (or by
// someone else) and is left as it is until the user's next change of state.
void AmiConnector::Recheck(const std::string& user) {
  Applied applied;
  {
    std::lock_guard lock(work_mutex_);
    auto it = applied_.find(user);
    if (it == applied_.end() || applying_.count(user)) return;
    applied = it->second;
  }
  AmiSend send = [this](AmiMessage action) { return session_->Send(std::move(action)); };
  Result<AmiItems> held = ReadItems(send, applied.wanted, applied.target);
  if (!held) return;  // the next reconnect reads it again
  std::vector<reasoncodes::ActionMismatch> mismatches;
  {
    std::lock_guard lock(work_mutex_);
    auto it = applied_.find(user);
    // A delivery for the user started or finished meanwhile: its own read-back decides.
    if (it == applied_.end() || applying_.count(user) ||
        it->second.generation != applied.generation) {
      return;
    }
    mismatches = Compare(it->second, *held, true);
  }
  Report(user, std::move(mismatches));
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
  details["discarded_messages"] = static_cast<int64_t>(status.discarded_messages);
  details["last_error"] = status.last_error;
  std::lock_guard lock(mutex_);
  details["originate_failures"] = originate_failures_;
  {
    std::lock_guard work(work_mutex_);
    int mismatched = 0;
    for (const auto& [user, applied] : applied_) mismatched += applied.reported.empty() ? 0 : 1;
    details["actions"] = DetailGroup{
        {"users_applied", static_cast<int64_t>(applied_.size())},
        {"users_mismatched", mismatched},
        {"applied", actions_applied_},
        {"not_taken", actions_retried_},
    };
  }
  if (settings_->ReadsItsSystem()) {
    std::lock_guard inbound(inbound_mutex_);
    const AmiInboundCounters& counters = inbound_.counters();
    details["from_pbx"] = DetailGroup{
        {"events_read", static_cast<int64_t>(counters.read)},
        {"ignored", static_cast<int64_t>(counters.ignored)},
        {"malformed", static_cast<int64_t>(counters.malformed)},
        {"calls_started", static_cast<int64_t>(counters.calls_started)},
        {"calls_ended", static_cast<int64_t>(counters.calls_ended)},
        {"changes", static_cast<int64_t>(counters.selects)},
        {"own_changes_ignored", static_cast<int64_t>(counters.echoes)},
        {"phones_gone", devices_gone_},
        {"resyncs", resyncs_},
        {"last_resync_error", last_resync_error_},
    };
  }
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
  // Changes from the PBX are filtered by Wants (a logout when the phone went away still runs
  // its actions), not by skip_sources.
  // Coalesced rows fold their actions into the next: the newer state's members win, what only
  // a skipped change asked for (on_login's queue additions) still happens.
  defaults.merge_payloads = [](const std::string& older, const std::string& newer) {
    std::optional<reasoncodes::ActionSet> merged = reasoncodes::ParseActionSetJson(older);
    std::optional<reasoncodes::ActionSet> over = reasoncodes::ParseActionSetJson(newer);
    if (!merged || !over) return newer;  // a row from before actions existed
    merged->Overlay(*over);
    return reasoncodes::ActionSetJson(*merged);
  };
  return ConnectorType{
      .type = kType,
      .summary =
          "Asterisk/FreePBX over AMI: dials the reason code (Originate), FreePBX DND in "
          "AstDB, CustomPresence, the states' actions (DND, forwards, Follow Me, queues); "
          "with from_pbx reads calls, DND and queue pauses",
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
