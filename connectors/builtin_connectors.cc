// The one list of connector types this build knows (design.md: an explicit registry).
#include "connectors/ami/ami_connector.h"
#include "connectors/desk_phone/desk_phone_connector.h"
#include "connectors/omni_channel/omni_channel_connector.h"
#include "connectors/registry.h"
#include "connectors/teams/teams_connector.h"
#include "connectors/webhook/webhook_connector.h"

namespace presence::connectors {

void RegisterBuiltinConnectors(Registry& registry) {
  (void)registry;
  // connector types: one line each, in the order `presence-agent connectors` lists them
  registry.Add(OmniChannelConnectorType());
  registry.Add(AmiConnectorType());
  registry.Add(TeamsConnectorType());
  registry.Add(DeskPhoneConnectorType());
  registry.Add(WebhookConnectorType());
}

}  // namespace presence::connectors
