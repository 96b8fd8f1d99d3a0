#include "media/RecordingMetadata.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <memory>

#include "core/Timestamp.hpp"
#include "files/AtomicFile.hpp"

namespace callrec::media {
namespace {

std::string SafeName(const std::string& id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  if (out == "." || out == "..") out = "%2E" + out.substr(1);
  return out;
}

double Seconds(std::int64_t samples) {
  return static_cast<double>(samples) / RecordingSession::kRate;
}

}  // namespace

boost::json::array AuditTrailJson(const std::vector<core::AuditEntry>& trail) {
  boost::json::array out;
  for (const core::AuditEntry& e : trail) {
    out.push_back(boost::json::object{{"Time", core::FormatTimestamp(e.at_ms)},
                                      {"Operation", e.operation},
                                      {"Principal", e.principal},
                                      {"Result", e.result},
                                      {"Detail", e.detail}});
  }
  return out;
}

boost::json::object MetadataToJson(const RecordingMetadata& m) {
  boost::json::object out;
  out["ContactId"] = m.contact_id;
  out["InitialContactId"] = m.initial_contact_id;
  out["InstanceId"] = m.instance_id;
  out["AgentId"] = m.agent_id;
  out["Track"] = m.track;
  out["Codec"] = m.codec;
  out["PauseBehavior"] = m.skip_paused ? "skip" : "silence";
  out["Format"] = "WAV PCM 16-bit 8000 Hz stereo (left customer/TO_AGENT, right agent/FROM_AGENT)";
  out["StartTime"] = core::FormatTimestamp(m.start_wall_ms);
  if (m.end_wall_ms >= 0) {
    out["EndTime"] = core::FormatTimestamp(m.end_wall_ms);
  } else {
    out["EndTime"] = nullptr;
  }
  out["DurationSeconds"] = Seconds(static_cast<std::int64_t>(m.frames));
  out["Frames"] = m.frames;
  boost::json::array pauses;
  std::int64_t cut_before = 0;
  for (const PauseInterval& p : m.pauses) {
    const std::int64_t end = p.end_sample >= 0 ? p.end_sample : p.start_sample;
    boost::json::object pause;
    pause["Start"] = core::FormatTimestamp(p.start_wall_ms);
    if (p.end_wall_ms >= 0) {
      pause["End"] = core::FormatTimestamp(p.end_wall_ms);
    } else {
      pause["End"] = nullptr;
    }
    if (m.skip_paused) {
      pause["FileOffsetStart"] = Seconds(p.start_sample - cut_before);
      pause["FileOffsetEnd"] = Seconds(p.start_sample - cut_before);
      cut_before += end - p.start_sample;
    } else {
      pause["FileOffsetStart"] = Seconds(p.start_sample);
      pause["FileOffsetEnd"] = Seconds(end);
    }
    pause["PausedSeconds"] = Seconds(end - p.start_sample);
    // Who paused: the policy that paused by itself; an operation's principal
    // is in the audit trail at the pause's Start.
    pause["Reason"] = p.reason.empty() ? "operation" : p.reason;
    pauses.push_back(std::move(pause));
  }
  out["Pauses"] = std::move(pauses);
  out["DtmfPolicy"] = m.dtmf_policy;
  boost::json::array masked;
  for (const MaskedSpan& span : m.masked) {
    // In skip mode the file lacks the paused spans before it.
    std::int64_t cut = 0;
    if (m.skip_paused) {
      for (const PauseInterval& p : m.pauses) {
        const std::int64_t end = p.end_sample >= 0 ? p.end_sample : p.start_sample;
        if (end <= span.start_sample) cut += end - p.start_sample;
      }
    }
    masked.push_back(boost::json::object{{"Leg", span.side == Side::kAgent ? "agent" : "customer"},
                                         {"FileOffsetStart", Seconds(span.start_sample - cut)},
                                         {"FileOffsetEnd", Seconds(span.end_sample - cut)}});
  }
  out["MaskedSpans"] = std::move(masked);
  out["AuditTrail"] = AuditTrailJson(m.audit_trail);
  out["Counters"] = boost::json::object{{"Packets", m.counters.packets},
                                        {"Lost", m.counters.lost},
                                        {"Late", m.counters.late},
                                        {"Gated", m.counters.gated},
                                        {"Invalid", m.counters.invalid},
                                        {"Foreign", m.counters.foreign},
                                        {"DtmfDigits", m.counters.dtmf_digits},
                                        {"DtmfUnmaskedSamples", m.counters.dtmf_unmasked},
                                        {"Events", m.counters.events},
                                        {"StorageDroppedFrames", m.storage_dropped_frames}};
  out["Sha256"] = m.sha256;
  if (!m.storage_error.empty()) out["StorageError"] = m.storage_error;
  out["Complete"] = m.complete;
  if (m.repaired) out["Repaired"] = true;
  return out;
}

std::filesystem::path RecordingPath(const std::filesystem::path& recordings_dir,
                                    const std::string& initial_contact_id,
                                    const std::string& contact_id, std::int64_t start_wall_ms) {
  const std::string stamp = core::FormatTimestamp(start_wall_ms);  // YYYY-MM-DDT...
  return recordings_dir / stamp.substr(0, 4) / stamp.substr(5, 2) / stamp.substr(8, 2) /
         SafeName(initial_contact_id) / (SafeName(contact_id) + ".wav");
}

core::Result<bool, MediaError> WriteJsonAtomically(const std::filesystem::path& path,
                                                   const boost::json::object& json, bool durable) {
  const std::string text = boost::json::serialize(json) + "\n";
  if (auto error = files::ReplaceFile(path, text, {0640, durable, false}))
    return MediaError{*error};
  return true;
}

core::Result<std::string, MediaError> Sha256OfFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return MediaError{"cannot open " + path.string()};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<unsigned char> buffer(1 << 16);
  ssize_t n;
  while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (n < 0) return MediaError{"cannot read " + path.string()};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
}

}  // namespace callrec::media
