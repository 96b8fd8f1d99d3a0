#include "api/V1Api.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "api/ContactJson.hpp"
#include "api/ControlErrors.hpp"
#include "api/Paging.hpp"
#include "aws/Crypto.hpp"
#include "aws/UriEncoding.hpp"
#include "log/Log.hpp"
#include "media/RecordingMetadata.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;
constexpr std::string_view kContacts = "/v1/contacts";

struct Invalid {
  std::string message;
};

// An optional string member: absent is fine, a wrong type or length is not.
core::Result<std::string, Invalid> OptionalString(const json::object& body, std::string_view name,
                                                  std::size_t max_length) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) return std::string();
  if (!value->is_string()) return Invalid{std::string(name) + " must be a string."};
  if (value->as_string().size() > max_length) {
    return Invalid{std::string(name) + " must be at most " + std::to_string(max_length) +
                   " characters long."};
  }
  return std::string(value->as_string());
}

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

constexpr std::string_view kTokenTag = "contacts:";

// Bytes available to callrec on the file system holding `dir`; nullopt when
// it cannot be asked.
std::optional<std::uint64_t> AvailableBytes(const std::filesystem::path& dir) {
  struct statvfs fs {};
  if (dir.empty() || ::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

}  // namespace

V1Api::V1Api(control::ContactService& contacts, const store::ContactStore& store,
             media::Recorder& recorder, Metrics& metrics, std::string admin_token,
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
  json::error_code ec;
  json::value parsed = json::parse(request.body(), ec);
  if (ec || !parsed.is_object()) {
    return respond(ErrorResponse(aws::AwsError::InvalidRequest(
        "Request body must be a JSON object" + (ec ? ": " + ec.message() : std::string()) + ".")));
  }
  const json::object& body = parsed.as_object();
  control::CreateRequest create;
  create.principal = "admin";
  struct Field {
    std::string_view name;
    std::size_t max;
    std::string* into;
  };
  for (const Field& field :
       {Field{"InstanceId", 100, &create.instance_id}, Field{"ContactId", 256, &create.contact_id},
        Field{"InitialContactId", 256, &create.initial_contact_id},
        Field{"AgentId", 256, &create.agent_id}, Field{"Codec", 16, &create.codec}}) {
    auto value = OptionalString(body, field.name, field.max);
    if (!value) return respond(BadRequest(value.error().message));
    *field.into = std::move(value).value();
  }
  if (create.instance_id.empty()) return respond(BadRequest("InstanceId is required."));
  if (create.contact_id.empty()) create.contact_id = NewContactId();
  if (create.codec.empty()) create.codec = "PCMU";
  if (create.codec != "PCMU" && create.codec != "PCMA") {
    return respond(BadRequest("Codec must be PCMU (G.711 mu-law) or PCMA (G.711 A-law)."));
  }
  if (const json::value* joined = body.if_contains("AgentJoined")) {
    if (!joined->is_bool()) return respond(BadRequest("AgentJoined must be true or false."));
    create.agent_joined = joined->as_bool();
  }
  media::CallPolicies policies;
  if (const json::value* pause = body.if_contains("PauseBehavior")) {
    if (!pause->is_string() || (pause->as_string() != "silence" && pause->as_string() != "skip")) {
      return respond(BadRequest("PauseBehavior must be silence or skip."));
    }
    policies.skip_paused = pause->as_string() == "skip";
  }
  if (const json::value* dtmf = body.if_contains("DtmfPolicy")) {
    if (!dtmf->is_string() || !media::ParseDtmfPolicy(dtmf->as_string())) {
      return respond(BadRequest("DtmfPolicy must be mask, pause or record."));
    }
    policies.dtmf = media::ParseDtmfPolicy(dtmf->as_string());
  }
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
  control::ContactFilter filter;
  filter.agent_id = QueryParam(query, "AgentId");
  if (!caller.admin && !caller.supervisor) {
    // An agent lists their own contacts only, whatever they ask for.
    if (filter.agent_id && *filter.agent_id != caller.agent_id) {
      return respond(JsonResponse(http::status::ok, R"({"Contacts":[]})"));
    }
    filter.agent_id = caller.agent_id;
  }
  if (auto state = QueryParam(query, "State")) {
    filter.state = core::ParseRecordingState(*state);
    if (!filter.state) {
      return respond(BadRequest("State '" + *state +
                                "' is not one of NOT_STARTED, WAITING_FOR_AGENT, RECORDING, "
                                "PAUSED, STOPPED, ENDED."));
    }
  }
  auto asked = ParsePageRequest(query, kTokenTag);
  if (!asked) return respond(asked.error());
  filter.limit = asked->limit;
  filter.after = asked->after;
  auto page = contacts_.List(filter);
  if (!page) return respond(ErrorResponse(ToAwsError(page.error())));
  json::array list;
  for (const core::Contact& contact : page->contacts)
    list.push_back(ContactToJson(contact, times_));
  json::object body{{"Contacts", std::move(list)}};
  if (page->more) body["NextToken"] = NextTokenAfter(kTokenTag, page->contacts.back().contact_id);
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

void V1Api::Health(Respond respond) {
  const store::StoreStats stats = store_.Stats();
  const std::string storage_error = recorder_.storage_error();
  // Degraded while writes fail now (disk full, read-only); ok again once they
  // succeed. LastError keeps the last failure either way.
  const bool recordings_failing = recorder_.storage_failing();
  // A full disk is degraded before a write meets it, and ok once space is freed.
  const std::optional<std::uint64_t> available = AvailableBytes(data_dir_);
  const bool disk_full = available && *available < kLowSpaceBytes;
  bool healthy = !stats.failing && !recordings_failing && !disk_full;
  std::vector<std::pair<std::string, json::object>> sources;
  for (const auto& [name, source] : health_sources_) {
    auto [degraded, detail] = source();
    healthy = healthy && !degraded;
    sources.emplace_back(name, std::move(detail));
  }
  json::object body{
      {"Status", healthy ? "ok" : "degraded"},
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
  for (auto& [name, detail] : sources) body[name] = std::move(detail);
  if (available) {
    body["Disk"] = json::object{{"AvailableBytes", *available}, {"Full", disk_full}};
  }
  respond(JsonResponse(healthy ? http::status::ok : http::status::service_unavailable,
                       json::serialize(body)));
}

void V1Api::RenderMetrics(Respond respond) {
  std::string text = metrics_.Render();
  const store::StoreStats stats = store_.Stats();
  text +=
      "# HELP callrec_store_commits_total Transactions committed by the state store (durable once "
      "the next sync returns).\n";
  text += "# TYPE callrec_store_commits_total counter\n";
  text += "callrec_store_commits_total " + std::to_string(stats.commits) + "\n";
  text += "# HELP callrec_store_writes_total Writes made durable (several per commit).\n";
  text += "# TYPE callrec_store_writes_total counter\n";
  text += "callrec_store_writes_total " + std::to_string(stats.writes) + "\n";
  text +=
      "# HELP callrec_store_read_errors_total Reads of the state store that failed (the request "
      "that asked was answered 500).\n";
  text += "# TYPE callrec_store_read_errors_total counter\n";
  text += "callrec_store_read_errors_total " + std::to_string(stats.read_failures) + "\n";
  text += "# HELP callrec_store_write_failures_total Writes that could not be stored.\n";
  text += "# TYPE callrec_store_write_failures_total counter\n";
  text += "callrec_store_write_failures_total " + std::to_string(stats.failures) + "\n";
  text += "# HELP callrec_store_queue_depth Writes waiting for the next commit.\n";
  text += "# TYPE callrec_store_queue_depth gauge\n";
  text += "callrec_store_queue_depth " + std::to_string(stats.queued) + "\n";
  text +=
      "# HELP callrec_store_commit_seconds_total Time spent in transactions (writing the log, "
      "not syncing it).\n";
  text += "# TYPE callrec_store_commit_seconds_total counter\n";
  text += "callrec_store_commit_seconds_total " + std::to_string(stats.commit_seconds_total) + "\n";
  text +=
      "# HELP callrec_store_syncs_total Syncs of the write-ahead log; each makes every commit "
      "before it durable.\n";
  text += "# TYPE callrec_store_syncs_total counter\n";
  text += "callrec_store_syncs_total " + std::to_string(stats.syncs) + "\n";
  text += "# HELP callrec_store_sync_seconds_total Time spent syncing the write-ahead log.\n";
  text += "# TYPE callrec_store_sync_seconds_total counter\n";
  text += "callrec_store_sync_seconds_total " + std::to_string(stats.sync_seconds_total) + "\n";
  text += "# HELP callrec_rtp_invalid_packets_total Datagrams on RTP ports that were not RTP.\n";
  text += "# TYPE callrec_rtp_invalid_packets_total counter\n";
  text += "callrec_rtp_invalid_packets_total " + std::to_string(recorder_.invalid_packets()) + "\n";
  text +=
      "# HELP callrec_rtp_foreign_packets_total Datagrams dropped because they came from a "
      "sender the leg does not record (--rtp-source).\n";
  text += "# TYPE callrec_rtp_foreign_packets_total counter\n";
  text += "callrec_rtp_foreign_packets_total{leg=\"customer\"} " +
          std::to_string(recorder_.foreign_packets(media::Side::kCustomer)) + "\n";
  text += "callrec_rtp_foreign_packets_total{leg=\"agent\"} " +
          std::to_string(recorder_.foreign_packets(media::Side::kAgent)) + "\n";
  const media::SrtpRefusals srtp = recorder_.srtp_refusals();
  text +=
      "# HELP callrec_srtp_packets_refused_total Datagrams on SRTP legs not recorded: "
      "authentication failed (wrong key, altered, plain RTP), replayed, or malformed.\n";
  text += "# TYPE callrec_srtp_packets_refused_total counter\n";
  text += "callrec_srtp_packets_refused_total{reason=\"authentication\"} " +
          std::to_string(srtp.authentication) + "\n";
  text +=
      "callrec_srtp_packets_refused_total{reason=\"replay\"} " + std::to_string(srtp.replay) + "\n";
  text += "callrec_srtp_packets_refused_total{reason=\"malformed\"} " +
          std::to_string(srtp.malformed) + "\n";
  text += "# HELP callrec_recording_dropped_frames_total Audio frames lost: storage was behind.\n";
  text += "# TYPE callrec_recording_dropped_frames_total counter\n";
  text += "callrec_recording_dropped_frames_total " +
          std::to_string(recorder_.storage_dropped_frames()) + "\n";
  text += "# HELP callrec_storage_failing 1 while writes fail now (disk full, read-only).\n";
  text += "# TYPE callrec_storage_failing gauge\n";
  text +=
      "callrec_storage_failing{store=\"state\"} " + std::to_string(stats.failing ? 1 : 0) + "\n";
  text += "callrec_storage_failing{store=\"recordings\"} " +
          std::to_string(recorder_.storage_failing() ? 1 : 0) + "\n";
  if (const auto available = AvailableBytes(data_dir_)) {
    text +=
        "# HELP callrec_data_dir_available_bytes Bytes available on the data directory's file "
        "system (/healthz is degraded under 1 MiB).\n";
    text += "# TYPE callrec_data_dir_available_bytes gauge\n";
    text += "callrec_data_dir_available_bytes " + std::to_string(*available) + "\n";
  }
  text += "# HELP callrec_recording_write_errors_total Failed writes of recording files.\n";
  text += "# TYPE callrec_recording_write_errors_total counter\n";
  text += "callrec_recording_write_errors_total " +
          std::to_string(recorder_.storage_write_errors()) + "\n";
  text += "# HELP callrec_rtp_free_ports Free RTP ports (two per contact).\n";
  text += "# TYPE callrec_rtp_free_ports gauge\n";
  text += "callrec_rtp_free_ports " + std::to_string(recorder_.free_ports()) + "\n";
  text +=
      "# HELP callrec_contacts_in_memory Contacts held in memory: those not ENDED, and "
      "ended ones until their end is durable.\n";
  text += "# TYPE callrec_contacts_in_memory gauge\n";
  text += "callrec_contacts_in_memory " + std::to_string(contacts_.ResidentCount()) + "\n";
  text += "# HELP callrec_contacts Contacts known to this server, by state.\n";
  text += "# TYPE callrec_contacts gauge\n";
  const auto counts = contacts_.CountByState();
  for (auto state : {core::RecordingState::kNotStarted, core::RecordingState::kWaitingForAgent,
                     core::RecordingState::kRecording, core::RecordingState::kPaused,
                     core::RecordingState::kStopped, core::RecordingState::kEnded}) {
    auto it = counts.find(state);
    text += "callrec_contacts{state=\"" + std::string(core::ToString(state)) + "\"} " +
            std::to_string(it == counts.end() ? 0 : it->second) + "\n";
  }
  HttpResponse response{http::status::ok, 11};
  response.set(http::field::content_type, "text/plain; version=0.0.4");
  response.body() = std::move(text);
  respond(std::move(response));
}

}  // namespace callrec::api
