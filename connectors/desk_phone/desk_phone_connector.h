#pragma once

// Dials each change's reason code on the user's own desk phone through the phone's action URL
// (integrations.md 6; seed 004 "Dial Command"): the PBX sees the phone dial *61 and switches
// the user to DND exactly as if the user had dialled it.
//
//   {"type": "desk_phone", "vendor": "yealink", "password": {"env": "PHONE_ADMIN_PW"}}
//   {"type": "desk_phone", "vendor": "custom", "url_template": "http://{host}/dial?n={code}"}
//
// The phone's address is users[].identities.desk_phone ("192.0.2.10" or "192.0.2.10:8080").
// Every user has a phone of their own, so a phone that is off or slow delays only its user.

#include "connectors/desk_phone/desk_phone_protocol.h"
#include "connectors/registry.h"

namespace presence::connectors {

struct DeskPhoneSettings final : ConnectorSettings {
  DeskPhoneAccess access;  // vendor, scheme, port, username, password, url_template
  Millis request_timeout{5000};
};

// type "desk_phone": keys vendor, scheme, port, username, password, url_template,
// request_timeout_ms. States take no desk_phone mapping: the state's reason_code is dialled.
ConnectorType DeskPhoneConnectorType();

}  // namespace presence::connectors
