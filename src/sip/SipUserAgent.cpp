#include "sip/SipUserAgent.hpp"

#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>

#include <cstdarg>
#include <cstdio>
#include <future>
#include <memory>
#include <stdexcept>

#include "log/Log.hpp"
#include "sip/SipMessage.hpp"
#include "sipstack/SipUri.hpp"
#include "sipstack/SofiaTlsDirectory.hpp"

namespace callrec::sip {
namespace {

constexpr unsigned kIncompleteMs = 5'000;  // a message not complete by then is dropped
constexpr unsigned kIdleMs = 120'000;      // TCP connections unused for 2 minutes
// A TCP/TLS connection we have sent nothing to (no response, no ServerHello)
// after this long is no SIP peer (StalledConnections), checked this often.
constexpr auto kStalledLimit = std::chrono::seconds(10);
constexpr unsigned kSweepMs = 2'000;

struct PostedWork {
  std::function<void()>* work;
  log::ExceptionBarrier* barrier;
};

// sofia-sip's own diagnostics go to our log at debug level, never to stderr.
void ForwardSofiaLog(void*, const char* format, va_list args) {
  if (!log::Enabled(log::Level::kDebug)) return;
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  log::Debug("sip.stack", {{"text", text}});
}

std::string ListenUrl(const std::string& scheme, const std::string& host, std::uint16_t port) {
  return scheme + ":" + sipstack::HostPort(host, port);
}

}  // namespace

SipUserAgent::SipUserAgent(const std::string& host, std::uint16_t port, Listener& listener,
                           log::ExceptionBarrier& barrier, const std::optional<Tls>& tls)
    : listener_(listener), barrier_(barrier) {
  std::unique_ptr<sipstack::SofiaTlsDirectory> credentials;
  if (tls) {
    credentials = std::make_unique<sipstack::SofiaTlsDirectory>(
        sipstack::SofiaTlsDirectory::Identity{tls->certificate, tls->private_key}, tls->client_ca);
  }
  const std::string url = ListenUrl("sip", host, port);
  const std::string sips_url = tls ? ListenUrl("sips", tls->host, tls->port) : "";
  const std::string certificates = credentials ? credentials->path() : "";
  const unsigned verify =
      tls && !tls->client_ca.empty() ? TPTLS_VERIFY_INCOMING : TPTLS_VERIFY_NONE;
  std::promise<std::string> started;
  auto ready = started.get_future();
  thread_ = std::thread([&, this] {
    su_init();
    su_log_redirect(nullptr, &ForwardSofiaLog, nullptr);
    su_log_set_level(nullptr, log::Enabled(log::Level::kDebug) ? 3 : 0);
    root_ = su_root_create(this);
    if (root_ == nullptr) {
      started.set_value("cannot create the SIP event loop");
      su_deinit();
      return;
    }
    su_root_threading(root_, 1);
    nua_ =
        nua_create(root_, &SipUserAgent::OnEvent, this, NUTAG_URL(url.c_str()),
                   TAG_IF(!sips_url.empty(), NUTAG_SIPS_URL(sips_url.c_str())),
                   TAG_IF(!certificates.empty(), TPTAG_CERTIFICATE(certificates.c_str())),
                   TAG_IF(!certificates.empty(), TPTAG_TLS_VERIFY_POLICY(verify)),
                   NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOALERT(0), NUTAG_ENABLEMESSAGE(0),
                   NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"),
                   NUTAG_APPL_METHOD("UPDATE"), NUTAG_APPL_METHOD("OPTIONS"),
                   SIPTAG_SUPPORTED_STR("timer, siprec"), SIPTAG_USER_AGENT_STR("callrec-server"),
                   // A TCP peer that sends part of a message, or garbage, and then
                   // nothing (or half-closes) is dropped after kIncompleteMs instead
                   // of holding its descriptor for ever; an idle connection after
                   // kIdleMs (an SBC reconnects for its next request).
                   TPTAG_TIMEOUT(kIncompleteMs), TPTAG_IDLE(kIdleMs),
                   NTATAG_MAXSIZE(kMaxMessageBytes), TAG_END());
    if (nua_ == nullptr) {
      started.set_value("cannot listen for SIP on " + url +
                        (sips_url.empty() ? "" : " and " + sips_url) +
                        " (address already in use, not a local address, or TLS credentials "
                        "sofia-sip refused)");
      su_root_destroy(root_);
      root_ = nullptr;
      su_deinit();
      return;
    }
    // The transports exist once nua_create returns; their limits are set on them.
    nua_set_params(nua_, TPTAG_TIMEOUT(kIncompleteMs), TPTAG_IDLE(kIdleMs),
                   NTATAG_MAXSIZE(kMaxMessageBytes), TAG_END());
    std::vector<std::uint16_t> stream_ports{port};
    if (tls) stream_ports.push_back(tls->port);
    stalled_ = std::make_unique<StalledConnections>(stream_ports, kStalledLimit);
    sweep_timer_ = su_timer_create(su_root_task(root_), kSweepMs);
    su_timer_set_for_ever(sweep_timer_, &SipUserAgent::OnSweep, this);
    started.set_value("");
    su_root_run(root_);
    su_timer_destroy(sweep_timer_);
    sweep_timer_ = nullptr;
    nua_destroy(nua_);
    nua_ = nullptr;
    {
      std::lock_guard lock(mutex_);
      su_root_destroy(root_);
      root_ = nullptr;
    }
    su_deinit();
  });
  const std::string error = ready.get();
  if (!error.empty()) {
    thread_.join();
    throw std::runtime_error(error);
  }
}

SipUserAgent::~SipUserAgent() {
  Stop();
}

void SipUserAgent::Post(std::function<void()> work) {
  std::lock_guard lock(mutex_);
  if (root_ == nullptr || stopping_) return;
  su_msg_r message = SU_MSG_R_INIT;
  if (su_msg_create(message, su_root_task(root_), su_task_null, &SipUserAgent::Deliver,
                    sizeof(PostedWork)) != 0) {
    log::Error("sip.post_failed");
    return;
  }
  auto* posted = static_cast<PostedWork*>(su_msg_data(message));
  posted->work = new std::function<void()>(std::move(work));
  posted->barrier = &barrier_;
  if (su_msg_send(message) != 0) {
    delete posted->work;
    su_msg_destroy(message);
    log::Error("sip.post_failed");
  }
}

void SipUserAgent::Deliver(su_root_magic_t*, su_msg_r, su_msg_arg_t* arg) {
  auto* posted = static_cast<PostedWork*>(arg);
  std::unique_ptr<std::function<void()>> work(posted->work);
  posted->barrier->Run([&] { (*work)(); }, {{"in", "posted work"}});
}

void SipUserAgent::OnSweep(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* self = static_cast<SipUserAgent*>(arg);
  self->barrier_.Run(
      [self] {
        const std::size_t cut = self->stalled_->Sweep(StalledConnections::Clock::now());
        if (cut == 0) return;
        self->stalled_closed_ += cut;
        log::Info("sip.stalled_connections_closed", {{"count", cut}});
      },
      {{"in", "sweep"}});
}

void SipUserAgent::Stop() {
  if (!thread_.joinable()) return;
  Post([this] {
    stopping_ = true;
    nua_shutdown(nua_);
  });
  thread_.join();
}

void SipUserAgent::OnEvent(nua_event_t event, int status, const char* phrase, nua_t*,
                           nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t* hmagic,
                           const sip_t* sip, tagi_t tags[]) {
  auto* self = static_cast<SipUserAgent*>(magic);
  if (event == nua_r_shutdown) {
    if (status >= 200) su_root_break(self->root_);
    return;
  }
  try {
    self->listener_.OnSipEvent(event, status, phrase, nh, hmagic, sip, tags);
  } catch (...) {
    self->barrier_.Caught({{"in", nua_event_name(event)}});
    // A request still being served gets its answer (a second answer to one
    // already answered is refused by the stack, harmlessly).
    if (nh != nullptr &&
        (event == nua_i_invite || event == nua_i_update || event == nua_i_options)) {
      const std::string warning = WarningValue(
          "the server failed while handling this request (logged); nothing else was affected");
      nua_respond(nh, 500, "Server Internal Error", NUTAG_WITH_THIS(self->nua_),
                  SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    }
  }
}

}  // namespace callrec::sip
