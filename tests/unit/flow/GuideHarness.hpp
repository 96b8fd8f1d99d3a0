#pragma once

// A guide flow run end to end with the real recording handler
// (lambda::RecordingHandler) behind the invoker and a Connect API that keeps
// the contact's recording state as callrec-server does (the state machine).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "FlowFiles.hpp"
#include "core/RecordingStateMachine.hpp"
#include "flow/GuideRun.hpp"
#include "flow/InboundAttributes.hpp"
#include "lambda/RecordingHandler.hpp"

namespace callrec::flow::testing {

namespace json = boost::json;

struct ConnectCall {
  core::Operation operation;
  std::string contact_id;
  std::string initial_contact_id;
  core::Track track;
};

struct Write {
  std::string target;
  std::map<std::string, std::string> attributes;
};

class GuideHarness : public ::testing::Test {
 protected:
  // Loads `path` as the guide and a contact with the inbound flow's attributes.
  void Use(const std::filesystem::path& path) {
    flow_ = MustLoad(path);
    ASSERT_TRUE(flow_);
    contact_.contact_id = "contact-2";
    contact_.initial_contact_id = "contact-1";
    contact_.instance_id = "instance-1";
    contact_.agent_id = "agent-7";
    contact_.attributes = DefaultInboundAttributes(contact_);
  }

  // The recording handler with a Connect API that applies the state machine.
  lambda::RecordingHandler Handler() {
    return lambda::RecordingHandler(
        "instance-1", [this](core::Operation operation, const std::string&,
                             const std::string& contact, const std::string& initial,
                             core::Track track, std::chrono::steady_clock::time_point) {
          calls_.push_back({operation, contact, initial, track});
          aws::ConnectClient::Outcome outcome;
          outcome.attempts = 1;
          auto applied = core::RecordingStateMachine::Apply(status_, operation, track);
          if (!applied.ok()) {
            outcome.error =
                aws::ConnectCallError{400, "InvalidRequestException", applied.error().message};
          } else {
            status_ = applied.value().status;
          }
          return outcome;
        });
  }

  GuideRun Run() {
    return GuideRun(
        flow_, contact_,
        [this](const std::string& arn, json::value event, std::chrono::milliseconds limit,
               LambdaDone done) {
          arns_.push_back(arn);
          events_.push_back(event);
          limits_.push_back(limit);
          if (!lambda_error_.empty()) return done(lambda_error_);
          if (answer_override_) return done(*answer_override_);
          done(Handler().Handle(event, std::chrono::steady_clock::now() + limit).response);
        },
        [this](const std::string& target, const std::map<std::string, std::string>& attributes) {
          writes_.push_back({target, attributes});
        });
  }

  static GuideView Expect(GuideRun& run, const json::value& output) {
    std::optional<core::Result<GuideView, FlowError>> got;
    run.Act(output, [&](core::Result<GuideView, FlowError> view) { got.emplace(std::move(view)); });
    EXPECT_TRUE(got.has_value()) << "done was not called";
    if (!got) return {};
    EXPECT_TRUE(got->ok()) << got->error().identifier << ": " << got->error().message;
    return got->ok() ? got->value() : GuideView{};
  }

  static GuideView Started(GuideRun& run) {
    std::optional<core::Result<GuideView, FlowError>> got;
    run.Start([&](core::Result<GuideView, FlowError> view) { got.emplace(std::move(view)); });
    EXPECT_TRUE(got && got->ok());
    return got && got->ok() ? got->value() : GuideView{};
  }

  static json::value Click(std::string action) {
    return json::value{{"Result", "ActionSelected"}, {"ViewResultData", {{"actionName", action}}}};
  }

  // The first card's status badge (its first Section) and message (its Summary's Description).
  static std::string Badge(const GuideView& view) {
    return std::string(view.view_data.at("Cards")
                           .at(0)
                           .at("Detail")
                           .at("Sections")
                           .at(0)
                           .at("TemplateString")
                           .as_string());
  }

  static std::string Message(const GuideView& view) {
    return std::string(
        view.view_data.at("Cards").at(0).at("Summary").at("Description").as_string());
  }

  std::shared_ptr<const Flow> flow_;
  ContactData contact_;
  core::RecordingStatus status_;
  std::vector<ConnectCall> calls_;
  std::vector<std::string> arns_;
  std::vector<json::value> events_;
  std::vector<std::chrono::milliseconds> limits_;
  std::vector<Write> writes_;
  std::string lambda_error_;
  std::optional<json::object> answer_override_;
};

}  // namespace callrec::flow::testing
