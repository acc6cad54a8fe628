// RequestReader: requests read out of bytes as they arrive, the checks made before any handler
// runs (with the messages the end-to-end tests pin), the bounds on everything a client
// controls, pipelining, and the same results however the bytes are split.

#include "agent/api/request_reader.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace presence::agent {
namespace {

namespace data = boost::unit_test::data;
using Outcome = RequestReader::Outcome;

constexpr std::size_t kBody = 64;  // max_body of the table rows

const std::string kFolded =
    "a header line is folded onto the one before (obs-fold, RFC 9112 5.2): send each header on "
    "one line";
const std::string kControl =
    "a control character in the request head; header values may hold only visible characters, "
    "spaces and tabs";
const std::string kDigits = "Content-Length: must be a number of bytes (digits only)";
const std::string kTwice = "Content-Length: sent twice with two values";
const std::string kTogether = "Content-Length and Transfer-Encoding together: send one of them";
const std::string kOnlyChunked = "Transfer-Encoding: only 'chunked' is accepted";
const std::string kUnreadable = "the request head could not be read";
const std::string kBadChunked = "the chunked body could not be read";

std::string Head(std::string_view request_line, std::string_view headers = "") {
  return std::string(request_line) + "\r\n" + std::string(headers) + "\r\n";
}

// `count` headers "X-<i>: vvv" with each line (CRLF included) of exactly `line` bytes.
std::string Headers(std::size_t count, std::size_t line = 12) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "X-" + std::to_string(i) + ": ";
    out += name + std::string(line - name.size() - 2, 'v') + "\r\n";
  }
  return out;
}

std::string Describe(const ParsedRequest& request) {
  std::string out = request.method + " " + request.target + " " + std::to_string(request.version) +
                    (request.keep_alive ? " keep-alive" : " close");
  for (const auto& [name, value] : request.fields) out += " [" + name + "=" + value + "]";
  out += " body " + std::to_string(request.body.size()) + ":" + request.body;
  if (request.body_over_limit) out += " (over the limit)";
  return out;
}

// Everything the reader makes of `input` given in pieces of `piece` bytes (0: all at once), as
// an event loop drives it: bytes not taken stay buffered and are fed again after Take(). One
// line per request (with the offset where it ended) or problem, then "incomplete" when a
// request was begun and not finished.
std::string Transcript(std::string_view input, std::size_t piece, std::size_t max_body = kBody) {
  RequestReader reader(max_body);
  std::string out;
  std::string buffered;
  std::size_t offset = 0;
  for (;;) {
    if (buffered.empty()) {
      if (offset == input.size()) break;
      const std::size_t n =
          piece == 0 ? input.size() - offset : std::min(piece, input.size() - offset);
      buffered.assign(input.substr(offset, n));
      offset += n;
    }
    std::size_t taken = 0;
    const Outcome outcome = reader.Feed(buffered, taken);
    BOOST_REQUIRE(taken <= buffered.size());
    buffered.erase(0, taken);
    if (outcome == Outcome::kMalformed) return out + "malformed: " + reader.problem() + "\n";
    if (outcome == Outcome::kRequest) {
      out += "@" + std::to_string(offset - buffered.size()) + " " + Describe(reader.Take()) + "\n";
    } else {
      BOOST_REQUIRE(buffered.empty());  // kNeedMore takes every byte
    }
  }
  if (reader.started()) out += "incomplete\n";
  return out;
}

struct Row {
  const char* name;
  std::string input;
  std::string expect;  // a part of the transcript of the input fed all at once
};
std::ostream& operator<<(std::ostream& out, const Row& row) { return out << row.name; }

const std::string kGet = "GET /api/v1/health HTTP/1.1";
const std::string kPut = "PUT /api/v1/agents/1001/state HTTP/1.1";

// A request line of exactly `size` bytes.
std::string RequestLine(std::size_t size) {
  const std::string fixed = "GET / HTTP/1.1";
  return "GET /" + std::string(size - fixed.size(), 'a') + " HTTP/1.1";
}

// A head of exactly `size` bytes (the final CRLF included) in header lines of 4000-8000 bytes.
std::string HeadOf(std::size_t size) {
  std::string head = kGet + "\r\n";
  for (std::size_t i = 0; head.size() + 2 < size; ++i) {
    const std::size_t left = size - head.size() - 2;
    const std::size_t line = left >= 16000 ? 8000 : left > 8000 ? left / 2 : left;
    const std::string name = "X-" + std::to_string(i) + ": ";
    head += name + std::string(line - name.size() - 2, 'v') + "\r\n";
  }
  return head + "\r\n";
}

// Trailer fields (their blank line included) of exactly `size` bytes.
std::string TrailersOf(std::size_t size) {
  return HeadOf(size + kGet.size() + 2).substr(kGet.size() + 2);
}

// Where a request that is `before` ends, as the transcript says it.
std::string At(std::string_view before) { return "@" + std::to_string(before.size()) + " "; }

std::string Chunked(std::string_view request_line, std::string_view chunks) {
  return Head(request_line, "Transfer-Encoding: chunked\r\n") + std::string(chunks);
}

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      // What is read.
      {"a GET", Head(kGet, "Host: test\r\n"),
       At(Head(kGet, "Host: test\r\n")) + "GET /api/v1/health 11 keep-alive [Host=test] body 0:\n"},
      {"a PUT with a body", Head(kPut, "Host: t\r\nContent-Length: 5\r\n") + "hello",
       "PUT /api/v1/agents/1001/state 11 keep-alive [Host=t] [Content-Length=5] body 5:hello"},
      {"values lose the spaces around them", Head(kGet, "A:  \t x y \t\r\nB:\r\n"), "[A=x y] [B=]"},
      {"two pipelined requests", Head(kGet) + Head("DELETE /x HTTP/1.1"),
       At(Head(kGet)) + "GET /api/v1/health 11 keep-alive body 0:\n" +
           At(Head(kGet) + Head("DELETE /x HTTP/1.1")) + "DELETE /x 11"},
      {"blank lines before a request are skipped", "\r\n\n\r\n" + Head(kGet),
       At("\r\n\n\r\n" + Head(kGet)) + "GET /api/v1/health"},
      {"a CRLF after a body, before the next request",
       Head(kPut, "Content-Length: 2\r\n") + "{}\r\n" + Head(kGet),
       "body 2:{}\n" + At(Head(kPut, "Content-Length: 2\r\n") + "{}\r\n" + Head(kGet)) + "GET"},
      {"a POST without a length has no body", Head("POST /x HTTP/1.1") + Head(kGet),
       At(Head("POST /x HTTP/1.1")) + "POST /x 11 keep-alive body 0:\n" +
           At(Head("POST /x HTTP/1.1") + Head(kGet)) + "GET"},
      {"HTTP/1.0 closes by default", Head("GET / HTTP/1.0"), "GET / 10 close"},
      {"HTTP/1.0 with keep-alive", Head("GET / HTTP/1.0", "Connection: Keep-Alive\r\n"),
       "GET / 10 keep-alive"},
      {"HTTP/1.1 with close in a list", Head(kGet, "Connection: foo, CLOSE\r\n"),
       "11 close [Connection=foo, CLOSE]"},
      {"HTTP/1.0 with close and keep-alive",
       Head("GET / HTTP/1.0", "Connection: keep-alive\r\nConnection: close\r\n"), "GET / 10 close"},
      {"an unknown method of 32 bytes", Head(std::string(32, 'M') + " / HTTP/1.1"),
       std::string(32, 'M') + " / 11"},
      {"a request line of exactly the bound", Head(RequestLine(16384)),
       "/" + std::string(16370, 'a')},
      {"a header value of exactly the bound", Head(kGet, "X:  " + std::string(8192, 'v') + "\r\n"),
       "[X=" + std::string(8192, 'v') + "]"},
      {"a header name of exactly the bound", Head(kGet, std::string(256, 'n') + ": v\r\n"),
       "[" + std::string(256, 'n') + "=v]"},
      {"exactly 100 headers", Head(kGet, Headers(100)), "[X-99=vvvv] body 0:\n"},
      {"a head of exactly the bound", HeadOf(RequestReader::kMaxHead), "@65536 GET"},
      {"blank lines and a head of exactly the bound together",
       "\r\n" + HeadOf(RequestReader::kMaxHead - 2), "@65536 GET"},
      {"Content-Length sent twice with one value",
       Head(kPut, "Content-Length: 2\r\nContent-Length: 2\r\n") + "{}", "body 2:{}"},
      {"a GET with Content-Length 0", Head(kGet, "Content-Length: 0\r\n"), "body 0:\n"},
      {"Content-Length with leading zeros", Head(kPut, "Content-Length: 002\r\n") + "{}",
       "body 2:{}"},
      {"a body of exactly max_body", Head(kPut, "Content-Length: 64\r\n") + std::string(64, 'b'),
       "body 64:" + std::string(64, 'b') + "\n"},
      {"a chunked body",
       Chunked(kPut, "5\r\nhello\r\n6;name=value;q=\"a b\"\r\n world\r\n0\r\n\r\n") + Head(kGet),
       "PUT /api/v1/agents/1001/state 11 keep-alive [Transfer-Encoding=chunked] body "
       "11:hello world\n" +
           At(Chunked(kPut, "5\r\nhello\r\n6;name=value;q=\"a b\"\r\n world\r\n0\r\n\r\n") +
              Head(kGet)) +
           "GET"},
      {"chunk sizes in hex, any case, with leading zeros",
       Chunked(kPut, "0000A\r\n0123456789\r\n1f\r\n" + std::string(31, 'x') + "\r\n0\r\n\r\n"),
       "body 41:0123456789"},
      {"trailers are read and left out of the fields",
       Chunked(kPut, "2\r\n{}\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n"),
       "[Transfer-Encoding=chunked] body 2:{}\n"},
      {"Transfer-Encoding chunked in capitals",
       Head(kPut, "Transfer-Encoding: CHUNKED\r\n") + "0\r\n\r\n", "body 0:\n"},
      {"100 trailer fields", Chunked(kPut, "0\r\n" + Headers(100) + "\r\n"), "body 0:\n"},

      // A body over max_body: complete at max_body + 1 bytes, the rest not read.
      {"a Content-Length body over the limit",
       Head(kPut, "Content-Length: 100\r\n") + std::string(100, 'b'),
       "body 65:" + std::string(65, 'b') + " (over the limit)\nmalformed: "},
      {"a Content-Length of a gigabyte",
       Head(kPut, "Content-Length: 1000000000\r\n") + std::string(65, 'b'),
       "body 65:" + std::string(65, 'b') + " (over the limit)\n"},
      {"a chunked body over the limit",
       Chunked(kPut, "40\r\n" + std::string(64, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n"),
       "body 65:" + std::string(64, 'a') + "b (over the limit)\nmalformed: "},
      {"one chunk of 2^64 - 1 bytes", Chunked(kPut, "ffffffffffffffff\r\n" + std::string(65, 'c')),
       "body 65:" + std::string(65, 'c') + " (over the limit)\n"},

      // Refused, with the messages end-to-end tests pin.
      {"a folded header (space)", Head(kGet, "A: b\r\n c\r\n"), "malformed: " + kFolded + "\n"},
      {"a folded header (tab)", Head(kGet, "A: b\r\n\tc\r\n"), "malformed: " + kFolded + "\n"},
      {"a folded header after a bare LF", Head(kGet, "A: b\n c\r\n"),
       "malformed: " + kFolded + "\n"},
      {"a NUL in a header value", Head(kGet, std::string("A: a\0b\r\n", 8)),
       "malformed: " + kControl + "\n"},
      {"a DEL in a header value", Head(kGet, "A: a\x7f\r\n"), "malformed: " + kControl + "\n"},
      {"a control character in the request line", Head("GET /a\x01 HTTP/1.1"),
       "malformed: " + kControl + "\n"},
      {"a CR without LF", Head(kGet, "A: a\rb\r\n"), "malformed: " + kControl + "\n"},
      {"Content-Length -1", Head(kPut, "Content-Length: -1\r\n"), "malformed: " + kDigits + "\n"},
      {"Content-Length abc", Head(kPut, "Content-Length: abc\r\n"), "malformed: " + kDigits + "\n"},
      {"Content-Length +5", Head(kPut, "Content-Length: +5\r\n"), "malformed: " + kDigits + "\n"},
      {"Content-Length as a list", Head(kPut, "Content-Length: 5, 5\r\n"),
       "malformed: " + kDigits + "\n"},
      {"Content-Length empty", Head(kPut, "Content-Length:\r\n"), "malformed: " + kDigits + "\n"},
      {"Content-Length over 2^64", Head(kPut, "Content-Length: 18446744073709551616\r\n"),
       "malformed: " + kDigits + "\n"},
      {"Content-Length sent twice with two values",
       Head(kPut, "Content-Length: 5\r\nContent-Length: 3\r\n"), "malformed: " + kTwice + "\n"},
      {"Content-Length 2 and 02", Head(kPut, "Content-Length: 2\r\ncontent-length: 02\r\n"),
       "malformed: " + kTwice + "\n"},
      {"Content-Length with Transfer-Encoding",
       Head(kPut, "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
       "malformed: " + kTogether + "\n"},
      {"Transfer-Encoding with Content-Length",
       Head(kPut, "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
       "malformed: " + kTogether + "\n"},
      {"Transfer-Encoding gzip, chunked", Head(kPut, "Transfer-Encoding: gzip, chunked\r\n"),
       "malformed: " + kOnlyChunked + "\n"},
      {"Transfer-Encoding identity", Head(kPut, "Transfer-Encoding: identity\r\n"),
       "malformed: " + kOnlyChunked + "\n"},
      {"Transfer-Encoding chunked twice",
       Head(kPut, "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
       "malformed: " + kOnlyChunked},
      {"a GET with a body", Head(kGet, "Content-Length: 2\r\n") + "{}",
       "malformed: a GET request carries no body\n"},
      {"a HEAD with a chunked body", Head("HEAD / HTTP/1.1", "Transfer-Encoding: chunked\r\n"),
       "malformed: a HEAD request carries no body\n"},
      {"a request line over the bound", Head(RequestLine(16385)),
       "malformed: " + kUnreadable + " (the request line is over 16384 bytes)"},
      {"a method over the bound", Head(std::string(33, 'M') + " / HTTP/1.1"),
       "malformed: " + kUnreadable + " (the method is over 32 bytes)"},
      {"a header value over the bound", Head(kGet, "X: " + std::string(8193, 'v') + "\r\n"),
       "malformed: " + kUnreadable + " (the value of a header is over 8192 bytes)"},
      {"a header name over the bound", Head(kGet, std::string(257, 'n') + ": v\r\n"),
       "malformed: " + kUnreadable + " (a header name is over 256 bytes)"},
      {"101 headers", Head(kGet, Headers(101)),
       "malformed: " + kUnreadable + " (more than 100 headers)"},
      {"a head over the bound", HeadOf(RequestReader::kMaxHead + 1),
       "malformed: " + kUnreadable + " (the head is over 65536 bytes"},
      {"blank lines over the bound", std::string(RequestReader::kMaxHead + 1, '\n'),
       "malformed: " + kUnreadable + " (the head is over 65536 bytes"},
      {"a request line without a version", Head("GET /"), "malformed: " + kUnreadable},
      {"two spaces in a request line", Head("GET  / HTTP/1.1"), "malformed: " + kUnreadable},
      {"HTTP/2.0", Head("PRI * HTTP/2.0"),
       "malformed: " + kUnreadable + " (the HTTP version is not HTTP/1.1 or HTTP/1.0)"},
      {"a method that is not a token", Head("G(T / HTTP/1.1"), "malformed: " + kUnreadable},
      {"a header line without a colon", Head(kGet, "NoColon\r\n"), "malformed: " + kUnreadable},
      {"a header with an empty name", Head(kGet, ": v\r\n"), "malformed: " + kUnreadable},
      {"a space before the colon", Head(kGet, "Content-Length : 5\r\n"),
       "malformed: " + kUnreadable},
      {"lines ending in a bare LF", "GET / HTTP/1.1\nHost: x\n\n",
       "malformed: " + kUnreadable + " (a line ends in a bare LF"},
      {"a head ending in a bare LF", kGet + "\r\nHost: x\r\n\n",
       "malformed: " + kUnreadable + " (a line ends in a bare LF"},
      {"an invalid Connection list", Head(kGet, "Connection: a b\r\n"),
       "malformed: " + kUnreadable},

      // Bad chunked bodies.
      {"a chunk size that is not hex", Chunked(kPut, "zz\r\n"), "malformed: " + kBadChunked},
      {"a chunk size over 2^64", Chunked(kPut, "10000000000000000\r\n"),
       "malformed: " + kBadChunked},
      {"chunk sizes adding up past 2^64 - 1",
       Chunked(kPut, "10\r\n" + std::string(16, 'x') + "\r\nfffffffffffffff8\r\n"),
       "malformed: " + kBadChunked + " (the chunk sizes add up to more than 2^64 - 1)"},
      {"a chunk size line over the bound",
       Chunked(kPut, "1;" + std::string(RequestReader::kMaxChunkLine, 'e') + "\r\n"),
       "malformed: " + kBadChunked + " (a chunk size line is over 4096 bytes)"},
      {"a chunk size line of exactly the bound",
       Chunked(kPut,
               "1;" + std::string(RequestReader::kMaxChunkLine - 4, 'e') + "\r\nx\r\n0\r\n\r\n"),
       "body 1:x\n"},
      {"leading zeros past the bound",
       Chunked(kPut, std::string(RequestReader::kMaxChunkLine + 1, '0') + "1\r\n"),
       "malformed: " + kBadChunked + " (a chunk size line is over 4096 bytes)"},
      {"chunk data without CRLF after it", Chunked(kPut, "2\r\n{}XX0\r\n\r\n"),
       "malformed: " + kBadChunked + " (a chunk's data is not followed by CRLF)"},
      {"a chunk size line ending in a bare LF", Chunked(kPut, "2\n{}\r\n0\r\n\r\n"),
       "malformed: " + kBadChunked},
      {"a malformed chunk extension", Chunked(kPut, "2;=\r\n{}\r\n0\r\n\r\n"),
       "malformed: " + kBadChunked},
      {"a chunk extension quoting a line end", Chunked(kPut, "2;a=\"x\r\n\"\r\n{}\r\n0\r\n\r\n"),
       "malformed: " + kBadChunked},
      {"a folded trailer", Chunked(kPut, "0\r\nA: b\r\n c\r\n\r\n"),
       "malformed: " + kBadChunked + " (a trailer field is folded"},
      {"a control character in a trailer", Chunked(kPut, std::string("0\r\nA: \0\r\n\r\n", 11)),
       "malformed: " + kBadChunked + " (a control character in a trailer field)"},
      {"101 trailer fields", Chunked(kPut, "0\r\n" + Headers(101) + "\r\n"),
       "malformed: " + kBadChunked + " (more than 100 trailer fields)"},
      {"trailers over the bound", Chunked(kPut, "0\r\n" + TrailersOf(RequestReader::kMaxHead + 1)),
       "malformed: " + kBadChunked + " (the trailer fields are over 65536 bytes)"},
      {"trailers of exactly the bound",
       Chunked(kPut, "0\r\n" + TrailersOf(RequestReader::kMaxHead)),
       "[Transfer-Encoding=chunked] body 0:\n"},
      {"a trailer without a colon", Chunked(kPut, "0\r\nNoColon\r\n\r\n"),
       "malformed: " + kBadChunked},
      {"a trailer ending in a bare LF", Chunked(kPut, "0\r\nA: b\n\r\n"),
       "malformed: " + kBadChunked},
      {"a last chunk with a bad extension", Chunked(kPut, "0x5\r\n\r\n"),
       "malformed: " + kBadChunked},

      // Incomplete.
      {"a head cut short", kGet + "\r\nHost: x\r\n", "incomplete\n"},
      {"a body cut short", Head(kPut, "Content-Length: 5\r\n") + "hel", "incomplete\n"},
      {"a chunked body cut short", Chunked(kPut, "5\r\nhello\r\n"), "incomplete\n"},
      {"only blank lines", "\r\n\r\n", ""},
  };
  return rows;
}

std::string Problem(std::string_view input, std::size_t max_body = kBody) {
  RequestReader reader(max_body);
  std::size_t taken = 0;
  if (reader.Feed(input, taken) != Outcome::kMalformed) return "";
  return reader.problem();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_reader_test)

BOOST_DATA_TEST_CASE(each_input_reads_as_expected, data::make(Rows()), row) {
  const std::string transcript = Transcript(row.input, 0);
  BOOST_TEST(
      transcript.find(row.expect) != std::string::npos,
      "transcript: " << transcript.substr(0, 400) << "\nexpected: " << row.expect.substr(0, 400));
}

BOOST_DATA_TEST_CASE(bytes_split_anywhere_read_the_same_as_all_at_once, data::make(Rows()), row) {
  const std::string whole = Transcript(row.input, 0);
  for (std::size_t piece : {1, 2, 3, 7, 100}) {
    BOOST_TEST_CONTEXT("pieces of " << piece) { BOOST_TEST(Transcript(row.input, piece) == whole); }
  }
}

BOOST_AUTO_TEST_CASE(a_head_problem_is_found_before_the_head_ends) {
  // Nothing after the offending byte is needed: no end of line, no end of head.
  const std::vector<std::pair<std::string, std::string>> starts = {
      {"GET /" + std::string(16400, 'a'), "request line is over 16384"},
      {std::string(33, 'G'), "method is over 32"},
      {kGet + "\r\nX: " + std::string(8193, 'v'), "value of a header is over 8192"},
      {kGet + "\r\n" + std::string(257, 'n'), "header name is over 256"},
      {kGet + "\r\n" + Headers(100) + "X", "more than 100 headers"},
      {kGet + "\r\nA: b\r\n ", "folded"},
      {kGet + "\r\nA: \x01", "control character"},
      {"GET / HTTP/1.1\n" + std::string("H"), "bare LF"},
      {"GET /x HTTP/3.0\r\n", "HTTP version"},
  };
  for (const auto& [start, says] : starts) {
    BOOST_TEST_CONTEXT(says) {
      const std::string problem = Problem(start);
      BOOST_TEST(problem.find(says) != std::string::npos, problem);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_head_problem_says_what_is_allowed) {
  const std::string problem = Problem(Head(RequestLine(16385)));
  BOOST_TEST(problem ==
             "the request head could not be read (the request line is over 16384 bytes); a "
             "request line may have up to 16384 bytes, a header value up to 8192, a request up "
             "to 100 headers, and a head up to 65536 bytes in all");
  const std::string chunk = Problem(Chunked(kPut, "zz\r\n"));
  BOOST_TEST(chunk.find("; each chunk is") != std::string::npos, chunk);
}

BOOST_AUTO_TEST_CASE(a_request_is_complete_at_the_end_of_its_body_and_the_rest_is_not_taken) {
  RequestReader reader(kBody);
  const std::string first = Head(kPut, "Content-Length: 2\r\n") + "{}";
  const std::string both = first + Head(kGet);
  std::size_t taken = 0;
  BOOST_TEST((reader.Feed(both, taken) == Outcome::kRequest));
  BOOST_TEST(taken == first.size());
  BOOST_TEST((reader.Feed(std::string_view(both).substr(taken), taken) == Outcome::kRequest));
  BOOST_TEST(taken == 0u);  // not taken until Take()
  BOOST_TEST(reader.Take().body == "{}");
  BOOST_TEST(!reader.started());
  BOOST_TEST(
      (reader.Feed(std::string_view(both).substr(first.size()), taken) == Outcome::kRequest));
  BOOST_TEST(taken == both.size() - first.size());
  BOOST_TEST(reader.Take().target == "/api/v1/health");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_cut_at_max_body_plus_one_and_ends_the_connection) {
  RequestReader reader(10);
  const std::string head = Head(kPut, "Content-Length: 1000000000\r\n");
  std::size_t taken = 0;
  BOOST_TEST((reader.Feed(head + "0123456789", taken) == Outcome::kNeedMore));
  BOOST_TEST(reader.head_done());
  BOOST_TEST((reader.Feed("abcdef", taken) == Outcome::kRequest));
  BOOST_TEST(taken == 1u);  // the 11th byte completes the request; the rest is not read
  ParsedRequest request = reader.Take();
  BOOST_TEST(request.body == "0123456789a");
  BOOST_TEST(request.body_over_limit);
  BOOST_TEST(request.body.capacity() < 1024u);  // memory follows the bytes, not the length
  BOOST_TEST((reader.Feed("bcdef", taken) == Outcome::kMalformed));
  BOOST_TEST(taken == 0u);
  BOOST_TEST(!reader.problem().empty());
}

BOOST_AUTO_TEST_CASE(a_body_of_max_body_bytes_is_not_over_the_limit) {
  for (std::size_t max_body : {0, 1, 10}) {
    BOOST_TEST_CONTEXT("max_body " << max_body) {
      RequestReader reader(max_body);
      const std::string body(max_body, 'b');
      std::size_t taken = 0;
      BOOST_TEST(
          (reader.Feed(Head(kPut, "Content-Length: " + std::to_string(max_body) + "\r\n") + body,
                       taken) == Outcome::kRequest));
      ParsedRequest request = reader.Take();
      BOOST_TEST(request.body == body);
      BOOST_TEST(!request.body_over_limit);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_client_expecting_100_continue_is_seen_once_the_head_is_read) {
  RequestReader reader(kBody);
  std::size_t taken = 0;
  BOOST_TEST(!reader.started());
  BOOST_TEST((reader.Feed("\r\n", taken) == Outcome::kNeedMore));
  BOOST_TEST(!reader.started());  // blank lines between requests are not a request
  BOOST_TEST(
      (reader.Feed("PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\n", taken) == Outcome::kNeedMore));
  BOOST_TEST(reader.started());
  BOOST_TEST(!reader.head_done());
  BOOST_TEST(!reader.expects_continue());
  BOOST_TEST((reader.Feed("Content-Length: 2\r\n\r\n", taken) == Outcome::kNeedMore));
  BOOST_TEST(reader.head_done());
  BOOST_TEST(reader.expects_continue());
  BOOST_TEST((reader.Feed("{}", taken) == Outcome::kRequest));
  BOOST_TEST(!reader.head_done());
  BOOST_TEST(reader.Take().body == "{}");
  BOOST_TEST(!reader.expects_continue());
}

BOOST_AUTO_TEST_CASE(expect_100_continue_means_nothing_on_http_1_0) {
  RequestReader reader(kBody);
  std::size_t taken = 0;
  BOOST_TEST((reader.Feed("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
                          taken) == Outcome::kNeedMore));
  BOOST_TEST(reader.head_done());
  BOOST_TEST(!reader.expects_continue());
}

BOOST_AUTO_TEST_CASE(a_malformed_request_stays_malformed) {
  RequestReader reader(kBody);
  std::size_t taken = 0;
  BOOST_TEST((reader.Feed(Head(kGet, "A: b\r\n c\r\n"), taken) == Outcome::kMalformed));
  const std::string problem = reader.problem();
  BOOST_TEST((reader.Feed(Head(kGet), taken) == Outcome::kMalformed));
  BOOST_TEST(taken == 0u);
  BOOST_TEST(reader.problem() == problem);
}

BOOST_AUTO_TEST_CASE(many_requests_on_one_reader_read_alike) {
  // The reader is reused for every request of a connection: nothing of one leaks into the next.
  RequestReader reader(kBody);
  for (int i = 0; i < 50; ++i) {
    const std::string request =
        i % 2 ? Head(kPut, "Content-Length: 2\r\nX-I: " + std::to_string(i) + "\r\n") + "{}"
              : Chunked(kPut, "2\r\n{}\r\n0\r\nT: 1\r\n\r\n");
    std::size_t taken = 0;
    BOOST_REQUIRE((reader.Feed(request, taken) == Outcome::kRequest));
    BOOST_TEST(taken == request.size());
    ParsedRequest parsed = reader.Take();
    BOOST_TEST(parsed.body == "{}");
    BOOST_TEST(parsed.fields.size() == (i % 2 ? 2u : 1u));
  }
}

BOOST_AUTO_TEST_CASE(requests_fed_one_byte_at_a_time_take_every_byte_until_complete) {
  const std::string request = Chunked(kPut, "5\r\nhello\r\n0\r\n\r\n");
  RequestReader reader(kBody);
  for (std::size_t i = 0; i + 1 < request.size(); ++i) {
    std::size_t taken = 0;
    BOOST_REQUIRE(
        (reader.Feed(std::string_view(request).substr(i, 1), taken) == Outcome::kNeedMore));
    BOOST_REQUIRE(taken == 1u);
  }
  std::size_t taken = 0;
  BOOST_TEST((reader.Feed(std::string_view(request).substr(request.size() - 1), taken) ==
              Outcome::kRequest));
  BOOST_TEST(reader.Take().body == "hello");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace presence::agent
