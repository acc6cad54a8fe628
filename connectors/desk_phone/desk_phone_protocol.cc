#include "connectors/desk_phone/desk_phone_protocol.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/base64.h"
#include "common/json_read.h"

namespace presence::connectors {
namespace {

constexpr std::array<std::string_view, 4> kPlaceholders = {"{host}", "{code}", "{extension}",
                                                           "{user}"};

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool ValidPort(std::string_view text) {
  if (!AllDigits(text) || text.size() > 5) return false;
  int port = std::stoi(std::string(text));
  return port >= 1 && port <= 65535;
}

Error BadAddress(std::string_view address, std::string_view what) {
  return Error{"bad_phone_address",
               "desk phone address " + json::Quote(address) + " " + std::string(what) +
                   " (a host or host:port, e.g. 192.0.2.10 or [fe80::1]:8080)"};
}

// Whether the address carries its own port ("host:port", "[v6]:port"); an error for anything
// that is not a bare authority.
Result<bool> AddressHasPort(std::string_view address) {
  if (address.empty()) return BadAddress(address, "is empty");
  if (address.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
    return BadAddress(address, "is not a bare host (no scheme, path, query or user info)");
  }
  if (address.front() == '[') {
    std::size_t close = address.find(']');
    if (close == std::string_view::npos || close == 1) {
      return BadAddress(address, "is not a bracketed IPv6 address");
    }
    std::string_view rest = address.substr(close + 1);
    if (rest.empty()) return false;
    if (rest.front() == ':' && ValidPort(rest.substr(1))) return true;
    return BadAddress(address, "has a bad port");
  }
  std::size_t colon = address.find(':');
  if (colon == std::string_view::npos) return false;
  if (address.find(':', colon + 1) != std::string_view::npos) {
    return BadAddress(address, "is an IPv6 address without brackets");
  }
  if (colon == 0 || !ValidPort(address.substr(colon + 1))) {
    return BadAddress(address, "has a bad port");
  }
  return true;
}

bool IsHttpUrlWithHost(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return false;
  }
  if (url.find_first_of(" \t\r\n") != std::string_view::npos) return false;
  return !rest.empty() && rest.find_first_of("/?#") != 0;
}

std::string DialUrl(const DeskPhoneAccess& access, const DialTarget& target,
                    const std::string& authority) {
  switch (access.vendor) {
    case DeskPhoneVendor::kYealink:
      return access.scheme + "://" + authority + "/servlet?key=number=" + UrlEncode(target.code);
    case DeskPhoneVendor::kGrandstream:
      return access.scheme + "://" + authority +
             "/cgi-bin/api-make_call?passcode=" + UrlEncode(access.password) +
             "&phonenumber=" + UrlEncode(target.code);
    case DeskPhoneVendor::kCustom:
      break;
  }
  return ExpandUrlTemplate(access.url_template, authority, target.code, target.extension,
                           target.user_id);
}

// GRP26xx CTI guide: {"response":"success","body":true} or {"response":"error","body":false}.
// The body is not echoed into messages: it is the phone's text, not ours to show.
DeliveryResult ReadGrandstreamBody(const std::string& body, const std::string& what) {
  std::string response;
  try {
    Poco::JSON::Parser parser;
    Poco::JSON::Object::Ptr object = json::AsObject(parser.parse(body));
    if (object && object->has("response") && object->get("response").isString()) {
      response = object->getValue<std::string>("response");
    }
  } catch (const Poco::Exception&) {
    response.clear();  // not JSON: answered below as an unexpected body (a pure parser)
  }
  if (response == "success") return DeliveryResult::Delivered(what + ": the phone dialled");
  if (response == "error") {
    return DeliveryResult::Rejected(
        what +
        ": the phone answered {\"response\":\"error\"} (check the passcode, that Action URI "
        "support is on and that this host is in the allowed IP list)");
  }
  return DeliveryResult::Rejected(
      what + ": the phone's answer is not the GRP CTI JSON ({\"response\":\"success\"} expected)");
}

}  // namespace

std::string_view DeskPhoneVendorName(DeskPhoneVendor vendor) {
  switch (vendor) {
    case DeskPhoneVendor::kYealink:
      return "yealink";
    case DeskPhoneVendor::kGrandstream:
      return "grandstream";
    case DeskPhoneVendor::kCustom:
      return "custom";
  }
  return "custom";
}

Result<std::string> PhoneAuthority(std::string_view address, std::optional<int> port) {
  Result<bool> has_port = AddressHasPort(address);
  if (!has_port) return has_port.error();
  std::string authority(address);
  if (!*has_port && port) authority += ":" + std::to_string(*port);
  return authority;
}

std::string ExpandUrlTemplate(std::string_view url_template, std::string_view host,
                              std::string_view code, std::string_view extension,
                              std::string_view user_id) {
  const std::array<std::string, 4> values = {std::string(host), UrlEncode(code),
                                             UrlEncode(extension), UrlEncode(user_id)};
  std::string url;
  std::size_t i = 0;
  while (i < url_template.size()) {
    bool replaced = false;
    for (std::size_t p = 0; p < kPlaceholders.size() && !replaced; ++p) {
      if (url_template.substr(i, kPlaceholders[p].size()) == kPlaceholders[p]) {
        url += values[p];
        i += kPlaceholders[p].size();
        replaced = true;
      }
    }
    if (!replaced) url += url_template[i++];
  }
  return url;
}

std::vector<std::string> CheckUrlTemplate(std::string_view url_template) {
  std::vector<std::string> problems;
  for (std::size_t open = url_template.find('{'); open != std::string_view::npos;
       open = url_template.find('{', open + 1)) {
    std::size_t close = url_template.find('}', open);
    std::string_view name = url_template.substr(
        open, close == std::string_view::npos ? std::string_view::npos : close - open + 1);
    if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
      problems.push_back("unknown placeholder " + json::Quote(name) +
                         " (known: {host}, {code}, {extension}, {user})");
    }
  }
  if (url_template.find("{code}") == std::string_view::npos) {
    problems.push_back("has no {code} (the reason code to dial must go somewhere)");
  }
  std::string sample = ExpandUrlTemplate(url_template, "192.0.2.10", "*60", "1001", "u1");
  if (!IsHttpUrlWithHost(sample)) {
    problems.push_back(
        "does not give an http:// or https:// URL with a host (e.g. "
        "http://{host}/dial?number={code})");
  }
  return problems;
}

Result<HttpRequest> BuildDialRequest(const DeskPhoneAccess& access, const DialTarget& target,
                                     Millis timeout) {
  Result<std::string> authority = PhoneAuthority(target.address, access.port);
  if (!authority) return authority.error();
  HttpRequest request;
  request.method = "GET";
  request.url = DialUrl(access, target, *authority);
  request.timeout = timeout;
  bool basic = access.vendor == DeskPhoneVendor::kYealink ||
               (access.vendor == DeskPhoneVendor::kCustom && !access.password.empty());
  if (basic) {
    request.headers.emplace_back("Authorization",
                                 BasicAuthorization(access.username, access.password));
  }
  return request;
}

std::string BasicAuthorization(std::string_view username, std::string_view password) {
  return "Basic " + Base64Encode(std::string(username) + ":" + std::string(password));
}

DeliveryResult ReadDialAnswer(DeskPhoneVendor vendor, const Result<HttpResponse>& answer,
                              Timestamp now, std::string_view what) {
  if (!answer) return ClassifyHttp(answer, now, what);
  int status = answer->status;
  std::string text(what);
  if (status == 401 || status == 403) {
    return DeliveryResult::Rejected(text + ": the phone refused the credentials (HTTP " +
                                    std::to_string(status) + ")");
  }
  if (status < 200 || status > 299) return ClassifyHttp(answer, now, what);
  if (vendor == DeskPhoneVendor::kGrandstream) return ReadGrandstreamBody(answer->body, text);
  return DeliveryResult::Delivered(text + ": HTTP " + std::to_string(status));
}

}  // namespace presence::connectors
