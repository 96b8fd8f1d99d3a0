#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "api/AgentDirectory.hpp"
#include "api/ContactEvents.hpp"
#include "api/Http.hpp"
#include "control/ContactService.hpp"
#include "control/ContactTimes.hpp"
#include "media/Recorder.hpp"
#include "metrics/Registry.hpp"
#include "store/ContactStore.hpp"

namespace callrec::api {

// callrec's own API (PRODUCT.md 4.2): contacts without SIP, their state and audit
// trail, plus /healthz and /metrics. /v1 needs the admin bearer token.
// The workspace's part of /v1 (agents, events, guide, recordings), reached
// once V1Api has authenticated the caller.
class WorkspaceRoutes {
 public:
  virtual ~WorkspaceRoutes() = default;
  // False when the path is not one of its own (V1Api answers 404).
  virtual bool Route(const Caller& caller, HttpRequest& request, std::string_view path,
                     std::string_view query, Respond& respond, OpenStream& open_stream) = 0;
};

class V1Api {
 public:
  V1Api(control::ContactService& contacts, const store::ContactStore& store,
        media::Recorder& recorder, const metrics::Registry& metrics, std::string admin_token,
        const AgentDirectory* agents = nullptr);
  // Its own families (storage failing, the data directory's space, contacts)
  // into the registry that /metrics renders.
  void RegisterMetrics(metrics::Registry& registry) const;

  static bool Serves(std::string_view path);
  void Handle(HttpRequest&& request, Respond respond, OpenStream open_stream = {});
  // Set once, before requests arrive.
  void SetWorkspace(WorkspaceRoutes* workspace) { workspace_ = workspace; }
  // POST /v1/contacts/{id}/events (bearer or SigV4). Set once, before requests.
  void SetContactEvents(const ContactEvents* events) { events_ = events; }
  // The data directory whose file system /healthz watches: with less than
  // kLowSpaceBytes available it says degraded (writes that need space fail),
  // and ok again once space is freed. Set once, before requests arrive.
  void WatchDisk(std::filesystem::path data_dir) { data_dir_ = std::move(data_dir); }
  // Contacts are shown with their Timing from here. Set once, before requests arrive.
  void SetTimes(const control::ContactTimes* times) { times_ = times; }
  static constexpr std::uint64_t kLowSpaceBytes = 1 << 20;
  // Another part of the server's health in /healthz (e.g. "Uploads"): its
  // object, and whether it makes the server degraded. Set once, before
  // requests arrive.
  using HealthSource = std::function<std::pair<bool, boost::json::object>()>;
  void AddHealthSource(std::string name, HealthSource source) {
    health_sources_.emplace_back(std::move(name), std::move(source));
  }
  // What /healthz answers: healthy or not, why not (a short reason, empty when
  // healthy), and the body. The SIP side answers OPTIONS from it. Safe on any
  // thread.
  struct HealthReport {
    bool healthy = true;
    std::string reason;
    boost::json::object body;
  };
  HealthReport CheckHealth() const;
  // SIGTERM: /healthz says "draining" (503) from now on, so that a load
  // balancer sends new requests elsewhere; requests still sent are served.
  void BeginDrain() { draining_ = true; }
  // A contact with its audit trail, RTP addresses and live recording counters;
  // kInternal when the state store could not be read.
  core::Result<boost::json::object, control::ControlError> Describe(
      const core::Contact& contact) const;

 private:
  // Describe(contact) with `status`, or its error.
  HttpResponse Described(const core::Contact& contact, http::status status) const;
  void CreateContact(const HttpRequest& request, Respond respond);
  void ListContacts(const Caller& caller, std::string_view query, Respond respond);
  void GetContact(const Caller& caller, const std::string& contact_id, Respond respond);
  void Health(Respond respond);
  void RenderMetrics(Respond respond);

  control::ContactService& contacts_;
  const store::ContactStore& store_;
  media::Recorder& recorder_;
  const metrics::Registry& metrics_;
  const std::string admin_token_;
  const AgentDirectory* agents_;
  WorkspaceRoutes* workspace_ = nullptr;
  const ContactEvents* events_ = nullptr;
  std::filesystem::path data_dir_;
  const control::ContactTimes* times_ = nullptr;
  std::vector<std::pair<std::string, HealthSource>> health_sources_;
  std::atomic<bool> draining_{false};
};

}  // namespace callrec::api
