#include "callgen/DtmfSignal.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace callrec::callgen {

double DtmfToneWeight(std::int64_t k, std::int64_t samples) {
  if (k < 0 || k >= samples) return 0.0;
  const std::int64_t edge = std::min(k, samples - 1 - k);
  if (edge >= kDtmfRampSamples) return 1.0;
  const double x = (static_cast<double>(edge) + 0.5) / static_cast<double>(kDtmfRampSamples);
  return 0.5 - 0.5 * std::cos(std::numbers::pi * x);
}

void MixKeyPress(const DtmfKeyPress& press, double amplitude, media::Codec codec,
                 std::int64_t first, std::span<std::uint8_t> payload) {
  const auto size = static_cast<std::int64_t>(payload.size());
  const std::int64_t from = std::max(first, press.start);
  const std::int64_t to = std::min(first + size, press.end());
  const DtmfFrequencies f = FrequenciesOf(press.event);
  const double w_low = 2.0 * std::numbers::pi * f.low / 8000.0;
  const double w_high = 2.0 * std::numbers::pi * f.high / 8000.0;
  const bool mu = codec == media::Codec::kPcmu;
  for (std::int64_t t = from; t < to; ++t) {
    const std::int64_t k = t - press.start;
    const double weight = DtmfToneWeight(k, press.samples);
    std::uint8_t& byte = payload[static_cast<std::size_t>(t - first)];
    const double customer = mu ? media::DecodeMuLaw(byte) : media::DecodeALaw(byte);
    const auto kd = static_cast<double>(k);
    const double tones = amplitude * (std::sin(w_low * kd) + std::sin(w_high * kd));
    const double mixed = std::clamp(weight * tones + (1.0 - weight) * customer, -32768.0, 32767.0);
    const auto linear = static_cast<std::int16_t>(std::lround(mixed));
    byte = mu ? media::EncodeMuLaw(linear) : media::EncodeALaw(linear);
  }
}

void WriteTelephoneEvent(int event, bool end, std::uint8_t volume, std::uint16_t duration,
                         std::span<std::uint8_t, 4> out) {
  out[0] = static_cast<std::uint8_t>(event);
  out[1] = static_cast<std::uint8_t>((end ? 0x80 : 0) | (volume & 0x3F));  // E, R = 0, volume
  out[2] = static_cast<std::uint8_t>(duration >> 8);
  out[3] = static_cast<std::uint8_t>(duration);
}

}  // namespace callrec::callgen
