#pragma once

// `presence-agent sip-check -c FILE --user ID`: for an administrator setting up SIP presence,
// publishes the user's state once against the configured server, subscribes to it as a desk
// phone would, reads back the NOTIFY and takes the test publication down again, printing each
// step and what the server answered.

#include <chrono>
#include <ostream>
#include <string>

#include "connectors/connector.h"
#include "connectors/sip/sip_connector.h"

namespace presence::connectors::sip {

struct SipCheckRequest {
  const SipSettings* settings = nullptr;
  const reasoncodes::User* user = nullptr;
  Change change;                            // the state to publish (label, status, time)
  std::chrono::milliseconds timeout{5000};  // per step
};

// 0 when every step succeeded, else 1; the steps and the server's answers go to `out`.
int RunSipCheck(const SipCheckRequest& request, const Directory& directory, std::ostream& out);

}  // namespace presence::connectors::sip
