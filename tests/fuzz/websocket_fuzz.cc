// Fuzz target for the WebSocket frame reader (agent/stream/websocket_protocol.h), which reads what
// every live-stream viewer sends. Any bytes, split anywhere, must give messages or one of the
// documented errors, and the split must not matter: the same bytes fed whole and fed in pieces
// give the same messages and the same outcome.
//
// Input: byte 0 picks the side (bit 0: parse server frames, else client frames) and the
// message limit (bits 1-3: 0 the default 64 KiB, n a limit of 2^(n+3) bytes, 16 to 1024);
// byte 1 is the size of the pieces (0: one byte at a time); the rest is the byte stream.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/stream/websocket_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace ws = presence::agent::websocket;

struct Outcome {
  std::vector<ws::Message> messages;
  bool ok = true;
  std::string code;
  uint16_t close_code = 0;
};

void Check(const ws::Message& message, size_t max_message) {
  const auto opcode = static_cast<uint8_t>(message.opcode);
  FUZZ_CHECK(opcode != static_cast<uint8_t>(ws::Opcode::kContinuation));
  if (opcode >= static_cast<uint8_t>(ws::Opcode::kClose)) {
    FUZZ_CHECK(message.payload.size() <= ws::kMaxControlPayload);
  } else {
    FUZZ_CHECK(message.payload.size() <= max_message);
  }
  if (message.opcode == ws::Opcode::kClose) FUZZ_CHECK(message.payload.size() != 1);
}

Outcome Parse(ws::FrameParser::From from, size_t max_message, std::string_view bytes,
              size_t piece) {
  ws::FrameParser parser(from, max_message);
  Outcome outcome;
  for (size_t at = 0; at < bytes.size() && outcome.ok; at += piece) {
    const presence::Status status = parser.Feed(bytes.substr(at, piece), outcome.messages);
    if (status.ok()) continue;
    outcome.ok = false;
    outcome.code = status.error().code;
    outcome.close_code = parser.close_code();
    FUZZ_CHECK(outcome.code == "protocol_error" || outcome.code == "message_too_big");
    FUZZ_CHECK(outcome.close_code ==
               (outcome.code == "protocol_error" ? ws::kCloseProtocolError : ws::kCloseTooBig));
    // After an error every later Feed fails the same way and delivers nothing.
    std::vector<ws::Message> later;
    const presence::Status again = parser.Feed(std::string_view("\x81\x00", 2), later);
    FUZZ_CHECK(!again.ok() && again.error().code == outcome.code && later.empty());
  }
  if (outcome.ok) FUZZ_CHECK(parser.close_code() == 0);
  for (const ws::Message& message : outcome.messages) Check(message, max_message);
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto from =
      (data[0] & 1) != 0 ? ws::FrameParser::From::kServer : ws::FrameParser::From::kClient;
  const unsigned limit_bits = (data[0] >> 1) & 7;
  const size_t max_message =
      limit_bits == 0 ? ws::kDefaultMaxMessage : size_t{1} << (limit_bits + 3);
  const size_t piece = data[1] == 0 ? 1 : data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  const Outcome whole = Parse(from, max_message, bytes, bytes.size() == 0 ? 1 : bytes.size());
  const Outcome pieces = Parse(from, max_message, bytes, piece);
  FUZZ_CHECK(whole.ok == pieces.ok && whole.code == pieces.code);
  FUZZ_CHECK(whole.close_code == pieces.close_code);
  FUZZ_CHECK(whole.messages.size() == pieces.messages.size());
  for (size_t i = 0; i < whole.messages.size(); ++i) {
    FUZZ_CHECK(whole.messages[i].opcode == pieces.messages[i].opcode);
    FUZZ_CHECK(whole.messages[i].payload == pieces.messages[i].payload);
  }
  return 0;
}
