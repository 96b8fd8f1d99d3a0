#include "media/RecorderMetrics.hpp"

namespace callrec::media {

void RegisterRecorderMetrics(metrics::Registry& registry, const Recorder& recorder) {
  registry.AddCounter("callrec_rtp_invalid_packets_total",
                      "Datagrams on RTP ports that were not RTP.",
                      [&recorder] { return metrics::Number(recorder.invalid_packets()); });
  registry.AddCounter("callrec_media_late_ticks_total",
                      "Recorder ticks that came over 50 ms late (the media thread stalled); "
                      "each read the waiting datagrams before writing.",
                      [&recorder] { return metrics::Number(recorder.late_ticks()); });
  registry.Add("callrec_rtp_foreign_packets_total",
               "Datagrams dropped because they came from a sender the leg does not record "
               "(--rtp-source).",
               metrics::Type::kCounter, [&recorder] {
                 return std::vector<metrics::Sample>{
                     {{{"leg", "customer"}}, recorder.foreign_packets(Side::kCustomer), ""},
                     {{{"leg", "agent"}}, recorder.foreign_packets(Side::kAgent), ""}};
               });
  registry.Add("callrec_srtp_packets_refused_total",
               "Datagrams on SRTP legs not recorded: authentication failed (wrong key, altered, "
               "plain RTP), replayed, or malformed.",
               metrics::Type::kCounter, [&recorder] {
                 const SrtpRefusals srtp = recorder.srtp_refusals();
                 return std::vector<metrics::Sample>{
                     {{{"reason", "authentication"}}, srtp.authentication, ""},
                     {{{"reason", "replay"}}, srtp.replay, ""},
                     {{{"reason", "malformed"}}, srtp.malformed, ""}};
               });
  registry.AddCounter("callrec_recording_dropped_frames_total",
                      "Audio frames lost: storage was behind.",
                      [&recorder] { return metrics::Number(recorder.storage_dropped_frames()); });
  registry.AddCounter("callrec_recording_write_errors_total", "Failed writes of recording files.",
                      [&recorder] { return metrics::Number(recorder.storage_write_errors()); });
  registry.Add("callrec_media_receive_info",
               "How the media thread reads RTP (--media-receive): io_uring or asio.",
               metrics::Type::kGauge, [&recorder] {
                 return std::vector<metrics::Sample>{{{{"path", recorder.receive_path()}}, 1, ""}};
               });
  registry.AddGauge("callrec_rtp_free_ports", "Free RTP ports (two per contact).",
                    [&recorder] { return metrics::Number(recorder.free_ports()); });
}

}  // namespace callrec::media
