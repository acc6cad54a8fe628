// The change journal (tracking/sqlite/change_journal.h) and the ledger behind it
// (journaled_time_store.h): a commit is durable once journaled, a start replays exactly what the
// tables lack, an unfinished append is left out, damage is refused with the file named, and the
// fold's back-pressure holds when the ledger cannot be written.

#include "tracking/sqlite/change_journal.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include "tests/fakes/temp_dir.h"
#include "tests/tracking/store_test_support.h"
#include "tracking/sqlite/journaled_time_store.h"
#include "tracking/sqlite/sqlite_store.h"
#include "tracking/varint.h"

namespace tt = boost::test_tools;

namespace presence::tracking::test {
namespace {

CommitBatch SampleBatch() {
  CommitBatch batch;
  batch.changes.push_back(MakeChange("alice", "2026-11-21T09:00:00Z", "Lunch"));
  Change odd = MakeChange("b\xc3\xb6rje \"x\"\n", "1969-12-31T23:59:59.999Z", "Ready");
  odd.from_label = "";
  odd.cause = std::string("nul\0inside", 10);
  odd.source = Source::kPbx;
  batch.changes.push_back(odd);
  batch.agents.push_back({"alice", std::string(3000, 's')});
  batch.agents.push_back({"", ""});
  OutboxItem item;
  item.id = 42;
  item.connector = "teams";
  item.change = MakeChange("alice", "2026-11-21T09:00:00Z", "Lunch");
  item.change.from_label = "Ready";
  item.payload = "{\"dial\":\"*61\"}";
  batch.outbox.push_back(item);
  return batch;
}

std::string Text(const CommitBatch& batch) {
  std::string text;
  for (const Change& c : batch.changes) {
    text += c.agent + "|" + FormatTime(c.at) + "|" + c.from_label + "|" + c.label + "|" +
            c.reason_code + "|" + std::to_string(reasoncodes::ToInt(c.status)) + "|" +
            std::string(reasoncodes::SourceName(c.source)) + "|" + c.cause + "\n";
  }
  for (const AgentRecord& a : batch.agents)
    text += "agent " + a.agent + "=" + a.engine_state + "\n";
  for (const OutboxItem& o : batch.outbox) {
    text += "outbox " + std::to_string(o.id) + " " + o.connector + " " + o.change.agent + " " +
            o.change.from_label + ">" + o.change.label + " " + o.payload + "\n";
  }
  return text;
}

std::string Record(uint64_t seq, const CommitBatch& batch) {
  std::string payload;
  EncodeCommitBatch(batch, payload);
  std::string record;
  AppendJournalRecord(seq, payload, record);
  return record;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::unique_ptr<TimeStore> OpenOrThrow(const std::string& path,
                                       std::vector<std::string>* log = nullptr,
                                       Durability durability = Durability::kPowerLoss) {
  LedgerOptions options{.durability = durability};
  if (log) options.log = [log](LogLevel, std::string_view line) { log->emplace_back(line); };
  auto opened = OpenSqliteTimeStore(path, options);
  if (!opened.ok()) throw std::runtime_error(opened.error().code + ": " + opened.error().message);
  return std::move(*opened);
}

JournaledTimeStore& Journaled(TimeStore& store) { return dynamic_cast<JournaledTimeStore&>(store); }

std::vector<JournalSegmentFile> Segments(const std::string& path) {
  auto segments = ListJournalSegments(path);
  if (!segments.ok()) throw std::runtime_error(segments.error().message);
  return *segments;
}

// Commits `count` one-change batches for user a, an hour apart from 2026-11-21T00:00Z on.
void CommitHours(TimeStore& store, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    const std::string label = i % 2 == 0 ? "Ready" : "Lunch";
    std::string failed = CommitText(
        store, {MakeChangeAt("a", T("2026-11-21T00:00:00Z") + std::chrono::hours(i), label)},
        {{"a", "state " + std::to_string(i)}});
    if (!failed.empty()) throw std::runtime_error(failed);
  }
}

// "ids 1..n, a's intervals back to back from 00:00, one per hour, last one open".
void CheckHours(TimeStore& store, int count) {
  std::vector<Interval> intervals = IntervalsOrThrow(
      store, std::string("a"), T("2026-11-20T00:00:00Z"), T("2026-12-31T00:00:00Z"));
  BOOST_TEST_REQUIRE(intervals.size() == static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    BOOST_TEST(intervals[i].id == i + 1);
    BOOST_TEST(FormatTime(intervals[i].start) ==
               FormatTime(T("2026-11-21T00:00:00Z") + std::chrono::hours(i)));
    BOOST_TEST(intervals[i].end.has_value() == (i + 1 < count));
  }
  auto agents = store.LoadAgents();
  BOOST_TEST_REQUIRE(agents.ok());
  BOOST_TEST_REQUIRE(agents->size() == 1u);
  BOOST_TEST(agents->front().engine_state == "state " + std::to_string(count - 1));
}

// Commits `hours` (CommitHours) that reach only the journal, and leaves the store as a killed
// process would; returns the journal's one segment file.
std::string CommitOnlyToTheJournal(const std::string& path, int hours) {
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  Journaled(*store).StopFoldingForTest();
  CommitHours(*store, 0, hours);
  return Segments(path).at(0).path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(change_journal_test)

BOOST_AUTO_TEST_CASE(a_batch_reads_back_as_it_was_written) {
  const CommitBatch batch = SampleBatch();
  std::string payload;
  EncodeCommitBatch(batch, payload);
  Result<CommitBatch> read = DecodeCommitBatch(payload);
  BOOST_TEST_REQUIRE(read.ok(), (read.ok() ? "" : read.error().message));
  BOOST_TEST(Text(*read) == Text(batch));
  BOOST_TEST(ToEpochMillis(read->changes[1].at) == -1);
  BOOST_TEST(read->changes[1].cause.size() == 10u);
  std::string again;
  EncodeCommitBatch(*read, again);
  BOOST_TEST(again == payload);
}

BOOST_AUTO_TEST_CASE(every_cut_and_a_trailing_byte_are_refused) {
  std::string payload;
  EncodeCommitBatch(SampleBatch(), payload);
  for (size_t size = 0; size < payload.size(); ++size) {
    Result<CommitBatch> read = DecodeCommitBatch(std::string_view(payload).substr(0, size));
    BOOST_TEST_REQUIRE(!read.ok(), "cut at " << size);
    BOOST_TEST(read.error().code == "damaged_journal");
  }
  Result<CommitBatch> longer = DecodeCommitBatch(payload + "x");
  BOOST_TEST_REQUIRE(!longer.ok());
  BOOST_TEST(longer.error().message.find("left over") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_absurd_count_is_refused_without_reserving_for_it) {
  // 2^62 changes claimed by a payload of eleven bytes.
  std::string payload;
  PutVarint(payload, uint64_t{1} << 62);
  Result<CommitBatch> read = DecodeCommitBatch(payload);
  BOOST_TEST_REQUIRE(!read.ok());
  BOOST_TEST(read.error().message.find("count exceeds") != std::string::npos, read.error().message);
}

BOOST_AUTO_TEST_CASE(a_segment_reads_up_to_an_unfinished_append_or_damage) {
  const std::string first = Record(7, SampleBatch());
  const std::string second = Record(8, SampleBatch());
  const std::string file = std::string(kJournalMagic) + first + second;
  JournalSegmentRead whole = ParseJournalSegment(file);
  BOOST_TEST(whole.complete);
  BOOST_TEST_REQUIRE(whole.records.size() == 2u);
  BOOST_TEST(whole.records[1].seq == 8u);

  // Any cut inside the second record: the first stays, the rest is an unfinished append.
  for (size_t cut = kJournalMagic.size() + first.size() + 1; cut < file.size(); ++cut) {
    JournalSegmentRead read = ParseJournalSegment(std::string_view(file).substr(0, cut));
    BOOST_TEST_REQUIRE(read.records.size() == 1u, "cut at " << cut);
    BOOST_TEST(read.cut_short);
    BOOST_TEST(read.problem.empty());
    BOOST_TEST(read.good_bytes == kJournalMagic.size() + first.size());
  }
  // A flipped bit in the first record's payload: its checksum fails.
  std::string flipped = file;
  flipped[kJournalMagic.size() + kJournalRecordHead + 3] ^= 0x10;
  JournalSegmentRead damaged = ParseJournalSegment(flipped);
  BOOST_TEST(damaged.records.empty());
  BOOST_TEST(damaged.problem.find("checksum") != std::string::npos, damaged.problem);
  // A record out of sequence.
  JournalSegmentRead gap = ParseJournalSegment(std::string(kJournalMagic) + first + Record(9, {}));
  BOOST_TEST(gap.records.size() == 1u);
  BOOST_TEST(gap.problem.find("follows record 7") != std::string::npos, gap.problem);
  // Not a journal at all.
  BOOST_TEST(!ParseJournalSegment("SQLite format 3").problem.empty());
  BOOST_TEST(ParseJournalSegment(kJournalMagic.substr(0, 3)).cut_short);
}

BOOST_AUTO_TEST_CASE(a_record_carries_the_crc_32_that_earlier_versions_wrote) {
  // Written by the version that used Boost's crc_32_type: the same CRC-32 must read it.
  std::string record;
  AppendJournalRecord(1, "abc", record);
  const std::string expected(
      "\x03\x00\x00\x00"                  // size
      "\xfc\xf6\x6c\x60"                  // CRC-32 of the seq's 8 bytes, then the payload
      "\x01\x00\x00\x00\x00\x00\x00\x00"  // seq
      "abc",
      19);
  BOOST_TEST(record == expected);
  const std::string file = std::string(kJournalMagic) + expected;  // the records point into it
  JournalSegmentRead read = ParseJournalSegment(file);
  BOOST_TEST(read.complete);
  BOOST_TEST_REQUIRE(read.records.size() == 1u);
  BOOST_TEST(read.records[0].payload == "abc");
}

BOOST_AUTO_TEST_CASE(a_prepared_segment_reads_up_to_its_zeros_and_a_write_cut_off_in_them) {
  const std::string first = Record(7, SampleBatch());
  const std::string second = Record(8, SampleBatch());
  const std::string used = std::string(kJournalPreparedMagic) + first + second;
  const std::string zeros(4096, '\0');
  JournalSegmentRead whole = ParseJournalSegment(used + zeros);
  BOOST_TEST(whole.complete);
  BOOST_TEST(whole.problem.empty());
  BOOST_TEST_REQUIRE(whole.records.size() == 2u);
  BOOST_TEST(whole.records[1].seq == 8u);
  BOOST_TEST(whole.used_bytes == used.size());
  BOOST_TEST(ParseJournalSegment(std::string(kJournalPreparedMagic) + zeros).complete);

  // A write of the second record cut off anywhere (its rest still the prepared zeros): the
  // first stays, the second is an append that never finished.
  const size_t second_at = kJournalPreparedMagic.size() + first.size();
  for (size_t cut = second_at + 1; cut < used.size(); ++cut) {
    std::string torn = used + zeros;
    std::fill(torn.begin() + static_cast<std::ptrdiff_t>(cut), torn.end(), '\0');
    JournalSegmentRead read = ParseJournalSegment(torn);
    BOOST_TEST_REQUIRE(read.records.size() == 1u, "cut at " << cut);
    // Nothing of it written but zeros: that is the unused rest.
    const bool nothing = torn.find_first_not_of('\0', second_at) == std::string::npos;
    BOOST_TEST(read.cut_short == !nothing, "cut at " << cut);
    BOOST_TEST(read.complete == nothing, "cut at " << cut);
    BOOST_TEST(read.problem.empty(), read.problem);
    BOOST_TEST(read.good_bytes == kJournalPreparedMagic.size() + first.size());
  }
  // Damage in the first record, with a whole one after it: not a write cut off.
  std::string flipped = used + zeros;
  flipped[kJournalPreparedMagic.size() + kJournalRecordHead + 3] ^= 0x10;
  JournalSegmentRead damaged = ParseJournalSegment(flipped);
  BOOST_TEST(damaged.records.empty());
  BOOST_TEST(!damaged.cut_short);
  BOOST_TEST(damaged.problem.find("checksum") != std::string::npos, damaged.problem);
  // Zeros where a record should begin, and bytes after them: not the unused rest, but a sync
  // whose first sectors never landed (its later ones did).
  JournalSegmentRead gap = ParseJournalSegment(used + zeros + "x" + zeros);
  BOOST_TEST(gap.records.size() == 2u);
  BOOST_TEST(!gap.complete);
  BOOST_TEST(gap.unlanded);
  BOOST_TEST(gap.problem.empty(), gap.problem);
  // A segment of the first kind has no unused rest: zeros after its records are damage.
  JournalSegmentRead plain = ParseJournalSegment(std::string(kJournalMagic) + first + zeros);
  BOOST_TEST(plain.records.size() == 1u);
  BOOST_TEST(!plain.complete);
  BOOST_TEST(!plain.problem.empty());
}

BOOST_AUTO_TEST_CASE(a_sector_of_a_prepared_segment_that_never_landed_ends_its_records_there) {
  // One fdatasync wrote records 8 and 9 (3 KiB each); a power cut kept 9's sectors and not all
  // of 8's. Neither was acknowledged: the read stops at 8 without calling it damage.
  const std::string seventh = Record(7, SampleBatch());
  const std::string eighth = Record(8, SampleBatch());
  const std::string ninth = Record(9, SampleBatch());
  const size_t eighth_at = kJournalPreparedMagic.size() + seventh.size();
  const std::string file =
      std::string(kJournalPreparedMagic) + seventh + eighth + ninth + std::string(4096, '\0');
  const size_t sector = (eighth_at + 511) / 512 * 512 + 512;  // a whole sector inside 8
  BOOST_TEST_REQUIRE(sector + 512 <= eighth_at + eighth.size());
  std::string hole = file;
  std::fill_n(hole.begin() + static_cast<std::ptrdiff_t>(sector), 512, '\0');
  std::string headless = file;
  std::fill_n(headless.begin() + static_cast<std::ptrdiff_t>(eighth_at), kJournalRecordHead, '\0');
  for (const std::string* torn : {&hole, &headless}) {
    JournalSegmentRead read = ParseJournalSegment(*torn);
    BOOST_TEST_REQUIRE(read.records.size() == 1u);
    BOOST_TEST(read.records[0].seq == 7u);
    BOOST_TEST(read.unlanded);
    BOOST_TEST(read.cut_short);
    BOOST_TEST(read.problem.empty(), read.problem);
    BOOST_TEST(read.good_bytes == eighth_at);
  }
  // A flipped bit in 8 leaves no zeros: damage in front of record 9.
  std::string flipped = file;
  flipped[eighth_at + kJournalRecordHead + 100] ^= 0x04;
  JournalSegmentRead damaged = ParseJournalSegment(flipped);
  BOOST_TEST(damaged.records.size() == 1u);
  BOOST_TEST(!damaged.unlanded);
  BOOST_TEST(damaged.problem.find("checksum") != std::string::npos, damaged.problem);
  // The same hole in a segment of the first kind is damage: its appends land whole or not at
  // all (the file's size commits after their data).
  std::string plain = std::string(kJournalMagic) + seventh + eighth + ninth;
  std::fill_n(plain.begin() + static_cast<std::ptrdiff_t>(sector), 512, '\0');
  JournalSegmentRead old_kind = ParseJournalSegment(plain);
  BOOST_TEST(!old_kind.unlanded);
  BOOST_TEST(!old_kind.problem.empty());
}

// Commits `count` one-change batches for user a, a minute apart, each with a 64 KiB engine
// state: the journal then holds kJournalPrepareAfter after about 16.
void CommitLarge(TimeStore& store, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    std::string failed = CommitText(
        store, {MakeChangeAt("a", T("2026-11-21T00:00:00Z") + std::chrono::minutes(i), "Ready")},
        {{"a", std::string(64 * 1024, 'e') + std::to_string(i)}});
    if (!failed.empty()) throw std::runtime_error(failed);
  }
}

BOOST_AUTO_TEST_CASE(a_prepared_segment_takes_over_and_its_commits_survive_a_kill) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  std::string prepared;
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);  // power_loss
    Journaled(*store).StopFoldingForTest();
    CommitLarge(*store, 0, 20);  // past kJournalPrepareAfter: the next segment is prepared
    BOOST_TEST_REQUIRE(Journaled(*store).WaitForPreparedSegmentForTest());
    BOOST_TEST(Segments(path).size() == 1u);  // ready, and not a segment yet
    CommitLarge(*store, 20, 3);               // the growing segment gives way to it
    std::vector<JournalSegmentFile> segments = Segments(path);
    BOOST_TEST_REQUIRE(segments.size() == 2u);
    BOOST_TEST(segments[1].first_seq == 21u);
    prepared = segments[1].path;
    const std::string bytes = ReadFile(prepared);
    BOOST_TEST(bytes.size() == kJournalPreparedBytes);  // written into, not grown
    BOOST_TEST(bytes.substr(0, kJournalPreparedMagic.size()) == kJournalPreparedMagic);
    JournalSegmentRead read = ParseJournalSegment(bytes);
    BOOST_TEST(read.complete);
    BOOST_TEST(read.records.size() == 3u);
  }  // killed: nothing folded
  // Half a record more in the prepared segment's zeros, as a write cut off by a power cut.
  CommitBatch next;
  next.changes.push_back(MakeChange("a", "2026-11-22T00:00:00Z", "Lunch"));
  std::string bytes = ReadFile(prepared);
  const size_t used = ParseJournalSegment(bytes).used_bytes;
  const std::string record = Record(24, next);
  bytes.replace(used, record.size() / 2, record.substr(0, record.size() / 2));
  WriteFile(prepared, bytes);
  {
    // First a hole: the last record but one lost a sector (a power cut during their sync);
    // the last one landed. The start takes everything before the hole.
    std::string holed = bytes;
    const JournalSegmentRead read = ParseJournalSegment(bytes);
    BOOST_TEST_REQUIRE(read.records.size() == 3u);  // 21, 22, 23
    const size_t second_last = static_cast<size_t>(read.records[1].payload.data() - bytes.data());
    const size_t sector = (second_last + 511) / 512 * 512 + 512;
    std::fill_n(holed.begin() + static_cast<std::ptrdiff_t>(sector), 512, '\0');
    testing::TempDir copy;
    const std::string copied = copy.File("ledger.db");
    std::filesystem::copy_file(path, copied);
    for (const JournalSegmentFile& segment : Segments(path)) {
      WriteFile(JournalSegmentPath(copied, segment.first_seq),
                segment.path == prepared ? holed : ReadFile(segment.path));
    }
    std::vector<std::string> log;
    std::unique_ptr<TimeStore> store = OpenOrThrow(copied, &log);
    BOOST_TEST_REQUIRE(log.size() == 2u);
    BOOST_TEST(log[0].find("ends in an append that did not finish") != std::string::npos, log[0]);
    BOOST_TEST(log[1].find("took 21 changes from its change journal") != std::string::npos, log[1]);
  }
  std::vector<std::string> log;
  std::unique_ptr<TimeStore> store = OpenOrThrow(path, &log);
  BOOST_TEST_REQUIRE(log.size() == 2u);
  BOOST_TEST(log[0].find("ends in an append that did not finish (" +
                         std::to_string(record.size() / 2) + " bytes") != std::string::npos,
             log[0]);
  BOOST_TEST(log[1].find("took 23 changes from its change journal") != std::string::npos, log[1]);
  BOOST_TEST(Segments(path).empty());
  BOOST_TEST(!std::filesystem::exists(prepared + ".unfinished"));  // cut short: nothing kept
  std::vector<Interval> intervals = IntervalsOrThrow(
      *store, std::string("a"), T("2026-11-20T00:00:00Z"), T("2026-12-31T00:00:00Z"));
  BOOST_TEST(intervals.size() == 23u);
  auto agents = store->LoadAgents();
  BOOST_TEST_REQUIRE(agents.ok());
  BOOST_TEST(agents->front().engine_state == std::string(64 * 1024, 'e') + "22");
}

BOOST_AUTO_TEST_CASE(a_prepared_segment_a_crash_left_is_deleted_at_the_start) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  WriteFile(path + ".changes-next", std::string(kJournalPreparedMagic) + std::string(4096, '\0'));
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  BOOST_TEST(!std::filesystem::exists(path + ".changes-next"));
  BOOST_TEST(Segments(path).empty());  // never taken for a segment
}

BOOST_AUTO_TEST_CASE(commits_journaled_but_not_folded_are_replayed_once_at_the_next_start) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    CommitHours(*store, 0, 3);
    SettleOrThrow(*store);  // 3 in the tables
    Journaled(*store).StopFoldingForTest();
    CommitHours(*store, 3, 4);  // 4 only in the journal: as if killed now
    BOOST_TEST(Segments(path).size() == 1u);
  }
  {
    SQLite::Database file(path, SQLite::OPEN_READONLY);
    BOOST_TEST(file.execAndGet("SELECT COUNT(*) FROM intervals").getInt() == 3);
  }
  std::vector<std::string> log;
  std::unique_ptr<TimeStore> store = OpenOrThrow(path, &log);
  BOOST_TEST(Segments(path).empty());
  BOOST_TEST_REQUIRE(log.size() == 1u);
  BOOST_TEST(log[0].find("took 4 changes from its change journal") != std::string::npos, log[0]);
  CheckHours(*store, 7);
  // The store carries on, its sequence after the replayed records.
  CommitHours(*store, 7, 2);
  store.reset();
  store = OpenOrThrow(path);
  CheckHours(*store, 9);
}

// The fold writes an interval its batch also closes as closed, in one row: a replayed batch
// whose changes of a user go back in time (a journal not written by the agent) is refused with
// what is wrong, and nothing of it reaches the tables.
BOOST_AUTO_TEST_CASE(a_journal_whose_changes_go_back_in_time_refuses_the_start) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  const std::string segment = CommitOnlyToTheJournal(path, 2);  // a at 00:00 and 01:00
  CommitBatch back;
  back.changes.push_back(MakeChangeAt("a", T("2026-11-21T00:30:00Z"), "Lunch"));
  WriteFile(segment, ReadFile(segment) + Record(3, back));
  std::string refused;
  try {
    OpenOrThrow(path);
  } catch (const std::exception& e) {
    refused = e.what();
  }
  BOOST_TEST(refused.rfind("out_of_order: ", 0) == 0u, refused);
  BOOST_TEST(refused.find("'a' at 2026-11-21T00:30:00.000Z") != std::string::npos, refused);
  BOOST_TEST(refused.find("started at 2026-11-21T01:00:00.000Z") != std::string::npos, refused);
  SQLite::Database file(path, SQLite::OPEN_READONLY);
  BOOST_TEST(file.execAndGet("SELECT COUNT(*) FROM intervals").getInt() == 0);
}

BOOST_AUTO_TEST_CASE(an_unfinished_append_is_left_out_with_a_warning) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  const std::string segment = CommitOnlyToTheJournal(path, 2);
  // Half a record more, as a process killed in the middle of its append leaves it.
  CommitBatch next;
  next.changes.push_back(MakeChange("a", "2026-11-21T05:00:00Z", "Lunch"));
  std::string record = Record(3, next);
  WriteFile(segment, ReadFile(segment) + record.substr(0, record.size() / 2));
  std::vector<std::string> log;
  std::unique_ptr<TimeStore> store = OpenOrThrow(path, &log);
  BOOST_TEST_REQUIRE(log.size() == 2u);
  BOOST_TEST(log[0].find("ends in an append that did not finish") != std::string::npos, log[0]);
  BOOST_TEST(log[0].find(segment) != std::string::npos, log[0]);
  CheckHours(*store, 2);
}

BOOST_AUTO_TEST_CASE(damage_before_the_last_record_or_a_missing_record_refuses_the_start) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  const std::string segment = CommitOnlyToTheJournal(path, 3);
  const std::string good = ReadFile(segment);
  // The first record's payload damaged: the two after it cannot be trusted to follow.
  std::string damaged = good;
  damaged[kJournalMagic.size() + kJournalRecordHead + 2] ^= 0x01;
  // A second segment carrying on from record 5: records 4 is missing.
  WriteFile(segment, damaged);
  WriteFile(JournalSegmentPath(path, 5), std::string(kJournalMagic));
  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "ledger_damaged");
  BOOST_TEST(opened.error().message.find(segment) != std::string::npos, opened.error().message);
  BOOST_TEST(opened.error().message.find("checksum") != std::string::npos, opened.error().message);

  WriteFile(segment, good);
  CommitBatch fifth;
  fifth.changes.push_back(MakeChange("a", "2026-11-21T09:00:00Z", "Lunch"));
  WriteFile(JournalSegmentPath(path, 5), std::string(kJournalMagic) + Record(5, fifth));
  opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "ledger_damaged");
  BOOST_TEST(opened.error().message.find("follows record 3") != std::string::npos,
             opened.error().message);
  // Nothing was written while refusing.
  SQLite::Database file(path, SQLite::OPEN_READONLY);
  BOOST_TEST(file.execAndGet("SELECT COUNT(*) FROM intervals").getInt() == 0);
}

BOOST_AUTO_TEST_CASE(a_full_segment_gives_way_to_the_next_and_is_deleted_once_folded) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  std::unique_ptr<TimeStore> store = OpenOrThrow(path, nullptr, Durability::kProcessCrash);
  const std::string state(64 * 1024, 'e');
  const int commits = static_cast<int>(kJournalSegmentBytes / state.size()) + 8;
  for (int i = 0; i < commits; ++i) {
    std::string failed = CommitText(
        *store, {MakeChangeAt("a", T("2026-11-21T00:00:00Z") + std::chrono::minutes(i), "Ready")},
        {{"a", state}});
    BOOST_TEST_REQUIRE(failed.empty(), failed);
  }
  std::vector<JournalSegmentFile> segments = Segments(path);
  BOOST_TEST_REQUIRE(!segments.empty());
  BOOST_TEST(segments.back().first_seq > 1u);  // a second segment was begun
  SettleOrThrow(*store);
  segments = Segments(path);
  BOOST_TEST_REQUIRE(segments.size() == 1u);  // the full one went once folded
  BOOST_TEST(segments[0].first_seq > 1u);
  store.reset();
  BOOST_TEST(Segments(path).empty());  // a clean stop folds and removes the rest
  store = OpenOrThrow(path);
  BOOST_TEST(
      IntervalsOrThrow(*store, std::nullopt, T("2026-11-20T00:00:00Z"), T("2026-11-30T00:00:00Z"))
          .size() == static_cast<size_t>(commits));
}

BOOST_AUTO_TEST_CASE(a_ledger_that_cannot_be_written_stops_commits_at_the_limit_then_recovers) {
  StoreUnderTest store("sqlite");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T00:00:00Z", "Ready")}) == "");
  SettleOrThrow(*store);
  SQLite::Database other(store.path(), SQLite::OPEN_READWRITE);
  other.exec("ALTER TABLE day_aggregates RENAME TO parked");
  const size_t per_batch = 1000;
  Timestamp at = T("2026-11-21T01:00:00Z");
  std::string refused;
  size_t accepted = 0;
  while (refused.empty() && accepted <= JournaledTimeStore::kMaxUnfoldedChanges + per_batch) {
    std::vector<Change> changes;
    for (size_t i = 0; i < per_batch; ++i) {
      changes.push_back(MakeChangeAt("a", at, i % 2 ? "Lunch" : "Ready"));
      at += std::chrono::seconds(1);
    }
    refused = CommitText(*store, changes);
    if (refused.empty()) accepted += per_batch;
  }
  // Refused once the limit is reached, with the fold's reason; not before.
  BOOST_TEST(accepted >= JournaledTimeStore::kMaxUnfoldedChanges);
  BOOST_TEST(accepted < JournaledTimeStore::kMaxUnfoldedChanges + per_batch);
  BOOST_TEST(refused.rfind("storage_error: the time ledger is not being written", 0) == 0u,
             refused);
  BOOST_TEST(refused.find("day_aggregates") != std::string::npos, refused);

  other.exec("ALTER TABLE parked RENAME TO day_aggregates");
  SettleOrThrow(*store, 3);  // the retried fold goes through (one in flight may still fail)
  BOOST_TEST(IntervalsOrThrow(*store, std::string("a"), T("2026-11-20T00:00:00Z"),
                              T("2026-12-30T00:00:00Z"))
                 .size() == accepted + 1);
  BOOST_TEST(CommitText(*store, {MakeChangeAt("a", at, "Lunch")}) == "");
}

// Batches without changes (engine records only) count one each while they wait, also when a
// failed fold puts them back merged: once folded, nothing stays counted (review: each such
// batch leaked one, until commits waited for ever).
BOOST_AUTO_TEST_CASE(a_failed_fold_of_batches_without_changes_leaves_nothing_counted) {
  StoreUnderTest store("sqlite");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T00:00:00Z", "Ready")}) == "");
  SettleOrThrow(*store);
  SQLite::Database other(store.path(), SQLite::OPEN_READWRITE);
  other.exec("ALTER TABLE day_aggregates RENAME TO parked");
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"a", "s1"}}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"a", "s2"}}) == "");
  BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T01:00:00Z", "Lunch")}) == "");
  BOOST_TEST(Journaled(*store).unfolded_changes() == 3u);
  BOOST_TEST(!Journaled(*store).Settle().ok());  // folded as one, failed, put back
  BOOST_TEST_REQUIRE(CommitText(*store, {}, {{"a", "s3"}}) == "");
  BOOST_TEST(Journaled(*store).unfolded_changes() == 4u);
  other.exec("ALTER TABLE parked RENAME TO day_aggregates");
  SettleOrThrow(*store, 3);
  BOOST_TEST(Journaled(*store).unfolded_changes() == 0u);
  auto agents = store->LoadAgents();
  BOOST_TEST_REQUIRE(agents.ok());
  BOOST_TEST(agents->front().engine_state == "s3");
}

BOOST_AUTO_TEST_CASE(damage_in_front_of_a_good_record_in_the_last_segment_refuses_the_start) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  const std::string segment = CommitOnlyToTheJournal(path, 3);
  const std::string good = ReadFile(segment);
  // Record 2's payload damaged; record 3 after it is whole: not an unfinished append.
  JournalSegmentRead read = ParseJournalSegment(good);
  BOOST_TEST_REQUIRE(read.records.size() == 3u);
  std::string damaged = good;
  const size_t second = static_cast<size_t>(read.records[1].payload.data() - good.data());
  damaged[second + 1] ^= 0x04;
  WriteFile(segment, damaged);
  auto opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "ledger_damaged");
  BOOST_TEST(opened.error().message.find("record 2 fails its checksum") != std::string::npos,
             opened.error().message);
  BOOST_TEST(Segments(path).size() == 1u);  // left as it was
  // Record 2's size damaged to run past the end: it looks cut short, yet record 3 follows.
  damaged = good;
  damaged[second - kJournalRecordHead + 2] = 0x01;  // + 65,536 bytes
  WriteFile(segment, damaged);
  BOOST_TEST_REQUIRE(ParseJournalSegment(damaged).cut_short);
  opened = OpenSqliteTimeStore(path);
  BOOST_TEST_REQUIRE(!opened.ok());
  BOOST_TEST(opened.error().code == "ledger_damaged");
  BOOST_TEST(opened.error().message.find("size runs past the end") != std::string::npos,
             opened.error().message);

  // Bytes after the last record that are no record at all (a power cut in the middle of an
  // append): the records before them count, the file is kept aside for whoever looks.
  WriteFile(segment, good + std::string(40, '\x5a'));
  std::vector<std::string> log;
  std::unique_ptr<TimeStore> store = OpenOrThrow(path, &log);
  BOOST_TEST_REQUIRE(!log.empty());
  BOOST_TEST(log[0].find("kept as '" + segment + ".unfinished'") != std::string::npos, log[0]);
  BOOST_TEST(Segments(path).empty());
  BOOST_TEST(ReadFile(segment + ".unfinished").size() == good.size() + 40);
  CheckHours(*store, 3);
}

BOOST_AUTO_TEST_CASE(a_reader_refuses_commits_left_in_the_journal_only_when_no_agent_runs) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    CommitHours(*store, 0, 1);
    SettleOrThrow(*store);
    Journaled(*store).StopFoldingForTest();
    CommitHours(*store, 1, 2);
    // Beside the running writer: what it folded so far (the rest follows within moments).
    auto reader = OpenSqliteTimeStoreReadOnly(path);
    BOOST_TEST_REQUIRE(reader.ok(), (reader.ok() ? "" : reader.error().message));
    BOOST_TEST(IntervalsOrThrow(**reader, std::nullopt, T("2026-11-20T00:00:00Z"),
                                T("2026-11-30T00:00:00Z"))
                   .size() == 1u);
  }
  // The writer is gone (as if killed) with two commits only in the journal.
  auto refused = OpenSqliteTimeStoreReadOnly(path);
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == "ledger_not_folded");
  BOOST_TEST(
      refused.error().message.find("lacks its last 2 acknowledged commits") != std::string::npos,
      refused.error().message);
  OpenOrThrow(path).reset();  // a start writes them in
  auto reader = OpenSqliteTimeStoreReadOnly(path);
  BOOST_TEST_REQUIRE(reader.ok());
  CheckHours(**reader, 3);
}

// The order check knows each user's latest change, waiting for the fold or folded, and right
// after a start (from the open intervals the ledger holds); a refused batch moves nothing.
BOOST_AUTO_TEST_CASE(a_change_before_the_latest_is_refused_folded_or_not) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto refused = [](TimeStore& store, const std::string& at) {
    std::string failed = CommitText(store, {MakeChange("a", at, "Lunch")});
    return failed.rfind("out_of_order: ", 0) == 0;
  };
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T10:00:00Z", "Ready")}) ==
                       "");
    BOOST_TEST(refused(*store, "2026-11-21T09:59:59.999Z"));  // waiting for the fold
    SettleOrThrow(*store);
    BOOST_TEST(refused(*store, "2026-11-21T09:59:59.999Z"));  // folded
    BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T11:00:00Z", "Ready")}) ==
                       "");
    BOOST_TEST(refused(*store, "2026-11-21T10:30:00Z"));
  }
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  BOOST_TEST(refused(*store, "2026-11-21T10:59:00Z"));  // after a start
  BOOST_TEST(CommitText(*store, {MakeChange("a", "2026-11-21T11:00:00Z", "Lunch")}) == "");
  // Its 12:00 change does not count: the batch is refused for its second.
  const std::string second_earlier =
      CommitText(*store, {MakeChange("a", "2026-11-21T12:00:00Z", "Ready"),
                          MakeChange("a", "2026-11-21T11:30:00Z", "Lunch")});
  BOOST_TEST(second_earlier.rfind("out_of_order: ", 0) == 0u, second_earlier);
  BOOST_TEST(CommitText(*store, {MakeChange("a", "2026-11-21T11:45:00Z", "Ready")}) == "");
  BOOST_TEST(refused(*store, "2026-11-21T11:44:00Z"));
  BOOST_TEST(
      IntervalsOrThrow(*store, std::nullopt, T("2026-11-21T00:00:00Z"), T("2026-11-22T00:00:00Z"))
          .size() == 4u);
}

// A row naming an open interval the ledger lacks, or has closed (an edit from outside; the
// writer keeps foreign keys on), is reported at start-up, and the user's next change opens a new
// interval rather than closing someone else's or failing the fold.
BOOST_AUTO_TEST_CASE(a_row_naming_a_lost_open_interval_is_reported_and_the_next_change_goes_on) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    BOOST_TEST_REQUIRE(CommitText(*store, {MakeChange("a", "2026-11-21T10:00:00Z", "Ready"),
                                           MakeChange("b", "2026-11-21T10:00:00Z", "Ready"),
                                           MakeChange("c", "2026-11-21T10:00:00Z", "Ready")}) ==
                       "");
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE agents SET open_interval_id = 999 WHERE agent = 'a'");
    db.exec("UPDATE intervals SET end_ms = start_ms + 60000 WHERE agent = 'b'");
  }
  std::vector<std::string> log;
  std::unique_ptr<TimeStore> store = OpenOrThrow(path, &log);
  BOOST_REQUIRE_EQUAL(log.size(), 1u);
  BOOST_TEST(log[0].find("for 2 user(s) ('a', 'b')") != std::string::npos, log[0]);
  BOOST_TEST(CommitText(*store, {MakeChange("a", "2026-11-21T11:00:00Z", "Lunch"),
                                 MakeChange("b", "2026-11-21T11:00:00Z", "Lunch"),
                                 MakeChange("c", "2026-11-21T11:00:00Z", "Lunch")}) == "");
  std::vector<std::string> b;
  for (const Interval& interval :
       IntervalsOrThrow(*store, "b", T("2026-11-21T00:00:00Z"), T("2026-11-22T00:00:00Z"))) {
    b.push_back(Describe(interval));
  }
  // b's Ready keeps the end it was given (not closed again at 11:00); Lunch is open.
  BOOST_REQUIRE_EQUAL(b.size(), 2u);
  BOOST_TEST(b[0].find("[2026-11-21T10:00:00.000Z, 2026-11-21T10:01:00.000Z)") != std::string::npos,
             b[0]);
  BOOST_TEST(b[1].find("Lunch") != std::string::npos, b[1]);
  BOOST_TEST(b[1].find(", open)") != std::string::npos, b[1]);
  // c, whose row was left alone, is closed and reopened as usual.
  auto c = IntervalsOrThrow(*store, "c", T("2026-11-21T00:00:00Z"), T("2026-11-22T00:00:00Z"));
  BOOST_REQUIRE_EQUAL(c.size(), 2u);
  BOOST_TEST((c[0].end == T("2026-11-21T11:00:00Z")));
}

// Submit is the pipeline the core uses: batches go in one after the other without waiting for
// their sync, each is told it is durable once, in order (and then a reader sees it), and a
// batch's order check counts the batches ahead of it that are still being synced. Killed right
// after the last word, the next start replays every batch that was told it is durable.
BOOST_AUTO_TEST_CASE(submitted_batches_are_told_in_order_and_survive_a_kill) {
  testing::TempDir dir;
  const std::string path = dir.File("ledger.db");
  constexpr int kBatches = 300;
  {
    std::unique_ptr<TimeStore> store = OpenOrThrow(path);
    std::mutex mutex;
    std::condition_variable told;
    std::vector<std::string> words;  // "<batch> ok" or the error, in the order told
    for (int i = 0; i < kBatches; ++i) {
      CommitBatch batch;
      const std::string label = i % 2 == 0 ? "Ready" : "Lunch";
      batch.changes.push_back(
          MakeChangeAt("a", T("2026-11-21T00:00:00Z") + std::chrono::hours(i), label));
      batch.agents.push_back({"a", "state " + std::to_string(i)});
      Status submitted = store->Submit(batch, [&, i](Status status) {
        std::lock_guard<std::mutex> lock(mutex);
        words.push_back(std::to_string(i) + (status.ok() ? " ok" : " " + status.error().message));
        told.notify_all();
      });
      BOOST_TEST_REQUIRE(submitted.ok());
      if (i == kBatches / 2) {
        // Dated before the batch just submitted (likely still being synced): refused at once.
        CommitBatch late;
        late.changes.push_back(MakeChangeAt(
            "a", T("2026-11-21T00:00:00Z") + std::chrono::hours(i) - std::chrono::minutes(1),
            "Lunch"));
        Status refused = store->Submit(late, [](Status) { BOOST_FAIL("a refused batch is told"); });
        BOOST_TEST(!refused.ok());
        BOOST_TEST((refused.ok() ? "" : refused.error().code) == "out_of_order");
      }
    }
    std::vector<std::string> expected;
    for (int i = 0; i < kBatches; ++i) expected.push_back(std::to_string(i) + " ok");
    {
      std::unique_lock<std::mutex> lock(mutex);
      told.wait(lock, [&] { return words.size() >= static_cast<size_t>(kBatches); });
      BOOST_TEST(words == expected, tt::per_element());
    }
    CheckHours(*store, kBatches);
    Journaled(*store).StopFoldingForTest();
    CommitHours(*store, kBatches, 2);  // told durable, then killed before any fold
  }
  std::unique_ptr<TimeStore> store = OpenOrThrow(path);
  CheckHours(*store, kBatches + 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::tracking::test
