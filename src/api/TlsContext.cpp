#include "api/TlsContext.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "log/Log.hpp"

namespace callrec::api {
namespace {

namespace ssl = boost::asio::ssl;

// Mozilla's "intermediate" choice for TLS 1.2: ECDHE key exchange, AEAD only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

[[noreturn]] void Fail(const std::string& what, const std::filesystem::path& file,
                       const std::string& reason) {
  throw std::runtime_error("TLS " + what + " " + file.string() + ": " + reason);
}

void CheckReadable(const std::string& what, const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) Fail(what, file, "cannot be read (" + std::generic_category().message(errno) + ")");
}

std::string Reason(const boost::system::error_code& ec) {
  std::string reason = ec.message();
  ERR_clear_error();
  return reason;
}

}  // namespace

std::shared_ptr<ssl::context> MakeTlsContext(const std::filesystem::path& certificate,
                                             const std::filesystem::path& private_key) {
  CheckReadable("certificate", certificate);
  CheckReadable("private key", private_key);
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_security_level(native, 2);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    ERR_clear_error();
    throw std::runtime_error("TLS: OpenSSL refused the cipher list");
  }
  // An encrypted key would make OpenSSL ask for a passphrase on the terminal:
  // give it none, so such a key fails here with a clear message instead.
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  context->use_certificate_chain_file(certificate.string(), ec);
  if (ec) Fail("certificate", certificate, "not a PEM certificate chain (" + Reason(ec) + ")");
  context->use_private_key_file(private_key.string(), ssl::context::pem, ec);
  if (ec) {
    Fail("private key", private_key,
         "not a usable PEM private key, encrypted, or not the certificate's key (" + Reason(ec) +
             ")");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    Fail("private key", private_key, "does not match the certificate " + certificate.string());
  }
  // An expired certificate still starts (clients will refuse it): say so once.
  if (const X509* leaf = SSL_CTX_get0_certificate(native)) {
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
      log::Warn("tls.certificate_expired", {{"certificate", certificate.string()}});
    } else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
      log::Warn("tls.certificate_not_yet_valid", {{"certificate", certificate.string()}});
    }
  }
  return context;
}

}  // namespace callrec::api
