#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "callgen/AudioClip.hpp"
#include "callgen/CallReport.hpp"
#include "callgen/CallgenConfig.hpp"
#include "callgen/RtpSender.hpp"
#include "core/Result.hpp"

namespace callrec::callgen {

// The SIP side of the recording client, on sofia-sip's nua (which does no SDP
// of its own here: the offers are ours, the answers parsed by ParseAnswerSdp).
// Places every call of the config at its rate, runs each call's plan
// (late agent, client pause, transfer, BYE) and drives the RtpSender from the
// answers. Runs on the calling thread; the media run on the sender's thread.
class SiprecClient {
 public:
  // `log` receives one line per SIP event when config.verbose is set.
  SiprecClient(const CallgenConfig& config, std::shared_ptr<const AudioClip> customer,
               std::shared_ptr<const AudioClip> agent, RtpSender& sender, std::ostream& log);
  ~SiprecClient();
  SiprecClient(const SiprecClient&) = delete;
  SiprecClient& operator=(const SiprecClient&) = delete;

  // Runs until every call has ended, then stops the sender and reports.
  // The error is a start-up failure (the SIP stack could not bind).
  core::Result<CallgenReport, std::string> Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callrec::callgen
