#include "agent/simulate/simulate.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "agent/simulate/traffic_model.h"

namespace presence::agent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitUnusable = 2;

struct HttpReply {
  int status = 0;
  std::string body;
};

// One keep-alive connection. Network failures come back as Error{"connection", ...}; the next
// request reconnects.
class ApiClient {
 public:
  ApiClient(const std::string& host, uint16_t port, std::string token)
      : session_(host, port), token_(std::move(token)) {
    session_.setKeepAlive(true);
    session_.setTimeout(Poco::Timespan(10, 0));
  }

  Result<HttpReply> Send(const std::string& method, const std::string& path,
                         const std::string& body = "") {
    try {
      Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
      request.setKeepAlive(true);
      if (!token_.empty()) request.set("Authorization", "Bearer " + token_);
      if (!body.empty()) {
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
      }
      session_.sendRequest(request) << body;
      Poco::Net::HTTPResponse response;
      std::istream& in = session_.receiveResponse(response);
      HttpReply reply{.status = static_cast<int>(response.getStatus())};
      Poco::StreamCopier::copyToString(in, reply.body);  // read it all: the connection is reused
      return reply;
    } catch (const Poco::Exception& e) {
      session_.reset();
      return Error{"connection", e.displayText()};
    } catch (const std::exception& e) {
      session_.reset();
      return Error{"connection", e.what()};
    }
  }

 private:
  Poco::Net::HTTPClientSession session_;
  std::string token_;
};

// "422 unknown_label" from an API error body, or just the status when it has no code.
std::string ErrorKey(const HttpReply& reply) {
  std::string key = std::to_string(reply.status);
  try {
    auto object = Poco::JSON::Parser().parse(reply.body).extract<Poco::JSON::Object::Ptr>();
    auto error = object ? object->getObject("error") : nullptr;
    if (error && error->has("code")) key += " " + error->getValue<std::string>("code");
  } catch (const std::exception&) {
    // A body that is not an API error: the status alone is the key (a command-line tool).
  }
  return key;
}

// GET /api/v1/states: [{"label","status","selectable",...}].
Result<SimPicklist> FetchPicklist(ApiClient& client) {
  Result<HttpReply> reply = client.Send("GET", "/api/v1/states");
  if (!reply.ok()) return reply.error();
  if (reply->status != 200) {
    return Error{"states", "GET /api/v1/states answered " + ErrorKey(*reply)};
  }
  std::vector<SimState> states;
  try {
    auto array = Poco::JSON::Parser().parse(reply->body).extract<Poco::JSON::Array::Ptr>();
    for (size_t i = 0; array && i < array->size(); ++i) {
      Poco::JSON::Object::Ptr state = array->getObject(static_cast<unsigned>(i));
      if (!state) continue;
      states.push_back(SimState{.label = state->getValue<std::string>("label"),
                                .status = state->getValue<int>("status"),
                                .selectable = state->optValue<bool>("selectable", true)});
    }
  } catch (const std::exception& e) {
    return Error{"states", std::string("GET /api/v1/states: unexpected answer: ") + e.what()};
  }
  return MakeSimPicklist(states);
}

// GET /api/v1/agents: an array of agent views ({"id",...}), or {"agents":[...]}. nullopt when
// the token may not read it or the answer is not understood.
std::optional<std::vector<std::string>> FetchAgentIds(ApiClient& client) {
  Result<HttpReply> reply = client.Send("GET", "/api/v1/agents");
  if (!reply.ok() || reply->status != 200) return std::nullopt;
  try {
    Poco::Dynamic::Var parsed = Poco::JSON::Parser().parse(reply->body);
    Poco::JSON::Array::Ptr array;
    if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
      array = parsed.extract<Poco::JSON::Object::Ptr>()->getArray("agents");
    } else {
      array = parsed.extract<Poco::JSON::Array::Ptr>();
    }
    if (!array) return std::nullopt;
    std::vector<std::string> ids;
    for (size_t i = 0; i < array->size(); ++i) {
      Poco::JSON::Object::Ptr agent = array->getObject(static_cast<unsigned>(i));
      if (agent && agent->has("id")) ids.push_back(agent->getValue<std::string>("id"));
    }
    return ids;
  } catch (const std::exception&) {
    return std::nullopt;  // not understood: the caller falls back to 1001, 1002, ...
  }
}

// Totals shared by the workers and the reporter.
struct Tally {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> ok{0};
  std::mutex mutex;  // guards errors (the rare path)
  std::map<std::string, uint64_t> errors;

  void Record(const Result<HttpReply>& reply) {
    sent.fetch_add(1, std::memory_order_relaxed);
    if (reply.ok() && reply->status / 100 == 2) {
      ok.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::string key = reply.ok() ? ErrorKey(*reply) : "connection";
    std::lock_guard lock(mutex);
    ++errors[key];
  }

  std::string ErrorsText() {
    std::lock_guard lock(mutex);
    if (errors.empty()) return "none";
    std::string text;
    for (const auto& [key, count] : errors) {
      text += (text.empty() ? "" : ", ") + key + ": " + std::to_string(count);
    }
    return text;
  }
};

struct Target {
  std::string host;
  uint16_t port = 0;
};

std::optional<Target> ParseTarget(const std::string& url, std::string& problem) {
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "http" || uri.getHost().empty()) {
      problem = "the URL must be http://host:port (no TLS), not '" + url + "'";
      return std::nullopt;
    }
    return Target{uri.getHost(), uri.getPort()};
  } catch (const Poco::Exception& e) {
    problem = "bad URL '" + url + "': " + e.displayText();
    return std::nullopt;
  }
}

std::string CheckOptions(const SimulationOptions& options) {
  if (options.token.empty()) return "a token is needed (--token)";
  if (!(options.rate > 0) || !std::isfinite(options.rate)) return "the rate must be above 0";
  if (options.duration_s < 0) return "the duration cannot be negative";
  if (options.agent_ids.empty() && options.agents <= 0) return "at least one agent is needed";
  if (options.workers < 0) return "workers cannot be negative";
  return "";
}

// The users to drive: the given list, else the agent's own list, else 1001, 1002, ...
std::vector<std::string> ChooseAgents(const SimulationOptions& options, ApiClient& client,
                                      std::ostream& log) {
  std::vector<std::string> ids = options.agent_ids;
  if (ids.empty()) {
    if (auto listed = FetchAgentIds(client); listed && !listed->empty()) {
      ids = std::move(*listed);
      if (ids.size() < static_cast<size_t>(options.agents)) {
        log << "the agent knows " << ids.size() << " users; simulating those\n";
      }
    } else {
      log << "GET /api/v1/agents is not readable with this token; simulating 1001.."
          << 1000 + options.agents << "\n";
      for (int i = 0; i < options.agents; ++i) ids.push_back(std::to_string(1001 + i));
    }
  }
  if (options.agents > 0 && ids.size() > static_cast<size_t>(options.agents)) {
    ids.resize(static_cast<size_t>(options.agents));
  }
  std::vector<std::string> distinct;  // a repeated id would share one softphone's calls
  std::set<std::string> seen;
  for (std::string& id : ids) {
    if (seen.insert(id).second) distinct.push_back(std::move(id));
  }
  return distinct;
}

int WorkerCount(const SimulationOptions& options, size_t agents) {
  int workers = options.workers;
  if (workers == 0) workers = std::clamp(static_cast<int>(options.rate / 100), 2, 16);
  return std::max(1, std::min(workers, static_cast<int>(agents)));
}

// One connection: its share of the agents, its share of the rate.
struct Worker {
  std::vector<std::string> agents;
  std::atomic<double> simulated_s{0};  // the model's clock, for the speed shown in the log
  std::thread thread;
};

class Simulation {
 public:
  Simulation(const SimulationOptions& options, Target target, SimPicklist picklist)
      : options_(options), target_(std::move(target)), picklist_(std::move(picklist)) {}

  void Run(std::vector<std::string> ids, int workers, std::ostream& log);
  uint64_t sent() const { return tally_.sent.load(); }
  uint64_t ok() const { return tally_.ok.load(); }

 private:
  bool Stopping() const {
    return done_.load() || (options_.stop != nullptr && options_.stop->load());
  }
  void Drive(Worker& worker, size_t index, double rate);
  void Report(std::ostream& log, Clock::time_point start, uint64_t& last_sent);

  const SimulationOptions& options_;
  Target target_;
  SimPicklist picklist_;
  Tally tally_;
  std::atomic<bool> done_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::string run_tag_;
};

void Simulation::Drive(Worker& worker, size_t index, double rate) {
  ApiClient client(target_.host, target_.port, options_.token);
  // Call ids carry the run and the connection, so they never repeat across runs or models.
  TrafficModel model(worker.agents, picklist_, options_.seed * 1000003 + index,
                     "sim" + run_tag_ + "w" + std::to_string(index));
  Pacer pacer(rate, Clock::now());
  while (!Stopping()) {
    Clock::time_point now = Clock::now();
    if (!pacer.TryTake(now)) {
      std::this_thread::sleep_until(std::min(pacer.NextAt(), now + milliseconds(100)));
      continue;
    }
    SimAction action = model.Next();
    worker.simulated_s.store(action.at_s);
    SimRequest request = RequestFor(action.event);
    Result<HttpReply> reply = client.Send(request.method, request.path, request.body);
    tally_.Record(reply);
    if (!reply.ok()) std::this_thread::sleep_for(milliseconds(200));  // the agent is down
  }
  if (!options_.end_calls_on_stop) return;
  for (const SimAction& action : model.EndCalls()) {
    SimRequest request = RequestFor(action.event);
    tally_.Record(client.Send(request.method, request.path, request.body));
  }
}

void Simulation::Report(std::ostream& log, Clock::time_point start, uint64_t& last_sent) {
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  uint64_t sent = tally_.sent.load();
  double simulated = 0;
  for (const auto& worker : workers_) simulated += worker->simulated_s.load();
  simulated /= static_cast<double>(workers_.size());
  char line[160];
  std::snprintf(
      line, sizeof line, "%7.1fs  sent %llu (+%llu)  ok %llu  sim x%.0f  errors: ", elapsed,
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(sent - last_sent),
      static_cast<unsigned long long>(tally_.ok.load()), elapsed > 0 ? simulated / elapsed : 0.0);
  log << line << tally_.ErrorsText() << std::endl;
  last_sent = sent;
}

void Simulation::Run(std::vector<std::string> ids, int workers, std::ostream& log) {
  run_tag_ = std::to_string(
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (int w = 0; w < workers; ++w) workers_.push_back(std::make_unique<Worker>());
  for (size_t i = 0; i < ids.size(); ++i) workers_[i % workers]->agents.push_back(ids[i]);
  for (size_t w = 0; w < workers_.size(); ++w) {
    // Each connection's rate is in proportion to its agents.
    double rate = options_.rate * static_cast<double>(workers_[w]->agents.size()) /
                  static_cast<double>(ids.size());
    workers_[w]->thread = std::thread([this, w, rate] { Drive(*workers_[w], w, rate); });
  }
  Clock::time_point start = Clock::now();
  Clock::time_point next_report = start + options_.report_every;
  uint64_t last_sent = 0;
  auto ends = start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(options_.duration_s));
  while (!Stopping() && (options_.duration_s == 0 || Clock::now() < ends)) {
    std::this_thread::sleep_for(milliseconds(50));
    if (Clock::now() >= next_report) {
      Report(log, start, last_sent);
      next_report += options_.report_every;
    }
  }
  done_.store(true);
  for (auto& worker : workers_) worker->thread.join();
  log << "done: ";
  Report(log, start, last_sent);
}

}  // namespace

int RunSimulation(const SimulationOptions& options, std::ostream& log) {
  std::string problem = CheckOptions(options);
  std::optional<Target> target;
  if (problem.empty()) target = ParseTarget(options.url, problem);
  if (!problem.empty()) {
    log << "simulate: " << problem << "\n";
    return kExitUsage;
  }
  ApiClient client(target->host, target->port, options.token);
  Result<SimPicklist> picklist = FetchPicklist(client);
  if (!picklist.ok()) {
    log << "simulate: cannot use " << options.url << ": " << picklist.error().message << "\n";
    return kExitUnusable;
  }
  std::vector<std::string> ids = ChooseAgents(options, client, log);
  int workers = WorkerCount(options, ids.size());
  log << "simulating " << ids.size() << " agents at " << options.rate << " events/s over "
      << workers << " connection" << (workers == 1 ? "" : "s") << " to " << options.url << " (seed "
      << options.seed << "); Ready is '" << picklist->ready << "'" << std::endl;
  Simulation simulation(options, *target, std::move(picklist).value());
  simulation.Run(std::move(ids), workers, log);
  return simulation.sent() > 0 && simulation.ok() == 0 ? kExitUnusable : kExitOk;
}

}  // namespace presence::agent
