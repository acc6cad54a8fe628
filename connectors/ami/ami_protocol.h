#pragma once

// Asterisk Manager Interface framing (integrations.md 4.1): after a one-line banner, messages
// of "Key: Value" lines, each message ended by an empty line. Actions go one way; responses
// and events come back interleaved and are told apart by Response:/Event: and ActionID.
// Pure: building and parsing only, no sockets.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace presence::connectors {

// One AMI message: an action, a response or an event. Headers keep their order and their
// repeats: a PresenceState answer carries two Message headers on purpose (4.5), an Originate
// may carry several Variable headers (4.3).
class AmiMessage {
 public:
  using Header = std::pair<std::string, std::string>;

  AmiMessage() = default;
  AmiMessage(std::initializer_list<Header> headers) : headers_(headers) {}

  // A message whose first header is "Action: <name>".
  static AmiMessage Action(std::string_view name);

  // Appends a header, even when one of that name exists already.
  AmiMessage& Add(std::string_view key, std::string_view value);
  // Replaces the value of the first header of that name, or appends one.
  AmiMessage& Set(std::string_view key, std::string_view value);

  // The first value of that header (name compared case-insensitively), or nullopt / "".
  std::optional<std::string> Find(std::string_view key) const;
  std::string Get(std::string_view key) const;
  // Every value of that header, in order.
  std::vector<std::string> GetAll(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key).has_value(); }
  // Whether the header is there with this value (value compared case-insensitively too:
  // "EventList: start" vs "EventList: Complete" differ only in words, not case).
  bool Is(std::string_view key, std::string_view value) const;

  const std::vector<Header>& headers() const { return headers_; }
  bool empty() const { return headers_.empty(); }

  // An event may carry a Response field of its own (OriginateResponse, 4.3): Event: decides.
  bool IsResponse() const { return Has("Response") && !IsEvent(); }
  bool IsEvent() const { return Has("Event"); }
  std::string ActionId() const { return Get("ActionID"); }
  // Sets ActionID right after the Action header (where 4.1-4.3 show it), replacing any.
  void SetActionId(std::string_view id);

  // "Key: Value\r\n" per header, then "\r\n". A CR or LF inside a key or value is sent as a
  // space: a configured label must not end its line early and smuggle in another header.
  std::string Serialize() const;

 private:
  std::vector<Header> headers_;
};

// "EventList: start" on a response: the items follow as events with the same ActionID and
// end with an event carrying "EventList: Complete" (4.1, DBGet in 4.4).
inline bool IsListStart(const AmiMessage& message) { return message.Is("EventList", "start"); }
inline bool IsListComplete(const AmiMessage& message) {
  return message.Is("EventList", "Complete");
}

// Splits the byte stream a server sends into messages. Fed any chunks (a message may arrive
// in pieces, or several in one chunk); accepts CRLF and bare LF line ends. What a server
// controls is bounded: a message with a line over kMaxLineBytes (ended or not), or with more
// than kMaxMessageBytes or kMaxHeaders in all, is dropped whole and counted (discarded()), and
// the stream goes on with the next message; memory stays within about those bounds.
class AmiParser {
 public:
  static constexpr std::size_t kMaxLineBytes = 64 * 1024;
  static constexpr std::size_t kMaxMessageBytes = 1024 * 1024;
  static constexpr std::size_t kMaxHeaders = 1024;

  // Appends bytes and returns the messages they complete, in order.
  std::vector<AmiMessage> Feed(std::string_view bytes);

  // The version of the banner "Asterisk Call Manager/<version>" once it has been seen (the
  // first line a server sends, 4.1; only the prefix is matched).
  const std::optional<std::string>& banner_version() const { return banner_version_; }
  // Messages dropped for a size over the bounds above.
  uint64_t discarded() const { return discarded_; }

 private:
  void TakeLine(std::string_view line, std::vector<AmiMessage>& out);
  void Discard();  // the message being read is dropped when it ends

  std::string buffer_;
  AmiMessage current_;
  std::size_t current_bytes_ = 0;
  bool discarding_ = false;     // the message being read is over a bound
  bool skipping_line_ = false;  // inside a line over kMaxLineBytes: bytes up to its end go
  uint64_t discarded_ = 0;
  std::optional<std::string> banner_version_;
};

// The value written to PRESENCE_STATE(CustomPresence:<name>) (4.5): "state,subtype,message".
// The function splits its value at commas, so a subtype or message holding a comma (or a line
// break) is sent base64-encoded with the "e" option: "state,<b64 subtype>,<b64 message>,e".
std::string PresenceStateValue(std::string_view state, std::string_view subtype,
                               std::string_view message);

// What an OriginateResponse Reason number means (4.3: control-frame codes).
std::string OriginateReasonText(int reason);

}  // namespace presence::connectors
