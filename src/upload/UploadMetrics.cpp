#include "upload/UploadMetrics.hpp"

namespace callrec::upload {

void RegisterUploadMetrics(metrics::Registry& registry, const RecordingUploader& uploader,
                           std::function<std::int64_t()> now_ms) {
  registry.AddGauge("callrec_uploads_pending", "Finished recordings waiting to be uploaded to S3.",
                    [&uploader] { return metrics::Number(uploader.Stats().pending); });
  registry.AddGauge(
      "callrec_upload_oldest_pending_seconds",
      "Age of the oldest recording waiting to be uploaded (0: none).",
      [&uploader, now_ms = std::move(now_ms)] {
        const std::int64_t oldest = uploader.Stats().oldest_pending_ms;
        return metrics::Number(oldest < 0 ? 0.0 : static_cast<double>(now_ms() - oldest) / 1e3);
      });
  registry.Add("callrec_upload_failures_total", "Failed upload attempts, by reason.",
               metrics::Type::kCounter, [&uploader] {
                 const UploadStats stats = uploader.Stats();
                 std::vector<metrics::Sample> samples;
                 for (const char* reason : {"network", "throttled", "server", "denied", "not_found",
                                            "integrity", "client", "local_missing"}) {
                   auto it = stats.failures.find(reason);
                   samples.push_back(
                       {{{"reason", reason}}, it == stats.failures.end() ? 0 : it->second, ""});
                 }
                 return samples;
               });
  registry.AddCounter("callrec_uploads_total", "Recordings uploaded and confirmed.",
                      [&uploader] { return metrics::Number(uploader.Stats().uploaded); });
  registry.AddCounter("callrec_uploaded_bytes_total",
                      "Bytes uploaded and confirmed (WAV and metadata).",
                      [&uploader] { return metrics::Number(uploader.Stats().uploaded_bytes); });
  registry.AddGauge("callrec_s3_erasures_pending",
                    "Erased or expired recordings whose S3 objects are still to be deleted.",
                    [&uploader] { return metrics::Number(uploader.Stats().erasing); });
  registry.AddCounter("callrec_s3_erasures_total",
                      "Recordings whose S3 objects were deleted (erasure, retention).",
                      [&uploader] { return metrics::Number(uploader.Stats().erased); });
}

}  // namespace callrec::upload
