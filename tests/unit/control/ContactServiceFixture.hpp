#pragma once

// The service over a real SQLite store in a temporary directory, with a clock
// the test sets; shared by the control tests.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>

#include "control/ContactService.hpp"
#include "store/SqliteContactStore.hpp"

namespace callrec::control {

class ContactServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callrec-control-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open(std::size_t max_live_contacts = 0) {
    store_ = std::make_unique<store::SqliteContactStore>(dir_ / "callrec.db");
    service_ = std::make_unique<ContactService>(
        *store_, std::set<std::string, std::less<>>{"local"}, [this] { return now_ms_; },
        max_live_contacts);
  }
  void Close() {
    if (store_) store_->Close();
    service_.reset();
    store_.reset();
  }

  core::Result<core::Contact, ControlError> TryCreate(const std::string& id,
                                                      bool agent_joined = true,
                                                      const std::string& agent = "alice") {
    CreateRequest request{"local", id, "", agent, "PCMU", agent_joined, "admin"};
    std::promise<core::Result<core::Contact, ControlError>> done;
    service_->Create(request, [&](auto result) { done.set_value(std::move(result)); });
    return done.get_future().get();
  }

  core::Contact Create(const std::string& id, bool agent_joined = true) {
    auto result = TryCreate(id, agent_joined);
    EXPECT_TRUE(result.ok());
    return result.value();
  }

  std::optional<ControlError> Apply(const std::string& id, core::Operation operation,
                                    core::Track track = core::Track::kAll,
                                    std::string initial = "") {
    OperationRequest request{"local",   id,    initial.empty() ? id : initial,
                             operation, track, "AKIDTEST"};
    std::promise<std::optional<ControlError>> done;
    service_->Apply(request, [&](auto error) { done.set_value(std::move(error)); });
    return done.get_future().get();
  }

  core::Result<core::Contact, ControlError> End(const std::string& id) {
    std::promise<core::Result<core::Contact, ControlError>> done;
    service_->End(id, "admin", [&](auto result) { done.set_value(std::move(result)); });
    return done.get_future().get();
  }

  core::RecordingState StateOf(const std::string& id) {
    return service_->Find(id).value()->state();
  }

  std::filesystem::path dir_;
  std::int64_t now_ms_ = 1'700'000'000'000;
  std::unique_ptr<store::SqliteContactStore> store_;
  std::unique_ptr<ContactService> service_;
};

}  // namespace callrec::control
