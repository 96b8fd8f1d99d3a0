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

AgentDirectory::AgentDirectory(std::filesystem::path file) : file_(std::move(file)) {
  if (file_.empty() || !std::filesystem::exists(file_)) return;
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
  const std::string digest = Digest(token);
  std::lock_guard lock(mutex_);
  auto it = agent_by_digest_.find(digest);
  if (it == agent_by_digest_.end()) return std::nullopt;
  return it->second;
}

std::optional<AgentDirectory::Identity> AgentDirectory::Identify(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string digest = Digest(token);
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
