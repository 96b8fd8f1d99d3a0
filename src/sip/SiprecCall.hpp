#pragma once

#include <sofia-sip/nua.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sip/RsMetadata.hpp"
#include "sip/SdpOffer.hpp"
#include "sip/TrackMapping.hpp"
#include "srtp/SdesCrypto.hpp"

namespace callrec::sip {

// One recording session (one SIP dialog) as SiprecServer follows it.
struct SiprecCall {
  nua_handle_t* handle = nullptr;
  std::string call_id;
  std::string source;  // the client's address (--max-sip-sessions-per-source)
  std::string contact_id;
  std::string initial_contact_id;
  std::string agent_id;
  Offer offer;  // the latest offer answered
  std::optional<RsMetadata> metadata;
  TrackPlan plan;
  int payload_type = 0;  // 0 PCMU, 8 PCMA
  // SRTP: the client's key of each offered stream (nullopt: plain RTP or not
  // recorded), and ours, answered with the same tag and suite.
  std::vector<std::optional<srtp::SdesCrypto>> keys;
  std::vector<std::optional<srtp::SdesCrypto>> answer_keys;
  std::uint16_t customer_port = 0;
  std::uint16_t agent_port = 0;
  std::uint64_t sdp_session_id = 0;
  std::uint64_t sdp_version = 0;
  bool created = false;        // the contact exists
  bool answered = false;       // the INVITE got its 200
  bool ended = false;          // END was asked for
  bool terminated = false;     // the dialog is gone (BYE, CANCEL, timeout)
  bool client_paused = false;  // the client's re-INVITE made every stream inactive
};

}  // namespace callrec::sip
