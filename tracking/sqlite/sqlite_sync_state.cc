#include "tracking/sqlite/sqlite_sync_state.h"

#include <SQLiteCpp/Transaction.h>

#include "tracking/sqlite/sqlite_schema.h"

namespace presence::tracking {

SyncState ReadSyncState(SQLite::Database& db, const std::string& target) {
  SyncState state;
  SQLite::Statement mark(db, "SELECT done_through FROM sync_marks WHERE target = ?");
  mark.bind(1, target);
  if (mark.executeStep()) state.done_through = mark.getColumn(0).getString();
  // The (target, day) index yields the day order; only keys within a day need sorting.
  SQLite::Statement figures(db,
                            "SELECT key, day, ms, final FROM sync_figures WHERE target = ? "
                            "ORDER BY day, key");
  figures.bind(1, target);
  while (figures.executeStep()) {
    state.figures.push_back(
        SyncedFigure{figures.getColumn(0).getString(), figures.getColumn(1).getString(),
                     Millis(figures.getColumn(2).getInt64()), figures.getColumn(3).getInt() != 0});
  }
  return state;
}

SqliteSyncStateWriter::SqliteSyncStateWriter(SQLite::Database& db)
    : db_(db),
      upsert_figure_(db_,
                     "INSERT INTO sync_figures (target, key, day, ms, final) VALUES (?, ?, ?, ?, "
                     "?) ON CONFLICT (target, key) DO UPDATE SET day = excluded.day, ms = "
                     "excluded.ms, final = excluded.final"),
      set_mark_(db_,
                "INSERT INTO sync_marks (target, done_through) VALUES (?, ?) ON CONFLICT "
                "(target) DO UPDATE SET done_through = excluded.done_through"),
      forget_done_days_(db_, "DELETE FROM sync_figures WHERE target = ? AND day <= ?") {}

void SqliteSyncStateWriter::Save(const std::string& target,
                                 const std::vector<SyncedFigure>& figures,
                                 const std::optional<std::string>& done_through) {
  SQLite::Transaction transaction(db_, SQLite::TransactionBehavior::IMMEDIATE);
  for (const SyncedFigure& figure : figures) {
    Reuse(upsert_figure_);
    upsert_figure_.bind(1, target);
    upsert_figure_.bind(2, figure.key);
    upsert_figure_.bind(3, figure.day);
    upsert_figure_.bind(4, static_cast<int64_t>(figure.duration.count()));
    upsert_figure_.bind(5, figure.final ? 1 : 0);
    upsert_figure_.exec();
  }
  if (done_through) {
    Reuse(set_mark_);
    set_mark_.bind(1, target);
    set_mark_.bind(2, *done_through);
    set_mark_.exec();
    Reuse(forget_done_days_);
    forget_done_days_.bind(1, target);
    forget_done_days_.bind(2, *done_through);
    forget_done_days_.exec();
  }
  transaction.commit();
}

}  // namespace presence::tracking
