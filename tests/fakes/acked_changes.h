#pragma once

// The changes a running agent acknowledged, and a check that its ledger holds every one of
// them: the durability tests (kill -9, SIGTERM while writers go on) count with this.

#include <Poco/JSON/Array.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace presence::testing {

class AckedChanges {
 public:
  // Records each change of an answer's "changes" array ({"agent", "to", "at", ...}).
  void Add(const Poco::JSON::Array& changes);
  size_t size() const { return total_; }

  struct LedgerCheck {
    int missing = 0;       // acknowledged changes the ledger lacks
    size_t intervals = 0;  // intervals the ledger holds
  };
  // Opens the ledger as a restarted agent would (replaying its change journal; the agent must be
  // stopped); nullopt when it cannot be opened.
  std::optional<LedgerCheck> CheckLedger(const std::string& ledger_path) const;

 private:
  // (agent, label, start) -> how many: one group commit may give a user several changes at
  // the same instant.
  std::map<std::tuple<std::string, std::string, std::string>, int> counts_;
  size_t total_ = 0;
};

}  // namespace presence::testing
