#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "control/ContactService.hpp"
#include "core/Contact.hpp"

namespace callrec::control {

// --dtmf-policy pause, the control side. The media side pauses a recording by
// itself at a DTMF digit's first sample (media::RecordingSession); this makes
// that pause the contact's: a PAUSE by principal policy:dtmf, audited and
// shown like an agent's. Once no digit has been heard for `resume_after`, the
// policy resumes the pause it made (RESUME by policy:dtmf) — never a pause it
// did not make: an operation by anyone else on the contact (an agent's PAUSE
// during the policy's pause, a RESUME, a STOP) ends the policy's claim, and a
// digit heard on a contact someone else paused changes nothing.
//
// Runs on `executor` (the server's control threads): OnDigit may be called
// from the media thread and returns at once.
class DtmfPauses {
 public:
  static constexpr std::string_view kPrincipal = "policy:dtmf";
  using Clock = std::function<std::int64_t()>;  // milliseconds, monotonic

  DtmfPauses(ContactService& contacts, const boost::asio::any_io_executor& executor,
             std::chrono::milliseconds resume_after, Clock clock);
  ~DtmfPauses();
  DtmfPauses(const DtmfPauses&) = delete;
  DtmfPauses& operator=(const DtmfPauses&) = delete;

  // A digit was heard on the contact's audio.
  void OnDigit(const std::string& contact_id);
  // Every durable change of a contact (a ContactService observer).
  void Observe(const core::Contact& contact, const std::optional<core::AuditEntry>& audit);
  // Starts the check that resumes quiet pauses (every 200 ms) / stops it.
  void Start();
  void Stop();

  // Pauses the policy holds (made, or being made) now; pauses it resumed.
  std::size_t holding() const;
  std::uint64_t resumed() const;

 private:
  struct Claim {
    std::int64_t last_digit_ms = 0;
    bool paused = false;    // the PAUSE by policy:dtmf is durable
    bool resuming = false;  // its RESUME is on the way
  };
  void Digit(const std::string& contact_id);
  void ResumeQuiet();
  void Schedule();
  void Ask(const core::Contact& contact, core::Operation operation, const std::string& reason);

  ContactService& contacts_;
  boost::asio::any_io_executor executor_;
  const std::chrono::milliseconds resume_after_;
  Clock clock_;
  boost::asio::steady_timer timer_;
  mutable std::mutex mutex_;
  std::map<std::string, Claim, std::less<>> claims_;
  std::uint64_t resumed_ = 0;
  bool stopped_ = false;
};

}  // namespace callrec::control
