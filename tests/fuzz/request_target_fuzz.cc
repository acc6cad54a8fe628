// Fuzz target for the HTTP request-target parser (agent/api/request_target.h): the first thing the
// agent reads of every request, before authentication. Any bytes must give a target within the
// documented bounds or a "malformed_request" error.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/api/request_target.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const presence::Result<presence::agent::RequestTarget> parsed =
      presence::agent::ParseRequestTarget(raw);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == "malformed_request");
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  const presence::agent::RequestTarget& target = *parsed;
  // The query and the fragment are cut off the path before anything else.
  FUZZ_CHECK(target.raw_path.find('?') == std::string::npos);
  FUZZ_CHECK(target.raw_path.find('#') == std::string::npos);
  FUZZ_CHECK(target.segments.size() <= presence::agent::kMaxPathSegments);
  for (const std::string& segment : target.segments) FUZZ_CHECK(!segment.empty());
  FUZZ_CHECK(target.query.size() <= presence::agent::kMaxQueryParameters);
  return 0;
}
