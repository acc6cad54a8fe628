#include "connectors/sip/documents/dialog_info.h"

#include <array>
#include <charconv>
#include <utility>

#include "connectors/sip/documents/pidf.h"
#include "connectors/sip/documents/xml_reader.h"
#include "connectors/sip/documents/xml_text.h"

namespace presence::connectors::sip {
namespace {

constexpr std::string_view kDialogInfoNs = "urn:ietf:params:xml:ns:dialog-info";
constexpr std::string_view kWhat = "the dialog-info document";

constexpr std::array<std::pair<DialogState, std::string_view>, 5> kStateNames = {{
    {DialogState::kTrying, "trying"},
    {DialogState::kProceeding, "proceeding"},
    {DialogState::kEarly, "early"},
    {DialogState::kConfirmed, "confirmed"},
    {DialogState::kTerminated, "terminated"},
}};

std::optional<DialogState> ParseState(std::string_view text) {
  for (const auto& [state, name] : kStateNames) {
    if (name == text) return state;
  }
  return std::nullopt;
}

// A whole decimal number (no sign, no spaces inside), nullopt otherwise or out of range.
template <class Number>
std::optional<Number> ParseNumber(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  Number number{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

enum class Place {
  kDialogInfo,
  kDialog,
  kState,
  kDuration,
  kLocal,
  kLocalIdentity,
  kRemote,
  kRemoteIdentity,
  kSkipped,
};

Error BadDialog(std::string detail) {
  return {"bad_dialog", "a dialog in " + std::string(kWhat) + " " + detail};
}

class DialogInfoVisitor final : public XmlVisitor {
 public:
  DialogInfo& info() { return info_; }

  void StartElement(const XmlElement& element) override {
    if (places_.empty()) {
      StartRoot(element);
      return;
    }
    places_.push_back(PlaceOf(element));
  }

  void EndElement(std::string text) override {
    const Place place = places_.back();
    places_.pop_back();
    switch (place) {
      case Place::kDialog:
        if (!has_state_) {
          throw XmlDocumentError(BadDialog("(id \"" + ForMessage(info_.dialogs.back().id) +
                                           "\") has no <state>; RFC 4235 requires one"));
        }
        break;
      case Place::kState: {
        const std::optional<DialogState> state = ParseState(text);
        if (!state) {
          throw XmlDocumentError(
              BadDialog("has the state \"" + ForMessage(text) +
                        "\"; allowed: trying, proceeding, early, confirmed, terminated"));
        }
        info_.dialogs.back().state = *state;
        has_state_ = true;
        break;
      }
      case Place::kDuration:
        info_.dialogs.back().duration = ParseNumber<int64_t>(text);
        break;
      case Place::kLocalIdentity:
        info_.dialogs.back().local_identity = std::move(text);
        break;
      case Place::kRemoteIdentity:
        info_.dialogs.back().remote_identity = std::move(text);
        break;
      default:
        break;
    }
  }

 private:
  void StartRoot(const XmlElement& element) {
    if (element.ns != kDialogInfoNs || element.name != "dialog-info") {
      throw XmlDocumentError(
          {"not_dialog_info", "the document's root is {" + ForMessage(element.ns) + "}" +
                                  ForMessage(element.name) + "; a dialog-info document has " +
                                  "the root dialog-info in namespace " +
                                  std::string(kDialogInfoNs)});
    }
    info_.entity = element.Attribute("entity").value_or("");
    info_.version = ParseNumber<uint64_t>(element.Attribute("version").value_or(""));
    info_.full = element.Attribute("state") != "partial";
    places_.push_back(Place::kDialogInfo);
  }

  Place StartDialog(const XmlElement& element) {
    Dialog dialog;
    dialog.id = element.Attribute("id").value_or("");
    if (dialog.id.empty()) {
      throw XmlDocumentError(BadDialog("has no id; RFC 4235 requires one"));
    }
    dialog.call_id = element.Attribute("call-id").value_or("");
    dialog.local_tag = element.Attribute("local-tag").value_or("");
    dialog.remote_tag = element.Attribute("remote-tag").value_or("");
    const std::string direction = element.Attribute("direction").value_or("");
    if (direction == "initiator" || direction == "recipient") dialog.direction = direction;
    info_.dialogs.push_back(std::move(dialog));
    has_state_ = false;
    return Place::kDialog;
  }

  Place PlaceOf(const XmlElement& element) {
    const Place parent = places_.back();
    if (element.ns != kDialogInfoNs) return Place::kSkipped;
    const std::string_view name = element.name;
    switch (parent) {
      case Place::kDialogInfo:
        if (name == "dialog" && info_.dialogs.size() < kMaxItems) return StartDialog(element);
        break;
      case Place::kDialog:
        if (name == "state") {
          Dialog& dialog = info_.dialogs.back();
          dialog.state_event = element.Attribute("event").value_or("");
          dialog.state_code = ParseNumber<int>(element.Attribute("code").value_or(""));
          return Place::kState;
        }
        if (name == "duration") return Place::kDuration;
        if (name == "local") return Place::kLocal;
        if (name == "remote") return Place::kRemote;
        break;
      case Place::kLocal:
        if (name == "identity") return Place::kLocalIdentity;
        break;
      case Place::kRemote:
        if (name == "identity") {
          info_.dialogs.back().remote_display = element.Attribute("display").value_or("");
          return Place::kRemoteIdentity;
        }
        break;
      default:
        break;
    }
    return Place::kSkipped;
  }

  DialogInfo info_;
  std::vector<Place> places_;  // one per open element
  bool has_state_ = false;     // the open dialog has had its <state>
};

void AppendAttribute(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += ' ';
  out += name;
  out += "=\"";
  AppendXmlAttribute(out, value);
  out += '"';
}

void AppendDialog(std::string& out, const Dialog& dialog) {
  out += "  <dialog id=\"";  // required, so written even when empty
  AppendXmlAttribute(out, dialog.id);
  out += '"';
  AppendAttribute(out, "call-id", dialog.call_id);
  AppendAttribute(out, "local-tag", dialog.local_tag);
  AppendAttribute(out, "remote-tag", dialog.remote_tag);
  AppendAttribute(out, "direction", dialog.direction);
  out += ">\n    <state";
  AppendAttribute(out, "event", dialog.state_event);
  if (dialog.state_code) AppendAttribute(out, "code", std::to_string(*dialog.state_code));
  out += ">";
  out += DialogStateName(dialog.state);
  out += "</state>\n";
  if (dialog.duration) out += "    <duration>" + std::to_string(*dialog.duration) + "</duration>\n";
  if (!dialog.local_identity.empty()) {
    out += "    <local><identity>";
    AppendXmlText(out, dialog.local_identity);
    out += "</identity></local>\n";
  }
  if (!dialog.remote_identity.empty() || !dialog.remote_display.empty()) {
    out += "    <remote><identity";
    AppendAttribute(out, "display", dialog.remote_display);
    out += ">";
    AppendXmlText(out, dialog.remote_identity);
    out += "</identity></remote>\n";
  }
  out += "  </dialog>\n";
}

}  // namespace

std::string_view DialogStateName(DialogState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "trying";
}

Result<DialogInfo> ReadDialogInfo(std::string_view body) {
  if (body.empty()) return DialogInfo{};
  DialogInfoVisitor visitor;
  const Status status = ReadXml(body, kWhat, visitor);
  if (!status.ok()) return status.error();
  return std::move(visitor.info());
}

std::string WriteDialogInfo(const DialogInfo& info) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"";
  out += std::to_string(info.version.value_or(0));
  out += info.full ? "\" state=\"full\" entity=\"" : "\" state=\"partial\" entity=\"";
  AppendXmlAttribute(out, info.entity);
  out += "\">\n";
  for (const Dialog& dialog : info.dialogs) AppendDialog(out, dialog);
  out += "</dialog-info>\n";
  return out;
}

}  // namespace presence::connectors::sip
