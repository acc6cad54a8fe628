#include "connectors/sip/documents/pidf.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace presence::connectors::sip {
namespace {

// integrations.md 5.3, DND, as Kamailio 5.6.3 accepted and echoed it.
const std::string kDndExample = R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
          xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
          xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
          entity="sip:1001@pbx.example">
  <tuple id="t-agent-1001">
    <status><basic>open</basic></status>
    <contact>sip:1001@pbx.example</contact>
    <timestamp>2024-05-01T09:30:00Z</timestamp>
  </tuple>
  <dm:person id="p-1001">
    <rpid:activities><rpid:busy/></rpid:activities>
    <dm:note>Do Not Disturb</dm:note>
  </dm:person>
  <note>Do Not Disturb</note>
</presence>
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A presence document around body (default namespace pidf, dm and rpid prefixes).
std::string Presence(const std::string& body) {
  return "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
         "xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "
         "xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:1001@pbx.example\">" +
         body + "</presence>";
}

std::string Repeat(const std::string& part, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += part;
  return out;
}

// The same characters in UTF-16 (little-endian, with a byte order mark); ASCII only.
std::string Utf16(const std::string& ascii) {
  std::string out = "\xFF\xFE";
  for (char c : ascii) out += std::string{c, '\0'};
  return out;
}

void CheckError(const Result<Pidf>& read, const std::string& code) {
  BOOST_REQUIRE(!read.ok());
  BOOST_TEST(read.error().code == code);
  BOOST_TEST(!read.error().message.empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pidf_test)

BOOST_AUTO_TEST_CASE(reads_the_dnd_example_of_integrations_5_3) {
  const Result<Pidf> read = ReadPidf(kDndExample);
  BOOST_REQUIRE(read.ok());
  const Pidf expected{
      .entity = "sip:1001@pbx.example",
      .tuples = {{.id = "t-agent-1001", .open = true, .contact = "sip:1001@pbx.example"}},
      .persons = {{.id = "p-1001", .activities = {"busy"}, .notes = {"Do Not Disturb"}}},
      .notes = {"Do Not Disturb"}};
  BOOST_TEST((*read == expected));
}

BOOST_AUTO_TEST_CASE(reads_the_on_the_phone_and_offline_variants_of_5_3) {
  const std::string phone = Replace(Replace(kDndExample, "rpid:busy", "rpid:on-the-phone"),
                                    "Do Not Disturb", "On the phone");
  const Result<Pidf> on_phone = ReadPidf(phone);
  BOOST_REQUIRE(on_phone.ok());
  BOOST_REQUIRE_EQUAL(on_phone->persons.size(), 1u);
  BOOST_TEST(on_phone->persons[0].activities == std::vector<std::string>{"on-the-phone"});
  BOOST_TEST(on_phone->persons[0].notes == std::vector<std::string>{"On the phone"});
  BOOST_TEST(on_phone->notes == std::vector<std::string>{"On the phone"});

  const Result<Pidf> offline = ReadPidf(Replace(kDndExample, ">open<", ">closed<"));
  BOOST_REQUIRE(offline.ok());
  BOOST_REQUIRE_EQUAL(offline->tuples.size(), 1u);
  BOOST_TEST((offline->tuples[0].open == false));
}

BOOST_AUTO_TEST_CASE(writes_the_dnd_example_with_the_note_in_the_tuple_too) {
  const PresenceDocument document{.entity = "sip:1001@pbx.example",
                                  .tuple_id = "t-agent-1001",
                                  .person_id = "p-1001",
                                  .open = true,
                                  .activity = "busy",
                                  .note = "Do Not Disturb",
                                  .timestamp = FromEpochMillis(1714555800000)};
  const std::string expected =
      Replace(kDndExample, "<contact>sip:1001@pbx.example</contact>\n",
              "<contact>sip:1001@pbx.example</contact>\n    <note>Do Not Disturb</note>\n");
  BOOST_TEST(WritePidf(document) == expected);
}

BOOST_AUTO_TEST_CASE(writes_available_and_offline_without_a_person) {
  PresenceDocument document{.entity = "sip:1001@pbx.example",
                            .tuple_id = "pa-1001",
                            .person_id = "pa-p-1001",
                            .open = false,
                            .timestamp = FromEpochMillis(1714555800250)};
  const std::string written = WritePidf(document);
  BOOST_TEST(written.find("<basic>closed</basic>") != std::string::npos);
  BOOST_TEST(written.find("<timestamp>2024-05-01T09:30:00.250Z</timestamp>") != std::string::npos);
  BOOST_TEST(written.find("dm:person") == std::string::npos);
  BOOST_TEST(written.find("<note>") == std::string::npos);

  document.timestamp = Timestamp{};
  BOOST_TEST(WritePidf(document).find("<timestamp>") == std::string::npos);
  document.note = "Available";
  const Result<Pidf> read = ReadPidf(WritePidf(document));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->persons.size(), 1u);
  BOOST_TEST(read->persons[0].activities.empty());
  BOOST_TEST(read->persons[0].notes == std::vector<std::string>{"Available"});
}

// What a presence server sends a watcher when two publishers (the agent and the user's desk
// phone) hold publications for the same presentity: their tuples and persons side by side,
// with extensions (dm:device, caps, rpid:user-input) that are skipped.
BOOST_AUTO_TEST_CASE(reads_a_document_merged_from_two_publishers) {
  const std::string merged = R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@pbx.example"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
    xmlns:c="urn:ietf:params:xml:ns:pidf:caps">
  <tuple id="pa-1001">
    <status><basic>open</basic></status>
    <contact priority="0.8">sip:1001@pbx.example</contact>
    <note xml:lang="en">Do Not Disturb</note>
    <timestamp>2024-05-01T09:30:00Z</timestamp>
  </tuple>
  <tuple id="phone-0004f2a1b2c3">
    <status>
      <basic>closed</basic>
      <c:servcaps><c:audio>true</c:audio></c:servcaps>
    </status>
    <contact>sip:1001@192.0.2.15:5060</contact>
    <note>Polycom VVX 411</note>
    <note>line 1</note>
  </tuple>
  <dm:person id="pa-p-1001">
    <rpid:activities><rpid:busy/></rpid:activities>
    <dm:note>Do Not Disturb</dm:note>
    <dm:timestamp>2024-05-01T09:30:00Z</dm:timestamp>
  </dm:person>
  <dm:person id="p-phone">
    <rpid:activities from="2024-05-01T09:31:00Z"><rpid:on-the-phone/></rpid:activities>
    <rpid:user-input>active</rpid:user-input>
  </dm:person>
  <dm:device id="d-phone"><dm:deviceID>urn:uuid:0004f2a1b2c3</dm:deviceID></dm:device>
  <note>Do Not Disturb</note>
</presence>)";
  const Result<Pidf> read = ReadPidf(merged);
  BOOST_REQUIRE(read.ok());
  const Pidf expected{
      .entity = "sip:1001@pbx.example",
      .tuples = {{.id = "pa-1001",
                  .open = true,
                  .contact = "sip:1001@pbx.example",
                  .notes = {"Do Not Disturb"}},
                 {.id = "phone-0004f2a1b2c3",
                  .open = false,
                  .contact = "sip:1001@192.0.2.15:5060",
                  .notes = {"Polycom VVX 411", "line 1"}}},
      .persons = {{.id = "pa-p-1001", .activities = {"busy"}, .notes = {"Do Not Disturb"}},
                  {.id = "p-phone", .activities = {"on-the-phone"}}},
      .notes = {"Do Not Disturb"}};
  BOOST_TEST((*read == expected));
}

// Kamailio keeps what publishers sent; phones pick their own prefixes, some bind RPID to a
// prefix of their own or declare it on the element, some make pidf a prefix too.
BOOST_AUTO_TEST_CASE(matches_elements_by_namespace_whatever_the_prefix) {
  const std::string document = R"(<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf"
      xmlns:pdm="urn:ietf:params:xml:ns:pidf:data-model"
      xmlns:ns2="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:1002@pbx.example">
  <p:tuple id="t1"><p:status><p:basic>open</p:basic></p:status>
    <p:contact>sip:1002@pbx.example</p:contact></p:tuple>
  <pdm:person id="p1">
    <ns2:activities><ns2:meeting/></ns2:activities>
    <activities xmlns="urn:ietf:params:xml:ns:pidf:rpid"><lunch/></activities>
    <pdm:note>In a meeting</pdm:note>
  </pdm:person>
  <person xmlns="urn:ietf:params:xml:ns:pidf:data-model" id="p2">
    <r:activities xmlns:r="urn:ietf:params:xml:ns:pidf:rpid"><r:away/></r:activities>
  </person>
  <p:note>Meeting</p:note>
</p:presence>)";
  const Result<Pidf> read = ReadPidf(document);
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->entity == "sip:1002@pbx.example");
  BOOST_REQUIRE_EQUAL(read->tuples.size(), 1u);
  BOOST_TEST((read->tuples[0].open == true));
  BOOST_TEST(read->tuples[0].contact == "sip:1002@pbx.example");
  BOOST_REQUIRE_EQUAL(read->persons.size(), 2u);
  BOOST_TEST(read->persons[0].activities == (std::vector<std::string>{"meeting", "lunch"}));
  BOOST_TEST(read->persons[0].notes == std::vector<std::string>{"In a meeting"});
  BOOST_TEST(read->persons[1].id == "p2");
  BOOST_TEST(read->persons[1].activities == std::vector<std::string>{"away"});
  BOOST_TEST(read->notes == std::vector<std::string>{"Meeting"});
}

BOOST_AUTO_TEST_CASE(skips_elements_of_other_namespaces_even_with_known_names) {
  const Result<Pidf> read = ReadPidf(
      Presence("<x:tuple xmlns:x=\"urn:example:other\" id=\"fake\"/>"
               "<tuple id=\"t1\"><status><x:basic xmlns:x=\"urn:example:other\">closed</x:basic>"
               "</status></tuple>"
               "<dm:person id=\"p1\"><rpid:activities><x:busy xmlns:x=\"urn:example:other\"/>"
               "<busy/></rpid:activities><note>not a dm:note</note></dm:person>"
               "<dm:note>not a presence note</dm:note>"));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->tuples.size(), 1u);
  BOOST_TEST(read->tuples[0].id == "t1");
  BOOST_TEST(!read->tuples[0].open.has_value());
  BOOST_REQUIRE_EQUAL(read->persons.size(), 1u);
  BOOST_TEST(read->persons[0].activities.empty());
  BOOST_TEST(read->persons[0].notes.empty());
  BOOST_TEST(read->notes.empty());
}

BOOST_AUTO_TEST_CASE(keeps_unknown_activities_by_name_and_other_with_its_text) {
  const Result<Pidf> read =
      ReadPidf(Presence("<dm:person id=\"p\"><rpid:activities><rpid:gaming/><rpid:unknown/>"
                        "<rpid:other>  Out for a walk\n</rpid:other><rpid:other/></rpid:activities>"
                        "</dm:person>"));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->persons.size(), 1u);
  BOOST_TEST(read->persons[0].activities ==
             (std::vector<std::string>{"gaming", "unknown", "other:Out for a walk", "other:"}));
}

BOOST_AUTO_TEST_CASE(basic_other_than_open_or_closed_reads_as_absent) {
  const Result<Pidf> read =
      ReadPidf(Presence("<tuple id=\"a\"><status><basic>OPEN</basic></status></tuple>"
                        "<tuple id=\"b\"><status/></tuple><tuple id=\"c\"><status><basic>\n closed "
                        "</basic></status></tuple>"));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->tuples.size(), 3u);
  BOOST_TEST(!read->tuples[0].open.has_value());
  BOOST_TEST(!read->tuples[1].open.has_value());
  BOOST_TEST((read->tuples[2].open == false));
}

BOOST_AUTO_TEST_CASE(written_text_reads_back_unchanged) {
  const PresenceDocument document{.entity = "sip:\"o'neil\"&co@pbx.example",
                                  .tuple_id = "pa-<1001>",
                                  .person_id = "pa-p-'1001'&\"x\"",
                                  .open = true,
                                  .activity = "other:Lunch & <Learn> \"R&D\" café ☕",
                                  .note = "Zurück um 14:00 <bitte> & \"danke\"\nline two\r\tend",
                                  .timestamp = FromEpochMillis(1714555800000)};
  const std::string written = WritePidf(document);
  BOOST_TEST(written.find("café ☕") != std::string::npos);  // UTF-8 stays as it is
  const Result<Pidf> read = ReadPidf(written);
  BOOST_REQUIRE(read.ok());
  const Pidf expected{.entity = document.entity,
                      .tuples = {{.id = document.tuple_id,
                                  .open = true,
                                  .contact = document.entity,
                                  .notes = {document.note}}},
                      .persons = {{.id = document.person_id,
                                   .activities = {document.activity},
                                   .notes = {document.note}}},
                      .notes = {document.note}};
  BOOST_TEST((*read == expected));
}

BOOST_AUTO_TEST_CASE(writes_activities_that_are_no_xml_name_as_other) {
  PresenceDocument document{.entity = "sip:1@x", .tuple_id = "t", .person_id = "p"};
  document.activity = "on the phone";
  Result<Pidf> read = ReadPidf(WritePidf(document));
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->persons.at(0).activities == std::vector<std::string>{"other:on the phone"});
  document.activity = "<busy/>";
  read = ReadPidf(WritePidf(document));
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->persons.at(0).activities == std::vector<std::string>{"other:<busy/>"});
}

BOOST_AUTO_TEST_CASE(writes_well_formed_xml_from_text_xml_does_not_allow) {
  const PresenceDocument document{.entity = "sip:1@x",
                                  .tuple_id = "t",
                                  .person_id = "p",
                                  .note = std::string("a\x01") + "b\xff" + "c\xEF\xBF\xBF" + "d"};
  const Result<Pidf> read = ReadPidf(WritePidf(document));
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->notes == std::vector<std::string>{"ab\xEF\xBF\xBD"
                                                     "cd"});
}

BOOST_AUTO_TEST_CASE(an_empty_body_is_an_empty_document) {
  const Result<Pidf> read = ReadPidf("");
  BOOST_REQUIRE(read.ok());
  BOOST_TEST((*read == Pidf{}));
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_well_formed_xml) {
  CheckError(ReadPidf("   \r\n"), "bad_xml");
  CheckError(ReadPidf("garbage"), "bad_xml");
  CheckError(ReadPidf("{\"entity\": \"sip:1001@pbx.example\"}"), "bad_xml");
  CheckError(ReadPidf(kDndExample.substr(0, kDndExample.size() / 2)), "bad_xml");
  CheckError(ReadPidf(Presence("<tuple id=\"a\"></tupel>")), "bad_xml");
  CheckError(ReadPidf(Presence("<x:tuple/>")), "bad_xml");  // unbound prefix
  CheckError(ReadPidf(Presence("<note>&nbsp;</note>")), "bad_xml");
  CheckError(ReadPidf(Presence("") + "<presence/>"), "bad_xml");
  CheckError(ReadPidf(Presence("<note>\xff</note>")), "bad_xml");
}

BOOST_AUTO_TEST_CASE(refuses_a_doctype_with_internal_entities_billion_laughs) {
  const std::string laughs = R"(<?xml version="1.0"?>
<!DOCTYPE presence [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@pbx.example">
  <note>&lol9;</note>
</presence>)";
  CheckError(ReadPidf(laughs), "bad_xml");
  // A harmless DOCTYPE is refused just the same: no DTD is ever read.
  CheckError(ReadPidf("<!DOCTYPE presence>" + Presence("")), "bad_xml");
}

// The byte check sees no "<!DOCTYPE" in UTF-16; the parser's DOCTYPE event refuses it then.
BOOST_AUTO_TEST_CASE(refuses_a_doctype_in_utf16_too) {
  const Result<Pidf> plain = ReadPidf(Utf16(Presence("<note>hi</note>")));
  BOOST_REQUIRE(plain.ok());
  BOOST_TEST(plain->notes == std::vector<std::string>{"hi"});
  CheckError(
      ReadPidf(Utf16("<!DOCTYPE presence [<!ENTITY a \"x\">]>" + Presence("<note>&a;</note>"))),
      "bad_xml");
}

// An external entity would make the parser open a file (or a URL). The file is watched with
// inotify: the read must fail without the file being opened.
BOOST_AUTO_TEST_CASE(refuses_an_external_entity_without_reading_it) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("pidf_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const std::filesystem::path secret = directory / "secret.txt";
  std::ofstream(secret) << "SECRET-CONTENT";
  const int watch = ::inotify_init1(IN_NONBLOCK);
  BOOST_REQUIRE(watch >= 0);
  BOOST_REQUIRE(::inotify_add_watch(watch, secret.c_str(), IN_OPEN | IN_ACCESS) >= 0);
  char events[4096];

  const std::string document =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE presence [\n"
      "  <!ENTITY secret SYSTEM \"file://" +
      secret.string() + "\">\n]>\n" + Presence("<note>&secret;</note>");
  const Result<Pidf> read = ReadPidf(document);
  CheckError(read, "bad_xml");
  BOOST_TEST(read.error().message.find("SECRET") == std::string::npos);
  BOOST_TEST(::read(watch, events, sizeof events) == -1);  // no event: never opened
  // In UTF-16 only the parser's own DOCTYPE event stops it.
  CheckError(ReadPidf(Utf16(document)), "bad_xml");
  BOOST_TEST(::read(watch, events, sizeof events) == -1);

  // The watch does see an open (so the check above can fail).
  std::ifstream(secret).get();
  BOOST_TEST(::read(watch, events, sizeof events) > 0);
  ::close(watch);
  std::filesystem::remove_all(directory);
}

BOOST_AUTO_TEST_CASE(refuses_a_body_over_the_size_limit) {
  const auto padded = [](size_t size) {
    const size_t frame = Presence("<!---->").size();
    return Presence("<!--" + std::string(size - frame, 'x') + "-->");
  };
  BOOST_REQUIRE_EQUAL(padded(kMaxDocumentBytes).size(), kMaxDocumentBytes);
  BOOST_TEST(ReadPidf(padded(kMaxDocumentBytes)).ok());
  CheckError(ReadPidf(padded(kMaxDocumentBytes + 1)), "too_large");
}

BOOST_AUTO_TEST_CASE(refuses_more_elements_than_the_limit) {
  // The root and kMaxElements - 1 others: at the limit.
  const std::string at_limit = Presence(Repeat("<x/>", kMaxElements - 1));
  BOOST_TEST(ReadPidf(at_limit).ok());
  CheckError(ReadPidf(Presence(Repeat("<x/>", kMaxElements))), "too_large");
}

BOOST_AUTO_TEST_CASE(refuses_nesting_deeper_than_the_limit) {
  const auto nested = [](size_t depth) {
    return Presence(Repeat("<x>", depth - 1) + Repeat("</x>", depth - 1));
  };
  BOOST_TEST(ReadPidf(nested(kMaxDepth)).ok());
  CheckError(ReadPidf(nested(kMaxDepth + 1)), "too_large");
}

BOOST_AUTO_TEST_CASE(refuses_a_root_that_is_not_pidf_presence) {
  CheckError(ReadPidf("<presence entity=\"sip:1@x\"/>"), "not_pidf");
  CheckError(ReadPidf("<presence xmlns=\"urn:ietf:params:xml:ns:pidf:rpid\"/>"), "not_pidf");
  CheckError(ReadPidf("<tuple xmlns=\"urn:ietf:params:xml:ns:pidf\"/>"), "not_pidf");
  CheckError(ReadPidf("<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\"/>"), "not_pidf");
}

// Refusals decided on an empty element that declares namespaces: expat holds that element's
// bindings in a local list while the handlers run, so stopping there by throwing leaked them
// (the pidf fuzz target's LeakSanitizer found it). The codes are checked here; a sanitizer
// build of the tests checks that nothing leaks.
BOOST_AUTO_TEST_CASE(refuses_on_empty_elements_that_declare_namespaces) {
  CheckError(ReadPidf("<presence xmlns=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"x\"/>"),
             "not_pidf");
  const std::string empty = "<x xmlns:y=\"urn:example:y\"/>";
  CheckError(ReadPidf(Presence(Repeat(empty, kMaxElements))), "too_large");
  CheckError(
      ReadPidf(Presence(Repeat("<x>", kMaxDepth - 1) + empty + Repeat("</x>", kMaxDepth - 1))),
      "too_large");
  // Refused on the first element, whatever malformed XML follows.
  CheckError(ReadPidf("<presence xmlns=\"urn:example:other\"/><junk"), "not_pidf");
}

BOOST_AUTO_TEST_CASE(cuts_text_over_the_cap_on_a_character_boundary) {
  // 1023 ASCII bytes, then "é" (2 bytes) across the cap: the whole "é" goes.
  const std::string long_note = std::string(kMaxTextBytes - 1, 'a') + "\xC3\xA9" + "bbb";
  const Result<Pidf> read = ReadPidf(
      Presence("<note>\n  " + long_note + "</note>" + "<tuple id=\"" + long_note + "\"/>"));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->notes.size(), 1u);
  BOOST_TEST(read->notes[0] == std::string(kMaxTextBytes - 1, 'a'));
  BOOST_REQUIRE_EQUAL(read->tuples.size(), 1u);
  BOOST_TEST(read->tuples[0].id == std::string(kMaxTextBytes - 1, 'a'));
  // At the cap exactly, nothing is cut.
  const std::string exact(kMaxTextBytes, 'z');
  const Result<Pidf> kept = ReadPidf(Presence("<note>" + exact + "</note>"));
  BOOST_REQUIRE(kept.ok());
  BOOST_TEST(kept->notes.at(0) == exact);
}

BOOST_AUTO_TEST_CASE(keeps_at_most_the_item_limit) {
  std::string body;
  for (size_t i = 0; i < kMaxItems + 3; ++i) {
    body += "<tuple id=\"t" + std::to_string(i) + "\"><note>n</note></tuple>";
  }
  body += "<dm:person id=\"p\"><rpid:activities>" + Repeat("<rpid:busy/>", kMaxItems + 1) +
          "</rpid:activities>" + Repeat("<dm:note>n</dm:note>", kMaxItems + 1) + "</dm:person>";
  body += Repeat("<dm:person/>", kMaxItems) + Repeat("<note>n</note>", kMaxItems + 1);
  const Result<Pidf> read = ReadPidf(Presence(body));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->tuples.size(), kMaxItems);
  BOOST_TEST(read->tuples.front().id == "t0");
  BOOST_TEST(read->tuples.back().id == "t" + std::to_string(kMaxItems - 1));
  BOOST_REQUIRE_EQUAL(read->persons.size(), kMaxItems);
  BOOST_TEST(read->persons[0].activities.size() == kMaxItems);
  BOOST_TEST(read->persons[0].notes.size() == kMaxItems);
  BOOST_TEST(read->notes.size() == kMaxItems);
}

BOOST_AUTO_TEST_CASE(lists_the_rpid_activities_of_rfc_4480) {
  BOOST_TEST(RpidActivities().size() == 25u);
  BOOST_TEST(IsRpidActivity("busy"));
  BOOST_TEST(IsRpidActivity("on-the-phone"));
  BOOST_TEST(IsRpidActivity("permanent-absence"));
  BOOST_TEST(!IsRpidActivity("unknown"));
  BOOST_TEST(!IsRpidActivity("other"));
  BOOST_TEST(!IsRpidActivity("dnd"));
  BOOST_TEST(!IsRpidActivity("Busy"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors::sip
