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
// open element's text and hands elements to the visitor. Everything it refuses it throws as
// XmlDocumentError, which ReadXml catches once the throw has left the parser.
class Handler final : public Poco::XML::ContentHandler,
                      public Poco::XML::LexicalHandler,
                      public Poco::XML::EntityResolver {
 public:
  Handler(std::string_view what, XmlVisitor& visitor) : what_(what), visitor_(visitor) {}

  void startElement(const XMLString& uri, const XMLString& local_name, const XMLString&,
                    const Poco::XML::Attributes& attributes) override {
    if (++elements_ > kMaxElements) {
      throw XmlDocumentError(TooLarge(
          what_, "has more than " + std::to_string(kMaxElements) + " elements (the limit)"));
    }
    if (texts_.size() + 1 > kMaxDepth) {
      throw XmlDocumentError(TooLarge(
          what_, "nests elements deeper than " + std::to_string(kMaxDepth) + " (the limit)"));
    }
    texts_.emplace_back();
    XmlElement element{.ns = uri, .name = local_name, .depth = texts_.size()};
    for (int i = 0; i < attributes.getLength(); ++i) {
      if (!attributes.getURI(i).empty()) continue;
      element.attributes.emplace_back(attributes.getLocalName(i), attributes.getValue(i));
    }
    visitor_.StartElement(element);
  }

  void endElement(const XMLString&, const XMLString&, const XMLString&) override {
    std::string text = CleanText(texts_.back(), kMaxTextBytes);
    texts_.pop_back();
    visitor_.EndElement(std::move(text));
  }

  void characters(const XMLChar ch[], int start, int length) override {
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
    return BadXml(what, error.message());
  }
  return Status::Ok();
}

}  // namespace presence::connectors::sip
