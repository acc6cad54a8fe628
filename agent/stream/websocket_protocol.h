#pragma once

// The WebSocket wire format (RFC 6455), without sockets: the opening handshake's accept key,
// server frames, and an incremental parser of the frames a peer sends. The stream hub uses it
// for live-stream viewers; tests use the client-side helpers to play a browser.
//
// Only what a server that pushes text needs: no extensions (RSV bits must be zero, RFC 6455
// 5.2), no subprotocols, text is not checked for valid UTF-8 (the hub ignores what clients
// send apart from control frames).
//
// Why not a library: the hub serves every viewer from one epoll thread on non-blocking sockets
// that the Poco HTTP server handed over (plain or TLS), so the parser must take whatever bytes
// have arrived and resume later. Poco::Net::WebSocket is made inside a request handler from
// its request and response, and in Poco 1.11 (Debian 12) its receiveFrame reads until a whole
// frame is in (non-blocking reads came in later releases), which needs a blocking socket and a
// thread per viewer (design.md 8: the pool stalls at 16 viewers).
// Boost.Beast runs on Asio streams, which would have to own the sockets instead. websocketpp
// (libwebsocketpp-dev) could be fed bytes through its iostream transport, but it brings its own
// connection state machine and handshake to drive from our loop, for what is here about 200
// lines of framing tested byte for byte.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace presence::agent::websocket {

// RFC 6455 5.2 opcodes. 3-7 and 0xB-0xF are reserved and rejected by the parser.
enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// RFC 6455 7.4.1 close status codes used here.
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kClosePolicyViolation = 1008;
constexpr uint16_t kCloseTooBig = 1009;

// Control frames carry at most 125 payload bytes (RFC 6455 5.5).
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kDefaultMaxMessage = 64 * 1024;

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2 step 5.4): base64 of
// the SHA-1 of the key (as sent, not decoded) followed by the protocol's fixed GUID.
std::string AcceptKey(std::string_view client_key);

// One server frame: FIN set, never masked (RFC 6455 5.1: a server must not mask), the
// shortest length encoding (7-bit up to 125, 16-bit up to 65535, else 64-bit; 5.2).
std::string EncodeFrame(Opcode opcode, std::string_view payload);
// A close frame's payload is the status code in network order, then an optional UTF-8 reason
// (RFC 6455 5.5.1); the whole payload must stay within 125 bytes, longer reasons are cut.
std::string EncodeClose(uint16_t code, std::string_view reason = {});

// A client frame (for tests and clients): masked with `mask_key` as RFC 6455 5.3 requires;
// `fin` false starts or continues a fragmented message.
std::string EncodeClientFrame(Opcode opcode, std::string_view payload, uint32_t mask_key,
                              bool fin = true);

// A complete message: text or binary (fragments joined), or one control frame. For kClose the
// payload is as sent: empty, or the 2-byte code and a reason.
struct Message {
  Opcode opcode = Opcode::kText;
  std::string payload;
};

// The status code at the front of a close payload; 0 for an empty one, which RFC 6455 7.1.5
// reads as 1005 "no status received", a code that must never itself be put in a frame.
uint16_t CloseCode(std::string_view close_payload);

// Parses a byte stream from one peer into messages, whatever way the bytes were split.
class FrameParser {
 public:
  // Whose frames are parsed: a server reads kClient frames, which must be masked; a client
  // reads kServer frames, which must not be (RFC 6455 5.1; either mistake is a protocol error).
  enum class From { kClient, kServer };

  explicit FrameParser(From from = From::kClient, size_t max_message = kDefaultMaxMessage);

  // Appends the messages completed by `bytes` to `out`. Errors, after which the connection
  // must be closed with close_code() and every later Feed fails the same way:
  //   "protocol_error" (1002): wrong masking, RSV bits set, a reserved opcode, a control frame
  //     over 125 bytes or fragmented, a continuation with no message begun, a new message
  //     while one is fragmented, a 64-bit length with its top bit set, a 1-byte close body;
  //   "message_too_big" (1009): a message (all its fragments) over max_message bytes, seen as
  //     soon as a frame header announces it, before its payload is buffered.
  Status Feed(std::string_view bytes, std::vector<Message>& out);

  uint16_t close_code() const { return close_code_; }  // 0 while no error

 private:
  struct Header {
    bool fin = false;
    uint8_t rsv = 0;
    Opcode opcode = Opcode::kText;
    bool masked = false;
    uint8_t mask[4] = {0, 0, 0, 0};
    uint64_t length = 0;
    size_t size = 0;  // header bytes
  };

  // Reads a header from the front of buffer_: false when more bytes are needed.
  bool ReadHeader(Header& header) const;
  Status CheckHeader(const Header& header);
  void Deliver(const Header& header, std::string payload, std::vector<Message>& out);
  Status Fail(uint16_t code, std::string message);

  From from_;
  size_t max_message_;
  std::string buffer_;  // bytes not yet consumed
  size_t consumed_ = 0;
  bool in_message_ = false;  // a fragmented text/binary message is being assembled
  Opcode message_opcode_ = Opcode::kText;
  std::string message_;
  uint16_t close_code_ = 0;
  Error error_;
};

}  // namespace presence::agent::websocket
