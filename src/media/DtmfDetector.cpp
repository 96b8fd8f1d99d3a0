#include "media/DtmfDetector.hpp"

#include <cmath>
#include <complex>
#include <numbers>

namespace callrec::media {
namespace {

constexpr double kRate = 8000.0;
constexpr std::array<double, 8> kFrequencies = {697, 770, 852, 941, 1209, 1336, 1477, 1633};

// Goertzel's 2 cos(2 pi f / rate) for each frequency, computed once.
const std::array<float, 8>& Coefficients() {
  static const std::array<float, 8> coefficients = [] {
    std::array<float, 8> out{};
    for (std::size_t k = 0; k < out.size(); ++k) {
      out[k] = static_cast<float>(2.0 * std::cos(2.0 * std::numbers::pi * kFrequencies[k] / kRate));
    }
    return out;
  }();
  return coefficients;
}

// The strongest of a group, and whether it stands 6 dB above the others.
int Strongest(const float* amplitudes, bool& clear) {
  int best = 0;
  for (int i = 1; i < 4; ++i) {
    if (amplitudes[i] > amplitudes[best]) best = i;
  }
  clear = true;
  for (int i = 0; i < 4; ++i) {
    if (i != best && amplitudes[i] * 2.0f > amplitudes[best]) clear = false;
  }
  return best;
}

}  // namespace

int DtmfDetector::DigitIn(std::span<const std::int16_t> block) {
  // The block's energy first: two tones at the minimum level need this much,
  // so silence and quiet noise cost one pass of multiply-adds.
  float energy = 0;
  for (std::int16_t sample : block) energy += static_cast<float>(sample) * sample;
  const auto n = static_cast<float>(block.size());
  const float least = static_cast<float>(kMinAmplitude * kMinAmplitude) * n;
  if (energy < least) return -1;
  // The 8 Goertzel filters over kSegments stretches of the block at once: one
  // filter's recurrence is a chain of dependent multiply-adds, so independent
  // chains side by side keep the vector units busy. A stretch's result is
  // Y = s[L-1] - e^{-jw} s[L-2] (the DFT term with its phase at the stretch's
  // end); the block's is the stretches' summed, each turned by e^{jw L} for
  // every stretch after it.
  constexpr std::size_t kSegments = 4;
  if (block.size() != kBlock) return -1;
  const std::size_t length = kBlock / kSegments;
  // Four lanes of four floats (GCC/Clang vector extension): the rows' filters
  // in one, the columns' in the other.
  using Lanes = float __attribute__((vector_size(16)));
  const std::array<float, 8>& coeff = Coefficients();
  const Lanes c_low = {coeff[0], coeff[1], coeff[2], coeff[3]};
  const Lanes c_high = {coeff[4], coeff[5], coeff[6], coeff[7]};
  Lanes low1[kSegments] = {}, low2[kSegments] = {}, high1[kSegments] = {}, high2[kSegments] = {};
  for (std::size_t i = 0; i < length; ++i) {
    for (std::size_t g = 0; g < kSegments; ++g) {
      const auto x = static_cast<float>(block[g * length + i]);
      const Lanes low0 = x + c_low * low1[g] - low2[g];
      low2[g] = low1[g];
      low1[g] = low0;
      const Lanes high0 = x + c_high * high1[g] - high2[g];
      high2[g] = high1[g];
      high1[g] = high0;
    }
  }
  float s1[kSegments][8], s2[kSegments][8];
  for (std::size_t g = 0; g < kSegments; ++g) {
    for (std::size_t k = 0; k < 4; ++k) {
      s1[g][k] = low1[g][k];
      s2[g][k] = low2[g][k];
      s1[g][k + 4] = high1[g][k];
      s2[g][k + 4] = high2[g][k];
    }
  }
  // e^{-jw} and e^{jw L} for each frequency, for this stretch length.
  static const auto rotations = [] {
    std::array<std::pair<std::complex<float>, std::complex<float>>, 8> out;
    for (std::size_t k = 0; k < 8; ++k) {
      const double w = 2.0 * std::numbers::pi * kFrequencies[k] / kRate;
      out[k] = {std::polar(1.0f, static_cast<float>(-w)),
                std::polar(1.0f, static_cast<float>(w * static_cast<double>(length)))};
    }
    return out;
  }();
  std::array<float, 8> amplitude{};
  for (std::size_t k = 0; k < 8; ++k) {
    const auto [back, turn] = rotations[k];
    std::complex<float> y = 0;
    for (std::size_t g = 0; g < kSegments; ++g) y = y * turn + (s1[g][k] - back * s2[g][k]);
    amplitude[k] = 2.0f * std::abs(y) / n;
  }
  bool row_clear = false, column_clear = false;
  const int row = Strongest(amplitude.data(), row_clear);
  const int column = Strongest(amplitude.data() + 4, column_clear);
  const float r = amplitude[static_cast<std::size_t>(row)];
  const float c = amplitude[4 + static_cast<std::size_t>(column)];
  if (!row_clear || !column_clear || r < kMinAmplitude || c < kMinAmplitude) return -1;
  // Twist: the row tone at most 8 dB louder, the column at most 4 dB louder.
  if (r > c * 2.512f || c > r * 1.585f) return -1;
  const float tones = (r * r + c * c) / 2.0f * n;
  if (tones < static_cast<float>(kMinToneShare) * energy) return -1;
  return row * 4 + column;
}

std::vector<DtmfDetector::Span> DtmfDetector::Feed(std::span<const std::int16_t> samples,
                                                   std::int64_t position) {
  std::vector<Span> out;
  if (position != next_) {
    // Loss or reordering: the partial block is dropped, the state kept.
    filled_ = 0;
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (filled_ == 0) block_start_ = position + static_cast<std::int64_t>(i);
    block_[static_cast<std::size_t>(filled_++)] = samples[i];
    if (filled_ == kBlock) {
      Block(out);
      filled_ = 0;
    }
  }
  next_ = position + static_cast<std::int64_t>(samples.size());
  return out;
}

void DtmfDetector::Block(std::vector<Span>& out) {
  const int digit = DigitIn(block_);
  const std::int64_t end = block_start_ + kBlock;
  if (digit >= 0 && digit == candidate_) {
    count_ += 1;
  } else {
    candidate_ = digit;
    count_ = digit >= 0 ? 1 : 0;
    candidate_start_ = block_start_;
  }
  if (active_ >= 0) {
    // This block still holds the digit, or its last samples: masked too.
    out.push_back(Span{block_start_, end});
    if (digit != active_) active_ = -1;
    return;
  }
  if (candidate_ >= 0 && count_ >= 2) {
    active_ = candidate_;
    digits_ += 1;
    // From the block before the first whole one: the tone may have begun in it.
    out.push_back(Span{candidate_start_ - kBlock, end});
  }
}

}  // namespace callrec::media
