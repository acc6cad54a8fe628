#include "connectors/sip/sip_check.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "connectors/sip/documents/dialog_info.h"
#include "connectors/sip/documents/pidf.h"
#include "connectors/sip/sip_stack.h"

namespace presence::connectors::sip {
namespace {

// NOTIFYs as they arrive (SIP thread), waited for by the check (main thread).
class Inbox {
 public:
  void Add(const Notification& notification) {
    std::lock_guard lock(mutex_);
    received_.push_back(notification);
    arrived_.notify_all();
  }

  std::optional<Notification> WaitFor(const std::string& event, size_t seen,
                                      std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<Notification> found;
    arrived_.wait_for(lock, timeout, [&] {
      size_t count = 0;
      for (const Notification& notification : received_) {
        if (notification.event != event) continue;
        if (++count > seen) {
          found = notification;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Notification> received_;
};

void DescribePidf(const std::string& body, const std::string& own_tuple, std::ostream& out) {
  if (body.empty()) {
    out << "     body: empty (the server holds no presence for this user)\n";
    return;
  }
  Result<Pidf> read = ReadPidf(body);
  if (!read.ok()) {
    out << "     body could not be read: " << read.error().code << ": " << read.error().message
        << "\n";
    return;
  }
  for (const PidfTuple& tuple : read->tuples) {
    out << "     tuple " << tuple.id << (tuple.id == own_tuple ? " (the agent's)" : "")
        << ": basic " << (tuple.open ? (*tuple.open ? "open" : "closed") : "absent");
    for (const std::string& note : tuple.notes) out << ", note \"" << note << "\"";
    out << "\n";
  }
  for (const PidfPerson& person : read->persons) {
    out << "     person " << person.id << ":";
    for (const std::string& activity : person.activities) out << " " << activity;
    for (const std::string& note : person.notes) out << " \"" << note << "\"";
    out << "\n";
  }
}

// Whether the watcher's document carries the note of what was published.
bool ShowsNote(const std::string& received, const std::string& published) {
  Result<Pidf> sent = ReadPidf(published);
  Result<Pidf> got = ReadPidf(received);
  if (!sent.ok() || !got.ok() || sent->notes.empty()) return false;
  const std::string& note = sent->notes.front();
  auto has = [&note](const std::vector<std::string>& notes) {
    return std::find(notes.begin(), notes.end(), note) != notes.end();
  };
  if (has(got->notes)) return true;
  for (const PidfTuple& tuple : got->tuples) {
    if (has(tuple.notes)) return true;
  }
  for (const PidfPerson& person : got->persons) {
    if (has(person.notes)) return true;
  }
  return false;
}

}  // namespace

int RunSipCheck(const SipCheckRequest& request, const Directory& directory, std::ostream& out) {
  const SipSettings& settings = *request.settings;
  std::optional<std::string> aor = UserAor(*request.user, settings.domain);
  if (!aor) {
    out << "user " << request.user->id << " has no usable identities.sip (a SIP URI such as "
        << "\"sip:1001@" << settings.domain << "\" or a user part such as \"1001\")\n";
    return 1;
  }
  StackOptions options = settings.stack;
  options.keepalive = std::chrono::seconds(3600);  // no probes during a check
  Inbox inbox;
  SipStack stack(options, nullptr, [&inbox](const Notification& n) { inbox.Add(n); });
  int failures = 0;
  out << "1. SIP over " << TransportName(options.transport) << " to " << options.server_host << ":"
      << options.server_port << " as " << options.agent_uri << "\n";
  if (Status started = stack.Start(); !started.ok()) {
    out << "   FAILED: " << started.error().message << "\n";
    return 1;
  }
  out << "   listening on " << stack.local_address() << "\n";

  const std::string body = DocumentFor(request.change, *aor, directory);
  out << "2. PUBLISH presence of " << *aor << ": \"" << request.change.label << "\" ("
      << body.size() << " bytes of " << kPidfType << ")\n";
  auto published = stack.Publish(request.user->id, *aor, body, false);
  bool have_publication = false;
  if (published.wait_for(request.timeout) != std::future_status::ready) {
    out << "   FAILED: no final answer within " << request.timeout.count() << " ms\n";
    ++failures;
  } else {
    PublishOutcome outcome = published.get();
    StackStatus status = stack.status();
    auto publication = status.publications.find(request.user->id);
    if (outcome.kind == PublishOutcome::Kind::kDone) {
      have_publication = true;
      out << "   " << outcome.detail;
      if (publication != status.publications.end()) {
        out << ", SIP-ETag " << publication->second.etag << ", expires in "
            << publication->second.expires_in_s << " s";
      }
      out << "\n";
    } else {
      out << "   FAILED: " << outcome.detail << "\n";
      ++failures;
    }
  }

  std::vector<std::string> events = {"presence"};
  if (settings.watch_dialog) events.push_back("dialog");
  out << "3. SUBSCRIBE to " << events[0] << (events.size() > 1 ? " and dialog" : "") << " of "
      << *aor << " (as a desk phone would)\n";
  stack.Watch({{request.user->id, *aor}}, events);
  for (const std::string& event : events) {
    std::optional<Notification> notification = inbox.WaitFor(event, 0, request.timeout);
    if (!notification) {
      out << "   FAILED: no " << event << " NOTIFY within " << request.timeout.count() << " ms\n";
      StackStatus status = stack.status();
      auto user = status.subscriptions.find(request.user->id);
      if (user != status.subscriptions.end() && user->second.count(event)) {
        out << "   subscription state: " << user->second.at(event).state << "\n";
      }
      ++failures;
      continue;
    }
    out << "   " << event << " NOTIFY: subscription " << notification->subscription_state << ", "
        << (notification->content_type.empty() ? "no body" : notification->content_type) << "\n";
    if (event == "presence") {
      DescribePidf(notification->body, OwnTupleId(request.user->id), out);
      if (have_publication && !ShowsNote(notification->body, body)) {
        out << "   FAILED: the NOTIFY does not show the published note; check the server's "
               "presence configuration (presence_xml)\n";
        ++failures;
      }
    } else if (!notification->body.empty()) {
      Result<DialogInfo> read = ReadDialogInfo(notification->body);
      if (read.ok()) {
        out << "     " << read->dialogs.size() << " dialog(s)\n";
      } else {
        out << "     body could not be read: " << read.error().message << "\n";
      }
    }
  }

  if (have_publication) {
    out << "4. PUBLISH Expires: 0 (taking the test publication down)\n";
    auto removed = stack.Publish(request.user->id, *aor, "", true);
    if (removed.wait_for(request.timeout) != std::future_status::ready) {
      out << "   FAILED: no final answer within " << request.timeout.count() << " ms\n";
      ++failures;
    } else {
      PublishOutcome outcome = removed.get();
      out << "   " << (outcome.kind == PublishOutcome::Kind::kDone ? "" : "FAILED: ")
          << outcome.detail << "\n";
      if (outcome.kind != PublishOutcome::Kind::kDone) ++failures;
    }
  }
  stack.Stop();
  out << (failures == 0 ? "OK: publish and subscribe work\n"
                        : std::to_string(failures) + " step(s) failed\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace presence::connectors::sip
