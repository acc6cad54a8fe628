#pragma once

// The agent's log: one event per line with a level, a component, a message and fields.
// Components are handed a LogSink that already knows their component ("connector" with the
// field connector=<name>, "stream", "ami", ...) and never write to a stream themselves; the
// service turns each event into a line of text or JSON on stderr (FormatLogEvent), the CLI
// prints "level: text" lines (FormatLogLine).
//
//   log(LogLevel::kWarning, "delivery failing", {{"user", user}, {"attempt", attempts}});
//   LogSink ami = log.For("ami", {{"server", "pbx:5038"}});  // keeps the sink's fields
//
// No message or field may hold a secret (tokens, passwords, session ids, Authorization
// headers, cookies): the log goes to the journal and to whoever reads it.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/enum_names.h"
#include "common/time.h"

namespace presence {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

inline constexpr EnumNames<LogLevel, 4> kLogLevels = {{
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarning, "warning"},
    {LogLevel::kError, "error"},
}};

std::string_view LogLevelName(LogLevel level);  // "debug", "info", "warning", "error"

enum class LogFormat { kText, kJson };

inline constexpr EnumNames<LogFormat, 2> kLogFormats = {{
    {LogFormat::kText, "text"},
    {LogFormat::kJson, "json"},
}};

// One named value of an event: text, or a whole number (written unquoted in JSON).
struct LogField {
  LogField(std::string name, std::string text) : key(std::move(name)), value(std::move(text)) {}
  LogField(std::string name, std::string_view text) : key(std::move(name)), value(text) {}
  LogField(std::string name, const char* text) : key(std::move(name)), value(text) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogField(std::string name, T number_value)
      : key(std::move(name)), value(std::to_string(number_value)), number(true) {}

  std::string key;  // [a-z_]; not "time", "level", "component" or "message"
  std::string value;
  bool number = false;
};
using LogFields = std::vector<LogField>;

struct LogEvent {
  LogLevel level = LogLevel::kInfo;
  std::string_view component;        // empty when the sink was never given one
  std::string_view message;          // no level, time, component or trailing newline
  std::span<const LogField> fields;  // the sink's, then the call's (a call's key replaces)
};

// Where a component sends its events. Cheap to copy; copies share the writer. Called from any
// thread (connector workers, the core thread, HTTP handlers), so the writer must be
// thread-safe. An empty sink (default-constructed) is false and drops everything; where a
// holder accepts one, its declaration says so.
class LogSink {
 public:
  using Writer = std::function<void(const LogEvent& event)>;

  LogSink() = default;
  LogSink(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): no log, as an empty sink
  // A writer of whole events (the service's output, tests that look at fields).
  template <class F>
  requires(!std::same_as<std::remove_cvref_t<F>, LogSink> &&
           std::is_invocable_v<F&, const LogEvent&>)
      LogSink(F writer)  // NOLINT(google-explicit-constructor)
      : LogSink(Writer(std::move(writer)), {}, {}) {}
  // A writer of text: it gets FormatLogText(event) ("component: message key=value"), as the
  // command-line tools and most tests want it.
  template <class F>
  requires(!std::same_as<std::remove_cvref_t<F>, LogSink> &&
           !std::is_invocable_v<F&, const LogEvent&> &&
           std::is_invocable_v<F&, LogLevel, std::string_view>)
      LogSink(F writer)  // NOLINT(google-explicit-constructor)
      : LogSink(TextWriter(std::function<void(LogLevel, std::string_view)>(std::move(writer))), {},
                {}) {}

  // One event. Does nothing on an empty sink.
  void operator()(LogLevel level, std::string_view message, const LogFields& fields = {}) const;

  // An error that was caught and not passed on: logged at `level` with "<doing>: <what>" and
  // counted for presence_swallowed_errors_total under this sink's component (also when the
  // sink is empty: the count is kept whatever the log does). Never throws.
  void Swallowed(std::string_view doing, std::string_view what, const LogFields& fields = {},
                 LogLevel level = LogLevel::kError) const noexcept;

  explicit operator bool() const { return state_ != nullptr; }

  // The same writer for another component: this sink's fields are kept and `fields` added.
  LogSink For(std::string component, LogFields fields = {}) const;
  // The same writer and component with `fields` added to every event.
  LogSink With(LogFields fields) const;

  std::string_view component() const;

 private:
  struct State {
    Writer writer;
    std::string component;
    LogFields fields;
  };
  LogSink(Writer writer, std::string component, LogFields fields);
  static Writer TextWriter(std::function<void(LogLevel, std::string_view)> text);

  std::shared_ptr<const State> state_;
};

// The `logging` block of the service's configuration.
struct LogSettings {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;  // events below it are dropped
};

// ---- Formatting ------------------------------------------------------------------------------

struct LogStyle {
  LogFormat format = LogFormat::kText;
  // stderr is the systemd journal: each line starts with the syslog priority ("<4>"), which
  // journald takes as the entry's level, and has no time (the journal stamps each entry).
  bool journal = false;
};

// One line, without the newline:
//   text: "2026-12-06T19:30:00.000Z warning connector[teams]: delivery failing user=a17
//          attempt=3" (a field named like the component shows in brackets after it; values
//          with spaces, quotes, '=' or control characters, and empty ones, are JSON-quoted;
//          control characters in the message are escaped so an event stays one line)
//   json: {"time":"...","level":"warning","component":"connector","message":"...",
//          "connector":"teams","user":"a17","attempt":3}
// With style.journal, "<4>" before either and no time.
std::string FormatLogEvent(const LogEvent& event, Timestamp at, LogStyle style);

// "connector[teams]: delivery failing user=a17 attempt=3", or without "component: " when the
// event has none: what a text writer of a LogSink receives.
std::string FormatLogText(const LogEvent& event);

// The syslog priority of a level (RFC 5424 6.2.1): error 3, warning 4, info 6, debug 7.
int SyslogPriority(LogLevel level);

// "2026-11-21T09:30:00.000Z warning: text".
std::string FormatLogLine(Timestamp at, LogLevel level, std::string_view text);
// "warning: text", as the command-line tools print it.
std::string FormatLogLine(LogLevel level, std::string_view text);

// ---- Swallowed errors ------------------------------------------------------------------------

// Process-wide counts of errors caught and not passed on, by component ("" counts as
// "unknown"). Thread-safe. LogSink::Swallowed counts through this.
void CountSwallowedError(std::string_view component) noexcept;
// Every component counted so far with its count, sorted by component.
std::vector<std::pair<std::string, uint64_t>> SwallowedErrors();

}  // namespace presence
