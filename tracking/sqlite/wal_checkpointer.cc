#include "tracking/sqlite/wal_checkpointer.h"

#include <sqlite3.h>

#include "common/thread_name.h"
#include "tracking/sqlite/sqlite_schema.h"

namespace presence::tracking {

WalCheckpointer::WalCheckpointer(const std::string& path, int frames)
    : db_(path, SQLite::OPEN_READWRITE), frames_(frames) {
  db_.setBusyTimeout(kLedgerBusyTimeoutMs);
  // A connection learns the file is in WAL mode when it first reads it; until then a
  // checkpoint on it does nothing (and says the log has -1 frames).
  db_.execAndGet("PRAGMA journal_mode");
  thread_ = std::thread([this] {
    NameThisThread("wal-checkpoint");
    LowerThisThreadsPriority(10);  // see thread_name.h; when it lags, the log grows
    Run();
  });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::Attach(SQLite::Database& writer) {
  sqlite3_wal_hook(writer.getHandle(), &WalCheckpointer::OnCommit, this);
}

// On the writer's thread, after each commit, with the pages now in the log: no I/O here.
int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (frames < checkpointer->frames_) return SQLITE_OK;
  {
    std::lock_guard<std::mutex> lock(checkpointer->mutex_);
    if (checkpointer->due_) return SQLITE_OK;
    checkpointer->due_ = true;
  }
  checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || due_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    int log_frames = 0;
    int copied = 0;
    // A failure (the file busy in a way PASSIVE does not wait for, an I/O error) leaves the
    // log as it is: the next commit past the threshold asks again, and the last connection
    // to close checkpoints whatever is left.
    if (sqlite3_wal_checkpoint_v2(db_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                  &copied) == SQLITE_OK &&
        log_frames >= 0) {
      ++checkpoints_;
    }
    lock.lock();
  }
}

}  // namespace presence::tracking
