#include "connectors/teams/teams_protocol.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <string>

#include "common/json_writer.h"
#include "connectors/http/http_client.h"

namespace presence::connectors {
namespace {

using json::Object;
using reasoncodes::StatusCode;

constexpr std::array<std::string_view, 2> kMappingKeys = {"availability", "activity"};

struct SkypeCode {
  std::string_view code;
  PresencePair pair;
};

// Section 2.1: the availability numbers a user may publish. 5000 and 7500 (idle) are machine
// states and never reason codes.
constexpr std::array<SkypeCode, 6> kSkypeCodes = {{
    {"3500", {"Available", "Available"}},
    {"6500", {"Busy", "Busy"}},
    {"9500", {"DoNotDisturb", "DoNotDisturb"}},
    {"12500", {"BeRightBack", "BeRightBack"}},
    {"15500", {"Away", "Away"}},
    {"18500", {"Offline", "OffWork"}},
}};

// Graph names and GUIDs need no escaping, but a body must stay valid whatever it is handed.
void WritePair(JsonWriter& out, PresencePair pair) {
  out.Key("availability").String(pair.availability).Key("activity").String(pair.activity);
}

Object::Ptr ParseObject(std::string_view body) {
  try {
    Poco::JSON::Parser parser;
    return json::AsObject(parser.parse(std::string(body)));
  } catch (const Poco::Exception&) {
    return nullptr;  // not JSON: the callers say what they expected (a pure parser)
  }
}

std::string StringMember(const Object& object, const std::string& key) {
  if (!object.has(key)) return {};
  const json::Var& value = object.get(key);
  return value.isString() ? value.extract<std::string>() : std::string();
}

// expires_in is a number in v2.0 answers; some AAD endpoints send it as a string.
std::optional<long long> ExpiresIn(const Object& object) {
  if (!object.has("expires_in")) return std::nullopt;
  const json::Var& value = object.get("expires_in");
  try {
    if (value.isString()) return std::stoll(value.extract<std::string>());
    if (value.isNumeric()) return value.convert<long long>();
  } catch (const std::exception&) {
    // Not a number: the caller treats it as missing (a pure parser).
  }
  return std::nullopt;
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// One "<digits><unit>" part of a duration; false when `text` does not start with digits.
bool TakeNumber(std::string_view& text, long long& number, char& unit) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9 || digits == text.size()) return false;
  number = std::stoll(std::string(text.substr(0, digits)));
  unit = text[digits];
  text.remove_prefix(digits + 1);
  return true;
}

// The time part after "T": hours, minutes, seconds, each at most once and in that order.
std::optional<long long> ParseTimePart(std::string_view text) {
  constexpr std::array<std::pair<char, long long>, 3> kUnits = {{{'H', 3600}, {'M', 60}, {'S', 1}}};
  long long seconds = 0;
  std::size_t next_unit = 0;
  bool any = false;
  while (!text.empty()) {
    long long number = 0;
    char unit = 0;
    if (!TakeNumber(text, number, unit)) return std::nullopt;
    while (next_unit < kUnits.size() && kUnits[next_unit].first != unit) ++next_unit;
    if (next_unit == kUnits.size()) return std::nullopt;
    seconds += number * kUnits[next_unit++].second;
    any = true;
  }
  if (!any) return std::nullopt;
  return seconds;
}

}  // namespace

std::string PairText(PresencePair pair) {
  return std::string(pair.availability) + "/" + std::string(pair.activity);
}

bool IsSetPresencePair(PresencePair pair) {
  return std::find(kSetPresencePairs.begin(), kSetPresencePairs.end(), pair) !=
         kSetPresencePairs.end();
}

bool IsPreferredPresencePair(PresencePair pair) {
  return std::find(kPreferredPresencePairs.begin(), kPreferredPresencePairs.end(), pair) !=
         kPreferredPresencePairs.end();
}

std::optional<PresencePair> FindPresencePair(std::string_view availability,
                                             std::string_view activity) {
  PresencePair wanted{availability, activity};
  for (std::span<const PresencePair> table :
       {std::span<const PresencePair>(kSetPresencePairs),
        std::span<const PresencePair>(kPreferredPresencePairs)}) {
    auto it = std::find(table.begin(), table.end(), wanted);
    if (it != table.end()) return *it;
  }
  return std::nullopt;
}

std::string PairList(std::span<const PresencePair> pairs) {
  std::string out;
  for (const PresencePair& pair : pairs) {
    if (!out.empty()) out += ", ";
    out += PairText(pair);
  }
  return out;
}

std::optional<PresencePair> ReadTeamsMapping(const Object& block, std::string_view path,
                                             json::Problems& problems) {
  using json::Child;
  json::CheckKeys(block, path, kMappingKeys, problems);
  std::optional<std::string> names[2];
  for (std::size_t i = 0; i < kMappingKeys.size(); ++i) {
    std::string key(kMappingKeys[i]);
    if (!block.has(key)) {
      json::Report(problems, Child(path, key),
                   "missing (a Graph " + key + " name, e.g. \"Available\")");
      continue;
    }
    names[i] = json::ReadString(block.get(key), Child(path, key), problems);
  }
  if (!names[0] || !names[1]) return std::nullopt;
  if (auto pair = FindPresencePair(*names[0], *names[1])) return pair;
  json::Report(problems, path,
               *names[0] + "/" + *names[1] + " is accepted neither by setPresence (" +
                   PairList(kSetPresencePairs) + ") nor by setUserPreferredPresence (" +
                   PairList(kPreferredPresencePairs) + ")");
  return std::nullopt;
}

std::optional<PresencePair> SkypeAvailabilityPair(std::string_view reason_code) {
  for (const SkypeCode& entry : kSkypeCodes) {
    if (entry.code == reason_code) return entry.pair;
  }
  return std::nullopt;
}

PresencePair StatusPresencePair(StatusCode status) {
  switch (status) {
    case StatusCode::kOnline:
      return {"Available", "Available"};
    case StatusCode::kAway:
      return {"Away", "Away"};
    case StatusCode::kDnd:
      return {"DoNotDisturb", "DoNotDisturb"};
    case StatusCode::kBusy:
      return {"Busy", "Busy"};
    case StatusCode::kOnCall:
      return {"Busy", "InACall"};
    case StatusCode::kOffline:
    case StatusCode::kLogout:
      break;
  }
  return {"Offline", "OffWork"};
}

PresencePair ChoosePresencePair(std::optional<PresencePair> mapping, std::string_view reason_code,
                                StatusCode status, reasoncodes::Mode mode) {
  if (mapping) return *mapping;
  if (mode == reasoncodes::Mode::kSkypeForBusiness) {
    if (auto pair = SkypeAvailabilityPair(reason_code)) return *pair;
  }
  return StatusPresencePair(status);
}

std::optional<std::chrono::seconds> ParseIsoDuration(std::string_view text) {
  if (text.size() < 3 || text.front() != 'P') return std::nullopt;
  text.remove_prefix(1);
  long long seconds = 0;
  std::size_t time_at = text.find('T');
  std::string_view date = text.substr(0, time_at);
  if (!date.empty()) {
    long long days = 0;
    char unit = 0;
    if (!TakeNumber(date, days, unit) || unit != 'D' || !date.empty()) return std::nullopt;
    seconds = days * 86400;
  }
  if (time_at != std::string_view::npos) {
    std::optional<long long> time = ParseTimePart(text.substr(time_at + 1));
    if (!time) return std::nullopt;
    seconds += *time;
  }
  return std::chrono::seconds(seconds);
}

std::string FormatIsoDuration(std::chrono::seconds duration) {
  long long total = std::max<long long>(duration.count(), 0);
  if (total == 0) return "PT0S";
  std::string out = "PT";
  if (long long hours = total / 3600) out += std::to_string(hours) + "H";
  if (long long minutes = total % 3600 / 60) out += std::to_string(minutes) + "M";
  if (long long seconds = total % 60) out += std::to_string(seconds) + "S";
  return out;
}

bool IsGuid(std::string_view text) {
  constexpr std::array<std::size_t, 4> kDashes = {8, 13, 18, 23};
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = std::find(kDashes.begin(), kDashes.end(), i) != kDashes.end();
    if (dash ? text[i] != '-' : !IsHex(text[i])) return false;
  }
  return true;
}

bool IsTenantDomain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  std::size_t labels = 0;
  while (true) {
    std::size_t end = std::min(text.find('.'), text.size());
    std::string_view label = text.substr(0, end);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    ++labels;
    if (end == text.size()) break;
    text.remove_prefix(end + 1);
  }
  return labels >= 2;
}

std::string GraphTokenUrl(std::string_view login_url, std::string_view tenant) {
  return std::string(login_url) + "/" + UrlEncode(tenant) + "/oauth2/v2.0/token";
}

std::string GraphTokenForm(std::string_view client_id, std::string_view client_secret) {
  return FormEncode({{"client_id", std::string(client_id)},
                     {"scope", std::string(kGraphScope)},
                     {"client_secret", std::string(client_secret)},
                     {"grant_type", "client_credentials"}});
}

Result<GraphToken> ParseGraphTokenResponse(int status, std::string_view body) {
  Object::Ptr object = ParseObject(body);
  std::string http = "HTTP " + std::to_string(status);
  if (status != 200) {
    std::string code = object ? StringMember(*object, "error") : std::string();
    std::string description = object ? StringMember(*object, "error_description") : std::string();
    if (code.empty()) code = "token_refused";
    return Error{code, "token request refused (" + http + " " + code +
                           (description.empty() ? ")" : "): " + description)};
  }
  if (!object) return Error{"bad_token_response", "token answer is not a JSON object"};
  std::string token = StringMember(*object, "access_token");
  std::string type = StringMember(*object, "token_type");
  std::optional<long long> expires_in = ExpiresIn(*object);
  if (token.empty()) return Error{"bad_token_response", "token answer has no access_token"};
  if (!type.empty() && Poco::icompare(type, "Bearer") != 0) {
    return Error{"bad_token_response",
                 "token answer has token_type " + json::Quote(type) + " (expected Bearer)"};
  }
  if (!expires_in || *expires_in <= 0) {
    return Error{"bad_token_response", "token answer has no positive expires_in"};
  }
  return GraphToken{token, std::chrono::seconds(*expires_in)};
}

std::string GraphPresenceUrl(std::string_view graph_url, std::string_view user,
                             std::string_view action) {
  return std::string(graph_url) + "/users/" + UrlEncode(user) + "/presence/" + std::string(action);
}

std::string SetPresenceBody(std::string_view session_id, PresencePair pair,
                            std::chrono::seconds expiration) {
  JsonWriter out;
  out.BeginObject().Key("sessionId").String(session_id);
  WritePair(out, pair);
  out.Key("expirationDuration").String(FormatIsoDuration(expiration)).EndObject();
  return out.Take();
}

std::string SetUserPreferredPresenceBody(PresencePair pair,
                                         std::optional<std::chrono::seconds> expiration) {
  JsonWriter out;
  out.BeginObject();
  WritePair(out, pair);
  if (expiration) out.Key("expirationDuration").String(FormatIsoDuration(*expiration));
  out.EndObject();
  return out.Take();
}

std::string ClearUserPreferredPresenceBody() {
  JsonWriter out;
  out.BeginObject().EndObject();
  return out.Take();
}

std::string ClearPresenceBody(std::string_view session_id) {
  JsonWriter out;
  out.BeginObject().Key("sessionId").String(session_id).EndObject();
  return out.Take();
}

GraphError ParseGraphError(std::string_view body) {
  Object::Ptr object = ParseObject(body);
  Object::Ptr error =
      object && object->has("error") ? json::AsObject(object->get("error")) : nullptr;
  if (!error) return GraphError{"", "unreadable error body", ""};
  GraphError out{StringMember(*error, "code"), StringMember(*error, "message"), ""};
  Object::Ptr inner = error->has("innerError") ? json::AsObject(error->get("innerError")) : nullptr;
  if (inner) out.inner_code = StringMember(*inner, "code");
  return out;
}

}  // namespace presence::connectors
