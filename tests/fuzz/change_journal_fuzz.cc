// Fuzz target for the change journal (tracking/sqlite/change_journal.h): segment files read back
// at start-up, which a crash, a disk or a hand can leave in any state. Any bytes must be read up
// to a clean stop, never past their end and never allocating what a damaged size claims; every
// record read must be a batch that encodes back to the same bytes or be refused with
// "damaged_journal".

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tracking/sqlite/change_journal.h"

namespace {

using presence::Result;
using presence::tracking::CommitBatch;
using presence::tracking::DecodeCommitBatch;
using presence::tracking::EncodeCommitBatch;
using presence::tracking::JournalSegmentRead;
using presence::tracking::kJournalMagic;
using presence::tracking::kJournalPreparedMagic;
using presence::tracking::ParseJournalSegment;

void CheckPayload(std::string_view payload) {
  Result<CommitBatch> batch = DecodeCommitBatch(payload);
  if (!batch.ok()) {
    FUZZ_CHECK(batch.error().code == "damaged_journal");
    FUZZ_CHECK(!batch.error().message.empty());
    return;
  }
  std::string again;
  EncodeCommitBatch(*batch, again);
  FUZZ_CHECK(again == payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so a read past the end is caught by the sanitizers.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // The bytes as one payload, and as a segment (with and without either magic in front, so the
  // fuzzer need not find them to reach the records).
  CheckPayload(bytes);
  for (const std::string& file :
       {bytes, std::string(kJournalMagic) + bytes, std::string(kJournalPreparedMagic) + bytes}) {
    JournalSegmentRead read = ParseJournalSegment(file);
    FUZZ_CHECK(read.good_bytes <= file.size());
    FUZZ_CHECK(read.good_bytes <= read.used_bytes && read.used_bytes <= file.size());
    FUZZ_CHECK(!read.unlanded ||
               (read.cut_short && read.problem.empty() &&
                file.compare(0, kJournalPreparedMagic.size(), kJournalPreparedMagic) == 0));
    FUZZ_CHECK(read.complete == (read.problem.empty() && !read.cut_short));
    uint64_t previous = 0;
    for (size_t i = 0; i < read.records.size(); ++i) {
      if (i > 0) FUZZ_CHECK(read.records[i].seq == previous + 1);
      previous = read.records[i].seq;
      CheckPayload(read.records[i].payload);
    }
  }
  return 0;
}
