#pragma once

// The service's log output: every component's sink ends here, events below the configured
// level are dropped, and the rest are written one line each (text or JSON, common/log.h) to
// one stream, stderr in the service. Under systemd, when stderr is the journal, lines carry
// the syslog priority and no time (see StreamIsJournal).

#include <atomic>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/time.h"

namespace presence::agent {

class LogOutput {
 public:
  // `out` and `clock` must outlive every sink made here. `journal`: see LogStyle.
  LogOutput(std::ostream& out, const Clock& clock, bool journal);

  // Takes effect for the next event; from any thread (a reload).
  void Configure(LogSettings settings);
  // Whether an event of `level` would be written now.
  bool Enabled(LogLevel level) const;

  // A sink for `component` with `fields` on every event. Thread-safe; lines never interleave.
  LogSink SinkFor(std::string component, LogFields fields = {});

  void Write(const LogEvent& event);

 private:
  std::ostream& out_;
  const Clock& clock_;
  const bool journal_;
  std::atomic<LogLevel> level_{LogLevel::kInfo};
  std::atomic<LogFormat> format_{LogFormat::kText};
  std::mutex write_mutex_;
};

// Whether the JOURNAL_STREAM value ("<device>:<inode>", decimal, set by systemd for a unit
// whose stderr or stdout is the journal; systemd.exec(5)) names this device and inode.
bool JournalStreamMatches(std::string_view journal_stream, unsigned long long device,
                          unsigned long long inode);
// Whether the descriptor `fd` is the journal's stream: JOURNAL_STREAM set and naming the
// descriptor's own device and inode (sd-daemon(3)), so a stderr redirected elsewhere by a
// child's caller is not mistaken for it.
bool StreamIsJournal(int fd);

}  // namespace presence::agent
