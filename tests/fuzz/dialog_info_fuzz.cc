// Fuzz target for the dialog-info reader (connectors/sip/documents/dialog_info.h): the body of
// every dialog NOTIFY (a desk phone's BLF). Any bytes must give a document or one of the
// documented errors; a document read must respect the limits of pidf.h and RFC 4235's
// requirements (an id and a known state for each dialog), and what WriteDialogInfo makes of it
// must read back equal.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/sip/documents/dialog_info.h"
#include "connectors/sip/documents/pidf.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/xml_fuzz_check.h"

namespace {

using namespace presence::connectors::sip;  // NOLINT: a fuzz target of this one header
using presence::Result;
using presence::fuzz::CheckText;

void CheckLimits(const DialogInfo& info) {
  CheckText(info.entity);
  FUZZ_CHECK(info.dialogs.size() <= kMaxItems);
  for (const Dialog& dialog : info.dialogs) {
    FUZZ_CHECK(!dialog.id.empty());
    for (const std::string* text :
         {&dialog.id, &dialog.call_id, &dialog.local_tag, &dialog.remote_tag, &dialog.direction,
          &dialog.state_event, &dialog.local_identity, &dialog.remote_identity,
          &dialog.remote_display}) {
      CheckText(*text);
    }
    FUZZ_CHECK(dialog.direction.empty() || dialog.direction == "initiator" ||
               dialog.direction == "recipient");
    const std::string_view state = DialogStateName(dialog.state);
    FUZZ_CHECK(state == "trying" || state == "proceeding" || state == "early" ||
               state == "confirmed" || state == "terminated");
    if (dialog.duration) FUZZ_CHECK(*dialog.duration >= 0);
    if (dialog.state_code) FUZZ_CHECK(*dialog.state_code >= 0);
  }
}

void CheckRoundTrip(const DialogInfo& info) {
  const std::string written = WriteDialogInfo(info);
  const Result<DialogInfo> again = ReadDialogInfo(written);
  if (written.size() > kMaxDocumentBytes) {  // escaping can make text up to six times longer
    FUZZ_CHECK(!again.ok() && again.error().code == "too_large");
    return;
  }
  FUZZ_CHECK(again.ok());
  DialogInfo expected = info;
  expected.version = info.version.value_or(0);  // the writer always writes a version
  FUZZ_CHECK(*again == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Result<DialogInfo> read = ReadDialogInfo(body);
  if (!read.ok()) {
    const std::string& code = read.error().code;
    FUZZ_CHECK(code == "too_large" || code == "bad_xml" || code == "not_dialog_info" ||
               code == "bad_dialog");
    FUZZ_CHECK(!read.error().message.empty());
    if (size > kMaxDocumentBytes) FUZZ_CHECK(code == "too_large");
    return 0;
  }
  FUZZ_CHECK(size <= kMaxDocumentBytes);
  if (size == 0) FUZZ_CHECK(*read == DialogInfo{});
  CheckLimits(*read);
  CheckRoundTrip(*read);
  return 0;
}
