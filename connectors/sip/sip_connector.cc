#include "connectors/sip/sip_connector.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <set>

#include "common/enum_names.h"
#include "common/json_read.h"
#include "connectors/connector_config.h"
#include "connectors/sip/documents/dialog_info.h"
#include "connectors/sip/documents/pidf.h"

namespace presence::connectors::sip {
namespace {

using json::Child;
using json::Problems;
using json::Quote;
using json::ReadOptionalNumber;
using json::Report;
using reasoncodes::StatusCode;

constexpr std::string_view kType = "sip_presence";
constexpr std::string_view kMappingKey = "sip";

constexpr EnumNames<Transport, 3> kTransports = {{
    {Transport::kUdp, "udp"},
    {Transport::kTcp, "tcp"},
    {Transport::kTls, "tls"},
}};

constexpr EnumNames<OnLogout, 2> kOnLogout = {{
    {OnLogout::kClosed, "closed"},
    {OnLogout::kRemove, "remove"},
}};

constexpr std::array<std::string_view, 2> kWatchable = {"presence", "dialog"};
constexpr std::array<std::string_view, 2> kBasics = {"open", "closed"};
constexpr size_t kMaxNoteCharacters = 256;

bool IsIpLiteral(std::string_view host) {
  return !host.empty() && (host.find(':') != std::string_view::npos ||
                           host.find_first_not_of("0123456789.") == std::string_view::npos);
}

bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
  });
}

// "sip:HOST[:PORT]" or "sips:HOST[:PORT]" (IPv6 in brackets).
void ReadServer(const json::Object& block, const std::string& path, SipSettings& settings,
                bool& sips, Problems& problems) {
  const std::string at = Child(path, "server");
  if (!block.has("server")) {
    Report(problems, at, "missing (the presence server, e.g. \"sip:10.0.0.5:5060\")");
    return;
  }
  auto text = json::ReadString(block.get("server"), at, problems);
  if (!text) return;
  std::string_view rest = *text;
  const std::string usage = " (\"sip:HOST\" or \"sip:HOST:PORT\", e.g. \"sip:10.0.0.5:5060\")";
  if (rest.substr(0, 5) == "sips:") {
    sips = true;
    rest.remove_prefix(5);
  } else if (rest.substr(0, 4) == "sip:") {
    rest.remove_prefix(4);
  } else {
    Report(problems, at, "must start with sip: or sips:, got " + Quote(*text) + usage);
    return;
  }
  if (rest.find_first_of("@;?") != std::string_view::npos) {
    Report(problems, at, "must name only the server, without user or parameters" + usage);
    return;
  }
  std::string host;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      Report(problems, at, "an IPv6 address needs its closing ']'" + usage);
      return;
    }
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        Report(problems, at, "unexpected text after the address" + usage);
        return;
      }
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = rest.find(':');
    host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (!ValidHost(host)) {
    Report(problems, at, "has no valid host name or address" + usage);
    return;
  }
  settings.stack.server_host = host;
  settings.stack.server_port = sips ? 5061 : 5060;
  if (rest.find(':') != std::string_view::npos || !port_text.empty()) {
    long long port = 0;
    bool digits = !port_text.empty() && port_text.size() <= 5 &&
                  port_text.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) port = std::stoll(std::string(port_text));
    if (!digits || port < 1 || port > 65535) {
      Report(problems, at, "port must be 1-65535" + usage);
      return;
    }
    settings.stack.server_port = static_cast<uint16_t>(port);
  }
}

void ReadCredentials(const json::Object& block, const std::string& path, SipSettings& settings,
                     Problems& problems) {
  if (block.has("username")) {
    const std::string at = Child(path, "username");
    if (auto name = json::ReadString(block.get("username"), at, problems)) {
      if (name->empty() || name->find_first_of(":\"\r\n") != std::string::npos) {
        Report(problems, at, "must be a non-empty name without ':', '\"' or line breaks");
      } else {
        settings.stack.username = *name;
      }
    }
  }
  if (block.has("password")) {
    if (auto secret = ReadSecret(block.get("password"), Child(path, "password"), problems)) {
      settings.stack.password = std::move(*secret);
    }
    if (!block.has("username")) {
      Report(problems, Child(path, "username"),
             "missing (a password is sent only with the user name the server knows it by)");
    }
  } else if (block.has("username")) {
    Report(problems, Child(path, "password"),
           "missing (with a username: a string, {\"env\": \"NAME\"} or {\"file\": \"path\"})");
  }
}

void ReadWatch(const json::Object& block, const std::string& path, SipSettings& settings,
               Problems& problems) {
  if (!block.has("watch")) return;
  const std::string at = Child(path, "watch");
  json::Array::Ptr list = json::AsArray(block.get("watch"));
  if (!list) {
    Report(problems, at, "must be a list of events to subscribe to: [\"presence\", \"dialog\"]");
    return;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    auto event =
        json::ReadChoice(list->get(static_cast<unsigned>(i)), at + "[" + std::to_string(i) + "]",
                         "an event package", kWatchable, problems);
    if (!event) continue;
    bool& flag = *event == "presence" ? settings.watch_presence : settings.watch_dialog;
    if (flag) Report(problems, at + "[" + std::to_string(i) + "]", "is listed twice");
    flag = true;
  }
}

std::optional<std::string> ReadActivity(const json::Var& value, const std::string& at,
                                        Problems& problems) {
  auto text = json::ReadString(value, at, problems);
  if (!text) return std::nullopt;
  if (!text->empty() && !IsRpidActivity(*text)) {
    std::vector<std::string_view> names(RpidActivities().begin(), RpidActivities().end());
    std::string hint;
    if (auto close = json::ClosestWord(*text, names))
      hint = "; did you mean " + Quote(*close) + "?";
    Report(problems, at,
           "is not an RPID activity (RFC 4480: " + json::JoinWords(names) + ")" + hint);
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> ReadNote(const json::Var& value, const std::string& at,
                                    Problems& problems) {
  auto text = json::ReadString(value, at, problems);
  if (text && json::CountCharacters(*text) > kMaxNoteCharacters) {
    Report(problems, at, "is longer than " + std::to_string(kMaxNoteCharacters) + " characters");
    return std::nullopt;
  }
  return text;
}

void ReadRules(const BlockContext& context, SipSettings& settings, Problems& problems) {
  const json::Object& block = context.block;
  if (!block.has("from_presence")) return;
  const std::string at = Child(context.path, "from_presence");
  if (!settings.watch_presence) {
    Report(problems, at, "needs \"watch\" to include \"presence\" (rules read what it receives)");
  }
  json::Array::Ptr list = json::AsArray(block.get("from_presence"));
  if (!list) {
    Report(problems, at,
           "must be a list of rules such as {\"activity\": \"busy\", \"label\": \"Do Not "
           "Disturb\"}");
    return;
  }
  static constexpr std::array<std::string_view, 4> kRuleKeys = {"basic", "activity", "note",
                                                                "label"};
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string rule_at = at + "[" + std::to_string(i) + "]";
    json::Object::Ptr object = json::AsObject(list->get(static_cast<unsigned>(i)));
    if (!object) {
      Report(problems, rule_at, "must be an object with basic, activity and/or note, and label");
      continue;
    }
    json::CheckKeys(*object, rule_at, kRuleKeys, problems);
    PresenceRule rule;
    if (object->has("basic")) {
      if (auto basic = json::ReadChoice(object->get("basic"), Child(rule_at, "basic"),
                                        "a PIDF basic status", kBasics, problems)) {
        rule.open = *basic == "open";
      }
    }
    if (object->has("activity")) {
      if (auto activity =
              ReadActivity(object->get("activity"), Child(rule_at, "activity"), problems)) {
        rule.activity = *activity;
      }
    }
    if (object->has("note")) {
      if (auto note = ReadNote(object->get("note"), Child(rule_at, "note"), problems)) {
        rule.note = *note;
      }
    }
    if (!rule.open && rule.activity.empty() && rule.note.empty()) {
      Report(problems, rule_at, "needs at least one of basic, activity and note to match");
    }
    if (!object->has("label")) {
      Report(problems, Child(rule_at, "label"), "missing (the state to select when it matches)");
      continue;
    }
    auto label = json::ReadString(object->get("label"), Child(rule_at, "label"), problems);
    if (!label) continue;
    const reasoncodes::State* state = context.catalog.Find(*label);
    if (!state) {
      Report(problems, Child(rule_at, "label"), Quote(*label) + " is not a state of the catalog");
      continue;
    }
    if (!state->selectable) {
      Report(
          problems, Child(rule_at, "label"),
          Quote(*label) + " is not selectable (only picklist states can be chosen on the phone)");
      continue;
    }
    rule.label = *label;
    settings.from_presence.push_back(std::move(rule));
  }
}

// A state's "sip" block: {"basic": "open"|"closed", "activity": "...", "note": "..."}.
std::optional<SipMapping> ReadMapping(const json::Object& block, const std::string& path,
                                      SipMapping mapping, Problems& problems) {
  static constexpr std::array<std::string_view, 3> kKeys = {"basic", "activity", "note"};
  const size_t before = problems.size();
  json::CheckKeys(block, path, kKeys, problems);
  if (block.has("basic")) {
    if (auto basic = json::ReadChoice(block.get("basic"), Child(path, "basic"),
                                      "a PIDF basic status", kBasics, problems)) {
      mapping.open = *basic == "open";
    }
  }
  if (block.has("activity")) {
    if (auto activity = ReadActivity(block.get("activity"), Child(path, "activity"), problems)) {
      mapping.activity = *activity;
    }
  }
  if (block.has("note")) {
    if (auto note = ReadNote(block.get("note"), Child(path, "note"), problems)) {
      mapping.note = *note;
    }
  }
  if (problems.size() != before) return std::nullopt;
  return mapping;
}

void ReadLocal(const json::Object& block, const std::string& path, SipSettings& settings,
               Problems& problems) {
  if (!block.has("local_address")) return;
  const std::string at = Child(path, "local_address");
  auto text = json::ReadString(block.get("local_address"), at, problems);
  if (!text) return;
  std::string host = *text;
  std::string port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string::npos) {
      port = close + 1 < host.size() && host[close + 1] == ':' ? host.substr(close + 2) : "";
      host = host.substr(1, close - 1);
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    port = host.substr(host.find(':') + 1);
    host = host.substr(0, host.find(':'));
  }
  long long number = 0;
  if (!port.empty()) {
    bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    number = digits ? std::stoll(port) : -1;
  }
  if (!IsIpLiteral(host) || number < 0 || number > 65535) {
    Report(problems, at,
           "must be an IP address of this machine, optionally with a port (\"10.0.0.7\", "
           "\"10.0.0.7:5070\", \"[::1]:5070\"), got " +
               Quote(*text));
    return;
  }
  settings.stack.local_host = host;
  settings.stack.local_port = static_cast<uint16_t>(number);
}

std::shared_ptr<const ConnectorSettings> ParseSip(const BlockContext& context, Problems& problems) {
  const size_t before = problems.size();
  auto settings = std::make_shared<SipSettings>();
  const json::Object& block = context.block;
  bool sips = false;
  ReadServer(block, context.path, *settings, sips, problems);
  settings->stack.transport = sips ? Transport::kTls : Transport::kUdp;
  if (block.has("transport")) {
    if (auto transport = json::ReadChoice(block.get("transport"), Child(context.path, "transport"),
                                          "a SIP transport", kTransports, problems)) {
      settings->stack.transport = *transport;
      if (sips && *transport != Transport::kTls) {
        Report(problems, Child(context.path, "transport"), "must be \"tls\" with a sips: server");
      }
    }
  }
  settings->domain = settings->stack.server_host;
  if (block.has("domain")) {
    const std::string at = Child(context.path, "domain");
    if (auto domain = json::ReadString(block.get("domain"), at, problems)) {
      if (!ValidHost(*domain)) {
        Report(problems, at, "must be a host name such as \"pbx.example\"");
      } else {
        settings->domain = *domain;
      }
    }
  }
  ReadCredentials(block, context.path, *settings, problems);
  if (auto expires = ReadOptionalNumber(block, "expires", context.path, 60, 86400, problems)) {
    settings->stack.expires = std::chrono::seconds(*expires);
  }
  if (auto keepalive =
          ReadOptionalNumber(block, "keepalive_seconds", context.path, 1, 3600, problems)) {
    settings->stack.keepalive = std::chrono::seconds(*keepalive);
  }
  if (auto timeout =
          ReadOptionalNumber(block, "request_timeout_ms", context.path, 1000, 64000, problems)) {
    settings->request_timeout = Millis(*timeout);
  }
  // The common back-off keys (checked by ReadConnectors) also pace the stack's own retries:
  // refreshes after a failure and subscriptions made again.
  if (block.has("retry_initial_ms")) {
    Problems ignored;
    if (auto ms = json::ReadWholeNumber(block.get("retry_initial_ms"), "", "", ignored)) {
      settings->stack.retry_min = std::chrono::milliseconds(*ms);
    }
  }
  if (block.has("retry_max_seconds")) {
    Problems ignored;
    if (auto max = json::ReadWholeNumber(block.get("retry_max_seconds"), "", "", ignored)) {
      settings->stack.retry_max = std::chrono::seconds(*max);
    }
  }
  ReadWatch(block, context.path, *settings, problems);
  ReadRules(context, *settings, problems);
  if (block.has("on_logout")) {
    if (auto choice = json::ReadChoice(block.get("on_logout"), Child(context.path, "on_logout"),
                                       "what logout publishes", kOnLogout, problems)) {
      settings->on_logout = *choice;
    }
  }
  ReadLocal(block, context.path, *settings, problems);
  if (block.has("tls_ca_file")) {
    const std::string at = Child(context.path, "tls_ca_file");
    if (auto file = json::ReadString(block.get("tls_ca_file"), at, problems)) {
      if (settings->stack.transport != Transport::kTls) {
        Report(problems, at, "is used only with transport \"tls\"");
      } else {
        settings->stack.tls_ca_file = *file;
      }
    }
  }
  settings->stack.agent_uri = "sip:" +
                              (settings->stack.username.empty() ? std::string("presence-agent")
                                                                : settings->stack.username) +
                              "@" + settings->domain;
  ForEachStateMapping(context.catalog, kMappingKey,
                      [&](const json::Object& mapping, const std::string& path) {
                        ReadMapping(mapping, path, SipMapping{}, problems);
                      });
  if (problems.size() != before) return nullptr;
  return settings;
}

SipMapping MappingFor(const Change& change, const Directory& directory) {
  SipMapping mapping = DefaultSipMapping(change.status);
  if (const reasoncodes::State* state = directory.FindState(change.label)) {
    if (std::optional<json::Object> block = StateMapping(*state, kMappingKey)) {
      Problems ignored;
      if (auto read = ReadMapping(*block, "", mapping, ignored)) mapping = *read;
    }
  }
  return mapping;
}

class SipPresenceConnector final : public Connector {
 public:
  SipPresenceConnector(std::shared_ptr<const SipSettings> settings, const ConnectorEnv& env)
      : settings_(std::move(settings)),
        log_(env.log),
        inbound_(env.inbound),
        name_(env.name.empty() ? std::string(kType) : env.name),
        stack_(settings_->stack, env.log.For("sip"),
               [this](const Notification& notification) { OnNotify(notification); }) {}

  ~SipPresenceConnector() override { stack_.Stop(); }

  bool Wants(const Change& change, const Directory& directory) const override {
    const reasoncodes::User* user = directory.FindUser(change.agent);
    return user && UserAor(*user, settings_->domain).has_value();
  }

  void Start() override {
    Status started = stack_.Start();
    std::lock_guard lock(mutex_);
    if (!started.ok()) {
      start_error_ = started.error().message;
      log_(LogLevel::kError, start_error_);
      return;
    }
    if (log_) {
      log_(LogLevel::kInfo, "listening on " + stack_.local_address() + " (" +
                                std::string(TransportName(settings_->stack.transport)) +
                                "), presence server " + settings_->stack.server_host + ":" +
                                std::to_string(settings_->stack.server_port));
    }
  }

  void Stop() override { stack_.Stop(); }

  void UseDirectory(std::shared_ptr<const Directory> directory) override {
    std::vector<WatchedUser> watched;
    std::set<std::string> internal;
    std::vector<std::string> labels;
    for (const User* each : directory->users()) {
      const User& user = *each;
      const std::string& id = user.id;
      if (!user.extension.empty()) internal.insert(user.extension);
      if (auto aor = UserAor(user, settings_->domain)) {
        watched.push_back({id, *aor});
        internal.insert(UserPart(*aor));
      } else if (user.identities.count("sip") && log_) {
        log_(LogLevel::kWarning, "user " + id +
                                     " takes no part: identities.sip is not a SIP URI or user "
                                     "part (letters, digits and -_.!~*'()&=+$,;?/:@%[] only)");
      }
    }
    if (directory->catalog) {
      for (const reasoncodes::State& state : directory->catalog->states()) {
        if (state.selectable) labels.push_back(state.label);
      }
    }
    {
      std::lock_guard lock(mutex_);
      std::set<std::string> now;
      for (const WatchedUser& user : watched) now.insert(user.user);
      for (const std::string& user : followed_) {
        if (!now.count(user)) interpreter_.Forget(user);
      }
      followed_ = std::move(now);
      rules_.from_presence = settings_->from_presence;
      rules_.internal = std::move(internal);
      rules_.labels = std::move(labels);
    }
    std::vector<std::string> events;
    if (settings_->watch_presence) events.push_back("presence");
    if (settings_->watch_dialog) events.push_back("dialog");
    // Also without events: the stack takes down the publications of users who left.
    stack_.Watch(std::move(watched), std::move(events));
  }

  DeliveryResult Deliver(const Delivery& delivery, const Directory& directory) override {
    const Change& change = delivery.change;
    {
      std::lock_guard lock(mutex_);
      if (!start_error_.empty())
        return DeliveryResult::Retry("SIP is not running: " + start_error_);
    }
    const reasoncodes::User* user = directory.FindUser(change.agent);
    std::optional<std::string> aor = user ? UserAor(*user, settings_->domain) : std::nullopt;
    if (!aor) {
      return DeliveryResult::Rejected("user " + change.agent + " has no identities.sip");
    }
    const bool remove =
        change.status == StatusCode::kLogout && settings_->on_logout == OnLogout::kRemove;
    std::future<PublishOutcome> pending = stack_.Publish(
        change.agent, *aor, remove ? std::string() : DocumentFor(change, *aor, directory), remove);
    if (pending.wait_for(settings_->request_timeout) != std::future_status::ready) {
      return DeliveryResult::Retry("no final answer from the presence server within " +
                                   std::to_string(settings_->request_timeout.count()) + " ms");
    }
    PublishOutcome outcome = pending.get();
    switch (outcome.kind) {
      case PublishOutcome::Kind::kDone:
        return DeliveryResult::Delivered((remove ? "removed: " : "published: ") + outcome.detail);
      case PublishOutcome::Kind::kRetry: {
        std::optional<Millis> after;
        if (outcome.retry_after) after = Millis(*outcome.retry_after);
        // No answer or a server in trouble pauses the connector; anything else only this user.
        const bool whole = outcome.status == 0 || outcome.status == 503 || outcome.status == 500;
        return DeliveryResult::Retry(outcome.detail, after, whole);
      }
      case PublishOutcome::Kind::kRejected:
        return DeliveryResult::Rejected(outcome.detail);
    }
    return DeliveryResult::Retry("unexpected outcome");
  }

  std::optional<ConnectorDetails> Details() const override {
    StackStatus status = stack_.status();
    ConnectorDetails details;
    details["server"] =
        settings_->stack.server_host + ":" + std::to_string(settings_->stack.server_port);
    details["transport"] = std::string(TransportName(settings_->stack.transport));
    if (settings_->stack.transport == Transport::kTls) {
      if (status.tls_error.empty()) {
        details["tls_error"] = nullptr;
      } else {
        details["tls_error"] = status.tls_error;
      }
    }
    details["local_address"] = stack_.local_address();
    details["server_reachable"] = status.server_reachable;
    details["server_restarts"] = status.server_restarts;
    std::vector<std::string> watch;
    if (settings_->watch_presence) watch.push_back("presence");
    if (settings_->watch_dialog) watch.push_back("dialog");
    details["watch"] = watch;
    details["notifies"] = status.notifies;
    details["notifies_ignored"] = status.notifies_ignored + ignored_.load();
    details["pbx_changes"] = pbx_changes_.load();
    details["call_events"] = call_events_.load();
    {
      std::lock_guard lock(mutex_);
      if (!start_error_.empty()) details["error"] = start_error_;
      if (!last_ignored_.empty()) details["last_ignored"] = last_ignored_;
    }
    DetailTable publications;
    for (const auto& [user, publication] : status.publications) {
      publications[user] = DetailGroup{{"etag", publication.etag},
                                       {"expires_in_s", publication.expires_in_s},
                                       {"last_result", publication.last_result}};
    }
    details["publications"] = std::move(publications);
    DetailTable subscriptions;
    for (const auto& [user, events] : status.subscriptions) {
      DetailGroup group;
      for (const auto& [event, subscription] : events) {
        group[event] = subscription.state;
        group[event + "_notifies"] = subscription.notifies;
        group[event + "_last_notify"] = subscription.last_notify.empty()
                                            ? DetailScalar(nullptr)
                                            : DetailScalar(subscription.last_notify);
      }
      subscriptions[user] = std::move(group);
    }
    details["subscriptions"] = std::move(subscriptions);
    return details;
  }

 private:
  // SIP thread.
  void OnNotify(const Notification& notification) {
    std::lock_guard lock(mutex_);
    ReadOutcome outcome = interpreter_.Read(notification, rules_);
    if (!outcome.ignored.empty()) {
      Ignore(notification, outcome.ignored);
      return;
    }
    for (InboundEvent& event : outcome.events) {
      ++(event.kind == InboundEvent::Kind::kSelect ? pbx_changes_ : call_events_);
      Emit(std::move(event));
    }
  }

  void Emit(InboundEvent event) {
    event.source = reasoncodes::Source::kPbx;
    event.connector = name_;
    if (inbound_) inbound_(std::move(event));
  }

  void Ignore(const Notification& notification, const std::string& why) {
    ++ignored_;
    last_ignored_ = notification.event + " NOTIFY for " + notification.user + ": " + why;
    log_(LogLevel::kWarning, "ignored a " + last_ignored_);
  }

  std::shared_ptr<const SipSettings> settings_;
  LogSink log_;
  InboundSink inbound_;
  const std::string name_;    // the configured name, on what it reports
  mutable std::mutex mutex_;  // guards what follows up to stack_
  std::string start_error_;
  std::string last_ignored_;
  InboundInterpreter interpreter_;
  InboundRules rules_;
  std::set<std::string> followed_;  // the users of the last directory
  std::atomic<int64_t> ignored_{0};
  std::atomic<int64_t> pbx_changes_{0};
  std::atomic<int64_t> call_events_{0};
  SipStack stack_;  // last: its thread calls OnNotify until it stops
};

}  // namespace

SipMapping DefaultSipMapping(StatusCode status) {
  switch (status) {
    case StatusCode::kOnline:
      return {true, "", ""};
    case StatusCode::kOffline:
    case StatusCode::kLogout:
      return {false, "", ""};
    case StatusCode::kAway:
      return {true, "away", ""};
    case StatusCode::kDnd:
    case StatusCode::kBusy:
      return {true, "busy", ""};
    case StatusCode::kOnCall:
      return {true, "on-the-phone", ""};
  }
  return {};
}

std::optional<std::string> UserAor(const reasoncodes::User& user, const std::string& domain) {
  auto found = user.identities.find("sip");
  if (found == user.identities.end() || found->second.empty()) return std::nullopt;
  const std::string& identity = found->second;
  // It goes into request lines and headers: only URI characters (RFC 3261 25.1), so no
  // identity can add a header or break a message.
  const bool safe =
      identity.size() <= 256 && std::all_of(identity.begin(), identity.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-_.!~*'()&=+$,;?/:@%[]").find(c) != std::string_view::npos;
      });
  if (!safe) return std::nullopt;
  if (identity.rfind("sip:", 0) == 0 || identity.rfind("sips:", 0) == 0) return identity;
  if (identity.find('@') != std::string::npos) return "sip:" + identity;
  return "sip:" + identity + "@" + domain;
}

std::string DocumentFor(const Change& change, const std::string& aor, const Directory& directory) {
  SipMapping mapping = MappingFor(change, directory);
  PresenceDocument document;
  document.entity = aor;
  document.tuple_id = OwnTupleId(change.agent);
  document.person_id = OwnPersonId(change.agent);
  document.open = mapping.open;
  document.activity = mapping.activity;
  document.note = mapping.note.empty() ? change.label : mapping.note;
  document.timestamp = change.at;
  return WritePidf(document);
}

ConnectorType SipPresenceConnectorType() {
  ConnectorType type;
  type.type = kType;
  type.summary = "SIP presence: PUBLISH each user's state, SUBSCRIBE to the phone system's";
  type.keys = {"server",
               "transport",
               "domain",
               "username",
               "password",
               "expires",
               "watch",
               "from_presence",
               "on_logout",
               "keepalive_seconds",
               "local_address",
               "tls_ca_file",
               "request_timeout_ms"};
  type.defaults.coalesce = true;
  type.defaults.concurrency = 8;
  type.mapping_key = kMappingKey;
  type.parse = ParseSip;
  type.create = [](std::shared_ptr<const ConnectorSettings> settings,
                   const ConnectorEnv& env) -> std::unique_ptr<Connector> {
    return std::make_unique<SipPresenceConnector>(SettingsAs<SipSettings>(settings, kType), env);
  };
  return type;
}

}  // namespace presence::connectors::sip
