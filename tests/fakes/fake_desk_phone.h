#pragma once

// Desk phones that answer their action URL the way the vendors' phones do (integrations.md 6),
// for the desk_phone connector's tests. One fake holds any number of phones of one vendor and
// one set of credentials; each phone listens on its own loopback port, so its address
// ("127.0.0.1:<port>") goes into users[].identities.desk_phone as a real phone's would.
//
//   Yealink:     GET /servlet?key=number=<code> with HTTP Basic auth -> 200; bad auth -> 401
//   Grandstream: GET /cgi-bin/api-make_call?passcode=<pw>&phonenumber=<code>
//                -> {"response":"success","body":true}; bad passcode -> {"response":"error",...}

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/fakes/fake_http_server.h"

namespace presence::testing {

class FakeDeskPhone {
 public:
  enum class Vendor { kYealink, kGrandstream };

  // `username` is checked by Yealink phones only; `password` is Yealink's Basic auth password
  // or Grandstream's passcode.
  FakeDeskPhone(Vendor vendor, std::string username, std::string password);
  ~FakeDeskPhone();
  FakeDeskPhone(const FakeDeskPhone&) = delete;
  FakeDeskPhone& operator=(const FakeDeskPhone&) = delete;

  // Starts one more phone; returns its address ("127.0.0.1:<port>"). Test thread only.
  std::string AddPhone();
  // The phone's HTTP server, for failure injection (Hang, Drop, Refuse) and raw requests.
  FakeHttpServer& server(const std::string& address);

  // Numbers the phone dialled, decoded ("*61"), in order. Refused requests dial nothing.
  std::vector<std::string> Dialled(const std::string& address) const;
  // Waits until the phone has dialled at least `count` numbers; woken by each dial.
  bool WaitForDialled(const std::string& address, size_t count,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Requests turned away for bad credentials, over all phones.
  int refused() const;

 private:
  FakeResponse Answer(const std::string& address, const RecordedRequest& request);
  FakeResponse AnswerYealink(const std::string& address, const RecordedRequest& request);
  FakeResponse AnswerGrandstream(const std::string& address, const RecordedRequest& request);
  bool YealinkCredentialsMatch(const std::string& authorization) const;
  void Record(const std::string& address, std::string number);

  const Vendor vendor_;
  const std::string username_;
  const std::string password_;
  mutable std::mutex mutex_;
  mutable std::condition_variable dialled_changed_;
  std::map<std::string, std::vector<std::string>> dialled_;
  int refused_ = 0;
  std::map<std::string, std::unique_ptr<FakeHttpServer>> phones_;
};

}  // namespace presence::testing
