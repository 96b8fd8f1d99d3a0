#include "upload/RecordingErasure.hpp"

#include <memory>

namespace callrec::upload {

void QueueS3Erasure(store::ContactStore& store, RecordingUploader* uploader,
                    const std::string& contact_id, ErasureQueued done) {
  auto found = store.LoadUpload(contact_id);
  if (!found) return done("its upload row cannot be read: " + found.error().message, false);
  const std::optional<store::UploadRow>& row = found.value();
  if (!row || row->state == "erased") return done(std::nullopt, false);  // never in S3
  auto queued = [done](bool ok, const std::string& error) {
    if (!ok) return done("its S3 objects could not be queued for deletion: " + error, false);
    done(std::nullopt, true);
  };
  if (uploader != nullptr) return uploader->Erase(*row, std::move(queued));
  store::UploadRow erasing = *row;
  erasing.state = "erasing";
  erasing.local_done = false;
  erasing.attempts = 0;
  erasing.next_attempt_ms = 0;
  store::ContactWrite write;
  write.upload = std::move(erasing);
  if (!store.Write(std::move(write), queued)) done("the state store is closed", false);
}

void Unlist(store::ContactStore& store, const std::string& contact_id,
            std::function<void(std::optional<std::string> error)> done) {
  store::ContactWrite write;
  write.recording = store::RecordingSummary{};
  write.recording->contact_id = contact_id;  // no path: erased
  if (!store.Write(std::move(write), [done](bool ok, const std::string& error) {
        if (!ok) return done("the recordings list could not be updated: " + error);
        done(std::nullopt);
      })) {
    done("the state store is closed");
  }
}

}  // namespace callrec::upload
