#include "sip/SdpAnswer.hpp"

#include <algorithm>

namespace callrec::sip {
namespace {

const Codec* FindCodec(const OfferedStream& stream, int payload_type) {
  const auto it = std::find_if(stream.codecs.begin(), stream.codecs.end(),
                               [&](const Codec& c) { return c.payload_type == payload_type; });
  return it == stream.codecs.end() ? nullptr : &*it;
}

// The rtpmap text of a payload type: as offered, else the G.711 static types.
std::optional<std::string> RtpMap(const OfferedStream& stream, int payload_type) {
  if (const Codec* codec = FindCodec(stream, payload_type)) {
    return codec->name + "/" + std::to_string(codec->clock_rate);
  }
  if (payload_type == 0) return "PCMU/8000";
  if (payload_type == 8) return "PCMA/8000";
  return std::nullopt;
}

}  // namespace

std::string BuildAnswer(const Offer& offer, const std::vector<AnsweredStream>& streams,
                        std::string_view local_address, std::uint64_t session_id,
                        std::uint64_t session_version) {
  const std::string address_type =
      local_address.find(':') == std::string_view::npos ? "IP4" : "IP6";
  const std::string connection = "IN " + address_type + " " + std::string(local_address);
  std::string sdp;
  sdp += "v=0\r\n";
  sdp += "o=callrec " + std::to_string(session_id) + " " + std::to_string(session_version) + " " +
         connection + "\r\n";
  sdp += "s=callrec\r\n";
  sdp += "c=" + connection + "\r\n";
  sdp += "t=0 0\r\n";
  for (std::size_t i = 0; i < offer.streams.size(); ++i) {
    const OfferedStream& offered = offer.streams[i];
    const AnsweredStream declined{};
    const AnsweredStream& answer = i < streams.size() ? streams[i] : declined;
    if (answer.port == 0) {
      const std::string format = offered.formats.empty() ? "0" : offered.formats.front();
      sdp += "m=" + offered.media + " 0 " + offered.protocol + " " + format + "\r\n";
      if (!offered.label.empty()) sdp += "a=label:" + offered.label + "\r\n";
      continue;
    }
    sdp += "m=" + offered.media + " " + std::to_string(answer.port) + " " + offered.protocol + " " +
           std::to_string(answer.payload_type);
    if (answer.telephone_event_pt) sdp += " " + std::to_string(*answer.telephone_event_pt);
    sdp += "\r\n";
    if (const auto map = RtpMap(offered, answer.payload_type)) {
      sdp += "a=rtpmap:" + std::to_string(answer.payload_type) + " " + *map + "\r\n";
    }
    if (answer.telephone_event_pt) {
      const std::string pt = std::to_string(*answer.telephone_event_pt);
      sdp += "a=rtpmap:" + pt + " telephone-event/8000\r\n";
      sdp += "a=fmtp:" + pt + " 0-15\r\n";
    }
    if (answer.crypto) sdp += "a=crypto:" + *answer.crypto + "\r\n";
    if (!offered.label.empty()) sdp += "a=label:" + offered.label + "\r\n";
    sdp += "a=" + std::string(DirectionName(answer.direction)) + "\r\n";
  }
  return sdp;
}

std::optional<int> ChooseAudioCodec(const OfferedStream& stream) {
  if (stream.media != "audio") return std::nullopt;
  if (ProfileOf(stream) == MediaProfile::kOther) return std::nullopt;
  for (const char* wanted : {"PCMU", "PCMA"}) {
    for (const Codec& codec : stream.codecs) {
      if (codec.name == wanted && codec.clock_rate == 8000) return codec.payload_type;
    }
  }
  return std::nullopt;
}

}  // namespace callrec::sip
