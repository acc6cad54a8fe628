// Fuzz target for the configuration loader (agent/config/config.h, which reads the catalog through
// reasoncodes/catalog_loader.h): the file an operator writes, read at start-up, on SIGHUP and
// by `presence-agent check-config`. Any text must load or be refused with its problems listed;
// a refusal without a problem would leave the operator with nothing to fix.
//
// The loader reads a secret given as {"file": PATH} and looks up {"env": NAME}; the seeds and
// the dictionary name neither, so the fuzzer stays away from the file system.

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config/config.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const presence::agent::ConfigLoad load = presence::agent::LoadConfigText(text);
  for (const std::string& problem : load.problems) FUZZ_CHECK(!problem.empty());
  if (!load.ok()) {
    FUZZ_CHECK(!load.problems.empty());
    return 0;
  }
  const presence::agent::Config& config = *load.config;
  FUZZ_CHECK(config.catalog != nullptr);
  FUZZ_CHECK(!config.catalog->states().empty());
  for (const presence::agent::User& user : config.users) {
    FUZZ_CHECK(config.FindUser(user.id) != nullptr);
  }
  return 0;
}
