#include "tracking/sqlite/sqlite_time_store.h"

#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <limits>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "tracking/ledger_math.h"
#include "tracking/sqlite/journaled_time_store.h"
#include "tracking/sqlite/ledger_files.h"
#include "tracking/sqlite/sqlite_schema.h"

namespace presence::tracking {

namespace {

// The writer's page cache (PRAGMA cache_size), in KiB: see the constructor.
constexpr int kWriterCacheKiB = 8192;

Result<std::unique_ptr<TimeStore>> OpenChecked(const std::string& path, LedgerLock lock,
                                               const LedgerOptions& options) {
  const bool was_empty = IsEmptyLedgerFile(path);
  if (Status created = CreateLedgerFile(path); !created.ok()) return created.error();
  // Used by one thread at a time (the fold, or the start before it runs): no mutex per call.
  SQLite::Database writer(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
  // SQLite opens a file it may not write for reading instead, without a word.
  if (sqlite3_db_readonly(writer.getHandle(), "main") == 1) {
    return Error{"ledger_not_writable",
                 "the time ledger '" + path +
                     "' can only be opened for reading; every change "
                     "is written there: make it and its folder writable for the agent's user"};
  }
  writer.setBusyTimeout(kLedgerBusyTimeoutMs);
  // Before anything is written: writing into a damaged file spreads the damage, and reads of
  // it would fail later, one report at a time. Not even the checkpoint that closing the last
  // connection runs: a -wal left by a crash stays beside the file for whoever salvages it.
  sqlite3_db_config(writer.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  if (Status check = CheckLedgerIntegrity(writer, path, options.check); !check.ok()) {
    return check.error();
  }
  sqlite3_db_config(writer.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);
  if (was_empty && LedgerSchemaVersion(writer) == 0 && options.log) {
    options.log(LogLevel::kWarning,
                "the time ledger '" + path +
                    "' was an empty (0-byte) file; it is used as a new, empty ledger. If it held "
                    "history, stop the agent and restore the file from a backup");
  }
  // synchronous=NORMAL whatever the durability: a commit is made durable by the change journal
  // (synced per commit in power_loss mode), and the tables are synced before a journal segment
  // that holds their changes is deleted (JournaledTimeStore).
  if (Status status = PrepareLedgerWriter(writer, Durability::kProcessCrash, options.log);
      !status.ok()) {
    return Error{status.error().code,
                 "cannot open time ledger '" + path + "': " + status.error().message};
  }
  return JournaledTimeStore::Open(
      std::make_unique<SqliteTimeStore>(std::move(lock), std::move(writer), path), path, options);
}

}  // namespace

Result<std::unique_ptr<TimeStore>> OpenSqliteTimeStore(const std::string& path,
                                                       const LedgerOptions& options) {
  if (Status writable = CheckLedgerWritable(path); !writable.ok()) return writable.error();
  Result<LedgerLock> lock = LedgerLock::Acquire(path);
  if (!lock.ok()) return lock.error();
  try {
    return OpenChecked(path, std::move(lock).value(), options);
  } catch (const SQLite::Exception& e) {
    if (IsDamageError(e)) return DamagedLedgerError(path, std::string("SQLite: ") + e.what());
    return Error{"storage_error", "cannot open time ledger '" + path + "': " + e.what()};
  } catch (const std::exception& e) {
    return Error{"storage_error", "cannot open time ledger '" + path + "': " + e.what()};
  }
}

SqliteTimeStore::SqliteTimeStore(LedgerLock lock, SQLite::Database writer, const std::string& path)
    : lock_(std::move(lock)),
      path_(path),
      checkpointer_(path),
      db_(std::move(writer)),
      insert_interval_(db_,
                       "INSERT INTO intervals (agent, label, reason_code, status, source, cause, "
                       "start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      // The user's open interval is the one their row names: found through the row (whose page
      // the commit writes anyway), with what closing it needs, rather than kept in memory for
      // every user. (One UPDATE ... RETURNING made the fold 28% dearer at 100,000 users: SQLite
      // opens a temporary table for the rows it returns, each time.)
      find_open_interval_(db_,
                          "SELECT i.id, i.start_ms, i.label, i.reason_code, i.status FROM agents a "
                          "JOIN intervals i ON i.id = a.open_interval_id WHERE a.agent = ? AND "
                          "i.end_ms IS NULL"),
      close_interval_(db_, "UPDATE intervals SET end_ms = ? WHERE id = ?"),
      set_open_interval_(db_,
                         "INSERT INTO agents (agent, engine_state, open_interval_id) VALUES (?, "
                         "'', ?) ON CONFLICT (agent) DO UPDATE SET open_interval_id = "
                         "excluded.open_interval_id"),
      set_agent_row_(db_,
                     "INSERT INTO agents (agent, engine_state, open_interval_id) VALUES (?, ?, ?) "
                     "ON CONFLICT (agent) DO UPDATE SET engine_state = excluded.engine_state, "
                     "open_interval_id = excluded.open_interval_id"),
      set_engine_state_(db_,
                        "INSERT INTO agents (agent, engine_state, open_interval_id) VALUES (?, ?, "
                        "NULL) ON CONFLICT (agent) DO UPDATE SET engine_state = "
                        "excluded.engine_state"),
      insert_outbox_(
          db_,
          "INSERT INTO outbox (id, connector, agent, at_ms, from_label, label, "
          "reason_code, status, source, cause, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      set_folded_(db_,
                  "INSERT INTO journal_folds (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE "
                  "SET seq = excluded.seq"),
      aggregates_(db_),
      reader_(path),
      side_db_(path, SQLite::OPEN_READWRITE),
      remove_outbox_(side_db_, "DELETE FROM outbox WHERE id = ?"),
      sync_writer_(side_db_) {
  side_db_.setBusyTimeout(kLedgerBusyTimeoutMs);
  side_db_.exec("PRAGMA synchronous = NORMAL");
  // A fold touches each of its users' report-index and day pages: for 1,000 busy users
  // about 5 MB, more than SQLite's default 2 MB cache, which then read them again (from the
  // system's cache) on every fold. 8 MB: 8% more changes/s at 1,000 users, nothing more at 32 MB.
  db_.exec("PRAGMA cache_size = -" + std::to_string(kWriterCacheKiB));
  checkpointer_.Attach(db_);
}

std::vector<std::string> SqliteTimeStore::ForEachOpenStart(
    const std::function<void(const std::string&, int64_t)>& visit) {
  // On the writer's own connection: the writer never waits for the readers' lock.
  SQLite::Statement rows(db_,
                         "SELECT a.agent, i.start_ms, i.id IS NOT NULL AND i.end_ms IS NULL FROM "
                         "agents a LEFT JOIN intervals i ON i.id = a.open_interval_id WHERE "
                         "a.open_interval_id IS NOT NULL");
  std::vector<std::string> lost;
  while (rows.executeStep()) {
    if (rows.getColumn(2).getInt() != 0) {
      visit(rows.getColumn(0).getString(), rows.getColumn(1).getInt64());
    } else {
      lost.push_back(rows.getColumn(0).getString());
    }
  }
  return lost;
}

Status SqliteTimeStore::CloseInterval(const Change& change) {
  SQLite::Statement& open = Reuse(find_open_interval_);
  // Reset however this ends: a read left on its row would keep the connection's snapshot.
  struct Reset {
    SQLite::Statement& statement;
    ~Reset() { statement.tryReset(); }
  } reset{open};
  open.bind(1, change.agent);
  if (!open.executeStep()) return Status::Ok();  // no open interval: a user first seen
  const int64_t id = open.getColumn(0).getInt64();
  const Timestamp start = FromEpochMillis(open.getColumn(1).getInt64());
  const std::string label = open.getColumn(2).getString();
  const std::string reason_code = open.getColumn(3).getString();
  auto status = reasoncodes::StatusFromInt(open.getColumn(4).getInt64());
  open.tryReset();  // done reading before anything is written
  if (change.at < start) return OutOfOrderError(change, start);
  if (!status) throw std::runtime_error("an open interval has an unknown status");
  CountClosed(change.agent, label, reason_code, *status, start, change.at);
  Reuse(close_interval_);
  close_interval_.bind(1, ToEpochMillis(change.at));
  close_interval_.bind(2, id);
  close_interval_.exec();
  return Status::Ok();
}

void SqliteTimeStore::CountClosed(const std::string& agent, const std::string& label,
                                  const std::string& reason_code, StatusCode status,
                                  Timestamp start, Timestamp end) {
  aggregates_.AddClosed(agent, label, reason_code, status, start, end);
}

int64_t SqliteTimeStore::InsertInterval(const Change& change, std::optional<Timestamp> end) {
  Reuse(insert_interval_);
  insert_interval_.bind(1, change.agent);
  insert_interval_.bind(2, change.label);
  insert_interval_.bind(3, change.reason_code);
  insert_interval_.bind(4, reasoncodes::ToInt(change.status));
  insert_interval_.bind(5, std::string(reasoncodes::SourceName(change.source)));
  insert_interval_.bind(6, change.cause);
  insert_interval_.bind(7, ToEpochMillis(change.at));
  if (end) {
    insert_interval_.bind(8, ToEpochMillis(*end));
  } else {
    insert_interval_.bind(8);  // NULL: open
  }
  insert_interval_.exec();
  return db_.getLastInsertRowid();
}

Status SqliteTimeStore::ApplyChanges(const std::vector<Change>& changes, CommitUsers& users) {
  // Each change's successor of the same user in the batch: an interval that the batch itself
  // closes is written closed, rather than written open and then updated (in the table and in
  // the report index, which holds end_ms). A fold of journaled commits holds several changes
  // of most users.
  constexpr size_t kNone = std::numeric_limits<size_t>::max();
  std::vector<size_t> next(changes.size(), kNone);
  std::vector<CommitUser*> user_of(changes.size());  // stable: the map's values do not move
  users.reserve(changes.size());
  for (size_t i = changes.size(); i-- > 0;) {  // walking backwards: `first` is the earliest so far
    auto [it, fresh] = users.try_emplace(changes[i].agent, CommitUser{.first = i});
    if (!fresh) {
      next[i] = it->second.first;
      it->second.first = i;
    }
    user_of[i] = &it->second;
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    const Change& change = changes[i];
    CommitUser& user = *user_of[i];
    // The user's first change in the batch closes the interval open before it.
    if (user.first == i) {
      if (Status closed = CloseInterval(change); !closed.ok()) return closed;
    }
    if (next[i] == kNone) {
      user.left_open = InsertInterval(change, std::nullopt);
      continue;
    }
    const Change& successor = changes[next[i]];
    if (successor.at < change.at) return OutOfOrderError(successor, change.at);
    InsertInterval(change, successor.at);
    CountClosed(change.agent, change.label, change.reason_code, change.status, change.at,
                successor.at);
  }
  return Status::Ok();
}

void SqliteTimeStore::WriteAgentRows(const CommitBatch& batch, CommitUsers& users) {
  // Newest record first: it is the one written. In one statement when the user has both (as
  // they mostly do).
  for (auto record = batch.agents.rbegin(); record != batch.agents.rend(); ++record) {
    // A user with records and no change in the batch gets an entry without an open interval.
    CommitUser& user = users.try_emplace(record->agent).first->second;
    if (user.row_written) continue;
    user.row_written = true;
    if (!user.left_open) {
      WriteEngineState(*record);
      continue;
    }
    Reuse(set_agent_row_);
    set_agent_row_.bind(1, record->agent);
    set_agent_row_.bind(2, record->engine_state);
    set_agent_row_.bind(3, *user.left_open);
    set_agent_row_.exec();
  }
  for (const auto& [agent, user] : users) {
    if (user.row_written || !user.left_open) continue;
    Reuse(set_open_interval_);
    set_open_interval_.bind(1, std::string(agent));
    set_open_interval_.bind(2, *user.left_open);
    set_open_interval_.exec();
  }
}

void SqliteTimeStore::WriteEngineState(const AgentRecord& record) {
  Reuse(set_engine_state_);
  set_engine_state_.bind(1, record.agent);
  set_engine_state_.bind(2, record.engine_state);
  set_engine_state_.exec();
}

uint64_t SqliteTimeStore::FoldedSeq() { return LedgerFoldedSeq(db_); }

void SqliteTimeStore::ReleaseCache() { sqlite3_db_release_memory(db_.getHandle()); }

Status SqliteTimeStore::CommitFolded(const CommitBatch& batch,
                                     std::optional<uint64_t> journal_seq) {
  if (batch.empty() && !journal_seq) return Status::Ok();
  try {
    CommitUsers users;
    // IMMEDIATE: take the write lock up front rather than failing to upgrade half-way.
    SQLite::Transaction transaction(db_, SQLite::TransactionBehavior::IMMEDIATE);
    // A fold whose commit went through although it was reported failed is not applied twice.
    if (journal_seq && FoldedSeq() >= *journal_seq) return Status::Ok();
    // An early return destroys the transaction, which rolls the whole batch back.
    if (Status status = ApplyChanges(batch.changes, users); !status.ok()) {
      aggregates_.RolledBack();
      return status;
    }
    aggregates_.Flush(/*rebuild_damaged=*/true);
    WriteAgentRows(batch, users);
    for (const OutboxItem& item : batch.outbox) InsertOutbox(item);
    if (journal_seq) {
      Reuse(set_folded_);
      set_folded_.bind(1, static_cast<int64_t>(*journal_seq));
      set_folded_.exec();
    }
    transaction.commit();
    aggregates_.Committed();
    return Status::Ok();
  } catch (const std::exception& e) {
    // The transaction rolled back (or the commit's outcome is unknown): the database is the
    // truth, and it is all the next commit reads.
    aggregates_.RolledBack();
    return Error{"storage_error", std::string("time ledger commit failed: ") + e.what()};
  }
}

void SqliteTimeStore::InsertOutbox(const OutboxItem& item) {
  const Change& change = item.change;
  Reuse(insert_outbox_);
  insert_outbox_.bind(1, item.id);
  insert_outbox_.bind(2, item.connector);
  insert_outbox_.bind(3, change.agent);
  insert_outbox_.bind(4, ToEpochMillis(change.at));
  insert_outbox_.bind(5, change.from_label);
  insert_outbox_.bind(6, change.label);
  insert_outbox_.bind(7, change.reason_code);
  insert_outbox_.bind(8, reasoncodes::ToInt(change.status));
  insert_outbox_.bind(9, std::string(reasoncodes::SourceName(change.source)));
  insert_outbox_.bind(10, change.cause);
  insert_outbox_.bind(11, item.payload);
  insert_outbox_.exec();
}

Result<OutboxState> SqliteTimeStore::LoadOutbox() {
  std::lock_guard<std::mutex> lock(side_mutex_);
  try {
    OutboxState state;
    SQLite::Transaction read(side_db_);
    SQLite::Statement rows(side_db_,
                           "SELECT id, connector, agent, at_ms, from_label, label, reason_code, "
                           "status, source, cause, payload FROM outbox ORDER BY id");
    while (rows.executeStep()) {
      OutboxItem item;
      item.id = rows.getColumn(0).getInt64();
      item.connector = rows.getColumn(1).getString();
      Change& change = item.change;
      change.agent = rows.getColumn(2).getString();
      change.at = FromEpochMillis(rows.getColumn(3).getInt64());
      change.from_label = rows.getColumn(4).getString();
      change.label = rows.getColumn(5).getString();
      change.reason_code = rows.getColumn(6).getString();
      auto status = reasoncodes::StatusFromInt(rows.getColumn(7).getInt64());
      auto source = reasoncodes::SourceFromName(rows.getColumn(8).getString());
      if (!status || !source) {
        return Error{"storage_error",
                     "outbox row " + std::to_string(item.id) + " has an unknown status or source"};
      }
      change.status = *status;
      change.source = *source;
      change.cause = rows.getColumn(9).getString();
      item.payload = rows.getColumn(10).getString();
      state.items.push_back(std::move(item));
    }
    SQLite::Statement last(side_db_, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'");
    if (last.executeStep()) state.last_id = last.getColumn(0).getInt64();
    read.commit();
    return state;
  } catch (const std::exception& e) {
    return Error{"storage_error", std::string("cannot read the outbox: ") + e.what()};
  }
}

Status SqliteTimeStore::RemoveOutbox(const std::vector<int64_t>& ids) {
  if (ids.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(side_mutex_);
  try {
    SQLite::Transaction transaction(side_db_, SQLite::TransactionBehavior::IMMEDIATE);
    for (int64_t id : ids) {
      Reuse(remove_outbox_);
      remove_outbox_.bind(1, id);
      remove_outbox_.exec();
    }
    transaction.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Error{"storage_error", std::string("cannot remove delivered outbox rows: ") + e.what()};
  }
}

Status SqliteTimeStore::SaveSyncState(const std::string& target,
                                      const std::vector<SyncedFigure>& figures,
                                      const std::optional<std::string>& done_through) {
  if (figures.empty() && !done_through) return Status::Ok();
  std::lock_guard<std::mutex> lock(side_mutex_);
  try {
    sync_writer_.Save(target, figures, done_through);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Error{"storage_error",
                 "cannot save the sync state of '" + target + "': " + std::string(e.what())};
  }
}

}  // namespace presence::tracking
