#pragma once

#include "media/Recorder.hpp"
#include "metrics/Registry.hpp"

namespace callrec::media {

// The recorder's packets refused (not RTP, foreign senders, SRTP), frames
// dropped, write errors and free ports, read at each scrape.
void RegisterRecorderMetrics(metrics::Registry& registry, const Recorder& recorder);

}  // namespace callrec::media
