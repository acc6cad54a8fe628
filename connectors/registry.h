#pragma once

// The connector types this build knows, filled explicitly by RegisterBuiltinConnectors (no
// static self-registration). A type parses its own block of the configuration into typed
// settings (reporting every problem as "path: what is wrong (what is allowed)"), and creates
// the connector from those settings once the service starts.

#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_read.h"
#include "common/log.h"
#include "common/monotonic_clock.h"
#include "common/time.h"
#include "connectors/connector.h"
#include "connectors/inbound.h"

namespace presence::connectors {

class HttpClient;

// A connector type's parsed, validated block. Each type derives its own.
class ConnectorSettings {
 public:
  virtual ~ConnectorSettings() = default;
  // Whether the block reads its system (the PBX as a source). Such a block may stand in any
  // settings.mode: outside its type's own mode it only reads and sends nothing.
  virtual bool ReadsItsSystem() const { return false; }
};

// What a connector gets from the service. clock and http are always set. What the pointers
// point at is borrowed: it must outlive every connector made with this env.
struct ConnectorEnv {
  const Clock* clock = nullptr;
  LogSink log;                 // may be empty. Never pass secrets.
  HttpClient* http = nullptr;  // outbound HTTP(S), shared by every connector
  // What waits (timeouts, back-off, keep-alives) runs on; null: MonotonicClock::Steady().
  const MonotonicClock* steady = nullptr;
  std::string name;  // the connector's configured name
  // Where events from the connector's system go (the phone system as a source); may be empty
  // (then a connector that reads its system only logs what it would have done).
  InboundSink inbound;
};

inline const MonotonicClock& SteadyOf(const ConnectorEnv& env) {
  return env.steady ? *env.steady : MonotonicClock::Steady();
}

// The block being parsed: its JSON, its path in the file ("connectors[2]") and the catalog it
// will serve (for checking each state's mapping block for this type).
struct BlockContext {
  const json::Object& block;
  std::string path;
  const reasoncodes::Catalog& catalog;
  std::string name;  // the connector's name (for messages)
};

struct ConnectorType {
  std::string_view type;               // "ami", "desk_phone", "teams", "omni_channel", "webhook"
  std::string_view summary;            // one line, for `presence-agent check-config`
  std::vector<std::string_view> keys;  // the type's own keys (the common keys are extra)
  DeliveryPolicy defaults;
  // Which settings.mode the type belongs to: "dial_command", "skype_for_business", or empty
  // for types that work in any mode (webhook) or hang off their own flag (omni_channel).
  std::string_view mode;
  // The key of the type's block in a state's "mappings" when it is not the type's name
  // (sip_presence reads "mappings.sip").
  std::string_view mapping_key;
  std::string_view MappingKey() const { return mapping_key.empty() ? type : mapping_key; }
  // Parses the block (its own keys only; unknown keys are already reported). Returns nullptr
  // when there is a problem (every problem reported).
  std::function<std::shared_ptr<const ConnectorSettings>(const BlockContext& context,
                                                         json::Problems& problems)>
      parse;
  std::function<std::unique_ptr<Connector>(std::shared_ptr<const ConnectorSettings> settings,
                                           const ConnectorEnv& env)>
      create;
};

// In a type's create: the settings its own parse returned, as their type. Anything else is a
// programming error (std::logic_error).
template <class Settings>
std::shared_ptr<const Settings> SettingsAs(std::shared_ptr<const ConnectorSettings> settings,
                                           std::string_view type) {
  auto own = std::dynamic_pointer_cast<const Settings>(std::move(settings));
  if (!own) throw std::logic_error(std::string(type) + ": created from another type's settings");
  return own;
}

class Registry {
 public:
  void Add(ConnectorType type);
  const ConnectorType* Find(std::string_view type) const;
  std::vector<std::string_view> Names() const;
  // The type whose state mapping blocks are keyed `key`, or nullptr.
  const ConnectorType* FindByMappingKey(std::string_view key) const;
  std::vector<std::string_view> MappingKeys() const;

 private:
  std::vector<ConnectorType> types_;
};

}  // namespace presence::connectors
