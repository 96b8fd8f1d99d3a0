#include "media/RecordingWriter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log/Log.hpp"

namespace callrec::media {

RecordingWriter::RecordingWriter(std::size_t max_queued_samples,
                                 std::chrono::milliseconds reopen_interval)
    : max_queued_(max_queued_samples),
      reopen_interval_(reopen_interval),
      thread_([this] { Run(); }),
      sync_thread_([this] { RunSyncs(); }) {}

void RecordingWriter::RunSyncs() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    sync_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    const int fd = sync_fd_.load();
    if (fd < 0 || !written_.exchange(false)) continue;
    lock.unlock();
    const bool ok = ::syncfs(fd) == 0;
    const int error = errno;
    lock.lock();
    if (!ok) {
      write_errors_ += 1;
      failing_ = true;
      last_error_ = std::string("syncfs failed: ") + std::strerror(error);
      log::Error("recording.sync_failed", {{"error", last_error_}});
    }
  }
}

RecordingWriter::~RecordingWriter() {
  Stop();
}

void RecordingWriter::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  sync_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (const int fd = sync_fd_.exchange(-1); fd >= 0) ::close(fd);
}

void RecordingWriter::Push(std::string id, Job job) {
  {
    std::lock_guard lock(mutex_);
    if (auto* append = std::get_if<AppendJob>(&job)) {
      if (queued_samples_ + append->samples.size() > max_queued_) {
        // Storage is behind: keep the timeline, lose the audio, say so.
        const std::uint64_t frames = append->samples.size() / 2;
        dropped_frames_ += frames;
        job = GapJob{frames, true};
      } else {
        queued_samples_ += append->samples.size();
      }
    }
    queue_.emplace_back(std::move(id), std::move(job));
  }
  cv_.notify_one();
}

void RecordingWriter::SyncFileSystemOf(const std::filesystem::path& dir) {
  std::filesystem::path existing = dir.empty() ? std::filesystem::path(".") : dir;
  std::error_code ec;
  while (!std::filesystem::is_directory(existing, ec) && existing.has_parent_path() &&
         existing.parent_path() != existing) {
    existing = existing.parent_path();
  }
  const int fd = ::open(existing.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the first file's directory then
  if (const int previous = sync_fd_.exchange(fd); previous >= 0) ::close(previous);
}

void RecordingWriter::Open(const std::string& id, std::filesystem::path wav) {
  Push(id, OpenJob{std::move(wav)});
}
void RecordingWriter::Append(const std::string& id, std::vector<std::int16_t> interleaved) {
  if (interleaved.empty()) return;
  Push(id, AppendJob{std::move(interleaved)});
}
void RecordingWriter::AppendSilence(const std::string& id, std::uint64_t frames) {
  if (frames > 0) Push(id, GapJob{frames, false});
}
void RecordingWriter::Sync(const std::string& id) {
  Push(id, SyncJob{});
}
void RecordingWriter::Close(const std::string& id, Finished finished) {
  Push(id, CloseJob{std::move(finished)});
}
void RecordingWriter::Post(std::function<void()> task) {
  Push("", TaskJob{std::move(task)});
}

std::uint64_t RecordingWriter::dropped_frames() const {
  std::lock_guard lock(mutex_);
  return dropped_frames_;
}

std::string RecordingWriter::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

std::uint64_t RecordingWriter::write_errors() const {
  std::lock_guard lock(mutex_);
  return write_errors_;
}

bool RecordingWriter::failing() const {
  std::lock_guard lock(mutex_);
  return failing_;
}

std::span<const std::int16_t> RecordingWriter::Zeros(std::uint64_t frames) {
  if (zeros_.size() < frames * 2) zeros_.assign(frames * 2, 0);
  return {zeros_.data(), frames * 2};
}

void RecordingWriter::NoteWrite(OpenFile& file, bool ok) {
  if (!ok) file.error = file.writer->last_error();
  std::lock_guard lock(mutex_);
  if (!ok) {
    write_errors_ += 1;
    last_error_ = file.path.string() + ": " + file.error;
  }
  failing_ = !ok;
}

bool RecordingWriter::OpenNow(OpenFile& file) {
  file.next_open = std::chrono::steady_clock::now() + reopen_interval_;
  std::error_code ec;
  std::filesystem::create_directories(file.path.parent_path(), ec);
  auto created = WavWriter::Create(file.path, 2, 8000);
  if (!created.ok()) {
    file.error = created.error().message;
    std::lock_guard lock(mutex_);
    last_error_ = file.path.string() + ": " + file.error;
    write_errors_ += 1;
    failing_ = true;
    return false;
  }
  file.writer.emplace(std::move(created).value());
  if (sync_fd_.load() < 0) {
    sync_fd_ = ::open(file.path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  return true;
}

void RecordingWriter::WriteAudio(OpenFile& file, std::span<const std::int16_t> interleaved) {
  const std::uint64_t frames = interleaved.size() / 2;
  if (!file.writer && (std::chrono::steady_clock::now() < file.next_open || !OpenNow(file))) {
    // Not created (the disk refused it): lost, and owed as silence once it is.
    file.owed_frames += frames;
    file.dropped_frames += frames;
    std::lock_guard lock(mutex_);
    dropped_frames_ += frames;
    return;
  }
  // At most a second of silence per write, so a long outage needs no large buffer.
  constexpr std::uint64_t kSilenceChunk = 8000;
  bool ok = true;
  while (ok && file.owed_frames > 0) {
    const std::uint64_t n = std::min(file.owed_frames, kSilenceChunk);
    ok = file.writer->Append(Zeros(n));
    if (ok) file.owed_frames -= n;
  }
  if (ok) ok = file.writer->Append(interleaved);
  if (!ok) {
    file.owed_frames += frames;
    file.dropped_frames += frames;
    std::lock_guard lock(mutex_);
    dropped_frames_ += frames;
  }
  NoteWrite(file, ok);
}

void RecordingWriter::Run() {
  for (;;) {
    std::deque<std::pair<std::string, Job>> batch;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;
      batch.swap(queue_);
    }
    for (auto& [id, job] : batch) {
      const auto* append = std::get_if<AppendJob>(&job);
      const std::size_t samples = append ? append->samples.size() : 0;
      // An exception would end the thread, and every recording with it.
      try {
        Execute(id, job);
      } catch (...) {
        barrier_.Caught({{"contact", id}, {"in", "writer"}});
      }
      if (samples > 0) {
        std::lock_guard lock(mutex_);
        queued_samples_ -= samples;
      }
    }
  }
  // Stopping: close what is still open so headers are right.
  for (auto& [id, file] : files_) {
    if (file.writer) file.writer->Close();
  }
  files_.clear();
}

void RecordingWriter::Execute(const std::string& id, Job& job) {
  auto record_error = [this](OpenFile& file, const std::string& error) {
    if (error.empty()) return;
    file.error = error;
    std::lock_guard lock(mutex_);
    last_error_ = file.path.string() + ": " + error;
    write_errors_ += 1;
    failing_ = true;
  };
  if (auto* task = std::get_if<TaskJob>(&job)) {
    task->task();
    return;
  }
  if (auto* open = std::get_if<OpenJob>(&job)) {
    OpenFile& file = files_[id];
    file.path = open->wav;
    OpenNow(file);
    return;
  }
  auto it = files_.find(id);
  if (it == files_.end()) return;
  OpenFile& file = it->second;
  if (auto* append = std::get_if<AppendJob>(&job)) {
    WriteAudio(file, append->samples);
  } else if (auto* gap = std::get_if<GapJob>(&job)) {
    if (gap->dropped) file.dropped_frames += gap->frames;
    // Owed like any silence: written now, or once the disk takes writes again
    // (and the file exists).
    file.owed_frames += gap->frames;
    WriteAudio(file, {});
  } else if (std::holds_alternative<SyncJob>(job)) {
    if (file.writer) NoteWrite(file, file.writer->UpdateHeader());
    written_ = true;
  } else if (auto* close = std::get_if<CloseJob>(&job)) {
    std::uint64_t frames = 0;
    if (file.writer) {
      if (!file.writer->Close()) record_error(file, file.writer->last_error());
      frames = file.writer->frames();
    }
    const FileResult result{file.path, frames, file.dropped_frames, file.error};
    files_.erase(it);
    if (close->finished) close->finished(result);
  }
}

}  // namespace callrec::media
