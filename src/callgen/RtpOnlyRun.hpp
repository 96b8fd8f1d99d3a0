#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "callgen/AudioClip.hpp"
#include "callgen/CallReport.hpp"
#include "callgen/CallgenConfig.hpp"
#include "callgen/RtpOnlyCalls.hpp"
#include "callgen/RtpSender.hpp"
#include "core/Result.hpp"

namespace callrec::callgen {

// --rtp-only: the calls' streams with no SIP. Call i starts at i / --rate
// seconds (CallStartOffset); its customer and agent streams, each from its
// own socket on --local-ip, send --duration seconds of 20 ms packets and end.
// Every socket is opened before the first call starts. A session fails when
// a stream did not send every packet or had a send error. The reason when
// the run could not start (a socket refused).
core::Result<CallgenReport, std::string> RunRtpOnly(const CallgenConfig& config,
                                                    const std::vector<RtpOnlyCall>& calls,
                                                    std::shared_ptr<const AudioClip> customer,
                                                    std::shared_ptr<const AudioClip> agent,
                                                    RtpSender& sender);

}  // namespace callrec::callgen
