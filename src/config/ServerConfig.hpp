#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/Choices.hpp"

namespace callrec::config {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

struct AccessKey {
  std::string id;
  std::string secret;
};

// callrec-server's whole configuration, immutable once built. One option table
// (ServerConfig.cpp) defines both the command-line flags and the config file.
struct ServerConfig {
  HostPort listen{"127.0.0.1", 8080};
  std::filesystem::path data_dir = "./data";
  // Where contacts, audit trails, recordings' index and the upload queue live:
  // "sqlite" (callrec.db in the data directory) or a postgresql:// URI (pgstore/).
  std::string store = "sqlite";
  // This server's name among several sharing one store: the owner written on the
  // contacts it creates. Empty: the host's name.
  std::string node_id;
  // How the other nodes reach this one's HTTP API (http[s]://HOST:PORT), for
  // operations they forward to the owner of a contact. Empty: derived from
  // --listen (and its bound port) unless that is a wildcard address.
  std::string advertise_url;
  // A node whose heartbeat (written every second) is older than this is lost:
  // a surviving node ends its live contacts ("node lost: NAME").
  unsigned node_lease_seconds = 5;
  // The secret the nodes share to sign forwarded operations (HMAC-SHA256);
  // its contents, never logged. Empty: operations on another node's live
  // contacts are refused with a 5xx naming the owner.
  std::filesystem::path cluster_secret_file;
  std::vector<std::string> instance_ids{"local"};
  std::vector<AccessKey> access_keys;
  std::string admin_token;
  HostPort sip_listen{"127.0.0.1", 5060};
  // SIP over TLS (port 0: off): the PEM certificate chain and key it presents,
  // and the CA bundle client certificates must chain to (empty: none asked).
  HostPort sip_tls_listen{"", 0};
  std::filesystem::path sip_tls_cert;
  std::filesystem::path sip_tls_key;
  std::filesystem::path sip_tls_client_ca;
  // SRTP keyed by SDES (over SIP TLS only): "optional" records plain RTP and
  // SRTP offers, "required" refuses plain RTP.
  SrtpMode srtp = SrtpMode::kOptional;
  std::uint16_t rtp_port_low = 40000;
  std::uint16_t rtp_port_high = 49999;
  PauseBehavior pause_behavior = PauseBehavior::kSilence;
  // A pause longer than this is overdue: the workspace warns the agent, the
  // server audits it once and counts it; nothing resumes by itself. 0: none.
  unsigned max_pause_seconds = 0;
  // Which senders an RTP port records: "strict" (the address the SIPREC offer
  // named, latched), "learn" (the first sender to pass probation, latched),
  // "any" (unsafe), or "default": strict for SIPREC, learn for /v1.
  RtpSource rtp_source = RtpSource::kDefault;
  // In-band DTMF (a keyed card number): "mask" replaces each digit's tone by
  // silence in the file, "record" keeps it (unsafe for card data).
  DtmfPolicy dtmf_policy = DtmfPolicy::kMask;
  int dtmf_resume_after = 5;  // seconds
  // How the media thread reads RTP: io_uring (batched, one kernel entry for
  // every waiting datagram) where the kernel allows it, else Asio; or forced.
  MediaReceive media_receive = MediaReceive::kAuto;
  // POST /v1/contacts/{id}/events: event type -> PAUSE or RESUME ("TYPE=PAUSE").
  std::vector<std::string> event_rules = {"payment-form-opened=PAUSE",
                                          "payment-form-closed=RESUME"};
  // SIPREC: which participant is the agent (regex on AoR or name; empty: the
  // client's hints, else the documented default), whether a new session starts
  // recording at once (off, ALL, TO_AGENT, FROM_AGENT), and the header that
  // carries the ContactId.
  std::string agent_match;
  AutoRecord auto_record;  // off
  std::string contact_id_header = "X-Contact-Id";
  std::string initial_contact_id_header = "X-Initial-Contact-Id";
  // The agent workspace: its pages, the guide flow run for each contact, the
  // inbound flow whose attributes a new contact gets (empty: the built-in
  // defaults, i.e. the source tree's web/ and flows/), and agent tokens given
  // in the configuration (more are issued by POST /v1/agents).
  std::filesystem::path web_dir;
  std::filesystem::path guide_flow;
  std::filesystem::path inbound_flow;
  std::vector<AccessKey> agent_tokens;  // id = agent, secret = token
  LogLevel log_level = LogLevel::kInfo;
  unsigned http_threads = 0;  // 0: one per core but one (at least one)
  // SIGTERM/SIGINT drains: SIP OPTIONS and new INVITEs get 503 (a dispatcher
  // moves new sessions to another node), live calls go on to their end and
  // pending uploads finish, for at most this many seconds; then the server
  // stops as a second signal stops it at once. 0: no drain. 300 s: most
  // contact-centre calls finish within it, so a rolling restart cuts few.
  unsigned drain_timeout_seconds = 300;
  // HTTPS for the HTTP API: a PEM certificate chain and its key (both or
  // neither; neither: plain HTTP).
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  // Connect API signatures remembered until they expire, so that a replayed
  // one changes nothing; when this many are live, new requests are throttled (429).
  std::size_t replay_cache_entries = 1'000'000;
  // Limits: contacts not ENDED (a new one is refused beyond it: /v1 503,
  // SIPREC 503), and concurrent SIPREC dialogs from one source address. 0: none.
  std::size_t max_contacts = 2'000;
  std::size_t max_sip_sessions_per_source = 500;
  // Networks SIPREC may come from (CIDR, IPv4 or IPv6); empty: loopback only,
  // and a SIP listener bound elsewhere refuses to start without them (or,
  // for TLS, without sip_tls_client_ca).
  std::vector<std::string> sip_allow;
  // Recordings are deleted this many days after they ended (fractions allowed),
  // unless under legal hold; 0: kept for ever.
  double retention_days = 0;
  // Where finished recordings live: "file" (the data directory only) or
  // "s3://BUCKET[/PREFIX]": written locally as always, then uploaded once final
  // (upload/). s3_bucket and s3_prefix are parsed from it.
  std::string recordings_store = "file";
  std::string s3_bucket;
  std::string s3_prefix;
  std::string s3_endpoint;  // empty: https://s3.<region>.amazonaws.com
  std::string s3_region = "us-east-1";
  bool s3_path_style = false;
  std::filesystem::path s3_ca_file;
  // ID:SECRET; empty: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
  AccessKey s3_access_key;
  S3Encryption s3_sse = S3Encryption::kNone;
  std::string s3_sse_kms_key_id;
  // Recordings larger than this go up in parts of s3_part_size (S3: >= 5 MiB).
  std::uint64_t s3_multipart_threshold = 16u << 20;
  std::uint64_t s3_part_size = 8u << 20;
  // How long the local copy stays once the upload is confirmed; -1: for ever.
  std::int64_t local_retention_ms = 0;
  // The longest wait between two attempts at an upload (back-off doubles up to it).
  std::int64_t s3_retry_max_backoff_ms = 300'000;
};

// "0", "90s", "15m", "12h", "7d" (a number with an optional unit; none: seconds)
// or "forever" (-1), in milliseconds; nullopt if malformed.
std::optional<std::int64_t> ParseDuration(const std::string& text);

// What parsing the command line produced: a config to run with, or an exit
// (after --help, --dump-config, or an error already printed) with this code.
struct ParsedConfig {
  ServerConfig config;
  bool exit = false;
  int exit_code = 0;
};

ParsedConfig ParseServerConfig(int argc, const char* const* argv);

}  // namespace callrec::config
