#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/Http.hpp"
#include "control/ContactTimes.hpp"
#include "core/Contact.hpp"

namespace callrec::api {

// Server push for the workspace: every durable change of a contact goes, as a
// server-sent event, to the streams allowed to see it (the admin's, and the
// contact's agent's). A comment every 15 s keeps idle streams (and proxies)
// awake. Thread-safe.
class EventHub {
 public:
  explicit EventHub(boost::asio::io_context& io);
  ~EventHub();

  // agent_id empty: the admin, who sees every contact; a supervisor (an
  // agent id and `supervisor`) sees every contact too.
  void Subscribe(std::shared_ptr<StreamSink> sink, std::string agent_id, bool supervisor = false);
  // `times`: where the contact's Timing comes from, if not SetTimes' (another
  // node's contact, whose times this node keeps apart).
  void Publish(const core::Contact& contact, const std::optional<core::AuditEntry>& audit,
               const control::ContactTimes* times = nullptr);
  void Stop();
  std::size_t subscribers() const;
  // Each event's contact carries its Timing from here; set before events flow.
  void SetTimes(const control::ContactTimes* times) { times_ = times; }

 private:
  struct Subscriber {
    std::shared_ptr<StreamSink> sink;
    std::string agent_id;  // empty: every contact
  };
  void Ping();

  boost::asio::steady_timer timer_;
  mutable std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
  bool stopped_ = false;
  const control::ContactTimes* times_ = nullptr;
};

// One server-sent event: "event: NAME\ndata: JSON\n\n".
std::string ServerSentEvent(std::string_view name, std::string_view data);

}  // namespace callrec::api
