#include "media/Recorder.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "core/Timestamp.hpp"
#include "log/Log.hpp"
#include "media/RecorderCall.hpp"
#include "media/RecordingMetadata.hpp"
#include "media/WavFile.hpp"
#include "srtp/SrtpStream.hpp"

namespace callrec::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using core::RecordingState;

constexpr auto kTick = std::chrono::milliseconds(20);
// Later than this, a tick reads every socket before it flushes (a stall): half
// of the reorder window, so what waited through the stall is still on time.
constexpr auto kLateTick = std::chrono::milliseconds(RecordingSession::kReorderFrames / 8 / 2);
// Each file's header is rewritten every second, the files spread over the
// ticks (a call's phase is its arrival order); the writer's sync thread makes
// them durable with one syncfs a second.
constexpr int kTicksPerSync = 50;
// How long a new call waits for an ended call's ports still leaving the
// io_uring (normally well under a millisecond).
constexpr auto kPortReturnWait = std::chrono::milliseconds(500);
// The gate closed for a STOP or END: not listed among the recording's pauses.
constexpr const char* kStopReason = "stop";

}  // namespace

Recorder::Recorder(asio::io_context& io, RecorderConfig config, AuditSource audit,
                   WallClock wall_clock)
    : io_(io),
      config_(std::move(config)),
      audit_(std::move(audit)),
      wall_clock_(std::move(wall_clock)),
      timer_(io),
      poll_timer_(io) {
  // Held from start, like every descriptor the server keeps.
  writer_.SyncFileSystemOf(config_.recordings_dir);
  uring_mode_ = WantsUring(config_, uring_refused_);
  if (uring_mode_) asio::post(io_, [this] { Uring(); });  // at start, not at the first call
  log::Info("media.receive", {{"path", receive_path()}, {"refused", uring_refused_}});
  // RTP on even ports (RFC 3550 11: RTCP takes the odd one above).
  for (unsigned port = config_.rtp_port_low + (config_.rtp_port_low % 2);
       port + 1 <= config_.rtp_port_high; port += 2) {
    free_ports_.insert(static_cast<std::uint16_t>(port));
  }
  ScheduleTick();
  SchedulePoll();
}

Recorder::~Recorder() {
  Shutdown();
}

std::size_t Recorder::free_ports() const {
  std::lock_guard lock(mutex_);
  return free_ports_.size();
}

std::size_t Recorder::live_calls() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

void Recorder::AfterWrites(std::function<void()> then) {
  writer_.Post(std::move(then));
}

std::optional<std::uint16_t> Recorder::TakePort() {
  if (free_ports_.empty()) return std::nullopt;
  const std::uint16_t port = *free_ports_.begin();
  free_ports_.erase(free_ports_.begin());
  return port;
}

namespace {

bool SameKey(const std::optional<srtp::SdesCrypto>& a, const std::optional<srtp::SdesCrypto>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  return a->suite == b->suite && a->key_salt == b->key_salt;
}

// libsrtp2 sessions for the legs whose key changed (every leg of a new call);
// nothing changes when one of the keys is refused.
std::optional<MediaError> OpenSrtp(const MediaKeys& keys, const MediaKeys& previous,
                                   std::optional<srtp::SrtpStream> (&legs)[2], bool fresh) {
  std::optional<srtp::SrtpStream> opened[2];
  bool replace[2] = {false, false};
  for (int side = 0; side < 2; ++side) {
    if (!fresh && SameKey(keys[side], previous[side])) continue;
    replace[side] = true;
    if (!keys[side]) continue;
    auto stream = srtp::SrtpStream::Inbound(*keys[side]);
    if (!stream) return MediaError{stream.error()};
    opened[side].emplace(std::move(stream).value());
  }
  for (int side = 0; side < 2; ++side) {
    if (replace[side]) legs[side] = std::move(opened[side]);
  }
  return std::nullopt;
}

}  // namespace

core::Result<RtpEndpoints, MediaError> Recorder::Attach(
    const core::Contact& contact, const CallPolicies& policies, bool agent_joins_by_media,
    const MediaKeys& keys, const std::optional<OfferedSources>& offered) {
  DtmfPolicy dtmf = policies.dtmf.value_or(config_.dtmf_policy);
  if (dtmf == DtmfPolicy::kPause && !on_digit_) dtmf = DtmfPolicy::kMask;  // no one to pause
  auto call = std::make_shared<Call>(io_, contact,
                                     policies.skip_paused.value_or(config_.skip_paused), dtmf);
  call->telephone_event_pt = policies.telephone_event_pt;
  call->agent_heard = !agent_joins_by_media;
  const RtpSourceRules rules = RulesFor(offered);
  for (int side = 0; side < 2; ++side) call->sources[side] = RtpSourceGuard(rules[side]);
  if (auto error = OpenSrtp(keys, {}, call->srtp, /*fresh=*/true)) return *error;
  call->keys = keys;
  const auto address = asio::ip::make_address(config_.rtp_host);
  std::unique_lock lock(mutex_);
  if (shut_down_) return MediaError{"the recorder is shutting down"};
  if (calls_.count(contact.contact_id)) return MediaError{"media already attached"};
  for (int side = 0; side < 2; ++side) {
    // A port another process holds is skipped, not fatal.
    for (;;) {
      auto port = TakePort();
      if (!port && closing_ports_ > 0) {
        // An ended call's ports are on their way back (the media thread takes
        // its sockets out of the ring first): a moment, not a refusal.
        ports_returned_.wait_for(lock, kPortReturnWait, [this] {
          return !free_ports_.empty() || closing_ports_ == 0 || shut_down_;
        });
        port = TakePort();
      }
      if (!port) {
        ReleasePorts(call);
        return MediaError{"no free RTP port in " + std::to_string(config_.rtp_port_low) + "-" +
                              std::to_string(config_.rtp_port_high),
                          /*ports_exhausted=*/true};
      }
      boost::system::error_code ec;
      call->sockets[side].open(address.is_v6() ? udp::v6() : udp::v4(), ec);
      if (!ec) call->sockets[side].bind(udp::endpoint(address, *port), ec);
      if (!ec) {
        call->ports[side] = *port;
        break;
      }
      call->sockets[side].close(ec);
      log::Warn("media.port_unavailable", {{"port", *port}});
    }
  }
  call->sync_phase = calls_created_++ % kTicksPerSync;
  calls_[contact.contact_id] = call;
  StartReceiving(call);
  const std::string host = address.is_v6() ? "[" + config_.rtp_host + "]" : config_.rtp_host;
  return RtpEndpoints{host + ":" + std::to_string(call->ports[0]),
                      host + ":" + std::to_string(call->ports[1])};
}

std::optional<MediaError> Recorder::Rekey(const std::string& contact_id, const MediaKeys& keys) {
  const std::shared_ptr<Call> call = FindCall(contact_id);
  if (!call) return MediaError{"no media for contact " + contact_id};
  std::lock_guard lock(call->mutex);
  if (auto error = OpenSrtp(keys, call->keys, call->srtp, /*fresh=*/false)) return error;
  call->keys = keys;
  return std::nullopt;
}

RtpSourceRules Recorder::RulesFor(const std::optional<OfferedSources>& offered) const {
  const RtpSourcePolicy policy =
      config_.rtp_source.value_or(offered ? RtpSourcePolicy::kStrict : RtpSourcePolicy::kLearn);
  RtpSourceRules rules;
  for (int side = 0; side < 2; ++side) {
    rules[side].policy = policy;
    if (offered) rules[side].expected = (*offered)[side];
  }
  return rules;
}

std::optional<MediaError> Recorder::Relatch(const std::string& contact_id,
                                            const OfferedSources& offered) {
  const std::shared_ptr<Call> call = FindCall(contact_id);
  if (!call) return MediaError{"no media for contact " + contact_id};
  const RtpSourceRules rules = RulesFor(offered);
  std::lock_guard lock(call->mutex);
  for (Side side : {Side::kCustomer, Side::kAgent}) {
    const int s = static_cast<int>(side);
    if (const std::uint64_t dropped = call->sources[s].Relatch(rules[s])) {
      CountForeign(*call, side, dropped);
    }
  }
  return std::nullopt;
}

void Recorder::CountForeign(Call& call, Side side, std::uint64_t count) {
  foreign_packets_[static_cast<int>(side)].fetch_add(count, std::memory_order_relaxed);
  if (call.session) call.session->CountForeign(count);
}

SrtpRefusals Recorder::srtp_refusals() const {
  return SrtpRefusals{srtp_authentication_.load(), srtp_replay_.load(), srtp_malformed_.load()};
}

void Recorder::OnDatagram(Call& call, Side side, const udp::endpoint& from,
                          std::span<std::uint8_t> datagram,
                          RecordingSession::Clock::time_point arrival) {
  const int s = static_cast<int>(side);
  std::optional<RtpPacket> packet;
  std::vector<HeldDatagram> held;
  std::optional<RtpSourceGuard::Switch> switched;
  std::shared_ptr<RecordingSession> session;
  bool held_back = false;
  {
    std::lock_guard lock(call.mutex);
    RtpSourceGuard& sources = call.sources[s];
    // A sender the leg does not record is dropped on its address alone, before
    // anything of its datagram is read.
    if (!sources.Admits(from, arrival)) {
      if (!sources.latched() && !call.foreign_reported[s]) {
        // Nothing latched yet and the sender is refused: most likely a NAT or a
        // media address the offer did not name, not an attack. Said once a leg.
        call.foreign_reported[s] = true;
        const auto& expected = sources.rule().expected;
        log::Warn("media.sender_refused",
                  {{"contact", call.id},
                   {"leg", side == Side::kAgent ? "agent" : "customer"},
                   {"from", from.address().to_string() + ":" + std::to_string(from.port())},
                   {"offered", expected ? expected->to_string() : std::string()},
                   {"rtp_source", std::string(ToString(sources.rule().policy))}});
      }
      return CountForeign(call, side, 1);
    }
    if (auto& leg = call.srtp[s]) {
      // SRTCP (the same first bytes as RTCP) is not recorded.
      if (IsRtcp(datagram)) return;
      auto length = leg->Unprotect(datagram);
      if (!length) {
        switch (length.error()) {
          case srtp::Refusal::kAuthentication:
            srtp_authentication_.fetch_add(1, std::memory_order_relaxed);
            break;
          case srtp::Refusal::kReplay:
            srtp_replay_.fetch_add(1, std::memory_order_relaxed);
            break;
          case srtp::Refusal::kMalformed:
            srtp_malformed_.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        return;
      }
      datagram = datagram.first(*length);
    }
    packet = ParseRtp(datagram);
    if (!packet) {
      if (!IsRtcp(datagram)) invalid_packets_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::uint64_t dropped = 0;
    // A packet held for probation keeps its bytes only if the gate is open at
    // its arrival: paused audio is never kept, not even for later.
    const bool gate_open = call.session && call.session->running();
    const auto verdict = sources.Check(
        from, *packet,
        gate_open ? std::span<const std::uint8_t>(datagram) : std::span<const std::uint8_t>(),
        arrival, dropped);
    held_back = verdict == RtpSourceGuard::Verdict::kHold;
    if (dropped) CountForeign(call, side, dropped);
    switch (verdict) {
      case RtpSourceGuard::Verdict::kForeign:
        return CountForeign(call, side, 1);
      case RtpSourceGuard::Verdict::kHold:
        break;  // recorded once its sender is latched; its arrival still counts below
      case RtpSourceGuard::Verdict::kLatched:
        held = sources.TakeHeld();
        switched = sources.TakeSwitch();
        break;
      case RtpSourceGuard::Verdict::kRecord:
        break;
    }
    session = call.session;
  }
  if (switched) {
    auto text = [](const udp::endpoint& e) {
      const std::string host = e.address().to_string();
      return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
    };
    SourceSwitch report{call.id, side, text(switched->from), text(switched->to)};
    log::Warn("media.source_switched", {{"contact", call.id},
                                        {"leg", side == Side::kAgent ? "agent" : "customer"},
                                        {"from", report.from},
                                        {"to", report.to}});
    if (on_source_switch_) on_source_switch_(report);
  }
  // The agent's first packet starts a waiting recording at once, even while its
  // sender is on probation: a join changes the state, never the audio.
  if (side == Side::kAgent && !call.agent_heard.exchange(true) && on_agent_media_) {
    on_agent_media_(call.id);
  }
  if (!session || held_back) return;
  // What the sender sent during its probation first, at its own arrival times
  // (those that arrived while the gate was closed kept no bytes: they parse as
  // nothing and are skipped).
  const std::uint64_t digits = session->digits_heard();
  for (const HeldDatagram& earlier : held) {
    if (auto parsed = ParseRtp(earlier.bytes)) session->OnPacket(side, *parsed, earlier.arrival);
  }
  session->OnPacket(side, *packet, arrival);
  if (call.dtmf == DtmfPolicy::kPause && session->digits_heard() != digits) on_digit_(call.id);
}

std::shared_ptr<Recorder::Call> Recorder::FindCall(const std::string& contact_id) const {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(contact_id);
  return it == calls_.end() ? nullptr : it->second;
}

void Recorder::OnDecided(const core::Contact& contact) {
  // Close the gate the moment a pause or stop is decided, before any answer.
  if (contact.state() == RecordingState::kRecording) return;
  const std::shared_ptr<Call> call = FindCall(contact.contact_id);
  if (!call) return;
  std::lock_guard lock(call->mutex);
  if (call->session) {
    // A STOP or END closes the gate too; that is no pause of the recording.
    call->session->Pause(RecordingSession::Clock::now(), wall_clock_(),
                         contact.state() == RecordingState::kPaused ? "" : kStopReason);
  }
}

void Recorder::OnSettled(const core::Contact& contact) {
  const std::shared_ptr<Call> call = FindCall(contact.contact_id);
  if (!call) return;
  std::lock_guard lock(call->mutex);
  const auto now = RecordingSession::Clock::now();
  call->contact = contact;
  switch (contact.state()) {
    case RecordingState::kRecording:
      if (!call->session) {
        StartRecording(*call, contact);
      } else {
        call->session->Resume(now, wall_clock_());
        WriteProgress(*call);
      }
      break;
    case RecordingState::kPaused:
      if (call->session) {
        call->session->Pause(now, wall_clock_());
        WriteProgress(*call);
      }
      break;
    case RecordingState::kStopped:
    case RecordingState::kEnded:
      FinishRecording(*call, false);
      break;
    default:
      break;
  }
  if (contact.state() == RecordingState::kEnded && call->session) Finalise(*call);
  if (contact.state() == RecordingState::kEnded) {
    std::optional<RecordingView> last;  // (call->mutex is held)
    if (call->session) {
      last = RecordingView{std::nullopt, call->wav, call->session->counters(), false};
    }
    std::lock_guard guard(mutex_);
    ReleasePorts(call);
    calls_.erase(contact.contact_id);
    // Where the finished recording is stays visible in /v1: from memory until
    // the archive has it durably (its Write may be called under a lock).
    if (last) finished_[contact.contact_id] = *last;
    if (last && archive_) {
      archive_->Keep(contact.contact_id, *last, [this, id = contact.contact_id] {
        std::lock_guard erase(mutex_);
        finished_.erase(id);
      });
    }
  }
}

void Recorder::StartRecording(Call& call, const core::Contact& contact) {
  const std::int64_t wall = wall_clock_();
  RecordingSession::Options options;
  options.codec = contact.codec == "PCMA" ? Codec::kPcma : Codec::kPcmu;
  options.record_customer = contact.recording.track != core::Track::kFromAgent;
  options.record_agent = contact.recording.track != core::Track::kToAgent;
  options.skip_paused = call.skip_paused;
  options.dtmf = call.dtmf;
  for (std::size_t s = 0; s < 2; ++s) {
    options.telephone_event_pt[s] = call.telephone_event_pt[s].value_or(101);
  }
  call.session = std::make_shared<RecordingSession>(options, RecordingSession::Clock::now(), wall);
  call.wav =
      RecordingPath(config_.recordings_dir, contact.initial_contact_id, contact.contact_id, wall);
  call.metadata = RecordingMetadata{};
  call.metadata.contact_id = contact.contact_id;
  call.metadata.initial_contact_id = contact.initial_contact_id;
  call.metadata.instance_id = contact.instance_id;
  call.metadata.agent_id = contact.agent_id;
  call.metadata.track = std::string(core::ToString(contact.recording.track));
  call.metadata.codec = contact.codec;
  call.metadata.skip_paused = call.skip_paused;
  call.metadata.start_wall_ms = wall;
  call.metadata.dtmf_policy = std::string(ToString(call.dtmf));
  writer_.Open(contact.contact_id, call.wav);
  // Metadata from the first moment, marked incomplete: a crash leaves it so.
  const RecordingMetadata initial = call.metadata;
  const std::filesystem::path json = std::filesystem::path(call.wav).replace_extension(".json");
  writer_.Post([json, initial] { WriteJsonAtomically(json, MetadataToJson(initial)); });
  log::Info("recording.started", {{"contact", contact.contact_id}, {"path", call.wav.string()}});
}

void Recorder::WriteProgress(Call& call) {
  // The pauses so far reach the disk at once, so a crash cannot lose them.
  RecordingMetadata progress = call.metadata;
  progress.pauses = call.session->pauses();
  progress.masked = call.session->masked();
  progress.counters = call.session->counters();
  const auto json = std::filesystem::path(call.wav).replace_extension(".json");
  // Not fsynced: it survives a killed process (the page cache does), and at
  // thousands of pauses a second an fsync each would starve the audio.
  writer_.Post([json, progress] { WriteJsonAtomically(json, MetadataToJson(progress), false); });
}

void Recorder::FinishRecording(Call& call, bool interrupted) {
  if (!call.session) return;  // nothing was recorded
  const auto json = std::filesystem::path(call.wav).replace_extension(".json");
  if (call.finished) {
    // Final already (STOP, then the contact ended): only the trail grew.
    writer_.Post([this, json, id = call.id] {
      std::ifstream in(json);
      std::stringstream text;
      text << in.rdbuf();
      boost::json::error_code ec;
      boost::json::value parsed = boost::json::parse(text.str(), ec);
      if (ec || !parsed.is_object()) return;
      const auto trail = audit_(id);
      if (!trail) return;  // unreadable now: the file keeps the trail it has
      parsed.as_object()["AuditTrail"] = AuditTrailJson(*trail);
      WriteJsonAtomically(json, parsed.as_object());
    });
    return;
  }
  call.finished = true;
  const auto now = RecordingSession::Clock::now();
  const std::int64_t wall = wall_clock_();
  call.session->Pause(now, wall, kStopReason);
  writer_.Append(call.id, call.session->TakeUntil(now));
  call.metadata.end_wall_ms = wall;
  call.metadata.pauses = call.session->pauses();
  if (!call.metadata.pauses.empty() && call.metadata.pauses.back().end_sample < 0) {
    PauseInterval& last = call.metadata.pauses.back();
    if (last.reason == kStopReason) {
      call.metadata.pauses.pop_back();  // the stop itself is not a pause
    } else {
      // Paused until the recording ended: the pause ends with it.
      last.end_sample = std::max(call.session->PositionAt(now), last.start_sample);
      last.end_wall_ms = wall;
    }
  }
  call.metadata.counters = call.session->counters();
  call.metadata.masked = call.session->masked();
  call.metadata.complete = !interrupted;
  if (interrupted) call.metadata.storage_error = "the server stopped during the call";
  writer_.Close(call.id, [this, metadata = call.metadata,
                          id = call.id](const RecordingWriter::FileResult& result) mutable {
    const std::filesystem::path& wav = result.path;
    const std::uint64_t frames = result.frames;
    metadata.frames = frames;
    if (auto trail = audit_(id)) {
      metadata.audit_trail = std::move(*trail);
    } else {
      // The store's own line says why; the trail stays in the state database.
      log::Warn("recording.metadata_without_trail", {{"contact", id}});
    }
    metadata.storage_dropped_frames = result.dropped_frames;
    if (!result.error.empty()) {
      metadata.storage_error = result.error;
      metadata.complete = false;
    }
    if (auto sha = Sha256OfFile(wav); sha.ok()) metadata.sha256 = sha.value();
    const auto json = std::filesystem::path(wav).replace_extension(".json");
    if (auto written = WriteJsonAtomically(json, MetadataToJson(metadata)); !written.ok()) {
      log::Error("recording.metadata_failed",
                 {{"contact", id}, {"error", written.error().message}});
    }
    log::Info("recording.finished",
              {{"contact", id}, {"frames", frames}, {"complete", metadata.complete}});
  });
}

void Recorder::Finalise(Call& call) {
  if (!on_finalised_) return;
  // Behind the writer's last job for this file (the final metadata).
  writer_.Post([this, id = call.id, wav = call.wav] { on_finalised_(id, wav); });
}

std::vector<std::shared_ptr<Recorder::Call>> Recorder::Calls() const {
  std::vector<std::shared_ptr<Call>> calls;
  std::lock_guard lock(mutex_);
  if (shut_down_) return calls;
  for (const auto& [id, call] : calls_) calls.push_back(call);
  return calls;
}

void Recorder::Tick() {
  const std::uint64_t tick = ++ticks_;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
  }
  PollUring();  // what came since the last poll is placed before the flush
  const auto now = RecordingSession::Clock::now();
  for (const auto& call : Calls()) {
    // Held while taking and queueing, so the last frames of a finishing
    // recording cannot be queued after its close.
    std::lock_guard lock(call->mutex);
    if (!call->session || call->finished) continue;
    std::vector<std::int16_t> frames = call->session->TakeReady(now);
    if (std::all_of(frames.begin(), frames.end(), [](std::int16_t v) { return v == 0; })) {
      writer_.AppendSilence(call->id, frames.size() / 2);  // nothing heard: no samples to carry
    } else {
      writer_.Append(call->id, std::move(frames));
    }
    if ((tick + call->sync_phase) % kTicksPerSync == 0) writer_.Sync(call->id);
  }
  ScheduleTick();
}

void Recorder::GuardedTick() {
  try {
    Tick();
  } catch (...) {
    barrier_.Caught({{"in", "tick"}});  // the tick stops, never the ticking
    ScheduleTick();
  }
}

void Recorder::ScheduleTick() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (std::chrono::steady_clock::now() - timer_.expiry() <= kLateTick) return GuardedTick();
    // This late, the media thread stalled: the datagrams of the stall wait in
    // the sockets, and flushing now would find them late and drop them. They
    // are read first; the flush is posted behind the handlers of the reads
    // the reactor completed meanwhile (a datagram each, the oldest).
    late_ticks_.fetch_add(1, std::memory_order_relaxed);
    try {
      if (uring_) {
        PollUring();
      } else {
        for (const auto& call : Calls()) ReadWaiting(*call);
      }
    } catch (...) {
      barrier_.Caught({{"in", "tick"}});
    }
    asio::post(io_, [this] { GuardedTick(); });
  });
}

core::Result<std::optional<RecordingView>, std::string> Recorder::View(
    const std::string& contact_id) const {
  const std::shared_ptr<Call> call = FindCall(contact_id);
  if (!call) {
    {
      std::lock_guard lock(mutex_);
      auto it = finished_.find(contact_id);
      if (it != finished_.end()) return std::optional<RecordingView>(it->second);
    }
    if (archive_ == nullptr) return std::optional<RecordingView>();
    return archive_->Find(contact_id);
  }
  RecordingView view;
  const std::string host = config_.rtp_host.find(':') != std::string::npos
                               ? "[" + config_.rtp_host + "]"
                               : config_.rtp_host;
  view.rtp = RtpEndpoints{host + ":" + std::to_string(call->ports[0]),
                          host + ":" + std::to_string(call->ports[1])};
  std::lock_guard lock(call->mutex);
  if (call->session) {
    view.path = call->wav;
    view.counters = call->session->counters();
    view.running = call->session->running() && !call->finished;
  }
  return std::optional<RecordingView>(std::move(view));
}

std::size_t Recorder::RepairUnfinished() {
  std::size_t repaired = 0;
  std::error_code ec;
  if (!std::filesystem::exists(config_.recordings_dir, ec)) return 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(config_.recordings_dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    boost::json::error_code json_ec;
    boost::json::value parsed = boost::json::parse(text.str(), json_ec);
    if (json_ec || !parsed.is_object()) continue;
    boost::json::object& metadata = parsed.as_object();
    const auto* complete = metadata.if_contains("Complete");
    const auto* end = metadata.if_contains("EndTime");
    // Finished recordings have an EndTime; an unfinished one was cut by a crash.
    // One with a Location lives in S3 now (its WAV was removed here): nothing to repair.
    if (!complete || !end || metadata.contains("Location")) continue;
    if (!end->is_null()) {
      const auto* id = metadata.if_contains("ContactId");
      if (on_found_finished_ && id && id->is_string()) {
        on_found_finished_(std::string(id->as_string()),
                           std::filesystem::path(entry.path()).replace_extension(".wav"));
      }
      continue;
    }
    const auto wav = std::filesystem::path(entry.path()).replace_extension(".wav");
    auto info = RepairWav(wav);
    if (!info.ok()) {
      log::Error("recording.repair_failed",
                 {{"path", wav.string()}, {"error", info.error().message}});
      continue;
    }
    metadata["Frames"] = info->frames;
    metadata["DurationSeconds"] = static_cast<double>(info->frames) / RecordingSession::kRate;
    if (auto sha = Sha256OfFile(wav); sha.ok()) metadata["Sha256"] = sha.value();
    metadata["Complete"] = false;
    metadata["Repaired"] = true;
    metadata["EndTime"] = nullptr;
    if (auto* id = metadata.if_contains("ContactId"); id && id->is_string()) {
      if (const auto trail = audit_(std::string(id->as_string()))) {
        metadata["AuditTrail"] = AuditTrailJson(*trail);
      }
    }
    metadata["RepairedAt"] = core::FormatTimestamp(wall_clock_());
    WriteJsonAtomically(entry.path(), metadata);
    log::Warn("recording.repaired", {{"path", wav.string()}, {"frames", info->frames}});
    if (auto* id = metadata.if_contains("ContactId"); id && id->is_string()) {
      const std::string contact_id(id->as_string());
      if (archive_) {
        // Its contact was ended by the restart, with no call here to keep its
        // view: kept now, so the recordings list (from the archive) has it.
        RecordingView view;
        view.path = wav;
        view.counters.frames_written = info->frames;
        archive_->Keep(contact_id, view, [] {});
      }
      if (on_finalised_) on_finalised_(contact_id, wav);
    }
    ++repaired;
  }
  return repaired;
}

void Recorder::Shutdown() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    for (const auto& [id, call] : calls_) calls.push_back(call);
  }
  for (const auto& call : calls) {
    std::lock_guard lock(call->mutex);
    if (call->session && !call->finished) {
      FinishRecording(*call, true);
      Finalise(*call);
    }
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& call : calls) ReleasePorts(call);
    calls_.clear();
  }
  // The timer is the media thread's (a tick may be rescheduling it now): its
  // cancel goes there. A tick that runs first sees shut_down_ and stops.
  asio::post(io_, [this] {
    timer_.cancel();
    poll_timer_.cancel();
  });
  writer_.Stop();
}

}  // namespace callrec::media
