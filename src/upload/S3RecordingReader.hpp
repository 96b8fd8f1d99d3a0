#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/Result.hpp"
#include "log/Barrier.hpp"
#include "s3/S3Client.hpp"
#include "store/ContactStore.hpp"

namespace callrec::upload {

// Where an uploaded recording is.
struct RemoteRecording {
  std::string bucket;
  std::string key;  // the WAV's; the metadata's ends .json
  std::uint64_t bytes = 0;
};

// Why a read from S3 failed (S3Error::Describe()).
struct ReadFailure {
  std::string message;
};

// Reads recordings back from S3 for the API once their local copy is gone:
// where each is comes from its upload row; the requests run on a thread of
// their own, so an HTTP thread never waits for S3.
class S3RecordingReader {
 public:
  using Got = std::function<void(core::Result<std::string, ReadFailure>)>;

  S3RecordingReader(const s3::S3Client& client, store::ContactStore& store);
  ~S3RecordingReader();
  S3RecordingReader(const S3RecordingReader&) = delete;
  S3RecordingReader& operator=(const S3RecordingReader&) = delete;

  // The contact's uploaded recording (nullopt: not in S3, or not yet); an
  // error when the state store could not be read.
  core::Result<std::optional<RemoteRecording>, std::string> Find(const std::string& contact_id);
  // The metadata JSON's text, then `got` (on the reader's thread).
  void ReadMetadata(const RemoteRecording& recording, Got got);
  // Bytes [first, last] of the WAV.
  void ReadAudio(const RemoteRecording& recording, std::uint64_t first, std::uint64_t last,
                 Got got);

 private:
  void Post(std::function<void()> job);
  void Run();

  const s3::S3Client& client_;
  store::ContactStore& store_;
  log::ExceptionBarrier barrier_{"upload.handler_failed"};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace callrec::upload
