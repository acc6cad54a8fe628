#include "connectors/sip/documents/pidf.h"

#include <algorithm>
#include <utility>

#include "connectors/sip/documents/xml_reader.h"
#include "connectors/sip/documents/xml_text.h"

namespace presence::connectors::sip {
namespace {

constexpr std::string_view kPidfNs = "urn:ietf:params:xml:ns:pidf";
constexpr std::string_view kDataModelNs = "urn:ietf:params:xml:ns:pidf:data-model";
constexpr std::string_view kRpidNs = "urn:ietf:params:xml:ns:pidf:rpid";
constexpr std::string_view kWhat = "the PIDF document";

// Where an open element sits in the document; anything else (extensions, elements past
// kMaxItems) is kSkipped together with everything inside it.
enum class Place {
  kPresence,
  kTuple,
  kStatus,
  kBasic,
  kContact,
  kTupleNote,
  kPerson,
  kActivities,
  kActivity,
  kPersonNote,
  kPresenceNote,
  kSkipped,
};

void AddUpTo(std::vector<std::string>& items, std::string item) {
  if (items.size() < kMaxItems) items.push_back(std::move(item));
}

class PidfVisitor final : public XmlVisitor {
 public:
  Pidf& pidf() { return pidf_; }

  void StartElement(const XmlElement& element) override {
    if (places_.empty()) {
      if (element.ns != kPidfNs || element.name != "presence") {
        throw XmlDocumentError({"not_pidf", "the document's root is {" + ForMessage(element.ns) +
                                                "}" + ForMessage(element.name) +
                                                "; a PIDF document has the root " +
                                                "presence in namespace " + std::string(kPidfNs)});
      }
      pidf_.entity = element.Attribute("entity").value_or("");
      places_.push_back(Place::kPresence);
      return;
    }
    places_.push_back(PlaceOf(element));
  }

  void EndElement(std::string text) override {
    const Place place = places_.back();
    places_.pop_back();
    switch (place) {
      case Place::kBasic:
        pidf_.tuples.back().open = text == "open"
                                       ? std::optional(true)
                                       : (text == "closed" ? std::optional(false) : std::nullopt);
        break;
      case Place::kContact:
        pidf_.tuples.back().contact = std::move(text);
        break;
      case Place::kTupleNote:
        AddUpTo(pidf_.tuples.back().notes, std::move(text));
        break;
      case Place::kActivity:
        // rpid:other carries free text; every other activity is its element name.
        if (activity_ == "other") activity_ = CleanText("other:" + text, kMaxTextBytes);
        AddUpTo(pidf_.persons.back().activities, std::move(activity_));
        activity_.clear();
        break;
      case Place::kPersonNote:
        AddUpTo(pidf_.persons.back().notes, std::move(text));
        break;
      case Place::kPresenceNote:
        AddUpTo(pidf_.notes, std::move(text));
        break;
      default:
        break;
    }
  }

 private:
  Place PlaceOf(const XmlElement& element) {
    const Place parent = places_.back();
    const auto is = [&](std::string_view ns, std::string_view name) {
      return element.ns == ns && element.name == name;
    };
    switch (parent) {
      case Place::kPresence:
        if (is(kPidfNs, "tuple") && pidf_.tuples.size() < kMaxItems) {
          pidf_.tuples.push_back({.id = element.Attribute("id").value_or("")});
          return Place::kTuple;
        }
        if (is(kDataModelNs, "person") && pidf_.persons.size() < kMaxItems) {
          pidf_.persons.push_back({.id = element.Attribute("id").value_or("")});
          return Place::kPerson;
        }
        if (is(kPidfNs, "note")) return Place::kPresenceNote;
        break;
      case Place::kTuple:
        if (is(kPidfNs, "status")) return Place::kStatus;
        if (is(kPidfNs, "contact")) return Place::kContact;
        if (is(kPidfNs, "note")) return Place::kTupleNote;
        break;
      case Place::kStatus:
        if (is(kPidfNs, "basic")) return Place::kBasic;
        break;
      case Place::kPerson:
        if (is(kRpidNs, "activities")) return Place::kActivities;
        if (is(kDataModelNs, "note")) return Place::kPersonNote;
        break;
      case Place::kActivities:
        if (element.ns == kRpidNs) {
          activity_ = CleanText(element.name, kMaxTextBytes);
          return Place::kActivity;
        }
        break;
      default:
        break;
    }
    return Place::kSkipped;
  }

  Pidf pidf_;
  std::vector<Place> places_;  // one per open element
  std::string activity_;       // the name of the open activity element
};

// RFC 3339 as in integrations.md 5.3: "2024-05-01T09:30:00Z", milliseconds only when set.
std::string PidfTime(Timestamp timestamp) {
  std::string text = FormatTime(timestamp);  // "2024-05-01T09:30:00.000Z"
  const size_t fraction = text.rfind(".000Z");
  if (fraction != std::string::npos && fraction + 5 == text.size()) text.replace(fraction, 5, "Z");
  return text;
}

// An activity written as its own element: an ASCII XML name, as RFC 4480's are (anything else
// goes into rpid:other, so the document stays well-formed).
bool IsElementName(std::string_view name) {
  if (name.empty()) return false;
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!letter(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

void AppendActivity(std::string& out, std::string_view activity) {
  constexpr std::string_view kOther = "other:";
  out += "    <rpid:activities>";
  if (activity.substr(0, kOther.size()) != kOther && IsElementName(activity)) {
    out += "<rpid:";
    out += activity;
    out += "/>";
  } else {
    if (activity.substr(0, kOther.size()) == kOther) activity.remove_prefix(kOther.size());
    out += "<rpid:other>";
    AppendXmlText(out, activity);
    out += "</rpid:other>";
  }
  out += "</rpid:activities>\n";
}

}  // namespace

const std::vector<std::string_view>& RpidActivities() {
  // RFC 4480 section 3.2 as integrations.md 5.2 lists them.
  static const std::vector<std::string_view> activities = {
      "appointment", "away",
      "breakfast",   "busy",
      "dinner",      "holiday",
      "in-transit",  "looking-for-work",
      "lunch",       "meal",
      "meeting",     "on-the-phone",
      "performance", "permanent-absence",
      "playing",     "presentation",
      "shopping",    "sleeping",
      "spectator",   "steering",
      "travel",      "tv",
      "vacation",    "working",
      "worship",
  };
  return activities;
}

bool IsRpidActivity(std::string_view name) {
  const std::vector<std::string_view>& activities = RpidActivities();
  return std::find(activities.begin(), activities.end(), name) != activities.end();
}

std::string WritePidf(const PresenceDocument& document) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
      "          xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
      "          xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
      "          entity=\"";
  AppendXmlAttribute(out, document.entity);
  out += "\">\n  <tuple id=\"";
  AppendXmlAttribute(out, document.tuple_id);
  out += "\">\n    <status><basic>";
  out += document.open ? "open" : "closed";
  out += "</basic></status>\n";
  if (!document.entity.empty()) {
    out += "    <contact>";
    AppendXmlText(out, document.entity);
    out += "</contact>\n";
  }
  if (!document.note.empty()) {
    out += "    <note>";
    AppendXmlText(out, document.note);
    out += "</note>\n";
  }
  if (document.timestamp != Timestamp{}) {
    out += "    <timestamp>" + PidfTime(document.timestamp) + "</timestamp>\n";
  }
  out += "  </tuple>\n";
  if (!document.activity.empty() || !document.note.empty()) {
    out += "  <dm:person id=\"";
    AppendXmlAttribute(out, document.person_id);
    out += "\">\n";
    if (!document.activity.empty()) AppendActivity(out, document.activity);
    if (!document.note.empty()) {
      out += "    <dm:note>";
      AppendXmlText(out, document.note);
      out += "</dm:note>\n";
    }
    out += "  </dm:person>\n";
  }
  if (!document.note.empty()) {
    out += "  <note>";
    AppendXmlText(out, document.note);
    out += "</note>\n";
  }
  out += "</presence>\n";
  return out;
}

Result<Pidf> ReadPidf(std::string_view body) {
  if (body.empty()) return Pidf{};
  PidfVisitor visitor;
  const Status status = ReadXml(body, kWhat, visitor);
  if (!status.ok()) return status.error();
  return std::move(visitor.pidf());
}

}  // namespace presence::connectors::sip
