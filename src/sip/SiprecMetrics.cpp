#include "sip/SiprecMetrics.hpp"

namespace callrec::sip {

void RegisterSiprecMetrics(metrics::Registry& registry, const SiprecServer& siprec) {
  registry.AddGauge("callrec_siprec_sessions", "Live SIPREC recording sessions.",
                    [&siprec] { return metrics::Number(siprec.Stats().sessions_active); });
  registry.AddCounter("callrec_siprec_sessions_total", "SIPREC sessions accepted.",
                      [&siprec] { return metrics::Number(siprec.Stats().sessions_total); });
  registry.Add("callrec_siprec_refused_total",
               "SIP requests refused: reason=\"offer\" INVITEs (bad or unsupported offers, no "
               "ports, limits), reason=\"source\" INVITEs and OPTIONS from outside --sip-allow, "
               "reason=\"draining\" new INVITEs while the server drains.",
               metrics::Type::kCounter, [&siprec] {
                 const SiprecStats stats = siprec.Stats();
                 return std::vector<metrics::Sample>{
                     {{{"reason", "offer"}}, stats.invites_refused, ""},
                     {{{"reason", "source"}}, stats.refused_source, ""},
                     {{{"reason", "draining"}}, stats.refused_draining, ""}};
               });
  registry.AddCounter("callrec_siprec_reoffers_total", "re-INVITEs and UPDATEs within sessions.",
                      [&siprec] { return metrics::Number(siprec.Stats().reinvites); });
  registry.AddCounter(
      "callrec_sip_stalled_connections_closed_total",
      "TCP/TLS connections shut down after 10 s without a SIP exchange (silent, or a TLS "
      "handshake cut short).",
      [&siprec] { return metrics::Number(siprec.Stats().stalled_connections_closed); });
  registry.AddCounter("callrec_sip_tls_connections_freed_total",
                      "SIP TLS connections whose OpenSSL object callrec freed after sofia-sip "
                      "closed them (sofia-sip 1.12 leaves it).",
                      [&siprec] { return metrics::Number(siprec.Stats().tls_connections_freed); });
}

}  // namespace callrec::sip
