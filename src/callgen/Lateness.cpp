#include "callgen/Lateness.hpp"

#include <algorithm>
#include <cmath>

namespace callrec::callgen {

void Lateness::Record(std::chrono::nanoseconds late) {
  late = std::max(late, std::chrono::nanoseconds{0});
  const auto bucket = std::min<std::size_t>(kBuckets - 1, late.count() / kBucketNs);
  ++buckets_[bucket];
  ++count_;
  max_ = std::max(max_, late);
}

void Lateness::Merge(const Lateness& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double Lateness::QuantileMs(double fraction) const {
  if (count_ == 0) return 0.0;
  const auto wanted = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= wanted && seen > 0) {
      if (i == kBuckets - 1) return max_ms();
      const double upper = static_cast<double>((i + 1) * kBucketNs) / 1e6;
      return std::min(upper, max_ms());
    }
  }
  return max_ms();
}

}  // namespace callrec::callgen
