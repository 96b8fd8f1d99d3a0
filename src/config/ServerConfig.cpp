#include "config/ServerConfig.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>

namespace callrec::config {
namespace {

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// HOST:PORT, with [v6]:PORT for IPv6 literals.
std::string ParseHostPort(const std::string& text, HostPort& out) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected HOST:PORT, got '" + text + "'";
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = ParsePort(std::string_view(text).substr(colon + 1));
  if (!port) return "invalid port in '" + text + "'";
  out = {host, *port};
  return "";
}

std::string FormatHostPort(const HostPort& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

// ParseDuration's inverse: the largest unit that divides the time.
std::string FormatDuration(std::int64_t ms) {
  if (ms < 0) return "forever";
  if (ms == 0) return "0";
  for (const auto& [unit, scale] : {std::pair{"d", 86'400'000}, std::pair{"h", 3'600'000},
                                    std::pair{"m", 60'000}, std::pair{"s", 1'000}}) {
    if (ms % scale == 0) return std::to_string(ms / scale) + unit;
  }
  return std::to_string(ms) + "ms";
}

// An enumerated option: its flag takes a name from `choices` (refused
// otherwise, listing them), and `Finish` stores the value once parsing is done.
// The default is the value `into` holds: stated once, in ServerConfig.
class EnumOptions {
 public:
  template <typename Value, std::size_t N>
  CLI::Option* Add(CLI::App& app, const std::string& flag, Value& into,
                   const std::array<Choice<Value>, N>& choices, const std::string& help) {
    names_.push_back(std::make_unique<std::string>(ChoiceName(choices, into)));
    std::string& name = *names_.back();
    finish_.push_back([&into, &name, &choices] { into = *ChoiceValue(choices, name); });
    return app.add_option(flag, name, help)
        ->check(CLI::IsMember(ChoiceNames(choices)))
        ->capture_default_str();
  }
  void Finish() const {
    for (const auto& finish : finish_) finish();
  }

 private:
  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::function<void()>> finish_;
};

}  // namespace

std::optional<std::int64_t> ParseDuration(const std::string& text) {
  if (text == "forever") return -1;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e3;
  if (unit == "ms") scale = 1;
  if (unit == "m") scale = 60e3;
  if (unit == "h") scale = 3600e3;
  if (unit == "d") scale = 86400e3;
  if (scale == 0 || value * scale > 1e15) return std::nullopt;
  return static_cast<std::int64_t>(value * scale);
}

ParsedConfig ParseServerConfig(int argc, const char* const* argv) {
  ParsedConfig parsed;
  ServerConfig& c = parsed.config;
  CLI::App app{"callrec-server: records calls; Amazon Connect-compatible recording control API"};
  app.set_config("--config", "", "Read options from a TOML/INI file (same names as the flags)");
  app.get_config_formatter_base()->quoteCharacter('"', '"');

  // Defaults are ServerConfig's, shown in the flags' own syntax.
  std::string listen = FormatHostPort(c.listen);
  std::string sip_listen = FormatHostPort(c.sip_listen);
  std::string rtp_ports = std::to_string(c.rtp_port_low) + "-" + std::to_string(c.rtp_port_high);
  std::string data_dir = c.data_dir.string();
  std::vector<std::string> access_keys;
  std::vector<std::string> agent_tokens;
  std::string web_dir, guide_flow, inbound_flow;
  std::string tls_cert, tls_key;
  std::string sip_tls_listen, sip_tls_cert, sip_tls_key, sip_tls_client_ca;
  std::string cluster_secret_file;
  bool dump_config = false;
  EnumOptions enums;
  std::string s3_ca_file, s3_access_key;
  std::string local_retention = FormatDuration(c.local_retention_ms);
  std::string retry_max_backoff = FormatDuration(c.s3_retry_max_backoff_ms);

  // The option table: every flag, its default, and its config-file key.
  app.add_option("--listen", listen, "HTTP API address, HOST:PORT")->capture_default_str();
  app.add_option("--data-dir", data_dir, "State database and recordings directory")
      ->capture_default_str();
  app.add_option("--store", c.store,
                 "Where contacts, audit trails and the upload queue live: sqlite (callrec.db in "
                 "the data directory) or postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DB[?...] "
                 "(shared by several servers; the schema is created and migrated by the server)")
      ->capture_default_str();
  app.add_option("--node-id", c.node_id,
                 "This server's name among those sharing a PostgreSQL store: the owner of the "
                 "contacts it creates (empty: the host's name)")
      ->capture_default_str();
  app.add_option("--advertise-url", c.advertise_url,
                 "How the other nodes sharing the PostgreSQL store reach this node's HTTP API, "
                 "http[s]://HOST:PORT (operations on contacts this node owns are forwarded "
                 "there); empty: derived from --listen unless it is a wildcard address")
      ->capture_default_str();
  app.add_option("--node-lease", c.node_lease_seconds,
                 "Seconds without a heartbeat (written every second, on the database's clock) "
                 "after which a node sharing the PostgreSQL store is lost: a surviving node ends "
                 "its live contacts (\"node lost: NAME\")")
      ->check(CLI::Range(2u, 3600u))
      ->capture_default_str();
  app.add_option("--cluster-secret-file", cluster_secret_file,
                 "File holding the secret shared by the nodes to sign operations forwarded to "
                 "a contact's owner (HMAC-SHA256; at least 16 bytes); empty: no forwarding")
      ->capture_default_str();
  app.add_option("--instance-id", c.instance_ids, "Amazon Connect instance id served (repeatable)")
      ->capture_default_str();
  app.add_option("--access-key", access_keys,
                 "SigV4 credentials accepted on the Connect API, ID:SECRET (repeatable); "
                 "none: a key pair is generated into the data directory");
  app.add_option("--admin-token", c.admin_token,
                 "Bearer token for /v1; empty: one is generated into the data directory");
  app.add_option("--sip-listen", sip_listen, "SIPREC listener, HOST:PORT")->capture_default_str();
  app.add_option("--sip-tls-listen", sip_tls_listen,
                 "SIPREC over TLS listener, HOST:PORT (empty: no TLS; needs --sip-tls-cert and "
                 "--sip-tls-key)")
      ->capture_default_str();
  app.add_option("--sip-tls-cert", sip_tls_cert, "SIP TLS: PEM certificate chain presented")
      ->capture_default_str();
  app.add_option("--sip-tls-key", sip_tls_key, "SIP TLS: PEM private key of --sip-tls-cert")
      ->capture_default_str();
  app.add_option("--sip-tls-client-ca", sip_tls_client_ca,
                 "SIP TLS: PEM CA bundle; when set, clients must present a certificate it signed")
      ->capture_default_str();
  enums.Add(app, "--srtp", c.srtp, kSrtpModes,
            "SRTP (SDES keys, SIP over TLS only): optional, or required (plain RTP refused)");
  app.add_option("--rtp-ports", rtp_ports, "UDP port range for RTP, LOW-HIGH")
      ->capture_default_str();
  enums.Add(app, "--rtp-source", c.rtp_source, kRtpSources,
            "Which senders an RTP port records: strict (the address the SIPREC offer "
            "names), learn (the first to pass probation), any (unsafe: anyone who reaches "
            "the port), default (strict for SIPREC, learn for /v1)");
  enums.Add(app, "--dtmf-policy", c.dtmf_policy, kDtmfPolicies,
            "In-band DTMF (keyed digits) in the audio: mask (each digit's tone replaced by "
            "silence in the file), pause (the first digit pauses the recording as an agent's "
            "PAUSE would, by policy:dtmf, resumed after --dtmf-resume-after without digits) "
            "or record (kept: unsafe for card data)");
  enums.Add(app, "--media-receive", c.media_receive, kMediaReceives,
            "How the media thread reads RTP: io_uring (multishot receive, one kernel entry for "
            "every waiting datagram; refused to start without it), asio (a read per datagram) "
            "or auto (io_uring where the kernel allows it, else asio)");
  app.add_option("--dtmf-resume-after", c.dtmf_resume_after,
                 "--dtmf-policy pause: seconds without a digit after which the policy resumes "
                 "its own pause (never an agent's or client's)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--event-rule", c.event_rules,
                 "TYPE=PAUSE or TYPE=RESUME: what POST /v1/contacts/{id}/events {\"Type\": TYPE} "
                 "does to the contact's recording (repeat for each type; given, it replaces the "
                 "defaults)")
      ->capture_default_str();
  enums.Add(app, "--pause-behavior", c.pause_behavior, kPauseBehaviors,
            "Paused time in the file: silence or skip");
  app.add_option("--max-pause", c.max_pause_seconds,
                 "Seconds a pause may last: past it the workspace warns the agent and the pause "
                 "is audited (PAUSE_OVERDUE) and counted; it is never resumed by itself; 0: none")
      ->check(CLI::Range(0u, 86400u))
      ->capture_default_str();
  app.add_option("--agent-match", c.agent_match,
                 "SIPREC: regex on a participant's AoR or name that marks the agent")
      ->capture_default_str();
  enums.Add(app, "--auto-record", c.auto_record, kAutoRecords,
            "SIPREC: start recording when a session begins: off, ALL, TO_AGENT, FROM_AGENT");
  app.add_option("--contact-id-header", c.contact_id_header,
                 "SIPREC: SIP header carrying the ContactId (else derived from the session id)")
      ->capture_default_str();
  app.add_option("--initial-contact-id-header", c.initial_contact_id_header,
                 "SIPREC: SIP header carrying the InitialContactId (else the SIPREC group)")
      ->capture_default_str();
  app.add_option("--web-dir", web_dir,
                 "Workspace pages (empty: share/callrec/web beside an installed binary, else the "
                 "source tree's web/)")
      ->capture_default_str();
  app.add_option("--guide-flow", guide_flow,
                 "Agent guide flow run for each contact (empty: flows/agent-recording-guide.json)")
      ->capture_default_str();
  app.add_option("--inbound-flow", inbound_flow,
                 "Inbound flow whose attributes a new contact gets (empty: "
                 "flows/inbound-recording.json)")
      ->capture_default_str();
  app.add_option("--agent-token", agent_tokens,
                 "Workspace sign-in for an agent, AGENT:TOKEN (repeatable; more via POST "
                 "/v1/agents)");
  enums.Add(app, "--log-level", c.log_level, kLogLevels, "debug, info, warn or error");
  app.add_option("--http-threads", c.http_threads,
                 "HTTP worker threads (0: one per core but one, at least one)")
      ->capture_default_str();
  app.add_option("--drain-timeout", c.drain_timeout_seconds,
                 "Seconds SIGTERM/SIGINT drains before stopping: SIP OPTIONS and new INVITEs are "
                 "answered 503, live calls go on to their end, pending uploads finish; a second "
                 "signal stops at once; 0: stop at once")
      ->check(CLI::Range(0u, 86400u))
      ->capture_default_str();
  app.add_option("--tls-cert", tls_cert,
                 "HTTPS: PEM certificate chain for the HTTP API (with --tls-key; empty: plain "
                 "HTTP)")
      ->capture_default_str();
  app.add_option("--tls-key", tls_key, "HTTPS: PEM private key of --tls-cert (not encrypted)")
      ->capture_default_str();
  app.add_option("--replay-cache-entries", c.replay_cache_entries,
                 "Connect API signatures remembered until they expire (a repeated one may change "
                 "nothing); when full, new requests get 429 ThrottlingException")
      ->check(CLI::Range(std::size_t{1000}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--max-contacts", c.max_contacts,
                 "Contacts not ENDED at once; a new one beyond it is refused (/v1: 503 "
                 "ServiceUnavailableException, SIPREC: 503 with Retry-After); 0: no limit")
      ->capture_default_str();
  app.add_option("--max-sip-sessions-per-source", c.max_sip_sessions_per_source,
                 "SIPREC dialogs at once from one source address; an INVITE beyond it gets 503 "
                 "with Retry-After; 0: no limit")
      ->capture_default_str();
  app.add_option("--sip-allow", c.sip_allow,
                 "Network SIPREC may come from, CIDR (repeatable; IPv4 or IPv6); none: loopback "
                 "only (a non-loopback --sip-listen then refuses to start)");
  app.add_option("--retention", c.retention_days,
                 "Days a recording is kept after it ended (fractions allowed); then its WAV and "
                 "metadata are deleted, audited EXPIRED, unless under legal hold; 0: for ever")
      ->check(CLI::Range(0.0, 36500.0))
      ->capture_default_str();
  app.add_option("--recordings-store", c.recordings_store,
                 "Where finished recordings live: file (the data directory) or "
                 "s3://BUCKET[/PREFIX] (written locally, then uploaded once final, Amazon "
                 "Connect's key layout)")
      ->capture_default_str();
  app.add_option("--s3-endpoint", c.s3_endpoint,
                 "S3 endpoint URL, http(s)://HOST[:PORT] (empty: the region's Amazon S3)")
      ->capture_default_str();
  app.add_option("--s3-region", c.s3_region, "S3 region (signing scope)")->capture_default_str();
  app.add_flag("--s3-path-style", c.s3_path_style,
               "Path-style bucket addressing (Ceph RGW, MinIO); default virtual-hosted")
      ->capture_default_str();
  app.add_option("--s3-ca-file", s3_ca_file,
                 "PEM CA bundle to verify an https S3 endpoint with (empty: the system's)")
      ->capture_default_str();
  app.add_option("--s3-access-key", s3_access_key,
                 "S3 credentials, ID:SECRET (empty: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
                 "AWS_SESSION_TOKEN from the environment)")
      ->capture_default_str();
  enums.Add(app, "--s3-sse", c.s3_sse, kS3Encryptions,
            "Server-side encryption of uploaded objects: none, AES256, aws:kms");
  app.add_option("--s3-sse-kms-key-id", c.s3_sse_kms_key_id,
                 "KMS key (id, ARN or alias) for --s3-sse aws:kms (empty: the bucket's default)")
      ->capture_default_str();
  app.add_option("--s3-multipart-threshold", c.s3_multipart_threshold,
                 "Recordings larger than this many bytes are uploaded in parts")
      ->capture_default_str();
  app.add_option("--s3-part-size", c.s3_part_size,
                 "Bytes per multipart part (Amazon S3 needs at least 5 MiB; smaller only for a "
                 "store configured to take them)")
      ->check(CLI::Range(std::uint64_t{4096}, std::uint64_t{5} << 30))
      ->capture_default_str();
  app.add_option("--local-retention", local_retention,
                 "How long the local copy of an uploaded recording stays once the upload is "
                 "confirmed: 0, 90s, 15m, 12h, 7d, or forever")
      ->capture_default_str();
  app.add_option("--s3-retry-max-backoff", retry_max_backoff,
                 "Longest wait between two attempts at an upload (network errors, 5xx and "
                 "throttling back off doubling, with jitter, up to it; 403/404 wait half of it "
                 "at first)")
      ->capture_default_str();
  app.add_flag("--dump-config", dump_config, "Print every option with its value and exit")
      ->configurable(false);

  try {
    app.parse(argc, argv);
    enums.Finish();
    std::string error = ParseHostPort(listen, c.listen);
    if (error.empty()) error = ParseHostPort(sip_listen, c.sip_listen);
    if (!error.empty()) throw CLI::ValidationError("address", error);

    const std::size_t dash = rtp_ports.find('-');
    auto low = ParsePort(std::string_view(rtp_ports).substr(0, dash));
    auto high = dash == std::string::npos ? std::nullopt
                                          : ParsePort(std::string_view(rtp_ports).substr(dash + 1));
    if (!low || !high || *low >= *high) {
      throw CLI::ValidationError("--rtp-ports",
                                 "expected LOW-HIGH with LOW < HIGH, got '" + rtp_ports + "'");
    }
    c.rtp_port_low = *low;
    c.rtp_port_high = *high;

    for (const std::string& key : access_keys) {
      if (key.empty()) continue;  // an empty entry in a config file means none
      const std::size_t colon = key.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == key.size()) {
        throw CLI::ValidationError("--access-key", "expected ID:SECRET");
      }
      c.access_keys.push_back({key.substr(0, colon), key.substr(colon + 1)});
    }
    for (const std::string& entry : agent_tokens) {
      if (entry.empty()) continue;
      const std::size_t colon = entry.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size()) {
        throw CLI::ValidationError("--agent-token", "expected AGENT:TOKEN");
      }
      c.agent_tokens.push_back({entry.substr(0, colon), entry.substr(colon + 1)});
    }
    if (tls_cert.empty() != tls_key.empty()) {
      throw CLI::ValidationError("--tls-cert/--tls-key",
                                 "give both the certificate and its key, or neither");
    }
    c.tls_cert = tls_cert;
    c.tls_key = tls_key;
    if (!sip_tls_listen.empty()) {
      const std::string tls_error = ParseHostPort(sip_tls_listen, c.sip_tls_listen);
      if (!tls_error.empty()) throw CLI::ValidationError("--sip-tls-listen", tls_error);
      if (sip_tls_cert.empty() || sip_tls_key.empty()) {
        throw CLI::ValidationError("--sip-tls-listen",
                                   "SIP over TLS needs --sip-tls-cert and --sip-tls-key");
      }
    } else if (!sip_tls_cert.empty() || !sip_tls_key.empty() || !sip_tls_client_ca.empty()) {
      throw CLI::ValidationError("--sip-tls-cert/--sip-tls-key/--sip-tls-client-ca",
                                 "given without --sip-tls-listen");
    }
    c.sip_tls_cert = sip_tls_cert;
    c.sip_tls_key = sip_tls_key;
    c.sip_tls_client_ca = sip_tls_client_ca;
    c.web_dir = web_dir;
    c.guide_flow = guide_flow;
    c.inbound_flow = inbound_flow;
    if (c.instance_ids.empty()) {
      throw CLI::ValidationError("--instance-id", "at least one instance id is needed");
    }
    for (const std::string& id : c.instance_ids) {
      if (id.empty() || id.size() > 100) {
        throw CLI::ValidationError("--instance-id", "instance ids are 1 to 100 characters");
      }
    }
    if (!c.agent_match.empty()) {
      try {
        std::regex check(c.agent_match);
      } catch (const std::regex_error& error) {
        throw CLI::ValidationError("--agent-match", std::string("invalid regex: ") + error.what());
      }
    }
    if (c.store != "sqlite" && c.store.rfind("postgresql://", 0) != 0 &&
        c.store.rfind("postgres://", 0) != 0) {
      // Not echoed: a mistyped URI may hold a password.
      throw CLI::ValidationError("--store",
                                 "expected sqlite or a postgresql:// URI "
                                 "(postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS])");
    }
    if (c.node_id.size() > 100 || c.node_id.find_first_of(" \t\r\n\"") != std::string::npos) {
      throw CLI::ValidationError("--node-id", "at most 100 characters, no spaces or quotes");
    }
    if (!c.advertise_url.empty()) {
      const bool http = c.advertise_url.rfind("http://", 0) == 0;
      const bool https = c.advertise_url.rfind("https://", 0) == 0;
      const std::string rest = c.advertise_url.substr(http ? 7 : https ? 8 : 0);
      if ((!http && !https) || rest.empty() || rest.find_first_of("/?# ") != std::string::npos) {
        throw CLI::ValidationError("--advertise-url",
                                   "expected http[s]://HOST:PORT, got '" + c.advertise_url + "'");
      }
    }
    c.cluster_secret_file = cluster_secret_file;
    if (c.recordings_store != "file") {
      if (c.recordings_store.rfind("s3://", 0) != 0 || c.recordings_store.size() <= 5) {
        throw CLI::ValidationError(
            "--recordings-store",
            "expected file or s3://BUCKET[/PREFIX], got '" + c.recordings_store + "'");
      }
      const std::string rest = c.recordings_store.substr(5);
      const std::size_t slash = rest.find('/');
      c.s3_bucket = rest.substr(0, slash);
      c.s3_prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
      while (!c.s3_prefix.empty() && c.s3_prefix.back() == '/') c.s3_prefix.pop_back();
      if (c.s3_bucket.empty()) throw CLI::ValidationError("--recordings-store", "no bucket");
    }
    if (!s3_access_key.empty()) {
      const std::size_t colon = s3_access_key.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == s3_access_key.size()) {
        throw CLI::ValidationError("--s3-access-key", "expected ID:SECRET");
      }
      c.s3_access_key = {s3_access_key.substr(0, colon), s3_access_key.substr(colon + 1)};
    }
    c.s3_ca_file = s3_ca_file;
    if (c.s3_multipart_threshold < c.s3_part_size) c.s3_multipart_threshold = c.s3_part_size;
    const auto retention = ParseDuration(local_retention);
    if (!retention) {
      throw CLI::ValidationError(
          "--local-retention",
          "expected 0, a duration (90s, 15m, 12h, 7d) or forever, got '" + local_retention + "'");
    }
    c.local_retention_ms = *retention;
    const auto backoff = ParseDuration(retry_max_backoff);
    if (!backoff || *backoff < 1000) {
      throw CLI::ValidationError(
          "--s3-retry-max-backoff",
          "expected a duration of at least 1s (30s, 5m), got '" + retry_max_backoff + "'");
    }
    c.s3_retry_max_backoff_ms = *backoff;
    c.data_dir = data_dir;
  } catch (const CLI::ParseError& error) {
    parsed.exit = true;
    parsed.exit_code = app.exit(error);
    return parsed;
  }
  if (dump_config) {
    std::cout << app.config_to_str(true, true);
    parsed.exit = true;
  }
  return parsed;
}

}  // namespace callrec::config
