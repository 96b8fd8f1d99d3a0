#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/Http.hpp"
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

  // agent_id empty: the admin, who sees every contact.
  void Subscribe(std::shared_ptr<StreamSink> sink, std::string agent_id);
  void Publish(const core::Contact& contact, const std::optional<core::AuditEntry>& audit);
  void Stop();
  std::size_t subscribers() const;

 private:
  struct Subscriber {
    std::shared_ptr<StreamSink> sink;
    std::string agent_id;
  };
  void Ping();

  boost::asio::steady_timer timer_;
  mutable std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
  bool stopped_ = false;
};

// One server-sent event: "event: NAME\ndata: JSON\n\n".
std::string ServerSentEvent(std::string_view name, std::string_view data);

}  // namespace callrec::api
