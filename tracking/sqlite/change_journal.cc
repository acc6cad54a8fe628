#include "tracking/sqlite/change_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "common/thread_name.h"
#include "tracking/sqlite/ledger_files.h"
#include "tracking/varint.h"

namespace presence::tracking {
namespace {

constexpr size_t kSeqDigits = 20;

Error Damaged(const std::string& what) {
  return Error{"damaged_journal", "a record of the change journal is damaged: " + what};
}

void PutText(std::string& out, std::string_view text) {
  PutVarint(out, text.size());
  out.append(text);
}

void PutChange(std::string& out, const Change& change) {
  PutText(out, change.agent);
  PutVarint(out, ZigZag(ToEpochMillis(change.at)));
  PutText(out, change.from_label);
  PutText(out, change.label);
  PutText(out, change.reason_code);
  PutVarint(out, static_cast<uint64_t>(reasoncodes::ToInt(change.status)));
  PutVarint(out, static_cast<uint64_t>(change.source));
  PutText(out, change.cause);
}

// Reads what the Put functions wrote, failing on the first thing out of place.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) : bytes_(bytes) {}

  bool Number(uint64_t& value) {
    std::optional<uint64_t> read = GetVarint(bytes_, at_);
    if (!read) return Fail("a number is cut short or overlong");
    value = *read;
    return true;
  }
  // A count of items each at least `min_bytes` long: never more than the bytes left can hold,
  // so a damaged count cannot make the caller reserve gigabytes.
  bool Count(uint64_t& count, size_t min_bytes) {
    if (!Number(count)) return false;
    if (count > (bytes_.size() - at_) / min_bytes) return Fail("a count exceeds the record");
    return true;
  }
  bool Text(std::string& text) {
    uint64_t size = 0;
    if (!Number(size)) return false;
    if (size > bytes_.size() - at_) return Fail("a text runs past the end of the record");
    text.assign(bytes_.substr(at_, size));
    at_ += size;
    return true;
  }
  bool ReadChange(Change& change) {
    uint64_t at = 0;
    uint64_t status = 0;
    uint64_t source = 0;
    if (!Text(change.agent) || !Number(at) || !Text(change.from_label) || !Text(change.label) ||
        !Text(change.reason_code) || !Number(status) || !Number(source) || !Text(change.cause)) {
      return false;
    }
    std::optional<StatusCode> code = reasoncodes::StatusFromInt(
        static_cast<long long>(std::min<uint64_t>(status, std::numeric_limits<long long>::max())));
    if (!code) return Fail("unknown status " + std::to_string(status));
    if (source > static_cast<uint64_t>(Source::kPbx)) {
      return Fail("unknown source " + std::to_string(source));
    }
    change.at = FromEpochMillis(UnZigZag(at));
    change.status = *code;
    change.source = static_cast<Source>(source);
    return true;
  }
  bool AtEnd() const { return at_ == bytes_.size(); }
  const std::string& problem() const { return problem_; }

 private:
  bool Fail(std::string what) {
    if (problem_.empty()) problem_ = std::move(what);
    return false;
  }
  std::string_view bytes_;
  size_t at_ = 0;
  std::string problem_;
};

// The smallest encoded change (every text empty, every number one byte) and so on: bounds for
// PayloadReader::Count.
constexpr size_t kMinChangeBytes = 8;
constexpr size_t kMinAgentBytes = 2;
constexpr size_t kMinOutboxBytes = kMinChangeBytes + 3;

// CRC-32 (IEEE 802.3, as zlib and Boost's crc_32_type compute it). zlib's is several times
// faster than Boost's byte-at-a-time table: the core checks every record it writes.
uint32_t Crc(uint64_t seq, std::string_view payload) {
  unsigned char seq_bytes[8];
  for (int i = 0; i < 8; ++i) seq_bytes[i] = static_cast<unsigned char>(seq >> (8 * i));
  uLong crc = ::crc32_z(0L, Z_NULL, 0);
  crc = ::crc32_z(crc, seq_bytes, sizeof seq_bytes);
  crc = ::crc32_z(crc, reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  return static_cast<uint32_t>(crc);
}

void PutFixed(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetFixed(std::string_view bytes, size_t at, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}

// The prepared segment, not yet a segment: ListJournalSegments does not see it.
std::string SparePath(const std::string& ledger_path) { return ledger_path + ".changes-next"; }

std::string SegmentPrefix(const std::string& ledger_path) {
  const size_t slash = ledger_path.rfind('/');
  return (slash == std::string::npos ? ledger_path : ledger_path.substr(slash + 1)) + ".changes-";
}

// Writes all of `bytes` at `offset`.
Status WriteAt(int fd, std::string_view bytes, size_t offset) {
  while (!bytes.empty()) {
    ssize_t written = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return Error{"storage_error",
                   std::string("cannot write the change journal: ") + std::strerror(errno)};
    }
    bytes.remove_prefix(static_cast<size_t>(written));
    offset += static_cast<size_t>(written);
  }
  return Status::Ok();
}

bool AllZero(std::string_view bytes) {
  return bytes.find_first_not_of('\0') == std::string_view::npos;
}

// Whether a record of a prepared segment at [begin, end) holds a part the disk never got. An
// fdatasync of overwritten blocks writes their sectors in any order, and a power cut in the
// middle keeps any of them: a sector that never landed still holds the prepared zeros. So: the
// record's 16-byte head all zeros (a record's size is never 0), or an aligned 512-byte sector of
// it (at least 64 of its bytes: a record's own last bytes may be a few zeros) all zeros. Damage
// (a flipped bit) leaves no such thing, and a record that landed whole passes its checksum.
bool HasUnwrittenPart(std::string_view bytes, size_t begin, size_t end) {
  constexpr size_t kSector = 512;
  constexpr size_t kMinPart = 64;
  end = std::min(end, bytes.size());
  if (end - begin >= kJournalRecordHead && AllZero(bytes.substr(begin, kJournalRecordHead))) {
    return true;
  }
  for (size_t sector = (begin + kSector - 1) / kSector * kSector; sector < end; sector += kSector) {
    const size_t length = std::min(kSector, end - sector);
    if (length >= kMinPart && AllZero(bytes.substr(sector, length))) return true;
  }
  return false;
}

// Where the zeros at the end of `bytes` begin (bytes.size() when it ends in something else).
size_t ZerosFrom(std::string_view bytes) {
  size_t end = bytes.size();
  while (end >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes.data() + end - 8, 8);
    if (word != 0) break;
    end -= 8;
  }
  while (end > 0 && bytes[end - 1] == '\0') --end;
  return end;
}

// Opens `path` with `flags` and syncs it to disk; a missing file is fine when `missing_ok`.
Status SyncPath(const std::string& path, int flags, bool missing_ok, const char* what) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && missing_ok) return Status::Ok();
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    return Error{"storage_error", std::string("cannot sync the ") + what + " '" + path +
                                      "': " + std::strerror(error)};
  }
  ::close(fd);
  return Status::Ok();
}

// A new file's name is only durable once its folder is synced.
Status SyncFolder(const std::string& path) {
  return SyncPath(LedgerFolder(path), O_RDONLY | O_DIRECTORY, false, "folder");
}

}  // namespace

Status SyncLedgerFiles(const std::string& ledger_path) {
  // The folder too: a -wal made since the last stop is only found again if its name is.
  if (Status folder = SyncFolder(ledger_path); !folder.ok()) return folder;
  if (Status file = SyncPath(ledger_path, O_RDONLY, false, "ledger file"); !file.ok()) return file;
  // No -wal: everything is in the file.
  return SyncPath(ledger_path + "-wal", O_RDONLY, true, "ledger file");
}

void EncodeCommitBatch(const CommitBatch& batch, std::string& out) {
  PutVarint(out, batch.changes.size());
  for (const Change& change : batch.changes) PutChange(out, change);
  PutVarint(out, batch.agents.size());
  for (const AgentRecord& record : batch.agents) {
    PutText(out, record.agent);
    PutText(out, record.engine_state);
  }
  PutVarint(out, batch.outbox.size());
  for (const OutboxItem& item : batch.outbox) {
    PutVarint(out, ZigZag(item.id));
    PutText(out, item.connector);
    PutChange(out, item.change);
    PutText(out, item.payload);
  }
}

Result<CommitBatch> DecodeCommitBatch(std::string_view payload) {
  // Items are added as they are read, never reserved from a count: a damaged count allowed by
  // the bytes left could still ask for many times their size in objects.
  PayloadReader reader(payload);
  CommitBatch batch;
  uint64_t count = 0;
  bool ok = reader.Count(count, kMinChangeBytes);
  for (uint64_t i = 0; ok && i < count; ++i) {
    Change change;
    ok = reader.ReadChange(change);
    if (ok) batch.changes.push_back(std::move(change));
  }
  ok = ok && reader.Count(count, kMinAgentBytes);
  for (uint64_t i = 0; ok && i < count; ++i) {
    AgentRecord record;
    ok = reader.Text(record.agent) && reader.Text(record.engine_state);
    if (ok) batch.agents.push_back(std::move(record));
  }
  ok = ok && reader.Count(count, kMinOutboxBytes);
  for (uint64_t i = 0; ok && i < count; ++i) {
    OutboxItem item;
    uint64_t id = 0;
    ok = reader.Number(id) && reader.Text(item.connector) && reader.ReadChange(item.change) &&
         reader.Text(item.payload);
    item.id = UnZigZag(id);
    if (ok) batch.outbox.push_back(std::move(item));
  }
  if (!ok) return Damaged(reader.problem());
  if (!reader.AtEnd()) return Damaged("bytes left over after the batch");
  return batch;
}

void AppendJournalRecord(uint64_t seq, std::string_view payload, std::string& out) {
  PutFixed(out, payload.size(), 4);
  PutFixed(out, Crc(seq, payload), 4);
  PutFixed(out, seq, 8);
  out.append(payload);
}

JournalSegmentRead ParseJournalSegment(std::string_view bytes) {
  JournalSegmentRead read;
  read.used_bytes = bytes.size();
  static_assert(kJournalMagic.size() == kJournalPreparedMagic.size());
  if (bytes.size() < kJournalMagic.size()) {
    // A segment is created and its magic written before any record: a crash in between
    // leaves fewer bytes, and no record.
    read.cut_short = kJournalMagic.substr(0, bytes.size()) == bytes;
    if (!read.cut_short) read.problem = "the file does not begin like a change journal";
    return read;
  }
  const std::string_view magic = bytes.substr(0, kJournalMagic.size());
  const bool prepared = magic == kJournalPreparedMagic;
  if (magic != kJournalMagic && !prepared) {
    read.problem = "the file does not begin like a change journal";
    return read;
  }
  // A prepared segment's records end where its zeros begin (or in them: a record's own last
  // bytes may be zeros).
  const size_t written = prepared ? ZerosFrom(bytes) : bytes.size();
  read.used_bytes = written;
  size_t at = kJournalMagic.size();
  read.good_bytes = at;
  while (at < bytes.size()) {
    if (at >= written) break;  // zeros to the end: the unused rest
    if (bytes.size() - at < kJournalRecordHead) {
      read.cut_short = true;
      return read;
    }
    const uint64_t size = GetFixed(bytes, at, 4);
    const auto crc = static_cast<uint32_t>(GetFixed(bytes, at + 4, 4));
    const uint64_t seq = GetFixed(bytes, at + 8, 8);
    if (size > kJournalMaxPayload) {
      read.problem = "a record claims " + std::to_string(size) + " bytes";
      return read;
    }
    if (bytes.size() - at - kJournalRecordHead < size) {
      read.cut_short = true;
      return read;
    }
    std::string_view payload = bytes.substr(at + kJournalRecordHead, size);
    if (Crc(seq, payload) != crc) {
      // In a prepared segment, a record whose end lies in the zeros, or part of which the disk
      // never got: its write never finished (see HasUnwrittenPart).
      read.unlanded = prepared && (at + kJournalRecordHead + size > written ||
                                   HasUnwrittenPart(bytes, at, at + kJournalRecordHead + size));
      read.cut_short = read.unlanded;
      if (!read.cut_short) read.problem = "record " + std::to_string(seq) + " fails its checksum";
      return read;
    }
    if (!read.records.empty() && seq != read.records.back().seq + 1) {
      read.problem = "record " + std::to_string(seq) + " follows record " +
                     std::to_string(read.records.back().seq);
      return read;
    }
    read.records.push_back(JournalRecord{seq, payload});
    at += kJournalRecordHead + size;
    read.good_bytes = at;
  }
  read.used_bytes = std::max(written, read.good_bytes);
  read.complete = true;
  return read;
}

bool RecordFollows(std::string_view bytes, size_t from, uint64_t after_seq) {
  for (size_t at = from; at < bytes.size() && bytes.size() - at >= kJournalRecordHead; ++at) {
    const uint64_t size = GetFixed(bytes, at, 4);
    const uint64_t seq = GetFixed(bytes, at + 8, 8);
    if (seq <= after_seq || seq - after_seq > 1'000'000) continue;
    if (size > bytes.size() - at - kJournalRecordHead) continue;
    const auto crc = static_cast<uint32_t>(GetFixed(bytes, at + 4, 4));
    if (Crc(seq, bytes.substr(at + kJournalRecordHead, size)) == crc) return true;
  }
  return false;
}

std::string JournalSegmentPath(const std::string& ledger_path, uint64_t first_seq) {
  std::string digits = std::to_string(first_seq);
  return ledger_path + ".changes-" + std::string(kSeqDigits - digits.size(), '0') + digits;
}

Result<std::vector<JournalSegmentFile>> ListJournalSegments(const std::string& ledger_path) {
  const std::string folder = LedgerFolder(ledger_path);
  const std::string prefix = SegmentPrefix(ledger_path);
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) {
    return Error{"storage_error",
                 "cannot list the folder '" + folder + "': " + std::strerror(errno)};
  }
  std::vector<JournalSegmentFile> segments;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.size() != prefix.size() + kSeqDigits || name.substr(0, prefix.size()) != prefix) {
      continue;
    }
    std::string_view digits = name.substr(prefix.size());
    uint64_t first = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), first);
    if (error != std::errc() || end != digits.data() + digits.size()) continue;
    segments.push_back(JournalSegmentFile{JournalSegmentPath(ledger_path, first), first});
  }
  ::closedir(dir);
  std::sort(segments.begin(), segments.end(),
            [](const auto& a, const auto& b) { return a.first_seq < b.first_seq; });
  return segments;
}

Result<std::string> ReadJournalSegment(const std::string& path, bool missing_is_empty) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && missing_is_empty) return std::string();
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    return Error{"storage_error",
                 "cannot read the change journal '" + path + "': " + std::strerror(error)};
  }
  const auto size = static_cast<uint64_t>(info.st_size);
  // The writer begins a new segment once one holds kJournalSegmentBytes: the last record
  // written can take it past that by one record at most.
  if (size > kJournalSegmentBytes + kJournalRecordHead + kJournalMaxPayload) {
    ::close(fd);
    return Error{"damaged_journal",
                 "it holds " + std::to_string(size) + " bytes, more than a segment can"};
  }
  std::string bytes(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t got = ::read(fd, bytes.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

Result<uint64_t> CountUnfoldedRecords(const std::string& ledger_path, uint64_t folded_seq) {
  Result<std::vector<JournalSegmentFile>> segments = ListJournalSegments(ledger_path);
  if (!segments.ok()) return segments.error();
  uint64_t unfolded = 0;
  for (const JournalSegmentFile& segment : *segments) {
    Result<std::string> bytes = ReadJournalSegment(segment.path, /*missing_is_empty=*/true);
    if (!bytes.ok()) return bytes.error();
    for (const JournalRecord& record : ParseJournalSegment(*bytes).records) {
      if (record.seq > folded_seq) ++unfolded;
    }
  }
  return unfolded;
}

JournalWriter::Segment::~Segment() { ::close(fd); }

JournalWriter::JournalWriter(std::string ledger_path, Durability durability)
    : ledger_path_(std::move(ledger_path)), durability_(durability) {
  // A prepared segment a crash left behind is never used (only one this writer prepared is
  // renamed into place): its space goes back now rather than at the next clean stop.
  ::unlink(SparePath(ledger_path_).c_str());
}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard<std::mutex> lock(spare_mutex_);
    spare_stop_ = true;
  }
  spare_wake_.notify_all();
  if (spare_thread_.joinable()) spare_thread_.join();
  ::unlink(SparePath(ledger_path_).c_str());
}

Status JournalWriter::Broken() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (broken_) return *broken_;
  return Status::Ok();
}

Error JournalWriter::Break(const Error& error, bool taken_back) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!broken_) {
    broken_ = Error{error.code,
                    error.message +
                        (taken_back ? "" : " (and the unfinished record could not be removed)") +
                        "; every later change is refused until the agent restarts"};
  }
  return error;
}

int JournalWriter::TakePrepared(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(spare_mutex_);
    if (spare_ != Spare::kReady) return -1;
    spare_ = Spare::kNone;
    spare_ready_ = false;
  }
  const std::string spare = SparePath(ledger_path_);
  if (::rename(spare.c_str(), path.c_str()) != 0) {
    ::unlink(spare.c_str());
    return -1;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) ::unlink(path.c_str());
  return fd;
}

Status JournalWriter::Begin(uint64_t first_seq) {
  // The records of the segment that gives way are synced before the next one takes records (a
  // sync syncs the open segment only).
  if (open_ && durability_ == Durability::kPowerLoss) {
    std::lock_guard<std::mutex> syncing(sync_mutex_);
    if (::fdatasync(open_->fd) != 0) {
      return Break(Error{"storage_error",
                         std::string("cannot sync the change journal: ") + std::strerror(errno)},
                   /*taken_back=*/true);
    }
  }
  std::string path = JournalSegmentPath(ledger_path_, first_seq);
  int fd = TakePrepared(path);
  const bool prepared = fd >= 0;
  Status status = Status::Ok();
  if (!prepared) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Error{"storage_error",
                   "cannot create the change journal '" + path + "': " + std::strerror(errno)};
    }
    status = WriteAt(fd, kJournalMagic, 0);
  }
  if (status.ok() && durability_ == Durability::kPowerLoss) status = SyncFolder(path);
  if (!status.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return status;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (open_) closed_.push_back(Closed{open_path_, last_seq_});
  open_ = std::make_shared<Segment>(fd, prepared);
  open_path_ = std::move(path);
  size_ = kJournalMagic.size();
  spare_wanted_ = false;
  return Status::Ok();
}

Status JournalWriter::Write(uint64_t seq, std::string_view record) {
  if (Status broken = Broken(); !broken.ok()) return broken;
  // A growing segment gives way as soon as a prepared one is ready.
  if (!open_ || size_ >= kJournalSegmentBytes || (!open_->prepared && spare_ready_)) {
    if (Status begun = Begin(seq); !begun.ok()) return begun;
  }
  if (Status written = WriteAt(open_->fd, record, size_); !written.ok()) {
    // Whatever part of the record reached the file goes: a later record must follow the last
    // one written. A prepared segment keeps its size: the part is zeroed again (up to where
    // the prepared zeros end, the file's own end beyond).
    bool taken_back = false;
    if (open_->prepared && size_ < kJournalPreparedBytes) {
      const size_t zeroed = std::min(record.size(), kJournalPreparedBytes - size_);
      taken_back = WriteAt(open_->fd, std::string(zeroed, '\0'), size_).ok() &&
                   (zeroed == record.size() ||
                    ::ftruncate(open_->fd, static_cast<off_t>(kJournalPreparedBytes)) == 0);
    } else {
      taken_back = ::ftruncate(open_->fd, static_cast<off_t>(size_)) == 0;
    }
    if (!taken_back) return Break(written.error(), /*taken_back=*/false);
    return written;
  }
  size_ += record.size();
  last_seq_ = seq;
  if (!spare_wanted_ && size_ >= kJournalPrepareAfter && durability_ == Durability::kPowerLoss) {
    WantPrepared();
  }
  return Status::Ok();
}

void JournalWriter::WantPrepared() {
  spare_wanted_ = true;  // one try per segment: a failure (a full disk) is not retried at once
  {
    std::lock_guard<std::mutex> lock(spare_mutex_);
    if (spare_ != Spare::kNone || spare_stop_) return;
    spare_ = Spare::kWanted;
  }
  if (!spare_thread_.joinable()) {
    try {
      spare_thread_ = std::thread([this] {
        NameThisThread("journal-prep");
        LowerThisThreadsPriority(19);  // when it lags, a growing segment serves meanwhile
        Prepare();
      });
    } catch (const std::system_error&) {
      // No thread to be had (out of them): segments grow as they did, the record is written.
      std::lock_guard<std::mutex> lock(spare_mutex_);
      spare_ = Spare::kNone;
      return;
    }
  }
  spare_wake_.notify_one();
}

void JournalWriter::Prepare() {
  std::unique_lock<std::mutex> lock(spare_mutex_);
  for (;;) {
    spare_wake_.wait(lock, [&] { return spare_stop_ || spare_ == Spare::kWanted; });
    if (spare_stop_) return;
    lock.unlock();
    const bool ready = WriteSpare();
    lock.lock();
    if (spare_ == Spare::kWanted) spare_ = ready ? Spare::kReady : Spare::kNone;
    spare_ready_ = spare_ == Spare::kReady;
    spare_wake_.notify_all();
  }
}

bool JournalWriter::WriteSpare() {
  const std::string path = SparePath(ledger_path_);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  // In slices, each on its way to the disk before the next is written: the zeros never stand
  // in front of the journal's own syncs as one large write-back.
  constexpr size_t kSlice = size_t{1} << 20;
  const std::string zeros(kSlice, '\0');
  bool ok = WriteAt(fd, kJournalPreparedMagic, 0).ok();
  for (size_t at = kJournalPreparedMagic.size(); ok && at < kJournalPreparedBytes;) {
    const size_t length = std::min(kSlice, kJournalPreparedBytes - at);
    ok = WriteAt(fd, std::string_view(zeros).substr(0, length), at).ok() &&
         ::sync_file_range(
             fd, static_cast<off_t>(at), static_cast<off_t>(length),
             SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) == 0;
    at += length;
    std::lock_guard<std::mutex> lock(spare_mutex_);
    if (spare_stop_) ok = false;
  }
  // Its size and blocks for good: an append into it changes no metadata.
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) ::unlink(path.c_str());
  return ok;
}

bool JournalWriter::WaitForPreparedForTest() {
  std::unique_lock<std::mutex> lock(spare_mutex_);
  spare_wake_.wait(lock, [&] { return spare_stop_ || spare_ != Spare::kWanted; });
  return spare_ == Spare::kReady;
}

Status JournalWriter::Sync() {
  if (durability_ != Durability::kPowerLoss) return Status::Ok();
  // One fdatasync at a time: the kernel reports a failed write-back to one of two syncs of a
  // file only, and the other must not take its success for the records' safety.
  std::lock_guard<std::mutex> syncing(sync_mutex_);
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return *broken_;
    segment = open_;
  }
  // A record written before this call is in this segment, or in one synced when it gave way.
  if (segment && ::fdatasync(segment->fd) != 0) {
    return Break(Error{"storage_error",
                       std::string("cannot sync the change journal: ") + std::strerror(errno)},
                 /*taken_back=*/true);
  }
  return Broken();  // a failure the writer's sync of a full segment saw counts here too
}

std::vector<std::string> JournalWriter::TakeFolded(uint64_t folded_seq) {
  std::vector<std::string> folded;
  std::lock_guard<std::mutex> lock(mutex_);
  auto kept = std::remove_if(closed_.begin(), closed_.end(), [&](const Closed& closed) {
    if (closed.last_seq > folded_seq) return false;
    folded.push_back(closed.path);
    return true;
  });
  closed_.erase(kept, closed_.end());
  return folded;
}

void JournalWriter::RemoveAll() {
  for (const std::string& path : TakeFolded(UINT64_MAX)) ::unlink(path.c_str());

  std::lock_guard<std::mutex> lock(mutex_);
  if (open_) {
    open_.reset();
    ::unlink(open_path_.c_str());
  }
}

}  // namespace presence::tracking
