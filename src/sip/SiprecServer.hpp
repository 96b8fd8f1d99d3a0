#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "control/ContactService.hpp"
#include "core/RecordingStateMachine.hpp"
#include "media/Recorder.hpp"
#include "sip/SessionPlan.hpp"
#include "sip/SipError.hpp"
#include "sip/SipMessage.hpp"
#include "sip/SipUserAgent.hpp"
#include "sip/SourceAllowlist.hpp"

namespace callrec::sip {

struct SiprecConfig {
  std::string instance_id = "local";
  std::string media_address = "127.0.0.1";  // c= of the answers (where the RTP ports are bound)
  std::optional<std::regex> agent_match;
  std::optional<core::Track> auto_record;  // nullopt: the agent (or the API) starts it
  std::string contact_id_header = "X-Contact-Id";
  std::string initial_contact_id_header = "X-Initial-Contact-Id";
  bool srtp_required = false;  // plain RTP offers refused (488)
  // Dialogs at once from one source address (--max-sip-sessions-per-source); 0: none.
  std::size_t max_sessions_per_source = 0;
  // Header fields in an INVITE, re-INVITE or UPDATE (SipMessage's
  // HeaderFieldCount); more is refused with 400 and a Warning.
  std::size_t max_header_fields = 128;
  // Who may open a session or ask OPTIONS (--sip-allow); loopback only unless
  // the operator names networks. Without named networks, TLS clients whose
  // certificate the --sip-tls-client-ca verified are accepted from anywhere.
  SourceAllowlist allow = SourceAllowlist::Loopback();
  bool allow_named = false;
  bool tls_clients_verified = false;
};

// Counters for /metrics.
struct SiprecStats {
  std::uint64_t sessions_active = 0;
  std::uint64_t sessions_total = 0;
  std::uint64_t invites_refused = 0;  // re-offers refused for their head too
  std::uint64_t reinvites = 0;
  std::uint64_t stalled_connections_closed = 0;
  std::uint64_t refused_per_source = 0;     // INVITEs over max_sessions_per_source
  std::uint64_t refused_source = 0;         // INVITEs and OPTIONS from outside --sip-allow
  std::uint64_t tls_connections_freed = 0;  // SofiaTlsRelease
  std::uint64_t handler_exceptions = 0;     // stopped at the SIP barrier
  std::uint64_t refused_draining = 0;       // new INVITEs refused 503 while draining
};

struct SiprecCall;

// callrec-server as a Session Recording Server (RFC 7866): each recording
// session becomes a contact (ContactService) whose tracks are bound by the
// Recorder. INVITE: split the body, parse SDP and rs-metadata, map the
// participants to the customer and agent tracks, create the contact, bind its
// ports, optionally start recording, answer 200 with a plain recvonly SDP.
// re-INVITE/UPDATE: new metadata names the agent (joins late, transfer); all
// streams inactive is the client's own pause. BYE (or the dialog dying) ends
// the contact. Everything runs on the SipUserAgent's thread; ContactService
// replies are posted back to it.
class SiprecServer final : public SipUserAgent::Listener {
 public:
  SiprecServer(SiprecConfig config, control::ContactService& contacts, media::Recorder& recorder);
  ~SiprecServer() override;

  // Listens on HOST:PORT (UDP and TCP), and for SIP over TLS when given;
  // throws if it cannot.
  void Start(const std::string& host, std::uint16_t port,
             const std::optional<SipUserAgent::Tls>& tls = std::nullopt);
  // BYE to every live session, then the SIP thread stops.
  void Stop();
  // Whether this node takes new sessions: nullopt when healthy, else why not
  // (the server's /healthz reasons). OPTIONS are answered 200 or 503 from it,
  // so that a dispatcher (Kamailio) probing with OPTIONS sends sessions only
  // to healthy nodes. Set once, before Start; called on the SIP thread.
  using Readiness = std::function<std::optional<std::string>()>;
  void SetReadiness(Readiness readiness) { readiness_ = std::move(readiness); }
  // The server is stopping: from now on OPTIONS and new INVITEs are answered
  // 503 (with Retry-After and a Warning), so the dispatcher fails the session
  // over to another node; requests within live dialogs (re-INVITE, UPDATE,
  // BYE) are served as before. Any thread.
  void BeginDrain() { draining_ = true; }
  SiprecStats Stats() const;

  void OnSipEvent(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                  nua_hmagic_t* hmagic, const sip_t* sip, tagi_t tags[]) override;

 private:
  void OnInvite(nua_handle_t* nh, const sip_t* sip);
  std::optional<SipError> Admission(const SipRequestView& request);
  core::Result<std::shared_ptr<SiprecCall>, SipError> NewCall(nua_handle_t* nh, const sip_t* sip,
                                                              const SipRequestView& request,
                                                              SessionPlan plan);
  void OnReoffer(SiprecCall& call, const sip_t* sip, bool is_update);
  void ContinueInvite(const std::shared_ptr<SiprecCall>& call, core::Contact contact);
  // Runs `work` for the call's INVITE on the SIP thread. If it throws (logged
  // and counted at the barrier), an INVITE not answered yet is refused 500
  // with a Warning and the contact ends: the client is not left waiting.
  void Continue(const std::shared_ptr<SiprecCall>& call, std::function<void()> work);
  void Answer(SiprecCall& call, bool to_current_request = false);
  // Refuses an INVITE (counted in invites_refused_); Respond only answers.
  void Refuse(nua_handle_t* nh, int status, const std::string& reason, const std::string& warning);
  void Respond(nua_handle_t* nh, int status, const std::string& reason, const std::string& warning);
  void EndContact(SiprecCall& call, const char* why, bool drain_media = false);
  void Forget(nua_handle_t* nh);
  // Whether no contact (live or ended) has this id; an error when the state
  // store could not be read.
  core::Result<bool, std::string> ContactIdFree(const std::string& contact_id) const;
  // A head over config_.max_header_fields: the refusal to answer.
  std::optional<SipError> CheckHead(const sip_t* sip) const;
  // A request from outside --sip-allow (a new session, OPTIONS, or a re-offer
  // inside a dialog, which could move the media): the 403 to answer, counted
  // and logged; nothing of the request is parsed further.
  std::optional<SipError> SourceRefusal(const SipRequestView& request);
  // SourceRefusal answered: true when the request was refused.
  bool RefusedSource(nua_handle_t* nh, const sip_t* sip, bool in_event);

  const SiprecConfig config_;
  log::ExceptionBarrier barrier_{"sip.handler_failed"};
  control::ContactService& contacts_;
  media::Recorder& recorder_;
  std::unique_ptr<SipUserAgent> agent_;
  // Live sessions by handle; only the SIP thread touches the map.
  std::map<nua_handle_t*, std::shared_ptr<SiprecCall>> calls_;
  std::map<std::string, std::size_t, std::less<>> sessions_by_source_;  // SIP thread only
  Readiness readiness_;
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> refused_draining_{0};
  std::atomic<std::uint64_t> sessions_active_{0}, sessions_total_{0}, invites_refused_{0},
      reinvites_{0}, refused_per_source_{0}, refused_source_{0};
};

}  // namespace callrec::sip
