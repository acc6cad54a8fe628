#pragma once

// Reads HTTP/1.1 requests out of the bytes a connection receives, incrementally, for the
// event-loop server (http_loop.h): the event loop hands it whatever arrived, and it says when
// a whole request (head and body) is there, or what is wrong with it. It never blocks, never
// reads a socket, and holds at most kMaxHead bytes of head and max_body + 1 bytes of body per
// request (and of a chunked body, one chunk-size line and kMaxHead bytes of trailers), whatever
// the client sends.
//
// Parsing is Boost.Beast's request parser (RFC 9112, chunked bodies); around it, the checks
// the API has always made before any handler runs, with the same messages (http_connection.cc
// had them before): a folded header (obs-fold), a control character in the head, a
// Content-Length that is not digits or that disagrees with another, Content-Length together
// with Transfer-Encoding, a Transfer-Encoding other than chunked, a body on a GET or HEAD, a
// request line over 16384 bytes, a header value over 8192 bytes, more than 100 headers. Each
// is found at the byte that shows it (a request line is refused once it is longer than allowed,
// not when it ends), so what the reader holds stays bounded whatever arrives. Blank lines
// (CR, LF) before a request line are skipped, as Poco did (RFC 9112 2.2); every line of a head
// ends in CRLF (a bare LF is refused). Results do not depend on how the bytes are split between
// calls: feeding one byte at a time gives the same requests and problems as feeding all at once.
//
// One reader per connection, used by one thread at a time.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace presence::agent {

struct ParsedRequest {
  std::string method;  // as sent: "GET", "PUT"...
  std::string target;  // the request-target as sent ("/api/v1/agents?x=1")
  int version = 11;    // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::vector<std::pair<std::string, std::string>> fields;  // in the order received
  std::string body;  // decoded (no chunk framing); at most max_body + 1 bytes
  // The body was longer than max_body: `body` holds its first max_body + 1 bytes and the rest
  // was not read; the connection must close after the answer.
  bool body_over_limit = false;
  bool keep_alive = true;  // what the client asks for (HTTP/1.0 default close, Connection)
};

class RequestReader {
 public:
  static constexpr std::size_t kMaxRequestLine = 16384;
  static constexpr std::size_t kMaxFieldValue = 8192;
  static constexpr std::size_t kMaxFields = 100;
  static constexpr std::size_t kMaxHead = 64 * 1024;  // request line and every header
  static constexpr std::size_t kMaxMethod = 32;       // Poco's bound, kept
  static constexpr std::size_t kMaxFieldName = 256;   // Poco's bound, kept
  // A chunk's size line with its extensions (RFC 9112 7.1.1); the trailer fields after the
  // last chunk count against kMaxFields and kMaxHead like a head.
  static constexpr std::size_t kMaxChunkLine = 4096;

  explicit RequestReader(std::size_t max_body);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  enum class Outcome {
    kNeedMore,   // every byte was taken; the request is not complete yet
    kRequest,    // a request is complete: Take() it; bytes after it were not taken
    kMalformed,  // problem() says why; the connection must answer 400 and close
  };
  // Takes bytes from the front of `data`, up to the end of the request they complete;
  // `taken` is how many. Call again with the rest (the next pipelined request) after Take().
  // After kMalformed every later call answers kMalformed again and takes nothing; so does a
  // call after Take() of a request whose body was over the limit (the stream is in the middle
  // of that body: the connection must close once the 413 is sent).
  Outcome Feed(std::string_view data, std::size_t& taken);

  // After kRequest: the request, and the reader is ready for the next one.
  ParsedRequest Take();
  // After kMalformed: what was wrong and what is allowed, for a JSON 400.
  const std::string& problem() const { return problem_; }

  // Some bytes of a request have arrived (the connection is not idle between requests).
  bool started() const;
  // The head is complete and the body is still coming: a client that sent
  // "Expect: 100-continue" waits for "HTTP/1.1 100 Continue" now (expects_continue()).
  bool head_done() const;
  bool expects_continue() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string problem_;
};

}  // namespace presence::agent
