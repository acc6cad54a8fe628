#include "connectors/sip/sip_stack.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "common/time.h"
#include "connectors/sip/documents/dialog_info.h"
#include "connectors/sip/documents/pidf.h"
#include "connectors/sip/libre.h"

namespace presence::connectors::sip {

std::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kUdp:
      return "udp";
    case Transport::kTcp:
      return "tcp";
    case Transport::kTls:
      return "tls";
  }
  return "udp";
}

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Text(const pl& value) { return std::string(value.p ? value.p : "", value.l); }

std::string HeaderValue(const struct sip_msg* msg, sip_hdrid id) {
  const struct sip_hdr* header = sip_msg_hdr(msg, id);
  return header ? Text(header->val) : std::string();
}

std::optional<uint32_t> HeaderNumber(const struct sip_msg* msg, sip_hdrid id) {
  const struct sip_hdr* header = sip_msg_hdr(msg, id);
  if (!header || header->val.l == 0) return std::nullopt;
  for (size_t i = 0; i < header->val.l; ++i) {
    char c = header->val.p[i];
    if (c == ' ' || c == ';' || c == '(') break;
    if (c < '0' || c > '9') return std::nullopt;
  }
  return pl_u32(&header->val);
}

std::string StatusLine(const struct sip_msg* msg) {
  return std::to_string(msg->scode) + " " + Text(msg->reason);
}

std::string ErrorText(int err) { return std::strerror(err); }

// The server's URI for the Route header: its address and transport.
std::string RouteUri(const std::string& host, uint16_t port, Transport transport) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string uri = "sip:" + h + ":" + std::to_string(port);
  if (transport != Transport::kUdp) uri += ";transport=" + std::string(TransportName(transport));
  return uri;  // libre writes the Route header with ";lr" itself
}

bool IsIpLiteral(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// OpenSSL's queued errors in one line (taking them off its queue).
std::string OpenSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += (text.empty() ? "" : "; ") + std::string(buffer);
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

// The names a certificate is for: its subjectAltName DNS and IP entries, else its subject.
std::string CertificateNames(X509* certificate) {
  if (!certificate) return "no certificate";
  std::string names;
  auto* alt = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt, i);
    std::string entry;
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      entry = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                   static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char buffer[INET6_ADDRSTRLEN] = {};
      const int length = ASN1_STRING_length(ip);
      if (length == 4 || length == 16) {
        inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), buffer,
                  sizeof buffer);
        entry = "IP:" + std::string(buffer);
      }
    }
    if (!entry.empty()) names += (names.empty() ? "" : ", ") + entry;
  }
  GENERAL_NAMES_free(alt);
  if (!names.empty()) return names;
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
  return std::string("subject ") + subject;
}

// The slot of libre's SSL_CTX that points back at the SipStack::Impl owning it.
int TlsContextSlot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

// The IP address of host (a literal or a name, looked up once).
Result<std::string> ResolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || !found) {
    return Error{"sip_unresolved", "cannot resolve the SIP server " + host + ": " +
                                       (rc != 0 ? gai_strerror(rc) : "no address")};
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  const void* address =
      found->ai_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr);
  inet_ntop(found->ai_family, address, buffer, sizeof buffer);
  freeaddrinfo(found);
  return std::string(buffer);
}

// The local address the system routes to `ip` from (no packet is sent).
std::string LocalAddressTowards(const std::string& ip, uint16_t port) {
  sa target;
  if (sa_set_str(&target, ip.c_str(), port) != 0) return "127.0.0.1";
  int fd = socket(sa_af(&target), SOCK_DGRAM, 0);
  if (fd < 0) return "127.0.0.1";
  std::string result = sa_af(&target) == AF_INET6 ? "::1" : "127.0.0.1";
  if (connect(fd, &target.u.sa, target.len) == 0) {
    sa local;
    local.len = sizeof(local.u);
    if (getsockname(fd, &local.u.sa, &local.len) == 0) {
      char buffer[64] = {};
      if (sa_ntop(&local, buffer, sizeof buffer) == 0) result = buffer;
    }
  }
  close(fd);
  return result;
}

// libre's hash tables. A finished UDP transaction stays for timer K (5 s) to absorb
// retransmissions, so at thousands of publications a second there are tens of thousands in
// the client table: its buckets must keep lookups short.
constexpr uint32_t kClientTransactionBuckets = 16384;
constexpr uint32_t kServerTransactionBuckets = 4096;
constexpr uint32_t kConnectionBuckets = 256;
constexpr uint32_t kSubscriptionBuckets = 4096;

// A server's Retry-After is honoured up to this long.
constexpr std::chrono::seconds kMaxRetryAfter{3600};

std::once_flag libre_once;
int libre_status = 0;

}  // namespace

class SipStack::Impl {
 public:
  Impl(StackOptions options, LogSink log, NotifyHandler notify)
      : options_(std::move(options)), log_(std::move(log)), notify_(std::move(notify)) {}

  ~Impl() {
    Stop();
    CloseWake();  // only here: a Push racing with Stop may still write to it
  }

  Status Start() {
    std::call_once(libre_once, [] { libre_status = libre_init(); });
    if (libre_status != 0) {
      return Error{"sip_init", "the SIP library could not start: " + ErrorText(libre_status)};
    }
    auto ip = ResolveHost(options_.server_host);
    if (!ip.ok()) return ip.error();
    server_ip_ = *ip;
    route_ = RouteUri(server_ip_, options_.server_port, options_.transport);
    server_uri_ =
        "sip:" + (server_ip_.find(':') != std::string::npos ? "[" + server_ip_ + "]" : server_ip_) +
        ":" + std::to_string(options_.server_port);
    if (options_.transport != Transport::kUdp) {
      server_uri_ += ";transport=" + std::string(TransportName(options_.transport));
    }
    if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) {
      return Error{"sip_init", "cannot make a pipe: " + ErrorText(errno)};
    }
    std::promise<Status> started;
    std::future<Status> ready = started.get_future();
    thread_ = std::thread([this, &started] { Run(started); });
    Status status = ready.get();
    if (!status.ok()) {
      thread_.join();
      CloseWake();
    }
    return status;
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || !thread_.joinable()) {
        stopping_ = true;
        return;
      }
      stopping_ = true;
    }
    WakeLoop();
    thread_.join();
    std::lock_guard lock(mutex_);
    for (Command& command : commands_) {
      if (command.promise) {
        command.promise->set_value({PublishOutcome::Kind::kRetry, 0, "the agent is stopping", {}});
      }
    }
    commands_.clear();
  }

  std::future<PublishOutcome> Publish(const std::string& user, const std::string& aor,
                                      std::string body, bool remove) {
    Command command;
    command.kind = Command::Kind::kPublish;
    command.user = user;
    command.aor = aor;
    command.body = std::move(body);
    command.remove = remove;
    command.promise = std::make_shared<std::promise<PublishOutcome>>();
    std::future<PublishOutcome> result = command.promise->get_future();
    if (!Push(std::move(command))) {
      std::promise<PublishOutcome> stopped;
      stopped.set_value({PublishOutcome::Kind::kRetry, 0, "the SIP stack is not running", {}});
      return stopped.get_future();
    }
    return result;
  }

  void Watch(std::vector<WatchedUser> users, std::vector<std::string> events) {
    Command command;
    command.kind = Command::Kind::kWatch;
    command.watched = std::move(users);
    command.events = std::move(events);
    Push(std::move(command));
  }

  std::string local_address() const {
    std::lock_guard lock(status_mutex_);
    return local_address_;
  }

  StackStatus status() const {
    std::lock_guard lock(status_mutex_);
    StackStatus copy = status_;
    const auto now = Clock::now();
    for (auto& [user, publication] : copy.publications) {
      auto until = expiry_.find(user);
      publication.expires_in_s = until == expiry_.end() || until->second <= now
                                     ? 0
                                     : duration_cast<seconds>(until->second - now).count();
    }
    return copy;
  }

 private:
  struct Command {
    enum class Kind { kPublish, kWatch };
    Kind kind = Kind::kPublish;
    std::string user;
    std::string aor;
    std::string body;
    bool remove = false;
    std::shared_ptr<std::promise<PublishOutcome>> promise;
    std::vector<WatchedUser> watched;
    std::vector<std::string> events;
  };

  // One user's publication. Lives on the SIP thread; kept while a request is in flight.
  struct Publication {
    Impl* impl = nullptr;
    std::string user;
    std::string aor;
    std::string body;       // the latest document; empty while removed
    bool removing = false;  // the latest wish is to take it down
    std::string etag;
    uint32_t expires = 0;  // what to ask for (raised by 423)
    struct sip_dialog* dialog = nullptr;
    struct sip_auth* auth = nullptr;
    struct sip_request* request = nullptr;
    uint32_t cseq = 0;
    bool sent_if_match = false;  // the request in flight carried SIP-If-Match
    bool sent_remove = false;    // the request in flight was Expires: 0
    bool retiring = false;       // taken down because its user or AOR left the directory
    bool dirty = false;          // a newer wish arrived while a request was in flight
    int auth_rounds = 0;
    int recoveries = 0;  // initial PUBLISHes after 412 in this round
    milliseconds backoff{0};
    tmr timer;
    std::vector<std::shared_ptr<std::promise<PublishOutcome>>> waiters;
  };

  struct Subscription {
    Impl* impl = nullptr;
    std::string user;
    std::string aor;
    std::string event;
    struct sipsub* sub = nullptr;
    bool first = true;
    milliseconds backoff{0};
    tmr timer;
  };

  // ---- any thread ----

  bool Push(Command command) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || !running_) return false;
      wake = commands_.empty();
      commands_.push_back(std::move(command));
    }
    if (wake) WakeLoop();
    return true;
  }

  void WakeLoop() {
    char byte = 1;
    // A full pipe already wakes the loop; nothing else can go wrong that matters here.
    [[maybe_unused]] ssize_t written = write(wake_[1], &byte, 1);
  }

  void CloseWake() {
    for (int& fd : wake_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }

  void Log(LogLevel level, const std::string& text) const { log_(level, text); }

  // ---- SIP thread ----

  void Run(std::promise<Status>& started) {
    if (int err = re_thread_init(); err != 0) {
      started.set_value(Error{"sip_init", "the SIP library thread: " + ErrorText(err)});
      return;
    }
    Status status = Setup();
    if (status.ok()) {
      std::lock_guard lock(mutex_);
      running_ = !stopping_;
    }
    started.set_value(status);
    if (status.ok()) {
      tmr_start(&probe_timer_, static_cast<uint64_t>(ProbeDelay().count()), &Impl::OnProbeTimer,
                this);
      re_main(nullptr);
    }
    Teardown();
    re_thread_close();
  }

  Status Setup() {
    tmr_init(&probe_timer_);
    tmr_init(&recovery_timer_);
    if (int err = sip_alloc(&sip_, nullptr, kClientTransactionBuckets, kServerTransactionBuckets,
                            kConnectionBuckets, "presence-agent", nullptr, nullptr)) {
      return Error{"sip_init", "cannot create the SIP stack: " + ErrorText(err)};
    }
    std::string local = options_.local_host.empty()
                            ? LocalAddressTowards(server_ip_, options_.server_port)
                            : options_.local_host;
    sa laddr;
    if (sa_set_str(&laddr, local.c_str(), options_.local_port) != 0) {
      return Error{"sip_bind", "not an IP address to listen on: " + local};
    }
    int err = 0;
    switch (options_.transport) {
      case Transport::kUdp:
        err = sip_transp_add(sip_, SIP_TRANSP_UDP, &laddr);
        break;
      case Transport::kTcp:
        err = sip_transp_add(sip_, SIP_TRANSP_TCP, &laddr);
        break;
      case Transport::kTls:
        err = tls_alloc(&tls_, TLS_METHOD_SSLV23, nullptr, nullptr);
        if (err) break;
        if (Status verify = RequireServerCertificate(); !verify.ok()) return verify;
        err = sip_transp_add(sip_, SIP_TRANSP_TLS, &laddr, tls_);
        break;
    }
    if (err) {
      return Error{"sip_bind", "cannot listen for SIP (" +
                                   std::string(TransportName(options_.transport)) + ") on " +
                                   local + ":" + std::to_string(options_.local_port) + ": " +
                                   ErrorText(err)};
    }
    sa bound;
    sa target;
    sa_set_str(&target, server_ip_.c_str(), options_.server_port);
    if (sip_transp_laddr(sip_, &bound, Transp(), &target) == 0) {
      char buffer[64] = {};
      sa_ntop(&bound, buffer, sizeof buffer);
      std::lock_guard lock(status_mutex_);
      local_address_ = std::string(buffer) + ":" + std::to_string(sa_port(&bound));
    }
    if ((err = sipevent_listen(&events_, sip_, kSubscriptionBuckets, kSubscriptionBuckets, nullptr,
                               nullptr))) {
      return Error{"sip_init", "cannot listen for SIP events: " + ErrorText(err)};
    }
    if ((err = sip_listen(&listener_, sip_, true, &Impl::OnRequest, this))) {
      return Error{"sip_init", "cannot listen for SIP requests: " + ErrorText(err)};
    }
    if ((err = fd_listen(wake_[0], FD_READ, &Impl::OnWake, this))) {
      return Error{"sip_init", "cannot watch the wake-up pipe: " + ErrorText(err)};
    }
    const char* route = route_.c_str();
    if ((err = sip_dialog_alloc(&probe_dialog_, server_uri_.c_str(), server_uri_.c_str(), nullptr,
                                options_.agent_uri.c_str(), &route, 1))) {
      return Error{"sip_init", "cannot make the probe's dialog: " + ErrorText(err)};
    }
    return Status::Ok();
  }

  // libre's client TLS context checks nothing by itself (OpenSSL's default, SSL_VERIFY_NONE).
  // Every connection it makes from it must present a certificate that chains to tls_ca_file
  // (else the system's CAs) and is for the configured server: its name, or its IP address when
  // the server is given as one. A refusal ends the handshake; libre then fails the requests on
  // that connection with EPROTO, and OnVerifyCertificate has kept why.
  Status RequireServerCertificate() {
    SSL_CTX* context = tls_openssl_context(tls_);
    if (!context) return Error{"sip_tls", "the SIP library has no OpenSSL context for TLS"};
    ERR_clear_error();
    const std::string& file = options_.tls_ca_file;
    if (!file.empty()) {
      if (SSL_CTX_load_verify_locations(context, file.c_str(), nullptr) != 1) {
        return Error{"sip_tls", "cannot read CA certificates from tls_ca_file " + file + ": " +
                                    OpenSslErrors()};
      }
    } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
      return Error{"sip_tls", "cannot load the system's CA certificates: " + OpenSslErrors()};
    }
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(context);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const std::string& host = options_.server_host;
    const int named = IsIpLiteral(host)
                          ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                          : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (named != 1) {
      return Error{"sip_tls", "cannot require the server's name " + host +
                                  " in its certificate: " + OpenSslErrors()};
    }
    SSL_CTX_set_ex_data(context, TlsContextSlot(), this);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, &Impl::OnVerifyCertificate);
    return Status::Ok();
  }

  // OpenSSL's verdict on each certificate of the server's chain and then on its name (SIP
  // thread: libre runs the handshake there). The verdict stands; a refusal is kept, as libre
  // reports only EPROTO for the requests that fail with it.
  static int OnVerifyCertificate(int ok, X509_STORE_CTX* store) {
    if (ok) return ok;
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    SSL_CTX* context = ssl ? SSL_get_SSL_CTX(ssl) : nullptr;
    auto* self =
        context ? static_cast<Impl*>(SSL_CTX_get_ex_data(context, TlsContextSlot())) : nullptr;
    if (self) {
      self->CertificateRefused(X509_STORE_CTX_get_error(store),
                               X509_STORE_CTX_get_current_cert(store));
    }
    return ok;
  }

  void CertificateRefused(int error, X509* certificate) {
    const std::string reason = X509_verify_cert_error_string(error);
    std::string why;
    if (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      why = "the server's certificate is not for " + options_.server_host + " (" + reason +
            "; it is for " + CertificateNames(certificate) + ")";
    } else {
      why = "the server's certificate is not trusted (" + reason + "; certificate for " +
            CertificateNames(certificate) + "; CAs from " +
            (options_.tls_ca_file.empty() ? std::string("the system")
                                          : "tls_ca_file " + options_.tls_ca_file) +
            ")";
    }
    if (why == tls_refusal_) return;
    tls_refusal_ = why;
    Log(LogLevel::kError, "TLS to the SIP server refused: " + why);
    std::lock_guard lock(status_mutex_);
    status_.tls_error = why;
  }

  // What a request without an answer reports.
  std::string NoAnswer(int err) const {
    if (!tls_refusal_.empty()) return "no TLS connection to the SIP server: " + tls_refusal_;
    if (options_.transport == Transport::kTls && err == EPROTO) {
      return "no answer from the SIP server (the TLS connection failed: " + ErrorText(err) + ")";
    }
    return "no answer from the SIP server (" + ErrorText(err) + ")";
  }

  sip_transp Transp() const {
    switch (options_.transport) {
      case Transport::kTcp:
        return SIP_TRANSP_TCP;
      case Transport::kTls:
        return SIP_TRANSP_TLS;
      case Transport::kUdp:
        break;
    }
    return SIP_TRANSP_UDP;
  }

  void Teardown() {
    tmr_cancel(&probe_timer_);
    tmr_cancel(&recovery_timer_);
    if (wake_[0] >= 0) fd_close(wake_[0]);
    probe_request_ = static_cast<struct sip_request*>(mem_deref(probe_request_));
    for (auto& [user, publication] : publications_) ReleasePublication(*publication);
    publications_.clear();
    for (auto& [key, subscription] : subscriptions_) ReleaseSubscription(*subscription);
    subscriptions_.clear();
    if (canary_) ReleasePublication(*canary_);
    canary_.reset();
    for (auto& publication : retiring_) ReleasePublication(*publication);
    retiring_.clear();
    probe_dialog_ = static_cast<struct sip_dialog*>(mem_deref(probe_dialog_));
    listener_ = static_cast<struct sip_lsnr*>(mem_deref(listener_));
    events_ = static_cast<struct sipevent_sock*>(mem_deref(events_));
    if (sip_) sip_close(sip_, true);
    sip_ = static_cast<struct sip*>(mem_deref(sip_));
    tls_ = static_cast<struct tls*>(mem_deref(tls_));
    std::lock_guard lock(mutex_);
    running_ = false;
  }

  void ReleasePublication(Publication& publication) {
    tmr_cancel(&publication.timer);
    publication.request = static_cast<struct sip_request*>(mem_deref(publication.request));
    publication.auth = static_cast<struct sip_auth*>(mem_deref(publication.auth));
    publication.dialog = static_cast<struct sip_dialog*>(mem_deref(publication.dialog));
    for (auto& waiter : publication.waiters) {
      waiter->set_value({PublishOutcome::Kind::kRetry, 0, "the agent is stopping", {}});
    }
    publication.waiters.clear();
  }

  void ReleaseSubscription(Subscription& subscription) {
    tmr_cancel(&subscription.timer);
    subscription.sub = static_cast<struct sipsub*>(mem_deref(subscription.sub));
  }

  static void OnWake(int, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    char buffer[256];
    while (read(self->wake_[0], buffer, sizeof buffer) > 0) {
    }
    std::deque<Command> batch;
    bool stopping = false;
    {
      std::lock_guard lock(self->mutex_);
      batch.swap(self->commands_);
      stopping = self->stopping_;
    }
    if (stopping) {
      for (Command& command : batch) {
        if (command.promise) {
          command.promise->set_value(
              {PublishOutcome::Kind::kRetry, 0, "the agent is stopping", {}});
        }
      }
      re_cancel();
      return;
    }
    for (Command& command : batch) {
      if (command.kind == Command::Kind::kPublish) {
        self->HandlePublish(command);
      } else {
        self->HandleWatch(command);
      }
    }
  }

  // Other requests outside a subscription: OPTIONS is answered, the rest refused.
  static bool OnRequest(const struct sip_msg* msg, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (pl_strcmp(&msg->met, "OPTIONS") == 0) {
      sip_treply(nullptr, self->sip_, msg, 200, "OK");
    } else if (pl_strcmp(&msg->met, "ACK") != 0) {
      sip_treply(nullptr, self->sip_, msg, 405, "Method Not Allowed");
    }
    return true;
  }

  // ---- publications ----

  Publication& PublicationOf(const std::string& user, const std::string& aor) {
    auto found = publications_.find(user);
    if (found != publications_.end() && found->second->aor == aor) return *found->second;
    if (found != publications_.end()) {
      // The user's SIP identity changed (reload): take the old one down, start a new dialog.
      Retire(std::move(found->second));
      publications_.erase(found);
    }
    auto publication = NewPublication(user, aor, static_cast<uint32_t>(options_.expires.count()));
    Publication& result = *publication;
    publications_[user] = std::move(publication);
    return result;
  }

  // A publication with its own dialog (Call-ID, CSeq) and digest state.
  std::unique_ptr<Publication> NewPublication(const std::string& user, const std::string& aor,
                                              uint32_t expires) {
    auto publication = std::make_unique<Publication>();
    publication->impl = this;
    publication->user = user;
    publication->aor = aor;
    publication->expires = expires;
    tmr_init(&publication->timer);
    const char* route = route_.c_str();
    // Request-URI and To: the presentity; From: the agent, the publisher (RFC 3903), so a
    // server that checks the From user against the digest user accepts it.
    sip_dialog_alloc(&publication->dialog, aor.c_str(), aor.c_str(), nullptr,
                     options_.agent_uri.c_str(), &route, 1);
    sip_auth_alloc(&publication->auth, &Impl::OnAuth, this, false);
    return publication;
  }

  void HandlePublish(Command& command) {
    auto existing = publications_.find(command.user);
    if (command.remove && (existing == publications_.end() ||
                           (existing->second->etag.empty() && !existing->second->request))) {
      // Nothing is published for this user: nothing to take down.
      if (existing != publications_.end()) {
        ReleasePublication(*existing->second);
        publications_.erase(existing);
        ForgetStatus(command.user);
      }
      command.promise->set_value({PublishOutcome::Kind::kDone, 200, "nothing was published", {}});
      return;
    }
    Publication& publication = PublicationOf(command.user, command.aor);
    publication.removing = command.remove;
    publication.body = command.remove ? std::string() : std::move(command.body);
    publication.waiters.push_back(command.promise);
    publication.recoveries = 0;
    publication.auth_rounds = 0;
    if (publication.request) {
      publication.dirty = true;
      return;
    }
    tmr_cancel(&publication.timer);
    Send(publication);
  }

  void Send(Publication& publication) {
    publication.dirty = false;
    if (publication.removing && publication.etag.empty()) {
      Succeeded(publication, nullptr);  // nothing (left) to take down; may erase it
      return;
    }
    const bool if_match = !publication.etag.empty();
    publication.sent_if_match = if_match;
    publication.sent_remove = publication.removing;
    std::string headers = "Event: presence\r\n";
    headers +=
        "Expires: " + std::to_string(publication.removing ? 0 : publication.expires) + "\r\n";
    if (if_match) headers += "SIP-If-Match: " + publication.etag + "\r\n";
    if (publication.removing) {
      headers += "Content-Length: 0\r\n\r\n";
    } else {
      headers += "Content-Type: " + std::string(kPidfType) + "\r\n";
      headers += "Content-Length: " + std::to_string(publication.body.size()) + "\r\n\r\n";
      headers += publication.body;
    }
    int err = sip_drequestf(&publication.request, sip_, true, "PUBLISH", publication.dialog,
                            ++publication.cseq, publication.auth, nullptr, &Impl::OnPublishReply,
                            &publication, "%s", headers.c_str());
    if (err) {
      publication.request = nullptr;
      Failed(publication, PublishOutcome::Kind::kRetry, 0,
             "the PUBLISH could not be sent: " + ErrorText(err), std::nullopt);
    }
  }

  static int OnAuth(char** username, char** password, const char*, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (self->options_.username.empty()) return EAUTH;
    int err = str_dup(username, self->options_.username.c_str());
    err |= str_dup(password, self->options_.password.c_str());
    return err;
  }

  static void OnPublishReply(int err, const struct sip_msg* msg, void* arg) {
    auto& publication = *static_cast<Publication*>(arg);
    if (msg && msg->scode < 200) return;
    publication.request = nullptr;
    publication.impl->PublishAnswered(publication, err, msg);
  }

  void PublishAnswered(Publication& publication, int err, const struct sip_msg* msg) {
    if (&publication == canary_.get()) {
      CanaryAnswered(publication, err, msg);
      return;
    }
    if (err || !msg) {
      SetReachable(false);
      Failed(publication, PublishOutcome::Kind::kRetry, 0, NoAnswer(err), std::nullopt);
      return;
    }
    SetReachable(true);
    const uint16_t code = msg->scode;
    if (code >= 200 && code < 300) {
      Succeeded(publication, msg);
      return;
    }
    if (code == 401 || code == 407) {
      if (publication.auth_rounds < 1 && !options_.username.empty() &&
          sip_auth_authenticate(publication.auth, msg) == 0) {
        ++publication.auth_rounds;
        Send(publication);
        return;
      }
      Failed(publication, PublishOutcome::Kind::kRejected, code,
             options_.username.empty()
                 ? StatusLine(msg) + ": the server asks for credentials; set username and password"
                 : StatusLine(msg) + ": the server refused the credentials",
             std::nullopt);
      return;
    }
    if (code == 412 || (code == 500 && publication.sent_if_match && Unparsable(publication.etag))) {
      // The server does not know the ETag (it restarted, or the publication ran out):
      // publish afresh. Kamailio answers 500 instead of 412 to an ETag it cannot parse (one
      // without dots); a 500 to an ETag of its own is a server error, retried as it is.
      publication.etag.clear();
      if (publication.recoveries < 2) {
        ++publication.recoveries;
        if (publication.removing) {
          Succeeded(publication, nullptr);
          return;
        }
        Send(publication);
        return;
      }
    }
    if (code == 423) {
      if (auto minimum = HeaderNumber(msg, SIP_HDR_MIN_EXPIRES);
          minimum && *minimum > publication.expires && publication.recoveries < 2) {
        ++publication.recoveries;
        publication.expires = *minimum;
        Send(publication);
        return;
      }
    }
    std::optional<seconds> retry_after;
    if (auto value = HeaderNumber(msg, SIP_HDR_RETRY_AFTER)) retry_after = seconds(*value);
    const bool transient = code == 408 || code == 480 || code == 412 || code == 423 ||
                           code == 429 || (code >= 500 && code < 600);
    Failed(publication, transient ? PublishOutcome::Kind::kRetry : PublishOutcome::Kind::kRejected,
           code, StatusLine(msg), retry_after);
  }

  // The lifetime a 2xx grants. One that grants none to a publication that asked for one is
  // taken as granting what was asked (a refresh every half second would follow otherwise).
  static uint32_t Granted(const Publication& publication, const struct sip_msg* msg) {
    auto value = HeaderNumber(msg, SIP_HDR_EXPIRES);
    return value && *value > 0 ? *value : publication.expires;
  }

  static bool Unparsable(const std::string& etag) { return etag.find('.') == std::string::npos; }

  void Succeeded(Publication& publication, const struct sip_msg* msg) {
    publication.backoff = milliseconds(0);
    publication.auth_rounds = 0;
    std::string result = msg ? StatusLine(msg) : "200 nothing left to remove";
    if (publication.dirty) {
      // A newer wish waits: send it now (the waiters want that one).
      if (msg) publication.etag = publication.sent_remove ? "" : HeaderValue(msg, SIP_HDR_SIP_ETAG);
      Send(publication);
      return;
    }
    const PublishOutcome done{
        PublishOutcome::Kind::kDone, msg ? msg->scode : uint16_t{200}, result, {}};
    if (publication.removing) {
      if (!publication.retiring) ForgetStatus(publication.user);  // before the waiters see it
      Resolve(publication, done);
      Forget(publication);
      return;
    }
    publication.etag = HeaderValue(msg, SIP_HDR_SIP_ETAG);
    const uint32_t granted = Granted(publication, msg);
    // Refresh with a margin: a fifth of the lifetime, at least 5 s when the lifetime allows.
    const milliseconds lifetime = seconds(granted);
    const milliseconds margin =
        std::max<milliseconds>(lifetime / 5, std::min<milliseconds>(seconds(5), lifetime / 2));
    const milliseconds wait = std::max<milliseconds>(lifetime - margin, milliseconds(500));
    tmr_start(&publication.timer, static_cast<uint64_t>(wait.count()), &Impl::OnRefreshTimer,
              &publication);
    UpdateStatus(publication.user, publication.etag, Clock::now() + seconds(granted), result);
    Resolve(publication, done);
  }

  void Failed(Publication& publication, PublishOutcome::Kind kind, int code, std::string detail,
              std::optional<seconds> retry_after) {
    if (&publication == canary_.get()) return;  // the probe has its own answer handling
    Log(kind == PublishOutcome::Kind::kRetry ? LogLevel::kWarning : LogLevel::kError,
        "publication of " + publication.user + " (" + publication.aor + "): " + detail);
    if (publication.retiring) {
      Forget(publication);  // the server lets it expire
      return;
    }
    UpdateStatus(publication.user, publication.etag, std::nullopt, detail);
    if (retry_after && *retry_after > kMaxRetryAfter) retry_after = kMaxRetryAfter;
    if (!publication.waiters.empty()) Resolve(publication, {kind, code, detail, retry_after});
    // Keep the publication alive on our own while the server recovers (the outbox retries
    // the change too; whichever comes first sends the latest document). Not after a refusal.
    if (kind != PublishOutcome::Kind::kRetry || publication.removing || publication.body.empty()) {
      return;
    }
    tmr_start(&publication.timer, NextWait(publication.backoff, retry_after), &Impl::OnRefreshTimer,
              &publication);
  }

  // Drops a publication that was taken down (or given up): from the map of users, or from the
  // retiring ones. `publication` is gone afterwards.
  void Forget(Publication& publication) {
    Resolve(publication, {PublishOutcome::Kind::kDone, 200, "removed", {}});
    if (publication.retiring) {
      auto found = std::find_if(retiring_.begin(), retiring_.end(),
                                [&](const auto& held) { return held.get() == &publication; });
      if (found != retiring_.end()) {
        ReleasePublication(**found);
        retiring_.erase(found);
      }
      return;
    }
    const std::string user = publication.user;
    ForgetStatus(user);
    ReleasePublication(publication);
    publications_.erase(user);
  }

  // Takes a publication down whose user left the directory or whose AOR changed.
  void Retire(std::unique_ptr<Publication> publication) {
    Publication& held = *publication;
    held.retiring = true;
    held.removing = true;
    held.body.clear();
    tmr_cancel(&held.timer);
    Resolve(held, {PublishOutcome::Kind::kRetry, 0, "the user's SIP identity changed", {}});
    retiring_.push_back(std::move(publication));
    if (held.request) {
      held.dirty = true;  // sent once the request in flight is answered
    } else {
      Send(held);  // may forget it at once when nothing is published
    }
  }

  // The next back-off (from retry_min, doubling to retry_max), never sooner than the server's
  // Retry-After; in milliseconds for a libre timer.
  uint64_t NextWait(milliseconds& backoff, std::optional<seconds> retry_after) const {
    backoff = backoff.count() == 0 ? options_.retry_min : std::min(backoff * 2, options_.retry_max);
    const milliseconds wait = retry_after ? std::max<milliseconds>(*retry_after, backoff) : backoff;
    return static_cast<uint64_t>(wait.count());
  }

  void Resolve(Publication& publication, const PublishOutcome& outcome) {
    for (auto& waiter : publication.waiters) waiter->set_value(outcome);
    publication.waiters.clear();
  }

  static void OnRefreshTimer(void* arg) {
    auto& publication = *static_cast<Publication*>(arg);
    if (publication.request || publication.removing || publication.body.empty()) return;
    publication.recoveries = 0;
    publication.auth_rounds = 0;
    publication.impl->Send(publication);
  }

  // ---- health probe ----

  milliseconds ProbeDelay() const {
    return std::max<milliseconds>(duration_cast<milliseconds>(options_.keepalive),
                                  milliseconds(200));
  }

  static void OnProbeTimer(void* arg) {
    auto* self = static_cast<Impl*>(arg);
    self->Probe();
    tmr_start(&self->probe_timer_, static_cast<uint64_t>(self->ProbeDelay().count()),
              &Impl::OnProbeTimer, self);
  }

  // The probe is a publication of its own, for the agent's own URI, that nobody watches: a
  // "modify" of it answered 412 means the server lost every publication (it restarted). A
  // server that does not take it (403, 404...) is probed with OPTIONS instead, which can only
  // tell that the server was away.
  void Probe() {
    if (probe_request_ || (canary_ && canary_->request)) return;
    if (canary_usable_) {
      if (!canary_) {
        canary_ = NewPublication("", options_.agent_uri,
                                 static_cast<uint32_t>(std::max<int64_t>(
                                     options_.expires.count(), 2 * options_.keepalive.count())));
        PresenceDocument probe;
        probe.entity = options_.agent_uri;
        probe.tuple_id = "pa-probe";
        probe.person_id = "pa-p-probe";
        probe.note = "presence agent";
        canary_->body = WritePidf(probe);
      }
      canary_->recoveries = 0;
      canary_->auth_rounds = 0;
      Send(*canary_);
      return;
    }
    std::string headers = "Content-Length: 0\r\n\r\n";
    int err = sip_drequestf(&probe_request_, sip_, true, "OPTIONS", probe_dialog_, ++probe_cseq_,
                            nullptr, nullptr, &Impl::OnOptionsReply, this, "%s", headers.c_str());
    if (err) probe_request_ = nullptr;
  }

  // The probe's answer. Only a 412 to a modify says the server lost its publications.
  void CanaryAnswered(Publication& canary, int err, const struct sip_msg* msg) {
    if (err || !msg) {
      SetReachable(false);
      return;
    }
    SetReachable(true);
    const uint16_t code = msg->scode;
    if ((code == 401 || code == 407) && canary.auth_rounds < 1 && !options_.username.empty() &&
        sip_auth_authenticate(canary.auth, msg) == 0) {
      ++canary.auth_rounds;
      Send(canary);
      return;
    }
    if (code >= 200 && code < 300) {
      canary.etag = HeaderValue(msg, SIP_HDR_SIP_ETAG);
      canary_expires_ = Clock::now() + seconds(Granted(canary, msg));
      return;
    }
    if (code == 412 || (code == 500 && canary.sent_if_match && Unparsable(canary.etag))) {
      canary.etag.clear();
      // Only while its lifetime lasts does a 412 mean the server lost it (a probe interval
      // longer than the server grants lets it expire, which says nothing).
      if (Clock::now() < canary_expires_) {
        ScheduleRecovery("it no longer knows the agent's publications (" + StatusLine(msg) + ")");
      }
      Send(canary);
      return;
    }
    if (code == 403 || code == 404 || code == 405 || code == 415 || code == 489 || code == 501) {
      Log(LogLevel::kInfo, "the server does not take the probe publication for " + canary.aor +
                               " (" + StatusLine(msg) + "); probing with OPTIONS");
      canary_usable_ = false;
    }
    // Anything else (503 while starting, 500, 408...): tried again at the next probe.
  }

  static void OnOptionsReply(int err, const struct sip_msg* msg, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (msg && msg->scode < 200) return;
    self->probe_request_ = nullptr;
    if (err || !msg) {
      self->SetReachable(false);
      return;
    }
    self->SetReachable(true);
  }

  // After a spell without answers, the server may have restarted and lost everything.
  void SetReachable(bool reachable) {
    if (reachable && lost_contact_) {
      lost_contact_ = false;
      ScheduleRecovery("it answers again after a spell without answers");
    }
    if (!reachable && seen_answer_) lost_contact_ = true;
    if (reachable) seen_answer_ = true;
    if (reachable && !tls_refusal_.empty()) {
      tls_refusal_.clear();  // an answer came over a connection whose certificate passed
      std::lock_guard lock(status_mutex_);
      status_.tls_error.clear();
    }
    if (reachable == reachable_) return;
    reachable_ = reachable;
    Log(reachable ? LogLevel::kInfo : LogLevel::kWarning,
        reachable ? "the SIP server answers" : "no answer from the SIP server");
    std::lock_guard lock(status_mutex_);
    status_.server_reachable = reachable;
  }

  // Runs ServerLost once the current callback has returned.
  void ScheduleRecovery(const std::string& why) {
    recovery_reason_ = why;
    tmr_start(&recovery_timer_, 0, &Impl::OnRecoveryTimer, this);
  }

  static void OnRecoveryTimer(void* arg) {
    auto* self = static_cast<Impl*>(arg);
    self->ServerLost(self->recovery_reason_);
  }

  // The server lost (or may have lost) its publications and subscriptions: make them again.
  void ServerLost(const std::string& why) {
    Log(LogLevel::kWarning,
        "the SIP server may have restarted (" + why + "): publishing and subscribing again");
    {
      std::lock_guard lock(status_mutex_);
      ++status_.server_restarts;
    }
    for (auto& [user, publication] : publications_) {
      if (publication->request || publication->removing || publication->body.empty()) continue;
      tmr_cancel(&publication->timer);
      publication->recoveries = 0;
      publication->auth_rounds = 0;
      Send(*publication);
    }
    for (auto& [key, subscription] : subscriptions_) {
      ReleaseSubscription(*subscription);
      Subscribe(*subscription);
    }
  }

  // ---- subscriptions ----

  void HandleWatch(const Command& command) {
    // Publications of users no longer taking part are taken down.
    std::map<std::string, std::string> publishing;
    for (const WatchedUser& user : command.watched) publishing[user.user] = user.aor;
    for (auto it = publications_.begin(); it != publications_.end();) {
      auto still = publishing.find(it->first);
      if (still == publishing.end() || still->second != it->second->aor) {
        ForgetStatus(it->first);
        std::unique_ptr<Publication> gone = std::move(it->second);
        it = publications_.erase(it);
        Retire(std::move(gone));
      } else {
        ++it;
      }
    }
    std::set<std::pair<std::string, std::string>> wanted;
    std::map<std::pair<std::string, std::string>, std::string> aors;
    for (const WatchedUser& user : command.watched) {
      for (const std::string& event : command.events) {
        wanted.insert({user.user, event});
        aors[{user.user, event}] = user.aor;
      }
    }
    for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
      auto aor = aors.find(it->first);
      if (!wanted.count(it->first) || aor->second != it->second->aor) {
        ReleaseSubscription(*it->second);  // an established one is ended with Expires: 0
        ForgetSubscription(it->first.first, it->first.second);
        it = subscriptions_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& key : wanted) {
      if (subscriptions_.count(key)) continue;
      auto subscription = std::make_unique<Subscription>();
      subscription->impl = this;
      subscription->user = key.first;
      subscription->event = key.second;
      subscription->aor = aors[key];
      tmr_init(&subscription->timer);
      Subscription& made = *subscription;
      subscriptions_[key] = std::move(subscription);
      Subscribe(made);
    }
  }

  void Subscribe(Subscription& subscription) {
    subscription.first = true;
    const char* route = route_.c_str();
    std::string accept =
        subscription.event == "dialog" ? std::string(kDialogInfoType) : std::string(kPidfType);
    int err = sipevent_subscribe(
        &subscription.sub, events_, subscription.aor.c_str(), nullptr, options_.agent_uri.c_str(),
        subscription.event.c_str(), nullptr, static_cast<uint32_t>(options_.expires.count()),
        "presence-agent", &route, 1, &Impl::OnAuth, this, false, nullptr, &Impl::OnNotify,
        &Impl::OnSubscriptionClosed, &subscription, "Accept: %s\r\n", accept.c_str());
    SetSubscriptionState(subscription, err ? "terminated" : "trying");
    if (err) {
      subscription.sub = nullptr;
      Log(LogLevel::kWarning, "cannot subscribe to " + subscription.event + " of " +
                                  subscription.user + ": " + ErrorText(err));
      RetrySubscription(subscription, std::nullopt);
    }
  }

  static void OnNotify(struct sip* stack, const struct sip_msg* msg, void* arg) {
    auto& subscription = *static_cast<Subscription*>(arg);
    sip_treply(nullptr, stack, msg, 200, "OK");
    subscription.impl->Notified(subscription, msg);
  }

  void Notified(Subscription& subscription, const struct sip_msg* msg) {
    Notification notification;
    notification.user = subscription.user;
    notification.event = subscription.event;
    if (msg->ctyp.type.l) {
      notification.content_type = Text(msg->ctyp.type) + "/" + Text(msg->ctyp.subtype);
    }
    struct sipevent_substate state {};
    const struct sip_hdr* header = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
    if (header && sipevent_substate_decode(&state, &header->val) == 0) {
      notification.subscription_state = sipevent_substate_name(state.state);
    }
    notification.first = subscription.first;
    subscription.first = false;
    // An active subscription resets the back-off; a NOTIFY that ends it does not (libre calls
    // the close handler right after it, which must keep backing off).
    if (header && state.state == SIPEVENT_ACTIVE) subscription.backoff = milliseconds(0);
    const size_t size = msg->mb ? mbuf_get_left(msg->mb) : 0;
    bool ignored = size > kMaxDocumentBytes;
    if (!ignored) {
      notification.body.assign(reinterpret_cast<const char*>(mbuf_buf(msg->mb)), size);
    }
    {
      std::lock_guard lock(status_mutex_);
      ++status_.notifies;
      if (ignored) ++status_.notifies_ignored;
      SubscriptionStatus& status = status_.subscriptions[subscription.user][subscription.event];
      status.state =
          notification.subscription_state.empty() ? "active" : notification.subscription_state;
      status.last_notify =
          FormatTime(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()));
      ++status.notifies;
    }
    if (ignored) {
      Log(LogLevel::kWarning, "a " + subscription.event + " NOTIFY for " + subscription.user +
                                  " of " + std::to_string(size) + " bytes was ignored (at most " +
                                  std::to_string(kMaxDocumentBytes) + ")");
      return;
    }
    if (notify_) notify_(notification);
  }

  static void OnSubscriptionClosed(int err, const struct sip_msg* msg,
                                   const struct sipevent_substate* state, void* arg) {
    auto& subscription = *static_cast<Subscription*>(arg);
    Impl& self = *subscription.impl;
    subscription.sub = static_cast<struct sipsub*>(mem_deref(subscription.sub));
    std::string why = err ? ErrorText(err) : msg ? StatusLine(msg) : "terminated";
    std::optional<seconds> retry_after;
    if (state && state->retry_after.l) retry_after = seconds(pl_u32(&state->retry_after));
    if (msg && !retry_after) {
      if (auto value = HeaderNumber(msg, SIP_HDR_RETRY_AFTER)) retry_after = seconds(*value);
    }
    if (retry_after && *retry_after > kMaxRetryAfter) retry_after = kMaxRetryAfter;
    // RFC 6665 4.1.3: after "deactivated" or "timeout" subscribe again at once; after
    // "rejected" or "noresource" it should not be retried soon, so the wait is the longest.
    if (state && state->state == SIPEVENT_TERMINATED) {
      why += std::string(", reason ") + sipevent_reason_name(state->reason);
      if (state->reason == SIPEVENT_DEACTIVATED || state->reason == SIPEVENT_TIMEOUT) {
        subscription.backoff = milliseconds(0);
      } else if (state->reason == SIPEVENT_REJECTED || state->reason == SIPEVENT_NORESOURCE) {
        subscription.backoff = self.options_.retry_max;
      }
    }
    self.Log(LogLevel::kWarning, "subscription to " + subscription.event + " of " +
                                     subscription.user + " ended (" + why + "); subscribing again");
    self.SetSubscriptionState(subscription, "terminated");
    if (err) self.SetReachable(false);
    self.RetrySubscription(subscription, retry_after);
  }

  void RetrySubscription(Subscription& subscription, std::optional<seconds> retry_after) {
    tmr_start(&subscription.timer, NextWait(subscription.backoff, retry_after),
              &Impl::OnResubscribe, &subscription);
  }

  static void OnResubscribe(void* arg) {
    auto& subscription = *static_cast<Subscription*>(arg);
    if (subscription.sub) return;
    subscription.impl->Subscribe(subscription);
  }

  // ---- status ----

  void UpdateStatus(const std::string& user, const std::string& etag,
                    std::optional<Clock::time_point> expires, const std::string& result) {
    std::lock_guard lock(status_mutex_);
    PublicationStatus& status = status_.publications[user];
    status.etag = etag;
    status.last_result = result;
    if (expires) {
      expiry_[user] = *expires;
    } else if (etag.empty()) {
      expiry_.erase(user);
    }
  }

  void ForgetStatus(const std::string& user) {
    std::lock_guard lock(status_mutex_);
    status_.publications.erase(user);
    expiry_.erase(user);
  }

  void ForgetSubscription(const std::string& user, const std::string& event) {
    std::lock_guard lock(status_mutex_);
    auto found = status_.subscriptions.find(user);
    if (found == status_.subscriptions.end()) return;
    found->second.erase(event);
    if (found->second.empty()) status_.subscriptions.erase(found);
  }

  void SetSubscriptionState(const Subscription& subscription, const std::string& state) {
    std::lock_guard lock(status_mutex_);
    status_.subscriptions[subscription.user][subscription.event].state = state;
  }

  StackOptions options_;
  LogSink log_;
  NotifyHandler notify_;
  std::string server_ip_;
  std::string server_uri_;
  std::string route_;

  std::thread thread_;
  int wake_[2] = {-1, -1};
  std::mutex mutex_;  // guards commands_, stopping_, running_
  std::deque<Command> commands_;
  bool stopping_ = false;
  bool running_ = false;

  mutable std::mutex status_mutex_;  // guards status_, expiry_, local_address_
  StackStatus status_;
  std::map<std::string, Clock::time_point> expiry_;
  std::string local_address_;

  // SIP thread only.
  struct sip* sip_ = nullptr;
  struct tls* tls_ = nullptr;
  struct sipevent_sock* events_ = nullptr;
  struct sip_lsnr* listener_ = nullptr;
  struct sip_dialog* probe_dialog_ = nullptr;
  struct sip_request* probe_request_ = nullptr;
  uint32_t probe_cseq_ = 0;
  tmr probe_timer_;
  tmr recovery_timer_;
  std::string recovery_reason_;
  bool lost_contact_ = false;  // a request went unanswered after the server had answered
  bool reachable_ = false;
  bool seen_answer_ = false;
  std::string tls_refusal_;  // why the server's certificate was refused; cleared by an answer
  std::map<std::string, std::unique_ptr<Publication>> publications_;
  std::unique_ptr<Publication> canary_;                 // the probe (see Probe)
  std::vector<std::unique_ptr<Publication>> retiring_;  // being taken down (see Retire)
  bool canary_usable_ = true;
  Clock::time_point canary_expires_{};
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Subscription>> subscriptions_;
};

SipStack::SipStack(StackOptions options, LogSink log, NotifyHandler notify)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(log), std::move(notify))) {}

SipStack::~SipStack() = default;

Status SipStack::Start() { return impl_->Start(); }
void SipStack::Stop() { impl_->Stop(); }

std::future<PublishOutcome> SipStack::Publish(const std::string& user, const std::string& aor,
                                              std::string body, bool remove) {
  return impl_->Publish(user, aor, std::move(body), remove);
}

void SipStack::Watch(std::vector<WatchedUser> users, std::vector<std::string> events) {
  impl_->Watch(std::move(users), std::move(events));
}

std::string SipStack::local_address() const { return impl_->local_address(); }

StackStatus SipStack::status() const { return impl_->status(); }

}  // namespace presence::connectors::sip
