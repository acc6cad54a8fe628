#pragma once

// What a connector reports about itself in GET /api/v1/connectors (the "details" of each
// connector): the state of its session, its counters, the settings worth seeing. Never a
// secret. Plain values; the API writes them with WriteDetails.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/json_writer.h"

namespace presence::connectors {

// A value inside a group: null, true/false, a whole number or text.
using DetailScalar = std::variant<std::nullptr_t, bool, std::int64_t, std::string>;

// A group of members under one name ("org_api_usage": {"used": 2, "max": 15000}).
using DetailGroup = std::map<std::string, DetailScalar>;

// Groups by name, e.g. one per user ("publications": {"alice": {"etag": ...}}).
using DetailTable = std::map<std::string, DetailGroup>;

// A member's value: a scalar, a list of texts, a group or a table of groups.
using DetailValue = std::variant<std::nullptr_t, bool, std::int64_t, std::string,
                                 std::vector<std::string>, DetailGroup, DetailTable>;

// Members by name.
using ConnectorDetails = std::map<std::string, DetailValue>;

// One JSON object, members (and a group's members) in name order.
void WriteDetails(JsonWriter& out, const ConnectorDetails& details);

// The same, as text.
std::string DetailsJson(const ConnectorDetails& details);

}  // namespace presence::connectors
