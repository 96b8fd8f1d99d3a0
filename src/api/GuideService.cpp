#include "api/GuideService.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <future>

#include "api/ContactJson.hpp"
#include "api/ControlErrors.hpp"
#include "core/RecordingStateMachine.hpp"
#include "flow/InboundAttributes.hpp"
#include "lambda/RecordingHandler.hpp"
#include "log/Log.hpp"

namespace callrec::api {
namespace {

// The function a Lambda ARN names ("arn:aws:lambda:eu-west-2:1:function:Name"
// -> "Name"), as written in the flow; "" when the flow still holds a ${...}
// template placeholder instead of a real ARN.
std::string LambdaFunctionName(std::string_view arn) {
  if (arn.find("${") != std::string_view::npos) return {};
  const std::size_t at = arn.find(":function:");
  if (at == std::string_view::npos) return std::string(arn);
  std::string_view name = arn.substr(at + 10);
  return std::string(name.substr(0, name.find(':')));
}

namespace json = boost::json;
namespace asio = boost::asio;
using core::Operation;
using core::RecordingState;

// The card's description for a guide opened on a contact past NOT_STARTED (the
// inbound flow's "Recording has not been started." would be untrue): the
// workspace badge's sentence for the state (web/js/dom.js).
std::string StateMessage(RecordingState state) {
  switch (state) {
    case RecordingState::kRecording:
      return "Recording.";
    case RecordingState::kPaused:
      return "Paused: nothing is being recorded.";
    case RecordingState::kWaitingForAgent:
      return "Recording starts when the agent joins; nothing is recorded yet.";
    case RecordingState::kStopped:
      return "Recording stopped: nothing more is recorded.";
    case RecordingState::kEnded:
      return "The contact has ended.";
    case RecordingState::kNotStarted:
      break;
  }
  return "Recording has not been started.";
}

json::object Operations(const core::Contact& contact) {
  json::object out;
  for (Operation op :
       {Operation::kStart, Operation::kPause, Operation::kResume, Operation::kStop}) {
    bool allowed = false;
    if (contact.state() != RecordingState::kEnded) {
      auto transition = core::RecordingStateMachine::Apply(contact.recording, op);
      allowed = transition && transition.value().changed;
    }
    out[core::ToString(op)] = allowed;
  }
  return out;
}

const std::string* LambdaAttribute(const flow::Block& block, std::string_view name) {
  const json::value* attributes = block.parameters.if_contains("LambdaInvocationAttributes");
  if (attributes == nullptr || !attributes->is_object()) return nullptr;
  const json::value* value = attributes->as_object().if_contains(name);
  if (value == nullptr || !value->is_string()) return nullptr;
  static thread_local std::string text;
  text = std::string(value->as_string());
  return &text;
}

}  // namespace

json::object ActionOperations(const flow::Flow& guide) {
  json::object out;
  for (const flow::Block& compare : guide.blocks()) {
    if (compare.kind != flow::BlockType::kCompare) continue;
    const json::value* value = compare.parameters.if_contains("ComparisonValue");
    if (value == nullptr || !value->is_string() ||
        value->as_string() != "$.Views.ViewResultData.actionName") {
      continue;
    }
    for (const flow::ConditionBranch& branch : compare.conditions) {
      if (branch.op != flow::Operator::kEquals || branch.operands.size() != 1) continue;
      // Follow NextAction a few blocks to the Lambda this action invokes.
      const flow::Block* block = guide.Find(branch.next);
      for (int hops = 0; block != nullptr && hops < 4; ++hops) {
        if (block->kind == flow::BlockType::kInvokeLambdaFunction) {
          json::object what;
          if (const std::string* op = LambdaAttribute(*block, "operation")) what["Operation"] = *op;
          if (const std::string* track = LambdaAttribute(*block, "voiceRecordingTrack")) {
            what["Track"] = *track;
          }
          if (!what.empty()) out[branch.operands.front()] = what;
          break;
        }
        if (block->kind == flow::BlockType::kShowView) break;
        block = guide.Find(block->next);
      }
    }
  }
  return out;
}

struct GuideService::Slot {
  explicit Slot(asio::io_context& io) : strand(asio::make_strand(io)) {}
  asio::strand<asio::io_context::executor_type> strand;
  std::unique_ptr<flow::GuideRun> run;
  flow::ContactData data;
  bool started = false;
  std::string principal;  // the agent the Lambda acts for
};

GuideService::GuideService(asio::io_context& io, control::ContactService& contacts,
                           std::shared_ptr<const flow::Flow> guide,
                           std::optional<flow::Flow> inbound)
    : io_(io),
      contacts_(contacts),
      guide_(std::move(guide)),
      inbound_(std::move(inbound)),
      action_operations_(ActionOperations(*guide_)) {}

GuideService::~GuideService() {
  lambda_pool_.join();
}

flow::LambdaInvoker GuideService::InvokerFor(const std::shared_ptr<Slot>& slot,
                                             std::string principal) {
  std::weak_ptr<Slot> weak = slot;
  return [this, weak, principal](const std::string& arn, json::value event,
                                 std::chrono::milliseconds time_limit, flow::LambdaDone done) {
    auto strand_slot = weak.lock();
    if (!strand_slot) return;
    auto strand = strand_slot->strand;
    const std::string instance_id = strand_slot->data.instance_id;
    asio::post(lambda_pool_, [this, arn, event = std::move(event), time_limit, principal, strand,
                              instance_id, done = std::move(done)]() mutable {
      // The pool's threads end the process on an exception: the barrier turns
      // one into the Lambda's failure, which the flow's error branch handles.
      try {
        Invoke(arn, std::move(event), time_limit, principal, strand, instance_id, done);
      } catch (...) {
        const std::string message = barrier_.Caught({{"function", arn}, {"principal", principal}});
        if (!done) return;
        asio::post(strand, [done = std::move(done), message]() {
          done(std::string("the Lambda failed: " + message));
        });
      }
    });
  };
}

flow::RecordingSetter GuideService::RecordingFor(const std::shared_ptr<Slot>& slot,
                                                 std::string principal) {
  std::weak_ptr<Slot> weak = slot;
  return [this, weak, principal](const std::vector<std::string>& participants,
                                 flow::RecordingDone done) {
    auto s = weak.lock();
    if (!s) return;
    auto finish = [strand = s->strand, done](std::optional<std::string> error) {
      asio::post(strand, [done, error]() { done(error); });
    };
    auto found = contacts_.Find(s->data.contact_id);
    if (!found || !found.value()) return finish(std::string("the contact could not be read"));
    const core::Contact& contact = *found.value();
    const RecordingState state = contact.state();
    std::optional<Operation> op;
    core::Track track = core::Track::kAll;
    if (participants.empty()) {
      if (state == RecordingState::kRecording) op = Operation::kPause;
    } else if (state == RecordingState::kPaused) {
      op = Operation::kResume;
    } else if (state == RecordingState::kNotStarted || state == RecordingState::kStopped) {
      op = Operation::kStart;
      if (participants.size() == 1) {
        track = participants.front() == "Agent" ? core::Track::kFromAgent : core::Track::kToAgent;
      }
    }
    if (!op) return finish(std::nullopt);  // already as the flow asks
    control::OperationRequest request{
        contact.instance_id, contact.contact_id, contact.initial_contact_id, *op, track, principal};
    request.reason = "flow=UpdateContactRecordingBehavior";
    contacts_.Apply(request, [finish](std::optional<control::ControlError> error) {
      finish(error ? std::optional<std::string>(error->message) : std::nullopt);
    });
  };
}

void GuideService::Invoke(const std::string& arn, json::value event,
                          std::chrono::milliseconds time_limit, const std::string& principal,
                          const asio::strand<asio::io_context::executor_type>& strand,
                          const std::string& instance_id, flow::LambdaDone& done) {
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  // The Connect API, in process: the same ContactService the HTTP API uses.
  lambda::RecordingHandler::ConnectCall call = [this, principal](
                                                   Operation op, const std::string& instance_id,
                                                   const std::string& contact_id,
                                                   const std::string& initial_contact_id,
                                                   core::Track track,
                                                   std::chrono::steady_clock::time_point until) {
    auto answered = std::make_shared<std::promise<std::optional<control::ControlError>>>();
    auto future = answered->get_future();
    contacts_.Apply(control::OperationRequest{instance_id, contact_id, initial_contact_id, op,
                                              track, principal},
                    [answered](std::optional<control::ControlError> error) {
                      answered->set_value(std::move(error));
                    });
    aws::ConnectClient::Outcome outcome;
    outcome.attempts = 1;
    if (future.wait_until(until) != std::future_status::ready) {
      outcome.error = aws::ConnectCallError{0, "Timeout", "no answer before the deadline"};
    } else if (auto error = future.get()) {
      const aws::AwsError aws_error = ToAwsError(*error);
      outcome.error = aws::ConnectCallError{aws_error.status, aws_error.type, aws_error.message};
    }
    // The state reached, which the badge names (a Start may wait for the agent).
    if (outcome.error && outcome.error->type == "Timeout") return outcome;
    auto found = contacts_.Find(contact_id);
    if (found && found.value()) outcome.state = found.value()->state();
    return outcome;
  };
  const lambda::RecordingHandler handler(instance_id, call);
  auto result = handler.Handle(event, deadline);
  log::Info("guide.lambda", {{"function", LambdaFunctionName(arn)}, {"principal", principal}});
  asio::post(strand,
             [done = std::move(done), response = std::move(result.response)]() { done(response); });
}

std::shared_ptr<GuideService::Slot> GuideService::SlotFor(const core::Contact& contact,
                                                          const std::string& principal) {
  std::lock_guard lock(mutex_);
  auto& slot = slots_[contact.contact_id];
  if (slot) return slot;
  slot = std::make_shared<Slot>(io_);
  if (contact.state() == RecordingState::kEnded) {
    // No change will come to forget it: bounded instead (oldest out).
    ended_slots_.push_back(contact.contact_id);
    if (ended_slots_.size() > kEndedRunsKept) {
      slots_.erase(ended_slots_.front());
      ended_slots_.pop_front();
    }
  }
  slot->principal = principal;
  flow::ContactData& data = slot->data;
  data.contact_id = contact.contact_id;
  data.initial_contact_id =
      contact.initial_contact_id == contact.contact_id ? "" : contact.initial_contact_id;
  data.related_contact_id = contact.contact_id;
  data.instance_id = contact.instance_id;
  data.agent_id = contact.agent_id;
  data.attributes =
      inbound_ ? flow::InboundAttributes(*inbound_, data) : flow::DefaultInboundAttributes(data);
  // The status attributes say what the recording really is, now.
  if (contact.state() != RecordingState::kNotStarted) {
    data.attributes["callRecordingStatus"] = lambda::RecordingStatus(contact.state());
    data.attributes["callRecordingHTML"] = lambda::RecordingHtml(contact.state());
    data.attributes["callRecordingMessage"] = StateMessage(contact.state());
  }
  std::weak_ptr<Slot> weak = slot;
  slot->run = std::make_unique<flow::GuideRun>(
      guide_, data, InvokerFor(slot, principal),
      [weak](const std::string&, const std::map<std::string, std::string>& attributes) {
        if (auto s = weak.lock()) {
          for (const auto& [key, value] : attributes) s->data.attributes[key] = value;
        }
      },
      RecordingFor(slot, principal));
  return slot;
}

void GuideService::Guide(const Caller& caller, const core::Contact& contact,
                         const HttpRequest& request, bool act, Respond respond) {
  auto slot = SlotFor(contact, caller.Principal());
  std::optional<json::value> output;
  if (act) {
    json::error_code ec;
    json::value parsed = json::parse(request.body(), ec);
    if (ec || !parsed.is_object() || !parsed.as_object().contains("Result")) {
      return respond(
          BadRequest("Body must be the view's output, e.g. {\"Result\": \"ActionSelected\", "
                     "\"ViewResultData\": {\"actionName\": \"Pause recording\"}}."));
    }
    output = std::move(parsed);
  }
  asio::post(slot->strand, [this, slot, output = std::move(output), principal = caller.Principal(),
                            respond = std::move(respond)]() mutable {
    auto done = [this, slot, respond](core::Result<flow::GuideView, flow::FlowError> view) {
      Answer(slot, std::move(view), respond);
    };
    if (!slot->started) {
      slot->started = true;
      if (!output) return slot->run->Start(done);
      // An action before any view: start first, then act.
      return slot->run->Start(
          [slot, output, done](core::Result<flow::GuideView, flow::FlowError> view) mutable {
            if (!view) return done(std::move(view));
            slot->run->Act(*output, done);
          });
    }
    if (output) return slot->run->Act(*output, done);
    done(slot->run->Current());
  });
}

void GuideService::Answer(const std::shared_ptr<Slot>& slot,
                          core::Result<flow::GuideView, flow::FlowError> view,
                          Respond respond) const {
  if (!view) {
    const flow::FlowError& error = view.error();
    return respond(
        Error(409, "GuideFlowException",
              error.message + (error.identifier.empty()
                                   ? std::string()
                                   : " (block '" + error.identifier + "', " + error.type + ")")));
  }
  auto found = contacts_.Find(slot->data.contact_id);
  if (!found) return respond(ErrorResponse(ToAwsError(found.error())));
  const std::optional<core::Contact>& contact = found.value();
  json::object body;
  if (contact) {
    const json::object described = ContactToJson(*contact);
    for (std::string_view key :
         {"ContactId", "InitialContactId", "AgentId", "State", "RecordingState", "Track"}) {
      if (const json::value* value = described.if_contains(key)) body[key] = *value;
    }
    body["Operations"] = Operations(*contact);
  }
  body["ActionOperations"] = action_operations_;
  const flow::GuideView& shown = view.value();
  if (shown.finished || shown.action_identifier.empty()) {
    body["View"] = nullptr;
  } else {
    body["View"] = json::object{{"Action", shown.action_identifier},
                                {"ViewResource", shown.view_resource},
                                {"ViewResourceId", shown.view_resource_id},
                                {"ViewData", shown.view_data}};
  }
  body["Finished"] = shown.finished;
  json::object attributes;
  for (const auto& [key, value] : slot->data.attributes) attributes[key] = value;
  body["Attributes"] = std::move(attributes);
  respond(JsonResponse(http::status::ok, json::serialize(body)));
}

std::size_t GuideService::RunsInMemory() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

void GuideService::OnContactChanged(const core::Contact& contact) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(contact.contact_id);
    if (it == slots_.end()) return;
    slot = it->second;
    if (contact.state() == RecordingState::kEnded) slots_.erase(it);
  }
  asio::post(slot->strand, [slot, state = contact.state()] {
    if (state == RecordingState::kNotStarted) return;
    auto& attributes = slot->data.attributes;
    const std::string html = lambda::RecordingHtml(state);
    // The card's description was about the state it showed: changed by
    // someone else (the Connect API, the recording client, the DTMF policy),
    // it says what holds now. The guide's own action sets its own message
    // with its result, after or before this.
    if (attributes["callRecordingHTML"] != html) {
      attributes["callRecordingMessage"] = StateMessage(state);
    }
    attributes["callRecordingStatus"] = lambda::RecordingStatus(state);
    attributes["callRecordingHTML"] = html;
    slot->run->UpdateContact(slot->data);
  });
}

}  // namespace callrec::api
