#include "agent/api/request_reader.h"

#include <algorithm>
#include <array>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

// How the work is split: the reader frames the request itself (it finds the end of the head,
// of each chunk-size line and of the trailers, byte by byte, checking every bound on the way),
// and hands Beast only whole structures: the head in one piece, each chunk-size line (with
// the CRLF ending the chunk before it), the last chunk with its trailers; body bytes go to
// Beast as they come. So Beast never sees a partial head or line: what it is given does not
// depend on how the bytes were split between calls, and neither does what it answers. Beast
// does the parsing proper (request line, fields, Connection lists, chunk sizes, extensions,
// trailer fields); the reader's own checks come first, in byte order, with the messages the
// API has always given (http_connection.cc made them around Poco).

namespace presence::agent {
namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;
using BeastView = boost::beast::string_view;

// A body's memory follows the bytes that arrive: at most this much is reserved ahead of them,
// whatever a Content-Length promises.
constexpr std::size_t kReserveBody = 64 * 1024;
// A connection keeps its buffers between requests, unless a large head or trailers grew them.
constexpr std::size_t kKeepCapacity = 16 * 1024;

const char kFolded[] =
    "a header line is folded onto the one before (obs-fold, RFC 9112 5.2): send each header on "
    "one line";
const char kControl[] =
    "a control character in the request head; header values may hold only visible characters, "
    "spaces and tabs";
const char kDigits[] = "Content-Length: must be a number of bytes (digits only)";
const char kTwice[] = "Content-Length: sent twice with two values";
const char kTogether[] = "Content-Length and Transfer-Encoding together: send one of them";
const char kOnlyChunked[] = "Transfer-Encoding: only 'chunked' is accepted";
const char kOnlyChunkedOnce[] = "Transfer-Encoding: only 'chunked' is accepted, once";
const char kBareLf[] = "a line ends in a bare LF; end each line of the head with CRLF";
const char kNotRead[] =
    "the body of the request before was over the limit and was not read; the connection closes";

std::string Unreadable(std::string_view reason) {
  return "the request head could not be read (" + std::string(reason) +
         "); a request line may have up to " + std::to_string(RequestReader::kMaxRequestLine) +
         " bytes, a header value up to " + std::to_string(RequestReader::kMaxFieldValue) +
         ", a request up to " + std::to_string(RequestReader::kMaxFields) +
         " headers, and a head up to " + std::to_string(RequestReader::kMaxHead) + " bytes in all";
}

std::string BadChunked(std::string_view reason) {
  return "the chunked body could not be read (" + std::string(reason) +
         "); each chunk is a line with its size in hex (up to " +
         std::to_string(RequestReader::kMaxChunkLine) +
         " bytes with extensions and CRLF), its data and CRLF, and the trailer fields after the "
         "last chunk may have up to " +
         std::to_string(RequestReader::kMaxFields) + " lines and " +
         std::to_string(RequestReader::kMaxHead) + " bytes";
}

// Character classes (RFC 9110 5.6.2, 5.5).
struct Classes {
  std::array<bool, 256> token{};    // tchar
  std::array<bool, 256> control{};  // CTL other than HTAB: never in a head
  std::array<bool, 256> plain{};    // neither CR, LF nor a control character
  std::array<bool, 256> blank{};    // SP and HTAB
  constexpr Classes() {
    for (int c = 0; c < 256; ++c) {
      control[c] = (c < 0x20 && c != '\t') || c == 0x7F;
      plain[c] = !control[c];
      blank[c] = c == ' ' || c == '\t';
      token[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) token[static_cast<unsigned char>(c)] = true;
  }
};
constexpr Classes kClasses;

unsigned char Byte(char c) { return static_cast<unsigned char>(c); }

bool IsToken(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return kClasses.token[Byte(c)]; });
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A Content-Length as Poco took it: digits only, and a number (at most 2^64 - 1).
bool IsByteCount(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const std::size_t first = std::min(text.find_first_not_of('0'), text.size());
  const std::string_view digits = text.substr(first);
  return digits.size() < 20 || (digits.size() == 20 && digits <= "18446744073709551615");
}

// What is wrong with a request line (CR LF not included), or "": METHOD SP target SP version,
// as Beast reads it (RFC 9112 3).
std::string RequestLineProblem(std::string_view line) {
  const std::size_t space = line.find(' ');
  const std::size_t second = space == std::string_view::npos ? space : line.find(' ', space + 1);
  if (second == std::string_view::npos || !IsToken(line.substr(0, space)) || second == space + 1) {
    return Unreadable(
        "the request line is not a method, a target and HTTP/1.1 separated by single spaces");
  }
  const std::string_view version = line.substr(second + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    const bool looks = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[6] == '.';
    return Unreadable(looks ? "the HTTP version is not HTTP/1.1 or HTTP/1.0"
                            : "the request line is not a method, a target and HTTP/1.1 "
                              "separated by single spaces");
  }
  return "";
}

// Beast's answer, in the words of the messages above.
std::string HeadReason(const error_code& ec) {
  if (ec == http::error::bad_method) return "the method is not a token";
  if (ec == http::error::bad_target) return "the request target is not valid";
  if (ec == http::error::bad_version) return "the HTTP version is not HTTP/1.1 or HTTP/1.0";
  if (ec == http::error::bad_field) return "a header line is not a name, a colon and a value";
  if (ec == http::error::bad_value) return "a header value is not valid";
  if (ec == http::error::bad_line_ending) return "a line does not end in CRLF";
  if (!ec || ec == http::error::need_more) return "the head ends before it is complete";
  return ec.message();
}

std::string ChunkReason(const error_code& ec) {
  if (ec == http::error::bad_chunk) return "a chunk size is not a hex number below 2^64";
  if (ec == http::error::bad_chunk_extension) return "a chunk extension is not valid";
  if (ec == http::error::body_limit) return "the chunk sizes add up to more than 2^64 - 1";
  if (ec == http::error::bad_field || ec == http::error::bad_value) {
    return "a trailer line is not a name, a colon and a value";
  }
  if (ec == http::error::bad_line_ending) return "a chunk line does not end in CRLF";
  if (!ec || ec == http::error::need_more) {
    return "a chunk size line is not a hex size, extensions and CRLF";
  }
  return ec.message();
}

// What Beast's callbacks fill in, for one request.
struct Message {
  explicit Message(std::size_t body_cap) : cap(body_cap) {}
  std::size_t cap;  // max_body + 1
  ParsedRequest request;
  bool over = false;         // the body reached cap
  bool in_trailers = false;  // fields now are trailers: not the request's
  bool chunk_begun = false;  // a chunk header of a non-zero size was read
  bool chunk_ended = false;  // the data of the current chunk is all read
  bool close = false;        // Connection: close
  bool keep_alive = false;   // Connection: keep-alive
  bool expect_continue = false;

  // Appends what fits under cap; returns how much of `bytes` it took.
  std::size_t Append(BeastView bytes) {
    const std::size_t take = std::min(bytes.size(), cap - request.body.size());
    request.body.append(bytes.data(), take);
    if (request.body.size() >= cap) over = true;
    return take;
  }
};

// Beast's request parser, writing into a Message; the body is appended here, up to cap.
class BeastRequest final : public http::basic_parser<true> {
 public:
  explicit BeastRequest(Message& message) : message_(message) {
    header_limit(static_cast<std::uint32_t>(RequestReader::kMaxHead));
    // The bound is Message::cap, which ends the request instead of failing it. Not boost::none:
    // Beast 1.74 compares the length with the optional, and any length is "over" an empty one.
    // Beast subtracts each chunk's declared size from this: only sizes that add up past
    // 2^64 - 1 fail (http::error::body_limit).
    body_limit(std::numeric_limits<std::uint64_t>::max());
    eager(false);  // one structure per put: the reader frames the rest
  }

 private:
  void on_request_impl(http::verb, BeastView method, BeastView target, int version,
                       error_code&) override {
    message_.request.method.assign(method.data(), method.size());
    message_.request.target.assign(target.data(), target.size());
    message_.request.version = version;
  }
  void on_response_impl(int, BeastView, int, error_code& ec) override {
    ec = http::error::bad_version;  // not called for a request parser
  }
  void on_field_impl(http::field field, BeastView name, BeastView value, error_code&) override {
    if (message_.in_trailers) return;
    message_.request.fields.emplace_back(std::string(name.data(), name.size()),
                                         std::string(value.data(), value.size()));
    const std::string_view text(value.data(), value.size());
    if (field == http::field::connection) {
      // A comma list of tokens (RFC 9110 7.6.1); Beast has checked it is one.
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t end = std::min(text.find(',', start), text.size());
        const std::string_view item = TrimBlanks(text.substr(start, end - start));
        if (IEquals(item, "close")) message_.close = true;
        if (IEquals(item, "keep-alive")) message_.keep_alive = true;
        start = end + 1;
      }
    } else if (field == http::field::expect) {
      if (IEquals(text, "100-continue")) message_.expect_continue = true;
    }
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) {
      message_.request.body.reserve(
          static_cast<std::size_t>(std::min<std::uint64_t>({*length, message_.cap, kReserveBody})));
    }
  }
  std::size_t on_body_impl(BeastView body, error_code&) override { return message_.Append(body); }
  void on_chunk_header_impl(std::uint64_t size, BeastView, error_code&) override {
    if (size > 0) message_.chunk_begun = true;
  }
  std::size_t on_chunk_body_impl(std::uint64_t remain, BeastView body, error_code&) override {
    const std::size_t taken = message_.Append(body);
    if (taken == remain) message_.chunk_ended = true;
    return taken;
  }
  void on_finish_impl(error_code&) override {}

  Message& message_;
};

enum class Phase {
  kIdle,       // between requests: blank lines are skipped
  kHead,       // the head is arriving
  kBody,       // Content-Length body bytes
  kChunkLine,  // the CRLF after a chunk's data and the next chunk-size line
  kChunkData,  // a chunk's data
  kTrailers,   // the trailer fields after the last chunk
  kDone,       // a request is complete, not taken yet
  kFailed,     // malformed
  kClosed,     // a body over the limit was not read: nothing more can be read
};

// Where a head stands while it arrives.
struct HeadScan {
  std::size_t blank = 0;       // CR/LF bytes skipped before the request line
  std::size_t line_start = 0;  // offset of the current line in the head buffer
  std::size_t line_len = 0;    // its bytes so far, CR LF not included
  bool request_line = true;
  bool line_begun = false;  // the current line's first byte was seen
  bool cr = false;          // the last byte was a CR: a LF must follow
  bool bare_lf = false;     // the line before ended in a LF alone
  bool space = false;       // request line: the space after the method was seen
  std::size_t method_len = 0;
  bool colon = false;  // header line: the colon was seen
  std::size_t name_len = 0;
  bool name_ok = true;  // every byte of the name so far is a tchar
  bool value_begun = false;
  std::size_t value_start = 0;
  std::size_t value_len = 0;
  std::size_t fields = 0;
  // Framing, as the header lines arrive (FramingProblem in http_connection.cc did it on
  // Poco's fields): the first Content-Length problem, the value, Transfer-Encoding.
  const char* length_problem = nullptr;
  bool length = false;
  std::size_t length_start = 0;  // the first Content-Length value, in the head
  std::size_t length_size = 0;
  std::size_t codings = 0;
  bool chunked = true;  // every Transfer-Encoding said chunked
};

}  // namespace

struct RequestReader::State {
  explicit State(std::size_t max_body)
      : cap(max_body == SIZE_MAX ? max_body : max_body + 1), message(cap) {}

  std::size_t cap;
  Phase phase = Phase::kIdle;
  Message message;
  std::optional<BeastRequest> beast;
  std::string problem;

  std::string head;  // the head as received (from the request line), at most kMaxHead bytes
  HeadScan scan;

  std::string pending;          // a chunk-size line or the trailers while they arrive
  std::size_t crlf_needed = 0;  // bytes of the CRLF after a chunk's data still to come
  std::size_t chunk_line = 0;   // bytes of the chunk-size line so far
  std::size_t trailer_bytes = 0;
  std::size_t trailer_fields = 0;
  std::size_t trailer_line = 0;  // bytes of the current trailer line, CR LF not included
  bool trailer_cr = false;

  void Reset() {
    phase = Phase::kIdle;
    message = Message(cap);
    beast.reset();
    head.clear();
    if (head.capacity() > kKeepCapacity) std::string().swap(head);
    pending.clear();
    if (pending.capacity() > kKeepCapacity) std::string().swap(pending);
    scan = HeadScan();
    crlf_needed = chunk_line = trailer_bytes = trailer_fields = trailer_line = 0;
    trailer_cr = false;
  }

  std::size_t Fail(std::string why, std::size_t taken) {
    problem = std::move(why);
    phase = Phase::kFailed;
    return taken;
  }
  bool Stop(std::string why) {
    Fail(std::move(why), 0);
    return false;
  }

  std::size_t SkipBlank(std::string_view in);
  std::size_t ReadHead(std::string_view in);
  std::size_t Run(const char* p, std::size_t most);
  bool EndLine(bool bare);
  void RecordField(std::string_view name, std::string_view value);
  void EndHead();
  std::string FramingProblem() const;
  std::size_t ReadBody(std::string_view in);
  std::size_t ReadChunkLine(std::string_view in);
  std::size_t ReadTrailers(std::string_view in);
  bool Put(std::string_view bytes, error_code& ec);
};

std::size_t RequestReader::State::SkipBlank(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size() && (in[i] == '\r' || in[i] == '\n')) {
    if (scan.blank >= kMaxHead) {
      return Fail(Unreadable("the head is over " + std::to_string(kMaxHead) +
                             " bytes, with the blank lines before it"),
                  i + 1);
    }
    ++scan.blank;
    ++i;
  }
  if (i < in.size()) phase = Phase::kHead;
  return i;
}

// How many bytes from `p` (at most `most`) continue the current head line with nothing to do
// but count them: a method's tchars, a target's or a value's plain bytes, a name's tchars, the
// spaces before a value. Each run ends before the byte that would cross a bound.
std::size_t RequestReader::State::Run(const char* p, std::size_t most) {
  HeadScan& s = scan;
  const std::array<bool, 256>* allowed = &kClasses.plain;
  if (s.request_line) {
    most = std::min(most, kMaxRequestLine - s.line_len);
    if (!s.space) {
      most = std::min(most, kMaxMethod - s.method_len);
      allowed = &kClasses.token;
    }
  } else if (!s.colon) {
    most = std::min(most, kMaxFieldName - s.line_len);
    allowed = &kClasses.token;
  } else if (s.value_begun) {
    most = std::min(most, kMaxFieldValue - s.value_len);
  } else {
    allowed = &kClasses.blank;
  }
  std::size_t n = 0;
  while (n < most && (*allowed)[Byte(p[n])]) ++n;
  s.line_len += n;
  if (s.request_line && !s.space) s.method_len += n;
  if (!s.request_line && s.value_begun) s.value_len += n;
  return n;
}

// Scans `in` as the head's continuation. Bytes of the head are copied into `head` at each
// line's end (so a line is whole there when it is checked) and when `in` runs out; nothing
// after the head is copied. Returns how many bytes of `in` were read.
std::size_t RequestReader::State::ReadHead(std::string_view in) {
  HeadScan& s = scan;
  const char* p = in.data();
  const std::size_t base = head.size();          // where in[0] goes in `head`
  const std::size_t bound = kMaxHead - s.blank;  // bytes the head may have
  std::size_t i = 0;
  std::size_t copied = 0;
  auto end_line = [&](bool bare) {
    head.append(p + copied, i - copied);
    copied = i;
    if (EndLine(bare)) return false;
    if (phase != Phase::kFailed) EndHead();
    return true;
  };
  while (i < in.size()) {
    if (base + i >= bound) {
      return Fail(Unreadable("the head is over " + std::to_string(kMaxHead) + " bytes"), i + 1);
    }
    // Fast path: a run of bytes that the per-byte steps below would only count, stopping
    // before any bound (the byte that crosses one takes those steps).
    if (!s.cr && s.line_begun) {
      const std::size_t n = Run(p + i, std::min(in.size(), bound - base) - i);
      i += n;
      if (n > 0) continue;
    }
    const char c = p[i];
    if (s.cr) {
      if (c != '\n') return Fail(kControl, i + 1);
      s.cr = false;
      ++i;
      if (end_line(false)) return i;
      continue;
    }
    if (!s.line_begun) {
      s.line_begun = true;
      if (!s.request_line) {
        if (c == ' ' || c == '\t') return Fail(kFolded, i + 1);
        if (s.bare_lf) return Fail(Unreadable(kBareLf), i + 1);
        if (c != '\r' && c != '\n' && ++s.fields > kMaxFields) {
          return Fail(Unreadable("more than " + std::to_string(kMaxFields) + " headers"), i + 1);
        }
      }
    }
    if (c == '\r') {
      s.cr = true;
      ++i;
      continue;
    }
    if (c == '\n') {
      ++i;
      if (end_line(true)) return i;
      continue;
    }
    if (kClasses.control[Byte(c)]) return Fail(kControl, i + 1);
    ++s.line_len;
    if (s.request_line) {
      if (s.line_len > kMaxRequestLine) {
        return Fail(
            Unreadable("the request line is over " + std::to_string(kMaxRequestLine) + " bytes"),
            i + 1);
      }
      if (!s.space) {
        if (c == ' ') {
          s.space = true;
        } else if (++s.method_len > kMaxMethod) {
          return Fail(Unreadable("the method is over " + std::to_string(kMaxMethod) + " bytes"),
                      i + 1);
        }
      }
    } else if (!s.colon) {
      if (c == ':') {
        s.colon = true;
        s.name_len = s.line_len - 1;
      } else if (!kClasses.token[Byte(c)]) {
        s.name_ok = false;
      }
      if (!s.colon && s.line_len > kMaxFieldName) {
        return Fail(Unreadable("a header name is over " + std::to_string(kMaxFieldName) + " bytes"),
                    i + 1);
      }
    } else if (s.value_begun || (c != ' ' && c != '\t')) {
      if (!s.value_begun) s.value_start = base + i;
      s.value_begun = true;
      if (++s.value_len > kMaxFieldValue) {
        return Fail(Unreadable("the value of a header is over " + std::to_string(kMaxFieldValue) +
                               " bytes"),
                    i + 1);
      }
    }
    ++i;
  }
  head.append(p + copied, i - copied);
  return i;
}

// The line ending at the end of `head` (its LF included) is complete; false when the scan
// stops there: a problem, or the blank line that ends the head.
bool RequestReader::State::EndLine(bool bare) {
  HeadScan& s = scan;
  const std::string_view line(head.data() + s.line_start, s.line_len);
  if (s.request_line) {
    if (std::string why = RequestLineProblem(line); !why.empty()) return Stop(std::move(why));
    s.request_line = false;
  } else if (line.empty()) {
    return bare ? Stop(Unreadable(kBareLf)) : false;  // or the end of the head
  } else {
    const std::string_view name = line.substr(0, s.name_len);
    if (!s.colon || !s.name_ok || name.empty()) {
      return Stop(Unreadable("a header line is not a name, a colon and a value"));
    }
    const std::string_view value =
        s.value_begun ? TrimBlanks(std::string_view(head.data() + s.value_start, s.value_len))
                      : std::string_view();
    RecordField(name, value);
  }
  s.bare_lf = bare;
  s.line_start = head.size();
  s.line_len = 0;
  s.line_begun = false;
  s.colon = false;
  s.name_len = 0;
  s.name_ok = true;
  s.value_begun = false;
  s.value_len = 0;
  return true;
}

void RequestReader::State::RecordField(std::string_view name, std::string_view value) {
  HeadScan& s = scan;
  if (IEquals(name, "Content-Length") && !s.length_problem) {
    if (!IsByteCount(value)) {
      s.length_problem = kDigits;
    } else if (s.length && std::string_view(head).substr(s.length_start, s.length_size) != value) {
      s.length_problem = kTwice;
    } else if (!s.length) {
      s.length = true;
      s.length_start = static_cast<std::size_t>(value.data() - head.data());
      s.length_size = value.size();
    }
  } else if (IEquals(name, "Transfer-Encoding")) {
    ++s.codings;
    if (!IEquals(value, "chunked")) s.chunked = false;
  }
}

// The head (in `head`, ending in its blank line) is complete: the framing checks, then Beast.
void RequestReader::State::EndHead() {
  if (const std::string why = FramingProblem(); !why.empty()) {
    Fail(why, 0);
    return;
  }
  beast.emplace(message);
  message.request.fields.reserve(scan.fields);
  error_code ec;
  const std::size_t used = beast->put(boost::asio::const_buffer(head.data(), head.size()), ec);
  if (ec || used != head.size() || !beast->is_header_done()) {
    Fail(Unreadable(HeadReason(ec)), 0);
    return;
  }
  ParsedRequest& request = message.request;
  request.keep_alive = !message.close && (request.version >= 11 || message.keep_alive);
  if (beast->is_done()) {
    phase = Phase::kDone;
  } else if (beast->chunked()) {
    phase = Phase::kChunkLine;
  } else {
    phase = Phase::kBody;
  }
}

// Framing that another reader of the same bytes (a proxy) might take differently, in the order
// and words of http_connection.cc's FramingProblem, or "".
std::string RequestReader::State::FramingProblem() const {
  const HeadScan& s = scan;
  if (s.length_problem) return s.length_problem;
  if (s.length && s.codings > 0) return kTogether;
  // RFC 9112 6.1: any other coding, or a list, is framed by a proxy differently than here.
  if (s.codings > 0 && !s.chunked) return kOnlyChunked;
  if (s.codings > 1) return kOnlyChunkedOnce;
  const std::string_view method(head.data(), s.method_len);
  const std::string_view length = std::string_view(head).substr(s.length_start, s.length_size);
  const bool body = s.codings > 0 || length.find_first_not_of('0') != std::string_view::npos;
  if (body && (method == "GET" || method == "HEAD")) {
    return "a " + std::string(method) + " request carries no body";
  }
  return "";
}

// Gives Beast `bytes`, which it must take whole.
bool RequestReader::State::Put(std::string_view bytes, error_code& ec) {
  const std::size_t used = beast->put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
  return !ec && used == bytes.size();
}

// Content-Length bytes, or a chunk's data.
std::size_t RequestReader::State::ReadBody(std::string_view in) {
  error_code ec;
  const std::size_t used = beast->put(boost::asio::const_buffer(in.data(), in.size()), ec);
  if (ec || used == 0) return Fail("the body could not be read (" + ec.message() + ")", used);
  if (message.over || beast->is_done()) {
    phase = Phase::kDone;
  } else if (phase == Phase::kChunkData && message.chunk_ended) {
    message.chunk_ended = false;
    phase = Phase::kChunkLine;
    crlf_needed = 2;
    chunk_line = 0;
    pending.clear();
  }
  return used;
}

std::size_t RequestReader::State::ReadChunkLine(std::string_view in) {
  std::size_t i = 0;
  while (crlf_needed > 0 && i < in.size()) {
    if (in[i] != (crlf_needed == 2 ? '\r' : '\n')) {
      return Fail(BadChunked("a chunk's data is not followed by CRLF"), i + 1);
    }
    pending.push_back(in[i++]);
    --crlf_needed;
  }
  if (i == in.size()) return i;
  // The size line, CRLF included, is at most kMaxChunkLine bytes: look that far for its LF.
  const std::size_t most = std::min(in.size() - i, kMaxChunkLine - chunk_line);
  const char* lf = static_cast<const char*>(std::memchr(in.data() + i, '\n', most));
  const std::size_t n = lf ? static_cast<std::size_t>(lf - (in.data() + i)) + 1 : most;
  pending.append(in.data() + i, n);
  chunk_line += n;
  i += n;
  if (!lf) {
    if (chunk_line >= kMaxChunkLine) {
      return Fail(
          BadChunked("a chunk size line is over " + std::to_string(kMaxChunkLine) + " bytes"), i);
    }
    return i;
  }
  // The last chunk (a size of zeros) is given to Beast with its trailers, once they are in.
  const std::string_view line = std::string_view(pending).substr(pending.size() - chunk_line);
  std::size_t digits = 0;
  while (digits < line.size() && IsHex(line[digits])) ++digits;
  if (digits > 0 && line.find_first_not_of('0') >= digits) {
    phase = Phase::kTrailers;
    return i;
  }
  error_code ec;
  if (!Put(pending, ec) || !message.chunk_begun) return Fail(BadChunked(ChunkReason(ec)), i);
  message.chunk_begun = false;
  pending.clear();
  phase = Phase::kChunkData;
  return i;
}

std::size_t RequestReader::State::ReadTrailers(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    if (trailer_bytes >= kMaxHead) {
      return Fail(BadChunked("the trailer fields are over " + std::to_string(kMaxHead) + " bytes"),
                  i + 1);
    }
    const char c = in[i++];
    ++trailer_bytes;
    pending.push_back(c);
    if (trailer_cr) {
      if (c != '\n') return Fail(BadChunked("a control character in a trailer field"), i);
      trailer_cr = false;
      if (trailer_line > 0) {
        trailer_line = 0;
        continue;
      }
      // The blank line: the request is complete.
      message.in_trailers = true;
      error_code ec;
      if (!Put(pending, ec) || !beast->is_done()) return Fail(BadChunked(ChunkReason(ec)), i);
      phase = Phase::kDone;
      return i;
    }
    if (c == '\r') {
      trailer_cr = true;
    } else if (c == '\n') {
      return Fail(BadChunked("a trailer line ends in a bare LF; end each line with CRLF"), i);
    } else if (kClasses.control[Byte(c)]) {
      return Fail(BadChunked("a control character in a trailer field"), i);
    } else {
      if (trailer_line == 0 && (c == ' ' || c == '\t')) {
        return Fail(BadChunked("a trailer field is folded onto the line before"), i);
      }
      if (trailer_line == 0 && ++trailer_fields > kMaxFields) {
        return Fail(BadChunked("more than " + std::to_string(kMaxFields) + " trailer fields"), i);
      }
      ++trailer_line;
    }
  }
  return i;
}

RequestReader::RequestReader(std::size_t max_body) : state_(std::make_unique<State>(max_body)) {}

RequestReader::~RequestReader() = default;

RequestReader::Outcome RequestReader::Feed(std::string_view data, std::size_t& taken) {
  State& s = *state_;
  taken = 0;
  for (;;) {
    switch (s.phase) {
      case Phase::kDone:
        return Outcome::kRequest;
      case Phase::kFailed:
      case Phase::kClosed:
        if (problem_.empty()) problem_ = s.problem;
        return Outcome::kMalformed;
      default:
        break;
    }
    if (taken == data.size()) return Outcome::kNeedMore;
    const std::string_view rest = data.substr(taken);
    switch (s.phase) {
      case Phase::kIdle:
        taken += s.SkipBlank(rest);
        break;
      case Phase::kHead:
        taken += s.ReadHead(rest);
        break;
      case Phase::kBody:
      case Phase::kChunkData:
        taken += s.ReadBody(rest);
        break;
      case Phase::kChunkLine:
        taken += s.ReadChunkLine(rest);
        break;
      case Phase::kTrailers:
        taken += s.ReadTrailers(rest);
        break;
      default:
        break;
    }
  }
}

ParsedRequest RequestReader::Take() {
  State& s = *state_;
  if (s.phase != Phase::kDone) return {};
  ParsedRequest request = std::move(s.message.request);
  request.body_over_limit = s.message.over;
  s.Reset();
  if (request.body_over_limit) {
    s.phase = Phase::kClosed;
    s.problem = kNotRead;
  }
  return request;
}

bool RequestReader::started() const {
  return state_->phase != Phase::kIdle && state_->phase != Phase::kClosed;
}

bool RequestReader::head_done() const {
  switch (state_->phase) {
    case Phase::kBody:
    case Phase::kChunkLine:
    case Phase::kChunkData:
    case Phase::kTrailers:
      return true;
    default:
      return false;
  }
}

bool RequestReader::expects_continue() const {
  const State& s = *state_;
  return (head_done() || s.phase == Phase::kDone) && s.message.expect_continue &&
         s.message.request.version >= 11;
}

}  // namespace presence::agent
