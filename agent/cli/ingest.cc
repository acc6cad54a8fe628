#include "agent/cli/ingest.h"

#include <Poco/JSON/Object.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

#include "agent/core/event_json.h"
#include "agent/reports/output.h"
#include "common/poco_json.h"

namespace presence::agent {
namespace {

using Poco::JSON::Object;

struct Answer {
  int line = 0;
  std::optional<Error> parse_error;
  std::future<Result<Reply>> reply;
};

std::string AnswerLine(int line, const Result<Reply>& result) {
  Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("line", line);
  json.set("ok", result.ok());
  if (result.ok()) {
    json.set("state", result->state->label);
    json.set("changes", ChangesJson(result->changes));
  } else {
    Object::Ptr error = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    error->set("code", result.error().code);
    error->set("message", result.error().message);
    json.set("error", error);
  }
  return json::JsonText(json);
}

}  // namespace

int RunIngest(Core& core, std::istream& in, std::ostream& out) {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Answer> answers;
  bool done = false;
  int bad = 0;
  // The writer answers in input order while the reader keeps posting: many events share
  // one commit, and no answer is written before its event is durable.
  std::thread writer([&] {
    for (;;) {
      Answer answer;
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return !answers.empty() || done; });
        if (answers.empty()) return;
        answer = std::move(answers.front());
        answers.pop_front();
      }
      Result<Reply> result =
          answer.parse_error ? Result<Reply>(*answer.parse_error) : answer.reply.get();
      if (!result.ok()) ++bad;
      out << AnswerLine(answer.line, result) << '\n' << std::flush;
    }
  });
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    Answer answer{line, std::nullopt, {}};
    Result<TimedEvent> parsed = ParseEventText(text, {});
    if (!parsed.ok()) {
      answer.parse_error = parsed.error();
    } else if (parsed->at) {
      answer.parse_error =
          Error{"invalid_event", "at: not allowed here; the agent's clock is used"};
    } else {
      answer.reply = core.Post(std::move(parsed->event));
    }
    std::lock_guard<std::mutex> lock(mutex);
    answers.push_back(std::move(answer));
    ready.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    ready.notify_one();
  }
  writer.join();
  return bad;
}

}  // namespace presence::agent
