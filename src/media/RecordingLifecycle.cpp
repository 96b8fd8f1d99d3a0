#include "media/RecordingLifecycle.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/Timestamp.hpp"
#include "files/AtomicFile.hpp"
#include "log/Log.hpp"

namespace callrec::media {
namespace {

namespace json = boost::json;

std::filesystem::path HoldPath(const std::filesystem::path& wav) {
  return std::filesystem::path(wav).replace_extension(".hold");
}

std::string Member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

}  // namespace

std::optional<LegalHold> HoldOf(const std::filesystem::path& wav) {
  const auto object = files::ReadJsonObject(HoldPath(wav));
  if (!object) return std::nullopt;
  return LegalHold{Member(*object, "Since"), Member(*object, "By"), Member(*object, "Reason")};
}

core::Result<bool, std::string> PlaceHold(const std::filesystem::path& wav, const LegalHold& hold) {
  const std::string text = json::serialize(
      json::object{{"Since", hold.since}, {"By", hold.by}, {"Reason", hold.reason}});
  if (auto error = files::ReplaceFile(HoldPath(wav), text, {0600, true, true})) return *error;
  return true;
}

core::Result<bool, std::string> ReleaseHold(const std::filesystem::path& wav) {
  const std::filesystem::path path = HoldPath(wav);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove " + path.string() + ": " + std::strerror(errno);
  }
  files::SyncDirectory(path.parent_path());
  return true;
}

core::Result<bool, std::string> EraseRecordingFiles(const std::filesystem::path& wav) {
  for (const char* extension : {".wav", ".json", ".peaks"}) {
    const std::filesystem::path path = std::filesystem::path(wav).replace_extension(extension);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return "cannot remove " + path.string() + ": " + std::strerror(errno);
    }
  }
  files::SyncDirectory(wav.parent_path());
  return true;
}

core::Result<bool, std::string> RemoveAudioFile(const std::filesystem::path& wav) {
  if (::unlink(wav.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove " + wav.string() + ": " + std::strerror(errno);
  }
  files::SyncDirectory(wav.parent_path());
  return true;
}

RetentionSweeper::RetentionSweeper(std::filesystem::path recordings_dir,
                                   std::chrono::milliseconds keep, WallClock clock, Expire expire)
    : dir_(std::move(recordings_dir)),
      keep_(keep),
      clock_(std::move(clock)),
      expire_(std::move(expire)),
      thread_([this] { Run(); }) {}

RetentionSweeper::~RetentionSweeper() {
  Stop();
}

void RetentionSweeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionSweeper::Run() {
  const auto interval = std::clamp<std::chrono::milliseconds>(keep_ / 10, std::chrono::seconds(1),
                                                              std::chrono::seconds(60));
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopped_; })) {
    lock.unlock();
    barrier_.Run([this] { Sweep(); }, {{"in", "retention"}});  // never the thread's end
    lock.lock();
  }
}

std::size_t RetentionSweeper::Sweep() {
  const std::int64_t cutoff = clock_() - keep_.count();
  std::vector<std::pair<std::string, std::filesystem::path>> due;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    const auto meta = files::ReadJsonObject(it->path());
    if (!meta) continue;
    // Only finished recordings: EndTime is null while one is written.
    const auto ended = core::ParseTimestamp(Member(*meta, "EndTime"));
    if (!ended || *ended > cutoff) continue;
    const std::filesystem::path wav = std::filesystem::path(it->path()).replace_extension(".wav");
    if (HoldOf(wav)) continue;
    due.emplace_back(Member(*meta, "ContactId"), wav);
  }
  std::size_t deleted = 0;
  for (const auto& [contact_id, wav] : due) {
    if (!expire_(contact_id, wav)) {
      failures_ += 1;
      continue;
    }
    if (auto erased = EraseRecordingFiles(wav); !erased) {
      failures_ += 1;
      log::Error("recording.expire_failed", {{"contact", contact_id}, {"error", erased.error()}});
      continue;
    }
    expired_ += 1;
    ++deleted;
    log::Info("recording.expired", {{"contact", contact_id}});
  }
  return deleted;
}

}  // namespace callrec::media
