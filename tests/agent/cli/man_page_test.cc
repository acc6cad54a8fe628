#include "agent/cli/man_page.h"

#include <boost/test/unit_test.hpp>
#include <sstream>
#include <string>

namespace presence::agent {
namespace {

ManPage Example() {
  ManPage page;
  page.program = "presence-agent";
  page.version = "1.2.3";
  page.summary = "Presence Agent: presence states";
  page.options = {{.names = "--version", .description = "Display program version information"}};
  page.commands = {{.name = "replay",
                    .description = "Run a recorded day of events",
                    .options = {{.names = "events",
                                 .value = "TEXT",
                                 .description = "Events, one JSON object per line",
                                 .required = true,
                                 .positional = true},
                                {.names = "-c, --config",
                                 .value = "TEXT",
                                 .description = "Configuration file",
                                 .required = true},
                                {.names = "--json", .description = "JSON output"}}}};
  return page;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(man_page_test)

BOOST_AUTO_TEST_CASE(every_command_and_option_gets_an_entry) {
  const std::string page = RenderManPage(Example());
  BOOST_TEST(page.rfind(".\\\"", 0) == 0);  // a comment first, then the title
  BOOST_TEST(Has(page, "\n.TH PRESENCE\\-AGENT 1 \"\" \"presence\\-agent 1.2.3\""));
  BOOST_TEST(Has(page, "\n.SH NAME\npresence\\-agent \\- Presence Agent: presence states\n"));
  BOOST_TEST(Has(page, "\n.SS replay\nRun a recorded day of events.\n"));
  BOOST_TEST(Has(page, "\n.TP\n.I events\nEvents, one JSON object per line (required)\n"));
  BOOST_TEST(Has(page, "\n.TP\n.BI \"\\-c, \\-\\-config \" TEXT\nConfiguration file (required)\n"));
  BOOST_TEST(Has(page, "\n.TP\n.B \\-\\-json\nJSON output\n"));
  BOOST_TEST(Has(page, "\n.TP\n.B \\-\\-version\n"));
  for (const char* section : {"SYNOPSIS", "OPTIONS", "COMMANDS", "EXIT STATUS", "SIGNALS",
                              "ENVIRONMENT", "FILES", "SEE ALSO"}) {
    BOOST_TEST(Has(page, std::string("\n.SH ") + section + "\n"), section);
  }
}

BOOST_AUTO_TEST_CASE(no_line_of_text_can_be_read_as_a_request) {
  BOOST_TEST(RoffText(".hidden") == "\\&.hidden");
  BOOST_TEST(RoffText("a\n'quoted") == "a\n\\&'quoted");
  BOOST_TEST(RoffText("C:\\path") == "C:\\epath");
  BOOST_TEST(RoffText("--full-check") == "\\-\\-full\\-check");
  BOOST_TEST(RoffText("ok. 'fine'") == "ok. 'fine'");
}

BOOST_AUTO_TEST_CASE(a_description_that_starts_with_a_dot_stays_text) {
  ManPage page = Example();
  page.commands[0].options[2].description = ".json output";
  std::istringstream lines(RenderManPage(page));
  for (std::string line; std::getline(lines, line);) {
    BOOST_TEST(line.rfind(".json", 0) != 0, line);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
