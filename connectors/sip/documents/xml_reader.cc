#include "connectors/sip/documents/xml_reader.h"

#include <Poco/Exception.h>
#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/ContentHandler.h>
#include <Poco/SAX/EntityResolver.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/SAX/LexicalHandler.h>
#include <Poco/SAX/Locator.h>
#include <Poco/SAX/SAXParser.h>
#include <Poco/SAX/XMLReader.h>

#include <algorithm>
#include <optional>
#include <string>

#include "connectors/sip/documents/pidf.h"
#include "connectors/sip/documents/xml_text.h"

namespace presence::connectors::sip {
namespace {

using Poco::XML::XMLChar;
using Poco::XML::XMLString;

Error TooLarge(std::string_view what, std::string detail) {
  return Error{"too_large", std::string(what) + " " + detail};
}

Error BadXml(std::string_view what, std::string detail) {
  return Error{"bad_xml", std::string(what) + " is not accepted XML: " + detail};
}

bool IsXmlSpace(XMLChar c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Receives expat's events through Poco, enforces the element and depth limits, collects each
// open element's text and hands elements to the visitor.
//
// Stopping: an exception thrown out of an element handler leaks memory in expat. For an empty
// element (<a xmlns:x="..."/>) expat keeps the element's namespace bindings in a local list
// while it calls the start and end handlers and files them only afterwards, so a throw from
// either loses them (LeakSanitizer found this with the pidf fuzz target). So an element
// handler only records the first error and from then on ignores everything; the throw comes
// from the next character data event, a point where expat holds nothing of its own (element
// bindings are on its tag stack by then, which XML_ParserFree releases), or the parse simply
// runs to its end (at most kMaxDocumentBytes) and ReadXml returns the recorded error.
// startDTD and resolveEntity throw at once: expat keeps what it has there in its own pools.
class Handler final : public Poco::XML::ContentHandler,
                      public Poco::XML::LexicalHandler,
                      public Poco::XML::EntityResolver {
 public:
  Handler(std::string_view what, XmlVisitor& visitor) : what_(what), visitor_(visitor) {}

  const std::optional<Error>& error() const { return error_; }

  void startElement(const XMLString& uri, const XMLString& local_name, const XMLString&,
                    const Poco::XML::Attributes& attributes) override {
    if (error_) return;
    if (++elements_ > kMaxElements) {
      error_ = TooLarge(what_,
                        "has more than " + std::to_string(kMaxElements) + " elements (the limit)");
      return;
    }
    if (texts_.size() + 1 > kMaxDepth) {
      error_ = TooLarge(what_,
                        "nests elements deeper than " + std::to_string(kMaxDepth) + " (the limit)");
      return;
    }
    texts_.emplace_back();
    XmlElement element{.ns = uri, .name = local_name, .depth = texts_.size()};
    for (int i = 0; i < attributes.getLength(); ++i) {
      if (!attributes.getURI(i).empty()) continue;
      element.attributes.emplace_back(attributes.getLocalName(i), attributes.getValue(i));
    }
    try {
      visitor_.StartElement(element);
    } catch (const XmlDocumentError& error) {
      error_ = error.error();
    }
  }

  void endElement(const XMLString&, const XMLString&, const XMLString&) override {
    if (error_) return;
    std::string text = CleanText(texts_.back(), kMaxTextBytes);
    texts_.pop_back();
    try {
      visitor_.EndElement(std::move(text));
    } catch (const XmlDocumentError& error) {
      error_ = error.error();
    }
  }

  void characters(const XMLChar ch[], int start, int length) override {
    if (error_) throw XmlDocumentError(*error_);  // a safe point to stop (see above)
    if (texts_.empty()) return;
    std::string& text = texts_.back();
    const XMLChar* at = ch + start;
    const XMLChar* end = at + length;
    // Leading whitespace is trimmed anyway; keeping only a little past the cap lets CleanText
    // cut on a character boundary without holding a long text.
    if (text.empty()) {
      while (at != end && IsXmlSpace(*at)) ++at;
    }
    const size_t room = kMaxTextBytes + 4 - std::min(text.size(), kMaxTextBytes + 4);
    text.append(at, std::min(static_cast<size_t>(end - at), room));
  }

  void startDTD(const XMLString&, const XMLString&, const XMLString&) override {
    throw XmlDocumentError(BadXml(what_, "it has a DOCTYPE (DTDs are not allowed)"));
  }

  Poco::XML::InputSource* resolveEntity(const XMLString*, const XMLString&) override {
    throw XmlDocumentError(BadXml(what_, "it refers to an external entity (not allowed)"));
  }
  void releaseInputSource(Poco::XML::InputSource*) override {}

  // The rest of the SAX events carry nothing these documents use.
  void setDocumentLocator(const Poco::XML::Locator*) override {}
  void startDocument() override {}
  void endDocument() override {}
  void ignorableWhitespace(const XMLChar[], int, int) override {}
  void processingInstruction(const XMLString&, const XMLString&) override {}
  void startPrefixMapping(const XMLString&, const XMLString&) override {}
  void endPrefixMapping(const XMLString&) override {}
  void skippedEntity(const XMLString&) override {}
  void endDTD() override {}
  void startEntity(const XMLString&) override {}
  void endEntity(const XMLString&) override {}
  void startCDATA() override {}
  void endCDATA() override {}
  void comment(const XMLChar[], int, int) override {}

 private:
  std::string_view what_;
  XmlVisitor& visitor_;
  size_t elements_ = 0;
  std::vector<std::string> texts_;  // one per open element
  std::optional<Error> error_;      // the first refusal; everything after it is ignored
};

}  // namespace

std::optional<std::string> XmlElement::Attribute(std::string_view attribute) const {
  for (const auto& [key, value] : attributes) {
    if (key == attribute) return CleanText(value, kMaxTextBytes);
  }
  return std::nullopt;
}

Status ReadXml(std::string_view body, std::string_view what, XmlVisitor& visitor) {
  if (body.size() > kMaxDocumentBytes) {
    return TooLarge(what, "is " + std::to_string(body.size()) + " bytes; at most " +
                              std::to_string(kMaxDocumentBytes) + " are read");
  }
  // No DTD at all: refused before expat sees it, so no entity is ever declared.
  if (body.find("<!DOCTYPE") != std::string_view::npos) {
    return BadXml(what, "it has a DOCTYPE (DTDs are not allowed)");
  }
  Handler handler(what, visitor);
  Poco::XML::SAXParser parser;
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACE_PREFIXES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  parser.setContentHandler(&handler);
  parser.setEntityResolver(&handler);
  parser.setProperty(Poco::XML::XMLReader::PROPERTY_LEXICAL_HANDLER,
                     static_cast<Poco::XML::LexicalHandler*>(&handler));
  try {
    parser.parseMemoryNP(body.data(), body.size());
  } catch (const XmlDocumentError& error) {
    return error.error();
  } catch (const Poco::Exception& error) {
    // A refusal recorded before expat found the document malformed further on comes first.
    if (handler.error()) return *handler.error();
    return BadXml(what, error.message());
  }
  if (handler.error()) return *handler.error();
  return Status::Ok();
}

}  // namespace presence::connectors::sip
