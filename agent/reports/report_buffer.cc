#include "agent/reports/report_buffer.h"

#include <charconv>

namespace presence::agent {

// Room for a chunk and the longest row that can follow it before EndRow hands it over; text
// longer than what is left goes out on its own (AppendLong).
ReportBuffer::ReportBuffer(std::ostream& out)
    : out_(out), capacity_(2 * kChunk), data_(new char[2 * kChunk]) {}

void ReportBuffer::AppendInt(long long value) {
  Room(24);
  char* at = data_.get() + size_;
  size_ = std::to_chars(at, at + 24, value).ptr - data_.get();
}

void ReportBuffer::AppendSeconds(Millis duration) {
  Room(32);
  char* at = data_.get() + size_;
  const long long ms = duration.count();
  // The magnitude as unsigned, so the most negative count has one too.
  const unsigned long long magnitude =
      ms < 0 ? 0ULL - static_cast<unsigned long long>(ms) : static_cast<unsigned long long>(ms);
  if (ms < 0) *at++ = '-';
  at = std::to_chars(at, at + 24, magnitude / 1000).ptr;
  unsigned fraction = static_cast<unsigned>(magnitude % 1000);
  if (fraction != 0) {
    *at++ = '.';
    *at++ = static_cast<char>('0' + fraction / 100);
    fraction %= 100;
    if (fraction != 0) {
      *at++ = static_cast<char>('0' + fraction / 10);
      fraction %= 10;
      if (fraction != 0) *at++ = static_cast<char>('0' + fraction);
    }
  }
  size_ = at - data_.get();
}

namespace {

constexpr std::size_t kPercentRoom = 400;  // any double in fixed notation

// The percentage into `text` (kPercentRoom bytes); returns its length.
std::size_t PutPercent(char* text, Millis part, Millis whole) {
  if (whole.count() <= 0) {
    text[0] = '0';
    return 1;
  }
  const double value =
      100.0 * static_cast<double>(part.count()) / static_cast<double>(whole.count());
  // std::to_chars with a precision writes what printf would, rounding included.
  char* end = std::to_chars(text, text + kPercentRoom, value, std::chars_format::fixed, 2).ptr;
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  return static_cast<std::size_t>(end - text);
}

}  // namespace

std::string PercentText(Millis part, Millis whole) {
  char text[kPercentRoom];
  return std::string(text, PutPercent(text, part, whole));
}

void ReportBuffer::AppendPercent(Millis part, Millis whole) {
  char text[kPercentRoom];
  Append(std::string_view(text, PutPercent(text, part, whole)));
}

void ReportBuffer::AppendSpaces(std::size_t count) {
  for (; count > 0; --count) Append(' ');
}

void ReportBuffer::AppendLong(std::string_view text) {
  Drain();
  if (text.size() <= capacity_) {
    Append(text);
  } else {
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
}

void ReportBuffer::Drain() {
  if (size_ == 0) return;
  // A failed stream takes no more: the writer stops at its next check of good().
  if (out_.good()) out_.write(data_.get(), static_cast<std::streamsize>(size_));
  size_ = 0;
}

void ReportBuffer::Flush() {
  Drain();
  if (out_.good()) out_.flush();
}

}  // namespace presence::agent
