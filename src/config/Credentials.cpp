#include "config/Credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "aws/Crypto.hpp"
#include "files/AtomicFile.hpp"

namespace callrec::config {
namespace {

constexpr std::string_view kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSecret =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kToken = "abcdefghijklmnopqrstuvwxyz0123456789";

// Start-up only (no request writes credentials): a failure stops start-up,
// naming the file and the cause ("No space left on device").
void WritePrivateFile(const std::filesystem::path& path, const std::string& text) {
  if (auto error = files::ReplaceFile(path, text)) throw std::runtime_error(*error);
}

}  // namespace

ResolvedCredentials ResolveCredentials(const ServerConfig& config) {
  ResolvedCredentials out;
  out.access_keys = config.access_keys;
  out.admin_token = config.admin_token;
  if (!out.access_keys.empty() && !out.admin_token.empty()) return out;

  out.file = config.data_dir / "credentials.json";
  boost::json::object stored;
  if (std::filesystem::exists(out.file)) {
    std::ifstream in(out.file);
    std::stringstream text;
    text << in.rdbuf();
    boost::json::error_code ec;
    boost::json::value parsed = boost::json::parse(text.str(), ec);
    if (ec || !parsed.is_object()) {
      throw std::runtime_error(out.file.string() +
                               " is not valid JSON; fix or delete it to generate new keys");
    }
    stored = parsed.as_object();
  }
  auto text_of = [&](std::string_view key) -> std::string {
    const boost::json::value* value = stored.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
  };
  bool changed = false;
  if (out.access_keys.empty()) {
    std::string id = text_of("AccessKeyId");
    std::string secret = text_of("SecretAccessKey");
    if (id.empty() || secret.empty()) {
      id = "AKCR" + aws::RandomToken(16, kUpper);
      secret = aws::RandomToken(40, kSecret);
      stored["AccessKeyId"] = id;
      stored["SecretAccessKey"] = secret;
      changed = true;
    }
    out.access_keys.push_back({id, secret});
  }
  if (out.admin_token.empty()) {
    out.admin_token = text_of("AdminToken");
    if (out.admin_token.empty()) {
      out.admin_token = aws::RandomToken(40, kToken);
      stored["AdminToken"] = out.admin_token;
      changed = true;
    }
  }
  if (changed) {
    WritePrivateFile(out.file, boost::json::serialize(stored) + "\n");
    out.generated_now = true;
  }
  return out;
}

}  // namespace callrec::config
