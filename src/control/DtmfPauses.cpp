#include "control/DtmfPauses.hpp"

#include <boost/asio/post.hpp>
#include <vector>

#include "log/Log.hpp"

namespace callrec::control {

using core::Operation;
using core::RecordingState;

DtmfPauses::DtmfPauses(ContactService& contacts, const boost::asio::any_io_executor& executor,
                       std::chrono::milliseconds resume_after, Clock clock)
    : contacts_(contacts),
      executor_(executor),
      resume_after_(resume_after),
      clock_(std::move(clock)),
      timer_(executor) {}

DtmfPauses::~DtmfPauses() {
  Stop();
}

void DtmfPauses::OnDigit(const std::string& contact_id) {
  boost::asio::post(executor_, [this, contact_id] { Digit(contact_id); });
}

void DtmfPauses::Digit(const std::string& contact_id) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    auto it = claims_.find(contact_id);
    if (it != claims_.end()) {
      // More digits: the policy's pause lasts.
      it->second.last_digit_ms = clock_();
      return;
    }
  }
  auto found = contacts_.Find(contact_id);
  if (!found || !found.value()) return;
  const core::Contact& contact = *found.value();
  // The recording paused itself at the digit; only a recording contact's
  // pause becomes the policy's. A pause someone else made stays theirs.
  if (contact.state() != RecordingState::kRecording) return;
  {
    std::lock_guard lock(mutex_);
    if (!claims_.emplace(contact_id, Claim{clock_(), false, false}).second) return;
  }
  Ask(contact, Operation::kPause, "reason=dtmf");
}

void DtmfPauses::Ask(const core::Contact& contact, Operation operation, const std::string& reason) {
  OperationRequest request;
  request.instance_id = contact.instance_id;
  request.contact_id = contact.contact_id;
  request.initial_contact_id = contact.initial_contact_id;
  request.operation = operation;
  request.principal = std::string(kPrincipal);
  request.reason = reason;
  contacts_.Apply(request, [this, id = contact.contact_id,
                            operation](const std::optional<ControlError>& error) {
    if (!error) return;
    // Not applied (a store failure restores the contact, and the media side
    // follows it): the policy lets go; the next digit tries again.
    log::Warn("dtmf_policy.refused", {{"contact", id},
                                      {"operation", std::string(core::ToString(operation))},
                                      {"error", error->message}});
    std::lock_guard lock(mutex_);
    claims_.erase(id);
  });
}

void DtmfPauses::Observe(const core::Contact& contact,
                         const std::optional<core::AuditEntry>& audit) {
  std::lock_guard lock(mutex_);
  auto it = claims_.find(contact.contact_id);
  if (it == claims_.end()) return;
  const RecordingState state = contact.state();
  if (state == RecordingState::kStopped || state == RecordingState::kEnded) {
    claims_.erase(it);
    return;
  }
  if (!audit) return;
  const std::string& op = audit->operation;
  const bool recording_op = op == "PAUSE" || op == "RESUME" || op == "START" || op == "STOP";
  if (!recording_op) return;
  if (audit->principal != kPrincipal) {
    // Someone else acted on the recording: the pause (if any) is theirs now.
    if (audit->result == "OK" || audit->result == "UNCHANGED") claims_.erase(it);
    return;
  }
  if (op == "PAUSE") {
    if (audit->result == "OK") {
      it->second.paused = true;
    } else {
      claims_.erase(it);  // already paused by someone else, or refused
    }
  } else if (op == "RESUME" && audit->result == "OK") {
    claims_.erase(it);
    resumed_ += 1;
  }
}

void DtmfPauses::Start() {
  std::lock_guard lock(mutex_);
  if (!stopped_) Schedule();
}

void DtmfPauses::Stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  timer_.cancel();
}

void DtmfPauses::Schedule() {
  timer_.expires_after(std::chrono::milliseconds(200));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    ResumeQuiet();
    std::lock_guard lock(mutex_);
    if (!stopped_) Schedule();  // timer_ is only touched under mutex_
  });
}

void DtmfPauses::ResumeQuiet() {
  std::vector<std::string> quiet;
  {
    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_();
    for (auto& [id, claim] : claims_) {
      if (claim.paused && !claim.resuming && now - claim.last_digit_ms >= resume_after_.count()) {
        claim.resuming = true;
        quiet.push_back(id);
      }
    }
  }
  for (const std::string& id : quiet) {
    auto found = contacts_.Find(id);
    if (!found || !found.value() || found.value()->state() != RecordingState::kPaused) {
      std::lock_guard lock(mutex_);
      claims_.erase(id);
      continue;
    }
    Ask(*found.value(), Operation::kResume,
        "reason=dtmf: no digit for " + std::to_string(resume_after_.count() / 1000) + " s");
  }
}

std::size_t DtmfPauses::holding() const {
  std::lock_guard lock(mutex_);
  return claims_.size();
}

std::uint64_t DtmfPauses::resumed() const {
  std::lock_guard lock(mutex_);
  return resumed_;
}

}  // namespace callrec::control
