// The one list of connector types this build knows (design.md: an explicit registry).
#include "connectors/builtin/builtin_connectors.h"

#include "connectors/ami/ami_connector.h"
#include "connectors/desk_phone/desk_phone_connector.h"
#include "connectors/omni_channel/omni_channel_connector.h"
#include "connectors/sip/sip_connector.h"
#include "connectors/teams/teams_connector.h"
#include "connectors/webhook/webhook_connector.h"

namespace presence::connectors {

void RegisterBuiltinConnectors(Registry& registry) {
  // connector types: one line each, in the order `presence-agent connectors` lists them
  registry.Add(OmniChannelConnectorType());
  registry.Add(AmiConnectorType());
  registry.Add(TeamsConnectorType());
  registry.Add(DeskPhoneConnectorType());
  registry.Add(WebhookConnectorType());
  registry.Add(sip::SipPresenceConnectorType());
}

const Registry& BuiltinConnectors() {
  static const Registry registry = [] {
    Registry built;
    RegisterBuiltinConnectors(built);
    return built;
  }();
  return registry;
}

}  // namespace presence::connectors
