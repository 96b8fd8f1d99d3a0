#pragma once

#include "metrics/Registry.hpp"
#include "sip/SiprecServer.hpp"

namespace callrec::sip {

// The SIPREC server's sessions, refusals, re-offers and connection clean-ups,
// read from Stats() at each scrape.
void RegisterSiprecMetrics(metrics::Registry& registry, const SiprecServer& siprec);

}  // namespace callrec::sip
