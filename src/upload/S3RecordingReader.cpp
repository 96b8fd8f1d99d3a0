#include "upload/S3RecordingReader.hpp"

#include "upload/ObjectKeys.hpp"
#include "upload/ThreadPriority.hpp"

namespace callrec::upload {

S3RecordingReader::S3RecordingReader(const s3::S3Client& client, store::ContactStore& store)
    : client_(client), store_(store), thread_([this] { Run(); }) {}

S3RecordingReader::~S3RecordingReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

core::Result<std::optional<RemoteRecording>, std::string> S3RecordingReader::Find(
    const std::string& contact_id) {
  auto row = store_.LoadUpload(contact_id);
  if (!row) return row.error().message;
  if (!row.value() || row.value()->state != "uploaded") return std::optional<RemoteRecording>();
  const store::UploadRow& r = *row.value();
  return std::optional<RemoteRecording>(RemoteRecording{r.bucket, r.key, r.bytes});
}

void S3RecordingReader::ReadMetadata(const RemoteRecording& recording, Got got) {
  Post([this, recording, got = std::move(got)] {
    auto body = client_.GetObject(recording.bucket, MetadataKeyFor(recording.key));
    if (!body) return got(ReadFailure{body.error().Describe()});
    got(std::move(body).value());
  });
}

void S3RecordingReader::ReadAudio(const RemoteRecording& recording, std::uint64_t first,
                                  std::uint64_t last, Got got) {
  Post([this, recording, first, last, got = std::move(got)] {
    auto body = client_.GetObject(recording.bucket, recording.key, std::pair{first, last});
    if (!body) return got(ReadFailure{body.error().Describe()});
    got(std::move(body).value());
  });
}

void S3RecordingReader::Post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void S3RecordingReader::Run() {
  YieldToMediaThreads();
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to answer
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    barrier_.Run(job, {{"in", "s3_read"}});
  }
}

}  // namespace callrec::upload
