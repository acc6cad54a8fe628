// The report buffer writes numbers exactly as the string functions it replaces (FormatSeconds,
// printf's "%.2f" for percentages, ReportZone::FormatLocal), hands text to the stream in
// chunks, and stops handing it over once the stream failed.

#include "agent/reports/report_buffer.h"

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>
#include <string>

namespace presence::agent {
namespace {

std::string Written(const std::function<void(ReportBuffer&)>& write) {
  std::ostringstream out;
  {
    ReportBuffer buffer(out);
    write(buffer);
  }
  return out.str();
}

// What reports printed before the buffer: printf's "%.2f", trailing zeros dropped.
std::string PrintfPercent(Millis part, Millis whole) {
  if (whole.count() <= 0) return "0";
  char text[512];
  std::snprintf(text, sizeof text, "%.2f",
                100.0 * static_cast<double>(part.count()) / static_cast<double>(whole.count()));
  std::string value(text);
  while (value.back() == '0') value.pop_back();
  if (value.back() == '.') value.pop_back();
  return value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(report_buffer_test)

BOOST_AUTO_TEST_CASE(seconds_are_written_as_format_seconds) {
  std::mt19937_64 random(1);
  std::vector<long long> values = {0,
                                   1,
                                   -1,
                                   10,
                                   100,
                                   999,
                                   1000,
                                   1001,
                                   1010,
                                   1100,
                                   -500,
                                   -1500,
                                   95500,
                                   86399999,
                                   std::numeric_limits<long long>::max(),
                                   std::numeric_limits<long long>::min()};
  for (int i = 0; i < 100000; ++i) {
    values.push_back(static_cast<long long>(random() >> (random() % 64)) * (i % 2 ? 1 : -1));
  }
  for (long long ms : values) {
    BOOST_TEST_REQUIRE(Written([ms](ReportBuffer& b) { b.AppendSeconds(Millis(ms)); }) ==
                           FormatSeconds(Millis(ms)),
                       ms);
  }
}

BOOST_AUTO_TEST_CASE(percentages_round_as_printf_did) {
  std::mt19937_64 random(2);
  std::vector<std::pair<long long, long long>> cases = {
      {0, 0},        {5, 0}, {1, -3},           {0, 7},         {1, 8},     {1, 3},
      {2, 3},        {5, 8}, {1, 800},          {1, 1600},      {1, 80000}, {125, 100000},
      {135, 100000}, {7, 7}, {999999, 1000000}, {99995, 100000}};
  for (int i = 0; i < 200000; ++i) {
    const long long whole = static_cast<long long>(random() % 100000000) + 1;
    cases.emplace_back(
        static_cast<long long>(random() % static_cast<unsigned long long>(whole + 1)), whole);
  }
  // Exact ties of the second decimal: printf rounds them to even.
  for (long long part = 0; part <= 800; ++part) cases.emplace_back(part, 800);
  for (const auto& [part, whole] : cases) {
    BOOST_TEST_REQUIRE(Written([&](ReportBuffer& b) {
                         b.AppendPercent(Millis(part), Millis(whole));
                       }) == PrintfPercent(Millis(part), Millis(whole)),
                       part << " of " << whole);
    BOOST_TEST_REQUIRE(PercentText(Millis(part), Millis(whole)) ==
                       PrintfPercent(Millis(part), Millis(whole)));
  }
}

BOOST_AUTO_TEST_CASE(whole_numbers_and_local_times_as_their_string_forms) {
  auto zone = tracking::ReportZone::Find("Asia/Kathmandu");
  BOOST_TEST_REQUIRE(zone.ok());
  const Timestamp t = *ParseTime("2026-03-29T01:00:00.125Z");
  BOOST_TEST(Written([&](ReportBuffer& b) {
               b.AppendInt(-42);
               b.Append(',');
               b.AppendInt(std::numeric_limits<long long>::max());
               b.Append(',');
               b.AppendLocal(*zone, t);
             }) == "-42,9223372036854775807," + zone->FormatLocal(t));
}

BOOST_AUTO_TEST_CASE(text_reaches_the_stream_in_chunks_and_all_of_it_at_the_end) {
  std::ostringstream out;
  std::string expected;
  {
    ReportBuffer buffer(out);
    const std::string row(100, 'x');
    while (expected.size() < ReportBuffer::kChunk - 100) {
      buffer.Append(row);
      expected += row;
      buffer.EndRow();
    }
    BOOST_TEST(out.str().empty());  // under a chunk: nothing handed over yet
    buffer.Append(row);
    expected += row;
    buffer.EndRow();
    BOOST_TEST(out.str() == expected);  // a chunk: handed over at the end of the row
    // Text longer than the buffer goes out whole, in order.
    const std::string huge(3 * ReportBuffer::kChunk, 'y');
    buffer.Append("head");
    buffer.Append(huge);
    buffer.Append("tail");
    expected += "head" + huge + "tail";
  }
  BOOST_TEST(out.str() == expected);  // the rest when the buffer goes
}

BOOST_AUTO_TEST_CASE(a_failed_stream_gets_nothing_more) {
  std::ostringstream out;
  ReportBuffer buffer(out);
  buffer.Append("first");
  buffer.Drain();
  out.setstate(std::ios::badbit);  // the client went away
  buffer.Append(std::string(2 * ReportBuffer::kChunk, 'z'));
  buffer.EndRow();
  buffer.Flush();
  BOOST_TEST(!buffer.good());
  BOOST_TEST(out.str() == "first");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
