#pragma once

#include <functional>
#include <optional>
#include <string>

#include "store/ContactStore.hpp"
#include "upload/RecordingUploader.hpp"

namespace callrec::upload {

// What an erasure (DELETE /v1/recordings/{id}, --retention) does beyond the
// local files, in two steps around their removal (the audit line comes first,
// from the caller):
//  1. QueueS3Erasure, before the files go (the object key comes from the
//     metadata): a recording that was queued for S3 has its objects queued for
//     deletion, durably (the upload row says "erasing"; the uploader deletes
//     them, retrying, after a restart too). Without an uploader (S3 no longer
//     configured) the row is marked all the same: the next start with S3 deletes.
//  2. Unlist, after they went: its recordings row keeps no path, so the
//     recordings list no longer shows it.
// `done` runs once durable: an error, or whether S3 objects are being deleted.
using ErasureQueued = std::function<void(std::optional<std::string> error, bool in_s3)>;
void QueueS3Erasure(store::ContactStore& store, RecordingUploader* uploader,
                    const std::string& contact_id, ErasureQueued done);
void Unlist(store::ContactStore& store, const std::string& contact_id,
            std::function<void(std::optional<std::string> error)> done);

}  // namespace callrec::upload
