#include "tests/fakes/sip_peer.h"

#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace presence::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxDatagram = 65535;
constexpr auto kT1 = std::chrono::milliseconds(500);
constexpr auto kT2 = std::chrono::seconds(4);

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-.!%*_+`'~", c) != nullptr;
  });
}

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// RFC 3261 7.3.3 compact forms, to the full names (lower case).
std::string CanonicalName(std::string_view name) {
  std::string lower = Lower(name);
  if (lower.size() != 1) return lower;
  switch (lower[0]) {
    case 'v':
      return "via";
    case 'f':
      return "from";
    case 't':
      return "to";
    case 'i':
      return "call-id";
    case 'l':
      return "content-length";
    case 'c':
      return "content-type";
    case 'o':
      return "event";
    case 'm':
      return "contact";
    default:
      return lower;
  }
}

std::string RandomHex() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::ostringstream token;
  token << std::hex << generator();
  return token.str();
}

std::string Md5Hex(const std::string& text) {
  Poco::MD5Engine md5;
  md5.update(text);
  return Poco::DigestEngine::digestToHex(md5.digest());
}

// The URI of a From/To/Contact value: inside <...>, else up to the first ';'.
std::string UriOf(std::string_view value) {
  value = Trim(value);
  size_t open = value.find('<');
  if (open != std::string_view::npos) {
    size_t close = value.find('>', open);
    if (close == std::string_view::npos) return {};
    return std::string(value.substr(open + 1, close - open - 1));
  }
  return std::string(Trim(value.substr(0, value.find(';'))));
}

// A header parameter (";tag=..."), looked for after the URI.
std::string ParamOf(std::string_view value, std::string_view name) {
  size_t close = value.find('>');
  std::string_view params = close == std::string_view::npos ? value : value.substr(close + 1);
  size_t at = 0;
  while ((at = params.find(';', at)) != std::string_view::npos) {
    ++at;
    size_t end = params.find_first_of(";,", at);
    std::string_view param =
        params.substr(at, end == std::string_view::npos ? params.npos : end - at);
    size_t equals = param.find('=');
    if (equals != std::string_view::npos && EqualsNoCase(Trim(param.substr(0, equals)), name))
      return std::string(Trim(param.substr(equals + 1)));
  }
  return {};
}

// A digest challenge (RFC 2617 / RFC 3261 22.4).
struct Challenge {
  std::string realm;
  std::string nonce;
  std::string opaque;
  std::string algorithm;
  std::string qop;  // the list as sent, "auth" or "auth,auth-int"
};

// Parses `Digest name=value, name="quoted", ...`; nullopt when it is no digest challenge or
// is malformed.
std::optional<Challenge> ParseChallenge(std::string_view value) {
  value = Trim(value);
  if (value.size() < 7 || !EqualsNoCase(value.substr(0, 6), "Digest") ||
      (value[6] != ' ' && value[6] != '\t'))
    return std::nullopt;
  std::map<std::string, std::string> params;
  size_t at = 7;
  while (at < value.size()) {
    while (at < value.size() && (value[at] == ' ' || value[at] == '\t' || value[at] == ',')) ++at;
    if (at >= value.size()) break;
    size_t equals = value.find('=', at);
    if (equals == std::string_view::npos) return std::nullopt;
    std::string name = Lower(Trim(value.substr(at, equals - at)));
    if (!IsToken(name)) return std::nullopt;
    at = equals + 1;
    while (at < value.size() && (value[at] == ' ' || value[at] == '\t')) ++at;
    std::string param;
    if (at < value.size() && value[at] == '"') {
      ++at;
      bool closed = false;
      while (at < value.size()) {
        char c = value[at++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (at >= value.size()) return std::nullopt;
          c = value[at++];
        }
        param.push_back(c);
      }
      if (!closed) return std::nullopt;
    } else {
      size_t end = value.find(',', at);
      if (end == std::string_view::npos) end = value.size();
      param = std::string(Trim(value.substr(at, end - at)));
      at = end;
    }
    params[name] = param;
  }
  if (params["realm"].empty() || params["nonce"].empty()) return std::nullopt;
  return Challenge{params["realm"], params["nonce"], params["opaque"], params["algorithm"],
                   params["qop"]};
}

bool ListHas(std::string_view list, std::string_view item) {
  std::stringstream items{std::string(list)};
  for (std::string entry; std::getline(items, entry, ',');) {
    if (EqualsNoCase(Trim(entry), item)) return true;
  }
  return false;
}

// The Authorization / Proxy-Authorization value answering `challenge`; nullopt when the
// challenge wants what this peer cannot do (another algorithm, only auth-int).
std::optional<std::string> DigestAnswer(const Challenge& challenge, const std::string& user,
                                        const std::string& password, const std::string& method,
                                        const std::string& uri) {
  if (!challenge.algorithm.empty() && !EqualsNoCase(challenge.algorithm, "MD5"))
    return std::nullopt;
  const std::string ha1 = Md5Hex(user + ":" + challenge.realm + ":" + password);
  const std::string ha2 = Md5Hex(method + ":" + uri);
  std::ostringstream header;
  header << "Digest username=\"" << user << "\", realm=\"" << challenge.realm << "\", nonce=\""
         << challenge.nonce << "\", uri=\"" << uri << "\", algorithm=MD5";
  if (challenge.qop.empty()) {
    header << ", response=\"" << Md5Hex(ha1 + ":" + challenge.nonce + ":" + ha2) << "\"";
  } else if (ListHas(challenge.qop, "auth")) {
    const std::string nc = "00000001";
    const std::string cnonce = RandomHex();
    header << ", response=\""
           << Md5Hex(ha1 + ":" + challenge.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
           << "\", qop=auth, nc=" << nc << ", cnonce=\"" << cnonce << "\"";
  } else {
    return std::nullopt;
  }
  if (!challenge.opaque.empty()) header << ", opaque=\"" << challenge.opaque << "\"";
  return header.str();
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 501:
      return "Not Implemented";
    default:
      return "Answer";
  }
}

}  // namespace

struct SipPeer::Message {
  bool request = false;
  std::string method;  // requests
  std::string uri;
  int status = 0;  // responses
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // canonical name, value
  std::string body;
  std::string text;  // the whole datagram

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  std::string HeaderOr(std::string_view name) const { return Header(name).value_or(""); }

  // Parses one datagram strictly: nullopt for anything this peer would not accept.
  static std::optional<Message> Parse(std::string_view datagram);
};

std::optional<SipPeer::Message> SipPeer::Message::Parse(std::string_view datagram) {
  if (datagram.size() > kMaxDatagram) return std::nullopt;
  size_t head_end = datagram.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  std::string_view head = datagram.substr(0, head_end);
  std::string_view rest = datagram.substr(head_end + 4);
  Message message;
  message.text = std::string(datagram);

  size_t line_end = head.find("\r\n");
  std::string_view start = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  if (start.starts_with("SIP/2.0 ")) {
    std::string_view code = start.substr(8, 3);
    if (start.size() < 12 || !IsDigits(code) || start[11] != ' ') return std::nullopt;
    message.status = std::stoi(std::string(code));
    message.reason = std::string(start.substr(12));
  } else {
    size_t space1 = start.find(' ');
    size_t space2 = space1 == std::string_view::npos ? space1 : start.find(' ', space1 + 1);
    if (space2 == std::string_view::npos || start.substr(space2 + 1) != "SIP/2.0")
      return std::nullopt;
    message.request = true;
    message.method = std::string(start.substr(0, space1));
    message.uri = std::string(start.substr(space1 + 1, space2 - space1 - 1));
    if (!IsToken(message.method) || message.uri.empty()) return std::nullopt;
  }

  while (!head.empty()) {
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    if (line.front() == ' ' || line.front() == '\t') {  // folded continuation (RFC 3261 7.3.1)
      if (message.headers.empty()) return std::nullopt;
      message.headers.back().second += " " + std::string(Trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view name = Trim(line.substr(0, colon));
    if (!IsToken(name) || message.headers.size() >= kMaxHeaders) return std::nullopt;
    message.headers.emplace_back(CanonicalName(name), std::string(Trim(line.substr(colon + 1))));
  }

  std::optional<std::string> length = message.Header("content-length");
  if (length) {
    if (!IsDigits(*length) || length->size() > 5) return std::nullopt;
    size_t size = std::stoul(*length);
    if (size > rest.size()) return std::nullopt;
    rest = rest.substr(0, size);
  }
  message.body = std::string(rest);
  return message;
}

struct SipPeer::Request {
  std::string method;
  std::string uri;
  std::string to;  // the whole To value
  std::string from_tag;
  std::string call_id;
  int cseq = 1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
  std::string authorization;  // the whole header line, without CRLF; empty for none
};

SipPeer::SipPeer(std::string user, std::optional<Credentials> credentials)
    : user_(std::move(user)), credentials_(std::move(credentials)) {
  socket_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  wake_ = eventfd(0, EFD_CLOEXEC);
  if (socket_ < 0 || wake_ < 0)
    throw std::runtime_error("SipPeer: socket failed: " + std::string(strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(socket_);
    close(wake_);
    throw std::runtime_error("SipPeer: cannot bind 127.0.0.1:0: " + std::string(strerror(errno)));
  }
  port_ = ntohs(address.sin_port);
  receiver_ = std::thread([this] { ReceiveLoop(); });
}

SipPeer::~SipPeer() {
  stopping_ = true;
  uint64_t one = 1;
  if (write(wake_, &one, sizeof one) < 0) {
    // Cannot happen for an eventfd below its maximum; the thread would then hang in poll.
  }
  receiver_.join();
  close(socket_);
  close(wake_);
}

std::string SipPeer::contact() const {
  return "sip:" + user_ + "@127.0.0.1:" + std::to_string(port_);
}

void SipPeer::SetCredentials(std::optional<Credentials> credentials) {
  std::lock_guard lock(mutex_);
  credentials_ = std::move(credentials);
}

void SipPeer::SetTransactionTimeout(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  transaction_timeout_ = timeout;
}

void SipPeer::SetNotifyAnswer(int status) {
  std::lock_guard lock(mutex_);
  notify_answer_ = status;
}

void SipPeer::ReceiveLoop() {
  std::vector<char> buffer(kMaxDatagram + 1);
  while (!stopping_) {
    pollfd fds[2] = {{socket_, POLLIN, 0}, {wake_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_in from{};
    socklen_t from_size = sizeof from;
    ssize_t size = recvfrom(socket_, buffer.data(), buffer.size(), MSG_TRUNC,
                            reinterpret_cast<sockaddr*>(&from), &from_size);
    // ICMP errors of earlier sends surface here as ECONNREFUSED; too long datagrams are
    // dropped (MSG_TRUNC reports their real size).
    if (size <= 0 || static_cast<size_t>(size) > kMaxDatagram) continue;
    std::optional<Message> message =
        Message::Parse(std::string_view(buffer.data(), static_cast<size_t>(size)));
    if (!message) continue;
    if (message->request) {
      HandleRequest(*message, &from, from_size);
      continue;
    }
    if (message->status < 200) continue;  // provisional: keep waiting for the final answer
    std::string via = message->HeaderOr("via");
    std::string branch = ParamOf(via.substr(0, via.find(',')), "branch");
    std::lock_guard lock(mutex_);
    auto pending = pending_.find(branch);
    if (pending != pending_.end() && !pending->second) {
      pending->second = message->text;
      changed_.notify_all();
    }
  }
}

void SipPeer::HandleRequest(const Message& request, const void* from, unsigned from_size) {
  if (request.method == "ACK") return;
  int status = 501;
  if (request.method == "OPTIONS") status = 200;
  if (request.method == "NOTIFY") {
    std::lock_guard lock(mutex_);
    status = notify_answer_;
    auto key = std::make_pair(request.HeaderOr("call-id"), request.HeaderOr("cseq"));
    if (seen_notifies_.insert(key).second) {
      notifies_.push_back(Notify{request.HeaderOr("event"), request.HeaderOr("subscription-state"),
                                 request.HeaderOr("content-type"), request.body,
                                 UriOf(request.HeaderOr("from")), request.HeaderOr("call-id")});
      changed_.notify_all();
    }
  }
  std::ostringstream answer;
  answer << "SIP/2.0 " << status << " " << ReasonPhrase(status) << "\r\n";
  for (const auto& [name, value] : request.headers) {
    if (name == "via") answer << "Via: " << value << "\r\n";
  }
  std::string to = request.HeaderOr("to");
  if (ParamOf(to, "tag").empty()) to += ";tag=" + RandomHex();
  answer << "From: " << request.HeaderOr("from") << "\r\n"
         << "To: " << to << "\r\n"
         << "Call-ID: " << request.HeaderOr("call-id") << "\r\n"
         << "CSeq: " << request.HeaderOr("cseq") << "\r\n"
         << "Content-Length: 0\r\n\r\n";
  const std::string text = answer.str();
  sendto(socket_, text.data(), text.size(), 0, static_cast<const sockaddr*>(from), from_size);
}

void SipPeer::SendTo(const std::string& text, uint16_t port) const {
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A failed send is like a lost datagram: the retransmission timer covers it.
  sendto(socket_, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&server),
         sizeof server);
}

std::string SipPeer::Build(const Request& request, const std::string& branch) const {
  std::ostringstream text;
  text << request.method << " " << request.uri << " SIP/2.0\r\n"
       << "Via: SIP/2.0/UDP 127.0.0.1:" << port_ << ";branch=" << branch << ";rport\r\n"
       << "Max-Forwards: 70\r\n"
       << "From: <sip:" << user_ << "@127.0.0.1>;tag=" << request.from_tag << "\r\n"
       << "To: " << request.to << "\r\n"
       << "Call-ID: " << request.call_id << "\r\n"
       << "CSeq: " << request.cseq << " " << request.method << "\r\n"
       << "Contact: <" << contact() << ">\r\n";
  for (const auto& [name, value] : request.headers) text << name << ": " << value << "\r\n";
  if (!request.authorization.empty()) text << request.authorization << "\r\n";
  if (!request.body.empty()) text << "Content-Type: " << request.content_type << "\r\n";
  text << "Content-Length: " << request.body.size() << "\r\n\r\n" << request.body;
  return text.str();
}

std::optional<SipPeer::Message> SipPeer::TransactOnce(const std::string& text,
                                                      const std::string& branch,
                                                      uint16_t server_port) {
  std::unique_lock lock(mutex_);
  pending_[branch] = std::nullopt;
  const auto deadline = Clock::now() + transaction_timeout_;
  auto interval = std::chrono::duration_cast<Clock::duration>(kT1);
  std::optional<std::string> answer;
  while (!answer) {
    SendTo(text, server_port);
    const auto retransmit = std::min(deadline, Clock::now() + interval);
    changed_.wait_until(lock, retransmit, [&] { return pending_[branch].has_value(); });
    answer = pending_[branch];
    if (!answer && Clock::now() >= deadline) break;
    interval = std::min<Clock::duration>(interval * 2, kT2);  // timer E
  }
  pending_.erase(branch);
  if (!answer) return std::nullopt;
  return Message::Parse(*answer);
}

SipPeer::Message SipPeer::Transact(Request& request, uint16_t server_port) {
  for (int challenges = 0;; ++challenges) {
    const std::string branch = "z9hG4bK" + RandomHex();
    std::optional<Message> answer = TransactOnce(Build(request, branch), branch, server_port);
    std::optional<Credentials> credentials;
    {
      std::lock_guard lock(mutex_);
      last_response_ = answer ? answer->text : "(no answer: 408 after the transaction timeout)";
      credentials = credentials_;
    }
    if (!answer) {
      Message timeout;
      timeout.status = 408;
      timeout.reason = "Request Timeout";
      return timeout;
    }
    // A second challenge is normal for a stale nonce; a third means the credentials are wrong.
    const bool www = answer->status == 401;
    if (!(www || answer->status == 407) || !credentials || challenges >= 2) return *answer;
    std::optional<Challenge> challenge =
        ParseChallenge(answer->HeaderOr(www ? "www-authenticate" : "proxy-authenticate"));
    if (!challenge) return *answer;
    std::optional<std::string> digest = DigestAnswer(
        *challenge, credentials->user, credentials->password, request.method, request.uri);
    if (!digest) return *answer;
    request.authorization = (www ? "Authorization: " : "Proxy-Authorization: ") + *digest;
    ++request.cseq;
  }
}

int SipPeer::Subscribe(const std::string& presentity, uint16_t server_port,
                       const std::string& event, int expires) {
  std::lock_guard client(client_mutex_);
  const auto key = std::make_pair(presentity, event);
  auto existing = dialogs_.find(key);
  Request request;
  request.method = "SUBSCRIBE";
  if (existing != dialogs_.end()) {
    const Dialog& dialog = existing->second;
    request.uri = dialog.remote_target.empty() ? presentity : dialog.remote_target;
    request.to = "<" + presentity + ">;tag=" + dialog.remote_tag;
    request.from_tag = dialog.local_tag;
    request.call_id = dialog.call_id;
    request.cseq = dialog.cseq + 1;
  } else {
    if (expires == 0) throw std::logic_error("SipPeer: no subscription to end: " + presentity);
    request.uri = presentity;
    request.to = "<" + presentity + ">";
    request.from_tag = RandomHex();
    request.call_id = RandomHex() + "@127.0.0.1";
  }
  request.headers.emplace_back("Event", event);
  if (event == "presence") request.headers.emplace_back("Accept", "application/pidf+xml");
  if (event == "dialog") request.headers.emplace_back("Accept", "application/dialog-info+xml");
  request.headers.emplace_back("Expires", std::to_string(expires));
  Message answer = Transact(request, server_port);

  if (answer.status < 200 || answer.status >= 300 || expires == 0) {
    dialogs_.erase(key);
    return answer.status;
  }
  Dialog& dialog = dialogs_[key];
  if (dialog.call_id.empty()) {
    dialog.call_id = request.call_id;
    dialog.local_tag = request.from_tag;
    dialog.remote_tag = ParamOf(answer.HeaderOr("to"), "tag");
    dialog.remote_target = UriOf(answer.HeaderOr("contact"));
  }
  dialog.cseq = request.cseq;
  return answer.status;
}

int SipPeer::Unsubscribe(const std::string& presentity, uint16_t server_port,
                         const std::string& event) {
  return Subscribe(presentity, server_port, event, 0);
}

SipPeer::PublishResult SipPeer::Publish(const std::string& presentity, uint16_t server_port,
                                        const std::string& event, const std::string& content_type,
                                        const std::string& body, int expires,
                                        const std::string& if_match) {
  std::lock_guard client(client_mutex_);
  Request request;
  request.method = "PUBLISH";
  request.uri = presentity;
  request.to = "<" + presentity + ">";
  request.from_tag = RandomHex();
  request.call_id = RandomHex() + "@127.0.0.1";
  request.headers.emplace_back("Event", event);
  request.headers.emplace_back("Expires", std::to_string(expires));
  if (!if_match.empty()) request.headers.emplace_back("SIP-If-Match", if_match);
  request.content_type = content_type;
  request.body = body;
  Message answer = Transact(request, server_port);
  PublishResult result;
  result.status = answer.status;
  result.etag = answer.HeaderOr("sip-etag");
  std::string granted = answer.HeaderOr("expires");
  if (IsDigits(granted) && granted.size() < 10) result.expires = std::stoi(granted);
  return result;
}

std::optional<SipPeer::Notify> SipPeer::WaitForNotify(
    const std::function<bool(const Notify&)>& match, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  std::optional<Notify> found;
  changed_.wait_for(lock, timeout, [&] {
    for (const Notify& notify : notifies_) {
      if (match(notify)) {
        found = notify;
        return true;
      }
    }
    return false;
  });
  return found;
}

std::vector<SipPeer::Notify> SipPeer::Notifies() const {
  std::lock_guard lock(mutex_);
  return notifies_;
}

std::string SipPeer::LastResponse() const {
  std::lock_guard lock(mutex_);
  return last_response_;
}

}  // namespace presence::testing
