#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace callrec::media {

// In-band DTMF (ITU-T Q.23 tones in the audio itself) found as the audio
// arrives, so that a keyed card number can be kept out of a recording. Each
// 20 ms block is tested with the Goertzel algorithm at the 8 Q.23 frequencies
// and accepted as a digit by Q.24-style rules: one row and one column tone
// each at least kMinAmplitude (-30 dBm0), twist within 8 dB (row louder) or
// 4 dB (column louder), each 6 dB above the other tones of its group, and the
// two tones carrying at least kMinToneShare of the block's energy; a digit
// needs two such blocks in a row (>= 40 ms). Speech and music rarely hold
// two pure tones of the grid for 40 ms. Pure logic over one leg's 8 kHz
// samples, placed by timeline position; digits are counted, never kept.
class DtmfDetector {
 public:
  static constexpr int kBlock = 160;            // 20 ms at 8 kHz
  static constexpr double kMinAmplitude = 720;  // about -30 dBm0 in 16-bit linear
  static constexpr double kMinToneShare = 0.75;

  // Timeline samples [start, end) whose audio is a digit's tone (or may hold
  // the start or end of one): to be replaced by silence.
  struct Span {
    std::int64_t start = 0;
    std::int64_t end = 0;
  };

  // The next samples of the leg, starting at timeline position `position`;
  // a gap or overlap with what came before starts a new block. Returns the
  // spans to mask that these samples completed (none, usually).
  std::vector<Span> Feed(std::span<const std::int16_t> samples, std::int64_t position);

  std::uint64_t digits() const { return digits_; }
  bool in_digit() const { return active_ >= 0; }

  // The digit (0..15: 1 2 3 A 4 5 6 B 7 8 9 C * 0 # D) in one block, or -1.
  static int DigitIn(std::span<const std::int16_t> block);

 private:
  void Block(std::vector<Span>& out);

  std::array<std::int16_t, kBlock> block_{};
  int filled_ = 0;
  std::int64_t block_start_ = 0;
  std::int64_t next_ = -1;  // the position expected next
  int candidate_ = -1;
  int count_ = 0;
  std::int64_t candidate_start_ = 0;
  int active_ = -1;
  std::uint64_t digits_ = 0;
};

}  // namespace callrec::media
