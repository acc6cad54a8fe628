// Fuzz target for the incremental HTTP request reader (agent/api/request_reader.h), which reads
// every byte a client sends to the API before anything else does. Any bytes must give requests
// within the documented bounds or a problem to answer with, and how the bytes are split between
// calls must not matter: fed whole, fed in two pieces and fed one byte at a time, the same
// bytes give the same requests, the same problem and the same end.
//
// Input: byte 0 picks max_body (4 * byte 0: 0 to 1020); bytes 1-2 (little-endian, modulo the
// stream's size + 1) are where the second feeding splits the stream; the rest is the stream.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/api/request_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using presence::agent::ParsedRequest;
using presence::agent::RequestReader;

void Check(const ParsedRequest& request, size_t max_body) {
  FUZZ_CHECK(!request.method.empty() && request.method.size() <= RequestReader::kMaxMethod);
  FUZZ_CHECK(!request.target.empty() && request.target.size() <= RequestReader::kMaxRequestLine);
  FUZZ_CHECK(request.version == 10 || request.version == 11);
  FUZZ_CHECK(request.fields.size() <= RequestReader::kMaxFields);
  for (const auto& [name, value] : request.fields) {
    FUZZ_CHECK(!name.empty() && name.size() <= RequestReader::kMaxFieldName);
    FUZZ_CHECK(value.size() <= RequestReader::kMaxFieldValue);
  }
  FUZZ_CHECK(request.body.size() <= max_body + 1);
  FUZZ_CHECK(request.body_over_limit == (request.body.size() == max_body + 1));
}

std::string Describe(const ParsedRequest& request) {
  std::string out = request.method + ' ' + request.target + ' ' + std::to_string(request.version) +
                    (request.keep_alive ? " keep" : " close");
  for (const auto& [name, value] : request.fields) out += '\n' + name + ": " + value;
  return out + "\nbody " + std::to_string(request.body.size()) + ' ' + request.body +
         (request.body_over_limit ? " over" : "") + '\n';
}

// What the reader makes of `stream` handed over in the pieces [0, cut) and [cut, end), or one
// byte at a time when `bytewise`; bytes not taken are fed again, as an event loop does.
std::string Transcript(std::string_view stream, size_t cut, bool bytewise, size_t max_body) {
  RequestReader reader(max_body);
  std::string out;
  std::string buffered;
  size_t offset = 0;
  for (;;) {
    if (buffered.empty()) {
      if (offset == stream.size()) break;
      size_t n = bytewise ? 1 : offset < cut ? cut - offset : stream.size() - offset;
      buffered.assign(stream.substr(offset, n));
      offset += n;
    }
    size_t taken = 0;
    const RequestReader::Outcome outcome = reader.Feed(buffered, taken);
    FUZZ_CHECK(taken <= buffered.size());
    buffered.erase(0, taken);
    if (outcome == RequestReader::Outcome::kMalformed) {
      FUZZ_CHECK(!reader.problem().empty());
      return out + "malformed: " + reader.problem() + '\n';
    }
    if (outcome == RequestReader::Outcome::kNeedMore) {
      FUZZ_CHECK(buffered.empty());
      continue;
    }
    const bool expects = reader.expects_continue();
    ParsedRequest request = reader.Take();
    Check(request, max_body);
    out += '@' + std::to_string(offset - buffered.size()) + (expects ? " 100 " : " ") +
           Describe(request);
  }
  if (reader.started()) out += reader.head_done() ? "head read\n" : "head begun\n";
  if (reader.head_done()) out += reader.expects_continue() ? "expects 100\n" : "";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t max_body = 4 * size_t{data[0]};
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);
  const size_t cut = (size_t{data[1]} | size_t{data[2]} << 8) % (stream.size() + 1);
  const std::string whole = Transcript(stream, stream.size(), false, max_body);
  FUZZ_CHECK(Transcript(stream, cut, false, max_body) == whole);
  FUZZ_CHECK(Transcript(stream, 0, true, max_body) == whole);
  return 0;
}
