#include "httpclient/HttpClient.hpp"

#include <openssl/ssl.h>
#include <strings.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
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

http::request<http::string_body> RequestOf(const HttpCall& call) {
  http::request<http::string_body> request{http::string_to_verb(call.method), call.target, 11};
  for (const auto& [name, value] : call.headers) request.set(name, value);
  request.body() = call.body;
  request.prepare_payload();
  return request;
}

// One exchange in flight: the request written, the response read, the first
// error kept. Asynchronous, because Beast's timeouts (tcp_stream's expiry)
// apply to asynchronous operations only: a blocking read would wait for ever
// on a server that accepts and never answers.
struct Exchange {
  explicit Exchange(const HttpCall& call) : request(RequestOf(call)) {
    // Objects (a recording read back) are larger than Beast's 8 MB default.
    parser.body_limit(std::uint64_t{4} << 30);
    parser.skip(call.method == "HEAD");
  }
  template <typename Stream>
  void Start(Stream& stream) {
    http::async_write(stream, request, [this, &stream](beast::error_code ec, std::size_t) {
      if (ec) return Fail(ec, "sending");
      http::async_read(stream, buffer, parser, [this](beast::error_code ec, std::size_t) {
        if (ec) return Fail(ec, "reading the answer");
        done = true;
      });
    });
  }
  void Fail(const beast::error_code& ec, const char* what) {
    if (error.empty()) error = std::string(what) + ": " + ec.message();
  }
  HttpReply Reply() {
    http::response<http::string_body> response = parser.release();
    HttpReply reply;
    reply.status = response.result_int();
    for (const auto& field : response) {
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    reply.body = std::move(response.body());
    return reply;
  }

  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  std::string error;
  bool done = false;
};

// Runs `io` until its work is done; false as soon as `cancel` is set (checked
// every 50 ms): the caller then abandons the exchange.
bool RunUnlessCancelled(asio::io_context& io, const std::atomic<bool>* cancel) {
  for (;;) {
    io.run_for(std::chrono::milliseconds(50));
    if (io.stopped()) return true;
    if (cancel != nullptr && cancel->load()) return false;
  }
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
                                              const std::string& ca_file,
                                              const std::atomic<bool>* cancel) {
  const std::string where = "cannot reach " + endpoint.host + ":" + endpoint.port + ": ";
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    const auto addresses = resolver.resolve(endpoint.host, endpoint.port);
    Exchange exchange(call);
    if (!endpoint.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(timeout);  // the whole exchange: connect, send, answer
      stream.async_connect(addresses, [&](beast::error_code ec, const auto&) {
        if (ec) return exchange.Fail(ec, "connecting");
        exchange.Start(stream);
      });
      if (!RunUnlessCancelled(io, cancel)) return where + "cancelled (the server is stopping)";
      if (!exchange.done) return where + exchange.error;
      beast::error_code ignored;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      return exchange.Reply();
    }
    ssl::context context(ssl::context::tls_client);
    LoadTrustedCertificates(context, ca_file);
    context.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, context);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str())) {
      return std::string("cannot set the TLS server name");
    }
    stream.set_verify_callback(ssl::host_name_verification(endpoint.host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).async_connect(
        addresses, [&](beast::error_code ec, const auto&) {
          if (ec) return exchange.Fail(ec, "connecting");
          stream.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
            if (ec) return exchange.Fail(ec, "TLS handshake");
            exchange.Start(stream);
          });
        });
    if (!RunUnlessCancelled(io, cancel)) return where + "cancelled (the server is stopping)";
    if (!exchange.done) return where + exchange.error;
    // No close_notify exchange: the answer is whole (its length was read), and
    // a peer that never answers one must not hold this thread.
    return exchange.Reply();
  } catch (const std::exception& error) {
    return where + error.what();
  }
}

}  // namespace callrec::httpclient
