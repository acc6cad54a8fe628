// Shapes shared by the CLI and the API: totals JSON writes seconds as FormatSeconds does, and
// CSV fields are quoted per RFC 4180 with the spreadsheet formula guard.

#include "agent/reports/output.h"

#include <Poco/JSON/Stringifier.h>

#include <boost/test/unit_test.hpp>
#include <sstream>
#include <string>

#include "common/time.h"

namespace presence::agent {
namespace {

std::string SecondsText(Millis duration) {
  tracking::Total total{"1001", "Lunch", reasoncodes::StatusCode::kOnline, duration};
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(TotalJson(total)->get("seconds"), out);
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(output_test)

BOOST_AUTO_TEST_CASE(total_seconds_are_written_as_format_seconds) {
  for (long long millis : {0LL, 1LL, 125LL, 999LL, 95000LL, 95500LL, 1050LL, 86399999LL,
                           100000000LL, 100000500LL, 1234567890123LL}) {
    BOOST_TEST(SecondsText(Millis(millis)) == FormatSeconds(Millis(millis)), millis);
  }
}

BOOST_AUTO_TEST_CASE(csv_fields_are_quoted_only_when_needed) {
  BOOST_TEST(CsvField("Lunch") == "Lunch");
  BOOST_TEST(CsvField("") == "");
  BOOST_TEST(CsvField("a,b") == "\"a,b\"");
  BOOST_TEST(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  BOOST_TEST(CsvField("two\nlines") == "\"two\nlines\"");
  BOOST_TEST(CsvField("=1+1") == "'=1+1");
  BOOST_TEST(CsvField("-5,3") == "\"'-5,3\"");
  BOOST_TEST(CsvField("@SUM(A1)") == "'@SUM(A1)");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
