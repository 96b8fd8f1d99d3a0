#pragma once

// api::ConnectApi over a control::ContactService whose store keeps writes in
// memory and acknowledges them when the harness says so: the API's real path
// (SigV4, body validation, state machine, audit) without SQLite or threads.
// Shared by the connect_body and http_request targets.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "FuzzCheck.hpp"
#include "api/ConnectApi.hpp"
#include "api/Metrics.hpp"
#include "aws/SigV4.hpp"
#include "control/ContactService.hpp"
#include "log/Log.hpp"
#include "store/ContactStore.hpp"

namespace callrec::fuzz {

inline constexpr const char* kAccessKeyId = "AKIDFUZZ";
inline constexpr const char* kSecret = "fuzz-secret-key";
inline constexpr const char* kRegion = "us-east-1";
// The server's clock: every request is verified at this instant.
inline const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days(std::chrono::year{2024} / 6 / 7) + std::chrono::hours(12);

// A store that holds writes until Settle() acknowledges them, as the SQLite
// writer thread does after its commit.
class MemoryContactStore final : public store::ContactStore {
 public:
  explicit MemoryContactStore(std::vector<core::Contact> contacts)
      : contacts_(std::move(contacts)) {}

  std::vector<core::Contact> LoadContacts() override { return contacts_; }
  std::vector<core::Contact> LoadLiveContacts() override { return contacts_; }
  store::ReadResult<std::vector<core::Contact>> LoadEndedContacts(const std::optional<std::string>&,
                                                                  std::string_view,
                                                                  std::size_t) override {
    return std::vector<core::Contact>();
  }
  std::size_t CountEndedContacts() override { return 0; }
  // Only the starting contacts, none ENDED: the Connect API ends none, so none
  // is ever evicted and read back.
  store::ReadResult<std::optional<core::Contact>> LoadContact(
      std::string_view contact_id) override {
    for (const core::Contact& contact : contacts_) {
      if (contact.contact_id == contact_id) return std::optional<core::Contact>(contact);
    }
    return std::optional<core::Contact>();
  }
  store::ReadResult<std::optional<store::RecordingSummary>> LoadRecording(
      std::string_view) override {
    return std::optional<store::RecordingSummary>();
  }
  // No recording reaches object storage here: the upload queue stays empty.
  store::ReadResult<std::vector<store::UploadRow>> LoadOpenUploads() override {
    return std::vector<store::UploadRow>{};
  }
  store::ReadResult<std::optional<store::UploadRow>> LoadUpload(std::string_view) override {
    return std::optional<store::UploadRow>{};
  }
  // No recording either: the list is empty.
  store::ReadResult<std::vector<store::RecordingListing>> ListRecordings(
      const store::RecordingFilter&, std::string_view, std::size_t) override {
    return std::vector<store::RecordingListing>{};
  }
  store::ReadResult<std::vector<core::AuditEntry>> LoadAuditTrail(std::string_view) override {
    return std::vector<core::AuditEntry>();
  }
  bool Write(store::ContactWrite, Done done) override {
    pending_.push_back(std::move(done));
    return true;
  }
  store::StoreStats Stats() const override { return {}; }

  void Settle() {
    while (!pending_.empty()) {
      auto done = std::move(pending_.front());
      pending_.erase(pending_.begin());
      done(true, "");
    }
  }

 private:
  std::vector<core::Contact> contacts_;
  std::vector<Done> pending_;
};

inline core::Contact ContactIn(std::string id, core::RecordingState state) {
  core::Contact contact;
  contact.instance_id = "local";
  contact.contact_id = std::move(id);
  contact.initial_contact_id = "c-1";
  contact.agent_id = "alice";
  contact.codec = "PCMU";
  contact.recording.state = state;
  contact.recording.track =
      state == core::RecordingState::kNotStarted ? core::Track::kNone : core::Track::kAll;
  contact.created_ms = contact.updated_ms = 1'717'761'600'000;
  contact.version = 1;
  return contact;
}

// One ConnectApi with contacts c-1 (not started), c-2 (recording), c-3 (paused)
// and c-4 (stopped), all in the chain of c-1. Built fresh for every input so
// that each run is reproducible on its own.
class ConnectApiHarness {
 public:
  ConnectApiHarness()
      : store_({ContactIn("c-1", core::RecordingState::kNotStarted),
                ContactIn("c-2", core::RecordingState::kRecording),
                ContactIn("c-3", core::RecordingState::kPaused),
                ContactIn("c-4", core::RecordingState::kStopped)}),
        contacts_(store_, {"local"}, [] { return std::int64_t{1'717'761'600'000}; }),
        api_(contacts_, Verifier(), metrics_, [] { return kNow; }) {
    static const bool quiet = [] {
      log::Configure("off");
      return true;
    }();
    (void)quiet;
  }

  static const aws::SigV4Verifier& Verifier() {
    static const aws::SigV4Verifier verifier({{kAccessKeyId, kSecret}}, "connect");
    return verifier;
  }

  // Handles a request the Router would send to ConnectApi; the response once
  // the store has settled.
  api::HttpResponse Handle(api::HttpRequest&& request) {
    std::optional<api::HttpResponse> response;
    api_.Handle(std::move(request), [&response](api::HttpResponse r) {
      CALLREC_FUZZ_CHECK(!response.has_value());  // answered once
      response = std::move(r);
    });
    store_.Settle();
    CALLREC_FUZZ_CHECK(response.has_value());
    return std::move(*response);
  }

 private:
  MemoryContactStore store_;
  control::ContactService contacts_;
  api::Metrics metrics_;
  api::ConnectApi api_;
};

}  // namespace callrec::fuzz
