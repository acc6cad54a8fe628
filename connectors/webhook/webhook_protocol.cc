#include "connectors/webhook/webhook_protocol.h"

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

#include "common/json_writer.h"
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

}  // namespace

std::string WebhookDeliveryId(std::string_view connector, int64_t outbox_id) {
  return std::string(connector) + "-" + std::to_string(outbox_id);
}

std::string WebhookBody(std::string_view delivery_id, const reasoncodes::User& user,
                        const tracking::Change& change) {
  JsonWriter out;
  out.BeginObject();
  out.Key("type").String(kWebhookEventType).Key("delivery").String(delivery_id);
  out.Key("user").BeginObject();
  out.Key("id").String(user.id).Key("name").String(user.name);
  out.Key("extension").String(user.extension).Key("team").String(user.team);
  out.EndObject();
  out.Key("change").BeginObject();
  out.Key("at").String(FormatTime(change.at));
  out.Key("from_label").String(change.from_label).Key("label").String(change.label);
  out.Key("reason_code").String(change.reason_code);
  out.Key("status").Int(reasoncodes::ToInt(change.status));
  out.Key("status_name").String(reasoncodes::StatusName(change.status));
  out.Key("source").String(reasoncodes::SourceName(change.source));
  out.Key("cause").String(change.cause);
  out.EndObject().EndObject();
  return out.Take();
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
