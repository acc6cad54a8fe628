#include "connectors/webhook/webhook_protocol.h"

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

#include "reasoncodes/source.h"
#include "reasoncodes/status_code.h"

namespace presence::connectors {
namespace {

// Poco 1.11's SHA2Engine lacks the BLOCK_SIZE / DIGEST_SIZE that HMACEngine reads.
class Sha256Engine : public Poco::SHA2Engine {
 public:
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

bool Continuation(std::string_view text, std::size_t i, unsigned char low = 0x80,
                  unsigned char high = 0xBF) {
  if (i >= text.size()) return false;
  auto byte = static_cast<unsigned char>(text[i]);
  return byte >= low && byte <= high;
}

// Length of the well-formed UTF-8 sequence at text[i] (Unicode 15, table 3-7), or 0.
std::size_t Utf8Length(std::string_view text, std::size_t i) {
  auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return Continuation(text, i + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return Continuation(text, i + 1, low, high) && Continuation(text, i + 2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return Continuation(text, i + 1, low, high) && Continuation(text, i + 2) &&
                   Continuation(text, i + 3)
               ? 4
               : 0;
  }
  return 0;
}

void AppendEscaped(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  auto byte = static_cast<unsigned char>(c);
  out += "\\u00";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xF];
}

void AppendMember(std::string& out, std::string_view name, std::string_view value) {
  AppendJsonString(out, name);
  out += ':';
  AppendJsonString(out, value);
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == '"' || byte == '\\') {
      AppendEscaped(out, text[i++]);
      continue;
    }
    std::size_t length = Utf8Length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  out += '"';
}

std::string WebhookDeliveryId(std::string_view connector, int64_t outbox_id) {
  return std::string(connector) + "-" + std::to_string(outbox_id);
}

std::string WebhookBody(std::string_view delivery_id, const reasoncodes::User& user,
                        const tracking::Change& change) {
  std::string out = "{";
  AppendMember(out, "type", kWebhookEventType);
  out += ',';
  AppendMember(out, "delivery", delivery_id);
  out += ",\"user\":{";
  AppendMember(out, "id", user.id);
  out += ',';
  AppendMember(out, "name", user.name);
  out += ',';
  AppendMember(out, "extension", user.extension);
  out += ',';
  AppendMember(out, "team", user.team);
  out += "},\"change\":{";
  AppendMember(out, "at", tracking::FormatTime(change.at));
  out += ',';
  AppendMember(out, "from_label", change.from_label);
  out += ',';
  AppendMember(out, "label", change.label);
  out += ',';
  AppendMember(out, "reason_code", change.reason_code);
  out += ",\"status\":" + std::to_string(reasoncodes::ToInt(change.status)) + ',';
  AppendMember(out, "status_name", reasoncodes::StatusName(change.status));
  out += ',';
  AppendMember(out, "source", reasoncodes::SourceName(change.source));
  out += ',';
  AppendMember(out, "cause", change.cause);
  out += "}}";
  return out;
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  Poco::HMACEngine<Sha256Engine> hmac(key.data(), key.size());
  hmac.update(data.data(), data.size());
  return Poco::DigestEngine::digestToHex(hmac.digest());
}

std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).append(".").append(body);
  return "sha256=" + HmacSha256Hex(secret, signed_text);
}

}  // namespace presence::connectors
