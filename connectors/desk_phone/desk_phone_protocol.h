#pragma once

// Dial requests to desk phones through their action URL (integrations.md 6), as pure
// functions: which URL and headers a dial needs, and how to read the phone's answer. No
// sockets here; desk_phone_connector.h sends what these build.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "connectors/connector.h"
#include "connectors/http/http_client.h"

namespace presence::connectors {

enum class DeskPhoneVendor {
  kYealink,      // GET /servlet?key=number=<code>, HTTP Basic auth, 200 = done
  kGrandstream,  // GRP26xx CTI: GET /cgi-bin/api-make_call?passcode=..&phonenumber=.., JSON answer
  kCustom,       // the configured url_template, HTTP Basic auth when a password is set
};

// "yealink", "grandstream", "custom".
std::string_view DeskPhoneVendorName(DeskPhoneVendor vendor);

// How one desk_phone block reaches every phone: the same for all of its users.
struct DeskPhoneAccess {
  DeskPhoneVendor vendor = DeskPhoneVendor::kYealink;
  std::string scheme = "http";     // yealink and grandstream; a custom template has its own
  std::optional<int> port;         // used when the address has no port of its own
  std::string username = "admin";  // Basic auth (yealink, custom)
  // Basic auth, or grandstream's passcode; may be empty (custom). A secret: never logged,
  // never in Details or messages.
  std::string password;
  std::string url_template;  // custom only
};

// One dial: whose phone, and what it dials.
struct DialTarget {
  std::string address;    // users[].identities.desk_phone: host, host:port, [v6] or [v6]:port
  std::string code;       // the reason code to dial, as configured ("*61")
  std::string extension;  // the user's extension, for {extension}
  std::string user_id;    // the user's id, for {user}
};

// The phone's authority for the URL: the address as given when it has a port, else the address
// plus ":port" when a port is configured. An address that is empty or carries a scheme, path,
// user info or spaces is an error ("bad_phone_address") that names what is wrong.
Result<std::string> PhoneAuthority(std::string_view address, std::optional<int> port);

// Replaces {host}, {code}, {extension} and {user} in a custom template: {host} as given (the
// authority), the others percent-encoded. Leaves unknown text alone (the template was checked
// when the configuration was read, see CheckUrlTemplate).
std::string ExpandUrlTemplate(std::string_view url_template, std::string_view host,
                              std::string_view code, std::string_view extension,
                              std::string_view user_id);

// Problems of a custom template, each a short sentence; empty when it is usable: {code} must
// appear, only the four placeholders are known, and the expansion must be an http(s) URL.
std::vector<std::string> CheckUrlTemplate(std::string_view url_template);

// The request that dials target.code on the phone. Carries credentials (the Authorization
// header, grandstream's passcode in the query): never log it; use RedactUrl(request.url).
Result<HttpRequest> BuildDialRequest(const DeskPhoneAccess& access, const DialTarget& target,
                                     Millis timeout);

// "Basic " + base64(username ":" password) (RFC 7617).
std::string BasicAuthorization(std::string_view username, std::string_view password);

// Reads the phone's answer. 401/403: rejected ("the phone refused the credentials"). Yealink
// and custom: any 2xx is done. Grandstream: a 2xx is done only with {"response":"success"};
// {"response":"error"} or a body that is not the CTI JSON is rejected. Anything else as
// ClassifyHttp reads it. `what` names the dial in messages and must hold no secret.
DeliveryResult ReadDialAnswer(DeskPhoneVendor vendor, const Result<HttpResponse>& answer,
                              Timestamp now, std::string_view what);

}  // namespace presence::connectors
