#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/Result.hpp"

namespace callrec::httpclient {

struct Endpoint {
  std::string host;
  std::string port;
  bool tls = false;
};

// Parses http://HOST[:PORT] and https://HOST[:PORT] (IPv6 literals in brackets).
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

// One request over a fresh connection, HTTP or HTTPS (certificate and host name
// verified against `ca_file` if given, else the system's CA bundle: SSL_CERT_FILE,
// then the Debian and Amazon Linux locations). A HEAD's reply has no body
// whatever its Content-Length says. Gives up after `timeout` (the whole
// exchange: connecting, sending, the answer), or within 50 ms of `cancel`
// being set (a stopping server abandons what S3 has not answered); never throws.
core::Result<HttpReply, std::string> SendHttp(
    const Endpoint& endpoint, const HttpCall& call,
    std::chrono::milliseconds timeout = std::chrono::seconds(30), const std::string& ca_file = {},
    const std::atomic<bool>* cancel = nullptr);

}  // namespace callrec::httpclient
