// control_api_bench: PAUSE/RESUME throughput and latency of the Connect control API,
// with GET /healthz measured in the same run as the server's floor. See bench/README.md.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "LoadClient.hpp"
#include "ServerProcess.hpp"
#include "aws/SigV4.hpp"

namespace {

using namespace callrec::bench;
namespace aws = callrec::aws;

constexpr const char* kAccessKeyId = "BENCHKEY";
constexpr const char* kSecret = "BENCHSECRET";
constexpr const char* kAdminToken = "benchtoken";

struct Options {
  std::size_t connections = 64;
  double seconds = 5;
  double warmup = 1;
  std::size_t contacts = 1000;
  unsigned client_threads = 1;
  unsigned server_threads = 0;
  unsigned rounds = 1;
  std::string server;
  std::string temp_dir;
  std::string store;  // --store for the server (empty: SQLite in the data directory)
  // With live recordings, every contact's agent has joined, so START opens a
  // real recording (silence: no RTP is sent) and the media and storage threads
  // compete with the control path; without, START waits for the agent and the
  // control path is measured on its own.
  bool recording = false;
  // 2: a second server (node a) on the same --store; every contact is created
  // on the first (node b, its owner), and half the connections send their
  // operations to node a, which forwards them to b.
  unsigned nodes = 1;
};

std::filesystem::path DefaultServer() {
  if (const char* env = std::getenv("CALLREC_SERVER"); env && *env) return env;
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path() / ".." / "src" / "callrec-server").lexically_normal();
}

Clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string ContactId(std::size_t index) {
  return "bench-" + std::to_string(index);
}

// Sets method, target, Host, body and the SigV4 headers, signed now.
void SignedPost(Request& out, const aws::SigV4Signer& signer, const std::string& host,
                const char* target, const std::string& body) {
  aws::SignableRequest signable;
  signable.method = "POST";
  signable.path = target;
  // A unique signed header, as botocore sends: the server accepts a signature
  // once, and the same request can recur within X-Amz-Date's one second. Unique
  // across runs by its random prefix, within a run by the counter.
  static const std::string prefix = aws::RandomToken(16, "0123456789abcdef");
  static std::atomic<std::uint64_t> sequence{0};
  signable.headers = {{"Host", host},
                      {"Content-Type", "application/json"},
                      {"amz-sdk-invocation-id", prefix + std::to_string(sequence++)}};
  signer.Sign(signable, body, std::chrono::system_clock::now());
  out.method(http::verb::post);
  out.target(target);
  for (const auto& [name, value] : signable.headers) out.set(name, value);
  out.body() = body;
}

// One row of the report: a timed run and the CPU both processes used in its window.
struct Measured {
  std::string name;
  RunResult result;
  double client_cpu = 0;  // seconds
  double server_cpu = 0;
  double machine_cpu = 0;  // every process, these two included
};

void PrintHeader() {
  std::printf("%-26s %10s %8s %8s %8s %8s %7s %10s %10s  %s\n", "scenario", "ops/s", "p50 ms",
              "p90 ms", "p99 ms", "max ms", "errors", "cli us/op", "srv us/op",
              "cpu% cli/srv/other");
}

void PrintRow(const Measured& m) {
  const RunResult& r = m.result;
  const double ops = static_cast<double>(r.latencies_ns.size());
  const double per_op = ops > 0 ? 1e6 / ops : 0;
  std::printf("%-26s %10.0f %8.3f %8.3f %8.3f %8.3f %7llu %10.1f %10.1f  %.0f/%.0f/%.0f\n",
              m.name.c_str(), r.OpsPerSecond(), r.PercentileMs(0.50), r.PercentileMs(0.90),
              r.PercentileMs(0.99), r.PercentileMs(1.0), static_cast<unsigned long long>(r.errors),
              m.client_cpu * per_op, m.server_cpu * per_op, 100 * m.client_cpu / r.window_seconds,
              100 * m.server_cpu / r.window_seconds,
              100 * std::max(0.0, m.machine_cpu - m.client_cpu - m.server_cpu) / r.window_seconds);
}

bool PrintErrors(const std::string& what, const RunResult& r) {
  if (r.errors == 0) return true;
  std::printf("%s: %llu errors, first ones:\n", what.c_str(),
              static_cast<unsigned long long>(r.errors));
  for (const auto& sample : r.error_samples) std::printf("  %s\n", sample.c_str());
  return false;
}

int Run(const Options& options) {
  ServerOptions server_options;
  server_options.binary =
      options.server.empty() ? DefaultServer() : std::filesystem::path(options.server);
  server_options.temp_parent = options.temp_dir.empty() ? std::filesystem::temp_directory_path()
                                                        : std::filesystem::path(options.temp_dir);
  server_options.access_key = std::string(kAccessKeyId) + ":" + kSecret;
  server_options.admin_token = kAdminToken;
  server_options.http_threads = options.server_threads;
  server_options.store = options.store;
  if (!std::filesystem::exists(server_options.binary)) {
    std::cerr << "control_api_bench: no server at " << server_options.binary
              << " (build it, or pass --server / CALLREC_SERVER)\n";
    return 2;
  }

  // Two nodes: b owns every contact, a forwards what it is sent to b.
  std::optional<ServerProcess> second;
  std::filesystem::path secret_file;
  if (options.nodes == 2) {
    secret_file =
        server_options.temp_parent / ("callrec-bench-secret-" + std::to_string(::getpid()));
    std::ofstream(secret_file) << aws::RandomToken(32, "0123456789abcdef") << "\n";
    std::filesystem::permissions(
        secret_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    server_options.extra_args = {"--node-id", "b", "--cluster-secret-file", secret_file.string()};
  }
  ServerProcess server(server_options);
  server.WaitHealthy(std::chrono::seconds(15));
  if (options.nodes == 2) {
    server_options.extra_args = {"--node-id", "a", "--cluster-secret-file", secret_file.string()};
    second.emplace(server_options);
    second->WaitHealthy(std::chrono::seconds(15));
  }
  struct RemoveSecret {
    std::filesystem::path path;
    ~RemoveSecret() {
      std::error_code ignored;
      if (!path.empty()) std::filesystem::remove(path, ignored);
    }
  } remove_secret{secret_file};
  auto servers_cpu = [&] { return server.CpuSeconds() + (second ? second->CpuSeconds() : 0.0); };
  const std::size_t C = options.connections;
  // Setup (create, START) on the owner; the measured runs on every node.
  LoadClient client("127.0.0.1", server.Port(), C, options.client_threads);
  client.Connect();
  const std::string& host = client.HostHeader();
  std::vector<std::uint16_t> ports{server.Port()};
  if (second) ports.push_back(second->Port());
  LoadClient load("127.0.0.1", ports, C, options.client_threads);
  load.Connect();
  const aws::SigV4Signer signer({kAccessKeyId, kSecret, ""}, "us-east-1", "connect");

  std::printf("callrec control-API benchmark\n");
  std::printf("  server   : %s (pid %d, %s, %s threads), data on %s (%s)\n",
              server_options.binary.c_str(), static_cast<int>(server.Pid()), host.c_str(),
              options.server_threads ? std::to_string(options.server_threads).c_str() : "default",
              server.DataDir().c_str(), FileSystemKind(server.DataDir()).c_str());
  std::printf(
      "  client   : %zu keep-alive connections, closed loop, %u thread(s); "
      "warm-up %.1f s, measured %.1f s, %u round(s)\n",
      C, options.client_threads, options.warmup, options.seconds, options.rounds);
  std::printf(
      "  machine  : %u cores; cpu%% is of one core (%u%% = all), 'other' is every other "
      "process\n",
      std::thread::hardware_concurrency(), 100 * std::thread::hardware_concurrency());
  if (second) {
    std::printf(
        "  nodes    : 2 on one store: b (pid %d, %s) owns every contact; a (pid %d, %s) is sent "
        "the operations of every other connection and forwards them to b\n",
        static_cast<int>(server.Pid()), host.c_str(), static_cast<int>(second->Pid()),
        load.HostHeader(1).c_str());
  }
  std::printf("  store    : %s\n",
              options.store.empty() ? "sqlite (the data directory)" : options.store.c_str());
  std::fflush(stdout);

  // Setup: connection c creates and STARTs contacts c, c+C, c+2C, ...
  std::vector<std::string> bodies(options.contacts);
  for (std::size_t i = 0; i < options.contacts; ++i) {
    bodies[i] = R"({"InstanceId":"local","ContactId":")" + ContactId(i) +
                R"(","InitialContactId":")" + ContactId(i) + R"("})";
  }
  std::vector<std::size_t> cursor(C);
  auto setup = [&](unsigned status, auto fill) {
    std::fill(cursor.begin(), cursor.end(), 0);
    Scenario scenario;
    scenario.expect_status = status;
    scenario.next = [&, fill](std::size_t c, Request& out) {
      const std::size_t index = c + C * cursor[c]++;
      if (index >= options.contacts) return false;
      fill(index, out);
      return true;
    };
    return client.Run(scenario);
  };
  const RunResult created = setup(201, [&](std::size_t i, Request& out) {
    out.method(http::verb::post);
    out.target("/v1/contacts");
    out.set(http::field::host, host);
    out.set(http::field::authorization, std::string("Bearer ") + kAdminToken);
    out.set(http::field::content_type, "application/json");
    out.body() = R"({"InstanceId":"local","ContactId":")" + ContactId(i) +
                 R"(","AgentId":"agent-)" + std::to_string(i) + R"(","AgentJoined":)" +
                 (options.recording ? "true" : "false") + "}";
  });
  const RunResult started = setup(200, [&](std::size_t i, Request& out) {
    SignedPost(out, signer, host, "/contact/start-recording",
               R"({"InstanceId":"local","ContactId":")" + ContactId(i) +
                   R"(","InitialContactId":")" + ContactId(i) +
                   R"(","VoiceRecordingConfiguration":{"VoiceRecordingTrack":"ALL"}})");
  });
  std::printf(
      "  contacts : %zu created in %.2f s (p50 %.2f ms), STARTed in %.2f s (p50 %.2f ms)\n\n",
      options.contacts, created.window_seconds, created.PercentileMs(0.5), started.window_seconds,
      started.PercentileMs(0.5));
  if (!PrintErrors("setup: POST /v1/contacts", created) || !PrintErrors("setup: START", started)) {
    std::printf("\nserver log:\n%s", server.LogTail(20).c_str());
    return 1;
  }

  // The measured scenarios share the connections. Connection c alternates PAUSE and
  // RESUME on each contact it owns in turn, so every request is a real state change.
  struct Cursor {
    std::size_t next = 0;
    bool resume = false;
  };
  std::vector<Cursor> control_cursor(C);
  Scenario control;
  control.next = [&](std::size_t c, Request& out) {
    Cursor& at = control_cursor[c];
    if (c + C * at.next >= options.contacts) at.next = 0;
    const std::size_t index = c + C * at.next;
    SignedPost(out, signer, load.HostHeader(c),
               at.resume ? "/contact/resume-recording" : "/contact/suspend-recording",
               bodies[index]);
    if (at.resume) at.next += 1;
    at.resume = !at.resume;
    return true;
  };
  Scenario health;
  health.next = [&](std::size_t c, Request& out) {
    out.method(http::verb::get);
    out.target("/healthz");
    out.set(http::field::host, load.HostHeader(c));
    return true;
  };

  auto measure = [&](const std::string& name, Scenario& scenario) {
    Measured m{name, {}, 0, 0, 0};
    scenario.warmup = Seconds(options.warmup);
    scenario.measure = Seconds(options.seconds);
    scenario.at_window_start = [&] {
      m.client_cpu = -ProcessCpuSeconds();
      m.server_cpu = -servers_cpu();
      m.machine_cpu = -MachineBusyCpuSeconds();
    };
    scenario.at_window_end = [&] {
      m.client_cpu += ProcessCpuSeconds();
      m.server_cpu += servers_cpu();
      m.machine_cpu += MachineBusyCpuSeconds();
    };
    m.result = load.Run(scenario);
    return m;
  };
  auto metrics = [&] { return SimpleHttp("127.0.0.1", server.Port(), "GET", "/metrics").body; };

  bool clean = true;
  double commits = 0, writes = 0, commit_seconds = 0, syncs = 0, sync_seconds = 0;
  for (unsigned round = 1; round <= options.rounds; ++round) {
    if (options.rounds > 1) std::printf("round %u\n", round);
    const Measured floor = measure("GET /healthz (floor)", health);
    const std::string before = metrics();
    const Measured ops = measure("PAUSE/RESUME (SigV4)", control);
    const std::string after = metrics();
    auto delta = [&](const char* name) {
      return MetricValue(after, name) - MetricValue(before, name);
    };
    commits += delta("callrec_store_commits_total");
    writes += delta("callrec_store_writes_total");
    commit_seconds += delta("callrec_store_commit_seconds_total");
    syncs += delta("callrec_store_syncs_total");
    sync_seconds += delta("callrec_store_sync_seconds_total");
    PrintHeader();
    PrintRow(floor);
    PrintRow(ops);
    const double p99_floor = floor.result.PercentileMs(0.99);
    std::printf("control/healthz: ops/s %.2fx, p50 %.2fx, p99 %.2fx\n\n",
                ops.result.OpsPerSecond() / std::max(1e-9, floor.result.OpsPerSecond()),
                ops.result.PercentileMs(0.5) / std::max(1e-9, floor.result.PercentileMs(0.5)),
                ops.result.PercentileMs(0.99) / std::max(1e-9, p99_floor));
    if (second) {
      // The same run by where each operation was sent: straight to the owner, or
      // to node a, which forwarded it.
      const std::vector<std::int64_t> none;
      const auto& by_port = ops.result.latencies_by_port;
      const auto& direct = by_port.count(server.Port()) ? by_port.at(server.Port()) : none;
      const auto& forwarded = by_port.count(second->Port()) ? by_port.at(second->Port()) : none;
      const double direct_p99 = RunResult::PercentileMs(direct, 0.99);
      const double forwarded_p99 = RunResult::PercentileMs(forwarded, 0.99);
      std::printf("  to the owner (b): %zu ops, p50 %.3f ms, p99 %.3f ms\n", direct.size(),
                  RunResult::PercentileMs(direct, 0.5), direct_p99);
      std::printf("  forwarded (a->b): %zu ops, p50 %.3f ms, p99 %.3f ms\n", forwarded.size(),
                  RunResult::PercentileMs(forwarded, 0.5), forwarded_p99);
      std::printf("forwarding adds: p50 %.3f ms, p99 %.3f ms (target: <= 2 ms at p99)\n\n",
                  RunResult::PercentileMs(forwarded, 0.5) - RunResult::PercentileMs(direct, 0.5),
                  forwarded_p99 - direct_p99);
    }
    clean = PrintErrors(floor.name, floor.result) && clean;
    clean = PrintErrors(ops.name, ops.result) && clean;
    std::fflush(stdout);
  }

  const std::string page = metrics();
  std::printf("server /metrics at the end (setup included):\n");
  std::printf("  callrec_store_commits_total %.0f\n",
              MetricValue(page, "callrec_store_commits_total"));
  std::printf("  callrec_store_writes_total %.0f\n",
              MetricValue(page, "callrec_store_writes_total"));
  std::printf(
      "during the PAUSE/RESUME runs (warm-up included): %.0f writes in %.0f commits = "
      "%.1f writes/commit, %.3f ms/commit\n",
      writes, commits, writes / std::max(1.0, commits),
      1e3 * commit_seconds / std::max(1.0, commits));
  std::printf("  made durable by %.0f syncs of the log = %.1f writes/sync, %.3f ms/sync\n", syncs,
              writes / std::max(1.0, syncs), 1e3 * sync_seconds / std::max(1.0, syncs));
  // Every PAUSE and RESUME was a real state change: a contact is PAUSED exactly when
  // its connection's next request for it is a RESUME.
  std::size_t expect_paused = 0;
  for (const Cursor& at : control_cursor) expect_paused += at.resume ? 1 : 0;
  const double paused = MetricValue(page, "callrec_contacts{state=\"PAUSED\"}");
  const double recording = MetricValue(page, "callrec_contacts{state=\"RECORDING\"}") +
                           MetricValue(page, "callrec_contacts{state=\"WAITING_FOR_AGENT\"}");
  const bool states_ok = paused == static_cast<double>(expect_paused) &&
                         paused + recording == static_cast<double>(options.contacts);
  std::printf("state check: %.0f PAUSED, %.0f recording (expected %zu and %zu): %s\n", paused,
              recording, expect_paused, options.contacts - expect_paused,
              states_ok ? "ok" : "MISMATCH");
  clean = clean && states_ok;
  if (second) {
    const std::string second_ended = second->Stop();
    if (second_ended != "exit 0") {
      std::printf("node a ended with %s; its log ends with:\n%s", second_ended.c_str(),
                  second->LogTail(20).c_str());
      clean = false;
    }
  }
  const std::string ended = server.Stop();
  if (ended != "exit 0") {
    std::printf("callrec-server ended with %s; its log ends with:\n%s", ended.c_str(),
                server.LogTail(20).c_str());
    clean = false;
  }
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"control_api_bench: PAUSE/RESUME ops/s and latency against GET /healthz"};
  app.add_option("--connections,-c", options.connections, "keep-alive connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--seconds,-s", options.seconds, "measured seconds per scenario")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "warm-up seconds per scenario")->capture_default_str();
  app.add_option("--contacts", options.contacts, "contacts created and STARTed")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--client-threads", options.client_threads, "load client threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--server-threads", options.server_threads,
                 "callrec-server --http-threads (0: its default, one per core but one)")
      ->capture_default_str();
  app.add_option("--rounds", options.rounds, "repeat healthz + control this many times")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--server", options.server,
                 "callrec-server binary (default: $CALLREC_SERVER, else ../src/callrec-server "
                 "beside this binary)");
  app.add_flag("--recording", options.recording,
               "START opens a live recording per contact (1,000 silent calls written to disk)");
  app.add_option("--temp-dir", options.temp_dir,
                 "where the fresh data directory is made (default: the system temp dir)");
  app.add_option("--store", options.store,
                 "callrec-server --store (a postgresql:// URI; default: SQLite in the data dir)");
  app.add_option("--nodes", options.nodes,
                 "2: a second server on the same --store, half the operations sent to it and "
                 "forwarded to the contacts' owner")
      ->capture_default_str()
      ->check(CLI::Range(1, 2));
  CLI11_PARSE(app, argc, argv);
  if (options.nodes == 2 && options.store.empty()) {
    std::cerr << "control_api_bench: --nodes 2 needs --store postgresql://...\n";
    return 2;
  }
  if (options.connections > options.contacts) {
    std::cerr << "control_api_bench: --connections must not exceed --contacts\n";
    return 2;
  }
  try {
    return Run(options);
  } catch (const std::exception& error) {
    std::cerr << "control_api_bench: " << error.what() << std::endl;
    return 1;
  }
}
