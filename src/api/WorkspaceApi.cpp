#include "api/WorkspaceApi.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <sstream>

#include "api/ControlErrors.hpp"
#include "api/V1Requests.hpp"
#include "aws/UriEncoding.hpp"
#include "core/Timestamp.hpp"
#include "log/Log.hpp"
#include "media/RecordingLifecycle.hpp"
#include "media/RecordingPeaks.hpp"
#include "upload/RecordingErasure.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;
constexpr std::string_view kRecordings = "/v1/recordings";
constexpr std::string_view kContacts = "/v1/contacts/";
constexpr std::uintmax_t kMaxAudioBytes = 512ull << 20;
constexpr std::size_t kDefaultPeakWidth = 1000;

std::optional<json::object> ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value value = json::parse(text.str(), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string StringMember(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

// 416 for a Range that a `size`-byte recording cannot satisfy.
HttpResponse RangeRefused(std::uint64_t size) {
  HttpResponse refused = Error(416, "RangeNotSatisfiableException", "Bad Range.");
  refused.set(http::field::content_range, "bytes */" + std::to_string(size));
  return refused;
}

// A recording is kept here while its WAV or its metadata is: once uploaded to
// S3 the audio may be gone, and the metadata stays, saying where it lives.
bool RecordingKept(const std::filesystem::path& wav) {
  std::error_code ec;
  return std::filesystem::exists(wav, ec) ||
         std::filesystem::exists(std::filesystem::path(wav).replace_extension(".json"), ec);
}

std::string Unquoted(std::string etag) {
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  return etag;
}

}  // namespace

WorkspaceApi::WorkspaceApi(control::ContactService& contacts, store::ContactStore& store,
                           media::Recorder& recorder, AgentDirectory& agents, EventHub& events,
                           RecordingAccessLog& access, std::filesystem::path recordings_dir,
                           WallClock clock)
    : contacts_(contacts),
      store_(store),
      recorder_(recorder),
      agents_(agents),
      events_(events),
      access_(access),
      recordings_dir_(std::move(recordings_dir)),
      clock_(std::move(clock)) {}

bool WorkspaceApi::Route(const Caller& caller, HttpRequest& request, std::string_view path,
                         std::string_view query, Respond& respond, OpenStream& open_stream) {
  const bool get = request.method() == http::verb::get;
  const bool post = request.method() == http::verb::post;
  if (path == "/v1/agents") {
    if (!post) {
      respond(MethodNotAllowed(request));
    } else if (!caller.admin) {
      respond(Error(403, "AccessDeniedException", "Only the admin issues agent tokens."));
    } else {
      IssueToken(request, std::move(respond));
    }
    return true;
  }
  if (path == "/v1/me") {
    json::object me;
    if (caller.admin) {
      me["Admin"] = true;
    } else {
      me["AgentId"] = caller.agent_id;
      if (caller.supervisor) me["Supervisor"] = true;
    }
    // What the workspace's timers need: the policy, and the server's clock
    // (the page measures its own clock's offset from it).
    if (max_pause_seconds_ > 0) {
      me["MaxPauseSeconds"] = max_pause_seconds_;
    } else {
      me["MaxPauseSeconds"] = nullptr;
    }
    me["ServerTime"] = core::FormatTimestamp(clock_());
    respond(get ? JsonResponse(http::status::ok, json::serialize(me)) : MethodNotAllowed(request));
    return true;
  }
  if (path == "/v1/events") {
    if (!get || !open_stream) {
      respond(MethodNotAllowed(request));
      return true;
    }
    HttpResponse head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-store");
    head.set("X-Accel-Buffering", "no");
    open_stream(std::move(head),
                [this, agent = caller.admin ? std::string() : caller.agent_id,
                 supervisor = caller.supervisor](std::shared_ptr<StreamSink> sink) {
                  events_.Subscribe(std::move(sink), agent, supervisor);
                });
    return true;
  }
  if (path == kRecordings) {
    if (get) {
      ListRecordings(caller, query, std::move(respond));
    } else {
      respond(MethodNotAllowed(request));
    }
    return true;
  }
  if (path.substr(0, kRecordings.size() + 1) == std::string(kRecordings) + "/") {
    std::string_view rest = path.substr(kRecordings.size() + 1);
    const std::size_t slash = rest.find('/');
    const std::string contact_id = aws::PercentDecode(rest.substr(0, slash));
    const std::string_view what =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    const bool del = request.method() == http::verb::delete_;
    if (what == "hold" && (post || del)) {
      Hold(caller, contact_id, post, request, std::move(respond));
    } else if (what.empty() && del) {
      Erase(caller, contact_id, request, std::move(respond));
    } else if ((what.empty() || what == "audio" || what == "peaks") && get) {
      const Part part = what == "audio"   ? Part::kAudio
                        : what == "peaks" ? Part::kPeaks
                                          : Part::kMetadata;
      Recording(caller, contact_id, part, query, request, std::move(respond));
    } else if (what.empty() || what == "audio" || what == "peaks" || what == "hold") {
      respond(MethodNotAllowed(request));
    } else {
      return false;
    }
    return true;
  }
  if (path.substr(0, kContacts.size()) == kContacts) {
    std::string_view rest = path.substr(kContacts.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return false;
    const std::string_view what = rest.substr(slash + 1);
    if (what != "guide" && what != "guide/actions") return false;
    const bool act = what == "guide/actions";
    if ((act && !post) || (!act && !get)) {
      respond(MethodNotAllowed(request));
      return true;
    }
    const std::string contact_id = aws::PercentDecode(rest.substr(0, slash));
    auto found = contacts_.Find(contact_id);
    const std::optional<core::Contact> contact =
        found ? found.value() : std::optional<core::Contact>();
    if (!found) {
      respond(ErrorResponse(ToAwsError(found.error())));
    } else if (!contact) {
      respond(ErrorResponse(
          aws::AwsError::ResourceNotFound("Contact " + contact_id + " was not found.")));
    } else if (!caller.Sees(contact->agent_id)) {
      respond(
          Error(403, "AccessDeniedException", "Contact " + contact_id + " is not one of yours."));
    } else if (guide_ == nullptr) {
      respond(Error(503, "ServiceUnavailableException", "No guide flow is loaded."));
    } else {
      guide_->Guide(caller, *contact, request, act, std::move(respond));
    }
    return true;
  }
  return false;
}

void WorkspaceApi::IssueToken(const HttpRequest& request, Respond respond) {
  auto asked = ParseNewAgent(request.body());
  if (!asked) return respond(ErrorResponse(asked.error()));
  const std::string& agent_id = asked->agent_id;
  const AgentDirectory::Role role =
      asked->supervisor ? AgentDirectory::Role::kSupervisor : AgentDirectory::Role::kAgent;
  auto token = agents_.Issue(agent_id, role);
  if (!token) {
    // Nothing changed: the agent's earlier token (if any) still works.
    log::Error("agent.token_not_stored", {{"agent", agent_id}, {"error", token.error().message}});
    return respond(ErrorResponse(aws::AwsError::InternalService(
        "The agent's token could not be stored (" + token.error().message +
        "); no token was issued and the agent's earlier token, if any, still works.")));
  }
  respond(
      JsonResponse(http::status::created,
                   json::serialize(json::object{
                       {"AgentId", agent_id},
                       {"Role", role == AgentDirectory::Role::kSupervisor ? "supervisor" : "agent"},
                       {"Token", token.value()}})));
}

namespace {

// Where a recording lives and how its upload goes, from its upload row (none:
// never queued, the data directory only) and whether its WAV is still here.
json::object StorageOf(const std::optional<store::UploadRow>& upload, bool local_audio) {
  json::object storage;
  storage["LocalAudio"] = local_audio;
  if (!upload) {
    storage["Where"] = "local";
    storage["UploadState"] = "none";
    return storage;
  }
  const bool uploaded = upload->state == "uploaded";
  storage["Where"] = uploaded                     ? (local_audio ? "local+s3" : "s3")
                     : upload->state == "pending" ? "uploading"
                                                  : (local_audio ? "local" : "missing");
  storage["UploadState"] = upload->state;
  storage["Bucket"] = upload->bucket;
  storage["Key"] = upload->key;
  storage["Attempts"] = upload->attempts;
  if (!upload->last_error.empty()) storage["LastError"] = upload->last_error;
  if (uploaded) storage["UploadedAt"] = core::FormatTimestamp(upload->uploaded_ms);
  return storage;
}

}  // namespace

void WorkspaceApi::ListRecordings(const Caller& caller, std::string_view query, Respond respond) {
  store::RecordingFilter filter;
  filter.agent_id = QueryParam(query, "AgentId");
  filter.contact_id = QueryParam(query, "ContactId");
  filter.initial_contact_id = QueryParam(query, "InitialContactId");
  const auto complete = QueryParam(query, "Complete");
  if (complete && *complete != "true" && *complete != "false") {
    return respond(BadRequest("Complete must be true or false."));
  }
  auto asked = ParsePageRequest(query, "recordings");
  if (!asked) return respond(ErrorResponse(asked.error()));
  if (!caller.admin) {
    // An agent (a supervisor too: they watch calls, they do not listen to
    // them) lists their own recordings only, whatever they ask for.
    if (filter.agent_id && *filter.agent_id != caller.agent_id) {
      return respond(JsonResponse(http::status::ok, R"({"Recordings":[]})"));
    }
    filter.agent_id = caller.agent_id;
  }
  // One more than the page: whether another page follows.
  auto rows = store_.ListRecordings(filter, asked->after, asked->limit + 1);
  if (!rows) {
    return respond(ErrorResponse(aws::AwsError::InternalService(
        "The recordings list could not be read now: " + rows.error().message)));
  }
  const bool more = rows->size() > asked->limit;
  json::array list;
  std::string last;
  for (std::size_t i = 0; i < rows->size() && i < asked->limit; ++i) {
    const store::RecordingListing& entry = rows.value()[i];
    last = entry.recording.contact_id;
    const std::filesystem::path wav = entry.recording.path;
    // The file's own account (times, pauses, completeness): one small file
    // per entry of the page, by the path the row holds.
    const auto meta = ReadJsonFile(std::filesystem::path(wav).replace_extension(".json"));
    // No metadata, no recording to show (erased before its contact ended, or
    // unreadable now); one in S3 keeps its metadata here.
    if (!meta) continue;
    const json::value* done = meta->if_contains("Complete");
    const bool is_complete = done != nullptr && done->is_bool() && done->as_bool();
    if (complete && (*complete == "true") != is_complete) continue;
    json::object row;
    row["ContactId"] = entry.contact.contact_id;
    row["InitialContactId"] = entry.contact.initial_contact_id;
    row["AgentId"] = entry.contact.agent_id;
    row["Track"] = std::string(core::ToString(entry.contact.recording.track));
    row["DurationSeconds"] = static_cast<double>(entry.recording.frames_written) / 8000.0;
    for (std::string_view key : {"StartTime", "EndTime", "DurationSeconds", "Track", "Pauses"}) {
      if (const json::value* value = meta->if_contains(key)) row[key] = *value;
    }
    row["Complete"] = is_complete;
    row["LegalHold"] = media::HoldOf(wav).has_value();
    std::error_code ec;
    const bool local_audio = std::filesystem::exists(wav, ec);
    row["Storage"] = StorageOf(entry.upload, local_audio);
    if (entry.upload && entry.upload->state == "uploaded") {
      row["Location"] = json::object{{"Bucket", entry.upload->bucket},
                                     {"Key", entry.upload->key},
                                     {"ETag", Unquoted(entry.upload->etag)}};
    }
    list.push_back(std::move(row));
  }
  json::object body{{"Recordings", std::move(list)}};
  if (more) body["NextToken"] = PageToken("recordings", last);
  respond(JsonResponse(http::status::ok, json::serialize(body)));
}

std::optional<std::filesystem::path> WorkspaceApi::RecordingPath(
    const std::string& contact_id) const {
  if (auto view = recorder_.View(contact_id); view && view.value() && view.value()->path) {
    return *view.value()->path;
  }
  // Recordings of earlier runs, and those whose view the store could not read
  // now: found by name under the recordings directory.
  std::error_code ec;
  const std::string wanted = contact_id + ".wav";
  for (auto it = std::filesystem::recursive_directory_iterator(recordings_dir_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == wanted) return it->path();
  }
  return std::nullopt;
}

void WorkspaceApi::Recording(const Caller& caller, const std::string& contact_id, Part part,
                             std::string_view query, const HttpRequest& request, Respond respond) {
  auto not_found = [&] {
    respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("No recording for contact " + contact_id + ".")));
  };
  if (contact_id.empty() || contact_id.find('/') != std::string::npos ||
      contact_id.find("..") != std::string::npos) {
    return not_found();
  }
  const auto wav = RecordingPath(contact_id);
  std::error_code exists_ec;
  const bool local_audio = wav && std::filesystem::exists(*wav, exists_ec);
  // An uploaded recording's peaks are kept here when its WAV is removed (with
  // its metadata, which says whose it is): served from here, not from S3.
  const bool kept_peaks =
      part == Part::kPeaks && wav && !local_audio && media::LoadStoredPeaks(*wav).has_value();
  if (remote_ && !local_audio && !kept_peaks) {
    // No peaks kept: said as for any missing one, so that who may not read
    // the recording learns nothing of it.
    if (part == Part::kPeaks) return not_found();
    return RemoteRecording(caller, contact_id, part == Part::kAudio, query, request,
                           std::move(respond));
  }
  if (!wav) return not_found();
  std::filesystem::path json_path = *wav;
  json_path.replace_extension(".json");
  const auto meta = ReadJsonFile(json_path);
  if (!meta) return not_found();
  if (!caller.Sees(StringMember(*meta, "AgentId"))) {
    return respond(Error(403, "AccessDeniedException",
                         "The recording of " + contact_id + " is not one of yours."));
  }
  // Served once the read is in the contact's audit trail: a read that cannot
  // be audited is refused.
  auto audited = [this, contact_id, caller](std::string_view operation, const std::string& detail,
                                            HttpResponse response, Respond respond) {
    AuditedRead(caller, contact_id, operation, detail, std::move(response), std::move(respond));
  };
  if (part == Part::kPeaks) {
    // Drawn from the finished file only: a growing one would be read again
    // and again, and its peaks would be stale at once.
    if (const json::value* end = meta->if_contains("EndTime"); end == nullptr || end->is_null()) {
      return respond(Error(409, "ConflictException",
                           "The recording of " + contact_id +
                               " is still being written; its waveform is drawn once it ends."));
    }
    std::size_t width = kDefaultPeakWidth;
    if (const auto asked = QueryParam(query, "width")) {
      const auto [end, ec] = std::from_chars(asked->data(), asked->data() + asked->size(), width);
      if (ec != std::errc() || end != asked->data() + asked->size() || width < 1 ||
          width > media::kStoredPeakBuckets) {
        return respond(BadRequest("width must be a whole number from 1 to " +
                                  std::to_string(media::kStoredPeakBuckets) + "."));
      }
    }
    core::Result<media::Peaks, media::MediaError> peaks =
        media::MediaError{"no waveform is kept for it"};
    if (local_audio) {
      peaks = media::LoadOrComputePeaks(*wav);
    } else if (auto kept = media::LoadStoredPeaks(*wav)) {
      peaks = std::move(*kept);
    }
    if (!peaks) {
      return respond(ErrorResponse(aws::AwsError::InternalService(
          "The waveform of " + contact_id + " cannot be read now: " + peaks.error().message)));
    }
    json::object body = media::PeaksToJson(media::FoldPeaks(peaks.value(), width));
    body["ContactId"] = contact_id;
    return audited("READ_METADATA", "peaks", JsonResponse(http::status::ok, json::serialize(body)),
                   std::move(respond));
  }
  if (part == Part::kMetadata) {
    json::object shown = *meta;
    if (const auto hold = media::HoldOf(*wav)) {
      shown["LegalHold"] =
          json::object{{"Since", hold->since}, {"By", hold->by}, {"Reason", hold->reason}};
    }
    return audited("READ_METADATA", "metadata",
                   JsonResponse(http::status::ok, json::serialize(shown)), std::move(respond));
  }

  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(*wav, ec);
  if (ec) return not_found();
  if (size > kMaxAudioBytes) {
    return respond(Error(413, "RequestEntityTooLargeException",
                         "The recording is larger than this server sends in one answer."));
  }
  std::uint64_t first = 0, last = size == 0 ? 0 : size - 1;
  bool partial = false;
  if (const auto range = request[http::field::range]; !range.empty()) {
    const auto parsed = ParseByteRange(range, size);
    if (!parsed) return respond(RangeRefused(size));
    first = parsed->first;
    last = parsed->last;
    partial = true;
  }
  std::ifstream in(*wav, std::ios::binary);
  std::string bytes(size == 0 ? 0 : last - first + 1, '\0');
  in.seekg(static_cast<std::streamoff>(first));
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in.is_open() || in.bad()) {
    // There, but unreadable (permissions, an I/O error): not an empty recording.
    return respond(ErrorResponse(
        aws::AwsError::InternalService("The recording of " + contact_id + " cannot be read now.")));
  }
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  HttpResponse response{partial ? http::status::partial_content : http::status::ok, 11};
  response.set(http::field::content_type, "audio/wav");
  response.set(http::field::accept_ranges, "bytes");
  response.set(http::field::content_disposition,
               "attachment; filename=\"" + wav->filename().string() + "\"");
  if (partial) {
    response.set(http::field::content_range, "bytes " + std::to_string(first) + "-" +
                                                 std::to_string(first + bytes.size() - 1) + "/" +
                                                 std::to_string(size));
  }
  const std::string range = bytes.empty() ? "bytes none/" + std::to_string(size)
                                          : "bytes " + std::to_string(first) + "-" +
                                                std::to_string(first + bytes.size() - 1) + "/" +
                                                std::to_string(size);
  response.body() = std::move(bytes);
  const auto purpose = QueryParam(query, "for");
  const bool playback = purpose ? *purpose == "playback" : partial;
  audited(playback ? "PLAYBACK" : "DOWNLOAD", range, std::move(response), std::move(respond));
}

void WorkspaceApi::AuditedRead(const Caller& caller, const std::string& contact_id,
                               std::string_view operation, const std::string& detail,
                               HttpResponse response, Respond respond) {
  access_.Record(contact_id, caller.Principal(), operation, detail,
                 [response = std::move(response), respond = std::move(respond)](
                     std::optional<control::ControlError> error) mutable {
                   if (error) {
                     return respond(Error(
                         500, "InternalServiceException",
                         "The read could not be audited, so it is refused: " + error->message));
                   }
                   respond(std::move(response));
                 });
}

void WorkspaceApi::RemoteRecording(const Caller& caller, const std::string& contact_id, bool audio,
                                   std::string_view query, const HttpRequest& request,
                                   Respond respond) {
  auto found = remote_->Find(contact_id);
  if (!found) {
    return respond(ErrorResponse(aws::AwsError::InternalService(
        "Where the recording of " + contact_id + " is cannot be read now.")));
  }
  if (!found.value()) {
    return respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("No recording for contact " + contact_id + ".")));
  }
  const upload::RemoteRecording where = *found.value();
  // The Range is checked against the size the upload confirmed, before S3 is asked.
  std::uint64_t first = 0, last = where.bytes == 0 ? 0 : where.bytes - 1;
  bool partial = false;
  if (const auto range = request[http::field::range]; audio && !range.empty()) {
    const auto parsed = ParseByteRange(range, where.bytes);
    if (!parsed) return respond(RangeRefused(where.bytes));
    first = parsed->first;
    last = parsed->last;
    partial = true;
  }
  const auto purpose = QueryParam(query, "for");
  const bool playback = purpose ? *purpose == "playback" : partial;
  auto unavailable = [contact_id](const std::string& error) {
    return ErrorResponse(aws::AwsError::InternalService("The recording of " + contact_id +
                                                        " cannot be read from S3 now: " + error));
  };
  // The metadata first: it says whose recording it is.
  remote_->ReadMetadata(
      where, [this, caller, contact_id, audio, where, first, last, partial, playback, unavailable,
              respond = std::move(respond)](auto text) mutable {
        if (!text) return respond(unavailable(text.error().message));
        json::error_code ec;
        json::value meta = json::parse(text.value(), ec);
        if (ec || !meta.is_object()) return respond(unavailable("unreadable metadata"));
        if (!caller.Sees(StringMember(meta.as_object(), "AgentId"))) {
          return respond(Error(403, "AccessDeniedException",
                               "The recording of " + contact_id + " is not one of yours."));
        }
        if (!audio) {
          return AuditedRead(caller, contact_id, "READ_METADATA", "metadata",
                             JsonResponse(http::status::ok, text.value()), std::move(respond));
        }
        auto shared = std::make_shared<Respond>(std::move(respond));
        auto answer = [this, caller, contact_id, where, first, partial, playback,
                       shared](std::string bytes) {
          const std::string total = std::to_string(where.bytes);
          const std::string span = bytes.empty()
                                       ? "bytes none/" + total
                                       : "bytes " + std::to_string(first) + "-" +
                                             std::to_string(first + bytes.size() - 1) + "/" + total;
          HttpResponse response{partial ? http::status::partial_content : http::status::ok, 11};
          response.set(http::field::content_type, "audio/wav");
          response.set(http::field::accept_ranges, "bytes");
          const std::string name = where.key.substr(where.key.rfind('/') + 1);
          response.set(http::field::content_disposition, "attachment; filename=\"" + name + "\"");
          if (partial) response.set(http::field::content_range, span);
          response.body() = std::move(bytes);
          AuditedRead(caller, contact_id, playback ? "PLAYBACK" : "DOWNLOAD", span,
                      std::move(response), std::move(*shared));
        };
        if (where.bytes == 0) return answer("");
        remote_->ReadAudio(where, first, last, [answer, shared, unavailable](auto bytes) {
          if (!bytes) return (*shared)(unavailable(bytes.error().message));
          answer(std::move(bytes).value());
        });
      });
}

std::optional<std::string> WorkspaceApi::ReasonOf(const HttpRequest& request, Respond& respond) {
  json::error_code ec;
  const json::value body = json::parse(request.body(), ec);
  const json::value* reason =
      !ec && body.is_object() ? body.as_object().if_contains("Reason") : nullptr;
  if (reason == nullptr || !reason->is_string() || reason->as_string().empty() ||
      reason->as_string().size() > 1000) {
    respond(BadRequest("Body must be {\"Reason\": \"<why, 1 to 1000 characters>\"}."));
    return std::nullopt;
  }
  return std::string(reason->as_string());
}

void WorkspaceApi::Erase(const Caller& caller, const std::string& contact_id,
                         const HttpRequest& request, Respond respond) {
  if (!caller.admin) {
    return respond(Error(403, "AccessDeniedException", "Only the admin erases recordings."));
  }
  const auto reason = ReasonOf(request, respond);
  if (!reason) return;
  const auto wav = RecordingPath(contact_id);
  if (!wav || !RecordingKept(*wav)) {
    return respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("No recording for contact " + contact_id + ".")));
  }
  auto found = contacts_.Find(contact_id);
  if (!found) return respond(ErrorResponse(ToAwsError(found.error())));
  if (const auto& contact = found.value(); contact &&
                                           contact->state() != core::RecordingState::kStopped &&
                                           contact->state() != core::RecordingState::kEnded) {
    return respond(Error(409, "ConflictException",
                         "Contact " + contact_id + " is " +
                             std::string(core::ToString(contact->state())) +
                             ": its recording may still grow; erase it once stopped or ended."));
  }
  if (const auto hold = media::HoldOf(*wav)) {
    return respond(Error(409, "ConflictException",
                         "The recording of " + contact_id + " is under legal hold since " +
                             hold->since + " (by " + hold->by + ": " + hold->reason +
                             "); release the hold first."));
  }
  // Audited first: an erasure nobody can account for must not happen. Then
  // the S3 objects are queued for deletion (durably, while the metadata still
  // names their key), the local files go, and the list forgets it.
  contacts_.Note(
      contact_id, "ERASED", caller.Principal(), "reason: " + *reason,
      [this, contact_id, wav = *wav,
       respond = std::move(respond)](std::optional<control::ControlError> error) mutable {
        if (error) return respond(ErrorResponse(ToAwsError(*error)));
        auto shared = std::make_shared<Respond>(std::move(respond));
        upload::QueueS3Erasure(
            store_, uploads_, contact_id,
            [this, contact_id, wav, shared](std::optional<std::string> failed, bool in_s3) {
              if (failed) {
                return (*shared)(Error(500, "InternalServiceException",
                                       "The erasure is audited but not complete: " + *failed));
              }
              if (auto erased = media::EraseRecordingFiles(wav); !erased) {
                return (*shared)(
                    Error(500, "InternalServiceException",
                          "The erasure is audited but not complete: " + erased.error()));
              }
              upload::Unlist(store_, contact_id,
                             [contact_id, in_s3, shared](std::optional<std::string> failed) {
                               if (failed) {
                                 return (*shared)(
                                     Error(500, "InternalServiceException",
                                           "The erasure is audited but not complete: " + *failed));
                               }
                               json::object body{{"ContactId", contact_id}, {"Erased", true}};
                               // Deleted from S3 on the uploader's thread, audited there.
                               if (in_s3) body["S3Objects"] = "deleting";
                               (*shared)(JsonResponse(http::status::ok, json::serialize(body)));
                             });
            });
      });
}

void WorkspaceApi::Hold(const Caller& caller, const std::string& contact_id, bool place,
                        const HttpRequest& request, Respond respond) {
  if (!caller.admin) {
    return respond(Error(403, "AccessDeniedException", "Only the admin places or releases holds."));
  }
  std::optional<std::string> reason;
  if (place && !(reason = ReasonOf(request, respond))) return;
  const auto wav = RecordingPath(contact_id);
  if (!wav || !RecordingKept(*wav)) {
    return respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("No recording for contact " + contact_id + ".")));
  }
  auto shown = [contact_id](const std::optional<media::LegalHold>& hold) {
    json::object out{{"ContactId", contact_id}};
    if (hold) {
      out["LegalHold"] =
          json::object{{"Since", hold->since}, {"By", hold->by}, {"Reason", hold->reason}};
    } else {
      out["LegalHold"] = nullptr;
    }
    return JsonResponse(http::status::ok, json::serialize(out));
  };
  const auto current = media::HoldOf(*wav);
  if (place == current.has_value()) return respond(shown(current));  // nothing changes
  const media::LegalHold hold{core::FormatTimestamp(clock_()), caller.Principal(),
                              reason.value_or("")};
  contacts_.Note(
      contact_id, place ? "LEGAL_HOLD" : "LEGAL_HOLD_RELEASED", caller.Principal(),
      place ? "reason: " + hold.reason : "held since " + current->since,
      [place, hold, wav = *wav, shown,
       respond = std::move(respond)](std::optional<control::ControlError> error) {
        if (error) return respond(ErrorResponse(ToAwsError(*error)));
        auto done = place ? media::PlaceHold(wav, hold) : media::ReleaseHold(wav);
        if (!done) {
          return respond(Error(500, "InternalServiceException",
                               "Audited, but the hold file could not be changed: " + done.error()));
        }
        respond(shown(place ? std::optional<media::LegalHold>(hold) : std::nullopt));
      });
}

}  // namespace callrec::api
