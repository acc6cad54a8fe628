#include "common/log.h"

#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/test_json.h"

namespace presence {
namespace {

Timestamp At() { return *ParseTime("2026-12-06T19:30:00.125Z"); }

// What a sink was given, each event as a text line of the given style.
struct Recorded {
  LogStyle style;
  std::vector<std::string> lines;
  LogSink Sink() {
    return LogSink(
        [this](const LogEvent& event) { lines.push_back(FormatLogEvent(event, At(), style)); });
  }
};

BOOST_AUTO_TEST_SUITE(log_test)

BOOST_AUTO_TEST_CASE(levels_print_as_the_words_the_log_has_always_used) {
  BOOST_TEST(LogLevelName(LogLevel::kDebug) == "debug");
  BOOST_TEST(LogLevelName(LogLevel::kInfo) == "info");
  BOOST_TEST(LogLevelName(LogLevel::kWarning) == "warning");
  BOOST_TEST(LogLevelName(LogLevel::kError) == "error");
  BOOST_TEST((LogLevel::kDebug < LogLevel::kInfo && LogLevel::kInfo < LogLevel::kWarning &&
              LogLevel::kWarning < LogLevel::kError));
}

BOOST_AUTO_TEST_CASE(a_command_line_log_line_is_level_colon_text) {
  BOOST_TEST(FormatLogLine(LogLevel::kWarning, "the time ledger 'x' was empty") ==
             "warning: the time ledger 'x' was empty");
  BOOST_TEST(FormatLogLine(At(), LogLevel::kInfo, "stopped cleanly") ==
             "2026-12-06T19:30:00.125Z info: stopped cleanly");
}

BOOST_AUTO_TEST_CASE(a_text_line_has_time_level_component_with_instance_message_and_fields) {
  Recorded out;
  LogSink teams = out.Sink().For("connector", {{"connector", "teams"}});
  teams(LogLevel::kWarning, "delivery failing", {{"user", "a17"}, {"attempt", 3}});
  out.Sink().For("service")(LogLevel::kInfo, "stopped cleanly");
  out.Sink()(LogLevel::kError, "no component");
  BOOST_REQUIRE_EQUAL(out.lines.size(), 3u);
  BOOST_TEST(out.lines[0] ==
             "2026-12-06T19:30:00.125Z warning connector[teams]: delivery failing user=a17 "
             "attempt=3");
  BOOST_TEST(out.lines[1] == "2026-12-06T19:30:00.125Z info service: stopped cleanly");
  BOOST_TEST(out.lines[2] == "2026-12-06T19:30:00.125Z error: no component");
}

BOOST_AUTO_TEST_CASE(text_values_with_spaces_quotes_or_equals_and_empty_ones_are_quoted) {
  Recorded out;
  out.Sink().For("http")(LogLevel::kError, "request failed",
                         {{"path", "/api/v1/agents/a b"},
                          {"label", "say \"hi\""},
                          {"q", "a=b"},
                          {"empty", ""},
                          {"plain", "Ready"}});
  BOOST_REQUIRE_EQUAL(out.lines.size(), 1u);
  BOOST_TEST(out.lines[0] ==
             "2026-12-06T19:30:00.125Z error http: request failed path=\"/api/v1/agents/a b\" "
             "label=\"say \\\"hi\\\"\" q=\"a=b\" empty=\"\" plain=Ready");
}

BOOST_AUTO_TEST_CASE(a_message_with_line_breaks_stays_one_line) {
  Recorded out;
  out.Sink().For("ami")(LogLevel::kWarning, "first\nsecond\r\x01", {{"why", "a\nb"}});
  BOOST_REQUIRE_EQUAL(out.lines.size(), 1u);
  BOOST_TEST(out.lines[0] ==
             "2026-12-06T19:30:00.125Z warning ami: first\\nsecond\\r\\u0001 why=\"a\\nb\"");
}

BOOST_AUTO_TEST_CASE(a_json_line_is_one_object_with_time_level_component_message_then_fields) {
  Recorded out{.style = {.format = LogFormat::kJson}};
  out.Sink().For("connector", {{"connector", "teams"}})(
      LogLevel::kWarning, "say \"hi\"\n\\ \x01 \xff", {{"user", "a17"}, {"attempt", 3}});
  BOOST_REQUIRE_EQUAL(out.lines.size(), 1u);
  BOOST_TEST(out.lines[0] ==
             "{\"time\":\"2026-12-06T19:30:00.125Z\",\"level\":\"warning\",\"component\":"
             "\"connector\",\"message\":\"say \\\"hi\\\"\\n\\\\ \\u0001 \xEF\xBF\xBD\","
             "\"connector\":\"teams\",\"user\":\"a17\",\"attempt\":3}");
  Poco::JSON::Object::Ptr object = testing::ParseObject(out.lines[0]);
  BOOST_TEST(object->getValue<std::string>("message") == "say \"hi\"\n\\ \x01 \xEF\xBF\xBD");
  BOOST_TEST(object->getValue<int>("attempt") == 3);
}

BOOST_AUTO_TEST_CASE(a_field_with_a_reserved_name_does_not_repeat_a_json_member) {
  Recorded out{.style = {.format = LogFormat::kJson}};
  out.Sink().For("core")(LogLevel::kInfo, "m", {{"message", "x"}});
  BOOST_TEST(out.lines.at(0) ==
             "{\"time\":\"2026-12-06T19:30:00.125Z\",\"level\":\"info\",\"component\":\"core\","
             "\"message\":\"m\",\"message_\":\"x\"}");
}

BOOST_AUTO_TEST_CASE(in_the_journal_a_line_starts_with_the_syslog_priority_and_has_no_time) {
  Recorded text{.style = {.journal = true}};
  Recorded json{.style = {.format = LogFormat::kJson, .journal = true}};
  for (Recorded* out : {&text, &json}) {
    LogSink sink = out->Sink().For("sip");
    sink(LogLevel::kError, "e");
    sink(LogLevel::kWarning, "w");
    sink(LogLevel::kInfo, "i");
    sink(LogLevel::kDebug, "d");
  }
  BOOST_TEST(text.lines == (std::vector<std::string>{"<3>error sip: e", "<4>warning sip: w",
                                                     "<6>info sip: i", "<7>debug sip: d"}),
             boost::test_tools::per_element());
  BOOST_TEST(json.lines.at(1) ==
             "<4>{\"level\":\"warning\",\"component\":\"sip\",\"message\":\"w\"}");
}

BOOST_AUTO_TEST_CASE(a_calls_field_replaces_the_sinks_field_of_the_same_name) {
  Recorded out;
  LogSink ami = out.Sink().For("connector", {{"connector", "pbx"}}).For("ami", {{"server", "a"}});
  ami.With({{"user", "1001"}})(LogLevel::kInfo, "up", {{"server", "b"}});
  BOOST_TEST(out.lines.at(0) ==
             "2026-12-06T19:30:00.125Z info ami: up connector=pbx server=b user=1001");
}

BOOST_AUTO_TEST_CASE(a_text_writer_gets_the_message_with_its_fields) {
  std::vector<std::string> lines;
  LogSink sink = [&](LogLevel level, std::string_view text) {
    lines.push_back(FormatLogLine(level, text));
  };
  sink(LogLevel::kWarning, "lost", {{"attempt", 2}});
  sink.For("crm_sync")(LogLevel::kInfo, "syncing again");
  BOOST_TEST(lines == (std::vector<std::string>{"warning: lost attempt=2",
                                                "info: crm_sync: syncing again"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_empty_sink_is_false_drops_events_and_its_children_are_empty) {
  LogSink empty;
  BOOST_TEST(!empty);
  BOOST_TEST(!empty.For("x"));
  empty(LogLevel::kError, "nothing happens");
  BOOST_TEST(!LogSink(std::function<void(LogLevel, std::string_view)>()));
}

BOOST_AUTO_TEST_CASE(a_swallowed_error_is_logged_and_counted_by_component) {
  auto count = [](std::string_view component) {
    for (const auto& [name, n] : SwallowedErrors()) {
      if (name == component) return n;
    }
    return uint64_t{0};
  };
  const uint64_t before = count("log_test");
  const uint64_t unknown = count("unknown");
  Recorded out;
  out.Sink().For("log_test").Swallowed("reading the thing", "it broke", {{"user", "a"}});
  LogSink().For("log_test").Swallowed("x", "y");  // empty: no component, still counted
  LogSink().Swallowed("x", "y");
  BOOST_TEST(out.lines.at(0) ==
             "2026-12-06T19:30:00.125Z error log_test: reading the thing: it broke user=a");
  BOOST_TEST(count("log_test") == before + 1);
  BOOST_TEST(count("unknown") == unknown + 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence
