#pragma once

#include <cstdint>
#include <functional>

#include "metrics/Registry.hpp"
#include "upload/RecordingUploader.hpp"

namespace callrec::upload {

// The upload queue (pending, oldest, failures by reason, uploaded) and S3
// erasures, read from Stats() at each scrape; `now_ms` dates the oldest.
void RegisterUploadMetrics(metrics::Registry& registry, const RecordingUploader& uploader,
                           std::function<std::int64_t()> now_ms);

}  // namespace callrec::upload
