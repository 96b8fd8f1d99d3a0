#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace callrec::bench {

struct ServerOptions {
  std::filesystem::path binary;
  std::filesystem::path temp_parent;  // a fresh directory is made in it, removed at the end
  std::string access_key;             // ID:SECRET
  std::string admin_token;
  unsigned http_threads = 0;            // 0: the server's default
  std::string store;                    // --store (empty: the server's default, SQLite)
  std::vector<std::string> extra_args;  // anything else, e.g. --node-id
};

// One callrec-server child process on 127.0.0.1:<free port> with a fresh data
// directory. Its stdout and stderr go to server.log beside the data directory.
// The destructor stops it (SIGTERM, wait) and removes the directory.
class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Polls GET /healthz until it answers 200; throws (with the log's tail) if the
  // server exits or does not answer in time.
  void WaitHealthy(std::chrono::seconds timeout);
  // SIGTERM, then waits; returns a description of how it ended ("exit 0", ...).
  std::string Stop();

  pid_t Pid() const { return pid_; }
  std::uint16_t Port() const { return port_; }
  const std::filesystem::path& DataDir() const { return data_dir_; }
  // User + system CPU seconds the server has used so far (from /proc).
  double CpuSeconds() const;
  std::string LogTail(std::size_t lines) const;

 private:
  std::filesystem::path root_;
  std::filesystem::path data_dir_;
  std::filesystem::path log_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

struct SimpleReply {
  unsigned status = 0;
  std::string body;
};

// One request on a fresh connection; throws on network errors.
SimpleReply SimpleHttp(const std::string& host, std::uint16_t port, const std::string& method,
                       const std::string& target,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       const std::string& body = "");

// The value of the metric line "NAME VALUE" in a Prometheus text page, or -1.
double MetricValue(const std::string& page, const std::string& name);

// The kind of file system `path` is on ("ext4", "tmpfs", ...), for the report.
std::string FileSystemKind(const std::filesystem::path& path);

// User + system CPU seconds used by this process so far.
double ProcessCpuSeconds();

// CPU seconds all processes of the machine have used so far (busy time of /proc/stat),
// to tell how much other work shared the cores during a measurement.
double MachineBusyCpuSeconds();

}  // namespace callrec::bench
