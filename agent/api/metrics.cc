#include "agent/api/metrics.h"

#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>

#include "common/log.h"

namespace presence::agent {
namespace {

constexpr size_t kEventTypes = static_cast<size_t>(EventType::kMissedCallsTimer) + 1;
constexpr size_t kSources = static_cast<size_t>(reasoncodes::Source::kPbx) + 1;

// Status codes the API answers with; anything else is counted as "other".
constexpr auto kStatusCodes = std::to_array<int>(
    {101, 200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 426, 429, 500, 503});
constexpr size_t kStatusSlots = kStatusCodes.size() + 1;  // + "other"

// Request and commit latency, in seconds: 0.5 ms (a snapshot read) up to 10 s (a stalled disk).
constexpr std::array<double, 14> kSecondsBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};
// Events per commit: one (an idle agent) up to the core's batch limit (1024).
constexpr std::array<double, 11> kEventsBounds = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000};

using Counter = std::atomic<uint64_t>;

size_t StatusSlot(int status) {
  for (size_t i = 0; i < kStatusCodes.size(); ++i) {
    if (kStatusCodes[i] == status) return i;
  }
  return kStatusCodes.size();
}

std::string StatusLabel(size_t slot) {
  return slot < kStatusCodes.size() ? std::to_string(kStatusCodes[slot]) : "other";
}

// Floats as Prometheus reads them: the shortest exact form ("0.0005", not "5e-04", for the
// conventional bucket bounds), and its spellings of the specials.
std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
  return std::string(buffer, end);
}

// Exposition format 0.0.4: label values escape backslash, double quote and newline; HELP text
// only backslash and newline.
enum class Escaping { kLabel, kHelp };
std::string Escape(std::string_view text, Escaping escaping) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escaping == Escaping::kLabel) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// A metric name is [a-zA-Z_:][a-zA-Z0-9_:]*; other characters become '_'.
std::string MetricName(std::string_view name) {
  std::string out = name.starts_with("presence_") ? "" : "presence_";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':';
    out += ok ? c : '_';
  }
  return out;
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += Escape(help, Escaping::kHelp);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// `labels` is already formatted: `route="x",code="200"` (may be empty).
void Sample(std::string& out, std::string_view name, std::string_view labels,
            std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

// Fixed buckets, one atomic per bucket (not cumulative: an observation touches one bucket)
// plus an overflow bucket, so the count is their total and always equals the +Inf bucket.
// The sum is kept as an integer (nanoseconds, or events) so concurrent adds are exact.
template <size_t N>
class Histogram {
 public:
  explicit Histogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

  // `value` in the unit of the bounds; `raw` is what the sum accumulates.
  void Observe(double value, uint64_t raw) {
    size_t i = 0;
    while (i < N && value > bounds_[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(raw, std::memory_order_relaxed);
  }

  // `labels` are the series' other labels (may be empty); dividing the raw sum by
  // `sum_divisor` gives the bounds' unit.
  void Render(std::string& out, std::string_view name, const std::string& labels,
              double sum_divisor) const {
    const std::string prefix = labels.empty() ? "" : labels + ",";
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= N; ++i) {
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      std::string le = i < N ? FormatNumber(bounds_[i]) : "+Inf";
      Sample(out, std::string(name) + "_bucket", prefix + "le=\"" + le + "\"",
             std::to_string(cumulative));
    }
    double sum = static_cast<double>(sum_.load(std::memory_order_relaxed)) / sum_divisor;
    Sample(out, std::string(name) + "_sum", labels, FormatNumber(sum));
    Sample(out, std::string(name) + "_count", labels, std::to_string(cumulative));
  }

 private:
  const std::array<double, N>& bounds_;
  std::array<Counter, N + 1> buckets_{};
  Counter sum_{0};
};

struct RouteSeries {
  std::string route;
  std::array<Counter, kStatusSlots> codes{};
  Histogram<kSecondsBounds.size()> seconds{kSecondsBounds};
};

struct Gauge {
  std::string name;
  std::string help;
  std::function<double()> read;
};

}  // namespace

class Metrics::Impl {
 public:
  explicit Impl(std::vector<std::string> routes) : routes_(routes.size() + 1) {
    routes.push_back("other");
    for (size_t i = 0; i < routes.size(); ++i) {
      routes_[i].route = routes[i];
      index_.emplace(routes[i], i);  // a duplicate keeps its first series
    }
  }

  RouteSeries& Route(std::string_view route) {
    auto found = index_.find(route);
    return routes_[found == index_.end() ? routes_.size() - 1 : found->second];
  }

  std::array<std::array<Counter, 2>, kEventTypes> events{};
  std::array<Counter, kSources> changes{};
  std::vector<RouteSeries> routes_;
  std::map<std::string, size_t, std::less<>> index_;  // read-only after construction
  Histogram<kSecondsBounds.size()> commit_seconds{kSecondsBounds};
  Histogram<kEventsBounds.size()> commit_events{kEventsBounds};

  mutable std::mutex gauges_mutex;  // AddGauge against Render; never on the recording path
  std::vector<Gauge> gauges;
  std::vector<std::function<std::vector<Metrics::Family>()>> families;  // guarded by gauges_mutex

  void RenderCounters(std::string& out) const;
  void RenderRequests(std::string& out) const;
  void RenderGauges(std::string& out) const;
  static void RenderSwallowed(std::string& out);
};

void Metrics::Impl::RenderCounters(std::string& out) const {
  Header(out, "presence_events_total", "counter",
         "Events handled by the engine, by type and result.");
  for (size_t t = 0; t < kEventTypes; ++t) {
    std::string type(EventTypeName(static_cast<EventType>(t)));
    for (int ok = 1; ok >= 0; --ok) {
      Sample(out, "presence_events_total",
             "type=\"" + type + "\",result=\"" + (ok ? "ok" : "error") + "\"",
             std::to_string(events[t][ok].load(std::memory_order_relaxed)));
    }
  }
  Header(out, "presence_changes_total", "counter", "State changes made durable, by source.");
  for (size_t s = 0; s < kSources; ++s) {
    std::string source(reasoncodes::SourceName(static_cast<reasoncodes::Source>(s)));
    Sample(out, "presence_changes_total", "source=\"" + source + "\"",
           std::to_string(changes[s].load(std::memory_order_relaxed)));
  }
}

void Metrics::Impl::RenderRequests(std::string& out) const {
  Header(out, "presence_http_requests_total", "counter",
         "HTTP requests answered, by route template and status code.");
  for (const RouteSeries& series : routes_) {
    std::string route = "route=\"" + Escape(series.route, Escaping::kLabel) + "\"";
    for (size_t slot = 0; slot < kStatusSlots; ++slot) {
      Sample(out, "presence_http_requests_total", route + ",code=\"" + StatusLabel(slot) + "\"",
             std::to_string(series.codes[slot].load(std::memory_order_relaxed)));
    }
  }
  Header(out, "presence_http_request_seconds", "histogram",
         "Time from a request's arrival to its answer, by route template.");
  for (const RouteSeries& series : routes_) {
    series.seconds.Render(out, "presence_http_request_seconds",
                          "route=\"" + Escape(series.route, Escaping::kLabel) + "\"", 1e9);
  }
  Header(out, "presence_ledger_commit_seconds", "histogram",
         "Time from submitting one group commit to the ledger until the core learns it is "
         "durable: appended to the change journal and, in power_loss mode, synced (after a "
         "sync under way and the batches ahead of it).");
  commit_seconds.Render(out, "presence_ledger_commit_seconds", "", 1e9);
  Header(out, "presence_ledger_commit_events", "histogram", "Events that shared one group commit.");
  commit_events.Render(out, "presence_ledger_commit_events", "", 1);
}

// presence_swallowed_errors_total{component}: the process-wide counts of errors caught, logged
// and not passed on (common/log.h). The components that catch such errors have a series from
// the start, so a rate() sees the first one.
void Metrics::Impl::RenderSwallowed(std::string& out) {
  std::map<std::string, uint64_t> counts = {
      {"connector", 0}, {"crm_sync", 0}, {"http", 0}, {"stream", 0}};
  for (const auto& [component, count] : SwallowedErrors()) counts[component] = count;
  Header(out, "presence_swallowed_errors_total", "counter",
         "Errors caught, logged and not passed on, by component; each one is a log line.");
  for (const auto& [component, count] : counts) {
    Sample(out, "presence_swallowed_errors_total",
           "component=\"" + Escape(component, Escaping::kLabel) + "\"", std::to_string(count));
  }
}

// The callbacks: gauges, then the families added with AddFamilies, under one lock.
void Metrics::Impl::RenderGauges(std::string& out) const {
  std::lock_guard lock(gauges_mutex);
  for (const Gauge& gauge : gauges) {
    Header(out, gauge.name, "gauge", gauge.help);
    Sample(out, gauge.name, "", FormatNumber(gauge.read()));
  }
  for (const auto& collect : families) {
    for (const Family& family : collect()) {
      const std::string name = MetricName(family.name);
      Header(out, name, family.type, family.help);
      for (const auto& [labels, value] : family.samples)
        Sample(out, name, labels, FormatNumber(value));
    }
  }
}

Metrics::Metrics(std::vector<std::string> routes)
    : impl_(std::make_unique<Impl>(std::move(routes))) {}

Metrics::~Metrics() = default;

void Metrics::CountEvent(EventType type, bool ok) {
  size_t t = static_cast<size_t>(type);
  if (t < kEventTypes) impl_->events[t][ok ? 1 : 0].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountChange(reasoncodes::Source source) {
  size_t s = static_cast<size_t>(source);
  if (s < kSources) impl_->changes[s].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::ObserveRequest(std::string_view route, int status, std::chrono::nanoseconds latency) {
  RouteSeries& series = impl_->Route(route);
  series.codes[StatusSlot(status)].fetch_add(1, std::memory_order_relaxed);
  int64_t ns = std::max<int64_t>(latency.count(), 0);
  series.seconds.Observe(static_cast<double>(ns) / 1e9, static_cast<uint64_t>(ns));
}

void Metrics::ObserveCommit(std::chrono::nanoseconds latency, size_t events) {
  int64_t ns = std::max<int64_t>(latency.count(), 0);
  impl_->commit_seconds.Observe(static_cast<double>(ns) / 1e9, static_cast<uint64_t>(ns));
  impl_->commit_events.Observe(static_cast<double>(events), events);
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  Gauge gauge{MetricName(name), std::move(help), std::move(read)};
  std::lock_guard lock(impl_->gauges_mutex);
  for (Gauge& existing : impl_->gauges) {
    if (existing.name == gauge.name) {
      existing = std::move(gauge);
      return;
    }
  }
  impl_->gauges.push_back(std::move(gauge));
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(64 * 1024);
  impl_->RenderCounters(out);
  impl_->RenderRequests(out);
  Impl::RenderSwallowed(out);
  impl_->RenderGauges(out);
  return out;
}

void Metrics::AddFamilies(std::function<std::vector<Family>()> collect) {
  std::lock_guard lock(impl_->gauges_mutex);
  impl_->families.push_back(std::move(collect));
}

std::string Metrics::Label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + Escape(value, Escaping::kLabel) + "\"";
}

}  // namespace presence::agent
