#pragma once

#include <sofia-sip/nua.h>
#include <sofia-sip/su_wait.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace callrec::sip {

// sofia-sip's user agent (nua) on a thread of its own: SIP over UDP and TCP on
// one address, transactions, dialogs, session timers, OPTIONS and CANCEL
// handled by the stack. Every nua event reaches the Listener on that thread;
// other threads hand work to it with Post(). No SDP offer/answer is done by
// the stack (media is ours).
class SipUserAgent {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnSipEvent(nua_event_t event, int status, const char* phrase, nua_handle_t* nh,
                            nua_hmagic_t* call, const sip_t* sip, tagi_t tags[]) = 0;
  };

  // Binds HOST:PORT (UDP and TCP) and starts the thread; throws if binding fails.
  SipUserAgent(const std::string& host, std::uint16_t port, Listener& listener);
  ~SipUserAgent();
  SipUserAgent(const SipUserAgent&) = delete;
  SipUserAgent& operator=(const SipUserAgent&) = delete;

  // Runs `work` on the SIP thread (dropped once stopping).
  void Post(std::function<void()> work);
  // Sends BYE on every live session, waits for the stack to finish, joins.
  void Stop();

  nua_t* nua() const { return nua_; }

 private:
  void Run(const std::string& url);
  static void OnEvent(nua_event_t event, int status, const char* phrase, nua_t* nua,
                      nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t* hmagic, const sip_t* sip,
                      tagi_t tags[]);
  static void Deliver(su_root_magic_t* magic, su_msg_r msg, su_msg_arg_t* arg);

  Listener& listener_;
  su_root_t* root_ = nullptr;
  nua_t* nua_ = nullptr;
  std::thread thread_;
  std::mutex mutex_;  // guards root_ against Post() racing Stop()
  std::atomic<bool> stopping_{false};
  bool shut_down_ = false;
};

}  // namespace callrec::sip
