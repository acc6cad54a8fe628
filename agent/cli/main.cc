#include <sqlite3.h>

#include "agent/cli/cli.h"

#if defined(PRESENCE_JEMALLOC)
// jemalloc's settings (CMakeLists.txt says why it is the allocator), read by jemalloc before the
// first allocation. Two arenas: the threads that allocate much (two event loops, the core, the
// fold) each keep their own cache in front of them, and fewer arenas hold fewer half-empty pages.
// Pages freed after a burst (start-up's reading, every user's state replaced) go back to the
// system after a second unused, returned by jemalloc's own thread, so an idle agent stays small.
extern "C" {
const char* malloc_conf = "narenas:2,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#endif

int main(int argc, char** argv) {
  // Before SQLite's first use: without its memory statistics (nothing here reads them), an
  // allocation inside SQLite takes no process-wide lock; the ledger's fold allocates on every
  // row it writes.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return presence::agent::RunCli(argc, argv);
}
