#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "api/WorkspaceApi.hpp"
#include "control/ContactService.hpp"
#include "flow/Flow.hpp"
#include "flow/GuideRun.hpp"
#include "log/Barrier.hpp"

namespace callrec::api {

// Runs the agent guide flow (flows/agent-recording-guide.json, or
// --guide-flow) for each contact an agent handles, as Amazon Connect runs the
// Default for Agent UI flow, and answers its views to the workspace:
//   GET  /v1/contacts/{id}/guide          -> the view shown (the run starts on first use)
//   POST /v1/contacts/{id}/guide/actions  -> the view's output; runs to the next view
// InvokeLambdaFunction runs lambda::RecordingHandler, the code of
// callrec-lambda, in process, against ContactService (principal: the agent),
// on a small thread pool so HTTP threads never wait on it. One strand per run.
// A new contact's attributes come from the inbound flow (--inbound-flow) or
// the built-in defaults; the recording status attributes follow the contact's
// real state whoever changed it.
class GuideService final : public GuideRoutes {
 public:
  GuideService(boost::asio::io_context& io, control::ContactService& contacts,
               std::shared_ptr<const flow::Flow> guide, std::optional<flow::Flow> inbound);
  ~GuideService() override;

  void Guide(const Caller& caller, const core::Contact& contact, const HttpRequest& request,
             bool act, Respond respond) override;
  // ContactService observer: keeps the runs' status attributes true.
  void OnContactChanged(const core::Contact& contact);
  // Guide runs held (live contacts', and the last kEndedRunsKept opened on
  // contacts already ENDED), for /metrics.
  std::size_t RunsInMemory() const;
  // Exceptions stopped at the Lambda pool's barrier (guide.handler_failed).
  std::uint64_t handler_exceptions() const { return barrier_.caught(); }

  // A run is forgotten when its contact ends; one opened on a contact that had
  // already ended (an agent looking back) is kept among the last this many.
  static constexpr std::size_t kEndedRunsKept = 256;

 private:
  struct Slot;
  std::shared_ptr<Slot> SlotFor(const core::Contact& contact, const std::string& principal);
  void Answer(const std::shared_ptr<Slot>& slot, core::Result<flow::GuideView, flow::FlowError>,
              Respond respond) const;
  flow::LambdaInvoker InvokerFor(const std::shared_ptr<Slot>& slot, std::string principal);
  // UpdateContactRecordingBehavior as the agent's operation: no participants
  // pauses a recording; participants resume a paused one or start one not
  // running (with their track); otherwise nothing changes.
  flow::RecordingSetter RecordingFor(const std::shared_ptr<Slot>& slot, std::string principal);
  // One InvokeLambdaFunction, on the pool: `done` is posted to `strand`.
  void Invoke(const std::string& arn, boost::json::value event,
              std::chrono::milliseconds time_limit, const std::string& principal,
              const boost::asio::strand<boost::asio::io_context::executor_type>& strand,
              const std::string& instance_id, flow::LambdaDone& done);

  boost::asio::io_context& io_;
  control::ContactService& contacts_;
  std::shared_ptr<const flow::Flow> guide_;
  std::optional<flow::Flow> inbound_;
  boost::json::object action_operations_;  // the guide's action names -> {Operation, Track}
  log::ExceptionBarrier barrier_{"guide.handler_failed"};
  boost::asio::thread_pool lambda_pool_{2};
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;  // by contact id
  std::deque<std::string> ended_slots_;                 // oldest first
};

// Which recording operation each of the guide's ShowView actions leads to:
// ShowView -> Compare on $.Views.ViewResultData.actionName -> the
// InvokeLambdaFunction its condition reaches, read from the Lambda's
// `operation` / `voiceRecordingTrack` attributes. Names it cannot trace are left out.
boost::json::object ActionOperations(const flow::Flow& guide);

}  // namespace callrec::api
