#pragma once

// The safe part of reading PIDF and dialog-info (internal to this folder): untrusted bytes go
// through Poco's SAX parser (expat) with namespaces on and the limits of pidf.h. Before parsing
// it refuses a body over kMaxDocumentBytes and any DOCTYPE (no DTD, so no entity expansion and
// no external entity; external entities are also switched off and never resolved, should a
// DOCTYPE slip past the byte check, e.g. in UTF-16). While parsing it counts elements and depth
// and stops past kMaxElements or kMaxDepth. The document readers see elements by namespace URI
// and local name (prefixes vary between servers and phones) and text already trimmed and cut.

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace presence::connectors::sip {

struct XmlElement {
  std::string_view ns;    // namespace URI, empty for none
  std::string_view name;  // local name
  size_t depth = 0;       // 1 for the root
  // The attributes without a namespace (all that PIDF and dialog-info define), raw values.
  std::vector<std::pair<std::string_view, std::string_view>> attributes;

  // The value of attribute `name` as CleanText keeps it (kMaxTextBytes), nullopt when absent.
  std::optional<std::string> Attribute(std::string_view name) const;
};

// A visitor throws this to refuse the document: ReadXml returns its error ("not_pidf",
// "bad_dialog"...) and the visitor sees nothing more.
class XmlDocumentError : public std::exception {
 public:
  explicit XmlDocumentError(Error error) : error_(std::move(error)) {}
  const Error& error() const { return error_; }
  const char* what() const noexcept override { return error_.message.c_str(); }

 private:
  Error error_;
};

// What a document reader does with the elements, in document order.
class XmlVisitor {
 public:
  virtual ~XmlVisitor() = default;
  virtual void StartElement(const XmlElement& element) = 0;
  // The element that ends is the last one started and not yet ended. text is its own
  // character data (CDATA included, children's text not), as CleanText keeps it.
  virtual void EndElement(std::string text) = 0;
};

// Parses body, calling visitor. Errors: "too_large", "bad_xml", or what the visitor threw.
// `what` names the document in messages ("PIDF document").
Status ReadXml(std::string_view body, std::string_view what, XmlVisitor& visitor);

}  // namespace presence::connectors::sip
