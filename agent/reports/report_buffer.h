#pragma once

// Report text built in one reusable buffer and handed to the stream in large writes. Exports
// write millions of rows; per field, an ostream call (sentry, locale, virtual calls) or a
// std::string costs more than the formatting itself, so rows are put together here with plain
// copies and std::to_chars, and the stream sees one write per chunk.

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "common/time.h"
#include "tracking/report/report_zone.h"

namespace presence::agent {

class ReportBuffer {
 public:
  // Text is handed to the stream once this much has gathered.
  static constexpr std::size_t kChunk = 128 * 1024;

  explicit ReportBuffer(std::ostream& out);
  // Hands over what is left, also when a writer stops early (a scan failing part-way): the
  // client gets the rows it would have got without the buffer.
  ~ReportBuffer() { Drain(); }
  ReportBuffer(const ReportBuffer&) = delete;
  ReportBuffer& operator=(const ReportBuffer&) = delete;

  void Append(std::string_view text) {
    if (text.size() > capacity_ - size_) return AppendLong(text);
    text.copy(data_.get() + size_, text.size());
    size_ += text.size();
  }
  void Append(char c) {
    if (size_ == capacity_) Drain();
    data_[size_++] = c;
  }
  // A whole number in decimal.
  void AppendInt(long long value);
  // Seconds as FormatSeconds writes them: "95", "95.5", "-0.25".
  void AppendSeconds(Millis duration);
  // part as a percentage of whole, as reports show it: "62.5", two decimals at most (printf's
  // "%.2f" rounding), "0" when whole is not positive.
  void AppendPercent(Millis part, Millis whole);
  void AppendSpaces(std::size_t count);
  // zone.FormatLocal(t).
  void AppendLocal(const tracking::ReportZone& zone, Timestamp t) {
    Room(tracking::ReportZone::kLocalTextMax);
    size_ = zone.FormatLocalTo(data_.get() + size_, t) - data_.get();
  }

  // At the end of a row: hands the text to the stream once a chunk has gathered.
  void EndRow() {
    if (size_ >= kChunk) Drain();
  }
  // Hands everything gathered to the stream.
  void Drain();
  // Drain, then flush the stream: what a client must see now (the head of a report) leaves
  // at once instead of waiting for a chunk to fill.
  void Flush();
  // False once the stream failed (the client went away). A failure shows after the next
  // chunk is handed over.
  bool good() const { return out_.good(); }

 private:
  // Makes room for `bytes` more (they must be written at data_ + size_).
  void Room(std::size_t bytes) {
    if (bytes > capacity_ - size_) Drain();
  }
  void AppendLong(std::string_view text);

  std::ostream& out_;
  std::size_t capacity_;
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

// The text AppendPercent writes.
std::string PercentText(Millis part, Millis whole);

}  // namespace presence::agent
