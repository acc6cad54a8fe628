#include "tests/fakes/fake_desk_phone.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Exception.h>

#include <iterator>
#include <sstream>
#include <stdexcept>

namespace presence::testing {
namespace {

constexpr std::string_view kYealinkDialPath = "/servlet";
constexpr std::string_view kGrandstreamDialPath = "/cgi-bin/api-make_call";
constexpr std::string_view kNumberPrefix = "number=";

std::string DecodeBase64(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  try {
    return std::string(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
  } catch (const Poco::Exception&) {
    return "";
  }
}

FakeResponse GrandstreamJson(bool success) {
  return FakeResponse::Json(200, success ? R"({"response":"success","body":true})"
                                         : R"({"response":"error","body":false})");
}

}  // namespace

FakeDeskPhone::FakeDeskPhone(Vendor vendor, std::string username, std::string password)
    : vendor_(vendor), username_(std::move(username)), password_(std::move(password)) {}

FakeDeskPhone::~FakeDeskPhone() {
  // Stop every phone before the state its handlers use goes away.
  phones_.clear();
}

std::string FakeDeskPhone::AddPhone() {
  auto server = std::make_unique<FakeHttpServer>();
  std::string address = "127.0.0.1:" + std::to_string(server->port());
  server->SetHandler(
      [this, address](const RecordedRequest& request) { return Answer(address, request); });
  phones_.emplace(address, std::move(server));
  return address;
}

FakeHttpServer& FakeDeskPhone::server(const std::string& address) {
  auto phone = phones_.find(address);
  if (phone == phones_.end()) throw std::out_of_range("no fake desk phone at " + address);
  return *phone->second;
}

std::vector<std::string> FakeDeskPhone::Dialled(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto numbers = dialled_.find(address);
  return numbers == dialled_.end() ? std::vector<std::string>{} : numbers->second;
}

bool FakeDeskPhone::WaitForDialled(const std::string& address, size_t count,
                                   std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return dialled_changed_.wait_for(lock, timeout, [&] {
    auto numbers = dialled_.find(address);
    return numbers != dialled_.end() && numbers->second.size() >= count;
  });
}

int FakeDeskPhone::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

FakeResponse FakeDeskPhone::Answer(const std::string& address, const RecordedRequest& request) {
  if (request.method != "GET") return FakeResponse::Empty(405);
  return vendor_ == Vendor::kYealink ? AnswerYealink(address, request)
                                     : AnswerGrandstream(address, request);
}

// Yealink action URI: the phone performs the key and answers 200 with no body.
FakeResponse FakeDeskPhone::AnswerYealink(const std::string& address,
                                          const RecordedRequest& request) {
  if (request.path != kYealinkDialPath) return FakeResponse::Empty(404);
  if (!YealinkCredentialsMatch(request.Header("Authorization"))) {
    std::lock_guard lock(mutex_);
    ++refused_;
    return FakeResponse{401, {{"WWW-Authenticate", "Basic realm=\"Yealink\""}}, ""};
  }
  std::string key = request.Param("key");
  if (!key.starts_with(kNumberPrefix) || key.size() == kNumberPrefix.size()) {
    return FakeResponse::Empty(400);
  }
  Record(address, key.substr(kNumberPrefix.size()));
  return FakeResponse::Empty(200);
}

// GRP26xx CTI: always 200; the JSON says whether the phone dialled.
FakeResponse FakeDeskPhone::AnswerGrandstream(const std::string& address,
                                              const RecordedRequest& request) {
  if (request.path != kGrandstreamDialPath) return FakeResponse::Empty(404);
  if (request.Param("passcode") != password_) {
    std::lock_guard lock(mutex_);
    ++refused_;
    return GrandstreamJson(false);
  }
  std::string number = request.Param("phonenumber");
  if (number.empty()) return GrandstreamJson(false);
  Record(address, std::move(number));
  return GrandstreamJson(true);
}

bool FakeDeskPhone::YealinkCredentialsMatch(const std::string& authorization) const {
  constexpr std::string_view kBasic = "Basic ";
  if (!authorization.starts_with(kBasic)) return false;
  return DecodeBase64(authorization.substr(kBasic.size())) == username_ + ":" + password_;
}

void FakeDeskPhone::Record(const std::string& address, std::string number) {
  {
    std::lock_guard lock(mutex_);
    dialled_[address].push_back(std::move(number));
  }
  dialled_changed_.notify_all();
}

}  // namespace presence::testing
