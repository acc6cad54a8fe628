#pragma once

// The change journal: where a commit becomes durable before it reaches the SQLite ledger.
//
// A commit appends one record (the whole CommitBatch, a few hundred bytes per change) to the
// end of a file with one write(), synced with one fdatasync in power_loss mode, and is
// answered; the batch is written into the ledger's tables later, many commits in one
// transaction (journaled_time_store.h). A commit thus costs one sequential append instead of
// a B-tree page per index per change, and the ledger's page writes are shared by everything
// that arrived meanwhile.
//
// Files: "<ledger>.changes-<first seq, 20 digits>", beside the ledger, each beginning with an
// 8-byte magic line. A segment is closed once it holds kJournalSegmentBytes and a new one is
// begun; a closed segment is deleted once the ledger holds all of its records. Records:
//   u32 payload size | u32 CRC-32 of (seq, payload) | u64 seq | payload   (little-endian)
// Sequence numbers go up by one from record to record, across segments. The payload is
// EncodeCommitBatch's form: varints and length-prefixed texts.
//
// Prepared segments (power_loss mode): once the open segment holds kJournalPrepareAfter, a
// thread of the writer's own ("journal-prep") writes the next segment ahead of time as
// "<ledger>.changes-next": the magic kJournalPreparedMagic, then zeros up to
// kJournalPreparedBytes, synced. The writer renames it into place when it begins the next
// segment (a growing segment gives way as soon as one is ready). Appends then overwrite blocks
// the file system has already allocated and written, so their fdatasync writes the records
// without a file-system journal commit for a new file size: on this project's ext4 test
// machine 105 us against 170-260 us for an append, and a median of 190 us against 350 us
// under load. Such a segment ends in zeros after its last record: its unused rest. A short
// session (under kJournalPrepareAfter of records) never prepares one. This holds on file
// systems that overwrite in place (ext4, XFS); a copy-on-write one (btrfs, ZFS) allocates on
// every write anyway, and gains nothing from it. A version from before prepared segments
// refuses a journal holding one ("does not begin like a change journal"): after a crash, start
// the new version once before going back to an older one.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "tracking/ledger_types.h"
#include "tracking/time_store.h"

namespace presence::tracking {

inline constexpr size_t kJournalSegmentBytes = size_t{32} << 20;
// A record's payload may not be larger: a batch is at most a few thousand changes of a few
// hundred bytes, so more is damage (and a reader never allocates what a damaged size says).
inline constexpr size_t kJournalMaxPayload = size_t{64} << 20;
inline constexpr std::string_view kJournalMagic = "PAJRNL1\n";
// A prepared segment's magic: zeros from a record's head to the end are its unused rest.
inline constexpr std::string_view kJournalPreparedMagic = "PAJRNL2\n";
inline constexpr size_t kJournalRecordHead = 16;
// The open segment holds this much before the next one is prepared.
inline constexpr size_t kJournalPrepareAfter = size_t{1} << 20;
// A prepared segment's size: a segment, and room for the record that takes it past that.
inline constexpr size_t kJournalPreparedBytes = kJournalSegmentBytes + (size_t{1} << 20);

// The batch as a record's payload, appended to `out`.
void EncodeCommitBatch(const CommitBatch& batch, std::string& out);
// Refuses anything EncodeCommitBatch cannot have written ("damaged_journal"): a text running
// past the end, an unknown status or source, bytes left over.
Result<CommitBatch> DecodeCommitBatch(std::string_view payload);

struct JournalRecord {
  uint64_t seq = 0;
  std::string_view payload;  // into the bytes given to ParseJournalSegment
};

// A segment's records in file order, up to the end or up to the first one that is cut short or
// fails its check (`good_bytes` is where that one begins). A record cut short at the end is what
// a crash in the middle of an append leaves (never an acknowledged one); anything else is
// damage, and `problem` says what it is. In a prepared segment, zeros from a record's head to
// the end are the unused rest, and a record failing its checksum with a part still zeros (its
// end in the unused rest, its head, or a whole sector) is a write a power cut stopped: cut short
// and `unlanded`. The sectors of one fdatasync land in any order, so records after it may have
// landed; they were written after it and never acknowledged either.
struct JournalSegmentRead {
  std::vector<JournalRecord> records;
  size_t good_bytes = 0;
  size_t used_bytes = 0;   // the bytes before a prepared segment's unused rest (or all of them)
  bool complete = false;   // every byte read as records (or as the unused rest)
  bool cut_short = false;  // stopped at a record running past the end of the bytes, or unlanded
  bool unlanded = false;   // prepared segment: stopped at a record the disk did not get whole
  std::string problem;     // why it stopped early; empty when complete
};
JournalSegmentRead ParseJournalSegment(std::string_view bytes);
// Whether a whole record with a seq in (after_seq, after_seq + 1,000,000] and a matching
// checksum lies anywhere in `bytes` past `from`: then what stopped ParseJournalSegment at `from`
// is damage in front of acknowledged records, not an append that never finished (unless it
// stopped at an unlanded record: the records after one were never acknowledged).
bool RecordFollows(std::string_view bytes, size_t from, uint64_t after_seq);

// The record for `payload`, appended to `out`.
void AppendJournalRecord(uint64_t seq, std::string_view payload, std::string& out);

struct JournalSegmentFile {
  std::string path;
  uint64_t first_seq = 0;
};
// The journal segments of the ledger at `ledger_path`, in sequence order.
Result<std::vector<JournalSegmentFile>> ListJournalSegments(const std::string& ledger_path);
std::string JournalSegmentPath(const std::string& ledger_path, uint64_t first_seq);

// A segment file's bytes; "damaged_journal" for a file larger than any segment the writer
// makes (never read whole), "storage_error" when it cannot be read (or is gone, unless
// `missing_is_empty`: a reader beside a starting agent that deletes it).
Result<std::string> ReadJournalSegment(const std::string& path, bool missing_is_empty = false);

// How many records of the ledger's journal have a seq above `folded_seq` (the tables lack
// them); damaged bytes count as none.
Result<uint64_t> CountUnfoldedRecords(const std::string& ledger_path, uint64_t folded_seq);

// Syncs the ledger file, its -wal and their folder to disk: whatever the tables hold then
// survives a power cut, so the journal segments that held it may go.
Status SyncLedgerFiles(const std::string& ledger_path);

// Appends records (one thread), syncs them (another thread may, while appends go on), and
// deletes closed segments once the ledger holds them (any thread). Starts a new segment at the
// first append. In power_loss mode it prepares segments ahead (see the top of this file).
class JournalWriter {
 public:
  JournalWriter(std::string ledger_path, Durability durability);  // deletes a stale spare
  ~JournalWriter();  // stops the preparing thread and deletes an unused prepared segment
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Appends the record, not synced yet (Sync does that). When the write fails (a full disk),
  // nothing of it stays in the file ("storage_error") and the next append tries again. When a
  // sync fails, or the failed write cannot be taken back out, nothing is known any more about
  // what the file holds: this and every later Write and Sync fail with that error (until a
  // restart, whose replay reads what is there). A segment that gives way to the next is synced
  // first (power_loss mode).
  Status Write(uint64_t seq, std::string_view record);
  // power_loss mode: syncs every record whose Write returned before this call (one
  // fdatasync); process_crash mode: nothing to do. One thread at a time, also while Write runs
  // on another.
  Status Sync();
  // The closed segments whose records all have seq <= folded_seq, forgotten here: the caller
  // deletes them once the ledger holds their records for good (SyncLedgerFiles).
  std::vector<std::string> TakeFolded(uint64_t folded_seq);
  // Deletes every segment, the open one too (after a clean stop with everything in the
  // ledger), never while appending or syncing. Appending afterwards begins a new one.
  void RemoveAll();
  // Waits until no segment is being prepared; true when one is ready for the next Begin.
  bool WaitForPreparedForTest();

 private:
  struct Closed {
    std::string path;
    uint64_t last_seq = 0;
  };
  // An open segment's descriptor, closed once neither the writer nor a sync holds it.
  struct Segment {
    Segment(int descriptor, bool was_prepared) : fd(descriptor), prepared(was_prepared) {}
    ~Segment();
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;
    const int fd;
    const bool prepared;  // written ahead, full of zeros: a failed append is zeroed, not cut off
  };
  enum class Spare { kNone, kWanted, kReady };
  Status Begin(uint64_t first_seq);
  Status Broken();  // broken_ or Ok, under mutex_
  Error Break(const Error& error, bool taken_back);
  // Takes the prepared segment as `path`: its descriptor, or -1 when none is ready.
  int TakePrepared(const std::string& path);
  void WantPrepared();  // the writer's thread
  void Prepare();       // the preparing thread
  bool WriteSpare();    // one prepared segment; false when it failed (or the writer stops)

  const std::string ledger_path_;
  const Durability durability_;
  // The writer's thread only (the writer also changes open_ and the two below under mutex_).
  std::string open_path_;
  size_t size_ = 0;
  uint64_t last_seq_ = 0;
  bool spare_wanted_ = false;  // for the open segment: asked for once
  // The preparing thread and its word (under spare_mutex_).
  std::mutex spare_mutex_;
  std::condition_variable spare_wake_;
  Spare spare_ = Spare::kNone;  // kWanted while the thread writes it
  bool spare_stop_ = false;
  std::atomic<bool> spare_ready_{false};  // spare_ == kReady, read by Write without the lock
  std::thread spare_thread_;
  std::mutex sync_mutex_;  // held around every fdatasync of a segment; taken before mutex_
  std::mutex mutex_;
  std::shared_ptr<Segment> open_;  // null before the first append; under mutex_
  std::optional<Error> broken_;    // under mutex_
  std::vector<Closed> closed_;     // under mutex_
};

}  // namespace presence::tracking
