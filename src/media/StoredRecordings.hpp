#pragma once

#include "media/Recorder.hpp"
#include "store/ContactStore.hpp"

namespace callrec::media {

// The Recorder's archive in the state store: an ended contact's recording view
// (path and counters) is one row of `recordings`, written with the store's
// group commit and read back when /v1 or the workspace asks for it.
class StoredRecordings final : public RecordingArchive {
 public:
  explicit StoredRecordings(store::ContactStore& store) : store_(store) {}

  // `kept` runs only if the row is durable: a view that could not be stored
  // stays in the Recorder's memory.
  void Keep(const std::string& contact_id, const RecordingView& view,
            std::function<void()> kept) override;
  core::Result<std::optional<RecordingView>, std::string> Find(
      const std::string& contact_id) const override;

 private:
  store::ContactStore& store_;
};

}  // namespace callrec::media
