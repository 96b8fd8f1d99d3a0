#pragma once

// Private to the Recorder's sources (Recorder.cpp, RecorderReceive.cpp).

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "media/Recorder.hpp"
#include "srtp/SrtpStream.hpp"

namespace callrec::media {

// The largest datagram read (RTP over UDP on a LAN stays far below it).
inline constexpr std::size_t kDatagramBytes = 2048;

// One contact's media: its two sockets and, while a recording exists, the session.
struct Recorder::Call {
  Call(boost::asio::io_context& io, core::Contact c, bool skip, DtmfPolicy digits)
      : id(c.contact_id),
        contact(std::move(c)),
        skip_paused(skip),
        dtmf(digits),
        sockets{boost::asio::ip::udp::socket(io), boost::asio::ip::udp::socket(io)} {}

  const std::string id;
  core::Contact contact;  // the last settled state; guarded by mutex
  bool skip_paused;
  DtmfPolicy dtmf;
  std::array<std::optional<std::uint8_t>, 2> telephone_event_pt;
  boost::asio::ip::udp::socket sockets[2];
  std::uint16_t ports[2] = {0, 0};
  // Asio's receive path only (the io_uring path reads into its shared buffers).
  std::unique_ptr<std::array<std::uint8_t, kDatagramBytes>> buffers[2];
  boost::asio::ip::udp::endpoint senders[2];
  // The io_uring path: each leg's key in UringReceiver (0: not added). Media thread.
  std::uint64_t receive_keys[2] = {0, 0};
  std::atomic<bool> agent_heard{false};
  bool agent_reported = false;
  bool finished = false;
  std::uint64_t sync_phase = 0;

  std::mutex mutex;  // guards the SRTP legs, session, path, metadata state below
  MediaKeys keys;
  std::optional<srtp::SrtpStream> srtp[2];  // SRTP legs: unprotected before parsing
  RtpSourceGuard sources[2];                // which sender each leg records
  bool foreign_reported[2] = {false, false};
  std::shared_ptr<RecordingSession> session;
  std::filesystem::path wav;
  RecordingMetadata metadata;
};

}  // namespace callrec::media
