#pragma once

// POSTs every change, signed, to one URL (a CRM, a chat bot, a data warehouse loader):
//
//   {"type": "webhook", "name": "crm-hook", "url": "https://crm.example.com/presence",
//    "secret": {"env": "CRM_HOOK_SECRET"},
//    "headers": {"Authorization": {"env": "CRM_HOOK_TOKEN"}, "X-Tenant": "acme"}}
//
// Body and signature: webhook_protocol.h and samples/webhook/README.md. Deliveries are at least
// once: a receiver dedupes on X-Presence-Delivery. Each URL is its own connector block with its
// own outbox, so one failing receiver never delays another.

#include <string>

#include "connectors/http/http_client.h"
#include "connectors/registry.h"
#include "connectors/webhook/webhook_protocol.h"

namespace presence::connectors {

struct WebhookSettings final : ConnectorSettings {
  std::string name;    // the connector's name: delivery ids are "<name>-<outbox id>"
  std::string url;     // absolute http(s) URL
  std::string secret;  // HMAC key, at least 16 bytes; never logged or shown
  // Extra static headers. Values may be secrets (an Authorization
  // token): only the names are ever shown.
  Headers headers;
  Millis request_timeout{10000};
};

// The least a signing key may be: shorter keys are guessable offline from one signed body.
inline constexpr std::size_t kMinWebhookSecretBytes = 16;

// type "webhook": keys url, secret, headers, request_timeout_ms. States take no webhook
// mapping: every change is sent as it is.
ConnectorType WebhookConnectorType();

}  // namespace presence::connectors
