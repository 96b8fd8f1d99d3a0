#include "media/DtmfDetector.hpp"

#include <cmath>
#include <numbers>

namespace callrec::media {
namespace {

constexpr double kRate = 8000.0;
constexpr std::array<double, 4> kRows = {697, 770, 852, 941};
constexpr std::array<double, 4> kColumns = {1209, 1336, 1477, 1633};

// The amplitude of the `frequency` component of the block (Goertzel).
double Amplitude(std::span<const std::int16_t> block, double frequency) {
  const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * frequency / kRate);
  double s1 = 0, s2 = 0;
  for (std::int16_t sample : block) {
    const double s0 = sample + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 2.0 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(block.size());
}

// The strongest of a group, and whether it stands 6 dB above the others.
int Strongest(const std::array<double, 4>& amplitudes, bool& clear) {
  int best = 0;
  for (int i = 1; i < 4; ++i) {
    if (amplitudes[i] > amplitudes[best]) best = i;
  }
  clear = true;
  for (int i = 0; i < 4; ++i) {
    if (i != best && amplitudes[i] * 2.0 > amplitudes[best]) clear = false;
  }
  return best;
}

}  // namespace

int DtmfDetector::DigitIn(std::span<const std::int16_t> block) {
  std::array<double, 4> rows{}, columns{};
  for (int i = 0; i < 4; ++i) {
    rows[i] = Amplitude(block, kRows[i]);
    columns[i] = Amplitude(block, kColumns[i]);
  }
  bool row_clear = false, column_clear = false;
  const int row = Strongest(rows, row_clear);
  const int column = Strongest(columns, column_clear);
  const double r = rows[row], c = columns[column];
  if (!row_clear || !column_clear || r < kMinAmplitude || c < kMinAmplitude) return -1;
  // Twist: the row tone at most 8 dB louder, the column at most 4 dB louder.
  if (r > c * 2.512 || c > r * 1.585) return -1;
  double energy = 0;
  for (std::int16_t sample : block) energy += static_cast<double>(sample) * sample;
  const double tones = (r * r + c * c) / 2.0 * static_cast<double>(block.size());
  if (energy <= 0 || tones < kMinToneShare * energy) return -1;
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
