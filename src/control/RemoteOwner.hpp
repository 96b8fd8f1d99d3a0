#pragma once

#include <functional>
#include <optional>
#include <string>

#include "control/ControlError.hpp"

namespace callrec::control {

struct OperationRequest;

// An END asked of a node that does not hold the contact (/v1's end): applied
// by its owner, which holds the call's media.
struct EndRequest {
  std::string contact_id;
  std::string principal;
  std::string reason;          // added to the audit line's detail
  std::string forwarded_from;  // set at the owner: never forwarded again
};

// What the owner of a contact answered to a forwarded operation: its refusal
// or nothing (applied), or `answered` false when it did not answer at all
// (gone, silent past the timeout, or unreachable): `failure` says why, naming
// the owner.
struct RemoteAnswer {
  bool answered = false;
  std::optional<ControlError> error;
  std::string failure;
};

// Applies an operation at the node that owns a live contact held elsewhere
// (several servers sharing one store: the owner holds the call's media, so
// only it can close the pause gate). ContactService forwards through this and
// gives the caller the owner's answer; how the owner is reached (cluster/:
// signed HTTP) is not control's business. `reply` may run on any thread.
class RemoteOwner {
 public:
  virtual ~RemoteOwner() = default;
  virtual void Forward(const OperationRequest& request,
                       std::function<void(RemoteAnswer)> reply) = 0;
  virtual void ForwardEnd(const EndRequest& request, std::function<void(RemoteAnswer)> reply) = 0;
};

}  // namespace callrec::control
