#include "connectors/sip/documents/dialog_info.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "connectors/sip/documents/pidf.h"

namespace presence::connectors::sip {
namespace {

// integrations.md 5.5, as published in the live test (Kamailio replaced version when echoing).
const std::string kBlfExample =
    R"(<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:1001@pbx.example">
  <dialog id="call-1234" call-id="call-1234@pbx.example" local-tag="lt1" remote-tag="rt1" direction="recipient">
    <state>confirmed</state>
    <local><identity>sip:1001@pbx.example</identity></local>
    <remote><identity>sip:+15551234567@pbx.example</identity></remote>
  </dialog>
</dialog-info>)";

std::string Info(const std::string& body, const std::string& attributes = "version=\"1\"") {
  return "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" " + attributes +
         " state=\"full\" entity=\"sip:1001@pbx.example\">" + body + "</dialog-info>";
}

std::string Repeat(const std::string& part, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += part;
  return out;
}

void CheckError(const Result<DialogInfo>& read, const std::string& code) {
  BOOST_REQUIRE(!read.ok());
  BOOST_TEST(read.error().code == code);
  BOOST_TEST(!read.error().message.empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dialog_info_test)

BOOST_AUTO_TEST_CASE(reads_the_blf_example_of_integrations_5_5) {
  const Result<DialogInfo> read = ReadDialogInfo(kBlfExample);
  BOOST_REQUIRE(read.ok());
  const DialogInfo expected{.entity = "sip:1001@pbx.example",
                            .version = 0,
                            .full = true,
                            .dialogs = {{.id = "call-1234",
                                         .call_id = "call-1234@pbx.example",
                                         .local_tag = "lt1",
                                         .remote_tag = "rt1",
                                         .direction = "recipient",
                                         .state = DialogState::kConfirmed,
                                         .local_identity = "sip:1001@pbx.example",
                                         .remote_identity = "sip:+15551234567@pbx.example"}}};
  BOOST_TEST((*read == expected));
}

BOOST_AUTO_TEST_CASE(writes_the_blf_example_shape) {
  const DialogInfo info = ReadDialogInfo(kBlfExample).value();
  const std::string expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + kBlfExample + "\n";
  BOOST_TEST(WriteDialogInfo(info) == expected);
}

// What Asterisk and Kamailio send for a phone with a ringing line, a call in progress and one
// that was just hung up; the terminated one has its event and code, durations are in seconds.
BOOST_AUTO_TEST_CASE(reads_several_dialogs_with_every_field) {
  const std::string document = R"(<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="42" state="partial"
             entity="sip:1001@pbx.example">
  <dialog id="d1" call-id="a84b4c76e66710@pc33" local-tag="1928301774" direction="initiator">
    <state>early</state>
    <local>
      <identity display="Alice">sip:1001@pbx.example</identity>
      <target uri="sip:1001@192.0.2.15"><param pname="+sip.rendering" pvalue="yes"/></target>
    </local>
    <remote><identity display="Bob &amp; Co">sip:1002@pbx.example</identity></remote>
  </dialog>
  <dialog id="d2" direction="recipient">
    <state>confirmed</state>
    <duration>274</duration>
  </dialog>
  <dialog id="d3" call-id="c3" local-tag="l3" remote-tag="r3" direction="sideways">
    <state event="rejected" code="486">terminated</state>
    <duration>0</duration>
  </dialog>
  <dialog id="d4"><state>trying</state></dialog>
  <dialog id="d5"><state>proceeding</state></dialog>
</dialog-info>)";
  const Result<DialogInfo> read = ReadDialogInfo(document);
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->entity == "sip:1001@pbx.example");
  BOOST_TEST((read->version == 42u));
  BOOST_TEST(!read->full);
  BOOST_REQUIRE_EQUAL(read->dialogs.size(), 5u);
  const Dialog d1{.id = "d1",
                  .call_id = "a84b4c76e66710@pc33",
                  .local_tag = "1928301774",
                  .direction = "initiator",
                  .state = DialogState::kEarly,
                  .local_identity = "sip:1001@pbx.example",
                  .remote_identity = "sip:1002@pbx.example",
                  .remote_display = "Bob & Co"};
  BOOST_TEST((read->dialogs[0] == d1));
  const Dialog d2{
      .id = "d2", .direction = "recipient", .state = DialogState::kConfirmed, .duration = 274};
  BOOST_TEST((read->dialogs[1] == d2));
  const Dialog d3{.id = "d3",
                  .call_id = "c3",
                  .local_tag = "l3",
                  .remote_tag = "r3",
                  .state = DialogState::kTerminated,
                  .state_event = "rejected",
                  .state_code = 486,
                  .duration = 0};
  BOOST_TEST((read->dialogs[2] == d3));
  BOOST_TEST((read->dialogs[3].state == DialogState::kTrying));
  BOOST_TEST((read->dialogs[4].state == DialogState::kProceeding));
}

BOOST_AUTO_TEST_CASE(reads_version_and_state_of_the_document) {
  const auto read = [](const std::string& attributes) {
    return ReadDialogInfo("<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" " +
                          attributes + "/>")
        .value();
  };
  BOOST_TEST(
      (read("version=\"18446744073709551615\" state=\"full\"").version == 18446744073709551615u));
  BOOST_TEST(read("version=\"7\" state=\"full\"").full);
  BOOST_TEST(!read("version=\"7\" state=\"partial\"").full);
  BOOST_TEST(read("version=\"7\"").full);
  BOOST_TEST(!read("").version.has_value());
  BOOST_TEST(!read("version=\"-1\"").version.has_value());
  BOOST_TEST(!read("version=\"+1\"").version.has_value());
  BOOST_TEST(!read("version=\"1x\"").version.has_value());
  BOOST_TEST(!read("version=\"18446744073709551616\"").version.has_value());
  BOOST_TEST((read("version=\" 12 \"").version == 12u));
}

BOOST_AUTO_TEST_CASE(reads_numbers_that_are_not_numbers_as_absent) {
  const Result<DialogInfo> read =
      ReadDialogInfo(Info("<dialog id=\"a\"><state code=\"busy\">terminated</state>"
                          "<duration>-5</duration></dialog>"
                          "<dialog id=\"b\"><state code=\"99999999999\">terminated</state>"
                          "<duration>1.5</duration></dialog>"));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->dialogs.size(), 2u);
  for (const Dialog& dialog : read->dialogs) {
    BOOST_TEST(!dialog.state_code.has_value());
    BOOST_TEST(!dialog.duration.has_value());
  }
}

BOOST_AUTO_TEST_CASE(matches_by_namespace_whatever_the_prefix) {
  const Result<DialogInfo> read = ReadDialogInfo(
      "<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:dialog-info\" version=\"3\" "
      "state=\"full\" entity=\"sip:1001@pbx.example\" xmlns:x=\"urn:example:other\">"
      "<d:dialog id=\"a\"><d:state>confirmed</d:state><x:state>early</x:state>"
      "<d:remote><x:identity>sip:no@x</x:identity><d:identity display=\"Bob\">sip:1002@x"
      "</d:identity></d:remote></d:dialog>"
      "<x:dialog id=\"ignored\"/><dialog id=\"also ignored: no namespace\"/>"
      "</d:dialog-info>");
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->dialogs.size(), 1u);
  BOOST_TEST((read->dialogs[0].state == DialogState::kConfirmed));
  BOOST_TEST(read->dialogs[0].remote_identity == "sip:1002@x");
  BOOST_TEST(read->dialogs[0].remote_display == "Bob");
}

BOOST_AUTO_TEST_CASE(written_documents_read_back_unchanged) {
  const DialogInfo info{
      .entity = "sip:\"1001\"&<x>@pbx.example",
      .version = 9,
      .full = false,
      .dialogs = {{.id = "id'1'",
                   .call_id = "c&1\t2",
                   .local_tag = "<l>",
                   .remote_tag = "r\"",
                   .direction = "initiator",
                   .state = DialogState::kTerminated,
                   .state_event = "remote-bye",
                   .state_code = 200,
                   .duration = 61,
                   .local_identity = "sip:1001@pbx.example",
                   .remote_identity = "sip:+49301234567@pbx.example;user=phone&x=<1>",
                   .remote_display = "Jürgen \"Jürg\" Müller & Söhne"},
                  {.id = "plain", .state = DialogState::kEarly}}};
  const Result<DialogInfo> read = ReadDialogInfo(WriteDialogInfo(info));
  BOOST_REQUIRE(read.ok());
  BOOST_TEST((*read == info));
}

BOOST_AUTO_TEST_CASE(an_empty_body_is_an_empty_document) {
  const Result<DialogInfo> read = ReadDialogInfo("");
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->entity.empty());
  BOOST_TEST(read->dialogs.empty());
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_well_formed_xml) {
  CheckError(ReadDialogInfo(" "), "bad_xml");
  CheckError(ReadDialogInfo("dialog-info"), "bad_xml");
  CheckError(ReadDialogInfo(kBlfExample.substr(0, kBlfExample.size() - 4)), "bad_xml");
  CheckError(ReadDialogInfo(Info("<dialog id=\"a\" id=\"b\"/>")), "bad_xml");
}

BOOST_AUTO_TEST_CASE(refuses_doctypes) {
  CheckError(ReadDialogInfo("<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>" +
                            Info("<dialog id=\"&b;\"><state>early</state></dialog>")),
             "bad_xml");
  CheckError(ReadDialogInfo("<!DOCTYPE d [<!ENTITY p SYSTEM \"file:///etc/passwd\">]>" +
                            Info("<dialog id=\"&p;\"><state>early</state></dialog>")),
             "bad_xml");
}

BOOST_AUTO_TEST_CASE(refuses_documents_over_the_limits) {
  const size_t frame = Info("<!---->").size();
  BOOST_TEST(
      ReadDialogInfo(Info("<!--" + std::string(kMaxDocumentBytes - frame, 'x') + "-->")).ok());
  CheckError(ReadDialogInfo(Info("<!--" + std::string(kMaxDocumentBytes - frame + 1, 'x') + "-->")),
             "too_large");
  CheckError(ReadDialogInfo(Info(Repeat("<x/>", kMaxElements))), "too_large");
  CheckError(ReadDialogInfo(Info(Repeat("<x>", kMaxDepth) + Repeat("</x>", kMaxDepth))),
             "too_large");
}

BOOST_AUTO_TEST_CASE(refuses_a_root_that_is_not_dialog_info) {
  CheckError(ReadDialogInfo("<dialog-info version=\"1\"/>"), "not_dialog_info");
  CheckError(ReadDialogInfo("<dialog-info xmlns=\"urn:ietf:params:xml:ns:pidf\"/>"),
             "not_dialog_info");
  CheckError(ReadDialogInfo("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"/>"),
             "not_dialog_info");
}

BOOST_AUTO_TEST_CASE(refuses_dialogs_without_id_or_a_known_state) {
  CheckError(ReadDialogInfo(Info("<dialog><state>early</state></dialog>")), "bad_dialog");
  CheckError(ReadDialogInfo(Info("<dialog id=\"  \"><state>early</state></dialog>")), "bad_dialog");
  CheckError(ReadDialogInfo(Info("<dialog id=\"a\"><state>ringing</state></dialog>")),
             "bad_dialog");
  CheckError(ReadDialogInfo(Info("<dialog id=\"a\"><state>Confirmed</state></dialog>")),
             "bad_dialog");
  CheckError(ReadDialogInfo(Info("<dialog id=\"a\"/>")), "bad_dialog");
  const Result<DialogInfo> read =
      ReadDialogInfo(Info("<dialog id=\"a\"><state>ringing</state></dialog>"));
  BOOST_TEST(read.error().message.find("ringing") != std::string::npos);
  BOOST_TEST(read.error().message.find("confirmed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cuts_long_text_and_keeps_at_most_the_item_limit) {
  const std::string long_uri = "sip:" + std::string(kMaxTextBytes, '9') + "@x";
  std::string body = "<dialog id=\"d0\" call-id=\"" + long_uri +
                     "\"><state>confirmed</state><remote><identity>" + long_uri +
                     "</identity></remote></dialog>";
  for (size_t i = 1; i < kMaxItems + 2; ++i) {
    body += "<dialog id=\"d" + std::to_string(i) + "\"><state>early</state></dialog>";
  }
  // Past the limit, dialogs are not even checked.
  body += "<dialog><state>ringing</state></dialog>";
  const Result<DialogInfo> read = ReadDialogInfo(Info(body));
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE_EQUAL(read->dialogs.size(), kMaxItems);
  BOOST_TEST(read->dialogs.back().id == "d" + std::to_string(kMaxItems - 1));
  BOOST_TEST(read->dialogs[0].remote_identity == long_uri.substr(0, kMaxTextBytes));
  BOOST_TEST(read->dialogs[0].call_id == long_uri.substr(0, kMaxTextBytes));
}

BOOST_AUTO_TEST_CASE(names_the_states) {
  BOOST_TEST(DialogStateName(DialogState::kTrying) == "trying");
  BOOST_TEST(DialogStateName(DialogState::kProceeding) == "proceeding");
  BOOST_TEST(DialogStateName(DialogState::kEarly) == "early");
  BOOST_TEST(DialogStateName(DialogState::kConfirmed) == "confirmed");
  BOOST_TEST(DialogStateName(DialogState::kTerminated) == "terminated");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors::sip
