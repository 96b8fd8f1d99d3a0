#include "sip/SiprecServer.hpp"

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tag.h>

#include <charconv>
#include <random>

#include "log/Log.hpp"
#include "sip/ContactIdentity.hpp"
#include "sip/SdpAnswer.hpp"
#include "sip/SipMessage.hpp"
#include "sip/SiprecBody.hpp"
#include "sip/SiprecCall.hpp"
#include "sip/SofiaTlsRelease.hpp"

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

bool Recorded(const OfferedStream& stream, TrackSide side) {
  return side != TrackSide::kNone && stream.port != 0 && stream.media == "audio" &&
         ProfileOf(stream) != MediaProfile::kOther;
}

bool Offers(const OfferedStream& stream, int payload_type, std::string_view name) {
  for (const Codec& codec : stream.codecs) {
    if (codec.payload_type == payload_type && codec.name == name && codec.clock_rate == 8000) {
      return true;
    }
  }
  return false;
}

// One codec for the whole contact: PCMU if every recorded stream offers it,
// else PCMA; G.711 only, with its static payload type.
std::optional<int> CommonCodec(const Offer& offer, const TrackPlan& plan) {
  for (const auto& [payload_type, name] : {std::pair{0, "PCMU"}, std::pair{8, "PCMA"}}) {
    bool all = true, any = false;
    for (std::size_t i = 0; i < offer.streams.size(); ++i) {
      if (!Recorded(offer.streams[i], plan.stream_sides[i])) continue;
      any = true;
      all = all && Offers(offer.streams[i], payload_type, name);
    }
    if (any && all) return payload_type;
  }
  return std::nullopt;
}

// Every recorded stream inactive (or only sending our way): the client paused.
bool ClientPaused(const Offer& offer, const TrackPlan& plan) {
  bool any = false;
  for (std::size_t i = 0; i < offer.streams.size(); ++i) {
    if (!Recorded(offer.streams[i], plan.stream_sides[i])) continue;
    any = true;
    const Direction d = offer.streams[i].direction;
    if (d == Direction::kSendOnly || d == Direction::kSendRecv) return false;
  }
  return any;
}

// The recorder's keys: each side's recorded stream's key.
media::MediaKeys MediaKeysOf(const Offer& offer, const TrackPlan& plan,
                             const std::vector<std::optional<srtp::SdesCrypto>>& stream_keys) {
  media::MediaKeys keys;
  for (std::size_t i = 0; i < offer.streams.size() && i < stream_keys.size(); ++i) {
    if (!stream_keys[i] || !Recorded(offer.streams[i], plan.stream_sides[i])) continue;
    keys[plan.stream_sides[i] == TrackSide::kAgent ? 1 : 0] = stream_keys[i];
  }
  return keys;
}

// The sender each recorded leg's media comes from: the stream's connection
// address (an SBC may send from another port than it named, never from
// another host).
media::OfferedSources SourcesOf(const Offer& offer, const TrackPlan& plan) {
  media::OfferedSources sources;
  for (std::size_t i = 0; i < offer.streams.size() && i < plan.stream_sides.size(); ++i) {
    if (!Recorded(offer.streams[i], plan.stream_sides[i])) continue;
    sources[plan.stream_sides[i] == TrackSide::kAgent ? 1 : 0] =
        media::SenderAddressOf(offer.streams[i].address);
  }
  return sources;
}

int StatusFor(const control::ControlError& error) {
  switch (error.kind) {
    case control::ControlError::Kind::kInvalidRequest:
    case control::ControlError::Kind::kInvalidParameter:
      return 400;
    case control::ControlError::Kind::kConflict:
    case control::ControlError::Kind::kAccessDenied:
      return 403;
    case control::ControlError::Kind::kNotFound:
      return 404;
    case control::ControlError::Kind::kLimitReached:
      return 503;
    case control::ControlError::Kind::kInternal:
      break;
  }
  return 500;
}

const char* PhraseFor(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 420:
      return "Bad Extension";
    case 421:
      return "Extension Required";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 488:
      return "Not Acceptable Here";
    case 491:
      return "Request Pending";
    case 513:
      return "Message Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Server Internal Error";
  }
}

// What the client's offer, the metadata and the configuration make of a session.
struct SessionPlan {
  Offer offer;
  std::optional<RsMetadata> metadata;
  TrackPlan tracks;
  int payload_type = 0;
  std::vector<std::optional<srtp::SdesCrypto>> keys;  // per offered stream
};

// The SRTP key of each recorded stream: the first a=crypto line callrec can
// honour. SDES keys travel in the SDP, so only a request that came over TLS
// may carry them (RFC 4568 8.3); with --srtp required, plain RTP is refused.
std::optional<SipError> ChooseKeys(const SipRequestView& request, bool srtp_required,
                                   SessionPlan& plan) {
  plan.keys.assign(plan.offer.streams.size(), std::nullopt);
  for (std::size_t i = 0; i < plan.offer.streams.size(); ++i) {
    const OfferedStream& stream = plan.offer.streams[i];
    if (!Recorded(stream, plan.tracks.stream_sides[i])) continue;
    const std::string which =
        "the m-line" + (stream.label.empty() ? "" : " labelled " + stream.label);
    if (ProfileOf(stream) == MediaProfile::kPlainRtp) {
      if (!srtp_required) continue;
      return SipError{488, "Not Acceptable Here",
                      "plain RTP on " + which +
                          " is refused: this recorder requires SRTP (RTP/SAVP with a=crypto, "
                          "over SIP TLS)"};
    }
    if (!request.over_tls) {
      return SipError{488, "Not Acceptable Here",
                      "SRTP keys (a=crypto) over an unencrypted SIP transport are refused: send "
                      "SIPREC over TLS (RFC 4568 section 8.3)"};
    }
    std::string first_reason = "no a=crypto attribute";
    for (const std::string& line : stream.crypto) {
      auto key = srtp::ParseCrypto(line);
      if (key) {
        plan.keys[i] = std::move(key).value();
        break;
      }
      if (&line == &stream.crypto.front()) first_reason = key.error();
    }
    if (!plan.keys[i]) {
      return SipError{488, "Not Acceptable Here",
                      "no usable SRTP key on " + which + ": " + first_reason +
                          " (supported: " + srtp::SupportedSuiteNames() + ")"};
    }
  }
  return std::nullopt;
}

core::Result<SessionPlan, SipError> PlanSession(const SipRequestView& request,
                                                const std::optional<RsMetadata>& previous,
                                                const std::optional<std::regex>& agent_match,
                                                bool srtp_required) {
  auto body = SplitBody(request.content_type, request.body);
  if (!body) return body.error();
  SessionPlan plan;
  auto offer = ParseOffer(body->sdp, request.source_address);
  if (!offer) return offer.error();
  plan.offer = std::move(offer).value();
  plan.metadata = previous;
  if (body->metadata_xml) {
    auto metadata = ParseRsMetadata(*body->metadata_xml);
    if (!metadata) return metadata.error();
    plan.metadata = std::move(metadata).value();
  }
  plan.tracks = MapTracks(plan.offer, plan.metadata, agent_match);
  if (log::Enabled(log::Level::kDebug)) {
    boost::json::array streams;
    for (std::size_t i = 0; i < plan.offer.streams.size(); ++i) {
      const OfferedStream& s = plan.offer.streams[i];
      streams.push_back(
          boost::json::object{{"label", s.label},
                              {"media", s.media},
                              {"port", s.port},
                              {"codecs", s.codecs.size()},
                              {"side", i < plan.tracks.stream_sides.size()
                                           ? static_cast<int>(plan.tracks.stream_sides[i])
                                           : -1}});
    }
    log::Debug("sip.session.plan", {{"streams", streams}, {"rule", plan.tracks.rule}});
  }
  const auto codec = CommonCodec(plan.offer, plan.tracks);
  if (!codec) {
    return SipError{488, "Not Acceptable Here",
                    "no recordable audio stream offering PCMU or PCMA (payload type 0 or 8) over "
                    "RTP/AVP or RTP/SAVP"};
  }
  plan.payload_type = *codec;
  if (auto refused = ChooseKeys(request, srtp_required, plan)) return *refused;
  return plan;
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
                     SofiaTlsConnectionsFreed(),
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

bool SiprecServer::RefusedSource(nua_handle_t* nh, const sip_t* sip, bool in_event) {
  const SipRequestView request = ViewRequest(sip);
  if (!config_.allow_named && config_.tls_clients_verified && request.over_tls) return false;
  if (config_.allow.Allows(request.source_address)) return false;
  refused_source_++;
  log::Info("sip.source_refused", {{"source", request.source_address}});
  const std::string warning =
      WarningValue("SIPREC from " + request.source_address +
                   " is not accepted here: the source is outside the networks --sip-allow names");
  nua_respond(nh, 403, PhraseFor(403), TAG_IF(in_event, NUTAG_WITH_THIS(agent_->nua())),
              SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
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
  if (const std::size_t limit = config_.max_sessions_per_source; limit != 0) {
    // Checked first: a client over its share costs no parsing.
    auto it = sessions_by_source_.find(request.source_address);
    if (it != sessions_by_source_.end() && it->second >= limit) {
      refused_per_source_++;
      return Refuse(nh, 503, "Service Unavailable",
                    "too many SIPREC sessions from " + request.source_address + ": " +
                        std::to_string(limit) +
                        " at once, the limit set by --max-sip-sessions-per-source");
    }
  }
  if (request.body.empty()) {
    return Refuse(nh, 488, "Not Acceptable Here",
                  "a SIPREC INVITE must carry an SDP offer and rs-metadata; the body is empty");
  }
  auto body = SplitBody(request.content_type, request.body);
  if (!body) return Refuse(nh, body.error().status, body.error().reason, body.error().warning);
  if (!request.siprec_option && !request.src_contact && !body->metadata_xml) {
    return Refuse(nh, 488, "Not Acceptable Here",
                  "callrec records SIPREC sessions only (RFC 7866): no 'siprec' option tag, no "
                  "+sip.src Contact and no rs-metadata");
  }
  if (recorder_.free_ports() < 2) {
    // Refused before a contact exists, so a retry with the same ContactId works.
    return Refuse(nh, 503, "Service Unavailable",
                  "no free RTP ports: every port of --rtp-ports is in use");
  }
  auto planned = PlanSession(request, std::nullopt, config_.agent_match, config_.srtp_required);
  if (!planned) {
    return Refuse(nh, planned.error().status, planned.error().reason, planned.error().warning);
  }
  SessionPlan plan = std::move(planned).value();

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
  if (!id_free) return Refuse(nh, 500, "Server Internal Error", id_free.error());
  if (!id_free.value()) {
    const auto header = ExtensionHeader(sip, config_.contact_id_header);
    if (header && IsValidContactId(*header)) {
      return Refuse(nh, 403, "Forbidden",
                    "contact " + call->contact_id + " already exists (ended or recording)");
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

  control::CreateRequest create;
  create.instance_id = config_.instance_id;
  create.contact_id = call->contact_id;
  create.initial_contact_id = call->initial_contact_id;
  create.agent_id = call->agent_id;
  create.codec = call->payload_type == 8 ? "PCMA" : "PCMU";
  // Waiting for an agent makes sense only when a stream will carry the agent's
  // voice and the metadata has not named the agent yet.
  bool agent_stream = false;
  for (std::size_t i = 0; i < call->offer.streams.size(); ++i) {
    agent_stream = agent_stream || (call->plan.stream_sides[i] == TrackSide::kAgent &&
                                    Recorded(call->offer.streams[i], TrackSide::kAgent));
  }
  create.agent_joined = call->plan.agent.has_value() || !agent_stream;
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
