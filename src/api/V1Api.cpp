#include "api/V1Api.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "api/ContactJson.hpp"
#include "api/ControlErrors.hpp"
#include "api/V1Requests.hpp"
#include "aws/Crypto.hpp"
#include "aws/UriEncoding.hpp"
#include "log/Log.hpp"
#include "media/RecordingMetadata.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;
constexpr std::string_view kContacts = "/v1/contacts";

std::string NewContactId() {
  std::string hex = aws::RandomToken(32, "0123456789abcdef");
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-4" + hex.substr(13, 3) + "-a" +
         hex.substr(17, 3) + "-" + hex.substr(20, 12);
}

json::object ContactWithTrail(const core::Contact& contact,
                              const std::vector<core::AuditEntry>& trail,
                              const control::ContactTimes* times) {
  json::object out = ContactToJson(contact, times);
  out["AuditTrail"] = media::AuditTrailJson(trail);
  return out;
}

// GET /v1/contacts pages: NextToken is where the last page ended, opaque to
// clients (hex of a tagged ContactId); anything else is refused.
// Bytes available to callrec on the file system holding `dir`; nullopt when
// it cannot be asked.
std::optional<std::uint64_t> AvailableBytes(const std::filesystem::path& dir) {
  struct statvfs fs {};
  if (dir.empty() || ::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

}  // namespace

V1Api::V1Api(control::ContactService& contacts, const store::ContactStore& store,
             media::Recorder& recorder, const metrics::Registry& metrics, std::string admin_token,
             const AgentDirectory* agents)
    : contacts_(contacts),
      store_(store),
      recorder_(recorder),
      metrics_(metrics),
      admin_token_(std::move(admin_token)),
      agents_(agents) {}

core::Result<json::object, control::ControlError> V1Api::Describe(
    const core::Contact& contact) const {
  auto trail = contacts_.AuditTrail(contact.contact_id);
  if (!trail) return trail.error();
  json::object out = ContactWithTrail(contact, trail.value(), times_);
  auto recording = recorder_.View(contact.contact_id);
  if (!recording) {
    return control::ControlError{control::ControlError::Kind::kInternal,
                                 "The state store could not be read: " + recording.error()};
  }
  if (const std::optional<media::RecordingView>& view = recording.value()) {
    if (view->rtp) {
      out["Rtp"] = json::object{{"Customer", view->rtp->customer}, {"Agent", view->rtp->agent}};
    }
    if (view->path) {
      const media::SessionCounters& c = view->counters;
      std::error_code ec;  // absolute() needs the working directory, which can be gone
      const std::filesystem::path absolute = std::filesystem::absolute(*view->path, ec);
      out["Recording"] = json::object{{"Path", (ec ? *view->path : absolute).string()},
                                      {"Running", view->running},
                                      {"Packets", c.packets},
                                      {"Lost", c.lost},
                                      {"Late", c.late},
                                      {"Gated", c.gated},
                                      {"Invalid", c.invalid},
                                      {"Duplicates", c.duplicates},
                                      {"WrittenSeconds", static_cast<double>(c.frames_written) /
                                                             media::RecordingSession::kRate}};
    }
  }
  return out;
}

HttpResponse V1Api::Described(const core::Contact& contact, http::status status) const {
  auto described = Describe(contact);
  if (!described) return ErrorResponse(ToAwsError(described.error()));
  return JsonResponse(status, json::serialize(described.value()));
}

bool V1Api::Serves(std::string_view path) {
  return path == "/healthz" || path == "/metrics" || path == "/v1" || path.substr(0, 4) == "/v1/";
}

void V1Api::Handle(HttpRequest&& request, Respond respond, OpenStream open_stream) {
  const std::string_view target = request.target();
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const bool get = request.method() == http::verb::get;
  const bool post = request.method() == http::verb::post;

  if (path == "/healthz")
    return get ? Health(std::move(respond)) : respond(MethodNotAllowed(request));
  if (path == "/metrics") {
    return get ? RenderMetrics(std::move(respond)) : respond(MethodNotAllowed(request));
  }

  const std::string_view authorization = request[http::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  Caller caller;
  if (authorization.substr(0, kBearer.size()) == kBearer) {
    const std::string_view token = authorization.substr(kBearer.size());
    if (aws::ConstantTimeEqual(token, admin_token_)) {
      caller.admin = true;
    } else if (agents_ != nullptr) {
      if (const auto identity = agents_->Identify(token)) {
        caller.agent_id = identity->agent_id;
        caller.supervisor = identity->role == AgentDirectory::Role::kSupervisor;
      }
    }
  }
  if (events_ != nullptr) {
    if (auto contact_id = ContactEvents::ContactOf(path)) {
      // A CRM or payment page may sign with a Connect access key instead.
      constexpr std::string_view kSigV4 = "AWS4-HMAC-SHA256 ";
      if (caller.admin || !caller.agent_id.empty()) {
        return events_->Handle(request, *contact_id, caller, std::move(respond));
      }
      if (authorization.substr(0, kSigV4.size()) == kSigV4) {
        return events_->Handle(request, *contact_id, std::nullopt, std::move(respond));
      }
    }
  }
  if (!caller.admin && caller.agent_id.empty()) {
    HttpResponse response = Error(401, "UnauthorizedException",
                                  "A valid bearer token is required (Authorization: Bearer "
                                  "<admin or agent token>).");
    response.set(http::field::www_authenticate, "Bearer realm=\"callrec\"");
    return respond(std::move(response));
  }
  auto admin_only = [&]() {
    respond(Error(403, "AccessDeniedException",
                  "Only the admin may " + std::string(request.method_string()) + " " +
                      std::string(path) + "."));
  };

  if (path == kContacts) {
    if (post) return caller.admin ? CreateContact(request, std::move(respond)) : admin_only();
    if (get) return ListContacts(caller, query, std::move(respond));
    return respond(MethodNotAllowed(request));
  }
  if (workspace_ != nullptr &&
      workspace_->Route(caller, request, path, query, respond, open_stream)) {
    return;
  }
  if (path.substr(0, kContacts.size() + 1) == std::string(kContacts) + "/") {
    std::string_view rest = path.substr(kContacts.size() + 1);
    const std::size_t slash = rest.find('/');
    const std::string contact_id = aws::PercentDecode(rest.substr(0, slash));
    const std::string_view action =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (contact_id.empty()) return respond(BadRequest("ContactId is empty."));
    if (action.empty()) {
      return get ? GetContact(caller, contact_id, std::move(respond))
                 : respond(MethodNotAllowed(request));
    }
    if (action == "end" || action == "agent-joined") {
      if (!post) return respond(MethodNotAllowed(request));
      if (!caller.admin) return admin_only();
      auto reply_contact = [this, respond](core::Result<core::Contact, control::ControlError> r) {
        if (!r) return respond(ErrorResponse(ToAwsError(r.error())));
        respond(Described(r.value(), http::status::ok));
      };
      if (action == "end") return contacts_.End(contact_id, "admin", reply_contact);
      return contacts_.AgentJoined(
          contact_id, "admin",
          [this, contact_id, reply_contact](std::optional<control::ControlError> error) {
            if (error) return reply_contact(*error);
            auto found = contacts_.Find(contact_id);
            if (!found) return reply_contact(found.error());
            if (!found.value()) {
              return reply_contact(
                  control::ControlError{control::ControlError::Kind::kNotFound,
                                        "Contact " + contact_id + " was not found."});
            }
            reply_contact(*found.value());
          });
    }
  }
  respond(Error(
      404, "UnknownOperationException",
      "No operation at " + std::string(request.method_string()) + " " + std::string(path) + "."));
}

void V1Api::CreateContact(const HttpRequest& request, Respond respond) {
  auto parsed = ParseNewContact(request.body());
  if (!parsed) return respond(ErrorResponse(parsed.error()));
  control::CreateRequest create = std::move(parsed.value().create);
  const media::CallPolicies policies = parsed.value().policies;
  create.principal = "admin";
  if (create.contact_id.empty()) create.contact_id = NewContactId();
  contacts_.Create(create, [this, respond, policies, id = create.contact_id](
                               core::Result<core::Contact, control::ControlError> r) {
    if (!r && r.error().kind == control::ControlError::Kind::kLimitReached) {
      log::Warn("contact.refused", {{"contact", id}, {"reason", "max_contacts"}});
      HttpResponse response = ErrorResponse(ToAwsError(r.error()));
      response.set(http::field::retry_after, "5");
      return respond(std::move(response));
    }
    if (!r) return respond(ErrorResponse(ToAwsError(r.error())));
    const core::Contact& contact = r.value();
    auto view = recorder_.View(contact.contact_id);
    if (!view) {
      return respond(ErrorResponse(
          aws::AwsError::InternalService("The state store could not be read: " + view.error())));
    }
    if (!view.value() && contact.state() != core::RecordingState::kEnded) {
      auto attached = recorder_.Attach(contact, policies);
      if (!attached) {
        // No media without ports: the contact is ended so nothing waits on it.
        contacts_.End(contact.contact_id, "admin", [](auto) {});
        return respond(Error(503, "ServiceUnavailableException",
                             "Cannot take the call: " + attached.error().message + "."));
      }
    }
    respond(Described(contact, http::status::created));
  });
}

void V1Api::ListContacts(const Caller& caller, std::string_view query, Respond respond) {
  auto parsed = ParseContactListQuery(query);
  if (!parsed) return respond(ErrorResponse(parsed.error()));
  control::ContactFilter filter = std::move(parsed).value();
  if (!caller.admin && !caller.supervisor) {
    // An agent lists their own contacts only, whatever they ask for.
    if (filter.agent_id && *filter.agent_id != caller.agent_id) {
      return respond(JsonResponse(http::status::ok, R"({"Contacts":[]})"));
    }
    filter.agent_id = caller.agent_id;
  }
  auto page = contacts_.List(filter);
  if (!page) return respond(ErrorResponse(ToAwsError(page.error())));
  json::array list;
  for (const core::Contact& contact : page->contacts)
    list.push_back(ContactToJson(contact, times_));
  json::object body{{"Contacts", std::move(list)}};
  if (page->more) body["NextToken"] = PageToken("contacts", page->contacts.back().contact_id);
  respond(JsonResponse(http::status::ok, json::serialize(body)));
}

void V1Api::GetContact(const Caller& caller, const std::string& contact_id, Respond respond) {
  auto found = contacts_.Find(contact_id);
  if (!found) return respond(ErrorResponse(ToAwsError(found.error())));
  const std::optional<core::Contact>& contact = found.value();
  if (!contact) {
    return respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("Contact " + contact_id + " was not found.")));
  }
  if (!caller.Watches(contact->agent_id)) {
    return respond(
        Error(403, "AccessDeniedException", "Contact " + contact_id + " is not one of yours."));
  }
  respond(Described(*contact, http::status::ok));
}

V1Api::HealthReport V1Api::CheckHealth() const {
  const store::StoreStats stats = store_.Stats();
  const std::string storage_error = recorder_.storage_error();
  // Degraded while writes fail now (disk full, read-only); ok again once they
  // succeed. LastError keeps the last failure either way.
  const bool recordings_failing = recorder_.storage_failing();
  // A full disk is degraded before a write meets it, and ok once space is freed.
  const std::optional<std::uint64_t> available = AvailableBytes(data_dir_);
  const bool disk_full = available && *available < kLowSpaceBytes;
  std::vector<std::string> reasons;
  if (stats.failing) reasons.push_back("state store failing: " + stats.last_error);
  if (recordings_failing) reasons.push_back("recording writes failing: " + storage_error);
  if (disk_full) reasons.push_back("data directory's disk full");
  std::vector<std::pair<std::string, json::object>> sources;
  for (const auto& [name, source] : health_sources_) {
    auto [degraded, detail] = source();
    if (degraded) reasons.push_back(name + " degraded");
    sources.emplace_back(name, std::move(detail));
  }
  const bool draining = draining_.load();
  if (draining) reasons.insert(reasons.begin(), "draining (the server is stopping)");
  HealthReport report;
  report.healthy = reasons.empty();
  for (const auto& reason : reasons) {
    report.reason += (report.reason.empty() ? "" : "; ") + reason;
  }
  report.body = json::object{
      {"Status", draining ? "draining" : (report.healthy ? "ok" : "degraded")},
      {"Draining", draining},
      {"Store", json::object{{"Commits", stats.commits},
                             {"Queued", stats.queued},
                             {"Failing", stats.failing},
                             {"WriteFailures", stats.failures},
                             {"ReadFailures", stats.read_failures},
                             {"LastError", stats.last_error}}},
      {"Recordings", json::object{{"Failing", recordings_failing},
                                  {"WriteErrors", recorder_.storage_write_errors()},
                                  {"LastError", storage_error},
                                  {"DroppedFrames", recorder_.storage_dropped_frames()},
                                  {"FreeRtpPorts", recorder_.free_ports()}}}};
  for (auto& [name, detail] : sources) report.body[name] = std::move(detail);
  if (available) {
    report.body["Disk"] = json::object{{"AvailableBytes", *available}, {"Full", disk_full}};
  }
  return report;
}

void V1Api::Health(Respond respond) {
  const HealthReport report = CheckHealth();
  respond(JsonResponse(report.healthy ? http::status::ok : http::status::service_unavailable,
                       json::serialize(report.body)));
}

void V1Api::RegisterMetrics(metrics::Registry& registry) const {
  registry.Add("callrec_storage_failing", "1 while writes fail now (disk full, read-only).",
               metrics::Type::kGauge, [this] {
                 return std::vector<metrics::Sample>{
                     {{{"store", "state"}}, store_.Stats().failing ? 1 : 0, ""},
                     {{{"store", "recordings"}}, recorder_.storage_failing() ? 1 : 0, ""}};
               });
  registry.Add(
      "callrec_data_dir_available_bytes",
      "Bytes available on the data directory's file system (/healthz is degraded under 1 MiB).",
      metrics::Type::kGauge,
      [this] {
        std::vector<metrics::Sample> samples;
        if (const auto available = AvailableBytes(data_dir_)) {
          samples.push_back({{}, *available, ""});
        }
        return samples;
      },
      /*omit_when_empty=*/true);
  registry.AddGauge(
      "callrec_contacts_in_memory",
      "Contacts held in memory: those not ENDED, and ended ones until their end is durable.",
      [this] { return metrics::Number(contacts_.ResidentCount()); });
  registry.Add("callrec_contacts", "Contacts known to this server, by state.",
               metrics::Type::kGauge, [this] {
                 const auto counts = contacts_.CountByState();
                 std::vector<metrics::Sample> samples;
                 for (auto state :
                      {core::RecordingState::kNotStarted, core::RecordingState::kWaitingForAgent,
                       core::RecordingState::kRecording, core::RecordingState::kPaused,
                       core::RecordingState::kStopped, core::RecordingState::kEnded}) {
                   auto it = counts.find(state);
                   samples.push_back({{{"state", std::string(core::ToString(state))}},
                                      it == counts.end() ? 0 : it->second,
                                      ""});
                 }
                 return samples;
               });
}

void V1Api::RenderMetrics(Respond respond) {
  std::string text = metrics_.Render();
  HttpResponse response{http::status::ok, 11};
  response.set(http::field::content_type, "text/plain; version=0.0.4");
  response.body() = std::move(text);
  respond(std::move(response));
}

}  // namespace callrec::api
