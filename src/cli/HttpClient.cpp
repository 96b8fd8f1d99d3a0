#include "cli/HttpClient.hpp"

#include <strings.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace callrec::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

core::Result<Endpoint, std::string> ParseEndpointUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return "endpoint URL must start with http://, got '" + url + "'";
  std::string rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  Endpoint out;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return "bad IPv6 literal in '" + url + "'";
    out.host = rest.substr(1, close - 1);
    out.port = close + 2 <= rest.size() ? rest.substr(close + 2) : "";
  } else {
    const std::size_t colon = rest.find(':');
    out.host = rest.substr(0, colon);
    out.port = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  if (out.port.empty()) out.port = "80";
  if (out.host.empty()) return "no host in '" + url + "'";
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

core::Result<HttpReply, std::string> SendHttp(const Endpoint& endpoint, const HttpCall& call) {
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(endpoint.host, endpoint.port));
    http::request<http::string_body> request{http::string_to_verb(call.method), call.target, 11};
    for (const auto& [name, value] : call.headers) request.set(name, value);
    request.body() = call.body;
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    HttpReply reply;
    reply.status = response.result_int();
    for (const auto& field : response) {
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    reply.body = std::move(response.body());
    return reply;
  } catch (const std::exception& error) {
    return "cannot reach " + endpoint.host + ":" + endpoint.port + ": " + error.what();
  }
}

}  // namespace callrec::cli
