#include "agent/service/log_output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"

namespace presence::agent {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Fixture {
  testing::FakeClock clock{*ParseTime("2026-12-06T19:30:00.000Z")};
  std::ostringstream out;
  LogOutput output{out, clock, false};
};

BOOST_AUTO_TEST_SUITE(log_output_test)

BOOST_AUTO_TEST_CASE(events_below_the_level_are_left_out) {
  Fixture f;
  LogSink core = f.output.SinkFor("core");
  core(LogLevel::kDebug, "d");
  core(LogLevel::kInfo, "i");
  core(LogLevel::kWarning, "w");
  f.output.Configure({.level = LogLevel::kWarning});
  core(LogLevel::kInfo, "i2");
  core(LogLevel::kError, "e");
  f.output.Configure({.level = LogLevel::kDebug});
  core(LogLevel::kDebug, "d2");
  BOOST_TEST(Lines(f.out.str()) == (std::vector<std::string>{
                                       "2026-12-06T19:30:00.000Z info core: i",
                                       "2026-12-06T19:30:00.000Z warning core: w",
                                       "2026-12-06T19:30:00.000Z error core: e",
                                       "2026-12-06T19:30:00.000Z debug core: d2",
                                   }),
             boost::test_tools::per_element());
  BOOST_TEST(f.output.Enabled(LogLevel::kDebug));
}

BOOST_AUTO_TEST_CASE(a_new_format_applies_to_the_next_event_of_every_sink) {
  Fixture f;
  LogSink teams = f.output.SinkFor("connector", {{"connector", "teams"}});
  teams(LogLevel::kInfo, "one", {{"user", "a17"}});
  f.output.Configure({.format = LogFormat::kJson});
  teams(LogLevel::kInfo, "two", {{"user", "a17"}});
  BOOST_TEST(Lines(f.out.str()) ==
                 (std::vector<std::string>{
                     "2026-12-06T19:30:00.000Z info connector[teams]: one user=a17",
                     R"({"time":"2026-12-06T19:30:00.000Z","level":"info","component":"connector",)"
                     R"("message":"two","connector":"teams","user":"a17"})",
                 }),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(in_the_journal_lines_have_the_priority_and_no_time) {
  testing::FakeClock clock(*ParseTime("2026-12-06T19:30:00.000Z"));
  std::ostringstream out;
  LogOutput output(out, clock, true);
  output.SinkFor("ami", {{"server", "pbx:5038"}})(LogLevel::kWarning, "connection lost");
  BOOST_TEST(out.str() == "<4>warning ami: connection lost server=pbx:5038\n");
}

BOOST_AUTO_TEST_CASE(lines_from_many_threads_never_interleave) {
  Fixture f;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, t] {
      LogSink sink = f.output.SinkFor("stream", {{"thread", t}});
      for (int i = 0; i < 200; ++i) sink(LogLevel::kInfo, std::string(100, 'x'));
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = Lines(f.out.str());
  BOOST_REQUIRE_EQUAL(lines.size(), 800u);
  for (const std::string& line : lines) {
    BOOST_TEST(line.starts_with("2026-12-06T19:30:00.000Z info stream: " + std::string(100, 'x') +
                                " thread="),
               line);
  }
}

BOOST_AUTO_TEST_CASE(journal_stream_names_device_and_inode_in_decimal) {
  BOOST_TEST(JournalStreamMatches("2049:1234567", 2049, 1234567));
  BOOST_TEST(!JournalStreamMatches("2049:1234567", 2049, 1234568));
  BOOST_TEST(!JournalStreamMatches("2050:1234567", 2049, 1234567));
  for (const char* bad : {"", "2049", ":", "2049:", ":1234567", "x:1", "1:2:3", "1: 2", "-1:2"}) {
    BOOST_TEST(!JournalStreamMatches(bad, 1, 2), bad);
  }
}

BOOST_AUTO_TEST_CASE(a_descriptor_is_the_journal_only_when_journal_stream_names_it) {
  testing::TempDir dir;
  const std::string path = dir.File("stderr");
  FILE* file = std::fopen(path.c_str(), "w");
  BOOST_REQUIRE(file != nullptr);
  struct stat status {};
  BOOST_REQUIRE(::fstat(fileno(file), &status) == 0);
  const char* saved = std::getenv("JOURNAL_STREAM");
  const std::string previous = saved ? saved : "";
  ::unsetenv("JOURNAL_STREAM");
  BOOST_TEST(!StreamIsJournal(fileno(file)));
  const std::string named = std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
  ::setenv("JOURNAL_STREAM", named.c_str(), 1);
  BOOST_TEST(StreamIsJournal(fileno(file)));
  // Another descriptor (a redirected stderr) under the same variable is not the journal.
  FILE* other = std::fopen(dir.File("other").c_str(), "w");
  BOOST_REQUIRE(other != nullptr);
  BOOST_TEST(!StreamIsJournal(fileno(other)));
  if (saved) {
    ::setenv("JOURNAL_STREAM", previous.c_str(), 1);
  } else {
    ::unsetenv("JOURNAL_STREAM");
  }
  std::fclose(other);
  std::fclose(file);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace presence::agent
