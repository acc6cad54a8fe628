// GET /api/v1/connectors: each connector's status as JSON, members in a fixed order and the
// connector's own details in name order, byte for byte as the API has always written them.
#include "agent/api/connector_status_json.h"

#include <boost/test/unit_test.hpp>

#include "connectors/delivery/dispatcher.h"
#include "tests/fakes/fake_clock.h"
#include "tracking/memory/memory_time_store.h"

namespace presence::agent {
namespace {

using connectors::Connector;
using connectors::DeliveryPolicy;
using connectors::DeliveryResult;
using connectors::Dispatcher;

// Reports fixed details of every kind a connector uses: text, numbers, true/false, null, a
// list of texts and a nested group.
class DetailedConnector final : public Connector {
 public:
  explicit DetailedConnector(bool with_details) : with_details_(with_details) {}
  bool Wants(const connectors::Change&, const connectors::Directory&) const override {
    return true;
  }
  DeliveryResult Deliver(const connectors::Delivery&, const connectors::Directory&) override {
    return DeliveryResult::Delivered();
  }
  std::optional<connectors::ConnectorDetails> Details() const override {
    if (!with_details_) return std::nullopt;
    connectors::ConnectorDetails details;
    details["session"] = std::string("connected");
    details["reconnects"] = 3;
    details["request_timeout_ms"] = static_cast<int64_t>(2500);
    details["api_calls"] = static_cast<int64_t>(12);
    details["token_expires_at"] = nullptr;
    details["enabled"] = true;
    details["last_error"] = std::string("line \"one\"\n\xC3\xA9");
    details["headers"] = std::vector<std::string>{"X-Key", "Authorization"};
    details["empty"] = std::vector<std::string>{};
    details["last_originate_failure"] = connectors::DetailGroup{
        {"reason_text", std::string("busy")},
        {"reason", 5},
        {"at", std::string("2027-01-15T08:00:00.000Z")},
    };
    return details;
  }

 private:
  bool with_details_;
};

struct Rig {
  testing::FakeClock clock{FromEpochMillis(1'800'000'000'000)};
  std::unique_ptr<tracking::TimeStore> store = tracking::NewMemoryTimeStore();

  std::string StatusText(bool with_details, const DeliveryPolicy& policy) {
    Dispatcher dispatcher("pbx", "ami", policy, std::make_unique<DetailedConnector>(with_details),
                          *store, clock, [](LogLevel, std::string_view) {});
    JsonWriter out;
    WriteConnectorStatus(out, dispatcher.CurrentStatus());
    return out.Take();
  }
};

BOOST_AUTO_TEST_SUITE(connector_status_json_test)

BOOST_AUTO_TEST_CASE(status_and_details_are_written_in_their_fixed_order) {
  Rig rig;
  DeliveryPolicy policy;
  policy.concurrency = 4;
  policy.rate_per_second = 40;
  BOOST_TEST(rig.StatusText(true, policy) ==
             R"({"name":"pbx","type":"ami","queue_depth":0,"in_flight":0,"delivered":0,)"
             R"("retried":0,"rejected":0,"coalesced":0,"refreshed":0,"consecutive_failures":0,)"
             R"("last_success":null,"last_error":null,"paused_until":null,"coalesce":true,)"
             R"("concurrency":4,"rate_per_second":40,"details":{"api_calls":12,"empty":[],)"
             R"("enabled":true,"headers":["X-Key","Authorization"],)"
             R"("last_error":"line \"one\"\n)"
             "\xC3\xA9"
             R"(","last_originate_failure":{"at":"2027-01-15T08:00:00.000Z","reason":5,)"
             R"("reason_text":"busy"},"reconnects":3,"request_timeout_ms":2500,)"
             R"("session":"connected","token_expires_at":null}})");
}

BOOST_AUTO_TEST_CASE(a_connector_without_details_shows_null) {
  Rig rig;
  DeliveryPolicy policy;
  policy.coalesce = false;
  BOOST_TEST(rig.StatusText(false, policy) ==
             R"({"name":"pbx","type":"ami","queue_depth":0,"in_flight":0,"delivered":0,)"
             R"("retried":0,"rejected":0,"coalesced":0,"refreshed":0,"consecutive_failures":0,)"
             R"("last_success":null,"last_error":null,"paused_until":null,"coalesce":false,)"
             R"("concurrency":1,"rate_per_second":0,"details":null})");
}

BOOST_AUTO_TEST_CASE(the_answer_holds_the_time_and_every_connector_in_order) {
  const Timestamp now = FromEpochMillis(1'800'000'000'000);
  connectors::ConnectorStatus hook{.name = "hook", .type = "webhook"};
  hook.details = connectors::ConnectorDetails{{"url", std::string("https://crm.example.com/")}};
  connectors::ConnectorStatus pbx{.name = "pbx", .type = "ami"};
  std::string answer = ConnectorsAnswer(now, {hook, pbx});
  BOOST_TEST(answer.starts_with(R"({"time":")" + FormatTime(now) +
                                R"(","connectors":[{"name":"hook","type":"webhook",)"));
  BOOST_TEST(answer.find(R"("details":{"url":"https://crm.example.com/"}},{"name":"pbx",)") !=
             std::string::npos);
  BOOST_TEST(answer.ends_with(R"("details":null}]})"));
  BOOST_TEST(ConnectorsAnswer(now, {}) ==
             R"({"time":")" + FormatTime(now) + R"(","connectors":[]})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::agent
