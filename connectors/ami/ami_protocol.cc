#include "connectors/ami/ami_protocol.h"

#include <Poco/String.h>

#include <algorithm>

#include "common/base64.h"

namespace presence::connectors {
namespace {

constexpr std::string_view kBannerPrefix = "Asterisk Call Manager/";

// A CR or LF would end the header line early (see Serialize).
void AppendOneLine(std::string& out, std::string_view text) {
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
}

bool NeedsEncoding(std::string_view text) {
  return text.find_first_of(",\r\n") != std::string_view::npos;
}

// AMI header names are case-insensitive (4.1).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return Poco::icompare(a, b) == 0; }

}  // namespace

// ---- AmiMessage -----------------------------------------------------------------------------

AmiMessage AmiMessage::Action(std::string_view name) {
  AmiMessage message;
  message.Add("Action", name);
  return message;
}

AmiMessage& AmiMessage::Add(std::string_view key, std::string_view value) {
  headers_.emplace_back(std::string(key), std::string(value));
  return *this;
}

AmiMessage& AmiMessage::Set(std::string_view key, std::string_view value) {
  for (Header& header : headers_) {
    if (EqualsIgnoreCase(header.first, key)) {
      header.second = std::string(value);
      return *this;
    }
  }
  return Add(key, value);
}

std::optional<std::string> AmiMessage::Find(std::string_view key) const {
  for (const Header& header : headers_) {
    if (EqualsIgnoreCase(header.first, key)) return header.second;
  }
  return std::nullopt;
}

std::string AmiMessage::Get(std::string_view key) const { return Find(key).value_or(""); }

std::vector<std::string> AmiMessage::GetAll(std::string_view key) const {
  std::vector<std::string> values;
  for (const Header& header : headers_) {
    if (EqualsIgnoreCase(header.first, key)) values.push_back(header.second);
  }
  return values;
}

bool AmiMessage::Is(std::string_view key, std::string_view value) const {
  std::optional<std::string> found = Find(key);
  return found && EqualsIgnoreCase(*found, value);
}

void AmiMessage::SetActionId(std::string_view id) {
  std::erase_if(headers_,
                [](const Header& header) { return EqualsIgnoreCase(header.first, "ActionID"); });
  auto action = std::find_if(headers_.begin(), headers_.end(), [](const Header& header) {
    return EqualsIgnoreCase(header.first, "Action");
  });
  auto at = action == headers_.end() ? headers_.begin() : action + 1;
  headers_.insert(at, Header("ActionID", std::string(id)));
}

std::string AmiMessage::Serialize() const {
  std::string out;
  for (const Header& header : headers_) {
    AppendOneLine(out, header.first);
    out += ": ";
    AppendOneLine(out, header.second);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

// ---- AmiParser ------------------------------------------------------------------------------

std::vector<AmiMessage> AmiParser::Feed(std::string_view bytes) {
  std::vector<AmiMessage> out;
  if (skipping_line_) {
    std::size_t end = bytes.find('\n');
    if (end == std::string_view::npos) return out;
    skipping_line_ = false;
    bytes.remove_prefix(end + 1);
  }
  buffer_.append(bytes);
  std::size_t start = 0;
  for (std::size_t end; (end = buffer_.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string_view line(buffer_.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes) {
      Discard();
      continue;
    }
    TakeLine(line, out);
  }
  buffer_.erase(0, start);
  if (buffer_.size() > kMaxLineBytes) {  // a line this long is dropped up to its end
    Discard();
    skipping_line_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  return out;
}

void AmiParser::Discard() {
  discarding_ = true;
  current_ = AmiMessage();
  current_bytes_ = 0;
}

void AmiParser::TakeLine(std::string_view line, std::vector<AmiMessage>& out) {
  if (line.empty()) {  // the end of a message; extra empty lines between messages are skipped
    if (discarding_) {
      ++discarded_;
      discarding_ = false;
    } else if (!current_.empty()) {
      out.push_back(std::exchange(current_, AmiMessage()));
    }
    current_bytes_ = 0;
    return;
  }
  if (discarding_) return;
  current_bytes_ += line.size();
  if (current_bytes_ > kMaxMessageBytes || current_.headers().size() >= kMaxHeaders) {
    Discard();
    return;
  }
  // The banner is one line with no empty line after it (4.1); it cannot be a header.
  if (current_.empty() && line.starts_with(kBannerPrefix)) {
    banner_version_ = std::string(line.substr(kBannerPrefix.size()));
    return;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {  // not a header: kept whole so nothing is lost
    current_.Add(line, "");
    return;
  }
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  current_.Add(line.substr(0, colon), value);
}

// ---- values ---------------------------------------------------------------------------------

std::string PresenceStateValue(std::string_view state, std::string_view subtype,
                               std::string_view message) {
  std::string value(state);
  if (NeedsEncoding(subtype) || NeedsEncoding(message)) {
    return value + "," + Base64Encode(subtype) + "," + Base64Encode(message) + ",e";
  }
  value += ",";
  value += subtype;
  value += ",";
  value += message;
  return value;
}

std::string OriginateReasonText(int reason) {
  switch (reason) {
    case 0:
      return "the channel could not be created";
    case 1:
      return "hung up";
    case 3:
      return "timed out while ringing";
    case 4:
      return "answered";
    case 5:
      return "busy";
    case 8:
      return "congestion";
    default:
      return "reason " + std::to_string(reason);
  }
}

}  // namespace presence::connectors
