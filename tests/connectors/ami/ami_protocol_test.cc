#include "connectors/ami/ami_protocol.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <tuple>
#include <vector>

namespace presence::connectors {
namespace {

namespace data = boost::unit_test::data;

// DBGet's three-part answer exactly as integrations.md 4.4 shows it.
const std::string kDbGetAnswer =
    "Response: Success\r\n"
    "ActionID: 7\r\n"
    "EventList: start\r\n"
    "Message: Result will follow\r\n"
    "\r\n"
    "Event: DBGetResponse\r\n"
    "Family: DND\r\n"
    "Key: 1001\r\n"
    "Val: YES\r\n"
    "ActionID: 7\r\n"
    "\r\n"
    "Event: DBGetComplete\r\n"
    "ActionID: 7\r\n"
    "EventList: Complete\r\n"
    "ListItems: 1\r\n"
    "\r\n";

std::vector<AmiMessage> FeedInChunks(AmiParser& parser, const std::string& bytes,
                                     std::size_t chunk) {
  std::vector<AmiMessage> messages;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    for (AmiMessage& message : parser.Feed(std::string_view(bytes).substr(at, chunk))) {
      messages.push_back(std::move(message));
    }
  }
  return messages;
}

void CheckDbGetAnswer(const std::vector<AmiMessage>& messages) {
  BOOST_REQUIRE_EQUAL(messages.size(), 3u);
  BOOST_TEST(messages[0].IsResponse());
  BOOST_TEST(IsListStart(messages[0]));
  BOOST_TEST(messages[0].ActionId() == "7");
  BOOST_TEST(messages[0].Get("Message") == "Result will follow");
  BOOST_TEST(messages[1].IsEvent());
  BOOST_TEST(messages[1].Get("Event") == "DBGetResponse");
  BOOST_TEST(messages[1].Get("Val") == "YES");
  BOOST_TEST(messages[1].ActionId() == "7");
  BOOST_TEST(IsListComplete(messages[2]));
  BOOST_TEST(messages[2].Get("ListItems") == "1");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ami_protocol_test)

BOOST_AUTO_TEST_CASE(originate_serializes_byte_for_byte_as_the_reference_shows) {
  AmiMessage originate = AmiMessage::Action("Originate");
  originate.Add("Channel", "PJSIP/1001")
      .Add("Context", "from-internal")
      .Add("Exten", "*78")
      .Add("Priority", "1")
      .Add("CallerID", "\"DND\" <1001>")
      .Add("Timeout", "30000")
      .Add("Async", "true")
      .Add("Variable", "DNDSOURCE=agent,FOO=bar");
  originate.SetActionId("42");
  BOOST_TEST(originate.Serialize() ==
             "Action: Originate\r\n"
             "ActionID: 42\r\n"
             "Channel: PJSIP/1001\r\n"
             "Context: from-internal\r\n"
             "Exten: *78\r\n"
             "Priority: 1\r\n"
             "CallerID: \"DND\" <1001>\r\n"
             "Timeout: 30000\r\n"
             "Async: true\r\n"
             "Variable: DNDSOURCE=agent,FOO=bar\r\n"
             "\r\n");
}

BOOST_AUTO_TEST_CASE(login_serializes_as_the_reference_shows) {
  AmiMessage login = AmiMessage::Action("Login");
  login.Add("Username", "presence-agent").Add("Secret", "s3cret").Add("Events", "off");
  login.SetActionId("1");
  BOOST_TEST(login.Serialize() ==
             "Action: Login\r\nActionID: 1\r\nUsername: presence-agent\r\nSecret: s3cret\r\n"
             "Events: off\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(setting_the_action_id_again_replaces_it_in_place) {
  AmiMessage action = AmiMessage::Action("Ping");
  action.SetActionId("1");
  action.SetActionId("2");
  BOOST_TEST(action.Serialize() == "Action: Ping\r\nActionID: 2\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(a_line_break_inside_a_value_cannot_start_a_new_header) {
  AmiMessage action = AmiMessage::Action("Setvar");
  action.Add("Value", "dnd,,Out\r\nAction: Command");
  BOOST_TEST(action.Serialize() == "Action: Setvar\r\nValue: dnd,,Out  Action: Command\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(header_names_match_case_insensitively_and_repeats_are_kept) {
  AmiMessage message{{"Response", "Success"}, {"Message", "one"}, {"message", "two"}};
  BOOST_TEST(message.Get("MESSAGE") == "one");
  BOOST_TEST(message.GetAll("Message") == std::vector<std::string>({"one", "two"}));
  BOOST_TEST(message.Is("response", "success"));
  BOOST_TEST(!message.Has("ActionID"));
  BOOST_TEST(message.Get("ActionID") == "");
  message.Set("MESSAGE", "first");
  BOOST_TEST(message.GetAll("Message") == std::vector<std::string>({"first", "two"}));
}

BOOST_DATA_TEST_CASE(a_list_answer_parses_whatever_the_chunk_boundaries,
                     data::xrange<std::size_t>(1, 40), chunk) {
  AmiParser parser;
  CheckDbGetAnswer(FeedInChunks(parser, kDbGetAnswer, chunk));
}

BOOST_AUTO_TEST_CASE(bare_line_feeds_end_lines_too) {
  std::string bare = kDbGetAnswer;
  for (std::size_t at; (at = bare.find("\r\n")) != std::string::npos;) bare.erase(at, 1);
  AmiParser parser;
  CheckDbGetAnswer(parser.Feed(bare));
}

BOOST_AUTO_TEST_CASE(the_banner_is_recognised_and_is_not_a_message) {
  AmiParser parser;
  BOOST_TEST(!parser.banner_version());
  std::vector<AmiMessage> messages = parser.Feed("Asterisk Call Manager/13.0.0\r\nResponse: Succ");
  BOOST_TEST(messages.empty());
  BOOST_REQUIRE(parser.banner_version());
  BOOST_TEST(*parser.banner_version() == "13.0.0");
  messages = parser.Feed("ess\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n");
  BOOST_REQUIRE_EQUAL(messages.size(), 1u);
  BOOST_TEST(messages[0].Get("Response") == "Success");
  BOOST_TEST(messages[0].headers().size() == 3u);
}

BOOST_AUTO_TEST_CASE(presence_state_answer_keeps_both_message_headers) {
  AmiParser parser;
  std::vector<AmiMessage> messages = parser.Feed(
      "Response: Success\r\nActionID: 9\r\nMessage: Presence State\r\nState: away\r\n"
      "Subtype: lunch\r\nMessage: Back at 14:00\r\nPresenceMessage: Back at 14:00\r\n\r\n");
  BOOST_REQUIRE_EQUAL(messages.size(), 1u);
  BOOST_TEST(messages[0].GetAll("Message") ==
             std::vector<std::string>({"Presence State", "Back at 14:00"}));
  BOOST_TEST(messages[0].Get("PresenceMessage") == "Back at 14:00");  // a colon in a value stays
}

BOOST_AUTO_TEST_CASE(events_interleaved_with_responses_keep_their_order_and_kind) {
  AmiParser parser;
  std::vector<AmiMessage> messages = parser.Feed(
      "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/1001-00000007\r\n\r\n"
      "Response: Success\r\nActionID: 2\r\nMessage: Updated database successfully\r\n\r\n"
      "\r\n"  // a stray empty line between messages is no message
      "Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: 3\r\nResponse: Failure\r\n"
      "Reason: 5\r\n\r\n");
  BOOST_REQUIRE_EQUAL(messages.size(), 3u);
  BOOST_TEST(messages[0].IsEvent());
  BOOST_TEST(!messages[0].IsResponse());
  BOOST_TEST(messages[0].ActionId() == "");
  BOOST_TEST(messages[1].IsResponse());
  BOOST_TEST(!messages[1].IsEvent());
  BOOST_TEST(messages[1].ActionId() == "2");
  // OriginateResponse carries Response: as a field; Event: makes it an event.
  BOOST_TEST(messages[2].IsEvent());
  BOOST_TEST(!messages[2].IsResponse());
  BOOST_TEST(messages[2].ActionId() == "3");
  BOOST_TEST(messages[2].Get("Reason") == "5");
}

BOOST_AUTO_TEST_CASE(values_lose_the_spaces_after_the_colon_only) {
  AmiParser parser;
  std::vector<AmiMessage> messages = parser.Feed("Message:   two  words \r\nNoColonLine\r\n\r\n");
  BOOST_REQUIRE_EQUAL(messages.size(), 1u);
  BOOST_TEST(messages[0].Get("Message") == "two  words ");
  BOOST_TEST(messages[0].Has("NoColonLine"));
}

// Sizes a server controls are bounded: a message with an endless line, a long ended line, or
// too many headers is dropped and counted, and the next message is read as usual.
BOOST_AUTO_TEST_CASE(oversized_messages_are_dropped_and_the_stream_goes_on) {
  AmiParser parser;
  const std::string long_value(AmiParser::kMaxLineBytes + 1, 'x');
  // An endless line, fed in pieces: dropped up to its end, with its message.
  BOOST_TEST(parser.Feed("Event: Newchannel\r\nChannel: " + long_value).empty());
  BOOST_TEST(parser.Feed(long_value).empty());
  std::vector<AmiMessage> next = parser.Feed("x\r\nUniqueid: 1\r\n\r\nResponse: Success\r\n\r\n");
  BOOST_REQUIRE_EQUAL(next.size(), 1u);
  BOOST_TEST(next[0].Get("Response") == "Success");
  BOOST_TEST(parser.discarded() == 1u);
  // A long line that ends in the same chunk.
  next = parser.Feed("Event: A\r\nB: " + long_value + "\r\n\r\nEvent: C\r\n\r\n");
  BOOST_REQUIRE_EQUAL(next.size(), 1u);
  BOOST_TEST(next[0].Get("Event") == "C");
  BOOST_TEST(parser.discarded() == 2u);
  // Too many headers.
  std::string many = "Event: Many\r\n";
  for (std::size_t i = 0; i < AmiParser::kMaxHeaders + 1; ++i) many += "H: v\r\n";
  next = parser.Feed(many + "\r\nEvent: D\r\n\r\n");
  BOOST_REQUIRE_EQUAL(next.size(), 1u);
  BOOST_TEST(next[0].Get("Event") == "D");
  BOOST_TEST(parser.discarded() == 3u);
}

BOOST_DATA_TEST_CASE(presence_state_values,
                     data::make({"away", "dnd", "dnd", "available"}) ^
                         data::make({"", "", "", "lunch"}) ^
                         data::make({"Back at 14:00", "Lunch, back at 2", "a\nb", "x"}) ^
                         data::make({"away,,Back at 14:00", "dnd,,THVuY2gsIGJhY2sgYXQgMg==,e",
                                     "dnd,,YQpi,e", "available,lunch,x"}),
                     state, subtype, message, expected) {
  BOOST_TEST(PresenceStateValue(state, subtype, message) == expected);
}

BOOST_DATA_TEST_CASE(originate_reasons_are_explained,
                     data::make({0, 1, 3, 4, 5, 8, 42}) ^
                         data::make({"the channel could not be created", "hung up",
                                     "timed out while ringing", "answered", "busy", "congestion",
                                     "reason 42"}),
                     reason, text) {
  BOOST_TEST(OriginateReasonText(reason) == text);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::connectors
