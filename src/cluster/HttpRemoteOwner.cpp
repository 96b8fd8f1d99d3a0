#include "cluster/HttpRemoteOwner.hpp"

#include <utility>

#include "cluster/OperationJson.hpp"
#include "httpclient/HttpClient.hpp"
#include "log/Log.hpp"

namespace callrec::cluster {
namespace {

const std::vector<pgstore::Statement>& Statements() {
  static const std::vector<pgstore::Statement> statements = {
      {"owner", R"sql(
        SELECT c.owner, coalesce(n.advertise_url, '') FROM contacts c
        LEFT JOIN nodes n ON n.node_id = c.owner WHERE c.contact_id = $1)sql"},
  };
  return statements;
}

std::int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

control::RemoteAnswer NotAnswered(std::string why) {
  control::RemoteAnswer answer;
  answer.failure = std::move(why);
  return answer;
}

}  // namespace

HttpRemoteOwner::HttpRemoteOwner(ForwardConfig config, Dispatch dispatch)
    : config_(std::move(config)),
      signer_(config_.secret),
      dispatch_(std::move(dispatch)),
      lookup_(config_.conninfo, "callrec-server " + config_.node_id + " forward") {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, config_.threads); ++i) {
    threads_.emplace_back([this] { Worker(); });
  }
}

HttpRemoteOwner::~HttpRemoteOwner() {
  Stop();
}

void HttpRemoteOwner::Stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    left.swap(queue_);
  }
  cancel_ = true;
  cv_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  for (Job& job : left) job.reply(NotAnswered("this node is stopping; nothing was forwarded"));
}

void HttpRemoteOwner::Forward(const control::OperationRequest& request,
                              std::function<void(control::RemoteAnswer)> reply) {
  Queue(Job{request.contact_id, std::string(core::ToString(request.operation)), kApplyPath,
            OperationToJson(request), std::move(reply)});
}

void HttpRemoteOwner::ForwardEnd(const control::EndRequest& request,
                                 std::function<void(control::RemoteAnswer)> reply) {
  Queue(Job{request.contact_id, "END", kEndPath, EndToJson(request), std::move(reply)});
}

void HttpRemoteOwner::Queue(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  job.reply(NotAnswered("this node is stopping; nothing was forwarded"));
}

void HttpRemoteOwner::Worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    control::RemoteAnswer answer = Send(job);
    if (answer.answered) {
      forwarded_ += 1;
    } else {
      failed_ += 1;
      log::Warn(
          "cluster.forward_failed",
          {{"contact", job.contact_id}, {"operation", job.operation}, {"error", answer.failure}});
    }
    auto deliver = [reply = std::move(job.reply), answer = std::move(answer)]() mutable {
      reply(std::move(answer));
    };
    if (dispatch_) {
      dispatch_(std::move(deliver));
    } else {
      deliver();
    }
    lock.lock();
  }
}

HttpRemoteOwner::Owner HttpRemoteOwner::LookUp(const std::string& contact_id, std::string& error) {
  std::lock_guard lock(lookup_mutex_);
  if (auto known = owners_.find(contact_id); known != owners_.end()) return known->second;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!lookup_.Usable()) {
      if (error = lookup_.Open(Statements()); !error.empty()) continue;
    }
    pgstore::PgResult result = lookup_.Exec("owner", {contact_id}, error, true);
    if (!result) {
      lookup_.Close();  // lost, most likely: once more on a new connection
      continue;
    }
    if (PQntuples(result.get()) == 0) {
      error = "the contact is not in the state store";
      return {};
    }
    Owner owner{PQgetvalue(result.get(), 0, 0), PQgetvalue(result.get(), 0, 1)};
    if (!owner.url.empty()) {
      if (owners_.size() >= config_.owners_cached) owners_.clear();
      owners_.emplace(contact_id, owner);
    }
    return owner;
  }
  return {};
}

void HttpRemoteOwner::Forget(const std::string& contact_id) {
  std::lock_guard lock(lookup_mutex_);
  owners_.erase(contact_id);
}

control::RemoteAnswer HttpRemoteOwner::Send(const Job& job) {
  std::string error;
  const Owner owner = LookUp(job.contact_id, error);
  if (owner.node_id.empty()) {
    return NotAnswered("The owner of contact " + job.contact_id +
                       " could not be looked up: " + error);
  }
  if (owner.node_id == config_.node_id) {
    return NotAnswered("Contact " + job.contact_id + " is owned by this node (" + owner.node_id +
                       ") but not held here: it was not restored after a restart");
  }
  if (owner.url.empty()) {
    return NotAnswered("Owner node " + owner.node_id + " of contact " + job.contact_id +
                       " has no advertise URL (--advertise-url): it cannot be reached");
  }
  auto endpoint = httpclient::ParseEndpointUrl(owner.url);
  if (!endpoint) {
    return NotAnswered("Owner node " + owner.node_id + " advertises an unusable URL " + owner.url +
                       ": " + endpoint.error());
  }
  httpclient::HttpCall call;
  call.method = "POST";
  call.target = job.target;
  call.body = job.body;
  const std::int64_t now = UnixMs();
  call.headers = {{"Content-Type", "application/json"},
                  {kNodeHeader, config_.node_id},
                  {kTimeHeader, std::to_string(now)},
                  {kSignatureHeader,
                   signer_.Sign({call.method, call.target, config_.node_id, now, call.body})}};
  const auto began = std::chrono::steady_clock::now();
  auto sent = httpclient::SendHttp(*endpoint, call, config_.timeout, {}, &cancel_);
  if (!sent) {
    Forget(job.contact_id);  // its node may come back under another URL
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - began)
                            .count();
    return NotAnswered("Owner node " + owner.node_id + " did not answer (" + owner.url + ", " +
                       std::to_string(waited) + " ms, timeout " +
                       std::to_string(config_.timeout.count()) + " ms: " + sent.error() +
                       "); the operation may or may not have been applied there: read the "
                       "contact's state before retrying");
  }
  const httpclient::HttpReply& reply = sent.value();
  control::RemoteAnswer answer;
  if (reply.status != 200 || !AnswerFromJson(reply.body, answer.error)) {
    return NotAnswered("Owner node " + owner.node_id + " refused the forwarded operation: HTTP " +
                       std::to_string(reply.status) + " " + reply.body.substr(0, 300));
  }
  answer.answered = true;
  return answer;
}

}  // namespace callrec::cluster
