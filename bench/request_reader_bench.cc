// How long does reading one typical API request take: the event-loop server's RequestReader
// (agent/api/request_reader.h, Beast's parser with the API's checks) next to what the Poco
// server does per request (Poco::Net::HTTPRequest::read from a stream, then the body)?
//
// The request is a softphone's PUT /api/v1/agents/1001/state: 8 headers and a 41-byte JSON
// body. Figures, in ns of this thread's CPU time per request (the best of 5 rounds; CPU time,
// not wall time, so that other work on a shared machine does not count):
//  - reader, whole: each request arrives in one Feed (one read from the socket), then Take();
//  - reader, pipelined: 100 requests back to back in one buffer;
//  - reader, 1 byte: each request fed one byte at a time (a slow client);
//  - Poco: HTTPRequest::read from a std::istringstream holding the request (reset per request,
//    as Poco's session buffer is refilled), then the Content-Length body read into a string.
// Usage: request_reader_bench [requests per round, default 200000]
// (a benchmark, not a test: it never fails on a number)

#include <Poco/Net/HTTPRequest.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "agent/api/request_reader.h"

namespace {

using presence::agent::ParsedRequest;
using presence::agent::RequestReader;

constexpr std::size_t kMaxBody = 64 * 1024;

std::string TypicalRequest() {
  const std::string body = R"({"label": "Break", "source": "softphone"})";
  return "PUT /api/v1/agents/1001/state HTTP/1.1\r\n"
         "Host: presence.example.com:8080\r\n"
         "User-Agent: softphone/4.2.1\r\n"
         "Accept: application/json\r\n"
         "Authorization: Bearer 3f9c2a7e1b8d4c6f0a5e9b2d7c1f4a8e\r\n"
         "Content-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) +
         "\r\n"
         "Connection: keep-alive\r\n"
         "X-Request-Id: 7f3a9c21-5b4e-4d8a-9e61-0c2f7b3d8a15\r\n"
         "\r\n" +
         body;
}

double ThreadCpuNs() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

// Runs `round` (which handles `count` requests) 5 times; the best CPU ns per request.
template <typename Round>
double BestNs(int count, Round round) {
  double best = 1e300;
  for (int i = 0; i < 5; ++i) {
    const double start = ThreadCpuNs();
    round();
    best = std::min(best, (ThreadCpuNs() - start) / count);
  }
  return best;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "request_reader_bench: %s\n", what);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 200000;
  if (count <= 0) Die("usage: request_reader_bench [requests per round]");
  const std::string request = TypicalRequest();
  std::size_t checksum = 0;

  RequestReader reader(kMaxBody);
  const double whole = BestNs(count, [&] {
    for (int i = 0; i < count; ++i) {
      std::size_t taken = 0;
      if (reader.Feed(request, taken) != RequestReader::Outcome::kRequest) Die("not a request");
      ParsedRequest parsed = reader.Take();
      checksum += parsed.body.size() + parsed.fields.size();
    }
  });

  constexpr int kPipelined = 100;
  std::string batch;
  for (int i = 0; i < kPipelined; ++i) batch += request;
  const int batches = std::max(1, count / kPipelined);
  const double pipelined = BestNs(batches * kPipelined, [&] {
    for (int b = 0; b < batches; ++b) {
      std::string_view rest = batch;
      while (!rest.empty()) {
        std::size_t taken = 0;
        if (reader.Feed(rest, taken) != RequestReader::Outcome::kRequest) Die("not pipelined");
        rest.remove_prefix(taken);
        checksum += reader.Take().body.size();
      }
    }
  });

  const int slow_count = std::max(1, count / 20);
  const double bytewise = BestNs(slow_count, [&] {
    for (int i = 0; i < slow_count; ++i) {
      RequestReader::Outcome outcome = RequestReader::Outcome::kNeedMore;
      for (std::size_t at = 0; at < request.size(); ++at) {
        std::size_t taken = 0;
        outcome = reader.Feed(std::string_view(request).substr(at, 1), taken);
      }
      if (outcome != RequestReader::Outcome::kRequest) Die("not a request, byte by byte");
      checksum += reader.Take().body.size();
    }
  });

  std::istringstream in;
  const double poco = BestNs(count, [&] {
    for (int i = 0; i < count; ++i) {
      in.str(request);
      in.clear();
      Poco::Net::HTTPRequest parsed;
      parsed.read(in);
      std::string body(static_cast<std::size_t>(parsed.getContentLength()), '\0');
      in.read(body.data(), static_cast<std::streamsize>(body.size()));
      if (!in) Die("Poco read no body");
      checksum += body.size() + parsed.size();
    }
  });

  std::printf("typical PUT state request: %zu bytes (8 headers, 41-byte body)\n", request.size());
  std::printf("%-44s %8.0f ns/request (CPU)\n", "RequestReader, whole request per Feed", whole);
  std::printf("%-44s %8.0f ns/request (CPU)\n", "RequestReader, 100 pipelined in one buffer",
              pipelined);
  std::printf("%-44s %8.0f ns/request (CPU)\n", "RequestReader, one byte per Feed", bytewise);
  std::printf("%-44s %8.0f ns/request (CPU)\n", "Poco HTTPRequest::read + body (istream)", poco);
  std::printf("(checksum %zu)\n", checksum);
  return 0;
}
