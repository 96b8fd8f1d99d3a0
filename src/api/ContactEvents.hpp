#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/AgentDirectory.hpp"
#include "api/Http.hpp"
#include "aws/SigV4.hpp"
#include "control/ContactService.hpp"
#include "core/Contact.hpp"

namespace callrec::api {

// Event types and what each does to a contact's recording (--event-rule
// TYPE=PAUSE|RESUME): a CRM or a payment page says "payment-form-opened" and
// the recording pauses without the agent.
using EventRules = std::map<std::string, core::Operation, std::less<>>;

// Parses "TYPE=PAUSE" / "TYPE=RESUME" rules; an error names the bad one.
core::Result<EventRules, std::string> ParseEventRules(const std::vector<std::string>& rules);

// POST /v1/contacts/{ContactId}/events {"Type": "payment-form-opened"}: the
// rule for the type is applied to the contact as its caller's own operation
// (audited with "event=TYPE"), answered once durable. Callers: the admin, the
// contact's agent (bearer tokens, as /v1), or a Connect access key (SigV4,
// service "connect", as the Connect API; a replayed signature changes nothing).
class ContactEvents {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  ContactEvents(control::ContactService& contacts, const aws::SigV4Verifier& verifier,
                EventRules rules, WallClock clock);

  // The ContactId of an events path, or nullopt for any other path.
  static std::optional<std::string> ContactOf(std::string_view path);
  // `caller`: who a bearer token named; nullopt when the request must carry
  // a SigV4 signature instead.
  void Handle(const HttpRequest& request, const std::string& contact_id,
              const std::optional<Caller>& caller, Respond respond) const;

  const EventRules& rules() const { return rules_; }

 private:
  control::ContactService& contacts_;
  const aws::SigV4Verifier& verifier_;
  const EventRules rules_;
  WallClock clock_;
};

}  // namespace callrec::api
