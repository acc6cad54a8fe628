#include "connectors/webhook/webhook_protocol.h"

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

#include "reasoncodes/json_text.h"
#include "reasoncodes/source.h"
#include "reasoncodes/status_code.h"

namespace presence::connectors {
namespace {

using reasoncodes::AppendJsonString;

// Poco 1.11's SHA2Engine lacks the BLOCK_SIZE / DIGEST_SIZE that HMACEngine reads.
class Sha256Engine : public Poco::SHA2Engine {
 public:
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

// "name":"value", after a comma unless it opens its object.
void AppendMember(std::string& out, std::string_view name, std::string_view value) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, name);
  out += ':';
  AppendJsonString(out, value);
}

}  // namespace

std::string WebhookDeliveryId(std::string_view connector, int64_t outbox_id) {
  return std::string(connector) + "-" + std::to_string(outbox_id);
}

std::string WebhookBody(std::string_view delivery_id, const reasoncodes::User& user,
                        const tracking::Change& change) {
  std::string out = "{";
  AppendMember(out, "type", kWebhookEventType);
  AppendMember(out, "delivery", delivery_id);
  out += ",\"user\":{";
  AppendMember(out, "id", user.id);
  AppendMember(out, "name", user.name);
  AppendMember(out, "extension", user.extension);
  AppendMember(out, "team", user.team);
  out += "},\"change\":{";
  AppendMember(out, "at", tracking::FormatTime(change.at));
  AppendMember(out, "from_label", change.from_label);
  AppendMember(out, "label", change.label);
  AppendMember(out, "reason_code", change.reason_code);
  out += ",\"status\":" + std::to_string(reasoncodes::ToInt(change.status));
  AppendMember(out, "status_name", reasoncodes::StatusName(change.status));
  AppendMember(out, "source", reasoncodes::SourceName(change.source));
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
