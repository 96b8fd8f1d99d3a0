#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/Contact.hpp"

namespace callrec::control {

// The clock of each live contact as an agent or a supervisor lives it: when it
// entered its state, how long it has been RECORDING, and which pauses have
// outlasted --max-pause (PRODUCT.md 3). Fed with every durable change
// (ContactService's observer); the times are the contacts' own (updated_ms,
// set when the change was decided), so no clock is read here. Observations may
// arrive out of order: an older version than one seen is ignored. Memory
// follows the live contacts (an ENDED one is forgotten). Thread-safe.
class ContactTimes {
 public:
  struct Times {
    std::int64_t state_since_ms = 0;
    // Time spent RECORDING before state_since_ms (add now - state_since_ms
    // while RECORDING).
    std::int64_t recorded_ms = 0;
    // PAUSED longer than the limit, and reported by TakeOverdue.
    bool overdue = false;
  };
  struct Overdue {
    std::string contact_id;
    std::int64_t paused_since_ms = 0;
  };

  void Observe(const core::Contact& contact);
  // A contact never observed (one kept from before a restart: it never
  // recorded since) is taken as in its state since its last update.
  Times Of(const core::Contact& contact) const;
  // Pauses that began `max_pause_ms` or more before `now_ms` and were not
  // reported yet; each pause is reported once (a new pause is reported anew).
  std::vector<Overdue> TakeOverdue(std::int64_t now_ms, std::int64_t max_pause_ms);
  std::size_t size() const;

 private:
  struct Entry {
    std::int64_t version = -1;
    core::RecordingState state = core::RecordingState::kNotStarted;
    Times times;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace callrec::control
