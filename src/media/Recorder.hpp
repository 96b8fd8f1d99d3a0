#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>

#include "control/ContactService.hpp"
#include "core/Result.hpp"
#include "log/Barrier.hpp"
#include "media/MediaError.hpp"
#include "media/RecordingMetadata.hpp"
#include "media/RecordingSession.hpp"
#include "media/RecordingWriter.hpp"
#include "media/RtpSourceGuard.hpp"
#include "media/UringReceiver.hpp"
#include "srtp/SdesCrypto.hpp"

namespace callrec::media {

// How the media thread reads RTP (--media-receive).
enum class MediaReceive {
  kAuto,   // io_uring where the kernel allows it, else Asio
  kUring,  // io_uring (as auto, but the choice is the operator's)
  kAsio,   // Asio's reactor: a read per datagram
};

struct RecorderConfig {
  std::string rtp_host = "127.0.0.1";
  std::uint16_t rtp_port_low = 40000;
  std::uint16_t rtp_port_high = 49999;
  bool skip_paused = false;
  std::filesystem::path recordings_dir;
  // --rtp-source; nullopt: strict where an offer named the senders (SIPREC),
  // learn where none did (/v1).
  std::optional<RtpSourcePolicy> rtp_source;
  // --dtmf-policy: what in-band DTMF does to a recording (RecordingSession).
  DtmfPolicy dtmf_policy = DtmfPolicy::kMask;
  MediaReceive receive = MediaReceive::kAuto;
};

// A contact's own choices, where it made them (/v1 PauseBehavior, DtmfPolicy);
// the server's flags otherwise.
struct CallPolicies {
  std::optional<bool> skip_paused;
  std::optional<DtmfPolicy> dtmf;
  // The RFC 4733 payload type each leg's offer named [customer, agent].
  std::array<std::optional<std::uint8_t>, 2> telephone_event_pt;
};

// The sender addresses an offer named for a contact's legs ([customer, agent];
// nullopt: the offer named no usable address for that leg).
using OfferedSources = std::array<std::optional<boost::asio::ip::address>, 2>;

// Where a contact's legs are to be sent.
struct RtpEndpoints {
  std::string customer;  // HOST:PORT
  std::string agent;
};

// The SRTP keys a contact's legs are sent with ([customer, agent]; nullopt:
// plain RTP).
using MediaKeys = std::array<std::optional<srtp::SdesCrypto>, 2>;

// Datagrams refused on SRTP legs, by reason.
// A leg's latched sender changed: the old one went quiet and another passed
// probation (audited by whoever listens).
struct SourceSwitch {
  std::string contact_id;
  Side side = Side::kCustomer;
  std::string from;  // HOST:PORT
  std::string to;
};

struct SrtpRefusals {
  std::uint64_t authentication = 0;
  std::uint64_t replay = 0;
  std::uint64_t malformed = 0;
};

// A contact's recording as /v1 shows it.
struct RecordingView {
  std::optional<RtpEndpoints> rtp;
  std::optional<std::filesystem::path> path;
  SessionCounters counters;
  bool running = false;
};

// Where the views of ended contacts' recordings are kept, so the Recorder does
// not hold one in memory for every contact ever recorded (the server's is
// StoredRecordings, in the state database).
class RecordingArchive {
 public:
  virtual ~RecordingArchive() = default;
  // Keeps `view`; `kept` runs (on any thread) once it is durable.
  virtual void Keep(const std::string& contact_id, const RecordingView& view,
                    std::function<void()> kept) = 0;
  // nullopt: nothing kept for it; an error: the archive could not be read.
  virtual core::Result<std::optional<RecordingView>, std::string> Find(
      const std::string& contact_id) const = 0;
};

// The media side of callrec-server: two UDP ports per contact, one
// RecordingSession per recording, a 20 ms tick handing finished frames to the
// RecordingWriter, and the metadata beside each file. It follows the contact's
// state through control::RecordingListener: the gate closes when a pause is
// decided (before it is acknowledged) and opens when a resume is durable.
class Recorder final : public control::RecordingListener {
 public:
  // A contact's audit trail for its metadata; nullopt when it cannot be read
  // (the metadata then keeps the trail it has).
  using AuditSource =
      std::function<std::optional<std::vector<core::AuditEntry>>(const std::string&)>;
  using AgentMedia = std::function<void(const std::string& contact_id)>;
  using SourceSwitched = std::function<void(const SourceSwitch&)>;
  using WallClock = std::function<std::int64_t()>;
  using DigitHeard = std::function<void(const std::string& contact_id)>;

  Recorder(boost::asio::io_context& io, RecorderConfig config, AuditSource audit,
           WallClock wall_clock);
  ~Recorder() override;

  // Called when an agent leg first sends media on a contact waiting for it.
  void OnAgentMedia(AgentMedia callback) { on_agent_media_ = std::move(callback); }
  // Called (on the media thread) when a leg's latched sender is replaced.
  void OnSourceSwitch(SourceSwitched callback) { on_source_switch_ = std::move(callback); }
  // Called (on the media thread) when a contact recorded under --dtmf-policy
  // pause hears a DTMF digit: the recording has paused itself at the digit's
  // first sample, and whoever listens makes that pause the contact's (a PAUSE
  // by policy:dtmf) or keeps it going. Without a listener, pause acts as mask.
  void OnDigit(DigitHeard callback) { on_digit_ = std::move(callback); }
  // Ended contacts' recording views go there once durable (set once, before
  // calls arrive, to outlive the Recorder); without one they stay in memory.
  void SetArchive(RecordingArchive* archive) { archive_ = archive; }
  // A recording is final: its contact ended and the metadata beside the WAV is
  // written for the last time (or the server stopped during it, or it was
  // repaired at start-up). Called on the recording writer's thread, after that
  // write; set once, before calls arrive. The uploader queues it from here.
  using Finalised =
      std::function<void(const std::string& contact_id, const std::filesystem::path& wav)>;
  void OnFinalised(Finalised callback) { on_finalised_ = std::move(callback); }
  // At start-up (RepairUnfinished), each finished recording whose metadata does
  // not say it lives elsewhere (no Location): the uploader queues those it has
  // no row for (a crash between the final metadata and the queue's row).
  void OnFoundFinished(Finalised callback) { on_found_finished_ = std::move(callback); }

  // Binds the two RTP ports of a new contact. Fails when the range is exhausted
  // or libsrtp2 refuses a key. `agent_joins_by_media`: the agent leg's first
  // packet means the agent joined (/v1 contacts); SIPREC sessions say so in
  // their metadata instead. A leg with a key takes SRTP only: a packet that
  // does not authenticate (plain RTP included) is counted and never recorded.
  // `offered`: the senders a SIPREC offer named (each leg then records only
  // from its address, --rtp-source strict); none: the legs learn their sender.
  core::Result<RtpEndpoints, MediaError> Attach(const core::Contact& contact,
                                                const CallPolicies& policies,
                                                bool agent_joins_by_media = true,
                                                const MediaKeys& keys = {},
                                                const std::optional<OfferedSources>& offered = {});
  // New keys for a contact's legs (a re-INVITE re-keyed the session); a leg
  // whose key is unchanged keeps its SRTP state (replay window).
  std::optional<MediaError> Rekey(const std::string& contact_id, const MediaKeys& keys);
  // A re-offer: each leg forgets its latched sender and takes the next one
  // by the offer's addresses, as at the start.
  std::optional<MediaError> Relatch(const std::string& contact_id, const OfferedSources& offered);
  // A live or finished contact's view from memory, else the archive's (an
  // error when the archive could not be read).
  core::Result<std::optional<RecordingView>, std::string> View(const std::string& contact_id) const;
  // Reads, on the media thread, every datagram already waiting in the
  // contact's sockets (as if it had been read on arrival), then calls `then`
  // there. A SIPREC BYE ends the contact through this: the client's last
  // packets, sent before its BYE, are recorded even when the media thread is
  // behind the SIP thread.
  void Drain(const std::string& contact_id, std::function<void()> then);

  void OnDecided(const core::Contact& contact) override;
  void OnSettled(const core::Contact& contact) override;

  // At start-up: repairs recordings a crash left unfinished and marks them
  // Complete: false (and tells OnFoundFinished of the finished ones). Returns
  // how many were repaired.
  std::size_t RepairUnfinished();
  // Finalises every recording (server shutdown) and stops the writer.
  void Shutdown();

  std::uint64_t invalid_packets() const { return invalid_packets_.load(); }
  // Ticks that came late (the media thread stalled) and read the sockets first.
  std::uint64_t late_ticks() const { return late_ticks_.load(); }
  // "io_uring" or "asio" (--media-receive), and why not io_uring when asked.
  std::string receive_path() const { return uring_mode_ ? "io_uring" : "asio"; }
  const std::string& receive_path_refused() const { return uring_refused_; }
  // Datagrams dropped because they came from a sender the leg does not record.
  std::uint64_t foreign_packets(Side side) const {
    return foreign_packets_[static_cast<int>(side)].load();
  }
  SrtpRefusals srtp_refusals() const;
  std::uint64_t storage_dropped_frames() const { return writer_.dropped_frames(); }
  std::string storage_error() const { return writer_.last_error(); }
  bool storage_failing() const { return writer_.failing(); }
  std::uint64_t storage_write_errors() const { return writer_.write_errors(); }
  std::size_t free_ports() const;
  // Contacts whose media is bound now (their ports released once ENDED settles).
  std::size_t live_calls() const;
  // Runs `then` on the recording writer's thread once every write queued
  // before it is done (finished recordings' last metadata, OnFinalised).
  void AfterWrites(std::function<void()> then);
  // Exceptions stopped at the media barrier (media.handler_failed): a
  // packet's handler, a tick, a writer job; the media went on.
  std::uint64_t handler_exceptions() const {
    return barrier_.caught() + writer_.handler_exceptions();
  }

 private:
  struct Call;
  std::shared_ptr<Call> FindCall(const std::string& contact_id) const;
  // The receive path (RecorderReceive.cpp).
  static bool WantsUring(const RecorderConfig& config, std::string& why_not);
  void StartReceiving(const std::shared_ptr<Call>& call);      // mutex_ held
  void Receive(const std::shared_ptr<Call>& call, Side side);  // Asio's
  UringReceiver* Uring();  // the media thread's ring, created at first use
  void PollUring();        // hands out what the ring received (media thread)
  void SchedulePoll();
  void OnDatagram(Call& call, Side side, const boost::asio::ip::udp::endpoint& from,
                  std::span<std::uint8_t> datagram, RecordingSession::Clock::time_point arrival);
  void CountForeign(Call& call, Side side, std::uint64_t count);
  // Reads every datagram already waiting in the call's sockets, as if each
  // had been read on arrival (on the media thread).
  void ReadWaiting(Call& call);
  RtpSourceRules RulesFor(const std::optional<OfferedSources>& offered) const;
  void StartRecording(Call& call, const core::Contact& contact);
  void FinishRecording(Call& call, bool interrupted);
  void WriteProgress(Call& call);
  void Finalise(Call& call);  // on_finalised_, after the writer's last job for it
  std::vector<std::shared_ptr<Call>> Calls() const;  // none once shut down
  void Tick();
  void GuardedTick();   // Tick, behind the barrier
  void ScheduleTick();  // the next tick; a late one reads the sockets first
  void ReleasePorts(const std::shared_ptr<Call>& call);  // mutex_ held
  std::optional<std::uint16_t> TakePort();

  boost::asio::io_context& io_;
  const RecorderConfig config_;
  AuditSource audit_;
  WallClock wall_clock_;
  AgentMedia on_agent_media_;
  SourceSwitched on_source_switch_;
  DigitHeard on_digit_;
  Finalised on_finalised_;
  Finalised on_found_finished_;
  RecordingWriter writer_;
  log::ExceptionBarrier barrier_{"media.handler_failed"};
  boost::asio::steady_timer timer_;
  // The io_uring receive path (media thread only, apart from uring_mode_).
  bool uring_mode_ = false;
  std::string uring_refused_;  // why not, when not
  boost::asio::steady_timer poll_timer_;
  std::unique_ptr<UringReceiver> uring_;
  bool uring_failed_ = false;
  std::uint64_t next_receive_key_ = 0;
  std::unordered_map<std::uint64_t, std::pair<std::shared_ptr<Call>, Side>> receive_legs_;
  std::atomic<std::uint64_t> invalid_packets_{0};
  std::atomic<std::uint64_t> late_ticks_{0};
  std::atomic<std::uint64_t> foreign_packets_[2] = {0, 0};
  std::atomic<std::uint64_t> srtp_authentication_{0}, srtp_replay_{0}, srtp_malformed_{0};
  std::uint64_t ticks_ = 0;
  std::uint64_t calls_created_ = 0;  // guarded by mutex_

  mutable std::mutex mutex_;
  std::set<std::uint16_t> free_ports_;
  std::size_t closing_ports_ = 0;  // io_uring: released ports not yet back in free_ports_
  std::condition_variable ports_returned_;
  std::map<std::string, std::shared_ptr<Call>> calls_;
  // Ended contacts' recordings, until the archive has them.
  std::map<std::string, RecordingView> finished_;
  RecordingArchive* archive_ = nullptr;
  bool shut_down_ = false;
};

}  // namespace callrec::media
