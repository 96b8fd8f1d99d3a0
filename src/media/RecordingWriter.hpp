#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "log/Barrier.hpp"
#include "media/WavFile.hpp"

namespace callrec::media {

// The storage stage: one thread that owns every open WAV file, so the packet
// path never waits for the disk. The audio waiting in the queue is bounded (in
// samples, so the bound is memory and holds whatever the number of calls); when
// storage cannot keep up, audio chunks are replaced by a gap of the same length
// (written as silence, so the channels stay aligned) and the loss is counted.
//
// Durability: every second a thread of its own calls syncfs() on the
// recordings' file system, making every open recording's audio and header
// durable in one call, so a slow disk delays that thread, never the writes
// (one fdatasync per file and second on the writer thread made a 4 ms sync
// drop audio at 500 calls). A finished file is fsync()ed at its close.
class RecordingWriter {
 public:
  // What became of one file, reported on the writer thread once it is closed.
  struct FileResult {
    std::filesystem::path path;
    std::uint64_t frames = 0;
    std::uint64_t dropped_frames = 0;  // audio lost because storage was behind
    std::string error;
  };
  using Finished = std::function<void(const FileResult& result)>;

  // 16 Mi samples = 32 MiB of audio waiting: 1,000 calls' 2 s of stereo audio.
  static constexpr std::size_t kDefaultMaxQueuedSamples = 16u << 20;
  // A file that could not be created (disk full) is tried again at most this
  // often while audio comes for it; once created, the audio lost meanwhile is
  // written as silence first, so what follows keeps its true offset.
  static constexpr std::chrono::milliseconds kDefaultReopenInterval{1000};
  explicit RecordingWriter(std::size_t max_queued_samples = kDefaultMaxQueuedSamples,
                           std::chrono::milliseconds reopen_interval = kDefaultReopenInterval);
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // The file system the sync thread syncs: that of `dir`, or of its nearest
  // existing parent. Without it, that of the first file opened.
  void SyncFileSystemOf(const std::filesystem::path& dir);
  void Open(const std::string& id, std::filesystem::path wav);
  void Append(const std::string& id, std::vector<std::int16_t> interleaved);
  // Digital silence, without building the samples.
  void AppendSilence(const std::string& id, std::uint64_t frames);
  void Sync(const std::string& id);
  void Close(const std::string& id, Finished finished);
  // Runs `task` on the writer thread after everything queued before it.
  void Post(std::function<void()> task);

  std::uint64_t dropped_frames() const;
  std::string last_error() const;
  // Writes that failed (ENOSPC, EROFS, EIO), and whether the last write failed:
  // storage is failing now. A write that succeeds after failures clears it.
  std::uint64_t write_errors() const;
  bool failing() const;
  // Jobs that threw (media.handler_failed): the thread went on with the next.
  std::uint64_t handler_exceptions() const { return barrier_.caught(); }
  // Writes everything queued, then stops the thread. Idempotent.
  void Stop();

 private:
  struct OpenJob {
    std::filesystem::path wav;
  };
  struct AppendJob {
    std::vector<std::int16_t> samples;
  };
  struct GapJob {
    std::uint64_t frames;
    bool dropped;  // audio that was lost, not silence that was recorded
  };
  struct SyncJob {};
  struct CloseJob {
    Finished finished;
  };
  struct TaskJob {
    std::function<void()> task;
  };
  using Job = std::variant<OpenJob, AppendJob, GapJob, SyncJob, CloseJob, TaskJob>;

  void Push(std::string id, Job job);
  void Run();
  void RunSyncs();  // the sync thread
  void Execute(const std::string& id, Job& job);

  const std::size_t max_queued_;
  const std::chrono::milliseconds reopen_interval_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, Job>> queue_;
  std::size_t queued_samples_ = 0;  // in the AppendJobs of queue_ and of the batch being written
  bool stopping_ = false;
  std::uint64_t dropped_frames_ = 0;
  std::uint64_t write_errors_ = 0;
  bool failing_ = false;
  std::string last_error_;
  // Owned by the writer thread only.
  struct OpenFile {
    std::filesystem::path path;
    std::optional<WavWriter> writer;
    std::uint64_t dropped_frames = 0;
    // Audio lost to failed writes, written as silence before the next audio
    // once writes succeed again, so what follows keeps its place in time.
    std::uint64_t owed_frames = 0;
    std::string error;
    // Not created yet (the disk refused it): when to try again.
    std::chrono::steady_clock::time_point next_open{};
  };
  // Creates the file (and its directories); false when the disk refuses.
  bool OpenNow(OpenFile& file);
  // Appends to the file, after the silence it owes; counts what is lost if the
  // disk refuses it. Writer thread only.
  void WriteAudio(OpenFile& file, std::span<const std::int16_t> interleaved);
  std::span<const std::int16_t> Zeros(std::uint64_t frames);
  void NoteWrite(OpenFile& file, bool ok);
  std::vector<std::int16_t> zeros_;  // writer thread only
  log::ExceptionBarrier barrier_{"media.handler_failed"};
  std::map<std::string, OpenFile> files_;
  // The sync thread's: a directory on the recordings' file system (set by the
  // writer thread at the first file), and whether anything was written since
  // the last syncfs.
  std::atomic<int> sync_fd_{-1};
  std::atomic<bool> written_{false};
  std::condition_variable sync_cv_;  // with mutex_: stopping_
  std::thread thread_;
  std::thread sync_thread_;
};

}  // namespace callrec::media
