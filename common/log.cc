#include "common/log.h"

#include <array>
#include <cstdio>
#include <map>
#include <mutex>

#include "common/json_writer.h"

namespace presence {
namespace {

constexpr std::array<std::string_view, 4> kReservedKeys = {"time", "level", "component", "message"};

bool Reserved(std::string_view key) {
  for (std::string_view reserved : kReservedKeys) {
    if (key == reserved) return true;
  }
  return false;
}

// The text of a message on one line: control characters escaped as in JSON, bytes that are
// not UTF-8 replaced.
void AppendOneLine(std::string& out, std::string_view text) {
  for (char c : ValidUtf8(text)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

void AppendTextValue(std::string& out, const LogField& field) {
  if (!field.number && NeedsQuotes(field.value)) {
    AppendJsonString(out, field.value);
  } else {
    out += ValidUtf8(field.value);
  }
}

// The field that names the component's instance (connector=teams for "connector"), if any.
const LogField* InstanceField(const LogEvent& event) {
  if (event.component.empty()) return nullptr;
  for (const LogField& field : event.fields) {
    if (field.key == event.component) return &field;
  }
  return nullptr;
}

std::string FormatJson(const LogEvent& event, Timestamp at, bool with_time) {
  JsonWriter json;
  json.BeginObject();
  if (with_time) json.Key("time").String(FormatTime(at));
  json.Key("level").String(LogLevelName(event.level));
  json.Key("component").String(event.component);
  json.Key("message").String(event.message);
  for (const LogField& field : event.fields) {
    // A reserved name would make a second "message" member: it is kept under another name.
    json.Key(Reserved(field.key) ? field.key + "_" : field.key);
    if (field.number) {
      json.Raw(field.value);
    } else {
      json.String(field.value);
    }
  }
  json.EndObject();
  return json.Take();
}

// The swallowed-error counts (CountSwallowedError). A function-local static: counted from
// any thread, including before main's first line and during static destruction's start.
struct SwallowedCounts {
  std::mutex mutex;
  std::map<std::string, uint64_t, std::less<>> counts;
};
SwallowedCounts& Swallowed() {
  static SwallowedCounts* counts = new SwallowedCounts();  // never destroyed: threads may count
  return *counts;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) { return kLogLevels.Name(level); }

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 7;
    case LogLevel::kInfo:
      return 6;
    case LogLevel::kWarning:
      return 4;
    case LogLevel::kError:
      return 3;
  }
  return 6;
}

// ---- LogSink -------------------------------------------------------------------------------

LogSink::LogSink(Writer writer, std::string component, LogFields fields)
    : state_(writer ? std::make_shared<const State>(
                          State{std::move(writer), std::move(component), std::move(fields)})
                    : nullptr) {}

LogSink::Writer LogSink::TextWriter(std::function<void(LogLevel, std::string_view)> text) {
  if (!text) return nullptr;
  return
      [text = std::move(text)](const LogEvent& event) { text(event.level, FormatLogText(event)); };
}

void LogSink::operator()(LogLevel level, std::string_view message, const LogFields& fields) const {
  if (!state_) return;
  LogEvent event{level, state_->component, message, state_->fields};
  if (fields.empty()) {
    state_->writer(event);
    return;
  }
  LogFields all = state_->fields;
  for (const LogField& field : fields) {
    bool replaced = false;
    for (LogField& existing : all) {
      if (existing.key != field.key) continue;
      existing = field;
      replaced = true;
    }
    if (!replaced) all.push_back(field);
  }
  event.fields = all;
  state_->writer(event);
}

void LogSink::Swallowed(std::string_view doing, std::string_view what, const LogFields& fields,
                        LogLevel level) const noexcept {
  CountSwallowedError(component());
  try {
    std::string message(doing);
    message += ": ";
    message += what;
    (*this)(level, message, fields);
  } catch (...) {
    // A log that fails cannot be logged; the counter has the error.
  }
}

LogSink LogSink::For(std::string component, LogFields fields) const {
  if (!state_) return {};
  LogFields all = state_->fields;
  for (LogField& field : fields) all.push_back(std::move(field));
  return LogSink(state_->writer, std::move(component), std::move(all));
}

LogSink LogSink::With(LogFields fields) const {
  if (!state_) return {};
  return For(state_->component, std::move(fields));
}

std::string_view LogSink::component() const {
  return state_ ? std::string_view(state_->component) : std::string_view();
}

// ---- Formatting ----------------------------------------------------------------------------

std::string FormatLogText(const LogEvent& event) {
  std::string line;
  const LogField* instance = InstanceField(event);
  if (!event.component.empty()) {
    line += event.component;
    if (instance) {
      line += '[';
      AppendOneLine(line, instance->value);
      line += ']';
    }
    line += ": ";
  }
  AppendOneLine(line, event.message);
  for (const LogField& field : event.fields) {
    if (&field == instance) continue;
    line += ' ';
    line += field.key;
    line += '=';
    AppendTextValue(line, field);
  }
  return line;
}

std::string FormatLogEvent(const LogEvent& event, Timestamp at, LogStyle style) {
  std::string line;
  if (style.journal) line = "<" + std::to_string(SyslogPriority(event.level)) + ">";
  if (style.format == LogFormat::kJson) return line + FormatJson(event, at, !style.journal);
  if (!style.journal) line += FormatTime(at) + " ";
  line += LogLevelName(event.level);
  line += event.component.empty() ? ": " : " ";
  line += FormatLogText(event);
  return line;
}

std::string FormatLogLine(Timestamp at, LogLevel level, std::string_view text) {
  return FormatTime(at) + " " + FormatLogLine(level, text);
}

std::string FormatLogLine(LogLevel level, std::string_view text) {
  std::string line(LogLevelName(level));
  line += ": ";
  line += text;
  return line;
}

// ---- Swallowed errors ----------------------------------------------------------------------

void CountSwallowedError(std::string_view component) noexcept {
  if (component.empty()) component = "unknown";
  SwallowedCounts& swallowed = Swallowed();
  try {
    std::lock_guard lock(swallowed.mutex);
    auto found = swallowed.counts.find(component);
    if (found == swallowed.counts.end()) {
      found = swallowed.counts.emplace(std::string(component), 0).first;
    }
    ++found->second;
  } catch (...) {
    // Out of memory for a new component's entry: this one error goes uncounted.
  }
}

std::vector<std::pair<std::string, uint64_t>> SwallowedErrors() {
  SwallowedCounts& swallowed = Swallowed();
  std::lock_guard lock(swallowed.mutex);
  return {swallowed.counts.begin(), swallowed.counts.end()};
}

}  // namespace presence
