#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace callrec::aws {

// Remembers every SigV4 signature accepted until it expires (its X-Amz-Date plus
// the allowed skew), so a request captured on the path cannot be sent again:
// e.g. a RESUME replayed while the agent has paused. Thread-safe and cheap: 64
// shards, each with its own lock; a signature is kept as 64 of its bits (a
// false match needs ~2^64 signatures, and nobody can choose an HMAC without the
// secret). Memory is bounded: at most `capacity` signatures (16 to 32 bytes each);
// when full, new signatures are refused (kFull), never forgotten early.
class ReplayGuard {
 public:
  enum class Verdict {
    kFresh,     // first use: recorded
    kReplayed,  // already accepted before, and not yet expired
    kExpired,   // expires_at has passed (its slot may already be forgotten)
    kFull,      // not recorded: the guard holds `capacity` live signatures
  };

  explicit ReplayGuard(std::size_t capacity);
  ReplayGuard(const ReplayGuard&) = delete;
  ReplayGuard& operator=(const ReplayGuard&) = delete;

  // `signature`: the request's (already verified) hex signature; two requests
  // with the same signature have the same X-Amz-Date, hence the same
  // `expires_at`, which is how a signature is found again.
  Verdict Consume(std::string_view signature, std::chrono::system_clock::time_point expires_at,
                  std::chrono::system_clock::time_point now);

  // Signatures held now (expired ones are forgotten as time passes).
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  // Open addressing on 64-bit keys; never deletes (whole sets are dropped).
  class KeySet {
   public:
    bool Insert(std::uint64_t key);  // false if present
    bool Contains(std::uint64_t key) const;
    std::size_t size() const { return size_; }

   private:
    std::size_t SlotOf(std::uint64_t key) const;  // its slot, or the empty one it would take
    std::vector<std::uint64_t> slots_;
    std::size_t size_ = 0;
  };

  struct alignas(64) Shard {
    mutable std::mutex mutex;
    // Keyed by expiry time slice (kSliceSeconds); slices before `forgotten_below`
    // have all expired and are dropped.
    std::map<std::int64_t, KeySet> slices;
    std::int64_t forgotten_below = std::numeric_limits<std::int64_t>::min();
    std::size_t size = 0;
  };

  static constexpr std::size_t kShards = 64;
  static constexpr std::int64_t kSliceSeconds = 10;

  std::size_t capacity_;
  std::size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace callrec::aws
