#include "sip/SiprecServer.hpp"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tag.h>

#include <charconv>
#include <random>

#include "log/Log.hpp"
#include "sip/ContactIdentity.hpp"
#include "sip/SdpAnswer.hpp"
#include "sip/SessionPlan.hpp"
#include "sip/SipMessage.hpp"
#include "sip/SiprecBody.hpp"
#include "sip/SiprecCall.hpp"
#include "sipstack/SofiaTlsRelease.hpp"

namespace callrec::sip {
namespace {

constexpr const char* kRecordingClient = "recording-client";

std::uint16_t PortOf(const std::string& host_port) {
  const std::size_t colon = host_port.rfind(':');
  unsigned port = 0;
  if (colon != std::string::npos) {
    std::from_chars(host_port.data() + colon + 1, host_port.data() + host_port.size(), port);
  }
  return static_cast<std::uint16_t>(port);
}

}  // namespace

SiprecServer::SiprecServer(SiprecConfig config, control::ContactService& contacts,
                           media::Recorder& recorder)
    : config_(std::move(config)), contacts_(contacts), recorder_(recorder) {}

SiprecServer::~SiprecServer() {
  Stop();
}

void SiprecServer::Start(const std::string& host, std::uint16_t port,
                         const std::optional<SipUserAgent::Tls>& tls) {
  agent_ = std::make_unique<SipUserAgent>(host, port, *this, barrier_, tls);
}

void SiprecServer::Stop() {
  if (agent_) agent_->Stop();
}

SiprecStats SiprecServer::Stats() const {
  return SiprecStats{sessions_active_.load(),
                     sessions_total_.load(),
                     invites_refused_.load(),
                     reinvites_.load(),
                     agent_ ? agent_->stalled_connections_closed() : 0,
                     refused_per_source_.load(),
                     refused_source_.load(),
                     sipstack::SofiaTlsConnectionsFreed(),
                     barrier_.caught(),
                     refused_draining_.load()};
}

void SiprecServer::OnSipEvent(nua_event_t event, int, const char*, nua_handle_t* nh,
                              nua_hmagic_t* hmagic, const sip_t* sip, tagi_t tags[]) {
  auto* call = static_cast<SiprecCall*>(hmagic);
  switch (event) {
    case nua_i_invite:
      if (call != nullptr) {
        OnReoffer(*call, sip, false);
      } else {
        OnInvite(nh, sip);
      }
      break;
    case nua_i_update:
      if (call != nullptr) {
        OnReoffer(*call, sip, true);
      } else {
        nua_respond(nh, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(agent_->nua()),
                    TAG_END());
      }
      break;
    case nua_i_bye:
      if (call != nullptr) EndContact(*call, "bye", /*drain_media=*/true);
      break;
    case nua_i_cancel:
      if (call != nullptr) {
        call->terminated = true;
        EndContact(*call, "cancel");
      }
      break;
    case nua_i_state: {
      int state = nua_callstate_init;
      tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
      if (state != nua_callstate_terminated) break;
      if (call != nullptr) {
        call->terminated = true;
        EndContact(*call, "terminated");
      }
      Forget(nh);
      break;
    }
    case nua_i_options:
      // SBC keep-alives and a dispatcher's probes: answered here (200 with the
      // stack's Allow, Accept and Supported) so that a source outside
      // --sip-allow learns nothing; 503 while draining or degraded, so that
      // the dispatcher sends new sessions elsewhere. The handle the stack
      // made for one outside a dialog is ours to free.
      if (!RefusedSource(nh, sip, true)) {
        std::optional<std::string> unready;
        if (draining_) {
          unready = "draining: the server is stopping";
        } else if (readiness_) {
          unready = readiness_();
        }
        if (unready) {
          const std::string warning = WarningValue("not taking new sessions: " + *unready);
          nua_respond(nh, 503, PhraseFor(503), NUTAG_WITH_THIS(agent_->nua()),
                      SIPTAG_WARNING_STR(warning.c_str()), SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
        } else {
          nua_respond(nh, 200, "OK", NUTAG_WITH_THIS(agent_->nua()), TAG_END());
        }
      }
      if (call == nullptr && nh != nullptr && nh != nua_default(agent_->nua())) {
        nua_handle_destroy(nh);
      }
      break;
    default:
      break;
  }
}

std::optional<SipError> SiprecServer::CheckHead(const sip_t* sip) const {
  const std::size_t fields = HeaderFieldCount(sip);
  if (fields <= config_.max_header_fields) return std::nullopt;
  return BadRequest("the request has " + std::to_string(fields) + " header fields; at most " +
                    std::to_string(config_.max_header_fields) + " are accepted");
}

std::optional<SipError> SiprecServer::SourceRefusal(const SipRequestView& request) {
  if (!config_.allow_named && config_.tls_clients_verified && request.over_tls) return std::nullopt;
  if (config_.allow.Allows(request.source_address)) return std::nullopt;
  refused_source_++;
  log::Info("sip.source_refused", {{"source", request.source_address}});
  return SipError{
      403, PhraseFor(403),
      "SIPREC from " + request.source_address +
          " is not accepted here: the source is outside the networks --sip-allow names"};
}

bool SiprecServer::RefusedSource(nua_handle_t* nh, const sip_t* sip, bool in_event) {
  const auto refused = SourceRefusal(ViewRequest(sip));
  if (!refused) return false;
  const std::string warning = WarningValue(refused->warning);
  nua_respond(nh, refused->status, PhraseFor(refused->status),
              TAG_IF(in_event, NUTAG_WITH_THIS(agent_->nua())), SIPTAG_WARNING_STR(warning.c_str()),
              TAG_END());
  return true;
}

void SiprecServer::OnInvite(nua_handle_t* nh, const sip_t* sip) {
  // Who sends comes first: a stranger's INVITE costs no parsing.
  if (RefusedSource(nh, sip, false)) return;
  if (draining_) {
    // Before any parsing: the dispatcher tries the next node at once.
    refused_draining_++;  // counted apart from refused offers
    return Respond(nh, 503, "Service Unavailable",
                   "draining: the server is stopping and takes no new sessions");
  }
  if (auto refused = CheckHead(sip)) {
    return Refuse(nh, refused->status, refused->reason, refused->warning);
  }
  const SipRequestView request = ViewRequest(sip);
  if (auto refused = Admission(request)) {
    return Refuse(nh, refused->status, refused->reason, refused->warning);
  }
  auto planned = PlanSession(request, std::nullopt, config_.agent_match, config_.srtp_required);
  if (!planned) {
    return Refuse(nh, planned.error().status, planned.error().reason, planned.error().warning);
  }
  auto made = NewCall(nh, sip, request, std::move(planned).value());
  if (!made) return Refuse(nh, made.error().status, made.error().reason, made.error().warning);
  const std::shared_ptr<SiprecCall> call = std::move(made).value();

  control::CreateRequest create;
  create.instance_id = config_.instance_id;
  create.contact_id = call->contact_id;
  create.initial_contact_id = call->initial_contact_id;
  create.agent_id = call->agent_id;
  create.codec = call->payload_type == 8 ? "PCMA" : "PCMU";
  // Waiting for an agent makes sense only when a stream will carry the agent's
  // voice and the metadata has not named the agent yet.
  create.agent_joined = call->plan.agent.has_value() || !OffersAgentStream(call->offer, call->plan);
  create.principal = kRecordingClient;
  contacts_.Create(create, [this, call](core::Result<core::Contact, control::ControlError> result) {
    Continue(call, [this, call, result = std::move(result)]() mutable {
      if (!result) {
        if (call->terminated) return;
        return Refuse(call->handle, StatusFor(result.error()), PhraseFor(StatusFor(result.error())),
                      result.error().message);
      }
      ContinueInvite(call, std::move(result).value());
    });
  });
}

// The checks an INVITE passes before its offer is read: the sender's share of
// sessions, a body that is SIPREC, free RTP ports.
std::optional<SipError> SiprecServer::Admission(const SipRequestView& request) {
  if (const std::size_t limit = config_.max_sessions_per_source; limit != 0) {
    // Checked first: a client over its share costs no parsing.
    auto it = sessions_by_source_.find(request.source_address);
    if (it != sessions_by_source_.end() && it->second >= limit) {
      refused_per_source_++;
      return SipError{503, "Service Unavailable",
                      "too many SIPREC sessions from " + request.source_address + ": " +
                          std::to_string(limit) +
                          " at once, the limit set by --max-sip-sessions-per-source"};
    }
  }
  if (request.body.empty()) {
    return SipError{488, "Not Acceptable Here",
                    "a SIPREC INVITE must carry an SDP offer and rs-metadata; the body is empty"};
  }
  auto body = SplitBody(request.content_type, request.body);
  if (!body) return body.error();
  if (!request.siprec_option && !request.src_contact && !body->metadata_xml) {
    return SipError{488, "Not Acceptable Here",
                    "callrec records SIPREC sessions only (RFC 7866): no 'siprec' option tag, no "
                    "+sip.src Contact and no rs-metadata"};
  }
  if (recorder_.free_ports() < 2) {
    // Refused before a contact exists, so a retry with the same ContactId works.
    return SipError{503, "Service Unavailable",
                    "no free RTP ports: every port of --rtp-ports is in use"};
  }
  return std::nullopt;
}

// The dialog's call from its planned session: its identity (ContactId from the
// header or the SIPREC session, made unique when a client reuses a session id)
// and its place in the tables. Nothing is created when it is refused.
core::Result<std::shared_ptr<SiprecCall>, SipError> SiprecServer::NewCall(
    nua_handle_t* nh, const sip_t* sip, const SipRequestView& request, SessionPlan plan) {
  auto call = std::make_shared<SiprecCall>();
  call->handle = nh;
  call->call_id = request.call_id;
  call->offer = std::move(plan.offer);
  call->metadata = std::move(plan.metadata);
  call->plan = std::move(plan.tracks);
  call->payload_type = plan.payload_type;
  call->keys = std::move(plan.keys);
  call->agent_id = call->plan.agent_id;
  call->client_paused = ClientPaused(call->offer, call->plan);
  std::random_device random;
  call->sdp_session_id = (static_cast<std::uint64_t>(random()) << 20) ^ random();
  const ContactIdentity identity = DeriveIdentity(
      ExtensionHeader(sip, config_.contact_id_header),
      ExtensionHeader(sip, config_.initial_contact_id_header), call->metadata, request.call_id);
  call->contact_id = identity.contact_id;
  call->initial_contact_id = identity.initial_contact_id;
  const auto id_free = ContactIdFree(call->contact_id);
  if (!id_free) return SipError{500, "Server Internal Error", id_free.error()};
  if (!id_free.value()) {
    const auto header = ExtensionHeader(sip, config_.contact_id_header);
    if (header && IsValidContactId(*header)) {
      return SipError{403, "Forbidden",
                      "contact " + call->contact_id + " already exists (ended or recording)"};
    }
    // The client reused a SIPREC session id (persistent recording, or a new
    // dialog for the same session): a new contact in the same chain.
    call->contact_id = StableId(identity.contact_id + "/" + request.call_id);
  }
  call->source = request.source_address;
  calls_[nh] = call;
  sessions_by_source_[call->source] += 1;
  nua_handle_bind(nh, call.get());
  sessions_active_++;
  sessions_total_++;

  return call;
}

void SiprecServer::ContinueInvite(const std::shared_ptr<SiprecCall>& call, core::Contact contact) {
  call->created = true;
  if (call->terminated) return EndContact(*call, "cancelled");
  if (contact.state() == core::RecordingState::kEnded) {
    return Refuse(call->handle, 403, "Forbidden", "contact " + contact.contact_id + " has ended");
  }
  media::CallPolicies policies;
  for (std::size_t i = 0; i < call->offer.streams.size(); ++i) {
    const OfferedStream& stream = call->offer.streams[i];
    if (!stream.telephone_event_pt || !Recorded(stream, call->plan.stream_sides[i])) continue;
    auto& pt = policies.telephone_event_pt[call->plan.stream_sides[i] == TrackSide::kAgent ? 1 : 0];
    if (!pt) pt = static_cast<std::uint8_t>(*stream.telephone_event_pt);
  }
  auto endpoints = recorder_.Attach(contact, policies, /*agent_joins_by_media=*/false,
                                    MediaKeysOf(call->offer, call->plan, call->keys),
                                    SourcesOf(call->offer, call->plan));
  if (!endpoints) {
    EndContact(*call, "no media");
    if (endpoints.error().ports_exhausted) {
      return Refuse(call->handle, 503, "Service Unavailable",
                    "no free RTP ports: every port of --rtp-ports is in use");
    }
    return Refuse(call->handle, 403, "Forbidden", endpoints.error().message);
  }
  call->customer_port = PortOf(endpoints->customer);
  call->agent_port = PortOf(endpoints->agent);
  log::Info("sip.session.started", {{"contact", call->contact_id},
                                    {"initial_contact", call->initial_contact_id},
                                    {"call_id", call->call_id},
                                    {"agent", call->agent_id},
                                    {"rule", call->plan.rule}});
  if (!config_.auto_record) return Answer(*call);

  control::OperationRequest start;
  start.instance_id = config_.instance_id;
  start.contact_id = call->contact_id;
  start.initial_contact_id = call->initial_contact_id;
  start.operation = core::Operation::kStart;
  start.track = *config_.auto_record;
  start.principal = "auto-record";
  contacts_.Apply(start, [this, call](std::optional<control::ControlError>) {
    Continue(call, [this, call] {
      if (call->terminated) return;
      if (!call->client_paused) return Answer(*call);
      // The client offered inactive streams from the start: its own pause.
      control::OperationRequest pause;
      pause.instance_id = config_.instance_id;
      pause.contact_id = call->contact_id;
      pause.initial_contact_id = call->initial_contact_id;
      pause.operation = core::Operation::kPause;
      pause.principal = kRecordingClient;
      contacts_.Apply(pause, [this, call](std::optional<control::ControlError>) {
        Continue(call, [this, call] {
          if (!call->terminated) Answer(*call);
        });
      });
    });
  });
}

void SiprecServer::Continue(const std::shared_ptr<SiprecCall>& call, std::function<void()> work) {
  agent_->Post([this, call, work = std::move(work)] {
    try {
      work();
    } catch (...) {
      barrier_.Caught({{"contact", call->contact_id}, {"in", "INVITE"}});
      if (!call->answered && !call->terminated) {
        Refuse(call->handle, 500, "Server Internal Error",
               "the server failed while setting up this recording (logged); nothing else was "
               "affected");
      }
      EndContact(*call, "failed");
    }
  });
}

void SiprecServer::Answer(SiprecCall& call, bool to_current_request) {
  std::vector<AnsweredStream> streams;
  for (std::size_t i = 0; i < call.offer.streams.size(); ++i) {
    const OfferedStream& offered = call.offer.streams[i];
    AnsweredStream answered;
    const TrackSide side = call.plan.stream_sides[i];
    if (!Recorded(offered, side)) {
      answered.port = 0;
      answered.direction = Direction::kInactive;
      answered.payload_type = offered.codecs.empty() ? 0 : offered.codecs.front().payload_type;
    } else {
      answered.port = side == TrackSide::kAgent ? call.agent_port : call.customer_port;
      answered.payload_type = call.payload_type;
      answered.telephone_event_pt = offered.telephone_event_pt;
      answered.direction =
          offered.direction == Direction::kSendOnly || offered.direction == Direction::kSendRecv
              ? Direction::kRecvOnly
              : Direction::kInactive;
      if (i < call.keys.size() && call.keys[i]) {
        // RFC 4568 5.1.2: the answer names the accepted line's tag and suite
        // with a key of our own (we never send: it protects nothing).
        call.answer_keys.resize(call.offer.streams.size());
        auto& ours = call.answer_keys[i];
        if (!ours || ours->suite != call.keys[i]->suite) {
          ours = srtp::NewKey(call.keys[i]->tag, call.keys[i]->suite);
        }
        ours->tag = call.keys[i]->tag;
        answered.crypto = srtp::FormatCrypto(*ours);
      }
    }
    streams.push_back(answered);
  }
  const std::string sdp = BuildAnswer(call.offer, streams, config_.media_address,
                                      call.sdp_session_id, ++call.sdp_version);
  // An UPDATE is answered within its own event (nua_respond picks the request
  // being served); an INVITE's answer may come later, from a posted task.
  nua_respond(call.handle, 200, "OK", TAG_IF(to_current_request, NUTAG_WITH_THIS(agent_->nua())),
              SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()),
              TAG_END());
  call.answered = true;
}

void SiprecServer::OnReoffer(SiprecCall& call, const sip_t* sip, bool is_update) {
  reinvites_++;
  const SipRequestView request = ViewRequest(sip);
  auto respond_error = [&](const SipError& error) {
    const std::string warning = WarningValue(error.warning);
    if (is_update) {
      nua_respond(call.handle, error.status, PhraseFor(error.status),
                  NUTAG_WITH_THIS(agent_->nua()), SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    } else {
      nua_respond(call.handle, error.status, PhraseFor(error.status),
                  SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    }
  };
  // A re-offer may move the media: only from where a session may come.
  if (auto refused = SourceRefusal(request)) return respond_error(*refused);
  if (auto refused = CheckHead(sip)) {
    invites_refused_++;
    log::Info(
        "sip.session.refused",
        {{"contact", call.contact_id}, {"status", refused->status}, {"warning", refused->warning}});
    return respond_error(*refused);
  }
  if (request.body.empty()) {
    // A session refresh: nothing changes.
    if (is_update) {
      nua_respond(call.handle, 200, "OK", NUTAG_WITH_THIS(agent_->nua()), TAG_END());
    } else {
      --call.sdp_version;  // the same answer again
      Answer(call);
    }
    return;
  }
  auto planned = PlanSession(request, call.metadata, config_.agent_match, config_.srtp_required);
  if (!planned) return respond_error(planned.error());
  if (planned->payload_type != call.payload_type) {
    return respond_error(SipError{488, "Not Acceptable Here",
                                  "the codec of a recording cannot change during the session"});
  }
  SessionPlan plan = std::move(planned).value();
  if (call.created && !call.ended) {
    // A re-offer may re-key a leg (RFC 4568 7.1.4): the recorder switches now.
    const media::MediaKeys keys = MediaKeysOf(plan.offer, plan.tracks, plan.keys);
    if (auto error = recorder_.Rekey(call.contact_id, keys)) {
      return respond_error(SipError{488, "Not Acceptable Here", error->message});
    }
    // The media may have moved (SBC failover, a new address): latched anew.
    recorder_.Relatch(call.contact_id, SourcesOf(plan.offer, plan.tracks));
  }
  call.offer = std::move(plan.offer);
  call.metadata = std::move(plan.metadata);
  call.plan = std::move(plan.tracks);
  call.keys = std::move(plan.keys);

  if (call.created && !call.ended) {
    auto ignore = [](std::optional<control::ControlError>) {};
    if (!call.plan.agent_id.empty() && call.plan.agent_id != call.agent_id) {
      log::Info("sip.session.agent", {{"contact", call.contact_id},
                                      {"agent", call.plan.agent_id},
                                      {"previous", call.agent_id}});
      call.agent_id = call.plan.agent_id;
      contacts_.AgentJoined(call.contact_id, kRecordingClient, ignore, call.agent_id);
    } else if (call.plan.agent && !call.agent_id.empty()) {
      contacts_.AgentJoined(call.contact_id, kRecordingClient, ignore);
    }
    const bool paused = ClientPaused(call.offer, call.plan);
    auto found = contacts_.Find(call.contact_id);
    if (!found) return respond_error(SipError{500, "Server Internal Error", found.error().message});
    const std::optional<core::Contact>& contact = found.value();
    if (paused != call.client_paused && contact) {
      control::OperationRequest operation;
      operation.instance_id = config_.instance_id;
      operation.contact_id = call.contact_id;
      operation.initial_contact_id = call.initial_contact_id;
      operation.principal = kRecordingClient;
      if (paused && contact->state() == core::RecordingState::kRecording) {
        operation.operation = core::Operation::kPause;
        contacts_.Apply(operation, ignore);
      } else if (!paused && contact->state() == core::RecordingState::kPaused) {
        operation.operation = core::Operation::kResume;
        contacts_.Apply(operation, ignore);
      }
    }
    call.client_paused = paused;
  }
  Answer(call, is_update);
}

core::Result<bool, std::string> SiprecServer::ContactIdFree(const std::string& contact_id) const {
  auto found = contacts_.Find(contact_id);
  if (!found) return found.error().message;
  if (found.value()) return false;
  for (const auto& [handle, call] : calls_) {
    if (call->contact_id == contact_id && !call->ended) return false;
  }
  return true;
}

void SiprecServer::Refuse(nua_handle_t* nh, int status, const std::string& reason,
                          const std::string& warning) {
  invites_refused_++;
  Respond(nh, status, reason, warning);
}

void SiprecServer::Respond(nua_handle_t* nh, int status, const std::string& reason,
                           const std::string& warning) {
  log::Info("sip.session.refused", {{"status", status}, {"warning", warning}});
  (void)reason;  // nua_respond() keeps the phrase pointer: only static phrases
  const std::string value = WarningValue(warning);
  if (status == 503) {
    nua_respond(nh, status, PhraseFor(status), SIPTAG_WARNING_STR(value.c_str()),
                SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
  } else {
    nua_respond(nh, status, PhraseFor(status), SIPTAG_WARNING_STR(value.c_str()), TAG_END());
  }
}

void SiprecServer::EndContact(SiprecCall& call, const char* why, bool drain_media) {
  if (!call.created || call.ended) return;
  call.ended = true;
  log::Info("sip.session.ended", {{"contact", call.contact_id}, {"why", why}});
  auto end = [this, id = call.contact_id] {
    contacts_.End(id, kRecordingClient, [](core::Result<core::Contact, control::ControlError>) {});
  };
  // After a BYE, what the client sent before it is recorded first.
  if (drain_media) return recorder_.Drain(call.contact_id, std::move(end));
  end();
}

void SiprecServer::Forget(nua_handle_t* nh) {
  auto it = calls_.find(nh);
  if (it != calls_.end()) {
    if (auto source = sessions_by_source_.find(it->second->source);
        source != sessions_by_source_.end() && --source->second == 0) {
      sessions_by_source_.erase(source);
    }
    calls_.erase(it);
    sessions_active_--;
  }
  nua_handle_bind(nh, nullptr);
  nua_handle_destroy(nh);
}

}  // namespace callrec::sip
