#include "agent/stream/websocket_protocol.h"

#include <boost/test/unit_test.hpp>
#include <initializer_list>
#include <string>
#include <vector>

namespace presence::agent::websocket {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string text;
  for (int value : values) text.push_back(static_cast<char>(value));
  return text;
}

// The first `count` bytes of a frame, for comparing headers.
std::string Head(const std::string& frame, size_t count) { return frame.substr(0, count); }

struct Fed {
  Status status;
  std::vector<Message> messages;
};

Fed FeedAll(FrameParser& parser, const std::vector<std::string>& pieces) {
  Fed fed;
  for (const std::string& piece : pieces) {
    fed.status = parser.Feed(piece, fed.messages);
    if (!fed.status.ok()) break;
  }
  return fed;
}

Fed FeedClient(const std::string& bytes, size_t max_message = kDefaultMaxMessage) {
  FrameParser parser(FrameParser::From::kClient, max_message);
  return FeedAll(parser, {bytes});
}

void CheckMessages(const std::vector<Message>& got, const std::vector<Message>& want) {
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST_CONTEXT("message " << i) {
      BOOST_CHECK(got[i].opcode == want[i].opcode);
      BOOST_CHECK(got[i].payload == want[i].payload);
    }
  }
}

void CheckError(const Fed& fed, uint16_t code) {
  BOOST_REQUIRE(!fed.status.ok());
  BOOST_CHECK_EQUAL(fed.status.error().code,
                    code == kCloseTooBig ? "message_too_big" : "protocol_error");
}

constexpr uint32_t kRfcMask = 0x37fa213d;  // the masking key of RFC 6455 5.7's examples

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_protocol_test)

BOOST_AUTO_TEST_CASE(accept_key_matches_rfc_6455_example) {
  // RFC 6455 1.3 (and 4.2.2): base64 of a 20-byte SHA-1, so 28 characters.
  BOOST_CHECK_EQUAL(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

BOOST_AUTO_TEST_CASE(server_text_frame_matches_rfc_6455_example) {
  // RFC 6455 5.7: a single-frame unmasked text message "Hello".
  BOOST_CHECK(EncodeFrame(Opcode::kText, "Hello") == Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  BOOST_CHECK(EncodeFrame(Opcode::kPing, "Hello") == Bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
}

BOOST_AUTO_TEST_CASE(frame_length_uses_7_16_or_64_bits) {
  const std::string at125 = EncodeFrame(Opcode::kText, std::string(125, 'a'));
  BOOST_CHECK_EQUAL(at125.size(), 2u + 125);
  BOOST_CHECK(Head(at125, 2) == Bytes({0x81, 125}));

  const std::string at126 = EncodeFrame(Opcode::kText, std::string(126, 'a'));
  BOOST_CHECK_EQUAL(at126.size(), 4u + 126);
  BOOST_CHECK(Head(at126, 4) == Bytes({0x81, 126, 0x00, 0x7E}));

  const std::string at65535 = EncodeFrame(Opcode::kText, std::string(65535, 'a'));
  BOOST_CHECK_EQUAL(at65535.size(), 4u + 65535);
  BOOST_CHECK(Head(at65535, 4) == Bytes({0x81, 126, 0xFF, 0xFF}));

  const std::string at65536 = EncodeFrame(Opcode::kBinary, std::string(65536, 'a'));
  BOOST_CHECK_EQUAL(at65536.size(), 10u + 65536);
  BOOST_CHECK(Head(at65536, 10) == Bytes({0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  BOOST_CHECK(at65536.substr(10) == std::string(65536, 'a'));
}

BOOST_AUTO_TEST_CASE(server_control_frames) {
  BOOST_CHECK(EncodeFrame(Opcode::kPing, "") == Bytes({0x89, 0x00}));
  BOOST_CHECK(EncodeFrame(Opcode::kPong, "abc") == Bytes({0x8A, 0x03, 'a', 'b', 'c'}));
  BOOST_CHECK(EncodeClose(kCloseNormal) == Bytes({0x88, 0x02, 0x03, 0xE8}));
  BOOST_CHECK(EncodeClose(kCloseTooBig, "big") == Bytes({0x88, 0x05, 0x03, 0xF1, 'b', 'i', 'g'}));
  // A control payload holds 125 bytes at most: a long reason is cut to 123.
  const std::string long_close = EncodeClose(kCloseProtocolError, std::string(300, 'r'));
  BOOST_CHECK(Head(long_close, 4) == Bytes({0x88, 125, 0x03, 0xEA}));
  BOOST_CHECK_EQUAL(long_close.size(), 2u + 125);
}

BOOST_AUTO_TEST_CASE(close_code_reads_the_first_two_bytes) {
  BOOST_CHECK_EQUAL(CloseCode(Bytes({0x03, 0xE8})), 1000);
  BOOST_CHECK_EQUAL(CloseCode(Bytes({0x03, 0xE9, 'b', 'y', 'e'})), 1001);
  BOOST_CHECK_EQUAL(CloseCode(""), 0);
}

BOOST_AUTO_TEST_CASE(client_frame_matches_rfc_6455_masked_example) {
  // RFC 6455 5.7: a single-frame masked text message "Hello", and the masked pong.
  const std::string hello =
      Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  BOOST_CHECK(EncodeClientFrame(Opcode::kText, "Hello", kRfcMask) == hello);
  const std::string pong =
      Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  BOOST_CHECK(EncodeClientFrame(Opcode::kPong, "Hello", kRfcMask) == pong);

  const Fed fed = FeedClient(hello + pong);
  BOOST_REQUIRE(fed.status.ok());
  CheckMessages(fed.messages, {{Opcode::kText, "Hello"}, {Opcode::kPong, "Hello"}});
}

BOOST_AUTO_TEST_CASE(server_frames_parse_unmasked_including_rfc_fragments) {
  // RFC 6455 5.7: "Hel" + "lo" as two unmasked fragments.
  const std::string fragmented = Bytes({0x01, 0x03, 'H', 'e', 'l', 0x80, 0x02, 'l', 'o'});
  FrameParser parser(FrameParser::From::kServer);
  const Fed fed = FeedAll(parser, {fragmented, EncodeFrame(Opcode::kText, std::string(300, 'x'))});
  BOOST_REQUIRE(fed.status.ok());
  CheckMessages(fed.messages, {{Opcode::kText, "Hello"}, {Opcode::kText, std::string(300, 'x')}});
}

BOOST_AUTO_TEST_CASE(client_stream_parses_the_same_at_every_split) {
  // A text message, a 16-bit-length binary one, a fragmented text with a ping between its
  // fragments (RFC 6455 5.4 allows control frames there), then a close.
  std::string stream = EncodeClientFrame(Opcode::kText, "first", 0x01020304);
  stream += EncodeClientFrame(Opcode::kBinary, std::string(300, '\x7f'), 0xdeadbeef);
  stream += EncodeClientFrame(Opcode::kText, "frag", 0x11223344, false);
  stream += EncodeClientFrame(Opcode::kPing, "are you there", 0x55667788);
  stream += EncodeClientFrame(Opcode::kContinuation, "men", 0x99aabbcc, false);
  stream += EncodeClientFrame(Opcode::kContinuation, "ted", 0xddeeff00, true);
  stream += EncodeClientFrame(Opcode::kClose, Bytes({0x03, 0xE8}) + "bye", 0x0badf00d);
  const std::vector<Message> want = {{Opcode::kText, "first"},
                                     {Opcode::kBinary, std::string(300, '\x7f')},
                                     {Opcode::kPing, "are you there"},
                                     {Opcode::kText, "fragmented"},
                                     {Opcode::kClose, Bytes({0x03, 0xE8}) + "bye"}};

  for (size_t split = 0; split <= stream.size(); ++split) {
    BOOST_TEST_CONTEXT("split at " << split) {
      FrameParser parser;
      const Fed fed = FeedAll(parser, {stream.substr(0, split), stream.substr(split)});
      BOOST_REQUIRE(fed.status.ok());
      CheckMessages(fed.messages, want);
    }
  }
  FrameParser parser;
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  const Fed fed = FeedAll(parser, bytes);
  BOOST_REQUIRE(fed.status.ok());
  CheckMessages(fed.messages, want);
}

BOOST_AUTO_TEST_CASE(client_frame_with_64_bit_length_parses_byte_by_byte) {
  const std::string payload(70000, 'z');
  const std::string frame = EncodeClientFrame(Opcode::kText, payload, 0xa1b2c3d4);
  BOOST_CHECK(Head(frame, 10) == Bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70}));
  FrameParser parser(FrameParser::From::kClient, 100000);
  std::vector<Message> messages;
  for (size_t i = 0; i < frame.size(); ++i) {
    BOOST_REQUIRE(parser.Feed(frame.substr(i, 1), messages).ok());
    BOOST_REQUIRE_EQUAL(messages.size(), i + 1 == frame.size() ? 1u : 0u);
  }
  BOOST_CHECK(messages[0].payload == payload);
}

BOOST_AUTO_TEST_CASE(unmasked_client_frame_is_protocol_error) {
  FrameParser parser;
  std::vector<Message> messages;
  const Status status = parser.Feed(EncodeFrame(Opcode::kText, "Hello"), messages);
  CheckError({status, messages}, kCloseProtocolError);
  BOOST_CHECK_EQUAL(parser.close_code(), kCloseProtocolError);
  BOOST_CHECK(messages.empty());
  // The connection is done: a good frame afterwards fails the same way.
  CheckError({parser.Feed(EncodeClientFrame(Opcode::kText, "ok", 1), messages), messages},
             kCloseProtocolError);
  BOOST_CHECK(messages.empty());
}

BOOST_AUTO_TEST_CASE(masked_server_frame_is_protocol_error) {
  FrameParser parser(FrameParser::From::kServer);
  std::vector<Message> messages;
  const Status status = parser.Feed(EncodeClientFrame(Opcode::kText, "Hello", 7), messages);
  CheckError({status, messages}, kCloseProtocolError);
}

BOOST_AUTO_TEST_CASE(oversized_control_frame_fails_on_its_header) {
  // 126 bytes of ping: only the header is fed; the error needs no payload.
  const std::string frame = EncodeClientFrame(Opcode::kPing, std::string(126, 'p'), 9);
  const Fed fed = FeedClient(frame.substr(0, 8));
  CheckError(fed, kCloseProtocolError);
  BOOST_CHECK(FeedClient(EncodeClientFrame(Opcode::kPing, std::string(125, 'p'), 9)).status.ok());
}

BOOST_AUTO_TEST_CASE(fragmented_control_frame_is_protocol_error) {
  CheckError(FeedClient(EncodeClientFrame(Opcode::kPing, "x", 9, false)), kCloseProtocolError);
  CheckError(FeedClient(EncodeClientFrame(Opcode::kClose, "", 9, false)), kCloseProtocolError);
}

BOOST_AUTO_TEST_CASE(bad_fragment_sequences_are_protocol_errors) {
  CheckError(FeedClient(EncodeClientFrame(Opcode::kContinuation, "x", 9)), kCloseProtocolError);
  CheckError(FeedClient(EncodeClientFrame(Opcode::kText, "a", 9, false) +
                        EncodeClientFrame(Opcode::kText, "b", 9)),
             kCloseProtocolError);
}

BOOST_AUTO_TEST_CASE(reserved_bits_opcodes_and_lengths_are_protocol_errors) {
  std::string rsv = EncodeClientFrame(Opcode::kText, "x", 9);
  rsv[0] = static_cast<char>(rsv[0] | 0x40);  // RSV1 without a negotiated extension
  CheckError(FeedClient(rsv), kCloseProtocolError);
  for (int opcode : {0x3, 0x7, 0xB, 0xF}) {
    BOOST_TEST_CONTEXT("opcode " << opcode) {
      CheckError(FeedClient(EncodeClientFrame(static_cast<Opcode>(opcode), "x", 9)),
                 kCloseProtocolError);
    }
  }
  // RFC 6455 5.2: the most significant bit of a 64-bit length must be 0.
  CheckError(FeedClient(Bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})),
             kCloseProtocolError);
  // A close body is empty or at least a 2-byte code (RFC 6455 5.5.1).
  CheckError(FeedClient(EncodeClientFrame(Opcode::kClose, "x", 9)), kCloseProtocolError);
}

BOOST_AUTO_TEST_CASE(message_over_the_limit_is_too_big) {
  // Exactly at the limit is fine.
  const Fed at_limit = FeedClient(EncodeClientFrame(Opcode::kText, std::string(100, 'a'), 9), 100);
  BOOST_REQUIRE(at_limit.status.ok());
  BOOST_CHECK_EQUAL(at_limit.messages.size(), 1u);

  // One frame over it fails on the header alone, before the payload is buffered.
  const std::string big = EncodeClientFrame(Opcode::kText, std::string(65537, 'a'), 9);
  const Fed header_only = FeedClient(big.substr(0, 14));
  CheckError(header_only, kCloseTooBig);

  // Fragments that add up to more than the limit.
  FrameParser parser(FrameParser::From::kClient, 100);
  std::vector<Message> messages;
  BOOST_REQUIRE(
      parser.Feed(EncodeClientFrame(Opcode::kText, std::string(60, 'a'), 9, false), messages).ok());
  const Status status = parser.Feed(
      EncodeClientFrame(Opcode::kContinuation, std::string(41, 'a'), 9, true), messages);
  CheckError({status, messages}, kCloseTooBig);
  BOOST_CHECK_EQUAL(parser.close_code(), kCloseTooBig);
  BOOST_CHECK(messages.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent::websocket
