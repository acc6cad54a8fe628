// Measures how the core scales with the number of users, and prints the figures side by side:
//  1. the change rate through Core::Post into a real SQLite ledger (power_loss: a synced
//     change-journal append per commit, the tables written behind it), with
//     every user already in the ledger, at 1,000 and at 100,000 users (64 producers, each change
//     acknowledged only once durable);
//  2. what publishing one change costs the snapshot (copy the latest Snapshot, Set the user),
//     at the same sizes;
//  3. a restart with 100,000 users in the ledger, each with 20 changes of history: opening the
//     ledger (its check included) and Core::Start. Twice: first on the ledger as this program
//     writes it straight through the store (as replay or an older agent leaves it: the users'
//     records hold no budget count, so the day is added up from the intervals), and again once
//     every user has changed state through the core (the records hold the count);
//  4. the process's VmRSS, idle, once every user has changed state after the first restart.
// Each part runs in a process of its own (this program started again with a phase argument),
// so one part's memory does not count in another's RSS.
// Usage: core_bench [--quick]   (a benchmark, not a test: it never fails on a number)

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
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
using SteadyClock = std::chrono::steady_clock;

const char* kLabels[] = {"Lunch", "Break", "In a meeting", "Ready for Calls"};
constexpr int kProducers = 64;

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time this process has used, all threads (the machine may be shared: wall time is not
// only ours).
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "core_bench: %s\n", what.c_str());
  std::exit(1);
}

std::shared_ptr<const reasoncodes::Catalog> SampleCatalog() {
  agent::ConfigLoad load =
      agent::LoadConfigFile(std::string(PRESENCE_SOURCE_DIR) + "/samples/dial-command.json");
  if (!load.ok()) Fail("cannot load the sample configuration");
  return load.config->catalog;
}

std::string UserId(int user) { return "user" + std::to_string(user); }

agent::Event Choice(int user, int round) {
  agent::Event event;
  event.type = agent::EventType::kSelect;
  event.agent = UserId(user);
  event.label = kLabels[(user + round) % 4];
  return event;
}

// VmRSS of this process in MB.
double RssMb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Bytes malloc hands out now (what RSS would be without free memory kept by the allocator), MB.
double HeapInUseMb() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd) / (1024.0 * 1024.0);
}

void Report(const std::string& key, double value) {
  std::printf("RESULT %s %.6g\n", key.c_str(), value);
  std::fflush(stdout);
}

// A ledger with `users` users, `rounds` changes each, the last round an hour ago and the rounds
// before it six hours apart, written straight through the store in commits of 1,000 changes.
void MakeLedger(const std::string& path, int users, int rounds) {
  auto store = tracking::OpenSqliteTimeStore(path, tracking::Durability::kProcessCrash);
  if (!store.ok()) Fail(store.error().message);
  agent::Engine engine(SampleCatalog());
  agent::BatchBuilder batch;
  const Timestamp last = SystemClock().Now() - std::chrono::hours(1);
  size_t in_batch = 0;
  for (int round = 0; round < rounds; ++round) {
    const Timestamp at = last - std::chrono::hours(6) * (rounds - 1 - round);
    for (int user = 0; user < users; ++user) {
      agent::Event event = Choice(user, round);
      auto outcome = engine.Handle(event, at + Millis(user % 600000));
      if (!outcome.ok()) Fail(outcome.error().message);
      batch.Add(*outcome, *engine.Find(event.agent));
      if (++in_batch == 1000) {
        if (Status status = (*store)->Commit(batch.batch()); !status.ok()) Fail("commit failed");
        batch.Clear();
        in_batch = 0;
      }
    }
  }
  if (!batch.empty() && !(*store)->Commit(batch.batch()).ok()) Fail("commit failed");
}

// `total` changes from kProducers threads through Core::Post, producer p taking users p,
// p + kProducers, ... in turn (so every change is a change: the user's label moves on each
// time). Returns changes per second.
double PostChanges(agent::Core& core, int users, int total, int first_round) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      int user = p;
      int round = first_round;
      for (int i = p; i < total; i += kProducers) {
        if (user >= users) {
          user = p;
          ++round;
        }
        if (!core.Post(Choice(user, round)).get().ok()) failed = true;
        user += kProducers;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failed) Fail("a change was refused");
  return total / Seconds(SteadyClock::now() - start);
}

// What Core::Publish does to the snapshot for one change, `samples` times: copy the latest
// snapshot and Set the user's new state in the copy. Returns microseconds per change.
double PublishCost(const agent::Snapshot& latest, int users, int samples) {
  auto state = latest.agents.Find(UserId(0));
  if (!state) Fail("user0 is missing from the snapshot");
  auto current = std::make_shared<const agent::Snapshot>(latest);
  const auto start = SteadyClock::now();
  for (int i = 0; i < samples; ++i) {
    const std::string id = UserId((i * 7919) % users);
    auto changed = std::make_shared<agent::AgentState>(*state);
    changed->agent = id;
    auto next = std::make_shared<agent::Snapshot>(*current);
    next->agents.Set(id, std::move(changed));
    ++next->seq;
    current = std::move(next);
  }
  return Seconds(SteadyClock::now() - start) * 1e6 / samples;
}

void RatePhase(const std::string& dir, int users, int changes) {
  const std::string path = dir + "/rate-" + std::to_string(users) + ".db";
  MakeLedger(path, users, 1);
  auto store = tracking::OpenSqliteTimeStore(path);
  if (!store.ok()) Fail(store.error().message);
  SystemClock clock;
  agent::Core core(SampleCatalog(), **store, clock);
  if (!core.Start().ok()) Fail("the core did not start");
  const std::string tag = std::to_string(users);
  Report("rate_" + tag, PostChanges(core, users, changes, 1));
  Report("publish_us_" + tag, PublishCost(*core.snapshot(), users, 2000));
  core.Stop();
}

// Figures are reported as "<tag>_<name>". With `change_all` false it stops after the restart.
void RestartPhase(const std::string& path, int users, const std::string& tag, bool change_all) {
  auto report = [&](const std::string& key, double value) { Report(tag + "_" + key, value); };
  const double rss_before = RssMb();
  const double cpu_before = CpuSeconds();
  const auto opening = SteadyClock::now();
  auto store = tracking::OpenSqliteTimeStore(path);
  if (!store.ok()) Fail(store.error().message);
  const auto starting = SteadyClock::now();
  SystemClock clock;
  agent::Core core(SampleCatalog(), **store, clock);
  if (!core.Start().ok()) Fail("the core did not start");
  const auto started = SteadyClock::now();
  if (core.snapshot()->agents.size() != static_cast<size_t>(users)) Fail("users missing");
  report("open_s", Seconds(starting - opening));
  report("start_s", Seconds(started - starting));
  report("restart_s", Seconds(started - opening));
  report("restart_cpu_s", CpuSeconds() - cpu_before);
  report("rss_started_mb", RssMb() - rss_before);
  report("heap_started_mb", HeapInUseMb());
  if (!change_all) return;
  PostChanges(core, users, users, 1000);
  // Idle: the core gives memory back when its loop goes idle after a burst.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  report("rss_changed_mb", RssMb());
  report("heap_changed_mb", HeapInUseMb());
  core.Stop();
}

struct Figures {
  std::map<std::string, double> values;
  double operator[](const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? -1 : it->second;
  }
};

// Runs this program again with `args`, echoing its output and collecting its RESULT lines.
void RunPhase(const std::string& args, Figures& figures) {
  const std::string command = "/proc/" + std::to_string(getpid()) + "/exe " + args;
  FILE* child = popen(command.c_str(), "r");
  if (child == nullptr) Fail("cannot run " + command);
  char line[512];
  while (std::fgets(line, sizeof line, child) != nullptr) {
    std::istringstream words(line);
    std::string tag, key;
    double value = 0;
    if (words >> tag >> key >> value && tag == "RESULT") {
      figures.values[key] = value;
    } else {
      std::fputs(line, stdout);
    }
  }
  if (pclose(child) != 0) Fail(args + " failed");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "rate") {
    RatePhase(args[1], std::stoi(args[2]), std::stoi(args[3]));
    return 0;
  }
  if (args.size() == 4 && args[0] == "ledger") {
    MakeLedger(args[1], std::stoi(args[2]), std::stoi(args[3]));
    return 0;
  }
  if ((args.size() == 4 || args.size() == 5) && args[0] == "restart") {
    RestartPhase(args[1], std::stoi(args[2]), args[3], args.size() == 4);
    return 0;
  }
  const bool quick = !args.empty() && args[0] == "--quick";
  const int small = 1000;
  const int large = quick ? 10000 : 100000;
  const int changes = quick ? 4000 : 20000;
  const int history = 20;
  char pattern[] = "/tmp/presence-core-bench-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  std::printf("Presence Agent core benchmark (%u hardware threads, %d producers)\n",
              std::thread::hardware_concurrency(), kProducers);
  Figures f;
  const std::string s = std::to_string(small), l = std::to_string(large);
  RunPhase("rate " + dir + " " + s + " " + std::to_string(changes), f);
  RunPhase("rate " + dir + " " + l + " " + std::to_string(changes), f);
  const std::string ledger = dir + "/restart.db";
  const auto making = SteadyClock::now();
  RunPhase("ledger " + ledger + " " + l + " " + std::to_string(history), f);
  const double made = Seconds(SteadyClock::now() - making);
  RunPhase("restart " + ledger + " " + l + " first", f);
  RunPhase("restart " + ledger + " " + l + " again --start-only", f);
  std::printf("\n%-44s %14s %14s\n", "", (s + " users").c_str(), (l + " users").c_str());
  std::printf("%-44s %14.0f %14.0f   (ratio %.2f)\n", "durable changes/s through Core::Post",
              f["rate_" + s], f["rate_" + l], f["rate_" + l] / f["rate_" + s]);
  std::printf("%-44s %14.2f %14.2f\n", "publish cost per change (us)", f["publish_us_" + s],
              f["publish_us_" + l]);
  std::printf("\nrestart with %d users x %d changes in the ledger (made in %.0f s):\n", large,
              history, made);
  std::printf("%-44s %14s %14s\n", "", "no counts", "counts stored");
  for (const auto& [name, key] : std::vector<std::pair<std::string, std::string>>{
           {"open the ledger (incl. its check), s", "open_s"},
           {"Core::Start, s", "start_s"},
           {"total, s", "restart_s"},
           {"total CPU time (all threads), s", "restart_cpu_s"},
           {"RSS grown over the restart, MB", "rss_started_mb"}}) {
    std::printf("%-44s %14.2f %14.2f\n", name.c_str(), f["first_" + key], f["again_" + key]);
  }
  std::printf("\nidle RSS once every user changed state: %.0f MB (heap in use %.0f MB)\n",
              f["first_rss_changed_mb"], f["first_heap_changed_mb"]);
  std::filesystem::remove_all(dir);
  return 0;
}
