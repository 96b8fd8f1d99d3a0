// A SIP request off the wire: sofia-sip's message parser (msg_make with the
// default SIP class, as nta parses a datagram), then what callrec reads from
// it (sip::ViewRequest, sip::ExtensionHeader) and, for a request with a body,
// the whole SIPREC planning chain of fuzz/SiprecChecks.hpp.
#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include <cstddef>
#include <cstdint>

#include "SiprecChecks.hpp"
#include "sip/SipMessage.hpp"

using namespace callrec;

namespace {

struct MessageDeleter {
  void operator()(msg_t* msg) const { msg_destroy(msg); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::unique_ptr<msg_t, MessageDeleter> msg(
      msg_make(sip_default_mclass(), 0, data, static_cast<ssize_t>(size)));
  if (!msg) return 0;
  const sip_t* sip = sip_object(msg.get());
  if (sip == nullptr || sip->sip_request == nullptr) return 0;

  const sip::SipRequestView request = sip::ViewRequest(sip);
  const auto contact_header = sip::ExtensionHeader(sip, "X-Contact-Id");
  const auto initial_header = sip::ExtensionHeader(sip, "X-Initial-Contact-Id");
  (void)sip::WarningValue(request.call_id);
  if (request.body.empty()) return 0;
  CALLREC_FUZZ_CHECK(request.body.size() <= size);
  fuzz::PlanSession(
      request.content_type, request.body,
      request.source_address.empty() ? "192.0.2.9" : request.source_address,
      contact_header ? std::optional<std::string_view>(*contact_header) : std::nullopt,
      initial_header ? std::optional<std::string_view>(*initial_header) : std::nullopt,
      request.call_id);
  return 0;
}
