#include "api/AgentDirectory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "aws/Crypto.hpp"

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
}

void AgentDirectory::Configure(const std::string& agent_id, const std::string& token) {
  std::lock_guard lock(mutex_);
  agent_by_digest_[Digest(token)] = agent_id;
}

std::string AgentDirectory::Issue(const std::string& agent_id) {
  const std::string token = aws::RandomToken(40, kTokenAlphabet);
  std::lock_guard lock(mutex_);
  if (auto it = issued_digest_by_agent_.find(agent_id); it != issued_digest_by_agent_.end()) {
    agent_by_digest_.erase(it->second);
  }
  const std::string digest = Digest(token);
  issued_digest_by_agent_[agent_id] = digest;
  agent_by_digest_[digest] = agent_id;
  Save();
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

void AgentDirectory::Save() const {
  if (file_.empty()) return;
  boost::json::object agents;
  for (const auto& [agent, digest] : issued_digest_by_agent_) agents[agent] = digest;
  const std::string text =
      boost::json::serialize(boost::json::object{{"Agents", agents}, {"Hash", "SHA-256"}});
  const std::filesystem::path temporary = file_.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + temporary.string());
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) throw std::runtime_error("cannot write " + temporary.string());
  std::filesystem::rename(temporary, file_);
}

}  // namespace callrec::api
