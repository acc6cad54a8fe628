#pragma once

// Omni-Channel (type "omni_channel"): mirrors presence states into Salesforce Omni-Channel.
//
// No server API can set an agent's Omni-Channel status (integrations.md 3.7: UserServicePresence
// allows no create or update), so each change publishes a platform event (3.6)
//   POST /services/data/vNN.0/sobjects/<event_object>/
// and a Lightning component in the agent's console (samples/salesforce/) receives it and calls
// omniToolkitAPI.setServicePresenceStatus or logout in the agent's browser.
//
// Event fields (fixed names; the event object's metadata is in samples/salesforce/):
//   User_Id__c      Text(18)      the Salesforce user id (users[].identities.salesforce, 005...)
//   Agent_Key__c    Text(64)      our user id
//   Status_Id__c    Text(18)      the state's ServicePresenceStatus id (0N5...); null on logout
//   Logout__c       Checkbox      true: log the agent out of Omni-Channel
//   Label__c        Text(64)      the state's label
//   Reason_Code__c  Text(64)      the state's reason code ("" when none)
//   Status_Code__c  Number(1, 0)  the status code 1-7
//   Changed_At__c   DateTime      when the change happened (ISO-8601 UTC, milliseconds)
//   Source__c       Text(16)      who caused it: agent, crm, supervisor, call, wrap_up, ...
//
// Block keys: the Salesforce client's (salesforce_client.h: login_url, auth, client_id,
// client_secret, username, private_key, audience, api_version, request_timeout_ms) and
//   event_object   the platform event's API name, ending in __e;
//                  default "Presence_Agent_Status__e"
// Per-state mapping block, in states[].mappings.omni_channel:
//   {"status_id": "0N5..."}   a ServicePresenceStatus id (15 or 18 characters)
//   {"logout": true}          log the agent out of Omni-Channel
// A state without a block publishes nothing: e.g. "On a call", which Omni-Channel does not model
// (voice work consumes capacity while the status stays Available, 3.7).
//
// Defaults: coalesce (only the latest state matters), 2 deliveries at once, and no echo of
// changes the CRM made (skip_sources ["crm"]). Tied to settings.omni_channel, not to a mode.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_read.h"
#include "connectors/registry.h"
#include "connectors/salesforce/salesforce_client.h"
#include "connectors/salesforce/salesforce_protocol.h"

namespace presence::connectors {

inline constexpr std::string_view kDefaultOmniChannelEvent = "Presence_Agent_Status__e";

struct OmniChannelMapping {
  std::string status_id;  // empty when logout
  bool logout = false;
};

// Reads one state's "omni_channel" block, reporting problems at `path` + ".<key>".
std::optional<OmniChannelMapping> ReadOmniChannelMapping(const json::Object& block,
                                                         std::string_view path,
                                                         json::Problems& problems);

struct OmniChannelSettings : ConnectorSettings {
  SalesforceAuth auth;
  std::string event_object = std::string(kDefaultOmniChannelEvent);
};

// The event's fields for one change of a user whose Salesforce user id is `salesforce_user`.
Fields OmniChannelEventFields(const Change& change, const std::string& salesforce_user,
                              const OmniChannelMapping& mapping);

ConnectorType OmniChannelConnectorType();

}  // namespace presence::connectors
