#include "sip/SipMessage.hpp"

#include <sofia-sip/sip_hclasses.h>
#include <strings.h>

namespace callrec::sip {
namespace {

bool ListHas(const msg_list_t* list, const char* item) {
  for (; list != nullptr; list = list->k_next) {
    if (list->k_items == nullptr) continue;
    for (const msg_param_t* it = list->k_items; *it != nullptr; ++it) {
      if (strcasecmp(*it, item) == 0) return true;
    }
  }
  return false;
}

bool ContactHasSrc(const sip_contact_t* contact) {
  for (; contact != nullptr; contact = contact->m_next) {
    if (contact->m_params == nullptr) continue;
    for (const msg_param_t* it = contact->m_params; *it != nullptr; ++it) {
      if (strncasecmp(*it, "+sip.src", 8) == 0 && ((*it)[8] == '\0' || (*it)[8] == '=')) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

SipRequestView ViewRequest(const sip_t* sip) {
  SipRequestView view;
  if (sip == nullptr) return view;
  if (sip->sip_call_id != nullptr && sip->sip_call_id->i_id != nullptr) {
    view.call_id = sip->sip_call_id->i_id;
  }
  if (sip->sip_content_type != nullptr && sip->sip_content_type->c_type != nullptr) {
    view.content_type = sip->sip_content_type->c_type;
    if (sip->sip_content_type->c_params != nullptr) {
      for (const msg_param_t* it = sip->sip_content_type->c_params; *it != nullptr; ++it) {
        view.content_type += ";";
        view.content_type += *it;
      }
    }
  }
  if (sip->sip_payload != nullptr && sip->sip_payload->pl_data != nullptr) {
    view.body = std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  }
  if (sip->sip_via != nullptr) {
    view.over_tls = sip->sip_via->v_protocol != nullptr &&
                    strcasecmp(sip->sip_via->v_protocol, "SIP/2.0/TLS") == 0;
    const char* host =
        sip->sip_via->v_received != nullptr ? sip->sip_via->v_received : sip->sip_via->v_host;
    if (host != nullptr) view.source_address = host;
    if (view.source_address.size() > 2 && view.source_address.front() == '[') {
      view.source_address = view.source_address.substr(1, view.source_address.size() - 2);
    }
  }
  view.siprec_option = ListHas(sip->sip_require, "siprec") || ListHas(sip->sip_supported, "siprec");
  view.src_contact = ContactHasSrc(sip->sip_contact);
  return view;
}

std::size_t HeaderFieldCount(const sip_t* sip) {
  if (sip == nullptr || sip->sip_request == nullptr) return 0;
  std::size_t count = 0;
  for (const msg_header_t* h = sip->sip_request->rq_common->h_succ; h != nullptr; h = h->sh_succ) {
    const msg_hclass_t* kind = h->sh_class;
    if (kind == sip_separator_class || kind == sip_payload_class) continue;
    ++count;
  }
  return count;
}

std::optional<std::string> ExtensionHeader(const sip_t* sip, std::string_view name) {
  if (sip == nullptr) return std::nullopt;
  for (const sip_unknown_t* header = sip->sip_unknown; header != nullptr;
       header = header->un_next) {
    if (header->un_name == nullptr || header->un_value == nullptr) continue;
    if (std::string_view(header->un_name).size() == name.size() &&
        strncasecmp(header->un_name, name.data(), name.size()) == 0) {
      return std::string(header->un_value);
    }
  }
  return std::nullopt;
}

std::string WarningValue(std::string_view text) {
  std::string out = "399 callrec \"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\r' || c == '\n') c = ' ';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace callrec::sip
