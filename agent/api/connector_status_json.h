#pragma once

// GET /api/v1/connectors: each connector's status (connectors/delivery/dispatcher.h) as JSON.

#include <string>
#include <vector>

#include "common/json_writer.h"
#include "connectors/delivery/dispatcher.h"

namespace presence::agent {

// {"name","type","queue_depth","in_flight","delivered","retried","rejected","coalesced",
//  "refreshed","consecutive_failures","last_success","last_error":{"at","message"}|null,
//  "paused_until","coalesce","concurrency","rate_per_second","details":{...}|null}
// Times are ISO-8601 or null; details are the connector's own (connector_details.h).
void WriteConnectorStatus(JsonWriter& out, const connectors::ConnectorStatus& status);

// {"time": ..., "connectors": [status, ...]}: the answer of GET /api/v1/connectors.
std::string ConnectorsAnswer(Timestamp now, const std::vector<connectors::ConnectorStatus>& all);

}  // namespace presence::agent
