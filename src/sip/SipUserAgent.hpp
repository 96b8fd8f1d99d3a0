#pragma once

#include <sofia-sip/nua.h>
#include <sofia-sip/su_wait.h>

#include "log/Barrier.hpp"
#include "sip/StalledConnections.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace callrec::sip {

// sofia-sip's user agent (nua) on a thread of its own: SIP over UDP and TCP on
// one address, transactions, dialogs, session timers, OPTIONS and CANCEL
// handled by the stack. Every nua event reaches the Listener on that thread;
// other threads hand work to it with Post(). No SDP offer/answer is done by
// the stack (media is ours).
// sofia-sip calls us from C: an exception escaping a callback would end the
// process. Every entry (nua events, posted work, the sweep timer) is behind
// `barrier`: what escapes is logged once and counted, an INVITE, UPDATE or OPTIONS
// being served is answered 500 with a Warning, and the SIP thread goes on.
class SipUserAgent {
 public:
  // The largest SIP message sofia-sip reads (NTATAG_MAXSIZE): twice the
  // largest SIPREC body (256 KiB) leaves room for any sane head.
  static constexpr std::size_t kMaxMessageBytes = 512 * 1024;

  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnSipEvent(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                            nua_hmagic_t* call, const sip_t* sip, tagi_t tags[]) = 0;
  };

  // SIP over TLS: where to listen, the PEM certificate chain and its key,
  // and, to require client certificates (mutual TLS), the PEM CA bundle that
  // must have signed them.
  struct Tls {
    std::string host;
    std::uint16_t port = 5061;
    std::filesystem::path certificate;
    std::filesystem::path private_key;
    std::filesystem::path client_ca;  // empty: clients are not asked for a certificate
  };

  // Binds HOST:PORT (UDP and TCP), and the TLS listener when given, and starts
  // the thread; throws if binding fails.
  SipUserAgent(const std::string& host, std::uint16_t port, Listener& listener,
               log::ExceptionBarrier& barrier, const std::optional<Tls>& tls = std::nullopt);
  ~SipUserAgent();
  SipUserAgent(const SipUserAgent&) = delete;
  SipUserAgent& operator=(const SipUserAgent&) = delete;

  // Runs `work` on the SIP thread (dropped once stopping).
  void Post(std::function<void()> work);
  // Sends BYE on every live session, waits for the stack to finish, joins.
  void Stop();

  nua_t* nua() const { return nua_; }
  // TCP/TLS connections shut down because they never became SIP (see
  // StalledConnections).
  std::uint64_t stalled_connections_closed() const { return stalled_closed_.load(); }

 private:
  static void OnEvent(nua_event_t event, int status, const char* phrase, nua_t* nua,
                      nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t* hmagic, const sip_t* sip,
                      tagi_t tags[]);
  static void Deliver(su_root_magic_t* magic, su_msg_r msg, su_msg_arg_t* arg);
  static void OnSweep(su_root_magic_t* magic, su_timer_t* timer, su_timer_arg_t* arg);

  Listener& listener_;
  log::ExceptionBarrier& barrier_;
  su_root_t* root_ = nullptr;
  nua_t* nua_ = nullptr;
  std::thread thread_;
  std::mutex mutex_;  // guards root_ against Post() racing Stop()
  std::atomic<bool> stopping_{false};
  std::unique_ptr<StalledConnections> stalled_;  // the SIP thread's
  su_timer_t* sweep_timer_ = nullptr;
  std::atomic<std::uint64_t> stalled_closed_{0};
};

}  // namespace callrec::sip
