#include "agent/service/log_output.h"

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <optional>

namespace presence::agent {
namespace {

std::optional<unsigned long long> ParseDecimal(std::string_view text) {
  unsigned long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

LogOutput::LogOutput(std::ostream& out, const Clock& clock, bool journal)
    : out_(out), clock_(clock), journal_(journal) {}

void LogOutput::Configure(LogSettings settings) {
  level_.store(settings.level);
  format_.store(settings.format);
}

bool LogOutput::Enabled(LogLevel level) const { return level >= level_.load(); }

LogSink LogOutput::SinkFor(std::string component, LogFields fields) {
  return LogSink([this](const LogEvent& event) { Write(event); })
      .For(std::move(component), std::move(fields));
}

void LogOutput::Write(const LogEvent& event) {
  if (!Enabled(event.level)) return;
  std::string line = FormatLogEvent(event, clock_.Now(), {format_.load(), journal_});
  line += '\n';
  std::lock_guard lock(write_mutex_);
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  out_.flush();
}

bool JournalStreamMatches(std::string_view journal_stream, unsigned long long device,
                          unsigned long long inode) {
  const size_t colon = journal_stream.find(':');
  if (colon == std::string_view::npos) return false;
  std::optional<unsigned long long> named_device = ParseDecimal(journal_stream.substr(0, colon));
  std::optional<unsigned long long> named_inode = ParseDecimal(journal_stream.substr(colon + 1));
  return named_device && named_inode && *named_device == device && *named_inode == inode;
}

bool StreamIsJournal(int fd) {
  const char* journal_stream = std::getenv("JOURNAL_STREAM");
  if (journal_stream == nullptr) return false;
  struct stat status {};
  if (::fstat(fd, &status) != 0) return false;
  return JournalStreamMatches(journal_stream, static_cast<unsigned long long>(status.st_dev),
                              static_cast<unsigned long long>(status.st_ino));
}

}  // namespace presence::agent
