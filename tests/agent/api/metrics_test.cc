// Prometheus metrics: labelled counters, cumulative histograms, the "other" route and code,
// gauges, exact sums under concurrent recording, and output that a line-by-line checker of the
// text exposition format 0.0.4 accepts.

#include "agent/api/metrics.h"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "common/log.h"

namespace presence::agent {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<std::string> kRoutes = {"GET /api/v1/health", "PUT /api/v1/agents/{id}/state",
                                          "POST /api/v1/agents/{id}/events"};

// A parsed sample line: name{labels} value.
struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// What the checker read: samples in order, declared types, and every problem found (with
// its line number). A tiny reader of the text format, strict where Prometheus is strict.
struct Exposition {
  std::vector<ParsedSample> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> problems;

  // The value of the one sample with this name and exactly these labels.
  std::optional<double> Find(const std::string& name,
                             const std::map<std::string, std::string>& labels = {}) const {
    for (const ParsedSample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
};

bool IsMetricName(std::string_view name, bool label = false) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::optional<double> ParseValue(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  try {
    size_t used = 0;
    double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Reads `{a="x",b="y"}` from line[pos] on; returns the position after '}' or nullopt.
std::optional<size_t> ParseLabels(const std::string& line, size_t pos,
                                  std::map<std::string, std::string>& labels) {
  ++pos;  // '{'
  while (pos < line.size() && line[pos] != '}') {
    size_t eq = line.find('=', pos);
    if (eq == std::string::npos) return std::nullopt;
    std::string name = line.substr(pos, eq - pos);
    if (!IsMetricName(name, true) || eq + 1 >= line.size() || line[eq + 1] != '"') {
      return std::nullopt;
    }
    std::string value;
    pos = eq + 2;
    for (; pos < line.size() && line[pos] != '"'; ++pos) {
      if (line[pos] != '\\') {
        value += line[pos];
        continue;
      }
      if (++pos >= line.size()) return std::nullopt;
      if (line[pos] == 'n') {
        value += '\n';
      } else if (line[pos] == '\\' || line[pos] == '"') {
        value += line[pos];
      } else {
        return std::nullopt;
      }
    }
    if (pos >= line.size() || !labels.emplace(name, value).second) return std::nullopt;
    ++pos;  // closing quote
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) return std::nullopt;
  return pos + 1;
}

// The family a sample belongs to: histogram samples carry a suffix.
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto type = types.find(base);
      if (type != types.end() && type->second == "histogram") return base;
    }
  }
  return name;
}

class Checker {
 public:
  Exposition Check(const std::string& text) {
    if (!text.empty() && text.back() != '\n') Problem("the text does not end with a newline");
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++line_number_;
      Line(text.substr(start, end - start));
      start = end + 1;
    }
    return std::move(result_);
  }

 private:
  void Problem(const std::string& what) {
    result_.problems.push_back("line " + std::to_string(line_number_) + ": " + what);
  }

  void Line(const std::string& line) {
    if (line.empty()) return Problem("empty line");
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) return Comment(line);
    if (line[0] == '#') return;  // a plain comment
    SampleLine(line);
  }

  void Comment(const std::string& line) {
    bool help = line[2] == 'H';
    size_t space = line.find(' ', 7);
    std::string name = line.substr(7, space == std::string::npos ? std::string::npos : space - 7);
    std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (!IsMetricName(name)) return Problem("bad metric name '" + name + "'");
    if (seen_families_.count(name)) return Problem(name + ": HELP/TYPE after its samples");
    if (help) {
      if (!helped_.insert(name).second) Problem(name + ": a second HELP");
      return;
    }
    static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                 "untyped"};
    if (!kTypes.count(rest)) return Problem(name + ": unknown type '" + rest + "'");
    if (!result_.types.emplace(name, rest).second) Problem(name + ": a second TYPE");
  }

  void SampleLine(const std::string& line) {
    ParsedSample sample;
    size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) return Problem("no value");
    sample.name = line.substr(0, pos);
    if (!IsMetricName(sample.name)) return Problem("bad metric name '" + sample.name + "'");
    if (line[pos] == '{') {
      std::optional<size_t> after = ParseLabels(line, pos, sample.labels);
      if (!after || *after >= line.size() || line[*after] != ' ') {
        return Problem("bad labels");
      }
      pos = *after;
    }
    std::string value_text = line.substr(pos + 1);
    size_t space = value_text.find(' ');  // an optional timestamp follows
    std::optional<double> value = ParseValue(value_text.substr(0, space));
    if (!value) return Problem("bad value '" + value_text + "'");
    sample.value = *value;
    Family(sample);
    result_.samples.push_back(std::move(sample));
  }

  void Family(const ParsedSample& sample) {
    std::string family = FamilyOf(sample.name, result_.types);
    if (!result_.types.count(family)) Problem(sample.name + ": no TYPE line before it");
    if (family != current_family_) {
      if (!seen_families_.insert(family).second) Problem(family + ": samples not together");
      current_family_ = family;
    }
    bool histogram = result_.types.count(family) && result_.types.at(family) == "histogram";
    if (histogram && sample.name.ends_with("_bucket") && !sample.labels.count("le")) {
      Problem(sample.name + ": a bucket without le");
    }
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels) key += "|" + k + "=" + v;
    if (!series_.insert(key).second) Problem(sample.name + ": the same series twice");
  }

  Exposition result_;
  int line_number_ = 0;
  std::set<std::string> helped_;
  std::set<std::string> seen_families_;
  std::string current_family_;
  std::set<std::string> series_;
};

std::string FirstProblem(const Exposition& parsed) {
  return parsed.problems.empty() ? "" : parsed.problems.front();
}

Exposition Parse(const Metrics& metrics) {
  Exposition parsed = Checker().Check(metrics.Render());
  BOOST_TEST_REQUIRE(parsed.problems.empty(), "first problem: " << FirstProblem(parsed));
  return parsed;
}

// Bucket counts of one histogram series as "le=count", in output order.
std::vector<std::string> Buckets(const Exposition& parsed, const std::string& name,
                                 const std::map<std::string, std::string>& labels = {}) {
  std::vector<std::string> buckets;
  for (const ParsedSample& s : parsed.samples) {
    if (s.name != name + "_bucket") continue;
    auto other = s.labels;
    std::string le = other["le"];
    other.erase("le");
    if (other == labels) buckets.push_back(le + "=" + std::to_string(static_cast<int>(s.value)));
  }
  return buckets;
}

const std::string kPut = "PUT /api/v1/agents/{id}/state";

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_test)

BOOST_AUTO_TEST_CASE(counts_appear_with_their_labels) {
  Metrics metrics(kRoutes);
  for (int i = 0; i < 3; ++i) metrics.CountEvent(EventType::kSelect, true);
  metrics.CountEvent(EventType::kCallEnded, false);
  metrics.CountChange(reasoncodes::Source::kCall);
  metrics.CountChange(reasoncodes::Source::kCall);
  metrics.CountChange(reasoncodes::Source::kWrapUp);
  metrics.ObserveRequest(kPut, 200, milliseconds(2));
  metrics.ObserveRequest(kPut, 422, milliseconds(1));
  Exposition parsed = Parse(metrics);
  BOOST_TEST(*parsed.Find("presence_events_total", {{"type", "select"}, {"result", "ok"}}) == 3);
  BOOST_TEST(*parsed.Find("presence_events_total", {{"type", "select"}, {"result", "error"}}) == 0);
  BOOST_TEST(*parsed.Find("presence_events_total", {{"type", "call_ended"}, {"result", "error"}}) ==
             1);
  BOOST_TEST(*parsed.Find("presence_changes_total", {{"source", "call"}}) == 2);
  BOOST_TEST(*parsed.Find("presence_changes_total", {{"source", "wrap_up"}}) == 1);
  BOOST_TEST(*parsed.Find("presence_changes_total", {{"source", "pbx"}}) == 0);
  BOOST_TEST(*parsed.Find("presence_http_requests_total", {{"route", kPut}, {"code", "200"}}) == 1);
  BOOST_TEST(*parsed.Find("presence_http_requests_total", {{"route", kPut}, {"code", "422"}}) == 1);
  BOOST_TEST(*parsed.Find("presence_http_requests_total",
                          {{"route", "GET /api/v1/health"}, {"code", "200"}}) == 0);
  BOOST_TEST(parsed.types.at("presence_events_total") == "counter");
  BOOST_TEST(parsed.types.at("presence_http_request_seconds") == "histogram");
}

BOOST_AUTO_TEST_CASE(every_event_type_and_source_has_a_series_from_the_start) {
  Metrics metrics(kRoutes);
  Exposition parsed = Parse(metrics);
  for (std::string type : {"select", "call_started", "call_answered", "call_ended", "login",
                           "logout", "override", "wrap_up_timer"}) {
    BOOST_TEST(parsed.Find("presence_events_total", {{"type", type}, {"result", "ok"}}).has_value(),
               type);
  }
  for (std::string source : {"agent", "crm", "supervisor", "call", "wrap_up", "system", "pbx"}) {
    BOOST_TEST(parsed.Find("presence_changes_total", {{"source", source}}).has_value(), source);
  }
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_with_count_and_sum) {
  Metrics metrics(kRoutes);
  for (auto latency : {microseconds(300), microseconds(1000), microseconds(3000),
                       microseconds(3000), microseconds(20000), microseconds(20000000)}) {
    metrics.ObserveRequest(kPut, 200, latency);
  }
  Exposition parsed = Parse(metrics);
  const std::map<std::string, std::string> route = {{"route", kPut}};
  std::vector<std::string> expected = {"0.0005=1", "0.001=2", "0.0025=2", "0.005=4", "0.01=4",
                                       "0.025=5",  "0.05=5",  "0.1=5",    "0.25=5",  "0.5=5",
                                       "1=5",      "2.5=5",   "5=5",      "10=5",    "+Inf=6"};
  BOOST_TEST(Buckets(parsed, "presence_http_request_seconds", route) == expected,
             boost::test_tools::per_element());
  BOOST_TEST(*parsed.Find("presence_http_request_seconds_count", route) == 6);
  BOOST_TEST(*parsed.Find("presence_http_request_seconds_sum", route) == 20.0273,
             boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(commit_histograms_count_time_and_events_per_transaction) {
  Metrics metrics(kRoutes);
  metrics.ObserveCommit(milliseconds(4), 1);
  metrics.ObserveCommit(milliseconds(8), 7);
  metrics.ObserveCommit(milliseconds(30), 600);
  Exposition parsed = Parse(metrics);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_seconds_count") == 3);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_seconds_sum") == 0.042,
             boost::test_tools::tolerance(1e-9));
  BOOST_TEST(*parsed.Find("presence_ledger_commit_events_sum") == 608);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_events_bucket", {{"le", "1"}}) == 1);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_events_bucket", {{"le", "10"}}) == 2);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_events_bucket", {{"le", "500"}}) == 2);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_events_bucket", {{"le", "1000"}}) == 3);
}

BOOST_AUTO_TEST_CASE(unknown_route_and_unlisted_code_count_as_other) {
  Metrics metrics(kRoutes);
  metrics.ObserveRequest("GET /no/such/route", 404, milliseconds(1));
  metrics.ObserveRequest("GET /api/v1/health", 418, milliseconds(1));
  Exposition parsed = Parse(metrics);
  BOOST_TEST(*parsed.Find("presence_http_requests_total", {{"route", "other"}, {"code", "404"}}) ==
             1);
  BOOST_TEST(*parsed.Find("presence_http_requests_total",
                          {{"route", "GET /api/v1/health"}, {"code", "other"}}) == 1);
  BOOST_TEST(!parsed.Find("presence_http_requests_total",
                          {{"route", "GET /no/such/route"}, {"code", "404"}}));
  BOOST_TEST(*parsed.Find("presence_http_request_seconds_count", {{"route", "other"}}) == 1);
}

BOOST_AUTO_TEST_CASE(gauges_are_read_when_rendering) {
  Metrics metrics(kRoutes);
  double viewers = 3;
  metrics.AddGauge("stream_viewers", "Connected live-stream viewers.", [&] { return viewers; });
  metrics.AddGauge("presence_users", "Users with a state.", [] { return 1000.0; });
  metrics.AddGauge("odd name-here", "Not a number.", [] { return NAN; });
  viewers = 5;
  Exposition parsed = Parse(metrics);
  BOOST_TEST(*parsed.Find("presence_stream_viewers") == 5);
  BOOST_TEST(*parsed.Find("presence_users") == 1000);
  BOOST_TEST(std::isnan(*parsed.Find("presence_odd_name_here")));
  BOOST_TEST(parsed.types.at("presence_stream_viewers") == "gauge");

  metrics.AddGauge("stream_viewers", "Replaced.", [] { return 9.0; });
  BOOST_TEST(*Parse(metrics).Find("presence_stream_viewers") == 9);
}

// Labelled families (the connectors' series): collected anew each time, written after every
// built-in family and gauge in the order added, label values escaped, numbers exact.
BOOST_AUTO_TEST_CASE(labelled_families_are_collected_fresh_after_the_built_in_ones) {
  Metrics metrics(kRoutes);
  double depth = 3;
  metrics.AddFamilies([&] {
    return std::vector<Metrics::Family>{
        {"connector_queue_depth",
         "gauge",
         "Changes waiting",
         {{Metrics::Label("connector", "pbx"), depth}}},
        {"connector_last_success_timestamp_seconds",
         "gauge",
         "Last success",
         {{Metrics::Label("connector", "a \"quoted\" name"), 1763740000.123}}}};
  });
  metrics.AddFamilies([] {
    return std::vector<Metrics::Family>{{"connector_other", "counter", "Other", {}}};
  });
  metrics.AddGauge("stream_viewers", "Viewers.", [] { return 1.0; });
  BOOST_TEST(*Parse(metrics).Find("presence_connector_queue_depth", {{"connector", "pbx"}}) == 3);
  depth = 0;
  BOOST_TEST(*Parse(metrics).Find("presence_connector_queue_depth", {{"connector", "pbx"}}) == 0);
  const std::string text = metrics.Render();
  // A Unix time in seconds keeps its milliseconds (a default ostream would print 1.76374e+09).
  BOOST_TEST(*Parse(metrics).Find("presence_connector_last_success_timestamp_seconds",
                                  {{"connector", "a \"quoted\" name"}}) == 1763740000.123);
  const size_t families = text.find("# HELP presence_connector_queue_depth");
  BOOST_REQUIRE(families != std::string::npos);
  BOOST_TEST(families > text.find("presence_stream_viewers 1"));
  BOOST_TEST(families > text.find("presence_ledger_commit_events_count"));
  BOOST_TEST(text.ends_with("# TYPE presence_connector_other counter\n"));
}

// Every catch that swallows an error counts it by component, process-wide (common/log.h).
BOOST_AUTO_TEST_CASE(swallowed_errors_are_counted_by_component_from_zero) {
  Metrics metrics(kRoutes);
  const std::optional<double> http =
      Parse(metrics).Find("presence_swallowed_errors_total", {{"component", "http"}});
  BOOST_REQUIRE(http.has_value());  // there before the first error
  BOOST_TEST(
      !Parse(metrics).Find("presence_swallowed_errors_total", {{"component", "metrics_test"}}));
  LogSink log = LogSink([](const LogEvent&) {});
  log.For("metrics_test").Swallowed("testing", "a failure");
  log.For("metrics_test").Swallowed("testing", "another");
  log.For("http").Swallowed("testing", "a failure");
  BOOST_TEST(*Parse(metrics).Find("presence_swallowed_errors_total",
                                  {{"component", "metrics_test"}}) == 2);
  BOOST_TEST(*Parse(metrics).Find("presence_swallowed_errors_total", {{"component", "http"}}) ==
             *http + 1);
}

BOOST_AUTO_TEST_CASE(output_parses_line_by_line_even_with_awkward_label_values) {
  Metrics metrics({"GET /a\"quoted\"\\path", "GET /api/v1/states"});
  metrics.ObserveRequest("GET /a\"quoted\"\\path", 200, milliseconds(1));
  metrics.AddGauge("help_with_backslash", "one \\ two\nthree", [] { return INFINITY; });
  Exposition parsed = Parse(metrics);
  BOOST_TEST(*parsed.Find("presence_http_requests_total",
                          {{"route", "GET /a\"quoted\"\\path"}, {"code", "200"}}) == 1);
  BOOST_TEST(std::isinf(*parsed.Find("presence_help_with_backslash")));
  for (const ParsedSample& sample : parsed.samples) {
    BOOST_TEST(sample.name.starts_with("presence_"), sample.name);
  }
}

BOOST_AUTO_TEST_CASE(the_checker_rejects_what_prometheus_would_reject) {
  const std::vector<std::string> bad = {
      "presence_x 1\n",                                           // no TYPE
      "# TYPE presence_x counter\npresence_x one\n",              // bad value
      "# TYPE presence_x counter\npresence_x{a=\"1} 1\n",         // unterminated label value
      "# TYPE presence_x counter\npresence_x{a=\"\\t\"} 1\n",     // unknown escape
      "# TYPE presence_x counter\npresence_x 1",                  // no final newline
      "# TYPE presence_x counter\npresence_x 1\npresence_x 2\n",  // the same series twice
      "# TYPE presence_x counter\n# TYPE presence_x gauge\npresence_x 1\n",
      "# TYPE presence_x counter\n# TYPE presence_y counter\npresence_x 1\npresence_y 1\n"
      "presence_x{a=\"b\"} 1\n",                             // a family split in two
      "# TYPE presence_h histogram\npresence_h_bucket 1\n",  // bucket without le
      "# TYPE 9x counter\n",                                 // bad name
  };
  for (const std::string& text : bad) {
    BOOST_TEST(!Checker().Check(text).problems.empty(), text);
  }
  BOOST_TEST(Checker()
                 .Check("# HELP presence_x Some help.\n# TYPE presence_x counter\n"
                        "presence_x{a=\"q\\\"\\\\\\n\"} 1.5e3\n")
                 .problems.empty());
}

BOOST_AUTO_TEST_CASE(concurrent_recording_sums_exactly) {
  Metrics metrics(kRoutes);
  constexpr int kThreads = 6;
  constexpr int kEach = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kEach; ++i) {
        metrics.ObserveRequest(kRoutes[t % 3], i % 2 ? 200 : 422, microseconds(1 + i % 3));
        metrics.CountEvent(EventType::kSelect, true);
        metrics.CountChange(reasoncodes::Source::kAgent);
        metrics.ObserveCommit(microseconds(10), 2);
      }
    });
  }
  // Rendering while others record must stay well-formed.
  for (int i = 0; i < 5; ++i) Parse(metrics);
  for (auto& thread : threads) thread.join();

  Exposition parsed = Parse(metrics);
  const double total = kThreads * kEach;
  BOOST_TEST(*parsed.Find("presence_events_total", {{"type", "select"}, {"result", "ok"}}) ==
             total);
  BOOST_TEST(*parsed.Find("presence_changes_total", {{"source", "agent"}}) == total);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_events_sum") == 2 * total);
  BOOST_TEST(*parsed.Find("presence_ledger_commit_seconds_count") == total);
  double requests = 0;
  double latency_ns = 0;
  for (const std::string& route : kRoutes) {
    for (std::string code : {"200", "422"}) {
      requests += *parsed.Find("presence_http_requests_total", {{"route", route}, {"code", code}});
    }
    latency_ns += *parsed.Find("presence_http_request_seconds_sum", {{"route", route}}) * 1e9;
  }
  BOOST_TEST(requests == total);
  // Each thread observes 1, 2, 3 us in turn: kEach / 3 full rounds of 6 us, plus a 1 us rest.
  const double per_thread_ns =
      (kEach / 3) * 6000.0 + (kEach % 3 >= 1 ? 1000 : 0) + (kEach % 3 >= 2 ? 2000 : 0);
  BOOST_TEST(latency_ns == kThreads * per_thread_ns, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
