#pragma once

#include <filesystem>
#include <functional>

#include "api/AgentDirectory.hpp"
#include "api/EventHub.hpp"
#include "api/RecordingAccess.hpp"
#include "api/V1Api.hpp"
#include "control/ContactService.hpp"
#include "media/Recorder.hpp"
#include "store/ContactStore.hpp"
#include "upload/RecordingUploader.hpp"
#include "upload/S3RecordingReader.hpp"

namespace callrec::api {

// The guide-flow runtime's routes, /v1/contacts/{id}/guide[/actions]; the
// caller is already known to see the contact.
class GuideRoutes {
 public:
  virtual ~GuideRoutes() = default;
  virtual void Guide(const Caller& caller, const core::Contact& contact, const HttpRequest& request,
                     bool act, Respond respond) = 0;
};

// What the agent workspace uses besides /v1/contacts (PRODUCT.md 4.5):
//   POST /v1/agents {AgentId[, Role: agent|supervisor]} (admin) -> {AgentId, Role, Token}
//   GET  /v1/me -> {AgentId[, Supervisor] | Admin, MaxPauseSeconds, ServerTime}
//   GET  /v1/events: server-sent events of the caller's contacts
//   GET  /v1/contacts/{id}/guide, POST .../guide/actions (GuideRoutes)
//   GET  /v1/recordings[?AgentId=&ContactId=&InitialContactId=&Complete=&MaxResults=&NextToken=]
//        (from the state store's recordings table, paged in ContactId order)
//   GET  /v1/recordings/{ContactId} (metadata), .../audio[?for=playback|download]
//        (the WAV, Range), .../peaks?width=N (the waveform of a finished
//        recording, both channels); each read audited (RecordingAccessLog)
//   DELETE /v1/recordings/{ContactId} {Reason} (admin): erasure, audited ERASED
//   POST|DELETE /v1/recordings/{ContactId}/hold {Reason} (admin): legal hold
// An agent sees and acts on their own contacts only: 403 otherwise. A
// supervisor also watches every contact (list, contact, events), and reads no
// other agent's recording or guide.
class WorkspaceApi final : public WorkspaceRoutes {
 public:
  using WallClock = std::function<std::int64_t()>;  // ms since the epoch
  WorkspaceApi(control::ContactService& contacts, store::ContactStore& store,
               media::Recorder& recorder, AgentDirectory& agents, EventHub& events,
               RecordingAccessLog& access, std::filesystem::path recordings_dir, WallClock clock);

  void SetGuide(GuideRoutes* guide) { guide_ = guide; }
  // --max-pause, told to the pages by /v1/me (0: none). Set before requests arrive.
  void SetMaxPause(unsigned seconds) { max_pause_seconds_ = seconds; }
  // Recordings uploaded to S3 whose local copy is gone are read from there (set
  // once, before requests arrive; none: the data directory only).
  void SetRemoteRecordings(upload::S3RecordingReader* remote) { remote_ = remote; }
  // An erasure deletes the recording's S3 objects through it (set once, before
  // requests arrive; none: the upload row is marked for the next start with S3).
  void SetUploads(upload::RecordingUploader* uploads) { uploads_ = uploads; }
  bool Route(const Caller& caller, HttpRequest& request, std::string_view path,
             std::string_view query, Respond& respond, OpenStream& open_stream) override;

 private:
  void IssueToken(const HttpRequest& request, Respond respond);
  void ListRecordings(const Caller& caller, std::string_view query, Respond respond);
  enum class Part { kMetadata, kAudio, kPeaks };
  void Recording(const Caller& caller, const std::string& contact_id, Part part,
                 std::string_view query, const HttpRequest& request, Respond respond);
  std::optional<std::filesystem::path> RecordingPath(const std::string& contact_id) const;
  // Recording() for one that lives in S3 only.
  void RemoteRecording(const Caller& caller, const std::string& contact_id, bool audio,
                       std::string_view query, const HttpRequest& request, Respond respond);
  // Answers `response` once the read is in the contact's audit trail (refused if it cannot be).
  void AuditedRead(const Caller& caller, const std::string& contact_id, std::string_view operation,
                   const std::string& detail, HttpResponse response, Respond respond);
  void Erase(const Caller& caller, const std::string& contact_id, const HttpRequest& request,
             Respond respond);
  void Hold(const Caller& caller, const std::string& contact_id, bool place,
            const HttpRequest& request, Respond respond);
  // The body's Reason; else answers 400 and returns nullopt.
  static std::optional<std::string> ReasonOf(const HttpRequest& request, Respond& respond);

  control::ContactService& contacts_;
  store::ContactStore& store_;  // the recordings list
  media::Recorder& recorder_;
  AgentDirectory& agents_;
  EventHub& events_;
  RecordingAccessLog& access_;
  const std::filesystem::path recordings_dir_;
  WallClock clock_;
  GuideRoutes* guide_ = nullptr;
  unsigned max_pause_seconds_ = 0;
  upload::S3RecordingReader* remote_ = nullptr;
  upload::RecordingUploader* uploads_ = nullptr;
};

}  // namespace callrec::api
