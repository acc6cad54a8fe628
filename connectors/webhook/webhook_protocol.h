#pragma once

// Signed webhook deliveries as pure functions: the JSON body of one change and its signature.
// The receiver's side is described in samples/webhook/README.md.
//
//   POST <url>
//   Content-Type: application/json
//   X-Presence-Delivery: <connector>-<outbox id>     (the same on every retry: dedupe on it)
//   X-Presence-Timestamp: <unix seconds at send time>
//   X-Presence-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

#include <cstdint>
#include <string>
#include <string_view>

#include "reasoncodes/user.h"
#include "tracking/ledger_types.h"

namespace presence::connectors {

inline constexpr std::string_view kWebhookEventType = "presence.changed";

// "<connector name>-<outbox id>": unique per connector over the ledger's life.
std::string WebhookDeliveryId(std::string_view connector, int64_t outbox_id);

// The body, UTF-8 JSON on one line, members in this order:
//   {"type":"presence.changed","delivery":"hook-42",
//    "user":{"id":"1001","name":"Ann","extension":"1001","team":"Sales"},
//    "change":{"at":"2026-11-21T09:30:00.000Z","from_label":"Ready for Calls",
//              "label":"Lunch","reason_code":"*62","status":3,"status_name":"Away",
//              "source":"agent","cause":"select"}}
// from_label is "" for a user's first change. Bytes that are not UTF-8 become U+FFFD.
std::string WebhookBody(std::string_view delivery_id, const reasoncodes::User& user,
                        const tracking::Change& change);

// Lowercase hex HMAC-SHA256 (RFC 2104 with SHA-256, as in RFC 4231).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// "sha256=" + HmacSha256Hex(secret, timestamp + "." + body).
std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);

}  // namespace presence::connectors
