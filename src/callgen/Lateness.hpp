#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace callrec::callgen {

// How late packets left compared with their schedule: a histogram of 50 µs
// buckets up to 100 ms (later ones share the last bucket) and the exact maximum.
class Lateness {
 public:
  void Record(std::chrono::nanoseconds late);
  void Merge(const Lateness& other);

  std::uint64_t count() const { return count_; }
  double max_ms() const { return static_cast<double>(max_.count()) / 1e6; }
  // The smallest bucket bound below which `fraction` of the packets left (ms);
  // the maximum when that lies in the last bucket.
  double QuantileMs(double fraction) const;

 private:
  static constexpr std::int64_t kBucketNs = 50'000;
  static constexpr std::size_t kBuckets = 2000;
  std::array<std::uint32_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::chrono::nanoseconds max_{0};
};

}  // namespace callrec::callgen
