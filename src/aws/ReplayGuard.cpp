#include "aws/ReplayGuard.hpp"

namespace callrec::aws {
namespace {

// Seconds since the epoch, rounded down (also before 1970).
std::int64_t FloorSeconds(std::chrono::system_clock::time_point time) {
  return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

// The first 16 hex digits of the signature; anything else (never the case for
// a verified signature) is hashed in so that it still maps to a stable key.
std::uint64_t KeyOf(std::string_view signature) {
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < signature.size(); ++i) {
    const char c = signature[i];
    std::uint64_t nibble;
    if (c >= '0' && c <= '9') {
      nibble = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      nibble = static_cast<std::uint64_t>(c - 'a') + 10;
    } else {
      nibble = static_cast<std::uint8_t>(c);
    }
    key = i < 16 ? (key << 4) | nibble : (key ^ nibble) * 0x100000001b3ULL;
  }
  return key == 0 ? 1 : key;  // 0 marks an empty slot
}

}  // namespace

std::size_t ReplayGuard::KeySet::SlotOf(std::uint64_t key) const {
  const std::size_t mask = slots_.size() - 1;
  // The key is an HMAC's bits: already uniform, but mixed so the slot does not
  // reuse the bits that chose the shard.
  std::size_t i = static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> 20) & mask;
  while (slots_[i] != 0 && slots_[i] != key) i = (i + 1) & mask;
  return i;
}

bool ReplayGuard::KeySet::Contains(std::uint64_t key) const {
  return !slots_.empty() && slots_[SlotOf(key)] == key;
}

bool ReplayGuard::KeySet::Insert(std::uint64_t key) {
  if ((size_ + 1) * 2 > slots_.size()) {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
    size_ = 0;
    for (std::uint64_t k : old) {
      if (k != 0) Insert(k);
    }
  }
  std::uint64_t& slot = slots_[SlotOf(key)];
  if (slot == key) return false;
  slot = key;
  ++size_;
  return true;
}

ReplayGuard::ReplayGuard(std::size_t capacity)
    : capacity_(capacity), shard_capacity_((capacity + kShards - 1) / kShards) {}

ReplayGuard::Verdict ReplayGuard::Consume(std::string_view signature,
                                          std::chrono::system_clock::time_point expires_at,
                                          std::chrono::system_clock::time_point now) {
  const std::uint64_t key = KeyOf(signature);
  const std::int64_t slice = FloorDiv(FloorSeconds(expires_at), kSliceSeconds);
  // A slice is dropped once every expiry in it has passed.
  const std::int64_t expired_below = FloorDiv(FloorSeconds(now), kSliceSeconds);
  if (expires_at < now) return Verdict::kExpired;

  Shard& shard = shards_[key % kShards];
  std::lock_guard lock(shard.mutex);
  if (expired_below > shard.forgotten_below) {
    shard.forgotten_below = expired_below;
    while (!shard.slices.empty() && shard.slices.begin()->first < expired_below) {
      shard.size -= shard.slices.begin()->second.size();
      shard.slices.erase(shard.slices.begin());
    }
  }
  // Another thread with a later clock may have dropped the slice already.
  if (slice < shard.forgotten_below) return Verdict::kExpired;
  auto found = shard.slices.find(slice);
  if (shard.size >= shard_capacity_) {
    // Full: a replay is still recognised; a new signature is refused, not stored.
    if (found != shard.slices.end() && found->second.Contains(key)) return Verdict::kReplayed;
    return Verdict::kFull;
  }
  if (found == shard.slices.end()) found = shard.slices.emplace(slice, KeySet{}).first;
  if (!found->second.Insert(key)) return Verdict::kReplayed;
  ++shard.size;
  return Verdict::kFresh;
}

std::size_t ReplayGuard::size() const {
  std::size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.size;
  }
  return total;
}

}  // namespace callrec::aws
