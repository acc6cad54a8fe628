#pragma once

// Checkpoints the ledger's write-ahead log on a thread of its own. SQLite's automatic
// checkpoint runs inside the commit that takes the log past its threshold, on the writer's
// thread: every thousand pages or so one batch of changes waits while the log is copied into
// the database and the database is synced, and so do the clients and live viewers waiting for
// that batch. Here the writer's commits only count the log's pages (its WAL hook, which also
// turns the writer's automatic checkpoint off) and a thread with its own connection runs a
// PASSIVE checkpoint (it never waits for readers or the writer) once the log holds `frames`.
// Durability is SQLite's: a checkpoint copies only committed frames and syncs the database
// before the log is reused, whichever connection runs it.
//
// Attach from the writer's thread before its first commit; the checkpointer must outlive the
// writer connection (declare it before the writer's Database). Thread-safe otherwise.

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace presence::tracking {

class WalCheckpointer {
 public:
  // Opens its own connection to the ledger at `path` (which must exist). Throws
  // SQLite::Exception when it cannot.
  explicit WalCheckpointer(const std::string& path, int frames = 1000);
  ~WalCheckpointer();  // stops the thread; a checkpoint under way finishes first
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // The writer's commits drive it from now on.
  void Attach(SQLite::Database& writer);

  uint64_t checkpoints() const { return checkpoints_.load(); }  // run so far (for tests)

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);
  void Run();

  SQLite::Database db_;
  const int frames_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> checkpoints_{0};
  std::thread thread_;  // started last in the constructor
};

}  // namespace presence::tracking
