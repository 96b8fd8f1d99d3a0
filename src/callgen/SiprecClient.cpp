#include "callgen/SiprecClient.hpp"

#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include <chrono>
#include <ctime>
#include <ostream>
#include <random>

#include "callgen/CallPlan.hpp"
#include "callgen/SdpAnswer.hpp"
#include "callgen/SiprecOffer.hpp"
#include "sipstack/SipUri.hpp"
#include "sipstack/SofiaTlsDirectory.hpp"
#include "sipstack/SofiaTlsRelease.hpp"
#include "srtp/SdesCrypto.hpp"
#include "srtp/SrtpStream.hpp"

namespace callrec::callgen {
namespace {

using Clock = std::chrono::steady_clock;

constexpr su_duration_t kTickMs = 5;
// Beyond the last planned BYE, how long calls may take to finish (a SIP
// transaction times out after 32 s) before the run gives up on them.
constexpr std::chrono::seconds kGrace{40};

enum class SessionState { kInviting, kActive, kUpdating, kEnding, kEnded };
enum class Request { kInvite, kAgentJoins, kPause, kResume, kBye };

const char* RequestName(Request request) {
  switch (request) {
    case Request::kInvite:
      return "INVITE";
    case Request::kAgentJoins:
      return "re-INVITE (agent joins)";
    case Request::kPause:
      return "re-INVITE (pause, a=inactive)";
    case Request::kResume:
      return "re-INVITE (resume, a=sendonly)";
    case Request::kBye:
      return "BYE";
  }
  return "?";
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

using sipstack::HostPort;
using sipstack::UriHost;

struct MediaLine {
  std::string role;  // customer | agent
  std::shared_ptr<OutboundStream> stream;
  std::optional<UdpAddress> destination;
  bool recorder_receives = false;  // answered a=recvonly or a=sendrecv
  bool started = false;
  std::optional<std::uint8_t> telephone_event_pt{};  // the answer accepts RFC 4733 events
};

struct Call;

struct Session {
  Call* call = nullptr;
  bool transfer = false;
  nua_handle_t* handle = nullptr;
  SessionState state = SessionState::kInviting;
  Request pending = Request::kInvite;
  bool agent_present = true;
  bool inactive = false;
  std::string agent_aor;
  std::string customer_participant;
  std::string agent_participant;
  SdpOffer offer;
  std::vector<MediaLine> lines;  // [0] customer, [1] agent
  SteadyTime origin{};
  SessionReport report;
};

struct Call {
  int index = 0;
  SteadyTime start_at{};
  bool placed = false;
  std::string group_id;
  std::vector<PlannedStep> plan;
  std::size_t next_step = 0;
  std::optional<SteadyTime> origin;  // the first session's 200 OK
  std::vector<std::unique_ptr<Session>> sessions;
  Session* current = nullptr;
  Session* transferring = nullptr;

  bool finished() const {
    if (sessions.empty()) return false;
    for (const auto& s : sessions) {
      if (s->state != SessionState::kEnded) return false;
    }
    return true;
  }
};

}  // namespace

struct SiprecClient::Impl {
  const CallgenConfig& config;
  std::shared_ptr<const AudioClip> customer_clip;
  std::shared_ptr<const AudioClip> agent_clip;
  RtpSender& sender;
  std::ostream& log;
  // The key presses of every call's customer stream; null without --dtmf.
  std::shared_ptr<const DtmfSchedule> dtmf;
  std::mt19937 random{std::random_device{}()};

  su_root_t* root = nullptr;
  nua_t* nua = nullptr;
  su_timer_t* timer = nullptr;
  std::vector<std::unique_ptr<Call>> calls;
  SteadyTime run_start{};
  SteadyTime deadline{};
  bool shutting_down = false;
  std::string contact;

  Impl(const CallgenConfig& c, std::shared_ptr<const AudioClip> customer,
       std::shared_ptr<const AudioClip> agent, RtpSender& s, std::ostream& l)
      : config(c),
        customer_clip(std::move(customer)),
        agent_clip(std::move(agent)),
        sender(s),
        log(l) {
    if (!config.dtmf.sequences.empty()) {
      dtmf = std::make_shared<const DtmfSchedule>(MakeDtmfSchedule(config.dtmf, config.codec));
    }
  }

  void Log(const Session& s, const std::string& what) {
    if (!config.verbose) return;
    const double t = std::chrono::duration<double>(Clock::now() - run_start).count();
    log << "[" << t << "s] call " << s.report.call << (s.transfer ? " (transfer)" : "") << ": "
        << what << std::endl;
  }

  void Fail(Session& s, const std::string& reason) {
    if (s.report.failure.empty()) s.report.failure = reason;
    Log(s, "failed: " + reason);
  }

  // ---- building requests ----

  Session* NewSession(Call& call, bool transfer) {
    auto session = std::make_unique<Session>();
    Session& s = *session;
    s.call = &call;
    s.transfer = transfer;
    s.agent_present = transfer || !config.agent_joins_after;
    s.agent_aor = transfer ? config.transfer_agent_aor : config.agent_aor;
    s.customer_participant = RandomMetadataId(random);
    s.agent_participant = RandomMetadataId(random);
    s.report.call = call.index + 1;
    s.report.transfer = transfer;
    s.report.group_id = call.group_id;
    s.report.session_id = RandomMetadataId(random);
    s.report.contact_id =
        transfer ? TransferContactIdOf(config, call.index) : ContactIdOf(config, call.index);
    s.report.initial_contact_id = InitialContactIdOf(config, call.index);
    s.offer.local_ip = config.local_ip;
    s.offer.session_id = std::uniform_int_distribution<std::uint64_t>(1, 1ULL << 40)(random);
    s.offer.codec = config.codec;
    const std::uint8_t payload_type = config.codec == media::Codec::kPcmu ? 0 : 8;
    const char* roles[] = {"customer", "agent"};
    for (int i = 0; i < 2; ++i) {
      auto socket = RtpSocket::Open(config.local_ip);
      if (!socket) {
        Fail(s, "RTP socket: " + socket.error());
        s.state = SessionState::kEnded;
        break;
      }
      // RFC 4733 events are the customer's keys.
      s.offer.streams.push_back(OfferedStream{std::to_string(i + 1),
                                              RandomMetadataId(random),
                                              socket->port(),
                                              {},
                                              i == 0 && SendsEvents(config.dtmf.mode)});
      std::optional<srtp::SrtpStream> protection;
      if (!config.srtp.empty()) {
        // One key per stream, kept for the session's re-INVITEs.
        const srtp::SdesCrypto key = srtp::NewKey(1, *srtp::SuiteFromName(config.srtp));
        auto outbound = srtp::SrtpStream::Outbound(key);
        if (!outbound) {
          Fail(s, outbound.error());
          s.state = SessionState::kEnded;
          break;
        }
        protection.emplace(std::move(outbound).value());
        s.offer.streams.back().crypto = srtp::FormatCrypto(key);
      }
      auto stream =
          std::make_shared<OutboundStream>(std::move(socket).value(),
                                           RtpPacketizer(RandomRtpIdentity(payload_type, random),
                                                         i == 0 ? customer_clip : agent_clip, 0),
                                           std::move(protection));
      s.report.streams.push_back(
          StreamReport{roles[i], std::to_string(i + 1), stream->local_port(), {}, 0, 0, 0, 0, {}});
      s.lines.push_back(MediaLine{roles[i], std::move(stream), {}, false});
    }
    call.sessions.push_back(std::move(session));
    return &s;
  }

  std::string Metadata(const Session& s) const {
    RsMetadata m;
    m.group_id = s.call->group_id;
    m.session_id = s.report.session_id;
    m.sip_session_id = s.report.call_id;
    m.start_time = UtcNow();
    m.streams = s.offer.streams;
    if (s.agent_present) {
      m.participants.push_back({s.customer_participant, config.customer_aor, "Customer", {0}, {1}});
      m.participants.push_back({s.agent_participant, s.agent_aor, "Agent", {1}, {0}});
    } else {
      m.participants.push_back({s.customer_participant, config.customer_aor, "Customer", {0}, {}});
    }
    return BuildRsMetadata(m);
  }

  void SendInvite(Session& s, Request request) {
    ++s.offer.version;
    s.offer.inactive = s.inactive;
    const std::string boundary = "callgen-" + std::to_string(random());
    const SiprecBody body = BuildSiprecBody(BuildSdp(s.offer), Metadata(s), boundary);
    std::string extra;
    if (!s.report.contact_id.empty()) extra += "X-Contact-Id: " + s.report.contact_id + "\r\n";
    if (!s.report.initial_contact_id.empty()) {
      extra += "X-Initial-Contact-Id: " + s.report.initial_contact_id + "\r\n";
    }
    if (!extra.empty()) extra.resize(extra.size() - 2);
    s.pending = request;
    s.state = request == Request::kInvite ? SessionState::kInviting : SessionState::kUpdating;
    if (s.handle == nullptr) {
      const std::string host = HostPort(config.target_host, config.target_port);
      const std::string uri = "sip:recorder@" + host +
                              (config.transport == "udp" ? "" : ";transport=" + config.transport);
      s.report.call_id =
          "callgen-" + std::to_string(random()) + std::to_string(random()) + "@" +
          (config.local_ip.find(':') == std::string::npos ? config.local_ip : "callgen.invalid");
      s.handle = nua_handle(nua, &s, SIPTAG_TO_STR(("<sip:recorder@" + host + ">").c_str()),
                            SIPTAG_CALL_ID_STR(s.report.call_id.c_str()), TAG_END());
      nua_invite(s.handle, NUTAG_URL(uri.c_str()), SIPTAG_CONTACT_STR(contact.c_str()),
                 SIPTAG_REQUIRE_STR("siprec"), SIPTAG_MIME_VERSION_STR("1.0"),
                 SIPTAG_CONTENT_TYPE_STR(body.content_type.c_str()),
                 SIPTAG_PAYLOAD_STR(body.body.c_str()),
                 TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
    } else {
      nua_invite(s.handle, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_REQUIRE_STR("siprec"),
                 SIPTAG_MIME_VERSION_STR("1.0"), SIPTAG_CONTENT_TYPE_STR(body.content_type.c_str()),
                 SIPTAG_PAYLOAD_STR(body.body.c_str()),
                 TAG_IF(!extra.empty(), SIPTAG_HEADER_STR(extra.c_str())), TAG_END());
    }
    Log(s, std::string(RequestName(request)) + " sent");
  }

  void StopMedia(Session& s) {
    for (auto& line : s.lines) {
      if (line.started) sender.Finish(line.stream);
      line.started = false;
    }
  }

  void Bye(Session& s) {
    StopMedia(s);
    s.pending = Request::kBye;
    s.state = SessionState::kEnding;
    nua_bye(s.handle, TAG_END());
    Log(s, "BYE sent");
  }

  // The key presses go on the customer's stream, as events only when the
  // answer accepted telephone-event.
  void KeyPressesOn(Session& s) {
    MediaLine& customer = s.lines[0];
    std::optional<std::uint8_t> events;
    if (SendsEvents(config.dtmf.mode)) {
      events = customer.telephone_event_pt;
      if (!events) {
        Fail(s, std::string("--dtmf-mode ") + DtmfModeName(config.dtmf.mode) +
                    ": the answer does not accept telephone-event on the customer stream");
      }
    }
    customer.stream->set_dtmf(dtmf, events);
  }

  void StartLine(Session& s, std::size_t i, std::int64_t first_slot, std::int64_t clip_start) {
    MediaLine& line = s.lines[i];
    if (!line.destination || !line.recorder_receives || line.started) return;
    sender.Start(line.stream, *line.destination, s.origin, first_slot, clip_start);
    line.started = true;
  }

  // ---- responses ----

  // Reads the answer of a 2xx into the media lines' destinations.
  bool TakeAnswer(Session& s, const sip_t* sip) {
    if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_content_type == nullptr) {
      Fail(s, std::string(RequestName(s.pending)) + ": 2xx without an SDP answer");
      return false;
    }
    std::string content_type = sip->sip_content_type->c_type ? sip->sip_content_type->c_type : "";
    for (auto p = sip->sip_content_type->c_params; p && *p; ++p)
      content_type += ";" + std::string(*p);
    const auto sdp = SdpOfBody(
        content_type, std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
    if (!sdp) {
      Fail(s, std::string(RequestName(s.pending)) + ": answer without application/sdp");
      return false;
    }
    const auto answer = ParseAnswerSdp(*sdp);
    if (!answer) {
      Fail(s, answer.error());
      return false;
    }
    bool complete = true;
    for (std::size_t i = 0; i < s.lines.size(); ++i) {
      const auto& label = s.offer.streams[i].label;
      const auto stream = FindAnswer(*answer, label, i);
      if (!stream || stream->port == 0 || stream->address.empty()) {
        Fail(s, "the answer refuses or lacks the stream with label " + label);
        complete = false;
        continue;
      }
      const auto address = MakeUdpAddress(stream->address, stream->port);
      if (!address) {
        Fail(s, "the answer's address is not a numeric IP: " + stream->address);
        complete = false;
        continue;
      }
      if (!s.offer.streams[i].crypto.empty() &&
          (stream->protocol != "RTP/SAVP" || stream->crypto.empty())) {
        // RFC 4568: an SRTP offer is answered RTP/SAVP with a crypto line.
        Fail(s, "the answer takes the SRTP stream with label " + label + " as " + stream->protocol +
                    (stream->crypto.empty() ? " without a=crypto" : ""));
        complete = false;
        continue;
      }
      s.lines[i].destination = address;
      s.lines[i].telephone_event_pt = stream->telephone_event_pt;
      // RFC 3264: nothing is sent on a stream the answer makes inactive.
      s.lines[i].recorder_receives = stream->direction == MediaDirection::kRecvOnly ||
                                     stream->direction == MediaDirection::kSendRecv;
      s.report.streams[i].destination = HostPort(stream->address, stream->port);
    }
    return complete;
  }

  void OnInviteAnswered(Session& s, int status, const char* phrase, const sip_t* sip) {
    Call& call = *s.call;
    const Request request = s.pending;
    s.report.sip.push_back(SipOutcome{RequestName(request), status, phrase ? phrase : ""});
    Log(s, std::string(RequestName(request)) + " -> " + std::to_string(status));
    const bool ok = status >= 200 && status < 300;
    if (request == Request::kInvite) {
      if (!ok) {
        Fail(s, "INVITE answered " + std::to_string(status) + " " + (phrase ? phrase : ""));
        s.state = SessionState::kEnded;
        if (call.transferring == &s) call.transferring = nullptr;
        return;
      }
      s.state = SessionState::kActive;
      s.origin = Clock::now();
      if (!TakeAnswer(s, sip)) {
        Bye(s);
        if (call.transferring == &s) call.transferring = nullptr;
        return;
      }
      if (dtmf) KeyPressesOn(s);
      // The customer talks on through a transfer: its clip continues where
      // the call is; a new agent starts the agent clip from its beginning.
      std::int64_t customer_clip_start = 0;
      if (!call.origin) {
        call.origin = s.origin;
      } else {
        customer_clip_start = FirstSlotAtOrAfter(*call.origin, s.origin) * kSamplesPerPacket;
      }
      StartLine(s, 0, 0, customer_clip_start);
      if (s.agent_present) StartLine(s, 1, 0, 0);
      if (call.transferring == &s) {
        call.transferring = nullptr;
        Session* previous = call.current;
        call.current = &s;
        if (previous && previous->state == SessionState::kActive) Bye(*previous);
      }
      return;
    }
    s.state = SessionState::kActive;
    if (!ok) {
      Fail(s, std::string(RequestName(request)) + " answered " + std::to_string(status) + " " +
                  (phrase ? phrase : ""));
      return;
    }
    if (!TakeAnswer(s, sip)) return;
    if (request == Request::kAgentJoins) {
      StartLine(s, 1, FirstSlotAtOrAfter(s.origin, Clock::now()), 0);
    } else if (request == Request::kResume) {
      const std::int64_t slot = FirstSlotAtOrAfter(s.origin, Clock::now());
      for (std::size_t i = 0; i < s.lines.size(); ++i) {
        MediaLine& line = s.lines[i];
        if (line.started) {
          sender.SetSending(line.stream, line.recorder_receives);
        } else if (i == 0 || s.agent_present) {
          StartLine(s, i, slot, i == 0 ? slot * kSamplesPerPacket : 0);
        }
      }
    }
  }

  void OnEvent(nua_event_t event, int status, const char* phrase, Session* s, const sip_t* sip) {
    switch (event) {
      case nua_r_invite:
        if (s && status >= 200) OnInviteAnswered(*s, status, phrase, sip);
        break;
      case nua_r_bye:
        if (s && status >= 200) {
          s->report.sip.push_back(SipOutcome{"BYE", status, phrase ? phrase : ""});
          if (status >= 300) Fail(*s, "BYE answered " + std::to_string(status));
          s->state = SessionState::kEnded;
          Log(*s, "BYE -> " + std::to_string(status));
        }
        break;
      case nua_i_bye:
        if (s) {
          StopMedia(*s);
          Fail(*s, "the recorder ended the session (BYE)");
          s->state = SessionState::kEnded;
        }
        break;
      case nua_r_shutdown:
        if (status >= 200) su_root_break(root);
        break;
      default:
        break;
    }
  }

  // ---- the schedule ----

  // Runs one step of a call's plan; false when the call is busy (a request
  // pending) and the step must wait.
  bool RunStep(Call& call, CallStep step) {
    if (call.transferring) return false;
    Session* s = call.current;
    if (s == nullptr || s->state == SessionState::kEnded) return true;
    if (s->state != SessionState::kActive) return false;
    Log(*s, StepName(step));
    switch (step) {
      case CallStep::kAgentJoins:
        s->agent_present = true;
        SendInvite(*s, Request::kAgentJoins);
        break;
      case CallStep::kPauseStarts:
        // Nothing is sent from the moment the pause is asked for.
        s->inactive = true;
        for (auto& line : s->lines) {
          if (line.started) sender.SetSending(line.stream, false);
        }
        SendInvite(*s, Request::kPause);
        break;
      case CallStep::kPauseEnds:
        s->inactive = false;
        SendInvite(*s, Request::kResume);
        break;
      case CallStep::kTransfer:
        call.transferring = NewSession(call, true);
        if (call.transferring->state == SessionState::kEnded) {
          call.transferring = nullptr;
        } else {
          SendInvite(*call.transferring, Request::kInvite);
        }
        break;
      case CallStep::kHangUp:
        Bye(*s);
        break;
    }
    return true;
  }

  void PlaceCall(Call& call) {
    call.placed = true;
    call.group_id = RandomMetadataId(random);
    Session* s = NewSession(call, false);
    call.current = s;
    for (const auto& sequence : config.dtmf.sequences) {
      // The digits themselves only with --verbose (Log): they may be a card number.
      Log(*s, "DTMF " + sequence.digits + " at " + std::to_string(sequence.at) + " s (" +
                  DtmfModeName(config.dtmf.mode) + ")");
    }
    if (s->state != SessionState::kEnded) SendInvite(*s, Request::kInvite);
  }

  void Tick() {
    if (shutting_down) return;
    const SteadyTime now = Clock::now();
    bool all_finished = true;
    for (auto& call : calls) {
      if (!call->placed) {
        if (call->start_at > now) {
          all_finished = false;
          continue;
        }
        PlaceCall(*call);
      }
      if (call->origin) {
        while (call->next_step < call->plan.size() &&
               *call->origin + std::chrono::duration_cast<Clock::duration>(
                                   call->plan[call->next_step].at) <=
                   now &&
               RunStep(*call, call->plan[call->next_step].step)) {
          ++call->next_step;
        }
      }
      all_finished = all_finished && call->finished();
    }
    if (!all_finished && now > deadline) {
      for (auto& call : calls) {
        for (auto& s : call->sessions) {
          if (s->state == SessionState::kEnded) continue;
          StopMedia(*s);
          Fail(*s, std::string("no final answer to ") + RequestName(s->pending));
          s->state = SessionState::kEnded;
        }
      }
      all_finished = true;
    }
    if (all_finished) Shutdown();
  }

  static void OnNua(nua_event_t event, int status, const char* phrase, nua_t*, nua_magic_t* magic,
                    nua_handle_t* handle, nua_hmagic_t* hmagic, const sip_t* sip, tagi_t[]) {
    auto* session = static_cast<Session*>(hmagic);
    if (event == nua_i_invite && session == nullptr) {
      // Nobody calls a recording client.
      nua_respond(handle, 403, "Forbidden", TAG_END());
      nua_handle_destroy(handle);
      return;
    }
    auto* impl = static_cast<Impl*>(magic);
    if (impl->config.verbose && session != nullptr) {
      impl->Log(*session, std::string(nua_event_name(event)) + " " + std::to_string(status) + " " +
                              (phrase ? phrase : ""));
    }
    impl->OnEvent(event, status, phrase, session, sip);
  }

  static void OnTimer(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    static_cast<Impl*>(arg)->Tick();
  }

  void Shutdown() {
    shutting_down = true;
    for (auto& call : calls) {
      for (auto& s : call->sessions) {
        if (s->handle) nua_handle_destroy(s->handle);
        s->handle = nullptr;
      }
    }
    nua_shutdown(nua);
  }
};

SiprecClient::SiprecClient(const CallgenConfig& config, std::shared_ptr<const AudioClip> customer,
                           std::shared_ptr<const AudioClip> agent, RtpSender& sender,
                           std::ostream& log)
    : impl_(std::make_unique<Impl>(config, std::move(customer), std::move(agent), sender, log)) {}

SiprecClient::~SiprecClient() = default;

core::Result<CallgenReport, std::string> SiprecClient::Run() {
  Impl& impl = *impl_;
  const CallgenConfig& config = impl.config;
  su_init();
  // sofia-sip's own diagnostics (e.g. that a TLS client has no certificate of
  // its own) only with --verbose.
  if (!config.verbose) {
    su_log_redirect(
        nullptr, [](void*, const char*, va_list) {}, nullptr);
    su_log_set_level(nullptr, 0);
  }
  impl.root = su_root_create(nullptr);
  if (impl.root == nullptr) {
    su_deinit();
    return std::string("cannot create the SIP event loop");
  }
  // nua puts its feature parameters only on REGISTER contacts: the INVITE
  // gets its Contact (with +sip.src) from us, so the port must be known.
  const auto port = FreePort(config.local_ip, config.transport == "udp" ? SOCK_DGRAM : SOCK_STREAM);
  if (!port) {
    su_root_destroy(impl.root);
    su_deinit();
    return "no SIP port: " + port.error().message;
  }
  // TLS: sofia-sip's TLS transport, verifying the recorder against --tls-ca
  // when given, presenting --tls-cert when given.
  const std::string bind = config.transport == "tls" ? "sips:" + HostPort(config.local_ip, *port)
                                                     : "sip:" + HostPort(config.local_ip, *port) +
                                                           ";transport=" + config.transport;
  std::unique_ptr<sipstack::SofiaTlsDirectory> credentials;
  if (config.transport == "tls" && (!config.tls_ca.empty() || !config.tls_cert.empty())) {
    try {
      std::optional<sipstack::SofiaTlsDirectory::Identity> identity;
      if (!config.tls_cert.empty()) {
        identity = sipstack::SofiaTlsDirectory::Identity{config.tls_cert, config.tls_key};
      }
      credentials = std::make_unique<sipstack::SofiaTlsDirectory>(identity, config.tls_ca);
    } catch (const std::exception& error) {
      su_root_destroy(impl.root);
      su_deinit();
      return std::string(error.what());
    }
  }
  const std::string certificates = credentials ? credentials->path() : "";
  const unsigned verify = config.tls_ca.empty() ? TPTLS_VERIFY_NONE : TPTLS_VERIFY_OUTGOING;
  impl.contact = "<sip:callgen@" + HostPort(config.local_ip, *port) +
                 ";transport=" + config.transport + ">;+sip.src";
  const std::string from = "<sip:callgen@" + UriHost(config.local_ip) + ">";
  impl.nua = nua_create(impl.root, Impl::OnNua, &impl, NUTAG_URL(bind.c_str()),
                        TAG_IF(!certificates.empty(), TPTAG_CERTIFICATE(certificates.c_str())),
                        TAG_IF(config.transport == "tls", TPTAG_TLS_VERIFY_POLICY(verify)),
                        NUTAG_MEDIA_ENABLE(0), NUTAG_M_USERNAME("callgen"), NUTAG_SESSION_TIMER(0),
                        NUTAG_AUTOACK(1), NUTAG_RETRY_COUNT(0), NTATAG_UDP_MTU(65535),
                        SIPTAG_FROM_STR(from.c_str()), SIPTAG_USER_AGENT_STR("callrec-callgen"),
                        TAG_END());
  if (impl.nua == nullptr) {
    su_root_destroy(impl.root);
    su_deinit();
    return "cannot start the SIP stack on " + bind;
  }
  impl.run_start = Clock::now();
  const auto plan = PlanCall(config);
  for (int i = 0; i < config.sessions; ++i) {
    auto call = std::make_unique<Call>();
    call->index = i;
    call->start_at =
        impl.run_start + std::chrono::duration_cast<Clock::duration>(CallStartOffset(config, i));
    call->plan = plan;
    impl.calls.push_back(std::move(call));
  }
  impl.deadline = impl.run_start +
                  std::chrono::duration_cast<Clock::duration>(
                      CallStartOffset(config, config.sessions - 1) + config.duration) +
                  kGrace;
  impl.timer = su_timer_create(su_root_task(impl.root), kTickMs);
  su_timer_run(impl.timer, Impl::OnTimer, &impl);
  impl.Tick();
  su_root_run(impl.root);
  su_timer_destroy(impl.timer);
  nua_destroy(impl.nua);
  su_root_destroy(impl.root);
  su_deinit();
  if (config.verbose && config.transport == "tls") {
    std::fprintf(stderr, "callgen: %llu TLS connection objects freed after sofia-sip%s\n",
                 static_cast<unsigned long long>(sipstack::SofiaTlsConnectionsFreed()),
                 sipstack::SofiaTlsReleaseActive() ? "" : " (not needed with this sofia-sip)");
  }

  impl.sender.Stop();
  CallgenReport report;
  report.elapsed_seconds = std::chrono::duration<double>(Clock::now() - impl.run_start).count();
  if (!config.dtmf.sequences.empty()) {
    report.dtmf =
        DtmfReport{DtmfModeName(config.dtmf.mode), config.dtmf.level_dbm0, config.dtmf.duration_ms,
                   config.dtmf.gap_ms, KeyPressOffsets(config.dtmf)};
  }
  for (auto& call : impl.calls) {
    for (auto& s : call->sessions) {
      for (std::size_t i = 0; i < s->lines.size(); ++i) {
        const RtpStreamStats& stats = s->lines[i].stream->stats();
        auto& out = s->report.streams[i];
        out.packets = stats.packets;
        out.events = stats.events;
        out.bytes = stats.bytes;
        out.send_errors = stats.send_errors;
        out.lateness = stats.lateness;
      }
      report.sessions.push_back(std::move(s->report));
    }
  }
  return report;
}

}  // namespace callrec::callgen
