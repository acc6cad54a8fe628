// Fuzz target for the PIDF reader (connectors/sip/documents/pidf.h): the body of every presence
// NOTIFY, from a presence server that merges what any publisher sent. Any bytes must give a
// document or one of the documented errors; a document read must respect every limit of
// pidf.h, and what WritePidf makes of its fields must read back as exactly those fields.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/sip/documents/pidf.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/xml_fuzz_check.h"

namespace {

using namespace presence::connectors::sip;  // NOLINT: a fuzz target of this one header
using presence::Result;
using presence::fuzz::CheckText;

void CheckLimits(const Pidf& pidf) {
  CheckText(pidf.entity);
  FUZZ_CHECK(pidf.tuples.size() <= kMaxItems);
  FUZZ_CHECK(pidf.persons.size() <= kMaxItems);
  FUZZ_CHECK(pidf.notes.size() <= kMaxItems);
  for (const std::string& note : pidf.notes) CheckText(note);
  for (const PidfTuple& tuple : pidf.tuples) {
    CheckText(tuple.id);
    CheckText(tuple.contact);
    FUZZ_CHECK(tuple.notes.size() <= kMaxItems);
    for (const std::string& note : tuple.notes) CheckText(note);
  }
  for (const PidfPerson& person : pidf.persons) {
    CheckText(person.id);
    FUZZ_CHECK(person.activities.size() <= kMaxItems);
    FUZZ_CHECK(person.notes.size() <= kMaxItems);
    for (const std::string& activity : person.activities) {
      CheckText(activity);
      FUZZ_CHECK(!activity.empty());
      FUZZ_CHECK(activity != "other");  // rpid:other always comes with its text
    }
    for (const std::string& note : person.notes) CheckText(note);
  }
}

// Activities WritePidf writes as they are: "other:<text>" and ASCII XML names (any other name
// goes out as rpid:other, which reads back as "other:<name>").
bool WrittenAsIs(std::string_view activity) {
  if (activity.rfind("other:", 0) == 0) return true;
  if (activity.empty()) return false;
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!letter(activity.front())) return false;
  for (char c : activity) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
  }
  return true;
}

// The agent publishes what it read (its fields) and a watcher reads it back.
void CheckRoundTrip(const Pidf& pidf) {
  PresenceDocument document{.entity = pidf.entity, .tuple_id = "t", .person_id = "p"};
  if (!pidf.tuples.empty()) {
    document.tuple_id = pidf.tuples[0].id;
    document.open = pidf.tuples[0].open.value_or(pidf.tuples.size() % 2 == 0);
    if (!pidf.tuples[0].notes.empty()) document.note = pidf.tuples[0].notes[0];
  }
  if (!pidf.persons.empty()) {
    document.person_id = pidf.persons[0].id;
    // The first activity written as it is, an "other:<text>" one (free text) if there is one.
    for (const std::string& activity : pidf.persons[0].activities) {
      if (!WrittenAsIs(activity)) continue;
      if (document.activity.empty() || activity.rfind("other:", 0) == 0) {
        document.activity = activity;
      }
      if (activity.rfind("other:", 0) == 0) break;
    }
  }
  if (!pidf.notes.empty()) document.note = pidf.notes.back();
  document.timestamp = presence::FromEpochMillis(static_cast<int64_t>(pidf.notes.size()) * 1001);

  const std::string written = WritePidf(document);
  const Result<Pidf> again = ReadPidf(written);
  if (written.size() > kMaxDocumentBytes) {  // escaping can make text up to six times longer
    FUZZ_CHECK(!again.ok() && again.error().code == "too_large");
    return;
  }
  FUZZ_CHECK(again.ok());
  Pidf expected{.entity = document.entity};
  PidfTuple& tuple = expected.tuples.emplace_back();
  tuple.id = document.tuple_id;
  tuple.open = document.open;
  tuple.contact = document.entity;
  if (!document.note.empty()) {
    tuple.notes = {document.note};
    expected.notes = {document.note};
  }
  if (!document.activity.empty() || !document.note.empty()) {
    PidfPerson& person = expected.persons.emplace_back();
    person.id = document.person_id;
    if (!document.activity.empty()) person.activities = {document.activity};
    if (!document.note.empty()) person.notes = {document.note};
  }
  FUZZ_CHECK(*again == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Result<Pidf> read = ReadPidf(body);
  if (!read.ok()) {
    const std::string& code = read.error().code;
    FUZZ_CHECK(code == "too_large" || code == "bad_xml" || code == "not_pidf");
    FUZZ_CHECK(!read.error().message.empty());
    if (size > kMaxDocumentBytes) FUZZ_CHECK(code == "too_large");
    return 0;
  }
  FUZZ_CHECK(size <= kMaxDocumentBytes);
  if (size == 0) FUZZ_CHECK(*read == Pidf{});
  CheckLimits(*read);
  CheckRoundTrip(*read);
  return 0;
}
