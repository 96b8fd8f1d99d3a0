#include "httpclient/HttpClient.hpp"

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace callrec::httpclient {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace {

void LoadTrustedCertificates(ssl::context& context, const std::string& ca_file) {
  if (!ca_file.empty()) {
    context.load_verify_file(ca_file);
    return;
  }
  // A static binary carries Debian's OPENSSLDIR, which Amazon Linux does not
  // have: look where each distribution keeps its bundle.
  if (const char* file = std::getenv("SSL_CERT_FILE"); file && *file) {
    context.load_verify_file(file);
    return;
  }
  for (const char* bundle : {"/etc/pki/tls/certs/ca-bundle.crt",
                             "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem"}) {
    std::error_code ec;
    if (std::filesystem::exists(bundle, ec)) {
      context.load_verify_file(bundle);
      return;
    }
  }
  context.set_default_verify_paths();
}

// One request and its reply on a connected stream. The caller's deadline on
// the underlying tcp_stream bounds every step (Beast applies it to
// asynchronous operations only, hence coroutines rather than blocking calls).
template <typename Stream>
asio::awaitable<HttpReply> Exchange(Stream& stream, const HttpCall& call) {
  http::request<http::string_body> request{http::string_to_verb(call.method), call.target, 11};
  for (const auto& [name, value] : call.headers) request.set(name, value);
  request.body() = call.body;
  request.prepare_payload();
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  // Objects (a recording read back) are larger than Beast's 8 MB default.
  parser.body_limit(std::uint64_t{4} << 30);
  parser.skip(call.method == "HEAD");
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  http::response<http::string_body> response = parser.release();
  HttpReply reply;
  reply.status = response.result_int();
  for (const auto& field : response) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  reply.body = std::move(response.body());
  co_return reply;
}

asio::awaitable<HttpReply> Send(const Endpoint& endpoint, const HttpCall& call,
                                std::chrono::milliseconds timeout, const std::string& ca_file) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  const auto addresses =
      co_await resolver.async_resolve(endpoint.host, endpoint.port, asio::use_awaitable);
  if (!endpoint.tls) {
    beast::tcp_stream stream(executor);
    stream.expires_after(timeout);
    co_await stream.async_connect(addresses, asio::use_awaitable);
    HttpReply reply = co_await Exchange(stream, call);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    co_return reply;
  }
  ssl::context context(ssl::context::tls_client);
  LoadTrustedCertificates(context, ca_file);
  context.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(executor, context);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str())) {
    throw std::runtime_error("cannot set the TLS server name");
  }
  stream.set_verify_callback(ssl::host_name_verification(endpoint.host));
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await beast::get_lowest_layer(stream).async_connect(addresses, asio::use_awaitable);
  co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  HttpReply reply = co_await Exchange(stream, call);
  // A peer that closes without close_notify is common: the reply is already whole.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  beast::error_code ignored;
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
  co_return reply;
}

}  // namespace

core::Result<Endpoint, std::string> ParseEndpointUrl(const std::string& url) {
  Endpoint out;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    out.tls = true;
  } else {
    return "endpoint URL must start with http:// or https://, got '" + url + "'";
  }
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return "bad IPv6 literal in '" + url + "'";
    out.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] != ':')
      return "bad IPv6 literal in '" + url + "'";
    out.port = close + 2 <= rest.size() ? rest.substr(close + 2) : "";
  } else {
    const std::size_t colon = rest.find(':');
    out.host = rest.substr(0, colon);
    out.port = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  if (out.host.empty()) return "no host in '" + url + "'";
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (ec != std::errc() || end != out.port.data() + out.port.size() || port == 0 || port > 65535) {
    return "the port in '" + url + "' is not a number from 1 to 65535";
  }
  return out;
}

std::string HttpReply::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return "";
}

core::Result<HttpReply, std::string> SendHttp(const Endpoint& endpoint, const HttpCall& call,
                                              std::chrono::milliseconds timeout,
                                              const std::string& ca_file) {
  std::optional<core::Result<HttpReply, std::string>> outcome;
  try {
    asio::io_context io;
    asio::co_spawn(io, Send(endpoint, call, timeout, ca_file),
                   [&outcome, &endpoint](std::exception_ptr failure, HttpReply reply) {
                     if (!failure) {
                       outcome = std::move(reply);
                       return;
                     }
                     try {
                       std::rethrow_exception(failure);
                     } catch (const std::exception& error) {
                       outcome = "cannot reach " + endpoint.host + ":" + endpoint.port + ": " +
                                 error.what();
                     }
                   });
    io.run();
  } catch (const std::exception& error) {
    outcome = "cannot reach " + endpoint.host + ":" + endpoint.port + ": " + error.what();
  }
  if (!outcome) return "cannot reach " + endpoint.host + ":" + endpoint.port;
  return std::move(*outcome);
}

}  // namespace callrec::httpclient
