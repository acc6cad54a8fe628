#pragma once

// The API's endpoint handlers; routing, authentication and roles are in http_api.cc, so each
// handler may assume its caller is allowed to call it.

#include "agent/api/http_call.h"

namespace presence::agent {

void HandleHealth(Call& call);
void HandleOpenApi(Call& call);
void HandleMetrics(Call& call);
void HandleConnectors(Call& call);
void HandleOpenSession(Call& call);
void HandleWhoAmI(Call& call);
void HandleCloseSession(Call& call);
void HandleStates(Call& call);
void HandleAgents(Call& call);
void HandleAgent(Call& call);
void HandleSetState(Call& call);
void HandleEvent(Call& call);
void HandleOverride(Call& call);
void HandleIntervals(Call& call);
void HandleTimeReport(Call& call);
void HandleIntervalReport(Call& call);
void HandleCrmSync(Call& call);
void HandleSse(Call& call);
void HandleWebSocket(Call& call);
void HandleReload(Call& call);
void HandleDashboard(Call& call);
// The agent's own page: dashboard_dir/agent/, framed by server.frame_ancestors' sites.
void HandleAgentPage(Call& call);

}  // namespace presence::agent
