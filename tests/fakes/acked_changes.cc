#include "tests/fakes/acked_changes.h"

#include <Poco/JSON/Object.h>

#include <algorithm>

#include "tracking/sqlite/sqlite_store.h"
#include "tracking/time_store.h"

namespace presence::testing {

void AckedChanges::Add(const Poco::JSON::Array& changes) {
  for (size_t i = 0; i < changes.size(); ++i) {
    Poco::JSON::Object::Ptr change = changes.getObject(static_cast<unsigned>(i));
    ++counts_[{change->getValue<std::string>("agent"), change->getValue<std::string>("to"),
               change->getValue<std::string>("at")}];
    ++total_;
  }
}

std::optional<AckedChanges::LedgerCheck> AckedChanges::CheckLedger(
    const std::string& ledger_path) const {
  // As the restarted agent would: opening for writing replays what the killed one journaled.
  auto store = tracking::OpenSqliteTimeStore(ledger_path);
  if (!store.ok()) return std::nullopt;
  auto intervals =
      (*store)->Intervals(std::nullopt, Timestamp{}, FromEpochMillis(int64_t{1} << 50));
  if (!intervals.ok()) return std::nullopt;
  std::map<std::tuple<std::string, std::string, std::string>, int> stored;
  for (const auto& i : *intervals) ++stored[{i.agent, i.label, FormatTime(i.start)}];
  LedgerCheck check;
  check.intervals = intervals->size();
  for (const auto& [change, count] : counts_) {
    auto it = stored.find(change);
    check.missing += std::max(0, count - (it == stored.end() ? 0 : it->second));
  }
  return check;
}

}  // namespace presence::testing
