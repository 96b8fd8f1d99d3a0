#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/Result.hpp"
#include "flow/ContactData.hpp"
#include "flow/Flow.hpp"

namespace callrec::flow {

// What the agent sees: the ShowView the run stopped at, its view data resolved.
struct GuideView {
  std::string action_identifier;  // the ShowView block shown
  std::string view_resource;      // the view's short name: "cards"
  std::string view_resource_id;   // ViewResource.Id as written in the flow
  // ViewData with every "$." reference resolved and TemplateString sanitised.
  // Other strings are text: the page must escape them.
  boost::json::value view_data;
  std::chrono::seconds time_limit{0};  // InvocationTimeLimitSeconds: then answer TimeLimitExceeded
  bool finished = false;               // the flow ended (DisconnectParticipant, an end): no view
};

// The Lambda's flat map, or why there is none (error, time-out).
using LambdaDone = std::function<void(core::Result<boost::json::object, std::string>)>;
// Invokes a Lambda with Amazon Connect's event. Must call `done` exactly once,
// with an error when `time_limit` passes first; may call it on any thread.
using LambdaInvoker = std::function<void(const std::string& function_arn, boost::json::value event,
                                         std::chrono::milliseconds time_limit, LambdaDone done)>;
// An UpdateContactAttributes for the contact ("Current") or the contact the
// guide acts on ("Related").
using AttributesWriter = std::function<void(const std::string& target,
                                            const std::map<std::string, std::string>& attributes)>;
using GuideDone = std::function<void(core::Result<GuideView, FlowError>)>;
// UpdateContactRecordingBehavior: records `participants` ("Agent",
// "Customer"; none: the recording pauses) from now on. Must call `done` exactly
// once (an error message, or nullopt), where the run's calls are serialised.
using RecordingDone = std::function<void(std::optional<std::string> error)>;
using RecordingSetter =
    std::function<void(const std::vector<std::string>& participants, RecordingDone done)>;

// One run of a guide flow for one contact and agent, as Amazon Connect runs
// the Default for Agent UI flow: blocks run until a ShowView, whose output
// (the agent's click) continues the run to the next ShowView. $.External is
// the last Lambda's answer, $.Views the last view's output.
//
// Not thread-safe: the caller serialises calls on one run, and the invoker
// calls LambdaDone where it serialises them too (e.g. posted to the run's
// strand); `done` is called from there. While a Lambda is out, Start and Act
// are refused. A Lambda that answers after the run is gone is ignored.
class GuideRun {
 public:
  // Without `set_recording`, an UpdateContactRecordingBehavior block takes
  // its error branch.
  GuideRun(std::shared_ptr<const Flow> flow, ContactData contact, LambdaInvoker invoke,
           AttributesWriter write, RecordingSetter set_recording = {});
  GuideRun(const GuideRun&) = delete;
  GuideRun& operator=(const GuideRun&) = delete;
  GuideRun(GuideRun&&) = default;
  GuideRun& operator=(GuideRun&&) = default;

  // From StartAction to the first ShowView: done(view) once there.
  void Start(GuideDone done);

  // The shown view's output, as Connect's views return it: {"Result":
  // "ActionSelected", "ViewResultData": {"actionName": "Pause recording"}},
  // "Back", "NoMatchFound", or "TimeLimitExceeded" when the view timed out.
  // Follows the ShowView's Conditions (on Result) or Errors to the next
  // ShowView. Refused (the run unchanged) when no view is shown.
  void Act(const boost::json::value& view_output, GuideDone done);

  // Fresh contact data (e.g. attributes another client changed).
  void UpdateContact(const ContactData& contact);

  // The view shown, re-resolved against the current attributes; finished when
  // the run has ended; empty (no identifier) before Start has reached a view.
  GuideView Current() const;

  const ContactData& contact() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace callrec::flow
