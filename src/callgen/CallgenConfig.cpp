#include "callgen/CallgenConfig.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <ostream>
#include <utility>
#include <vector>

#include "callgen/AudioClip.hpp"
#include "callgen/RtpSocket.hpp"
#include "srtp/SdesCrypto.hpp"

namespace callrec::callgen {
namespace {}  // namespace

bool SplitHostPort(const std::string& text, std::string& host, std::uint16_t& port) {
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return false;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty() || port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), ::isdigit)) {
    return false;
  }
  const int value = std::stoi(port_text);
  if (value < 1 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

namespace {

std::optional<PauseWindow> ParsePause(const std::string& text) {
  const auto dash = text.find('-');
  if (dash == std::string::npos) return std::nullopt;
  try {
    std::size_t used = 0;
    const double start = std::stod(text.substr(0, dash), &used);
    if (used != dash) return std::nullopt;
    const std::string rest = text.substr(dash + 1);
    const double end = std::stod(rest, &used);
    if (used != rest.size()) return std::nullopt;
    return PauseWindow{Seconds{start}, Seconds{end}};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string ContactIdOf(const CallgenConfig& config, int index) {
  if (!config.contact_id_prefix.empty()) {
    return config.contact_id_prefix + "-" + std::to_string(index + 1);
  }
  return config.contact_id;
}

std::string TransferContactIdOf(const CallgenConfig& config, int index) {
  const std::string first = ContactIdOf(config, index);
  return first.empty() ? std::string() : first + "-transfer";
}

std::string InitialContactIdOf(const CallgenConfig& config, int index) {
  if (!config.initial_contact_id.empty()) return config.initial_contact_id;
  return ContactIdOf(config, index);
}

std::optional<std::string> CheckTimings(const CallgenConfig& c) {
  const auto within = [&](Seconds t) { return t.count() >= 0 && t < c.duration; };
  if (c.duration.count() <= 0) return "--duration must be positive";
  if (c.agent_joins_after && !within(*c.agent_joins_after)) {
    return "--agent-joins-after must be within the call (0 to --duration)";
  }
  if (c.transfer_after) {
    if (!within(*c.transfer_after) || c.transfer_after->count() <= 0) {
      return "--transfer-after must be within the call (after 0, before --duration)";
    }
    if (c.agent_joins_after && *c.agent_joins_after >= *c.transfer_after) {
      return "--agent-joins-after must come before --transfer-after";
    }
  }
  if (c.client_pause) {
    const auto& p = *c.client_pause;
    if (p.start.count() < 0 || p.end <= p.start || p.end >= c.duration) {
      return "--client-pause START-END needs 0 <= START < END < --duration";
    }
    if (c.transfer_after && p.start < *c.transfer_after && p.end > *c.transfer_after) {
      return "--client-pause must not span --transfer-after";
    }
  }
  const auto presses = PlanKeyPresses(c.dtmf);
  for (std::size_t i = 0; i < presses.size(); ++i) {
    if (static_cast<double>(presses[i].end()) / 8000.0 > c.duration.count()) {
      return "--dtmf digits must end within the call (before --duration)";
    }
    // One slot at least between presses: a packet overlaps one press at most.
    if (i > 0 && presses[i].start < presses[i - 1].end() + 160) {
      return "--dtmf sequences overlap";
    }
  }
  if (!c.contact_id.empty() && c.sessions > 1) {
    return "--contact-id names one call; use --contact-id-prefix with --sessions";
  }
  return std::nullopt;
}

core::Result<CallgenConfig, int> ParseCallgenConfig(int argc, const char* const* argv,
                                                    std::ostream& out, std::ostream& err) {
  CallgenConfig config;
  std::string target;
  std::string codec = "PCMU";
  double duration = 0;
  double agent_joins_after = -1;
  double transfer_after = -1;
  std::string pause;
  std::vector<std::string> dtmf;
  std::string dtmf_mode = "inband";

  CLI::App app{
      "callrec-callgen: a SIPREC recording client (SRC) simulator. Places calls to a\n"
      "recording server: one INVITE per call (Require: siprec, multipart SDP + rs-metadata),\n"
      "customer and agent audio as 20 ms G.711 RTP, re-INVITEs for a late agent or a client\n"
      "pause, a second session for a transfer, then BYE. Prints what it sent. Times are\n"
      "seconds from the call's 200 OK. Exit code 1 when any session failed."};
  app.add_option("--target", target,
                 "Recording server, HOST:PORT ([IPv6]:PORT); required but with --rtp-only");
  app.add_option("--rtp-only", config.rtp_only_file,
                 "RTP with no SIP, e.g. to benchmark another media server: FILE has one line a\n"
                 "call, NAME CUSTOMER_DEST AGENT_DEST (DEST: IP:PORT or [IPv6]:PORT; # comments).\n"
                 "Calls start at --rate; each sends its two streams for --duration")
      ->check(CLI::ExistingFile);
  app.add_option("--transport", config.transport, "SIP transport")
      ->check(CLI::IsMember({"udp", "tcp", "tls"}))
      ->capture_default_str();
  app.add_option("--tls-ca", config.tls_ca,
                 "TLS: PEM CA bundle the recorder's certificate must chain to (default: not "
                 "verified)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", config.tls_cert, "TLS: client certificate (PEM), with --tls-key")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", config.tls_key, "TLS: the client certificate's key (PEM)")
      ->check(CLI::ExistingFile);
  app.add_option("--srtp", config.srtp,
                 "SRTP suite of every stream, keys sent by SDES (a=crypto; needs --transport "
                 "tls): AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, "
                 "AES_256_CM_HMAC_SHA1_32");
  app.add_option("--local-ip", config.local_ip,
                 "Local address for SIP and RTP (default: the one routed toward the target)");
  app.add_option("--sessions", config.sessions, "Calls to place")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--rate", config.rate, "Calls started per second")
      ->check(CLI::Range(0.001, 10000.0))
      ->capture_default_str();
  app.add_option("--duration", duration,
                 "Seconds from 200 OK to BYE (default: the longer WAV, else 5)")
      ->check(CLI::Validator(
          [](const std::string& value) {
            return std::stod(value) > 0 ? std::string() : std::string("must be above 0 seconds");
          },
          "SECONDS"));
  app.add_option("--customer-wav", config.customer_wav,
                 "Customer audio: 8 kHz mono WAV, µ-law, A-law or 16-bit PCM (default: 440 Hz)")
      ->check(CLI::ExistingFile);
  app.add_option("--agent-wav", config.agent_wav, "Agent audio, same formats (default: 1000 Hz)")
      ->check(CLI::ExistingFile);
  app.add_option("--codec", codec, "Codec sent; WAVs are transcoded if needed")
      ->check(CLI::IsMember({"PCMU", "PCMA"}, CLI::ignore_case))
      ->capture_default_str();
  auto* contact =
      app.add_option("--contact-id", config.contact_id, "X-Contact-Id of the call (one call only)");
  app.add_option("--contact-id-prefix", config.contact_id_prefix,
                 "X-Contact-Id P-1, P-2, ... per call (a transfer adds -transfer)")
      ->excludes(contact);
  app.add_option("--initial-contact-id", config.initial_contact_id,
                 "X-Initial-Contact-Id of every session (default: the call's first contact id)");
  app.add_option("--customer-aor", config.customer_aor, "Customer participant's AoR")
      ->capture_default_str();
  app.add_option("--agent-aor", config.agent_aor, "Agent participant's AoR")->capture_default_str();
  app.add_option("--transfer-agent-aor", config.transfer_agent_aor,
                 "Agent of the session after --transfer-after")
      ->capture_default_str();
  app.add_option("--agent-joins-after", agent_joins_after,
                 "The agent joins late: first INVITE without the agent participant (its stream\n"
                 "silent), re-INVITE with full metadata at this time, agent audio from then");
  app.add_option("--transfer-after", transfer_after,
                 "At this time, open a second session in the same group (new session id, new\n"
                 "contact id, --transfer-agent-aor) and BYE the first");
  app.add_option("--client-pause", pause,
                 "START-END: re-INVITE with every stream a=inactive at START (no RTP sent),\n"
                 "back to a=sendonly at END");
  app.add_option("--dtmf", dtmf,
                 "DIGITS@SECONDS (repeatable): the customer keys DIGITS (0-9 * # A-D) from\n"
                 "SECONDS after the 200 OK, e.g. 4111111111111111@3.0. The report lists when\n"
                 "each digit starts, never the digits (stderr shows them with --verbose only)");
  app.add_option("--dtmf-mode", dtmf_mode,
                 "inband: Q.23 tones replace the customer's audio while a key is down;\n"
                 "rfc4733: telephone-event packets (payload type 101 offered) instead of that\n"
                 "audio, as an SBC that strips in-band DTMF; both: tones and events")
      ->check(CLI::IsMember({"inband", "rfc4733", "both"}))
      ->capture_default_str();
  app.add_option("--dtmf-level", config.dtmf.level_dbm0, "Level of each tone, dBm0")
      ->check(CLI::Range(-50.0, -3.0))
      ->capture_default_str();
  app.add_option("--dtmf-duration", config.dtmf.duration_ms,
                 "Milliseconds each key is down (tone, or event duration)")
      ->check(CLI::Range(40, 2000))
      ->capture_default_str();
  app.add_option("--dtmf-gap", config.dtmf.gap_ms, "Milliseconds between two keys")
      ->check(CLI::Range(40, 2000))
      ->capture_default_str();
  app.add_option("--send-batch", config.send_batch,
                 "How RTP reaches the kernel: uring (every packet due at a wake-up in one\n"
                 "io_uring_enter), off (one sendto a packet), auto (uring if the kernel allows)")
      ->check(CLI::IsMember({"auto", "uring", "off"}))
      ->capture_default_str();
  app.add_flag("--json", config.json, "Print the report as JSON");
  app.add_flag("--realtime", config.realtime,
               "Run the media thread with SCHED_FIFO (needs CAP_SYS_NICE), for load runs");
  app.add_flag("-v,--verbose", config.verbose, "Print each SIP event as it happens (stderr)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error, out, err);
    return code == 0 ? 0 : 2;
  }
  const auto usage = [&](const std::string& message) {
    err << "callrec-callgen: " << message << "\nRun with --help for more information.\n";
    return core::Result<CallgenConfig, int>(2);
  };
  const bool rtp_only = !config.rtp_only_file.empty();
  if (target.empty() && !rtp_only) return usage("--target is required");
  if (!target.empty()) {
    if (!SplitHostPort(target, config.target_host, config.target_port)) {
      return usage("--target must be HOST:PORT, e.g. 127.0.0.1:5060");
    }
    if (!MakeUdpAddress(config.target_host, config.target_port)) {
      return usage("--target host must be a numeric IP address: " + config.target_host);
    }
  }
  if (config.local_ip.empty() && rtp_only && config.target_host.empty()) {
    // Left empty: the address routed toward the first call's destination.
  } else if (config.local_ip.empty()) {
    auto local = LocalIpToward(config.target_host);
    if (!local) return usage(local.error().message);
    config.local_ip = *local;
  } else if (!MakeUdpAddress(config.local_ip, 0)) {
    return usage("--local-ip must be a numeric IP address");
  }
  if (rtp_only) {
    const std::pair<bool, const char*> sip_only[] = {
        {!config.srtp.empty(), "--srtp"},
        {agent_joins_after >= 0, "--agent-joins-after"},
        {transfer_after >= 0, "--transfer-after"},
        {!pause.empty(), "--client-pause"},
        {!dtmf.empty(), "--dtmf"}};
    for (const auto& [given, name] : sip_only) {
      if (given) return usage(std::string(name) + " needs SIP: not with --rtp-only");
    }
  }
  if (!config.srtp.empty()) {
    if (!srtp::SuiteFromName(config.srtp)) {
      return usage("--srtp must be one of " + srtp::SupportedSuiteNames());
    }
    if (config.transport != "tls") {
      return usage("--srtp sends keys in the SDP: it needs --transport tls");
    }
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return usage("--tls-cert and --tls-key go together");
  }
  if ((!config.tls_ca.empty() || !config.tls_cert.empty()) && config.transport != "tls") {
    return usage("--tls-ca/--tls-cert/--tls-key need --transport tls");
  }
  config.codec = *media::ParseCodecName(codec);
  if (duration > 0) {
    config.duration = Seconds{duration};
  } else {
    double longest = 0;
    for (const auto& path : {config.customer_wav, config.agent_wav}) {
      if (path.empty()) continue;
      auto wav = ReadWav(path);
      if (!wav) return usage(wav.error());
      longest = std::max(longest, static_cast<double>(wav->samples()) / 8000.0);
    }
    config.duration = Seconds{longest > 0 ? longest : 5.0};
  }
  if (agent_joins_after >= 0) config.agent_joins_after = Seconds{agent_joins_after};
  if (transfer_after >= 0) config.transfer_after = Seconds{transfer_after};
  if (!pause.empty()) {
    config.client_pause = ParsePause(pause);
    if (!config.client_pause) return usage("--client-pause must be START-END in seconds, e.g. 2-4");
  }
  for (const auto& text : dtmf) {
    std::string reason;
    auto sequence = ParseDtmfSequence(text, reason);
    if (!sequence) return usage(reason);
    config.dtmf.sequences.push_back(std::move(*sequence));
  }
  config.dtmf.mode = *ParseDtmfMode(dtmf_mode);
  if (auto conflict = CheckTimings(config)) return usage(*conflict);
  return config;
}

}  // namespace callrec::callgen
