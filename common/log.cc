#include "common/log.h"

#include "common/enum_names.h"

namespace presence {
namespace {

constexpr EnumNames<LogLevel, 3> kLevels = {{
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarning, "warning"},
    {LogLevel::kError, "error"},
}};

}  // namespace

std::string_view LogLevelName(LogLevel level) { return kLevels.Name(level); }

std::string FormatLogLine(Timestamp at, LogLevel level, std::string_view text) {
  return FormatTime(at) + " " + FormatLogLine(level, text);
}

std::string FormatLogLine(LogLevel level, std::string_view text) {
  std::string line(LogLevelName(level));
  line += ": ";
  line += text;
  return line;
}

}  // namespace presence
