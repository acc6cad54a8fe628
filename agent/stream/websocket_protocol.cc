#include "agent/stream/websocket_protocol.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA1Engine.h>

#include <algorithm>

#include "common/base64.h"

namespace presence::agent::websocket {
namespace {

// RFC 6455 1.3: the GUID every server appends to the client's key.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr uint8_t kFinBit = 0x80;
constexpr uint8_t kRsvBits = 0x70;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLength16 = 126;  // RFC 6455 5.2: the next 2 bytes hold the length
constexpr uint8_t kLength64 = 127;  // the next 8 bytes hold it

bool IsControl(Opcode opcode) { return (static_cast<uint8_t>(opcode) & 0x08) != 0; }

bool IsKnown(Opcode opcode) {
  switch (opcode) {
    case Opcode::kContinuation:
    case Opcode::kText:
    case Opcode::kBinary:
    case Opcode::kClose:
    case Opcode::kPing:
    case Opcode::kPong:
      return true;
  }
  return false;
}

// The frame header up to (not including) a masking key: first byte, then the length in the
// shortest of the three encodings, network byte order (RFC 6455 5.2).
void AppendHeader(std::string& out, Opcode opcode, bool fin, bool masked, uint64_t length) {
  out.push_back(static_cast<char>((fin ? kFinBit : 0) | static_cast<uint8_t>(opcode)));
  const uint8_t mask = masked ? kMaskBit : 0;
  int length_bytes = 0;
  if (length <= 125) {
    out.push_back(static_cast<char>(mask | length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(mask | kLength16));
    length_bytes = 2;
  } else {
    out.push_back(static_cast<char>(mask | kLength64));
    length_bytes = 8;
  }
  for (int i = length_bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  }
}

uint8_t Byte(const std::string& text, size_t at) { return static_cast<uint8_t>(text[at]); }

}  // namespace

std::string AcceptKey(std::string_view client_key) {
  Poco::SHA1Engine sha1;
  sha1.update(client_key.data(), static_cast<unsigned>(client_key.size()));
  sha1.update(kAcceptGuid.data(), static_cast<unsigned>(kAcceptGuid.size()));
  const Poco::DigestEngine::Digest& digest = sha1.digest();
  return Base64Encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string EncodeFrame(Opcode opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  AppendHeader(frame, opcode, true, false, payload.size());
  frame.append(payload);
  return frame;
}

std::string EncodeClose(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, kMaxControlPayload - 2));
  return EncodeFrame(Opcode::kClose, payload);
}

std::string EncodeClientFrame(Opcode opcode, std::string_view payload, uint32_t mask_key,
                              bool fin) {
  std::string frame;
  frame.reserve(payload.size() + 14);
  AppendHeader(frame, opcode, fin, true, payload.size());
  const uint8_t mask[4] = {static_cast<uint8_t>(mask_key >> 24),
                           static_cast<uint8_t>(mask_key >> 16),
                           static_cast<uint8_t>(mask_key >> 8), static_cast<uint8_t>(mask_key)};
  frame.append(reinterpret_cast<const char*>(mask), 4);
  // RFC 6455 5.3: octet i of the payload is XORed with octet i mod 4 of the key.
  for (size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ mask[i % 4]));
  }
  return frame;
}

uint16_t CloseCode(std::string_view close_payload) {
  if (close_payload.size() < 2) return 0;
  return static_cast<uint16_t>((static_cast<uint8_t>(close_payload[0]) << 8) |
                               static_cast<uint8_t>(close_payload[1]));
}

FrameParser::FrameParser(From from, size_t max_message) : from_(from), max_message_(max_message) {}

Status FrameParser::Feed(std::string_view bytes, std::vector<Message>& out) {
  if (close_code_ != 0) return error_;
  buffer_.append(bytes);
  for (;;) {
    Header header;
    if (!ReadHeader(header)) break;
    if (Status checked = CheckHeader(header); !checked.ok()) return checked;
    if (buffer_.size() - consumed_ - header.size < header.length) break;
    std::string payload = buffer_.substr(consumed_ + header.size, header.length);
    if (header.masked) {
      for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= header.mask[i % 4];
    }
    consumed_ += header.size + header.length;
    Deliver(header, std::move(payload), out);
  }
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  return Status::Ok();
}

bool FrameParser::ReadHeader(Header& header) const {
  const size_t available = buffer_.size() - consumed_;
  if (available < 2) return false;
  const uint8_t first = Byte(buffer_, consumed_);
  const uint8_t second = Byte(buffer_, consumed_ + 1);
  header.fin = (first & kFinBit) != 0;
  header.rsv = first & kRsvBits;
  header.opcode = static_cast<Opcode>(first & kOpcodeBits);
  header.masked = (second & kMaskBit) != 0;
  const uint8_t length7 = second & ~kMaskBit;
  const size_t length_bytes = length7 == kLength16 ? 2 : length7 == kLength64 ? 8 : 0;
  header.size = 2 + length_bytes + (header.masked ? 4 : 0);
  if (available < header.size) return false;
  header.length = length_bytes == 0 ? length7 : 0;
  for (size_t i = 0; i < length_bytes; ++i) {
    header.length = (header.length << 8) | Byte(buffer_, consumed_ + 2 + i);
  }
  if (header.masked) {
    for (size_t i = 0; i < 4; ++i) header.mask[i] = Byte(buffer_, consumed_ + 2 + length_bytes + i);
  }
  return true;
}

Status FrameParser::CheckHeader(const Header& header) {
  if (header.rsv != 0) return Fail(kCloseProtocolError, "RSV bits set without an extension");
  if (!IsKnown(header.opcode)) return Fail(kCloseProtocolError, "reserved opcode");
  if (header.masked != (from_ == From::kClient)) {
    return Fail(kCloseProtocolError,
                from_ == From::kClient ? "client frame not masked" : "server frame masked");
  }
  if (header.length >> 63) return Fail(kCloseProtocolError, "64-bit length with top bit set");
  if (IsControl(header.opcode)) {
    if (!header.fin) return Fail(kCloseProtocolError, "fragmented control frame");
    if (header.length > kMaxControlPayload) {
      return Fail(kCloseProtocolError, "control frame over 125 bytes");
    }
    if (header.opcode == Opcode::kClose && header.length == 1) {
      return Fail(kCloseProtocolError, "close frame with a 1-byte body");
    }
    return Status::Ok();
  }
  const bool continuation = header.opcode == Opcode::kContinuation;
  if (continuation && !in_message_) return Fail(kCloseProtocolError, "continuation of nothing");
  if (!continuation && in_message_) {
    return Fail(kCloseProtocolError, "new message inside a fragmented one");
  }
  const uint64_t so_far = continuation ? message_.size() : 0;
  if (header.length > max_message_ || so_far + header.length > max_message_) {
    return Fail(kCloseTooBig, "message over " + std::to_string(max_message_) + " bytes");
  }
  return Status::Ok();
}

void FrameParser::Deliver(const Header& header, std::string payload, std::vector<Message>& out) {
  // Control frames may arrive between the fragments of a message (RFC 6455 5.4).
  if (IsControl(header.opcode)) {
    out.push_back(Message{header.opcode, std::move(payload)});
    return;
  }
  if (header.opcode != Opcode::kContinuation) {
    message_opcode_ = header.opcode;
    message_ = std::move(payload);
  } else {
    message_.append(payload);
  }
  in_message_ = !header.fin;
  if (header.fin) {
    out.push_back(Message{message_opcode_, std::move(message_)});
    message_.clear();
  }
}

Status FrameParser::Fail(uint16_t code, std::string message) {
  close_code_ = code;
  error_ = Error{code == kCloseTooBig ? "message_too_big" : "protocol_error", std::move(message)};
  buffer_.clear();
  consumed_ = 0;
  return error_;
}

}  // namespace presence::agent::websocket
