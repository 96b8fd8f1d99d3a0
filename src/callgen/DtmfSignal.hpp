#pragma once

#include <cstdint>
#include <span>

#include "callgen/DtmfPlan.hpp"

namespace callrec::callgen {

// The raised-cosine edges of a key press's tones (4 ms): an abrupt onset
// would splatter energy over the whole band, other DTMF frequencies included.
inline constexpr std::int64_t kDtmfRampSamples = 32;

// The tones' weight at sample `k` of a press `samples` long: 0 to 1 over the
// first kDtmfRampSamples, 1, then back to 0 over the last ones.
double DtmfToneWeight(std::int64_t k, std::int64_t samples);

// Writes a key press into G.711 `payload`, whose first byte is timeline
// sample `first`: the samples the press covers become its two tones at
// `amplitude` each; the keypad mutes the microphone, so the customer's audio
// is gone while the tones sound, and fades out under the ramp as they fade in.
void MixKeyPress(const DtmfKeyPress& press, double amplitude, media::Codec codec,
                 std::int64_t first, std::span<std::uint8_t> payload);

// An RFC 4733 section 2.3 telephone-event payload (4 bytes).
void WriteTelephoneEvent(int event, bool end, std::uint8_t volume, std::uint16_t duration,
                         std::span<std::uint8_t, 4> out);

}  // namespace callrec::callgen
