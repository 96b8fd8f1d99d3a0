#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "callgen/DtmfPlan.hpp"
#include "core/Result.hpp"
#include "media/G711.hpp"

namespace callrec::callgen {

using Seconds = std::chrono::duration<double>;

struct PauseWindow {
  Seconds start;
  Seconds end;
};

// Everything callrec-callgen is asked to do, from one option table
// (ParseCallgenConfig). Times are offsets from the call's first 200 OK, when
// its audio starts.
struct CallgenConfig {
  std::string target_host;  // numeric IP, as given (IPv6 without brackets)
  std::uint16_t target_port = 5060;
  std::string transport = "udp";  // udp | tcp | tls
  std::string local_ip;           // where SIP and RTP are bound
  // SIP over TLS: the CA bundle the recorder's certificate must chain to
  // (empty: not verified) and a client certificate + key (mutual TLS).
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // SRTP suite of every stream (empty: plain RTP), keys sent by SDES; needs tls.
  std::string srtp;

  int sessions = 1;   // calls placed
  double rate = 1.0;  // calls started per second
  Seconds duration{0.0};

  std::string customer_wav;  // empty: a 440 Hz tone
  std::string agent_wav;     // empty: a 1000 Hz tone
  media::Codec codec = media::Codec::kPcmu;

  std::string contact_id;         // X-Contact-Id of a single call
  std::string contact_id_prefix;  // X-Contact-Id P-1, P-2, ...
  std::string initial_contact_id;

  std::string customer_aor = "sip:+15551230001@pstn.example";
  std::string agent_aor = "sip:agent1@cc.example";
  std::string transfer_agent_aor = "sip:agent2@cc.example";

  std::optional<Seconds> agent_joins_after;
  std::optional<Seconds> transfer_after;
  std::optional<PauseWindow> client_pause;
  // --dtmf: digits keyed in the customer's audio (DtmfPlan).
  DtmfOptions dtmf;

  // --rtp-only: RTP with no SIP to the destinations this file lists
  // (RtpOnlyCalls); --target is not used.
  std::string rtp_only_file;
  // --send-batch: auto | uring | off (RtpSender's SendBatch).
  std::string send_batch = "auto";

  bool json = false;
  bool realtime = false;  // SCHED_FIFO for the media thread
  bool verbose = false;
};

// The X-Contact-Id of call `index` (0-based), empty when no ids were asked for.
std::string ContactIdOf(const CallgenConfig& config, int index);
// The X-Contact-Id of the session that call `index` is transferred to.
std::string TransferContactIdOf(const CallgenConfig& config, int index);
// X-Initial-Contact-Id of every session of call `index`: --initial-contact-id,
// else the first session's contact id (as in Amazon Connect, the first
// contact is its own initial contact, and a transfer's recording is filed
// beside it). Empty when no ids were asked for.
std::string InitialContactIdOf(const CallgenConfig& config, int index);

// Splits "HOST:PORT" or "[IPv6]:PORT" (port 1-65535); false when malformed.
bool SplitHostPort(const std::string& text, std::string& host, std::uint16_t& port);

// Parses the command line. --help and errors are written to out/err; the
// error is then the process exit code (0 after --help, 2 on a usage error).
// The WAV files are not read here, but --duration defaults to the longer of
// their lengths, so they are opened for their headers.
core::Result<CallgenConfig, int> ParseCallgenConfig(int argc, const char* const* argv,
                                                    std::ostream& out, std::ostream& err);

// Checks the timings against each other; the reason when they conflict.
std::optional<std::string> CheckTimings(const CallgenConfig& config);

}  // namespace callrec::callgen
