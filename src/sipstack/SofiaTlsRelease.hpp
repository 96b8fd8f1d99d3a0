#pragma once

#include <cstdint>

namespace callrec::sipstack {

// sofia-sip 1.12 (Debian 12's libsofia-sip-ua0) frees a TLS connection with
// tls_free(), which calls SSL_shutdown() and BIO_free() on the connection but
// never SSL_free(): every SIP TLS connection, accepted or opened, leaves its
// SSL object behind (23-46 KiB measured), so a peer that connects again and
// again grows the process without end.
//
// SofiaTlsRelease.cpp completes that destructor from outside, without knowing
// sofia-sip's private structures: it defines tls_free() and SSL_shutdown() in
// the executable, which the dynamic linker prefers to the libraries' own (both
// are called through the PLT: readelf -r shows their JUMP_SLOTs). Our
// tls_free() calls sofia-sip's; while it runs, our SSL_shutdown() notes the
// connection's SSL and takes a reference on its BIO and on its SSL_CTX, the
// two things sofia-sip's tls_free() then releases as if the SSL were to live
// on (its BIO_free(), and an SSL_CTX_free() that only balanced the SSL's own
// reference); once sofia-sip's tls_free() has returned, the SSL is freed with
// SSL_free(), BIO included. Any other SSL_shutdown() (our HTTPS server's,
// libssl's) goes straight to OpenSSL's.
//
// This only happens with the sofia-sip release whose tls_free() is known to
// do exactly that (sofia_sip_name_version "sofia-sip-1.12.11"); with any other
// the calls are passed through untouched, so a fixed sofia-sip is never
// double-freed (and then leaks as before: the interop test says so).
bool SofiaTlsReleaseActive();

// TLS connections whose SSL object was freed on sofia-sip's behalf.
std::uint64_t SofiaTlsConnectionsFreed();

}  // namespace callrec::sipstack
