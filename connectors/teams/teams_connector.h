#pragma once

// Presence states into Microsoft Teams (and Skype for Business Online's successor) through
// Microsoft Graph, one way only (integrations.md section 1).
//
//   {"type": "teams", "tenant": "contoso.onmicrosoft.com",
//    "client_id": "22553876-f5ab-4529-bffb-cfe50aa89f87", "client_secret": {"env": "GRAPH_SECRET"},
//    "expiration": "PT1H"}
//
// Keys: tenant (GUID or domain), client_id (GUID; also the setPresence sessionId),
// client_secret (a secret), login_url (default https://login.microsoftonline.com), graph_url
// (default https://graph.microsoft.com/v1.0), expiration (setPresence expirationDuration,
// PT5M..PT4H, default PT1H), request_timeout_ms (100-120000, default 10000).
// Each state may carry "mappings": {"teams": {"availability": "Busy", "activity": "InACall"}};
// without one a state shows its Skype for Business availability code (mode
// skype_for_business) or the pair of its status. A user's Graph id is identities.teams.
//
// A state whose pair setPresence accepts is set on the application's own presence session (and
// a preferred presence this connector may have left is cleared). Busy/Busy, DND/DND,
// BeRightBack/BeRightBack and Offline/OffWork only exist as a user-preferred presence, which only
// shows while a session exists: the session is kept Available/Available and the pair set as the
// user's preferred presence. Refresh deliveries re-send setPresence before the 5-minute fade.

#include "connectors/registry.h"

namespace presence::connectors {

ConnectorType TeamsConnectorType();

}  // namespace presence::connectors
