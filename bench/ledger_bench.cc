// Measures the core's building blocks on this machine and prints the figures:
//  1. the engine alone (events/s through Handle, no I/O);
//  2. the SQLite ledger with group commit: changes/s when N changes share one commit (one
//     change-journal append and sync), from N=1 (commit per event) to N=1000, acknowledged and
//     until the tables hold them all;
//  3. the core loop end to end: many producers posting picklist changes, each answered only
//     once durable, p50/p99 latency.
// Usage: ledger_bench [--quick]   (a benchmark, not a test: it never fails on a number)

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/batch_builder.h"
#include "agent/core/core.h"
#include "agent/engine/engine.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace {

using namespace presence;
using Clock = std::chrono::steady_clock;

const char* kLabels[] = {"Lunch", "Break", "In a meeting", "Ready for Calls"};

std::shared_ptr<const reasoncodes::Catalog> SampleCatalog() {
  agent::ConfigLoad load =
      agent::LoadConfigFile(std::string(PRESENCE_SOURCE_DIR) + "/samples/dial-command.json");
  if (!load.ok()) {
    std::fprintf(stderr, "cannot load the sample configuration\n");
    std::exit(1);
  }
  return load.config->catalog;
}

agent::Event Choice(int user, int round) {
  agent::Event event;
  event.type = agent::EventType::kSelect;
  event.agent = "u" + std::to_string(user);
  event.label = kLabels[(user + round) % 4];
  return event;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void EngineOnly(int events) {
  agent::Engine engine(SampleCatalog());
  Timestamp now = *ParseTime("2026-11-21T08:00:00Z");
  auto start = Clock::now();
  for (int i = 0; i < events; ++i) {
    now += std::chrono::milliseconds(10);
    if (!engine.Handle(Choice(i % 1000, i / 1000), now).ok()) std::exit(1);
  }
  double s = Seconds(Clock::now() - start);
  std::printf("engine only:          %10.0f events/s  (%d events, 1000 users)\n", events / s,
              events);
}

void GroupCommit(const std::string& dir, int changes, int per_transaction) {
  std::string path = dir + "/bench-" + std::to_string(per_transaction) + ".db";
  auto store = tracking::OpenSqliteTimeStore(path);
  if (!store.ok()) std::exit(1);
  agent::Engine engine(SampleCatalog());
  Timestamp now = *ParseTime("2026-11-21T08:00:00Z");
  agent::BatchBuilder batch;
  auto start = Clock::now();
  for (int i = 0; i < changes; ++i) {
    now += std::chrono::milliseconds(10);
    agent::Event event = Choice(i % 1000, i / 1000);
    auto outcome = engine.Handle(event, now);
    batch.Add(*outcome, *engine.Find(event.agent));
    if ((i + 1) % per_transaction == 0) {
      if (!(*store)->Commit(batch.batch()).ok()) std::exit(1);
      batch.Clear();
    }
  }
  double s = Seconds(Clock::now() - start);
  // A query waits until the tables hold every commit (the fold behind the change journal).
  if (!(*store)->LoadAgents().ok()) std::exit(1);
  double folded = Seconds(Clock::now() - start);
  std::printf(
      "ledger, %4d/commit:   %10.0f changes/s acknowledged (journal, one sync each), %.0f/s "
      "in the tables (%d changes)\n",
      per_transaction, changes / s, changes / folded, changes);
}

void CoreEndToEnd(const std::string& dir, int producers, int per_producer) {
  auto store = tracking::OpenSqliteTimeStore(dir + "/bench-core.db");
  if (!store.ok()) std::exit(1);
  SystemClock clock;
  agent::Core core(SampleCatalog(), **store, clock);
  if (!core.Start().ok()) std::exit(1);
  std::vector<std::vector<double>> latencies(producers);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        auto sent = Clock::now();
        if (!core.Post(Choice(p, i)).get().ok()) std::exit(1);
        latencies[p].push_back(Seconds(Clock::now() - sent) * 1000.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  double s = Seconds(Clock::now() - start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  std::printf(
      "core, %3d producers:  %10.0f changes/s acknowledged durably, p50 %.2f ms, p99 %.2f ms\n",
      producers, all.size() / s, all[all.size() / 2], all[all.size() * 99 / 100]);
  core.Stop();
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int scale = quick ? 10 : 1;
  char pattern[] = "/tmp/presence-bench-XXXXXX";
  std::string dir = mkdtemp(pattern);
  std::printf("Presence Agent ledger benchmark (%u hardware threads)\n",
              std::thread::hardware_concurrency());
  EngineOnly(1000000 / scale);
  GroupCommit(dir, 2000 / scale, 1);
  GroupCommit(dir, 20000 / scale, 10);
  GroupCommit(dir, 200000 / scale, 100);
  GroupCommit(dir, 400000 / scale, 1000);
  CoreEndToEnd(dir, 1, 2000 / scale);
  CoreEndToEnd(dir, 64, 2000 / scale);
  std::filesystem::remove_all(dir);
  return 0;
}
