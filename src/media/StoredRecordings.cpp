#include "media/StoredRecordings.hpp"

#include "log/Log.hpp"

namespace callrec::media {

void StoredRecordings::Keep(const std::string& contact_id, const RecordingView& view,
                            std::function<void()> kept) {
  if (!view.path) return;  // nothing was recorded: nothing to show
  store::RecordingSummary summary;
  summary.contact_id = contact_id;
  summary.path = view.path->string();
  const SessionCounters& c = view.counters;
  summary.packets = c.packets;
  summary.lost = c.lost;
  summary.late = c.late;
  summary.gated = c.gated;
  summary.invalid = c.invalid;
  summary.duplicates = c.duplicates;
  summary.frames_written = c.frames_written;
  store::ContactWrite write;
  write.recording = std::move(summary);
  store_.Write(
      std::move(write), [contact_id, kept = std::move(kept)](bool ok, const std::string& error) {
        if (ok) return kept();
        log::Warn("recording.summary_not_stored", {{"contact", contact_id}, {"error", error}});
      });
}

core::Result<std::optional<RecordingView>, std::string> StoredRecordings::Find(
    const std::string& contact_id) const {
  auto read = store_.LoadRecording(contact_id);
  if (!read) return read.error().message;
  const std::optional<store::RecordingSummary>& summary = read.value();
  if (!summary) return std::optional<RecordingView>();
  RecordingView view;
  if (!summary->path.empty()) view.path = summary->path;  // empty: erased
  view.counters.packets = summary->packets;
  view.counters.lost = summary->lost;
  view.counters.late = summary->late;
  view.counters.gated = summary->gated;
  view.counters.invalid = summary->invalid;
  view.counters.duplicates = summary->duplicates;
  view.counters.frames_written = summary->frames_written;
  return std::optional<RecordingView>(std::move(view));
}

}  // namespace callrec::media
