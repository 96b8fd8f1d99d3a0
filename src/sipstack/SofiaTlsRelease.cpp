#include "sipstack/SofiaTlsRelease.hpp"

#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sofia-sip/su_config.h>  // SOFIAPUBVAR, for sofia_features.h

#include <sofia-sip/sofia_features.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

// See SofiaTlsRelease.hpp for why these two functions are defined here.

namespace {

struct SofiaTls;  // sofia-sip's tls_t; never looked into

using TlsFree = void (*)(SofiaTls*);
using SslShutdown = int (*)(SSL*);

std::atomic<std::uint64_t> freed{0};

// The definitions the executable's own hide: the next ones in lookup order.
template <typename Function>
Function Next(const char* name, const char* version) {
  void* symbol = version ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (!symbol) symbol = dlsym(RTLD_NEXT, name);
  if (!symbol) std::abort();  // cannot happen: the libraries define them
  return reinterpret_cast<Function>(symbol);
}

SslShutdown OpenSslShutdown() {
  static const SslShutdown next = Next<SslShutdown>("SSL_shutdown", "OPENSSL_3.0.0");
  return next;
}

TlsFree SofiaTlsFree() {
  static const TlsFree next = Next<TlsFree>("tls_free", nullptr);
  return next;
}

bool LeakingRelease() {
  constexpr const char* kRelease = "sofia-sip-1.12.11";  // the last 1.12 release
  static const bool leaking =
      std::strncmp(sofia_sip_name_version, kRelease, std::strlen(kRelease)) == 0;
  return leaking;
}

// What sofia-sip's tls_free() shut down on this thread, while it runs.
struct Release {
  bool collecting = false;
  SSL* connection = nullptr;
};
thread_local Release release;

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int SSL_shutdown(SSL* ssl) {
  const int result = OpenSslShutdown()(ssl);
  if (release.collecting && ssl != nullptr && release.connection == nullptr) {
    // What sofia-sip's tls_free() does next, it does as if the SSL were to
    // live on: it BIO_free()s the BIO it gave to SSL_set_bio(), and (since
    // tls_init_secondary() copies the master's type into the connection's)
    // SSL_CTX_free()s the shared context, a reference only the SSL holds.
    // One more reference on each keeps them for SSL_free().
    if (BIO* bio = SSL_get_rbio(ssl)) BIO_up_ref(bio);
    if (SSL_CTX* context = SSL_get_SSL_CTX(ssl)) SSL_CTX_up_ref(context);
    release.connection = ssl;
  }
  return result;
}

__attribute__((visibility("default"))) void tls_free(SofiaTls* tls) {
  if (!LeakingRelease() || release.collecting) {
    SofiaTlsFree()(tls);
    return;
  }
  release = Release{true, nullptr};
  SofiaTlsFree()(tls);
  SSL* connection = release.connection;
  release = Release{};
  if (connection != nullptr) {
    SSL_free(connection);
    freed.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // extern "C"

namespace callrec::sipstack {

bool SofiaTlsReleaseActive() {
  return LeakingRelease();
}

std::uint64_t SofiaTlsConnectionsFreed() {
  return freed.load(std::memory_order_relaxed);
}

}  // namespace callrec::sipstack
