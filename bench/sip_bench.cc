// The SIP presence benchmark: how many publications a second does the sip_presence connector
// sustain against a real Kamailio on this machine?
//
// Starts Kamailio (the test fixture's in-memory presence configuration, tests/fakes/
// kamailio.h) and the real connector, made from a generated configuration the way the service
// makes it (N users with identities.sip). Delivery worker threads call Deliver as the
// dispatcher's workers do (a user never has two in flight), each delivery a real change that
// waits for Kamailio's 200 (round 1 is the initial PUBLISH of every user, later rounds are
// modifies with SIP-If-Match). Run once without and once with the connector's own
// subscriptions (watch presence and dialog: Kamailio then NOTIFYs the agent for every
// publication). Prints publications/s and p50/p99 per delivery. Never fails on a number.
//
// Usage: sip_bench [--users N] [--rounds R] [--workers W]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/config.h"
#include "common/time.h"
#include "connectors/builtin/builtin_connectors.h"
#include "connectors/registry.h"
#include "tests/fakes/kamailio.h"

namespace {

using namespace presence;
using Clock = std::chrono::steady_clock;

struct Options {
  int users = 1000;
  int rounds = 4;
  int workers = 8;
};

std::string ConfigText(const Options& options, uint16_t port, bool watch) {
  std::string users;
  for (int i = 0; i < options.users; ++i) {
    if (i) users += ",";
    users += R"({"id": "u)" + std::to_string(i) + R"(", "name": "User )" + std::to_string(i) +
             R"(", "extension": ")" + std::to_string(10000 + i) + R"(", "identities": {"sip": ")" +
             std::to_string(10000 + i) + R"("}})";
  }
  return std::string(R"({
    "settings": {"mode": "none"},
    "states": [
      {"label": "Ready for Calls", "reason_code": "", "status": 1},
      {"label": "Lunch", "reason_code": "", "status": 3},
      {"label": "Do Not Disturb", "reason_code": "", "status": 4},
      {"label": "Logout", "reason_code": "", "status": 7}
    ],
    "users": [)") +
         users + R"(],
    "connectors": [{"type": "sip_presence", "server": "sip:127.0.0.1:)" +
         std::to_string(port) + R"(", "domain": "127.0.0.1", "keepalive_seconds": 60)" +
         (watch ? R"(, "watch": ["presence", "dialog"])" : "") + "}]}";
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

void Run(const Options& options, bool watch) {
  testing::Kamailio kamailio(testing::Kamailio::Options{.shared_memory_mb = 512});
  agent::ConfigLoad load = agent::LoadConfigText(ConfigText(options, kamailio.port(), watch));
  if (!load.ok()) {
    for (const std::string& problem : load.problems) std::cerr << problem << "\n";
    std::exit(1);
  }
  const agent::Config& config = *load.config;
  auto directory = std::make_shared<connectors::Directory>();
  directory->catalog = config.catalog;
  directory->SetUsers(
      std::shared_ptr<const std::vector<reasoncodes::User>>(load.config, &config.users));
  SystemClock clock;
  connectors::ConnectorEnv env{&clock, nullptr, nullptr};
  std::atomic<long> inbound{0};
  env.inbound = [&inbound](connectors::InboundEvent) { ++inbound; };
  const connectors::ConnectorConfig& block = config.connectors.front();
  std::unique_ptr<connectors::Connector> connector =
      connectors::BuiltinConnectors().Find(block.type)->create(block.settings, env);
  connector->Start();
  connector->UseDirectory(directory);
  if (watch) std::this_thread::sleep_for(std::chrono::seconds(2));  // let subscriptions settle

  const char* labels[] = {"Lunch", "Do Not Disturb", "Ready for Calls"};
  const reasoncodes::StatusCode statuses[] = {reasoncodes::StatusCode::kAway,
                                              reasoncodes::StatusCode::kDnd,
                                              reasoncodes::StatusCode::kOnline};
  for (int round = 0; round < options.rounds; ++round) {
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    std::vector<std::vector<double>> latencies(static_cast<size_t>(options.workers));
    const auto started = Clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < options.workers; ++w) {
      workers.emplace_back([&, w] {
        for (int i = next++; i < options.users; i = next++) {
          connectors::Delivery delivery;
          delivery.id = round * options.users + i + 1;
          delivery.change.agent = "u" + std::to_string(i);
          delivery.change.at = clock.Now();
          delivery.change.label = labels[round % 3];
          delivery.change.status = statuses[round % 3];
          const auto before = Clock::now();
          connectors::DeliveryResult result = connector->Deliver(delivery, *directory);
          latencies[static_cast<size_t>(w)].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - before).count());
          if (result.kind != connectors::DeliveryResult::Kind::kDelivered) {
            if (failed++ == 0) std::cerr << "  delivery failed: " << result.detail << "\n";
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::vector<double> all;
    for (const auto& part : latencies) all.insert(all.end(), part.begin(), part.end());
    std::printf(
        "  %-9s round %d (%-7s): %6d publications in %6.3f s = %8.0f /s   p50 %6.2f ms  "
        "p99 %6.2f ms  failed %d\n",
        watch ? "watching" : "publish", round + 1, round == 0 ? "initial" : "modify", options.users,
        seconds, options.users / seconds, Percentile(all, 0.5), Percentile(all, 0.99),
        failed.load());
  }
  connector->Stop();
  if (std::getenv("SIP_BENCH_LOG")) std::cerr << kamailio.Log().substr(0, 3000) << "\n";
  if (watch)
    std::printf("  (NOTIFYs read back as events: %ld, expected 0: own publications)\n",
                inbound.load());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--users")) options.users = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--rounds")) options.rounds = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--workers")) options.workers = std::max(1, std::atoi(argv[i + 1]));
  }
  std::printf(
      "sip_bench: %d users, %d rounds, %d delivery workers, Kamailio 5.6 on loopback (UDP)\n",
      options.users, options.rounds, options.workers);
  Run(options, false);
  Run(options, true);
  return 0;
}
