#include "flow/GuideRun.hpp"

#include <atomic>
#include <exception>

#include "flow/Evaluation.hpp"
#include "flow/JsonPath.hpp"

namespace callrec::flow {
namespace {

namespace json = boost::json;

// A guide that runs this many blocks without showing a view is looping.
constexpr int kMaxSteps = 1000;

FlowError RunError(const Block* block, std::string message) {
  return block ? FlowError{block->identifier, block->type, std::move(message)}
               : FlowError{"", "", std::move(message)};
}

}  // namespace

struct GuideRun::State : std::enable_shared_from_this<GuideRun::State> {
  std::shared_ptr<const Flow> flow;
  ContactData contact;
  LambdaInvoker invoke;
  AttributesWriter write;
  RecordingSetter set_recording;

  json::object external;         // $.External
  json::object views;            // $.Views
  const Block* shown = nullptr;  // the ShowView waiting for output
  bool finished = false;
  bool busy = false;  // a Lambda is out

  json::object Data() const { return FlowData(contact, external, views); }

  GuideView Render() const {
    GuideView view;
    if (shown == nullptr) {
      view.finished = finished;
      return view;
    }
    view.action_identifier = shown->identifier;
    const json::value& resource = shown->parameters.at("ViewResource");
    view.view_resource_id = std::string(resource.at("Id").as_string());
    view.view_resource = ViewName(view.view_resource_id);
    const json::value* data = shown->parameters.if_contains("ViewData");
    view.view_data = data ? ResolveTree(*data, Data()) : json::value(json::object());
    view.time_limit = TimeLimit(*shown);
    return view;
  }

  void End(GuideDone& done) {
    shown = nullptr;
    finished = true;
    done(Render());
  }

  void Fail(const Block* block, std::string message, GuideDone& done) {
    shown = nullptr;
    finished = true;
    done(RunError(block, std::move(message)));
  }

  // Where an error leaves `block`: its branch, or the run fails naming the block.
  const Block* OnError(const Block& block, std::string_view error_type, GuideDone& done,
                       bool& failed) {
    const std::string* next = block.NextOnError(error_type);
    if (next == nullptr) {
      failed = true;
      Fail(&block, "error " + std::string(error_type) + " has no branch", done);
      return nullptr;
    }
    return flow->Find(*next);
  }

  // Runs from `block` until a view, the end, or a Lambda (which continues later).
  void RunFrom(const Block* block, int steps, GuideDone done) {
    while (true) {
      if (block == nullptr) return End(done);
      if (++steps > kMaxSteps) {
        return Fail(block, "ran " + std::to_string(kMaxSteps) + " blocks without showing a view",
                    done);
      }
      bool failed = false;
      switch (block->kind) {
        case BlockType::kShowView:
          shown = block;
          done(Render());
          return;
        case BlockType::kDisconnectParticipant:
        case BlockType::kEndFlowExecution:
          return End(done);
        case BlockType::kUpdateFlowLoggingBehavior:
          block = flow->Find(block->next);
          break;
        case BlockType::kUpdateContactAttributes: {
          std::string why;
          const json::object data = Data();
          // The related contact's attributes are not known here: only the new ones count.
          const json::value* target = block->parameters.if_contains("TargetContact");
          const bool related = target != nullptr && target->as_string() == "Related";
          const auto update =
              ResolveAttributeUpdate(*block, data, related ? nullptr : &contact.attributes, &why);
          if (!update) {
            block = OnError(*block, "NoMatchingError", done, failed);
            break;
          }
          if (update->target == "Current") {
            for (const auto& [key, value] : update->attributes) contact.attributes[key] = value;
          }
          if (write) write(update->target, update->attributes);
          block = flow->Find(block->next);
          break;
        }
        case BlockType::kCompare: {
          const json::object data = Data();
          const std::string value =
              ResolveText(block->parameters.at("ComparisonValue").as_string(), data);
          const std::string* next = FirstMatch(*block, value, data);
          block = next ? flow->Find(*next) : OnError(*block, "NoMatchingCondition", done, failed);
          break;
        }
        case BlockType::kInvokeLambdaFunction:
          return Invoke(*block, steps, std::move(done));
        case BlockType::kUpdateContactRecordingBehavior:
          return SetRecording(*block, steps, std::move(done));
        case BlockType::kOther:
          return Fail(block, "block type " + block->type + " cannot run in a guide", done);
      }
      if (failed) return;
    }
  }

  void Invoke(const Block& block, int steps, GuideDone done) {
    const json::object data = Data();
    json::object parameters;
    if (const json::value* attributes =
            block.parameters.if_contains("LambdaInvocationAttributes")) {
      for (const auto& member : attributes->as_object()) {
        parameters[member.key()] = ResolveText(member.value().as_string(), data);
      }
    }
    const std::string arn = ResolveText(block.parameters.at("LambdaFunctionARN").as_string(), data);
    const json::value* validation = block.parameters.if_contains("ResponseValidation");
    const bool string_map = validation == nullptr ||
                            validation->as_object().at("ResponseType").as_string() == "STRING_MAP";
    busy = true;
    auto answered = std::make_shared<std::atomic<bool>>(false);
    std::weak_ptr<State> weak = weak_from_this();
    const Block* invoked = &block;  // lives as long as the flow, which the state holds
    LambdaDone on_answer = [weak, answered, invoked, steps, string_map,
                            done](core::Result<json::object, std::string> answer) mutable {
      if (answered->exchange(true)) return;  // a second answer is ignored
      if (auto self = weak.lock())
        self->OnAnswer(*invoked, steps, string_map, std::move(answer), done);
    };
    try {
      invoke(arn, LambdaEvent(contact, std::move(parameters)),
             std::chrono::duration_cast<std::chrono::milliseconds>(TimeLimit(block)), on_answer);
    } catch (const std::exception& e) {
      on_answer(std::string("the Lambda could not be invoked: ") + e.what());
    }
  }

  void SetRecording(const Block& block, int steps, GuideDone done) {
    std::vector<std::string> participants;
    for (const json::value& who : block.parameters.at("RecordingBehavior")
                                      .as_object()
                                      .at("RecordedParticipants")
                                      .as_array()) {
      participants.emplace_back(who.as_string());
    }
    if (!set_recording) {
      bool failed = false;
      const Block* next = OnError(block, "NoMatchingError", done, failed);
      if (!failed) RunFrom(next, steps, std::move(done));
      return;
    }
    busy = true;
    std::weak_ptr<State> weak = weak_from_this();
    const Block* set = &block;
    set_recording(participants, [weak, set, steps, done](std::optional<std::string> error) mutable {
      auto self = weak.lock();
      if (!self) return;
      self->busy = false;
      bool failed = false;
      const Block* next = error ? self->OnError(*set, "NoMatchingError", done, failed)
                                : self->flow->Find(set->next);
      if (!failed) self->RunFrom(next, steps, std::move(done));
    });
  }

  void OnAnswer(const Block& block, int steps, bool string_map,
                core::Result<json::object, std::string> answer, GuideDone& done) {
    busy = false;
    bool ok = answer.ok();
    if (ok && string_map) {
      for (const auto& member : answer.value()) ok = ok && member.value().is_string();
    }
    // A failed invocation leaves nothing under $.External for the error branch.
    external = ok ? std::move(answer).value() : json::object();
    bool failed = false;
    const Block* next =
        ok ? flow->Find(block.next) : OnError(block, "NoMatchingError", done, failed);
    if (!failed) RunFrom(next, steps, std::move(done));
  }
};

GuideRun::GuideRun(std::shared_ptr<const Flow> flow, ContactData contact, LambdaInvoker invoke,
                   AttributesWriter write, RecordingSetter set_recording)
    : state_(std::make_shared<State>()) {
  state_->set_recording = std::move(set_recording);
  state_->flow = std::move(flow);
  state_->contact = std::move(contact);
  state_->invoke = std::move(invoke);
  state_->write = std::move(write);
}

void GuideRun::Start(GuideDone done) {
  State& s = *state_;
  if (s.busy) return done(FlowError{"", "", "the guide is waiting for a Lambda"});
  s.external = json::object();
  s.views = json::object();
  s.shown = nullptr;
  s.finished = false;
  s.RunFrom(&s.flow->start(), 0, std::move(done));
}

void GuideRun::Act(const json::value& view_output, GuideDone done) {
  State& s = *state_;
  if (s.busy) return done(FlowError{"", "", "the guide is waiting for a Lambda"});
  if (s.shown == nullptr) return done(FlowError{"", "", "no view is shown"});
  const json::object* output = view_output.if_object();
  const json::value* result = output ? output->if_contains("Result") : nullptr;
  if (result == nullptr || !result->is_string()) {
    return done(FlowError{s.shown->identifier, s.shown->type,
                          "the view's output needs a Result (e.g. \"ActionSelected\")"});
  }
  const json::value* data = output->if_contains("ViewResultData");
  if (data != nullptr && !data->is_object()) {
    return done(FlowError{s.shown->identifier, s.shown->type, "ViewResultData must be an object"});
  }
  const Block& view = *s.shown;
  s.views = *output;
  if (data == nullptr) s.views["ViewResultData"] = json::object();
  s.shown = nullptr;
  const std::string outcome(result->as_string());
  bool failed = false;
  const Block* next = nullptr;
  if (outcome == "TimeLimitExceeded") {
    next = s.OnError(view, "TimeLimitExceeded", done, failed);
  } else if (const std::string* branch = FirstMatch(view, outcome, s.Data())) {
    next = s.flow->Find(*branch);
  } else {
    next = s.OnError(view, "NoMatchingCondition", done, failed);
  }
  if (!failed) s.RunFrom(next, 0, std::move(done));
}

void GuideRun::UpdateContact(const ContactData& contact) {
  state_->contact = contact;
}

GuideView GuideRun::Current() const {
  return state_->Render();
}

const ContactData& GuideRun::contact() const {
  return state_->contact;
}

}  // namespace callrec::flow
