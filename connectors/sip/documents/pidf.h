#pragma once

// PIDF (RFC 3863) with the data model (RFC 4479) and RPID activities (RFC 4480): the document
// a SIP presence server holds for a presentity. WritePidf builds what the agent publishes for
// a user; ReadPidf reads what a presence server NOTIFYs (possibly several publishers' tuples
// merged into one document). Pure functions, no I/O; ReadPidf is a fuzz target.
//
// ReadPidf takes untrusted bytes from the network. It refuses, without building anything
// large: a body over kMaxDocumentBytes, a DOCTYPE (no DTDs, so no entity expansion), more than
// kMaxElements elements or nesting deeper than kMaxDepth, and it keeps at most kMaxItems tuples,
// persons, notes and activities and kMaxTextBytes of any one text. Elements of other
// namespaces are skipped (extensions are allowed by the RFCs).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace presence::connectors::sip {

inline constexpr size_t kMaxDocumentBytes = 64 * 1024;
inline constexpr size_t kMaxElements = 4096;
inline constexpr size_t kMaxDepth = 32;
inline constexpr size_t kMaxItems = 64;
inline constexpr size_t kMaxTextBytes = 1024;

inline constexpr std::string_view kPidfType = "application/pidf+xml";

// The RPID activities (RFC 4480 section 3.2), without "unknown" and "other".
const std::vector<std::string_view>& RpidActivities();
bool IsRpidActivity(std::string_view name);

// What the agent publishes for one user.
struct PresenceDocument {
  std::string entity;     // the presentity, "sip:1001@pbx.example"
  std::string tuple_id;   // the agent's tuple (XML ID syntax), e.g. "pa-1001"
  std::string person_id;  // the agent's dm:person, e.g. "pa-p-1001"
  bool open = true;       // <basic>open</basic> or closed
  std::string activity;   // an RPID activity ("busy", "on-the-phone"...), empty for none
  std::string note;       // the state's label (or the mapping's note); empty for none
  Timestamp timestamp{};  // when the state began
  friend bool operator==(const PresenceDocument&, const PresenceDocument&) = default;
};

// The PIDF document for it: the tuple (basic, contact = entity, note, timestamp), a dm:person
// with the activity and a dm:note (when there is an activity or a note) and a <note> under
// <presence>. Text and attributes are XML-escaped.
// Details: a default (epoch 0) timestamp is left out; <contact> only when entity is set. An
// activity that is an ASCII XML name is written as <rpid:name/>; "other:<text>" (and anything
// that is not such a name) as <rpid:other>text</rpid:other>, so ReadPidf gives it back.
std::string WritePidf(const PresenceDocument& document);

struct PidfTuple {
  std::string id;
  std::optional<bool> open;  // <basic>: true open, false closed, nullopt absent
  std::string contact;
  std::vector<std::string> notes;
  friend bool operator==(const PidfTuple&, const PidfTuple&) = default;
};

struct PidfPerson {
  std::string id;
  std::vector<std::string> activities;  // RPID element names ("busy"); "other" as "other:<text>"
  std::vector<std::string> notes;       // dm:note
  friend bool operator==(const PidfPerson&, const PidfPerson&) = default;
};

struct Pidf {
  std::string entity;
  std::vector<PidfTuple> tuples;
  std::vector<PidfPerson> persons;
  std::vector<std::string> notes;  // <note> directly under <presence>
  friend bool operator==(const Pidf&, const Pidf&) = default;
};

// Errors: "too_large" (over kMaxDocumentBytes or the element and depth limits), "bad_xml" (not
// well-formed, or a DOCTYPE), "not_pidf" (the root is not urn:ietf:params:xml:ns:pidf
// presence). An empty body is not an error here: callers decide (a presence server sends one
// when nothing is published): it gives an empty Pidf (no entity).
// Matching is by namespace URI and local name, whatever the prefixes. Every string read (text
// and attribute values) is trimmed of XML whitespace and cut to kMaxTextBytes on a UTF-8
// character boundary; items past kMaxItems are dropped. <basic> other than open/closed reads as
// nullopt; for single-valued elements (basic, contact) the last one wins.
Result<Pidf> ReadPidf(std::string_view body);

}  // namespace presence::connectors::sip
