#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>

namespace callrec::api {

// The HTTP API's TLS settings: the PEM certificate chain (leaf first) and its
// private key, TLS 1.2 and 1.3 only, forward-secret AEAD ciphers for TLS 1.2
// (TLS 1.3's own suites are all fine), OpenSSL security level 2. Throws
// std::runtime_error naming the file and the reason when a file is missing or
// unreadable, the key is encrypted, or the key does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> MakeTlsContext(const std::filesystem::path& certificate,
                                                          const std::filesystem::path& private_key);

}  // namespace callrec::api
