#include "agent/api/connector_status_json.h"

#include <optional>

namespace presence::agent {
namespace {

void WriteTimeOrNull(JsonWriter& out, const std::optional<Timestamp>& at) {
  at ? void(out.String(FormatTime(*at))) : void(out.Null());
}

}  // namespace

void WriteConnectorStatus(JsonWriter& out, const connectors::ConnectorStatus& status) {
  const connectors::QueueStats& stats = status.stats;
  out.BeginObject();
  out.Key("name").String(status.name);
  out.Key("type").String(status.type);
  out.Key("queue_depth").Int(static_cast<int64_t>(stats.depth));
  out.Key("in_flight").Int(static_cast<int64_t>(stats.in_flight));
  out.Key("delivered").Int(static_cast<int64_t>(stats.delivered));
  out.Key("retried").Int(static_cast<int64_t>(stats.retried));
  out.Key("rejected").Int(static_cast<int64_t>(stats.rejected));
  out.Key("coalesced").Int(static_cast<int64_t>(stats.coalesced));
  out.Key("refreshed").Int(static_cast<int64_t>(stats.refreshed));
  out.Key("consecutive_failures").Int(stats.consecutive_failures);
  out.Key("last_success");
  WriteTimeOrNull(out, stats.last_success);
  out.Key("last_error");
  if (stats.last_failure) {
    out.BeginObject().Key("at").String(FormatTime(*stats.last_failure));
    out.Key("message").String(stats.last_error).EndObject();
  } else {
    out.Null();
  }
  out.Key("paused_until");
  WriteTimeOrNull(out, stats.paused_until);
  out.Key("coalesce").Bool(status.policy.coalesce);
  out.Key("concurrency").Int(status.policy.concurrency);
  out.Key("rate_per_second").Double(status.policy.rate_per_second);
  out.Key("details");
  status.details ? connectors::WriteDetails(out, *status.details) : void(out.Null());
  out.EndObject();
}

std::string ConnectorsAnswer(Timestamp now, const std::vector<connectors::ConnectorStatus>& all) {
  JsonWriter out;
  out.BeginObject().Key("time").String(FormatTime(now));
  out.Key("connectors").BeginArray();
  for (const connectors::ConnectorStatus& status : all) WriteConnectorStatus(out, status);
  out.EndArray().EndObject();
  return out.Take();
}

}  // namespace presence::agent
