// The CRM sync's pure figure code: totals to records, what is sent again, the upsert fields.

#include "connectors/crm_sync/crm_sync_figures.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "tests/fakes/test_catalog.h"

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;
using reasoncodes::StatusCode;

tracking::Total MakeTotal(const std::string& agent, const std::string& label, StatusCode status,
                          long long ms) {
  return tracking::Total{agent, label, status, Millis(ms)};
}

CrmFigure Figure(const std::string& agent, const std::string& label, long long ms,
                 const std::string& day = "2026-11-21") {
  return FiguresOfDay({MakeTotal(agent, label, StatusCode::kAway, ms)}, day).at(0);
}

AckedFigures Acked(const CrmFigure& figure, long long ms, bool final) {
  return {{figure.key, tracking::SyncedFigure{figure.key, figure.day, Millis(ms), final}}};
}

Directory MakeDirectory() {
  Directory directory;
  directory.catalog = testing::MakeTestCatalog({});
  User ada;
  ada.id = "1001";
  ada.name = "Ada Agent";
  ada.team = "Blue";
  ada.identities["salesforce"] = "005000000000001AAA";
  User bob;
  bob.id = "1002";
  bob.name = "Bob";
  bob.identities["salesforce"] = "00Q000000000001";  // a lead, not a user
  directory.SetUsers(std::vector<User>{ada, bob});
  return directory;
}

BOOST_AUTO_TEST_SUITE(crm_sync_figures_test)

BOOST_AUTO_TEST_CASE(external_id_joins_user_day_label_and_status_code) {
  BOOST_TEST(CrmExternalId("1001", "2026-11-21", "Lunch", StatusCode::kAway) ==
             "1001|2026-11-21|Lunch|3");
  BOOST_TEST(CrmExternalId("a.b@c", "2026-01-02", "On a call", StatusCode::kOnCall) ==
             "a.b@c|2026-01-02|On a call|6");
}

BOOST_AUTO_TEST_CASE(figures_of_a_day_leave_out_states_without_time) {
  std::vector<CrmFigure> figures =
      FiguresOfDay({MakeTotal("1001", "Lunch", StatusCode::kAway, 95500),
                    MakeTotal("1001", "Meeting", StatusCode::kBusy, 0),
                    MakeTotal("1002", "Ready for Calls", StatusCode::kOnline, 3600000)},
                   "2026-11-21");
  BOOST_TEST_REQUIRE(figures.size() == 2u);
  BOOST_TEST(figures[0].key == "1001|2026-11-21|Lunch|3");
  BOOST_TEST(figures[0].duration.count() == 95500);
  BOOST_TEST(figures[1].key == "1002|2026-11-21|Ready for Calls|1");
  BOOST_TEST(figures[1].agent == "1002");
  BOOST_TEST(figures[1].day == "2026-11-21");
  BOOST_TEST(figures[1].label == "Ready for Calls");
  BOOST_TEST((figures[1].status == StatusCode::kOnline));
}

struct SendCase {
  std::string name;
  bool acked;
  long long acked_ms;
  bool acked_final;
  bool ended;
  bool final_field;
  bool sent;
};
std::ostream& operator<<(std::ostream& out, const SendCase& c) { return out << c.name; }

const SendCase kSendCases[] = {
    {"today, never acknowledged", false, 0, false, false, true, true},
    {"today, acknowledged with another figure", true, 1000, false, false, true, true},
    {"today, acknowledged with this figure", true, 5000, false, false, true, false},
    {"ended, acknowledged during the day, final field", true, 5000, false, true, true, true},
    {"ended, acknowledged during the day, no final field", true, 5000, false, true, false, false},
    {"ended, acknowledged as final", true, 5000, true, true, true, false},
    {"ended, final acknowledged with another figure", true, 4000, true, true, true, true},
    {"ended, never acknowledged, no final field", false, 0, false, true, false, true},
};

BOOST_DATA_TEST_CASE(records_to_send_are_those_salesforce_lacks, data::make(kSendCases), c) {
  CrmFigure figure = Figure("1001", "Lunch", 5000);
  AckedFigures acked;
  if (c.acked) acked = Acked(figure, c.acked_ms, c.acked_final);
  std::vector<CrmRecord> records = RecordsToSend({figure}, acked, c.ended, c.final_field);
  BOOST_TEST_REQUIRE(records.size() == (c.sent ? 1u : 0u));
  if (c.sent) {
    BOOST_TEST(records[0].figure.key == figure.key);
    BOOST_TEST(records[0].final == c.ended);
  }
}

BOOST_AUTO_TEST_CASE(acknowledgement_keeps_key_day_figure_and_finality) {
  CrmRecord record{Figure("1001", "Lunch", 95500, "2026-11-20"), true};
  tracking::SyncedFigure saved = Acknowledgement(record);
  BOOST_TEST(saved.key == "1001|2026-11-20|Lunch|3");
  BOOST_TEST(saved.day == "2026-11-20");
  BOOST_TEST(saved.duration.count() == 95500);
  BOOST_TEST(saved.final);
}

struct SecondsCase {
  long long ms;
  std::string json;
};
std::ostream& operator<<(std::ostream& out, const SecondsCase& c) { return out << c.ms; }

const SecondsCase kSecondsCases[] = {
    {95500, "95.5"},         {3600000, "3600"},     {1, "0.001"},        {125, "0.125"},
    {86399999, "86399.999"}, {1234567, "1234.567"}, {90000000, "90000"}, {100, "0.1"},
};

BOOST_DATA_TEST_CASE(seconds_are_written_exactly_to_the_millisecond, data::make(kSecondsCases), c) {
  BOOST_TEST(FieldsJson({{"S__c", SecondsValue(Millis(c.ms))}}) == "{\"S__c\":" + c.json + "}");
}

// The one rule of common/time.h, also where a double would print as "1e+05".
BOOST_AUTO_TEST_CASE(seconds_are_written_as_format_seconds) {
  for (long long ms : {0LL, 1LL, 999LL, 95500LL, 86400000LL, 100000000LL, 100000500LL, 200000000LL,
                       1000000000LL, -1500LL}) {
    BOOST_TEST(FieldsJson({{"S__c", SecondsValue(Millis(ms))}}) ==
                   "{\"S__c\":" + FormatSeconds(Millis(ms)) + "}",
               ms);
  }
}

BOOST_AUTO_TEST_CASE(record_fields_carry_the_user_the_state_and_the_figure) {
  CrmRecord record{Figure("1001", "Lunch", 95500), false};
  Fields fields = CrmRecordFields(record, CrmSyncFields{}, MakeDirectory());
  BOOST_TEST(FieldsJson(fields) ==
             R"({"Presence_Key__c":"1001|2026-11-21|Lunch|3","Agent_Id__c":"1001",)"
             R"("Agent_Name__c":"Ada Agent","Team__c":"Blue","User__c":"005000000000001AAA",)"
             R"("Day__c":"2026-11-21","State__c":"Lunch","Reason_Code__c":"*62",)"
             R"("Status_Code__c":3,"Seconds__c":95.5,"Final__c":false})");
}

BOOST_AUTO_TEST_CASE(unknown_users_bad_ids_and_unnamed_fields_are_left_out) {
  CrmSyncFields names;
  names.team = "";
  names.final = "";
  names.reason_code = "";
  Directory directory = MakeDirectory();
  CrmRecord bob{Figure("1002", "Lunch", 1000), true};
  BOOST_TEST(FieldsJson(CrmRecordFields(bob, names, directory)) ==
             R"({"Presence_Key__c":"1002|2026-11-21|Lunch|3","Agent_Id__c":"1002",)"
             R"("Agent_Name__c":"Bob","Day__c":"2026-11-21","State__c":"Lunch",)"
             R"("Status_Code__c":3,"Seconds__c":1})");
  CrmRecord stranger{Figure("9999", "Gone", 3600000), true};
  BOOST_TEST(FieldsJson(CrmRecordFields(stranger, CrmSyncFields{}, directory)) ==
             R"({"Presence_Key__c":"9999|2026-11-21|Gone|3","Agent_Id__c":"9999",)"
             R"("Day__c":"2026-11-21","State__c":"Gone","Status_Code__c":3,"Seconds__c":3600,)"
             R"("Final__c":true})");
}

BOOST_AUTO_TEST_CASE(renamed_fields_are_used_as_configured) {
  CrmSyncFields names;
  names.user_name = "Name";
  names.salesforce_user = "OwnerId";
  names.seconds = "Time_In_State__c";
  CrmRecord record{Figure("1001", "Lunch", 2000), false};
  std::string json = FieldsJson(CrmRecordFields(record, names, MakeDirectory()));
  BOOST_TEST(json.find(R"("Name":"Ada Agent")") != std::string::npos, json);
  BOOST_TEST(json.find(R"("OwnerId":"005000000000001AAA")") != std::string::npos, json);
  BOOST_TEST(json.find(R"("Time_In_State__c":2,)") != std::string::npos, json);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::connectors
