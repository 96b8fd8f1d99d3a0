#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <string>

#include "api/Http.hpp"
#include "api/Metrics.hpp"
#include "control/ContactService.hpp"
#include "media/Recorder.hpp"
#include "store/ContactStore.hpp"

namespace callrec::api {

// callrec's own API (PRODUCT.md 4.2): contacts without SIP, their state and audit
// trail, plus /healthz and /metrics. /v1 needs the admin bearer token.
class V1Api {
 public:
  V1Api(control::ContactService& contacts, const store::ContactStore& store,
        media::Recorder& recorder, Metrics& metrics, std::string admin_token);

  static bool Serves(std::string_view path);
  void Handle(HttpRequest&& request, Respond respond);

 private:
  void CreateContact(const HttpRequest& request, Respond respond);
  void ListContacts(std::string_view query, Respond respond);
  void GetContact(const std::string& contact_id, Respond respond);
  void Health(Respond respond);
  void RenderMetrics(Respond respond);
  boost::json::object Describe(const core::Contact& contact) const;

  control::ContactService& contacts_;
  const store::ContactStore& store_;
  media::Recorder& recorder_;
  Metrics& metrics_;
  const std::string admin_token_;
};

}  // namespace callrec::api
