#include "s3/S3Xml.hpp"
#include "core/Text.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>

namespace callrec::s3 {
namespace {

struct DocumentDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct ContextDeleter {
  void operator()(xmlParserCtxt* context) const { xmlFreeParserCtxt(context); }
};
using Document = std::unique_ptr<xmlDoc, DocumentDeleter>;

void SwallowError(void* /*user_data*/, xmlErrorPtr /*error*/) {}

// The answer of an S3 server: no DTD, nothing fetched or expanded.
Document Parse(std::string_view xml) {
  if (xml.find("<!DOCTYPE") != std::string_view::npos ||
      xml.find("<!ENTITY") != std::string_view::npos) {
    return nullptr;
  }
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  std::unique_ptr<xmlParserCtxt, ContextDeleter> context(xmlNewParserCtxt());
  if (!context || context->sax == nullptr) return nullptr;
  context->sax->serror = SwallowError;
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  Document doc(xmlCtxtReadMemory(context.get(), xml.data(), static_cast<int>(xml.size()), nullptr,
                                 nullptr, options));
  if (!doc || !context->wellFormed) return nullptr;
  return doc;
}

bool Is(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE &&
         std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

std::string Text(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  std::string out = content ? reinterpret_cast<const char*>(content) : "";
  xmlFree(content);
  return out;
}

// The text of `parent`'s first child element called `name`, if any.
std::optional<std::string> Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* child = parent->children; child; child = child->next) {
    if (Is(child, name)) return Text(child);
  }
  return std::nullopt;
}

template <typename Number>
Number ToNumber(const std::optional<std::string>& text) {
  Number value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

}  // namespace

std::optional<XmlError> ParseError(std::string_view xml) {
  const Document doc = Parse(xml);
  if (!doc) return std::nullopt;
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !Is(root, "Error")) return std::nullopt;
  return XmlError{Child(root, "Code").value_or(""), Child(root, "Message").value_or("")};
}

std::optional<std::string> ParseUploadId(std::string_view xml) {
  const Document doc = Parse(xml);
  if (!doc) return std::nullopt;
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !Is(root, "InitiateMultipartUploadResult")) return std::nullopt;
  auto id = Child(root, "UploadId");
  if (!id || id->empty()) return std::nullopt;
  return id;
}

std::optional<PartList> ParseListParts(std::string_view xml) {
  const Document doc = Parse(xml);
  if (!doc) return std::nullopt;
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !Is(root, "ListPartsResult")) return std::nullopt;
  PartList out;
  out.truncated = Child(root, "IsTruncated").value_or("false") == "true";
  out.next_marker = ToNumber<int>(Child(root, "NextPartNumberMarker"));
  for (const xmlNode* child = root->children; child; child = child->next) {
    if (!Is(child, "Part")) continue;
    UploadedPart part;
    part.number = ToNumber<int>(Child(child, "PartNumber"));
    part.etag = Child(child, "ETag").value_or("");
    part.size = ToNumber<std::uint64_t>(Child(child, "Size"));
    out.parts.push_back(std::move(part));
  }
  return out;
}

std::optional<std::string> ParseCompleteETag(std::string_view xml) {
  const Document doc = Parse(xml);
  if (!doc) return std::nullopt;
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !Is(root, "CompleteMultipartUploadResult")) return std::nullopt;
  return Child(root, "ETag").value_or("");
}

std::string CompleteMultipartXml(const std::vector<UploadedPart>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const UploadedPart& part : parts) {
    out += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>" +
           core::EscapeMarkup(part.etag) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace callrec::s3
