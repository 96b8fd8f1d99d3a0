// callrec-server: wiring only. See docs/architecture.md for the request path.
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "api/AgentDirectory.hpp"
#include "api/ConnectApi.hpp"
#include "api/EventHub.hpp"
#include "api/GuideService.hpp"
#include "api/HttpServer.hpp"
#include "api/Metrics.hpp"
#include "api/PauseOverdueWatch.hpp"
#include "api/Router.hpp"
#include "api/StaticFiles.hpp"
#include "api/TlsContext.hpp"
#include "api/V1Api.hpp"
#include "api/WorkspaceApi.hpp"
#include "app/InstalledFiles.hpp"
#include "aws/SigV4.hpp"
#include "cluster/ForwardedOperations.hpp"
#include "cluster/HttpRemoteOwner.hpp"
#include "cluster/NodeLease.hpp"
#include "config/Credentials.hpp"
#include "config/ServerConfig.hpp"
#include "control/AfterRestart.hpp"
#include "control/ContactService.hpp"
#include "control/ContactTimes.hpp"
#include "control/DtmfPauses.hpp"
#include "control/ShutdownDrain.hpp"
#include "flow/Flow.hpp"
#include "log/Barrier.hpp"
#include "log/Log.hpp"
#include "media/Recorder.hpp"
#include "media/RecorderMetrics.hpp"
#include "media/RecordingLifecycle.hpp"
#include "media/StoredRecordings.hpp"
#include "metrics/Registry.hpp"
#include "pgstore/PostgresAgentStore.hpp"
#include "pgstore/PostgresContactStore.hpp"
#include "sip/SiprecMetrics.hpp"
#include "sip/SiprecServer.hpp"
#include "store/DataDirLock.hpp"
#include "store/SqliteContactStore.hpp"
#include "store/StoreMetrics.hpp"
#include "upload/RecordingErasure.hpp"
#include "upload/RecordingUploader.hpp"
#include "upload/S3RecordingReader.hpp"
#include "upload/UploadMetrics.hpp"

namespace {

using namespace callrec;

// The configuration's choices as the media module names them.
std::optional<media::RtpSourcePolicy> RtpSourceOf(config::RtpSource source) {
  switch (source) {
    case config::RtpSource::kStrict:
      return media::RtpSourcePolicy::kStrict;
    case config::RtpSource::kLearn:
      return media::RtpSourcePolicy::kLearn;
    case config::RtpSource::kAny:
      return media::RtpSourcePolicy::kAny;
    case config::RtpSource::kDefault:
      break;
  }
  return std::nullopt;  // strict for SIPREC, learn for /v1
}

media::MediaReceive MediaReceiveOf(config::MediaReceive receive) {
  switch (receive) {
    case config::MediaReceive::kIoUring:
      return media::MediaReceive::kUring;
    case config::MediaReceive::kAsio:
      return media::MediaReceive::kAsio;
    case config::MediaReceive::kAuto:
      break;
  }
  return media::MediaReceive::kAuto;
}

media::DtmfPolicy DtmfPolicyOf(config::DtmfPolicy policy) {
  switch (policy) {
    case config::DtmfPolicy::kPause:
      return media::DtmfPolicy::kPause;
    case config::DtmfPolicy::kRecord:
      return media::DtmfPolicy::kRecord;
    case config::DtmfPolicy::kMask:
      break;
  }
  return media::DtmfPolicy::kMask;
}

// Milliseconds on the monotonic clock: intervals that a clock change must not stretch.
std::int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs the loop until it is stopped. An exception out of a handler ends only
// that handler: it is logged once and counted by `barrier` (with the loop's
// name), and the thread rejoins the loop (asio allows run() again without
// restart()). Before, it ended the process (server.failed) and every call.
void RunLoop(boost::asio::io_context& io, log::ExceptionBarrier& barrier, const char* loop) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (...) {
      barrier.Caught({{"loop", loop}});
    }
  }
}

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

void PrintBanner(const config::ServerConfig& config, const config::ResolvedCredentials& creds,
                 const boost::asio::ip::tcp::endpoint& endpoint) {
  const std::string url = (config.tls_cert.empty() ? "http://" : "https://") +
                          UrlHost(config.listen.host) + ":" + std::to_string(endpoint.port());
  const auto& key = creds.access_keys.front();
  // Printed to stdout for the person who started the server; never logged.
  std::cout << "callrec-server ready\n"
            << "  Connect API : " << url << "  (SigV4, service 'connect')\n"
            << "  callrec API : " << url << "/v1  (Authorization: Bearer <admin token>)\n"
            << "  SIPREC      : sip:" << UrlHost(config.sip_listen.host) << ":"
            << config.sip_listen.port << "  (UDP and TCP)\n";
  if (config.sip_tls_listen.port != 0) {
    std::cout << "  SIPREC TLS  : sips:" << UrlHost(config.sip_tls_listen.host) << ":"
              << config.sip_tls_listen.port << "  (SRTP "
              << config::ChoiceName(config::kSrtpModes, config.srtp) << ")\n";
  }
  std::cout << "  workspace   : " << url << "/  (agent id + token from POST /v1/agents)\n"
            << "  health      : " << url << "/healthz   metrics: " << url << "/metrics\n"
            << "  data        : " << config.data_dir.string() << "\n"
            << "  instance    : " << config.instance_ids.front() << "\n";
  if (!creds.file.empty()) {
    std::cout << "  credentials : " << creds.file.string()
              << (creds.generated_now ? " (generated now)" : "") << "\n"
              << "    AWS_ACCESS_KEY_ID=" << key.id << "\n"
              << "    AWS_SECRET_ACCESS_KEY=" << key.secret << "\n"
              << "    admin token: " << creds.admin_token << "\n";
  }
  std::cout << "  try: AWS_ACCESS_KEY_ID=" << key.id
            << " AWS_SECRET_ACCESS_KEY=... aws connect start-contact-recording --region "
               "us-east-1 --endpoint-url "
            << url << " --instance-id " << config.instance_ids.front()
            << " --contact-id C --initial-contact-id C "
               "--voice-recording-configuration VoiceRecordingTrack=ALL\n"
            << std::flush;
}

// Who may send SIPREC. A listener reachable from the network without a named
// allowlist (or, for TLS, without client certificates) would let any host
// open recordings and fill --max-contacts: start-up refuses it.
sip::SourceAllowlist SipSources(const config::ServerConfig& config) {
  if (!config.sip_allow.empty()) {
    auto parsed = sip::SourceAllowlist::Parse(config.sip_allow);
    if (!parsed) throw std::runtime_error(parsed.error());
    return std::move(parsed).value();
  }
  if (!sip::IsLoopbackHost(config.sip_listen.host)) {
    throw std::runtime_error(
        "--sip-listen " + config.sip_listen.host +
        " takes SIPREC from the network, but no "
        "--sip-allow names who may send it: add --sip-allow CIDR for each SBC or PBX network "
        "(e.g. --sip-allow 10.0.0.0/24), or listen on 127.0.0.1");
  }
  if (config.sip_tls_listen.port != 0 && !sip::IsLoopbackHost(config.sip_tls_listen.host) &&
      config.sip_tls_client_ca.empty()) {
    throw std::runtime_error(
        "--sip-tls-listen " + config.sip_tls_listen.host +
        " takes SIPREC from the network, "
        "but neither --sip-allow nor --sip-tls-client-ca says who may send it: add "
        "--sip-tls-client-ca PEM (clients must then present a certificate it signed) or "
        "--sip-allow CIDR");
  }
  return sip::SourceAllowlist::Loopback();
}

// The S3 client of --recordings-store s3://...: its credentials from
// --s3-access-key, else the standard AWS environment variables.
s3::S3Settings S3SettingsOf(const config::ServerConfig& config) {
  s3::S3Settings settings;
  settings.endpoint = config.s3_endpoint;
  settings.region = config.s3_region;
  settings.path_style = config.s3_path_style;
  settings.ca_file = config.s3_ca_file.string();
  settings.sse = config.s3_sse == config::S3Encryption::kNone
                     ? ""
                     : std::string(config::ChoiceName(config::kS3Encryptions, config.s3_sse));
  settings.sse_kms_key_id = config.s3_sse_kms_key_id;
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value ? value : "");
  };
  if (!config.s3_access_key.id.empty()) {
    settings.credentials = {config.s3_access_key.id, config.s3_access_key.secret, ""};
  } else {
    settings.credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                            env("AWS_SESSION_TOKEN")};
  }
  if (settings.credentials.access_key_id.empty() ||
      settings.credentials.secret_access_key.empty()) {
    throw std::runtime_error(
        "--recordings-store " + config.recordings_store +
        " needs S3 credentials: --s3-access-key ID:SECRET, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment");
  }
  return settings;
}

// --node-id, else the host's name.
std::string NodeId(const config::ServerConfig& config) {
  if (!config.node_id.empty()) return config.node_id;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "callrec";
  return name;
}

// --store: the embedded SQLite in the data directory, or PostgreSQL. `close`
// writes what is queued and stops the store's writer.
std::unique_ptr<store::ContactStore> OpenStore(const config::ServerConfig& config,
                                               const std::string& node_id,
                                               std::function<void(std::function<void()>)> dispatch,
                                               std::function<void()>& close) {
  if (config.store == "sqlite") {
    auto sqlite = std::make_unique<store::SqliteContactStore>(config.data_dir / "callrec.db",
                                                              std::move(dispatch));
    close = [s = sqlite.get()] { s->Close(); };
    return sqlite;
  }
  auto pg =
      std::make_unique<pgstore::PostgresContactStore>(config.store, node_id, std::move(dispatch));
  log::Info("store.opened", {{"store", pg->Where()}, {"node", node_id}});
  close = [p = pg.get()] { p->Close(); };
  return pg;
}

// --advertise-url, else the HTTP listener's address unless it is a wildcard
// (the other nodes could not know which of this host's addresses to use).
std::string AdvertiseUrl(const config::ServerConfig& config) {
  if (!config.advertise_url.empty()) return config.advertise_url;
  const std::string& host = config.listen.host;
  if (host.empty() || host == "0.0.0.0" || host == "::" || config.listen.port == 0) return {};
  return (config.tls_cert.empty() ? "http://" : "https://") + UrlHost(host) + ":" +
         std::to_string(config.listen.port);
}

// --cluster-secret-file's contents (trailing newlines dropped); never logged.
std::string ClusterSecret(const config::ServerConfig& config) {
  if (config.cluster_secret_file.empty()) return {};
  std::ifstream in(config.cluster_secret_file, std::ios::binary);
  if (!in) {
    throw std::runtime_error("--cluster-secret-file " + config.cluster_secret_file.string() +
                             ": cannot be read");
  }
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() < 16) {
    throw std::runtime_error("--cluster-secret-file " + config.cluster_secret_file.string() +
                             ": the secret must be at least 16 bytes");
  }
  return secret;
}

int Run(const config::ServerConfig& config) {
  log::Configure(config::ChoiceName(config::kLogLevels, config.log_level));
  // HTTPS: an unusable certificate or key stops start-up here, before anything is opened.
  const auto tls =
      config.tls_cert.empty() ? nullptr : api::MakeTlsContext(config.tls_cert, config.tls_key);
  // The agent guide flow, run for each contact an agent opens; refused at
  // start-up (naming the block) if it uses what the runtime does not support.
  const std::filesystem::path flows_dir = app::InstalledFiles("flows");
  const std::filesystem::path guide_path =
      config.guide_flow.empty() ? flows_dir / "agent-recording-guide.json" : config.guide_flow;
  auto guide_flow = flow::Flow::Load(guide_path, flow::FlowKind::kGuide);
  if (!guide_flow) {
    const flow::FlowError& e = guide_flow.error();
    throw std::runtime_error(
        "guide flow " + guide_path.string() + ": " + e.message +
        (e.identifier.empty() ? std::string() : " (block '" + e.identifier + "', " + e.type + ")"));
  }
  std::optional<flow::Flow> inbound_flow;
  const std::filesystem::path inbound_path =
      config.inbound_flow.empty() ? flows_dir / "inbound-recording.json" : config.inbound_flow;
  if (!config.inbound_flow.empty() || std::filesystem::exists(inbound_path)) {
    auto loaded = flow::Flow::Load(inbound_path, flow::FlowKind::kInbound);
    if (!loaded) {
      throw std::runtime_error("inbound flow " + inbound_path.string() + ": " +
                               loaded.error().message);
    }
    inbound_flow = std::move(loaded).value();
  }
  const sip::SourceAllowlist sip_allow = SipSources(config);
  std::filesystem::create_directories(config.data_dir);
  store::DataDirLock lock(config.data_dir);
  const config::ResolvedCredentials creds = config::ResolveCredentials(config);

  std::map<std::string, std::string, std::less<>> keys;
  for (const auto& key : creds.access_keys) keys[key.id] = key.secret;
  aws::ReplayGuard replay_guard(config.replay_cache_entries);
  const aws::SigV4Verifier verifier(std::move(keys), "connect", std::chrono::minutes(5),
                                    &replay_guard);

  boost::asio::io_context io;
  // Answers are built on the HTTP threads once their commit is durable.
  std::function<void()> close_store;
  const std::unique_ptr<store::ContactStore> opened_store = OpenStore(
      config, NodeId(config),
      [&io](std::function<void()> done) { boost::asio::post(io, std::move(done)); }, close_store);
  store::ContactStore& store = *opened_store;
  // Several servers on PostgreSQL: this node's lease, registered before its
  // live contacts are loaded (a survivor ending them finishes first).
  const std::string node_id = NodeId(config);
  const std::string cluster_secret = ClusterSecret(config);
  std::function<void(const std::string&, const std::string&, std::function<void(bool)>)> end_lost;
  std::function<void()> lapsed;
  std::unique_ptr<cluster::NodeLease> lease;
  if (config.store != "sqlite") {
    lease = std::make_unique<cluster::NodeLease>(
        cluster::LeaseConfig{config.store, node_id, AdvertiseUrl(config),
                             std::chrono::seconds(config.node_lease_seconds)},
        [&end_lost](const std::string& id, const std::string& owner,
                    std::function<void(bool)> done) { end_lost(id, owner, std::move(done)); },
        [&lapsed] { lapsed(); });
    lease->Register();
  } else if (!cluster_secret.empty()) {
    throw std::runtime_error("--cluster-secret-file needs a shared --store postgresql://...");
  }
  control::ContactService contacts(
      store,
      std::set<std::string, std::less<>>(config.instance_ids.begin(), config.instance_ids.end()),
      NowMs, config.max_contacts);
  // Ended contacts' recording views live in the state database, not in memory.
  media::StoredRecordings stored_recordings(store);
  // Media runs on its own thread, so HTTP load never delays a packet.
  boost::asio::io_context media_io;
  media::Recorder recorder(
      media_io,
      media::RecorderConfig{config.sip_listen.host, config.rtp_port_low, config.rtp_port_high,
                            config.pause_behavior == config::PauseBehavior::kSkip,
                            config.data_dir / "recordings", RtpSourceOf(config.rtp_source),
                            DtmfPolicyOf(config.dtmf_policy), MediaReceiveOf(config.media_receive)},
      [&contacts](const std::string& id) -> std::optional<std::vector<core::AuditEntry>> {
        auto trail = contacts.AuditTrail(id);  // a failure is logged and counted by the store
        if (!trail) return std::nullopt;
        return std::move(trail).value();
      },
      NowMs);
  recorder.SetArchive(&stored_recordings);
  if (config.media_receive == config::MediaReceive::kIoUring &&
      recorder.receive_path() != "io_uring") {
    throw std::runtime_error("--media-receive io_uring: the kernel refused io_uring (" +
                             recorder.receive_path_refused() + ")");
  }
  // --recordings-store s3://...: each recording goes up once final, from a
  // durable queue, on the uploader's own thread (upload/).
  std::optional<s3::S3Client> s3_client;
  std::optional<upload::RecordingUploader> uploader;
  if (!config.s3_bucket.empty()) {
    s3_client.emplace(S3SettingsOf(config));
    upload::UploaderConfig upload_config;
    upload_config.bucket = config.s3_bucket;
    upload_config.prefix = config.s3_prefix;
    upload_config.multipart_threshold = config.s3_multipart_threshold;
    upload_config.part_size = config.s3_part_size;
    upload_config.local_retention_ms = config.local_retention_ms;
    upload_config.max_backoff = std::chrono::milliseconds(config.s3_retry_max_backoff_ms);
    upload_config.blocked_backoff = upload_config.max_backoff / 2;
    uploader.emplace(upload_config, *s3_client, store, NowMs);
    // An erasure's S3 objects deleted, or a delete that failed (retried): in the
    // contact's trail, as the erasure itself is.
    uploader->OnErasure([&contacts](const store::UploadRow& row, const std::string& error) {
      const std::string where = "s3://" + row.bucket + "/" + row.key + " (and .json)";
      contacts.Note(row.contact_id, error.empty() ? "S3_DELETED" : "S3_DELETE_FAILED", "uploader",
                    error.empty() ? where : where + ": " + error + "; retried",
                    [id = row.contact_id](std::optional<control::ControlError> failed) {
                      if (failed) {
                        log::Warn("upload.erasure_not_audited",
                                  {{"contact", id}, {"error", failed->message}});
                      }
                    });
    });
    uploader->Start();
    recorder.OnFinalised([&uploader](const std::string& id, const std::filesystem::path& wav) {
      uploader->Enqueue(id, wav);
    });
    // A recording finished before a crash that came before its queue row: found
    // by the start-up scan, queued now (a point read per finished local file).
    recorder.OnFoundFinished(
        [&uploader, &store](const std::string& id, const std::filesystem::path& wav) {
          auto row = store.LoadUpload(id);
          if (!row || row.value()) return;  // queued (or unreadable: its read logged)
          std::error_code ec;
          if (!std::filesystem::exists(wav, ec)) return;
          log::Warn("upload.found_unqueued", {{"contact", id}, {"path", wav.string()}});
          uploader->Enqueue(id, wav);
        });
  }
  // Contacts whose media died with the previous process end now, durably, before
  // their files are repaired, so the repaired metadata's trail says why.
  control::RestartOutcome restarted;
  {
    auto work = boost::asio::make_work_guard(io);
    restarted = control::SettleAfterRestart(contacts, [&io] { io.run_one(); });
  }
  io.restart();  // the guard's end left it stopped
  if (!restarted.ended.empty() || !restarted.failed.empty()) {
    log::Warn("contacts.ended_at_restart",
              {{"count", restarted.ended.size()}, {"failed", restarted.failed.size()}});
  }
  if (const std::size_t repaired = recorder.RepairUnfinished()) {
    log::Warn("recordings.repaired", {{"count", repaired}});
  }
  contacts.SetListener(&recorder);
  // A lost node's live contacts end here through the normal path: audited,
  // observed (events), durable before the lease lets go of its lock.
  end_lost = [&contacts](const std::string& id, const std::string& owner,
                         std::function<void(bool)> done) {
    contacts.EndLost(id, owner,
                     [done](const core::Result<core::Contact, control::ControlError>& ended) {
                       done(static_cast<bool>(ended));
                     });
  };
  // This node was frozen past its lease: what survivors ended stays ENDED, and
  // memory (and the media) follow.
  lapsed = [&contacts, &store] {
    control::ContactFilter live;
    live.live_only = true;
    auto page = contacts.List(live);
    if (!page) return;
    for (const core::Contact& held : page.value().contacts) {
      auto stored = store.LoadContact(held.contact_id);
      if (!stored || !stored.value()) continue;
      if (contacts.AdoptEnded(*stored.value())) {
        log::Warn("cluster.contact_ended_while_lost", {{"contact", held.contact_id}});
      }
    }
  };
  if (lease) lease->Start();
  // Operations on live contacts another node owns go to that node, signed.
  std::unique_ptr<cluster::HttpRemoteOwner> remote_owner;
  if (lease && !cluster_secret.empty()) {
    remote_owner = std::make_unique<cluster::HttpRemoteOwner>(
        cluster::ForwardConfig{config.store, node_id, cluster_secret},
        [&io](std::function<void()> done) { boost::asio::post(io, std::move(done)); });
    contacts.SetRemoteOwner(remote_owner.get());
  }
  // --dtmf-policy pause: a digit pauses the recording by itself; the policy
  // makes that the contact's PAUSE and resumes it once the digits stop.
  control::DtmfPauses dtmf_pauses(contacts, io.get_executor(),
                                  std::chrono::seconds(config.dtmf_resume_after), SteadyMs);
  contacts.AddObserver(
      [&dtmf_pauses](const core::Contact& contact, const std::optional<core::AuditEntry>& audit) {
        dtmf_pauses.Observe(contact, audit);
      });
  recorder.OnDigit([&dtmf_pauses](const std::string& id) { dtmf_pauses.OnDigit(id); });
  dtmf_pauses.Start();
  recorder.OnAgentMedia([&contacts](const std::string& id) {
    contacts.AgentJoined(id, "media", [](const std::optional<control::ControlError>&) {});
  });
  recorder.OnSourceSwitch([&contacts](const media::SourceSwitch& change) {
    const std::string leg = change.side == media::Side::kAgent ? "agent" : "customer";
    contacts.Note(change.contact_id, "RTP_SOURCE_CHANGED", "media",
                  leg + " leg: " + change.from + " went quiet, " + change.to + " took over",
                  [](const std::optional<control::ControlError>&) {});
  });
  for (const core::Contact& contact : restarted.awaiting_media) {
    // New RTP ports for contacts still waiting to record; the old ones are gone.
    if (auto attached = recorder.Attach(contact, {}); !attached) {
      log::Warn("media.attach_failed",
                {{"contact", contact.contact_id}, {"error", attached.error().message}});
    }
  }
  auto media_guard = boost::asio::make_work_guard(media_io);
  // What escapes a handler of either loop (the HTTP threads' io, the media
  // thread's) is stopped here; the edges' own barriers catch most before.
  log::ExceptionBarrier loop_barrier("server.handler_failed");
  std::thread media_thread(
      [&media_io, &loop_barrier] { RunLoop(media_io, loop_barrier, "media"); });
  // If start-up fails past this point (a port in use), the media thread is
  // stopped before the error is reported, not left running into terminate().
  struct MediaThreadStop {
    boost::asio::io_context& io;
    std::thread& thread;
    ~MediaThreadStop() {
      if (!thread.joinable()) return;
      io.stop();
      thread.join();
    }
  } media_thread_stop{media_io, media_thread};

  sip::SiprecConfig siprec_config;
  siprec_config.instance_id = config.instance_ids.front();
  siprec_config.media_address = config.sip_listen.host;
  if (!config.agent_match.empty()) siprec_config.agent_match.emplace(config.agent_match);
  siprec_config.auto_record = config.auto_record;
  siprec_config.contact_id_header = config.contact_id_header;
  siprec_config.initial_contact_id_header = config.initial_contact_id_header;
  siprec_config.srtp_required = config.srtp == config::SrtpMode::kRequired;
  siprec_config.max_sessions_per_source = config.max_sip_sessions_per_source;
  siprec_config.allow = sip_allow;
  siprec_config.allow_named = !config.sip_allow.empty();
  siprec_config.tls_clients_verified = !config.sip_tls_client_ca.empty();
  sip::SiprecServer siprec(siprec_config, contacts, recorder);

  // /metrics: every module registers its own families here.
  metrics::Registry registry;
  api::Metrics http_metrics;
  http_metrics.Register(registry);
  store::RegisterStoreMetrics(registry, store);
  media::RegisterRecorderMetrics(registry, recorder);
  sip::RegisterSiprecMetrics(registry, siprec);
  registry.AddGauge("callrec_dtmf_policy_pauses", "Recordings paused now by --dtmf-policy pause.",
                    [&dtmf_pauses] { return metrics::Number(dtmf_pauses.holding()); });
  registry.AddCounter("callrec_dtmf_policy_resumes_total",
                      "Pauses the DTMF policy resumed after --dtmf-resume-after without digits.",
                      [&dtmf_pauses] { return metrics::Number(dtmf_pauses.resumed()); });
  http_metrics.AddHandlerExceptionSource("loop", [&loop_barrier] { return loop_barrier.caught(); });
  http_metrics.AddHandlerExceptionSource("sip",
                                         [&siprec] { return siprec.Stats().handler_exceptions; });
  http_metrics.AddHandlerExceptionSource("media",
                                         [&recorder] { return recorder.handler_exceptions(); });
  registry.Add(
      "callrec_contacts_refused_total",
      "New contacts refused at a limit (--max-contacts, --max-sip-sessions-per-source).",
      metrics::Type::kCounter, [&contacts, &siprec] {
        return std::vector<metrics::Sample>{
            {{{"reason", "max_contacts"}}, contacts.RefusedAtLimit(), ""},
            {{{"reason", "max_sip_sessions_per_source"}}, siprec.Stats().refused_per_source, ""}};
      });
  registry.AddGauge("callrec_replay_cache_entries",
                    "Connect API signatures remembered until they expire.",
                    [&replay_guard] { return metrics::Number(replay_guard.size()); });
  api::ConnectApi connect(contacts, verifier, http_metrics,
                          [] { return std::chrono::system_clock::now(); });
  // The agent workspace: agent tokens, live events, pages.
  // Issued agent tokens: in the shared PostgreSQL store (every server signs them
  // in), else in the data directory.
  std::unique_ptr<pgstore::PostgresAgentStore> agent_store;
  if (config.store != "sqlite")
    agent_store = std::make_unique<pgstore::PostgresAgentStore>(config.store);
  api::AgentDirectory agents(config.data_dir / "agents.json", agent_store.get());
  for (const auto& agent : config.agent_tokens) agents.Configure(agent.id, agent.secret);
  api::EventHub events(io);
  // Each live contact's times (state since, recorded), observed before events
  // go out so that they carry them; --max-pause audits pauses that outlast it.
  control::ContactTimes contact_times;
  contacts.AddObserver(
      [&contact_times](const core::Contact& contact, const std::optional<core::AuditEntry>&) {
        contact_times.Observe(contact);
      });
  events.SetTimes(&contact_times);
  std::optional<api::PauseOverdueWatch> pause_watch;
  if (config.max_pause_seconds > 0) {
    pause_watch.emplace(io, contacts, contact_times, config.max_pause_seconds, NowMs);
  }
  registry.AddCounter(
      "callrec_pauses_overdue_total",
      "Pauses that lasted longer than --max-pause (each audited PAUSE_OVERDUE once; the "
      "recording stayed paused).",
      [&pause_watch] { return metrics::Number(pause_watch ? pause_watch->audited() : 0); });
  contacts.AddObserver(
      [&events](const core::Contact& contact, const std::optional<core::AuditEntry>& audit) {
        events.Publish(contact, audit);
      });
  api::V1Api v1(contacts, store, recorder, registry, creds.admin_token, &agents);
  v1.RegisterMetrics(registry);
  v1.SetTimes(&contact_times);
  // Retention: each deletion audited (EXPIRED) and durable before the files go.
  std::optional<media::RetentionSweeper> retention;
  if (config.retention_days > 0) {
    const auto keep =
        std::chrono::milliseconds(static_cast<std::int64_t>(config.retention_days * 86'400'000.0));
    const std::string why = "kept " + std::to_string(config.retention_days) + " days (--retention)";
    retention.emplace(
        config.data_dir / "recordings", keep, NowMs,
        [&contacts, &store, &uploader, why](const std::string& id, const std::filesystem::path&) {
          auto written = std::make_shared<std::promise<bool>>();
          contacts.Note(id, "EXPIRED", "retention", why,
                        [written](std::optional<control::ControlError> error) {
                          written->set_value(!error);
                        });
          auto future = written->get_future();
          if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready ||
              !future.get()) {
            return false;
          }
          // Its S3 objects queued for deletion (durably), and its recordings
          // row kept without a path (no longer listed), before the files go.
          auto queued = std::make_shared<std::promise<bool>>();
          upload::QueueS3Erasure(
              store, uploader ? &*uploader : nullptr, id,
              [&store, id, queued](std::optional<std::string> failed, bool) {
                if (failed) {
                  log::Warn("recording.expire_s3_failed", {{"contact", id}, {"error", *failed}});
                  return queued->set_value(false);
                }
                upload::Unlist(store, id,
                               [queued](std::optional<std::string> e) { queued->set_value(!e); });
              });
          auto done = queued->get_future();
          return done.wait_for(std::chrono::seconds(10)) == std::future_status::ready && done.get();
        });
  }
  http_metrics.AddHandlerExceptionSource("retention", [&retention] {
    return retention ? retention->handler_exceptions() : std::uint64_t{0};
  });
  registry.AddCounter("callrec_recordings_expired_total",
                      "Recordings deleted by --retention (each audited EXPIRED).", [&retention] {
                        return metrics::Number(retention ? retention->expired() : 0);
                      });
  if (uploader) {
    http_metrics.AddHandlerExceptionSource("upload",
                                           [&uploader] { return uploader->handler_exceptions(); });
    upload::RegisterUploadMetrics(registry, *uploader, NowMs);
    v1.AddHealthSource("Uploads", [&uploader, &config] {
      const upload::UploadStats stats = uploader->Stats();
      // Degraded while S3 refuses (403, 404): a person must act; the
      // recordings wait safely on the local disk meanwhile.
      return std::pair<bool, boost::json::object>(
          !stats.blocked.empty(), boost::json::object{{"Store", config.recordings_store},
                                                      {"Pending", stats.pending},
                                                      {"Uploaded", stats.uploaded},
                                                      {"Blocked", !stats.blocked.empty()},
                                                      {"Reason", stats.blocked},
                                                      {"LastError", stats.last_error}});
    });
  }
  api::RecordingAccessLog recording_access(contacts, NowMs);
  api::WorkspaceApi workspace(contacts, store, recorder, agents, events, recording_access,
                              config.data_dir / "recordings", NowMs);
  v1.SetWorkspace(&workspace);
  auto event_rules = api::ParseEventRules(config.event_rules);
  if (!event_rules) throw std::runtime_error(event_rules.error());
  const api::ContactEvents contact_events(contacts, verifier, std::move(event_rules).value(),
                                          [] { return std::chrono::system_clock::now(); });
  v1.SetContactEvents(&contact_events);
  workspace.SetMaxPause(config.max_pause_seconds);
  // Uploaded recordings whose local copy is gone are read back from S3.
  std::optional<upload::S3RecordingReader> s3_reader;
  if (s3_client) {
    s3_reader.emplace(*s3_client, store);
    workspace.SetRemoteRecordings(&*s3_reader);
  }
  if (uploader) workspace.SetUploads(&*uploader);
  v1.WatchDisk(config.data_dir);
  api::GuideService guides(io, contacts,
                           std::make_shared<const flow::Flow>(std::move(guide_flow).value()),
                           std::move(inbound_flow));
  workspace.SetGuide(&guides);
  http_metrics.AddHandlerExceptionSource("guide",
                                         [&guides] { return guides.handler_exceptions(); });
  contacts.AddObserver(
      [&guides](const core::Contact& contact, const std::optional<core::AuditEntry>&) {
        guides.OnContactChanged(contact);
      });
  // Other nodes' changes (several servers on one PostgreSQL store) stream here
  // as theirs do there, and reach the guide runs opened here on their
  // contacts (the card's status follows the owner's state; the run is dropped
  // when the owner ends the contact). Their times are kept apart: a pause on
  // another node is its owner's to audit (--max-pause), not this node's.
  control::ContactTimes remote_times;
  store.WatchOtherServers(
      [&events, &remote_times, &guides](const core::Contact& contact,
                                        const std::optional<core::AuditEntry>& audit) {
        remote_times.Observe(contact);
        events.Publish(contact, audit, &remote_times);
        guides.OnContactChanged(contact);
      });
  // The feed stops before what it calls goes away, however main() is left.
  struct StopWatching {
    store::ContactStore& store;
    ~StopWatching() { store.WatchOtherServers({}); }
  } stop_watching{store};
  registry.Add("callrec_recording_reads_audited_total",
               "Reads of recordings (playback, download, metadata): lines written to audit "
               "trails, and reads folded into a line of the same principal and minute.",
               metrics::Type::kCounter, [&recording_access] {
                 return std::vector<metrics::Sample>{
                     {{{"line", "written"}}, recording_access.written(), ""},
                     {{{"line", "folded"}}, recording_access.folded(), ""}};
               });
  registry.AddGauge("callrec_guides_in_memory",
                    "Agent guide runs held: live contacts', and the last " +
                        std::to_string(api::GuideService::kEndedRunsKept) +
                        " opened on contacts already ENDED.",
                    [&guides] { return metrics::Number(guides.RunsInMemory()); });
  const api::StaticFiles pages(config.web_dir.empty() ? app::InstalledFiles("web")
                                                      : config.web_dir);
  api::Router router(connect, v1, http_metrics, &pages);
  std::optional<cluster::ForwardedOperations> forwarded;
  if (remote_owner) {
    forwarded.emplace(contacts, cluster_secret, NowMs);
    router.SetInternal(&*forwarded);
  }

  // Everything is wired: now the outside may call in.
  std::optional<sip::SipUserAgent::Tls> sip_tls;
  if (config.sip_tls_listen.port != 0) {
    // The same checks as HTTPS, with the same clear messages, before sofia-sip
    // (which only says that the transport failed) reads the files.
    api::MakeTlsContext(config.sip_tls_cert, config.sip_tls_key);
    sip_tls =
        sip::SipUserAgent::Tls{config.sip_tls_listen.host, config.sip_tls_listen.port,
                               config.sip_tls_cert, config.sip_tls_key, config.sip_tls_client_ca};
  }
  // OPTIONS say whether this node takes sessions: what /healthz says.
  siprec.SetReadiness([&v1]() -> std::optional<std::string> {
    api::V1Api::HealthReport report = v1.CheckHealth();
    if (report.healthy) return std::nullopt;
    return std::move(report.reason);
  });
  siprec.Start(config.sip_listen.host, config.sip_listen.port, sip_tls);
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(config.listen.host),
                                                config.listen.port);
  api::HttpServer server(io, endpoint, router, api::HttpLimits{}, tls);

  // SIGTERM/SIGINT: stop taking new work (SIP OPTIONS and new INVITEs 503,
  // /healthz "draining"), let live calls end and their uploads finish within
  // --drain-timeout, then stop. A second signal stops at once. The signals and
  // the drain's polls share a strand.
  auto control_strand = boost::asio::make_strand(io);
  boost::asio::signal_set signals(control_strand, SIGINT, SIGTERM);
  auto stop_now = [&] {
    server.Stop();
    events.Stop();
    if (pause_watch) pause_watch->Stop();
    io.stop();
  };
  // 0: not asked yet, 1: asked, 2: the writer has done everything queued before.
  auto written = std::make_shared<std::atomic<int>>(0);
  control::ShutdownDrain drain(
      control_strand,
      {{"calls", [&contacts, &recorder] { return contacts.LiveCount() + recorder.live_calls(); }},
       {"recordings written",
        [&recorder, written] {
          int expected = 0;
          if (written->compare_exchange_strong(expected, 1)) {
            recorder.AfterWrites([written] { written->store(2); });
          }
          return std::size_t{written->load() == 2 ? 0u : 1u};
        }},
       {"uploads",
        [&uploader] {
          if (!uploader) return std::size_t{0};
          const upload::UploadStats stats = uploader->Stats();
          // Held by a refusal a person must fix: waiting would change nothing.
          return stats.blocked.empty() ? stats.pending : std::size_t{0};
        }}},
      SteadyMs);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    if (config.drain_timeout_seconds == 0) {
      log::Info("server.stopping", {{"signal", signal}});
      return stop_now();
    }
    siprec.BeginDrain();
    v1.BeginDrain();
    const std::size_t live = contacts.LiveCount();
    log::Info(
        "server.draining",
        {{"signal", signal}, {"live_contacts", live}, {"timeout_s", config.drain_timeout_seconds}});
    std::cerr << "callrec-server: draining: " << live << " live contact(s), up to "
              << config.drain_timeout_seconds << " s; signal again to stop at once" << std::endl;
    signals.async_wait([&](const boost::system::error_code& again, int second) {
      if (again) return;
      log::Info("server.stopping", {{"signal", second}, {"drain", "cut short"}});
      drain.Cancel();
      stop_now();
    });
    drain.Begin(std::chrono::seconds(config.drain_timeout_seconds),
                [&](const control::ShutdownDrain::Outcome& outcome) {
                  if (outcome.complete) {
                    log::Info("server.drained", {{"elapsed_ms", outcome.elapsed_ms}});
                  } else {
                    log::Warn("server.drain_timeout", {{"elapsed_ms", outcome.elapsed_ms},
                                                       {"waiting_for", outcome.waiting_for},
                                                       {"remaining", outcome.remaining}});
                  }
                  signals.cancel();
                  stop_now();
                });
  });

  log::Info("server.started",
            {{"listen", config.listen.host + ":" + std::to_string(server.LocalEndpoint().port())},
             {"data_dir", config.data_dir.string()}});
  PrintBanner(config, creds, server.LocalEndpoint());

  // By default one core is left to the threads every request waits on (the
  // store's writer, the media and recording threads): on 2 cores one HTTP
  // thread did more than two, for /healthz and for durable operations alike
  // (bench/README.md).
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned threads = config.http_threads ? config.http_threads : std::max(1u, cores - 1);
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) {
    workers.emplace_back([&io, &loop_barrier] { RunLoop(io, loop_barrier, "http"); });
  }
  RunLoop(io, loop_barrier, "http");
  for (auto& worker : workers) worker.join();
  // The upload under way finishes (or is abandoned after 2 s of a silent S3);
  // the rest stays queued for the next start. Then every S3 request still
  // under way (reads back) gives up.
  if (uploader) uploader->Stop();
  if (s3_client) s3_client->CancelRequests();
  if (remote_owner) remote_owner->Stop();
  if (lease) lease->Stop();
  if (retention) retention->Stop();
  // Recordings still running are closed and marked incomplete (the call went
  // on without us); then the media thread and the store stop. Everything
  // acknowledged is already durable; Close() writes what is still queued while
  // the objects its callbacks use are alive.
  siprec.Stop();  // BYE to live sessions; their contacts end
  recorder.Shutdown();
  media_guard.reset();
  media_io.stop();
  media_thread.join();
  contacts.SetListener(nullptr);
  close_store();
  log::Info("server.stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const config::ParsedConfig parsed = config::ParseServerConfig(argc, argv);
  if (parsed.exit) return parsed.exit_code;
  try {
    return Run(parsed.config);
  } catch (const std::exception& error) {
    std::cerr << "callrec-server: " << error.what() << std::endl;
    log::Error("server.failed", {{"error", error.what()}});
    return 1;
  }
}
