#include "control/AfterRestart.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace callrec::control {
namespace {

using core::RecordingState;

bool CreatedBy(const ContactService& contacts, const std::string& contact_id,
               const std::set<std::string, std::less<>>& principals) {
  if (principals.empty()) return false;
  // At start-up: a store that cannot be read stops the server from starting.
  auto read = contacts.AuditTrail(contact_id);
  if (!read) throw std::runtime_error(read.error().message);
  const std::vector<core::AuditEntry>& trail = read.value();
  return !trail.empty() && trail.front().operation == "CREATE" &&
         principals.count(trail.front().principal) > 0;
}

}  // namespace

RestartOutcome SettleAfterRestart(ContactService& contacts, const std::function<void()>& wait_one,
                                  const std::set<std::string, std::less<>>& dialog_principals) {
  struct Shared {
    std::mutex mutex;
    RestartOutcome outcome;
    std::atomic<std::size_t> pending{0};
  };
  auto shared = std::make_shared<Shared>();
  std::vector<std::string> to_end;
  ContactFilter live;
  live.live_only = true;  // from memory: cannot fail
  auto listed = contacts.List(live);
  if (!listed) throw std::runtime_error(listed.error().message);
  for (const core::Contact& contact : listed->contacts) {
    const RecordingState state = contact.state();
    const bool recording_begun =
        state == RecordingState::kRecording || state == RecordingState::kPaused;
    if (recording_begun || CreatedBy(contacts, contact.contact_id, dialog_principals)) {
      to_end.push_back(contact.contact_id);
    } else if (state != RecordingState::kStopped) {
      shared->outcome.awaiting_media.push_back(contact);
    }
  }
  shared->pending = to_end.size();
  for (const std::string& id : to_end) {
    contacts.End(
        id, kRestartPrincipal,
        [shared, id](core::Result<core::Contact, ControlError> result) {
          {
            std::lock_guard lock(shared->mutex);
            (result ? shared->outcome.ended : shared->outcome.failed).push_back(id);
          }
          shared->pending -= 1;
        },
        kRestartReason);
  }
  while (shared->pending > 0) wait_one();
  std::lock_guard lock(shared->mutex);
  return std::move(shared->outcome);
}

}  // namespace callrec::control
