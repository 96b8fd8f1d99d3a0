#include "api/AgentDirectory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "aws/Crypto.hpp"
#include "files/AtomicFile.hpp"

namespace callrec::api {
namespace {

constexpr std::string_view kTokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

std::string Digest(std::string_view token) {
  return aws::Sha256Hex(token);
}

}  // namespace

AgentDirectory::AgentDirectory(std::filesystem::path file, store::AgentStore* shared,
                               SteadyClock clock)
    : file_(std::move(file)), shared_(shared), clock_(clock ? std::move(clock) : SteadyClock([] {
        return std::chrono::steady_clock::now();
      })) {
  if (shared_ || file_.empty() || !std::filesystem::exists(file_)) return;
  std::ifstream in(file_);
  std::stringstream text;
  text << in.rdbuf();
  boost::json::error_code ec;
  const boost::json::value parsed = boost::json::parse(text.str(), ec);
  if (ec || !parsed.is_object() || !parsed.as_object().contains("Agents") ||
      !parsed.at("Agents").is_object()) {
    throw std::runtime_error(file_.string() + " is not an agents file; fix or remove it");
  }
  for (const auto& [agent, digest] : parsed.at("Agents").as_object()) {
    if (!digest.is_string()) continue;
    const std::string id(agent);
    issued_digest_by_agent_[id] = std::string(digest.as_string());
    agent_by_digest_[std::string(digest.as_string())] = id;
  }
  // Files written before roles existed have none: everyone an agent.
  if (const auto* roles = parsed.as_object().if_contains("Roles"); roles && roles->is_object()) {
    for (const auto& [agent, role] : roles->as_object()) {
      if (role.is_string() && role.as_string() == "supervisor" &&
          issued_digest_by_agent_.contains(std::string(agent))) {
        supervisors_.insert(std::string(agent));
      }
    }
  }
}

void AgentDirectory::Configure(const std::string& agent_id, const std::string& token) {
  std::lock_guard lock(mutex_);
  agent_by_digest_[Digest(token)] = agent_id;
}

core::Result<std::string, AgentDirectory::SaveError> AgentDirectory::Issue(
    const std::string& agent_id, Role role) {
  const std::string token = aws::RandomToken(40, kTokenAlphabet);
  const std::string digest = Digest(token);
  if (shared_) {
    // Durable in the shared store first; this server's view follows.
    const bool supervisor = role == Role::kSupervisor;
    if (std::string error = shared_->SaveAgent({agent_id, digest, supervisor}); !error.empty()) {
      return SaveError{"cannot store the agent's token: " + error};
    }
    std::lock_guard lock(mutex_);
    std::erase_if(checked_, [&](const auto& entry) { return entry.second.agent_id == agent_id; });
    checked_[digest] = Checked{agent_id, supervisor, clock_()};
    return token;
  }
  std::lock_guard lock(mutex_);
  // Durable first: memory changes only once the file says the same.
  std::map<std::string, std::string> issued = issued_digest_by_agent_;
  issued[agent_id] = digest;
  std::set<std::string> supervisors = supervisors_;
  if (role == Role::kSupervisor) {
    supervisors.insert(agent_id);
  } else {
    supervisors.erase(agent_id);
  }
  if (auto error = Save(issued, supervisors)) return *std::move(error);
  if (auto it = issued_digest_by_agent_.find(agent_id); it != issued_digest_by_agent_.end()) {
    agent_by_digest_.erase(it->second);
  }
  issued_digest_by_agent_ = std::move(issued);
  supervisors_ = std::move(supervisors);
  agent_by_digest_[digest] = agent_id;
  return token;
}

std::optional<std::string> AgentDirectory::AgentFor(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  if (shared_) {
    auto identity = Identify(token);
    if (!identity) return std::nullopt;
    return identity->agent_id;
  }
  const std::string digest = Digest(token);
  std::lock_guard lock(mutex_);
  auto it = agent_by_digest_.find(digest);
  if (it == agent_by_digest_.end()) return std::nullopt;
  return it->second;
}

std::optional<AgentDirectory::Identity> AgentDirectory::IdentifyShared(
    const std::string& digest) const {
  const auto now = clock_();
  {
    std::lock_guard lock(mutex_);
    auto it = checked_.find(digest);
    if (it != checked_.end() && now - it->second.at < kRecheck) {
      return Identity{it->second.agent_id,
                      it->second.supervisor ? Role::kSupervisor : Role::kAgent};
    }
  }
  // Not seen lately: the store says (outside the lock: one slow read must not
  // hold up every other sign-in).
  auto found = shared_->FindAgent(digest);
  std::lock_guard lock(mutex_);
  if (!found || !found.value()) {
    checked_.erase(digest);  // replaced, unknown, or the store cannot tell: refused
    return std::nullopt;
  }
  const store::AgentRecord& record = *found.value();
  checked_[digest] = Checked{record.agent_id, record.supervisor, now};
  return Identity{record.agent_id, record.supervisor ? Role::kSupervisor : Role::kAgent};
}

std::optional<AgentDirectory::Identity> AgentDirectory::Identify(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string digest = Digest(token);
  if (shared_) {
    // Only what could be an issued token is asked about; configured ones are here.
    const bool issued_shape =
        token.size() == 40 && token.find_first_not_of(kTokenAlphabet) == std::string_view::npos;
    if (issued_shape) {
      if (auto identity = IdentifyShared(digest)) return identity;
    }
    std::lock_guard lock(mutex_);
    auto it = agent_by_digest_.find(digest);
    if (it == agent_by_digest_.end()) return std::nullopt;
    return Identity{it->second, Role::kAgent};
  }
  std::lock_guard lock(mutex_);
  auto it = agent_by_digest_.find(digest);
  if (it == agent_by_digest_.end()) return std::nullopt;
  // A configured token (--agent-token) of an agent also issued as supervisor
  // is that of an agent: only the issued token carries the role.
  auto issued = issued_digest_by_agent_.find(it->second);
  const bool supervisor = supervisors_.contains(it->second) &&
                          issued != issued_digest_by_agent_.end() && issued->second == digest;
  return Identity{it->second, supervisor ? Role::kSupervisor : Role::kAgent};
}

std::optional<AgentDirectory::SaveError> AgentDirectory::Save(
    const std::map<std::string, std::string>& digest_by_agent,
    const std::set<std::string>& supervisors) const {
  if (file_.empty()) return std::nullopt;
  boost::json::object agents;
  for (const auto& [agent, digest] : digest_by_agent) agents[agent] = digest;
  boost::json::object roles;
  for (const std::string& agent : supervisors) roles[agent] = "supervisor";
  const std::string text = boost::json::serialize(
      boost::json::object{{"Agents", agents}, {"Roles", roles}, {"Hash", "SHA-256"}});
  if (auto error = files::ReplaceFile(file_, text)) return SaveError{*error};
  return std::nullopt;
}

}  // namespace callrec::api
