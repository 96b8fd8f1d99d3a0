#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/Result.hpp"

namespace callrec::cli {

struct Endpoint {
  std::string host;
  std::string port;
};

// Parses http://HOST[:PORT] (TLS arrives with the hardening issue).
core::Result<Endpoint, std::string> ParseEndpointUrl(const std::string& url);

struct HttpCall {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpReply {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(std::string_view name) const;
};

// One request over a fresh connection (the CLI makes one or two per run).
core::Result<HttpReply, std::string> SendHttp(const Endpoint& endpoint, const HttpCall& call);

}  // namespace callrec::cli
