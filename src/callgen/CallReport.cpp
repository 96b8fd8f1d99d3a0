#include "callgen/CallReport.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <ostream>

namespace callrec::callgen {
namespace {

std::string Ms(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

}  // namespace

int CallgenReport::failed_sessions() const {
  int failed = 0;
  for (const auto& s : sessions) failed += s.failed() ? 1 : 0;
  return failed;
}

Lateness CallgenReport::lateness() const {
  Lateness all;
  for (const auto& s : sessions) {
    for (const auto& stream : s.streams) all.Merge(stream.lateness);
  }
  return all;
}

void PrintText(const CallgenReport& report, std::ostream& out) {
  for (const auto& s : report.sessions) {
    out << "call " << s.call << (s.transfer ? " (transfer)" : "") << "  Call-ID " << s.call_id
        << "\n";
    if (!s.contact_id.empty()) out << "  X-Contact-Id          " << s.contact_id << "\n";
    if (!s.initial_contact_id.empty()) {
      out << "  X-Initial-Contact-Id  " << s.initial_contact_id << "\n";
    }
    out << "  siprec group " << s.group_id << "  session " << s.session_id << "\n";
    for (const auto& sip : s.sip) {
      out << "  " << sip.request << " -> "
          << (sip.status == 0 ? std::string("no answer")
                              : std::to_string(sip.status) + " " + sip.phrase)
          << "\n";
    }
    for (const auto& st : s.streams) {
      out << "  " << st.role << " label " << st.label << "  port " << st.local_port << " -> "
          << (st.destination.empty() ? std::string("-") : st.destination) << "  " << st.packets
          << " packets, " << st.bytes << " bytes";
      if (st.events) out << " (" << st.events << " telephone events)";
      if (st.send_errors) out << ", " << st.send_errors << " send errors";
      if (st.packets) {
        out << "  late max " << Ms(st.lateness.max_ms()) << " ms, p99 "
            << Ms(st.lateness.QuantileMs(0.99)) << " ms";
      }
      out << "\n";
    }
    if (s.failed()) out << "  FAILED: " << s.failure << "\n";
  }
  if (report.dtmf && !report.dtmf->offsets.empty()) {
    const auto& d = *report.dtmf;
    out << "DTMF: " << d.offsets.size() << " digits (" << d.mode << ", " << d.level_dbm0
        << " dBm0, " << d.duration_ms << " ms on, " << d.gap_ms << " ms off) from "
        << Ms(d.offsets.front()) << " s to " << Ms(d.offsets.back()) << " s of each call\n";
  }
  for (const auto& warning : report.warnings) out << "warning: " << warning << "\n";
  const Lateness all = report.lateness();
  out << report.sessions.size() << " sessions, " << report.failed_sessions() << " failed, "
      << all.count() << " packets in " << Ms(report.elapsed_seconds) << " s; send lateness max "
      << Ms(all.max_ms()) << " ms, p99 " << Ms(all.QuantileMs(0.99)) << " ms"
      << (report.send_batch.empty() ? std::string() : "; send batch " + report.send_batch) << "\n";
}

void PrintJson(const CallgenReport& report, std::ostream& out) {
  boost::json::array sessions;
  for (const auto& s : report.sessions) {
    boost::json::array sip;
    for (const auto& r : s.sip) {
      sip.push_back({{"request", r.request}, {"status", r.status}, {"phrase", r.phrase}});
    }
    boost::json::array streams;
    for (const auto& st : s.streams) {
      streams.push_back({{"role", st.role},
                         {"label", st.label},
                         {"local_port", st.local_port},
                         {"destination", st.destination},
                         {"packets", st.packets},
                         {"events", st.events},
                         {"bytes", st.bytes},
                         {"send_errors", st.send_errors},
                         {"lateness_max_ms", st.lateness.max_ms()},
                         {"lateness_p99_ms", st.lateness.QuantileMs(0.99)}});
    }
    boost::json::object session{{"call", s.call},
                                {"transfer", s.transfer},
                                {"call_id", s.call_id},
                                {"contact_id", s.contact_id},
                                {"initial_contact_id", s.initial_contact_id},
                                {"group_id", s.group_id},
                                {"session_id", s.session_id},
                                {"sip", std::move(sip)},
                                {"streams", std::move(streams)},
                                {"ok", !s.failed()}};
    if (s.failed()) session["failure"] = s.failure;
    sessions.push_back(std::move(session));
  }
  const Lateness all = report.lateness();
  boost::json::object root{
      {"sessions", std::move(sessions)}, {"failed_sessions", report.failed_sessions()},
      {"packets", all.count()},          {"elapsed_seconds", report.elapsed_seconds},
      {"lateness_max_ms", all.max_ms()}, {"lateness_p99_ms", all.QuantileMs(0.99)}};
  if (!report.send_batch.empty()) root["send_batch"] = report.send_batch;
  boost::json::array warnings;
  for (const auto& warning : report.warnings) warnings.push_back(boost::json::string(warning));
  root["warnings"] = std::move(warnings);
  if (report.dtmf) {
    boost::json::array offsets;
    for (const double offset : report.dtmf->offsets) offsets.push_back(offset);
    root["dtmf"] = {{"mode", report.dtmf->mode},
                    {"level_dbm0", report.dtmf->level_dbm0},
                    {"duration_ms", report.dtmf->duration_ms},
                    {"gap_ms", report.dtmf->gap_ms},
                    {"offsets", std::move(offsets)}};
  }
  out << boost::json::serialize(root) << "\n";
}

}  // namespace callrec::callgen
