#include "control/ContactTimes.hpp"

#include <algorithm>

namespace callrec::control {

void ContactTimes::Observe(const core::Contact& contact) {
  std::lock_guard lock(mutex_);
  if (contact.state() == core::RecordingState::kEnded) {
    entries_.erase(contact.contact_id);
    return;
  }
  auto [it, added] = entries_.try_emplace(contact.contact_id);
  Entry& entry = it->second;
  if (added) {
    entry.version = contact.version;
    entry.state = contact.state();
    entry.times.state_since_ms = contact.updated_ms;
    return;
  }
  if (contact.version <= entry.version) return;  // a later change was seen first
  entry.version = contact.version;
  if (contact.state() == entry.state) return;  // a change of something else (the agent)
  if (entry.state == core::RecordingState::kRecording) {
    entry.times.recorded_ms +=
        std::max<std::int64_t>(0, contact.updated_ms - entry.times.state_since_ms);
  }
  entry.state = contact.state();
  entry.times.state_since_ms = contact.updated_ms;
  entry.times.overdue = false;
}

ContactTimes::Times ContactTimes::Of(const core::Contact& contact) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(contact.contact_id);
  if (it == entries_.end()) return Times{contact.updated_ms, 0, false};
  return it->second.times;
}

std::vector<ContactTimes::Overdue> ContactTimes::TakeOverdue(std::int64_t now_ms,
                                                             std::int64_t max_pause_ms) {
  std::vector<Overdue> due;
  std::lock_guard lock(mutex_);
  for (auto& [contact_id, entry] : entries_) {
    if (entry.state != core::RecordingState::kPaused || entry.times.overdue) continue;
    if (now_ms - entry.times.state_since_ms < max_pause_ms) continue;
    entry.times.overdue = true;
    due.push_back({contact_id, entry.times.state_since_ms});
  }
  return due;
}

std::size_t ContactTimes::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace callrec::control
