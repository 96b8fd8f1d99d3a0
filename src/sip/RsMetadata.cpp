#include "sip/RsMetadata.hpp"
#include "core/Text.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

namespace callrec::sip {
namespace {

constexpr const char* kRecordingNamespaces[] = {"urn:ietf:params:xml:ns:recording:1",
                                                "urn:ietf:params:xml:ns:recording"};

struct DocumentDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct ContextDeleter {
  void operator()(xmlParserCtxt* context) const { xmlFreeParserCtxt(context); }
};
struct XmlStringDeleter {
  void operator()(xmlChar* text) const { xmlFree(text); }
};
using XmlString = std::unique_ptr<xmlChar, XmlStringDeleter>;

// Parser errors reach this instead of stderr; the message is read afterwards
// from the context.
void SwallowError(void* /*user_data*/, xmlErrorPtr /*error*/) {}

void InitParserOnce() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

bool IsElement(const xmlNode* node, const char* local_name) {
  return node->type == XML_ELEMENT_NODE && node->name != nullptr &&
         std::strcmp(reinterpret_cast<const char*>(node->name), local_name) == 0;
}

// RFC 7865 elements: either namespace (pre-RFC clients omit ":1"), or none.
bool IsRecordingElement(const xmlNode* node, const char* local_name) {
  if (!IsElement(node, local_name)) return false;
  if (node->ns == nullptr || node->ns->href == nullptr) return true;
  const char* href = reinterpret_cast<const char*>(node->ns->href);
  return std::any_of(std::begin(kRecordingNamespaces), std::end(kRecordingNamespaces),
                     [href](const char* ns) { return std::strcmp(href, ns) == 0; });
}

std::string Attribute(const xmlNode* node, const char* name) {
  XmlString value(xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name)));
  return value ? std::string(core::Trim(reinterpret_cast<const char*>(value.get()))) : "";
}

// RFC form first (session_id=), then the pre-RFC one (id=).
std::string IdAttribute(const xmlNode* node, const char* rfc_name) {
  std::string id = Attribute(node, rfc_name);
  return id.empty() ? Attribute(node, "id") : id;
}

std::string Text(const xmlNode* node) {
  XmlString value(xmlNodeGetContent(node));
  return value ? std::string(core::Trim(reinterpret_cast<const char*>(value.get()))) : "";
}

// The first descendant element with this local name, in any namespace.
const xmlNode* FindDescendant(const xmlNode* node, const char* local_name) {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (IsElement(child, local_name)) return child;
    if (const xmlNode* found = FindDescendant(child, local_name)) return found;
  }
  return nullptr;
}

int Depth(const xmlNode* node) {
  int deepest = 0;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) deepest = std::max(deepest, Depth(child));
  }
  return deepest + 1;
}

Participant& ParticipantWithId(RsMetadata& metadata, const std::string& id) {
  for (Participant& p : metadata.participants) {
    if (p.id == id) return p;
  }
  metadata.participants.push_back(Participant{id, {}, {}, {}, {}, {}});
  return metadata.participants.back();
}

void AddStreamRefs(const xmlNode* node, Participant& participant) {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (IsRecordingElement(child, "send")) participant.sends.push_back(Text(child));
    if (IsRecordingElement(child, "recv")) participant.receives.push_back(Text(child));
  }
}

void ReadParticipant(const xmlNode* node, RsMetadata& metadata) {
  Participant& participant = ParticipantWithId(metadata, IdAttribute(node, "participant_id"));
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (!IsRecordingElement(child, "nameID")) continue;
    participant.aor = Attribute(child, "aor");
    for (const xmlNode* name = child->children; name != nullptr; name = name->next) {
      if (IsRecordingElement(name, "name")) participant.name = Text(name);
    }
  }
  AddStreamRefs(node, participant);  // pre-RFC: <send>/<recv> inside <participant>
  if (const xmlNode* calling = FindDescendant(node, "callingParty")) {
    const std::string value = Text(calling);
    if (value == "true") participant.calling_party = true;
    if (value == "false") participant.calling_party = false;
  }
}

void ReadCallData(const xmlNode* root, RsMetadata& metadata) {
  const xmlNode* call_data = FindDescendant(root, "callData");
  if (call_data == nullptr) return;
  for (const xmlNode* child = call_data->children; child != nullptr; child = child->next) {
    if (IsElement(child, "fromhdr") || IsElement(child, "from")) metadata.call_from = Text(child);
    if (IsElement(child, "tohdr") || IsElement(child, "to")) metadata.call_to = Text(child);
  }
}

RsMetadata Read(const xmlNode* root) {
  RsMetadata metadata;
  std::string group_ref;
  bool have_session = false;
  for (const xmlNode* node = root->children; node != nullptr; node = node->next) {
    if (IsRecordingElement(node, "group") && metadata.group_id.empty()) {
      metadata.group_id = IdAttribute(node, "group_id");
    } else if (IsRecordingElement(node, "session") && !have_session) {
      have_session = true;
      metadata.session_id = IdAttribute(node, "session_id");
      for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
        if (IsRecordingElement(child, "group-ref")) group_ref = Text(child);
      }
    } else if (IsRecordingElement(node, "participant")) {
      ReadParticipant(node, metadata);
    } else if (IsRecordingElement(node, "stream")) {
      const xmlNode* label = nullptr;
      for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
        if (IsRecordingElement(child, "label")) label = child;
      }
      metadata.stream_labels[IdAttribute(node, "stream_id")] = label ? Text(label) : "";
    } else if (IsRecordingElement(node, "participantstreamassoc")) {
      AddStreamRefs(node, ParticipantWithId(metadata, Attribute(node, "participant_id")));
    }
  }
  if (metadata.group_id.empty()) metadata.group_id = group_ref;
  ReadCallData(root, metadata);
  return metadata;
}

}  // namespace

core::Result<RsMetadata, SipError> ParseRsMetadata(std::string_view xml) {
  if (xml.size() > kMaxMetadataXmlBytes) return TooLarge("rs-metadata larger than 256 KiB");
  // Blank lines before the XML declaration (a part body with an extra line
  // break) would make it "not at the start"; they carry nothing.
  const std::size_t start = xml.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return BadRequest("rs-metadata is empty");
  xml.remove_prefix(start);
  // No DTDs at all: RFC 7865 metadata has none, and every entity attack needs one.
  if (xml.find("<!DOCTYPE") != std::string_view::npos ||
      xml.find("<!ENTITY") != std::string_view::npos) {
    return BadRequest("rs-metadata with a DOCTYPE or ENTITY declaration is refused");
  }
  InitParserOnce();
  std::unique_ptr<xmlParserCtxt, ContextDeleter> context(xmlNewParserCtxt());
  if (!context || context->sax == nullptr) return SipError{500, "Server Internal Error", "libxml2"};
  context->sax->serror = SwallowError;
  // NONET: never fetch; without NOENT, DTDLOAD or DTDATTR nothing external is
  // loaded or expanded; without HUGE libxml2 keeps its own depth/size limits.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  std::unique_ptr<xmlDoc, DocumentDeleter> doc(xmlCtxtReadMemory(
      context.get(), xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, options));
  if (!doc || !context->wellFormed) {
    std::string why = "not well-formed";
    if (const xmlError* error = xmlCtxtGetLastError(context.get());
        error != nullptr && error->message != nullptr) {
      why = std::string(core::Trim(error->message)) + " at line " + std::to_string(error->line);
    }
    return BadRequest("rs-metadata XML: " + why);
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return BadRequest("rs-metadata with a DOCTYPE is refused");
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !IsRecordingElement(root, "recording")) {
    const std::string name = root != nullptr && root->name != nullptr
                                 ? reinterpret_cast<const char*>(root->name)
                                 : "(none)";
    return BadRequest("rs-metadata root element is <" + name + ">, not RFC 7865 <recording>");
  }
  if (Depth(root) > kMaxMetadataDepth) return BadRequest("rs-metadata nested too deeply");
  return Read(root);
}

}  // namespace callrec::sip
