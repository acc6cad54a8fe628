#pragma once

// The agent's log: three levels and one callback type. Components are handed a LogSink and
// never write to a stream themselves; the service prints each line to stderr with
// FormatLogLine, the CLI without the time.

#include <functional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace presence {

enum class LogLevel { kInfo, kWarning, kError };

std::string_view LogLevelName(LogLevel level);  // "info", "warning", "error"

// Receives one line: the text has no level, no time and no trailing newline, and never holds a
// secret. Called from any thread (connector workers, the core thread, HTTP handlers), so a
// sink must be thread-safe. Where a holder accepts an empty LogSink (and then logs nothing),
// its declaration says so.
using LogSink = std::function<void(LogLevel level, std::string_view text)>;

// "2026-11-21T09:30:00.000Z warning: text", a line of the service's log.
std::string FormatLogLine(Timestamp at, LogLevel level, std::string_view text);
// "warning: text", as the command-line tools print it.
std::string FormatLogLine(LogLevel level, std::string_view text);

}  // namespace presence
