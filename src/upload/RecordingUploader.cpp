#include "upload/RecordingUploader.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "aws/Crypto.hpp"
#include "core/Timestamp.hpp"
#include "log/Log.hpp"
#include "media/RecordingLifecycle.hpp"
#include "media/RecordingMetadata.hpp"
#include "media/RecordingPeaks.hpp"
#include "upload/ObjectKeys.hpp"
#include "upload/ThreadPriority.hpp"

namespace callrec::upload {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::optional<json::object> ReadJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value parsed = json::parse(text.str(), ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return parsed.as_object();
}

std::string Field(const json::object& object, const char* name) {
  const json::value* value = object.if_contains(name);
  if (!value) return "";
  if (value->is_string()) return std::string(value->as_string());
  if (value->is_bool()) return value->as_bool() ? "true" : "false";
  return "";
}

// User metadata must be ASCII (HTTP headers): anything else is %XX-encoded.
std::string HeaderSafe(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::optional<std::string> ReadRange(const fs::path& path, std::uint64_t offset,
                                     std::uint64_t length) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(length, '\0');
  in.read(out.data(), static_cast<std::streamsize>(length));
  if (static_cast<std::uint64_t>(in.gcount()) != length) return std::nullopt;
  return out;
}

std::string Md5Hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &length, EVP_md5(), nullptr);
  return aws::Hex(std::string_view(reinterpret_cast<const char*>(out), length));
}

std::string Unquoted(std::string etag) {
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  return etag;
}

s3::S3Error LocalError(const std::string& message) {
  return s3::S3Error{s3::ErrorKind::kClient, 0, "LocalFile", message};
}

}  // namespace

RecordingUploader::RecordingUploader(UploaderConfig config, const s3::S3Client& client,
                                     store::ContactStore& store, WallClock clock)
    : config_(std::move(config)), client_(client), store_(store), clock_(std::move(clock)) {}

RecordingUploader::~RecordingUploader() {
  Stop();
}

void RecordingUploader::Start() {
  auto open = store_.LoadOpenUploads();
  if (!open) throw std::runtime_error("cannot read the upload queue: " + open.error().message);
  {
    std::lock_guard lock(mutex_);
    for (store::UploadRow& row : open.value()) {
      const std::string id = row.contact_id;
      if (row.state == "erasing") erasing_.insert(id);
      rows_.emplace(id, std::move(row));
    }
  }
  if (!open->empty()) log::Info("upload.resumed", {{"open", open->size()}});
  thread_ = std::thread([this] { Run(); });
}

void RecordingUploader::Stop() {
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    if (thread_.joinable() &&
        !wake_.wait_for(lock, config_.stop_grace, [this] { return finished_; })) {
      log::Warn("upload.stop_abandoned",
                {{"grace_ms", static_cast<std::int64_t>(config_.stop_grace.count())}});
      client_.CancelRequests();
    }
  }
  if (thread_.joinable()) thread_.join();
}

void RecordingUploader::Enqueue(const std::string& contact_id, const fs::path& wav) {
  {
    std::lock_guard lock(mutex_);
    if (rows_.count(contact_id)) return;  // queued already (a repaired file, again)
  }
  store::UploadRow row;
  row.contact_id = contact_id;
  row.wav_path = wav.string();
  row.created_ms = clock_();
  row.bucket = config_.bucket;
  {
    std::lock_guard lock(mutex_);
    rows_[contact_id] = row;
  }
  // One contact, one recording: a row already there (uploaded before a restart
  // that repaired the file once more) keeps its state and its upload id; the
  // uploader reads it back before its first attempt. No read here: this runs
  // on the recording writer's thread.
  store::ContactWrite write;
  write.upload = row;
  write.upload_only_if_new = true;
  const bool queued =
      store_.Write(std::move(write), [this, contact_id](bool ok, const std::string& error) {
        if (!ok) {
          // It is uploaded from memory this run; a restart before then would not know it.
          log::Error("upload.queue_write_failed", {{"contact", contact_id}, {"error", error}});
          return;
        }
        wake_.notify_all();
      });
  if (!queued) log::Error("upload.queue_closed", {{"contact", contact_id}});
  wake_.notify_all();
}

void RecordingUploader::Erase(store::UploadRow row, Done done) {
  if (row.key.empty()) {
    // Never attempted (or its first attempt is under way): the key it gets
    // from the metadata, read now, before the local files go.
    const auto metadata = ReadJson(fs::path(row.wav_path).replace_extension(".json"));
    const auto start =
        metadata ? core::ParseTimestamp(Field(*metadata, "StartTime")) : std::nullopt;
    row.key = ConnectRecordingKey(config_.prefix, row.contact_id, start.value_or(row.created_ms));
  }
  if (row.bucket.empty()) row.bucket = config_.bucket;
  row.state = "erasing";
  row.local_done = false;
  row.attempts = 0;
  row.next_attempt_ms = 0;
  row.last_error.clear();
  std::lock_guard lock(mutex_);
  if (auto it = rows_.find(row.contact_id); it != rows_.end() && row.upload_id.empty()) {
    row.upload_id = it->second.upload_id;  // a multipart upload begun since the read
  }
  // Marked and written under the lock that Persist holds while it writes: an
  // upload's write of this row is either before this one or dropped.
  erasing_.insert(row.contact_id);
  rows_[row.contact_id] = row;
  store::ContactWrite write;
  write.upload = row;
  if (!store_.Write(std::move(write), [this, done](bool ok, const std::string& error) {
        done(ok, error);
        wake_.notify_all();
      })) {
    done(false, "the state store is closed");
  }
  wake_.notify_all();
}

bool RecordingUploader::Superseded(const store::UploadRow& row) const {
  return erasing_.count(row.contact_id) && row.state != "erasing" && row.state != "erased";
}

UploadStats RecordingUploader::Stats() const {
  std::lock_guard lock(mutex_);
  UploadStats stats;
  stats.erasing = erasing_.size();
  stats.erased = erased_;
  for (const auto& [id, row] : rows_) {
    if (row.state != "pending") continue;
    ++stats.pending;
    if (stats.oldest_pending_ms < 0 || row.created_ms < stats.oldest_pending_ms) {
      stats.oldest_pending_ms = row.created_ms;
    }
  }
  stats.failures = failures_;
  stats.uploaded = uploaded_;
  stats.uploaded_bytes = uploaded_bytes_;
  stats.blocked = blocked_;
  stats.last_error = last_error_;
  return stats;
}

void RecordingUploader::Update(const store::UploadRow& row) {
  std::lock_guard lock(mutex_);
  if (Superseded(row)) return;
  if (row.state == "pending" || !row.local_done) {
    rows_[row.contact_id] = row;
  } else {
    rows_.erase(row.contact_id);
  }
}

bool RecordingUploader::Persist(const store::UploadRow& row) {
  std::unique_lock lock(mutex_);
  if (Superseded(row)) return false;  // erased meanwhile: this upload's news is dropped
  const std::uint64_t seq = ++persist_seq_;
  store::ContactWrite write;
  write.upload = row;
  // Written under the lock (Write never calls back at once): ordered with Erase's write.
  const bool queued = store_.Write(std::move(write), [this, seq](bool ok, const std::string&) {
    {
      std::lock_guard lock(mutex_);
      persisted_[seq] = ok;
    }
    wake_.notify_all();
  });
  if (!queued) return false;
  // Stopping does not wait for the store: the row stays as it was, and the
  // next start does this step again.
  wake_.wait(lock, [&] { return persisted_.count(seq) || stopping_; });
  auto it = persisted_.find(seq);
  if (it == persisted_.end()) return false;
  const bool ok = it->second;
  persisted_.erase(it);
  return ok;
}

void RecordingUploader::Run() {
  YieldToMediaThreads();
  for (;;) {
    std::optional<store::UploadRow> next;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) {
        finished_ = true;
        wake_.notify_all();
        return;
      }
      const std::int64_t now = clock_();
      std::int64_t soonest = now + 1000;
      // Erasures first (a data subject waits), then local removals (cheap),
      // then the oldest pending upload that is due.
      const store::UploadRow* erasure = nullptr;
      const store::UploadRow* removal = nullptr;
      const store::UploadRow* upload = nullptr;
      for (const auto& [id, row] : rows_) {
        std::int64_t due;
        if (row.state == "pending" || row.state == "erasing") {
          due = std::max(row.next_attempt_ms, blocked_until_);
        } else if (config_.local_retention_ms >= 0 && !row.local_done) {
          due = row.uploaded_ms + config_.local_retention_ms;
        } else {
          continue;
        }
        soonest = std::min(soonest, due);
        if (due > now) continue;
        const store::UploadRow*& slot = row.state == "erasing"   ? erasure
                                        : row.state == "pending" ? upload
                                                                 : removal;
        if (!slot || row.created_ms < slot->created_ms) slot = &row;
      }
      if (erasure) {
        next = *erasure;
      } else if (removal) {
        next = *removal;
      } else if (upload) {
        next = *upload;
      }
      if (!next) {
        wake_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(soonest - now, 10)));
        continue;
      }
    }
    barrier_.Run(
        [&] {
          if (next->state == "erasing") {
            EraseObjects(*next);
          } else if (next->state == "pending") {
            Attempt(*next);
          } else {
            RemoveLocalIfDue(*next, clock_());
          }
        },
        {{"contact", next->contact_id}});
  }
}

RecordingUploader::Outcome RecordingUploader::Failed(store::UploadRow& row,
                                                     const s3::S3Error& error, std::int64_t now) {
  const std::string described = error.Describe();
  row.last_error = described;
  ++row.attempts;
  Outcome outcome;
  {
    std::lock_guard lock(mutex_);
    ++failures_[error.Reason()];
    last_error_ = described;
    if (error.Retryable()) {
      const double doubled =
          static_cast<double>(config_.base_backoff.count()) *
          std::pow(2.0, static_cast<double>(std::min<std::int64_t>(row.attempts - 1, 30)));
      const double cap = std::min(doubled, static_cast<double>(config_.max_backoff.count()));
      const double wait = cap * std::uniform_real_distribution<double>(0.5, 1.0)(random_);
      row.next_attempt_ms = now + static_cast<std::int64_t>(wait);
      // Throttling is the store's word for everyone: all uploads wait.
      if (error.kind == s3::ErrorKind::kThrottled) {
        blocked_until_ = std::max(blocked_until_, row.next_attempt_ms);
      }
      outcome = Outcome::kRetry;
    } else {
      blocked_for_ = blocked_for_.count() == 0 ? config_.blocked_backoff
                                               : std::min(blocked_for_ * 2, config_.max_backoff);
      blocked_until_ = now + blocked_for_.count();
      row.next_attempt_ms = blocked_until_;
      blocked_ = described;
      outcome = Outcome::kBlocked;
    }
  }
  log::Warn(outcome == Outcome::kBlocked ? "upload.refused" : "upload.failed",
            {{"contact", row.contact_id},
             {"reason", error.Reason()},
             {"error", described},
             {"attempts", row.attempts},
             {"retry_in_ms", row.next_attempt_ms - now}});
  Persist(row);
  Update(row);
  return outcome;
}

RecordingUploader::Outcome RecordingUploader::Attempt(store::UploadRow& row) {
  const std::int64_t now = clock_();
  if (row.attempts == 0 && row.upload_id.empty()) {
    // Queued by Enqueue, which wrote it only if new: the durable row is the truth.
    auto stored = store_.LoadUpload(row.contact_id);
    if (stored && stored.value() && *stored.value() != row) {
      row = *stored.value();
      Update(row);
      if (row.state != "pending") return Outcome::kDone;
    }
  }
  const fs::path wav = row.wav_path;
  const fs::path json_path = fs::path(wav).replace_extension(".json");
  std::error_code ec;
  const std::uint64_t size = fs::file_size(wav, ec);
  std::optional<json::object> metadata = ReadJson(json_path);
  if (ec || !metadata) {
    // Nothing to upload will ever appear: the row is closed, loudly.
    row.state = "failed";
    row.local_done = true;
    row.last_error = "local recording missing or unreadable: " + wav.string();
    {
      std::lock_guard lock(mutex_);
      ++failures_["local_missing"];
      last_error_ = row.last_error;
    }
    log::Error("upload.local_missing", {{"contact", row.contact_id}, {"path", wav.string()}});
    Persist(row);
    Update(row);
    return Outcome::kDone;
  }
  const auto start = core::ParseTimestamp(Field(*metadata, "StartTime"));
  if (row.key.empty()) {
    row.key = ConnectRecordingKey(config_.prefix, row.contact_id, start.value_or(row.created_ms));
  }
  row.bucket = config_.bucket;
  s3::ObjectHeaders headers;
  headers.content_type = "audio/wav";
  for (const auto& [header, field] :
       {std::pair{"contactid", "ContactId"}, std::pair{"initialcontactid", "InitialContactId"},
        std::pair{"agentid", "AgentId"}, std::pair{"instanceid", "InstanceId"},
        std::pair{"sha256", "Sha256"}, std::pair{"complete", "Complete"}}) {
    headers.metadata.emplace_back(header, HeaderSafe(Field(*metadata, field)));
  }

  const std::string sha = Field(*metadata, "Sha256");
  auto holds_it = [&](const s3::ObjectInfo& info) {
    auto it = info.metadata.find("sha256");
    return info.size == size && it != info.metadata.end() && !sha.empty() && it->second == sha;
  };
  // A retry, or a restart after a Complete whose row was not marked: the object
  // may be there already, whole. Then it is not sent again.
  bool there = false;
  if (row.attempts > 0 || !row.upload_id.empty()) {
    auto before = client_.HeadObject(row.bucket, row.key);
    there = before && holds_it(before.value());
  }
  if (!there) {
    auto uploaded = UploadWav(row, headers, size);
    if (!uploaded) return Failed(row, uploaded.error(), now);
  }
  row.upload_id.clear();
  // Confirmed only when S3 says it holds the bytes we hashed.
  auto head = client_.HeadObject(row.bucket, row.key);
  if (!head) return Failed(row, head.error(), now);
  auto meta_sha = head->metadata.find("sha256");
  if (head->size != size ||
      (meta_sha != head->metadata.end() && !sha.empty() && meta_sha->second != sha)) {
    return Failed(row,
                  s3::S3Error{s3::ErrorKind::kIntegrity, 200, "HeadMismatch",
                              "HEAD says " + std::to_string(head->size) + " bytes, expected " +
                                  std::to_string(size)},
                  now);
  }
  row.etag = head->etag;
  // The metadata object, written after the WAV is confirmed: where it lives.
  (*metadata)["Location"] =
      json::object{{"Bucket", row.bucket}, {"Key", row.key}, {"ETag", Unquoted(head->etag)}};
  const std::string body = json::serialize(*metadata);
  auto put_json = client_.PutObject(row.bucket, MetadataKeyFor(row.key), body,
                                    s3::ObjectHeaders{"application/json", headers.metadata});
  if (!put_json) return Failed(row, put_json.error(), now);

  row.state = "uploaded";
  row.upload_id.clear();
  row.bytes = size;
  row.uploaded_ms = clock_();
  row.last_error.clear();
  row.local_done = config_.local_retention_ms < 0;
  if (!Persist(row)) return Outcome::kRetry;  // uploaded again next time; same bytes
  {
    std::lock_guard lock(mutex_);
    ++uploaded_;
    uploaded_bytes_ += size + body.size();
    blocked_.clear();
    blocked_for_ = std::chrono::milliseconds(0);
    blocked_until_ = 0;
  }
  log::Info("upload.done", {{"contact", row.contact_id},
                            {"bucket", row.bucket},
                            {"key", row.key},
                            {"bytes", size},
                            {"attempts", row.attempts + 1}});
  Update(row);
  RemoveLocalIfDue(row, clock_());
  return Outcome::kDone;
}

s3::S3Result<std::string> RecordingUploader::UploadWav(store::UploadRow& row,
                                                       const s3::ObjectHeaders& headers,
                                                       std::uint64_t size) {
  if (size > config_.multipart_threshold) return UploadMultipart(row, headers, size);
  auto body = ReadRange(row.wav_path, 0, size);
  if (!body) return LocalError("cannot read " + row.wav_path);
  return client_.PutObject(row.bucket, row.key, *body, headers);
}

s3::S3Result<std::string> RecordingUploader::UploadMultipart(store::UploadRow& row,
                                                             const s3::ObjectHeaders& headers,
                                                             std::uint64_t size) {
  std::map<int, s3::UploadedPart> done;
  if (!row.upload_id.empty()) {
    // Resumed (a restart, or a retry): what S3 already holds need not go again.
    auto listed = client_.ListParts(row.bucket, row.key, row.upload_id);
    if (listed) {
      for (const s3::UploadedPart& part : listed.value()) done[part.number] = part;
    } else if (listed.error().kind == s3::ErrorKind::kNotFound) {
      log::Warn("upload.multipart_gone",
                {{"contact", row.contact_id}, {"upload_id", row.upload_id}});
      row.upload_id.clear();
    } else {
      return listed.error();
    }
  }
  if (row.upload_id.empty()) {
    auto created = client_.CreateMultipartUpload(row.bucket, row.key, headers);
    if (!created) return created.error();
    row.upload_id = created.value();
    // Durable before any part goes: a kill -9 from here on resumes this upload.
    if (!Persist(row)) {
      // Not resumable (or erased meanwhile): nothing may stay open in S3.
      (void)client_.AbortMultipartUpload(row.bucket, row.key, row.upload_id);
      return s3::S3Error{s3::ErrorKind::kServer, 0, "", "state store write failed"};
    }
    Update(row);
  }
  const std::uint64_t part_size = config_.part_size;
  std::vector<s3::UploadedPart> parts;
  int number = 1;
  for (std::uint64_t offset = 0; offset < size; offset += part_size, ++number) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return s3::S3Error{s3::ErrorKind::kNetwork, 0, "", "server stopping"};
    }
    const std::uint64_t length = std::min(part_size, size - offset);
    auto bytes = ReadRange(row.wav_path, offset, length);
    if (!bytes) return LocalError("cannot read " + row.wav_path);
    auto have = done.find(number);
    // A part's ETag is its MD5: one S3 already holds with the same bytes is kept.
    if (have != done.end() && have->second.size == length &&
        Unquoted(have->second.etag) == Md5Hex(*bytes)) {
      parts.push_back(have->second);
      continue;
    }
    auto etag = client_.UploadPart(row.bucket, row.key, row.upload_id, number, *bytes);
    if (!etag) return etag.error();
    parts.push_back(s3::UploadedPart{number, etag.value(), length});
  }
  auto completed = client_.CompleteMultipartUpload(row.bucket, row.key, row.upload_id, parts);
  if (!completed) {
    // A failed Complete leaves the upload open: abort it, and start again next time.
    auto aborted = client_.AbortMultipartUpload(row.bucket, row.key, row.upload_id);
    log::Warn("upload.multipart_aborted", {{"contact", row.contact_id},
                                           {"error", completed.error().Describe()},
                                           {"aborted", aborted.ok()}});
    row.upload_id.clear();
    return completed.error();
  }
  return completed.value();
}

void RecordingUploader::EraseObjects(store::UploadRow& row) {
  const std::int64_t now = clock_();
  // Gone already is what an erasure wants: a 404 (no such key, upload or
  // bucket) is success.
  auto failed = [](const auto& result) {
    return !result && result.error().kind != s3::ErrorKind::kNotFound;
  };
  std::optional<s3::S3Error> failure;
  if (!row.upload_id.empty()) {
    auto aborted = client_.AbortMultipartUpload(row.bucket, row.key, row.upload_id);
    if (failed(aborted)) failure = aborted.error();
  }
  for (const std::string& key : {row.key, MetadataKeyFor(row.key)}) {
    if (failure || row.key.empty()) break;
    auto deleted = client_.DeleteObject(row.bucket, key);
    if (failed(deleted)) failure = deleted.error();
  }
  if (failure) {
    Failed(row, *failure, now);
    if (on_erasure_) on_erasure_(row, failure->Describe());
    return;
  }
  row.state = "erased";
  row.upload_id.clear();
  row.local_done = true;
  row.last_error.clear();
  if (!Persist(row)) return;  // deleted again next time: harmless
  {
    std::lock_guard lock(mutex_);
    erasing_.erase(row.contact_id);
    ++erased_;
  }
  Update(row);
  log::Info("upload.erased",
            {{"contact", row.contact_id}, {"bucket", row.bucket}, {"key", row.key}});
  if (on_erasure_) on_erasure_(row, "");
}

void RecordingUploader::RemoveLocalIfDue(store::UploadRow& row, std::int64_t now) {
  if (row.state != "uploaded" || row.local_done || config_.local_retention_ms < 0) return;
  if (row.uploaded_ms + config_.local_retention_ms > now) return;
  const fs::path wav = row.wav_path;
  if (media::HoldOf(wav)) {
    // Under legal hold: the local copy stays until the hold is released.
    row.uploaded_ms = now;
    Update(row);
    return;
  }
  // The audio goes; the metadata stays, saying where the recording lives now
  // (the Recordings page lists it, /v1 reads the audio back from S3), and so do
  // its peaks, computed now if no page asked yet: the waveform is drawn without
  // fetching the audio from S3.
  if (auto peaks = media::LoadOrComputePeaks(wav); !peaks) {
    log::Warn("upload.peaks_failed",
              {{"contact", row.contact_id}, {"error", peaks.error().message}});
  }
  const fs::path json_path = fs::path(wav).replace_extension(".json");
  if (auto metadata = ReadJson(json_path)) {
    (*metadata)["Location"] =
        json::object{{"Bucket", row.bucket}, {"Key", row.key}, {"ETag", Unquoted(row.etag)}};
    if (auto written = media::WriteJsonAtomically(json_path, *metadata); !written) {
      log::Warn("upload.local_metadata_failed",
                {{"contact", row.contact_id}, {"error", written.error().message}});
    }
  }
  auto erased = media::RemoveAudioFile(wav);
  if (!erased) {
    log::Warn("upload.local_remove_failed",
              {{"contact", row.contact_id}, {"error", erased.error()}});
    row.uploaded_ms = now;  // tried again after another retention period
    Update(row);
    return;
  }
  row.local_done = true;
  Persist(row);
  Update(row);
  log::Info("upload.local_removed", {{"contact", row.contact_id}, {"path", wav.string()}});
}

}  // namespace callrec::upload
