#include "api/EventHub.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <optional>

#include "api/ContactJson.hpp"
#include "media/RecordingMetadata.hpp"

namespace callrec::api {

std::string ServerSentEvent(std::string_view name, std::string_view data) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += data;  // JSON: one line, no raw newlines
  out += "\n\n";
  return out;
}

EventHub::EventHub(boost::asio::io_context& io) : timer_(io) {
  Ping();
}

EventHub::~EventHub() {
  Stop();
}

void EventHub::Subscribe(std::shared_ptr<StreamSink> sink, std::string agent_id, bool supervisor) {
  boost::json::object hello;
  if (agent_id.empty()) {
    hello["Admin"] = true;
  } else {
    hello["AgentId"] = agent_id;
    if (supervisor) hello["Supervisor"] = true;
  }
  sink->Send("retry: 1000\n" + ServerSentEvent("hello", boost::json::serialize(hello)));
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  subscribers_.push_back({std::move(sink), supervisor ? std::string() : std::move(agent_id)});
}

void EventHub::Publish(const core::Contact& contact, const std::optional<core::AuditEntry>& audit,
                       const control::ContactTimes* times) {
  std::lock_guard lock(mutex_);
  // Built only when someone is listening for this contact: every operation
  // passes here, and most have nobody watching.
  std::optional<std::string> event;
  std::erase_if(subscribers_, [&](const Subscriber& s) {
    if (!s.agent_id.empty() && s.agent_id != contact.agent_id) return !s.sink->open();
    if (!event) {
      boost::json::object data = ContactToJson(contact, times ? times : times_);
      if (audit) {
        data["Audit"] = media::AuditTrailJson({*audit}).at(0);
      } else {
        data["Audit"] = nullptr;
      }
      event = ServerSentEvent("contact", boost::json::serialize(data));
    }
    return !s.sink->Send(*event);
  });
}

void EventHub::Ping() {
  timer_.expires_after(std::chrono::seconds(15));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      std::erase_if(subscribers_, [](const Subscriber& s) { return !s.sink->Send(": ping\n\n"); });
    }
    Ping();
  });
}

void EventHub::Stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  subscribers_.clear();
  timer_.cancel();
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

}  // namespace callrec::api
