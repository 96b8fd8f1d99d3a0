#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/RequestSigning.hpp"
#include "control/ContactService.hpp"
#include "control/RemoteOwner.hpp"
#include "pgstore/PgConnection.hpp"

namespace callrec::cluster {

struct ForwardConfig {
  std::string conninfo;  // the shared PostgreSQL store: who owns a contact, where it is
  std::string node_id;   // this node (the sender)
  std::string secret;    // --cluster-secret-file's contents
  // How long the owner has to answer (it applies only what reaches it within
  // ForwardedOperations::kApplyWithinMs, less than this).
  std::chrono::milliseconds timeout{3000};
  // Forwards under way at once. Each thread waits for its owner's answer,
  // which comes after a durable commit (about 10 ms on PostgreSQL), so the
  // rate is threads / that wait: 4 threads queued a closed loop of 32
  // connections for ~100 ms each (bench/pg).
  std::size_t threads = 64;
  // Owners remembered (a contact's owner never changes; its URL is read again
  // after a failed forward). Cleared when full.
  std::size_t owners_cached = 100'000;
};

// control::RemoteOwner over HTTP: looks the contact's owner and its advertise
// URL up in the store (`contacts.owner`, `nodes`), sends the operation to the
// owner's POST /internal/v1/apply signed with the shared secret, and hands back
// its answer. Runs on its own threads (an owner may take up to the timeout:
// never an HTTP thread's wait); `dispatch` brings each reply back.
class HttpRemoteOwner final : public control::RemoteOwner {
 public:
  using Dispatch = std::function<void(std::function<void()>)>;

  HttpRemoteOwner(ForwardConfig config, Dispatch dispatch);
  ~HttpRemoteOwner() override;
  HttpRemoteOwner(const HttpRemoteOwner&) = delete;
  HttpRemoteOwner& operator=(const HttpRemoteOwner&) = delete;

  void Forward(const control::OperationRequest& request,
               std::function<void(control::RemoteAnswer)> reply) override;
  void ForwardEnd(const control::EndRequest& request,
                  std::function<void(control::RemoteAnswer)> reply) override;
  // Forwards still queued are answered "stopping"; those under way give up
  // within 50 ms. Idempotent.
  void Stop();

  std::uint64_t forwarded() const { return forwarded_.load(); }
  std::uint64_t failed() const { return failed_.load(); }

 private:
  // One forward: the signed POST of `body` to the owner's `target`.
  struct Job {
    std::string contact_id;
    std::string operation;  // for the log
    const char* target;
    std::string body;
    std::function<void(control::RemoteAnswer)> reply;
  };
  struct Owner {
    std::string node_id;
    std::string url;
  };
  void Worker();
  void Queue(Job job);
  control::RemoteAnswer Send(const Job& job);
  // The contact's owner and its URL; "" and `error` when unknown.
  Owner LookUp(const std::string& contact_id, std::string& error);
  void Forget(const std::string& contact_id);

  const ForwardConfig config_;
  const RequestSigner signer_;
  Dispatch dispatch_;
  std::mutex lookup_mutex_;
  pgstore::PgConnection lookup_;
  std::unordered_map<std::string, Owner> owners_;  // under lookup_mutex_
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace callrec::cluster
