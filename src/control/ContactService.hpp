#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/ControlError.hpp"
#include "control/RemoteOwner.hpp"
#include "core/Contact.hpp"
#include "core/Result.hpp"
#include "store/ContactStore.hpp"

namespace callrec::control {

// A recording operation as the Connect API, the CLI, the Lambda handler or the
// workspace asks for it.
struct OperationRequest {
  std::string instance_id;
  std::string contact_id;
  std::string initial_contact_id;
  core::Operation operation = core::Operation::kStart;
  core::Track track = core::Track::kAll;  // START only
  std::string principal;
  // The request's signature was already used (aws::ReplayGuard): a repeat is
  // served only if it changes nothing, so a captured request replayed later
  // (a RESUME during a pause) is refused with kAccessDenied.
  bool replayed = false;
  // Why, when a policy or an event asked rather than a person ("reason=dtmf",
  // "event=payment-form-opened"): appended to the audit line's detail.
  std::string reason = {};
  // Set when another node forwarded this operation to us, the contact's owner
  // (its name): applied here or refused, never forwarded again.
  std::string forwarded_from = {};
};

struct CreateRequest {
  std::string instance_id;
  std::string contact_id;
  std::string initial_contact_id;  // empty: the contact starts its own chain
  std::string agent_id;
  std::string codec = "PCMU";
  bool agent_joined = true;
  std::string principal;
};

struct ContactFilter {
  std::optional<std::string> agent_id;
  std::optional<core::RecordingState> state;
  // Only contacts not ENDED: those in memory, without reading the store.
  bool live_only = false;
  // A page: contacts whose ContactId sorts after `after` (all if empty), at
  // most `limit` of them (all if 0).
  std::string after;
  std::size_t limit = 0;
};

// Contacts in ContactId order: a key that a change of state does not move, so
// pages taken one after another neither repeat nor skip a contact that ends
// in between.
struct ContactPage {
  std::vector<core::Contact> contacts;
  bool more = false;  // contacts beyond the limit remain
};

// Told about every change of a contact's recording state, so the media side can
// hold the compliance guarantee: OnDecided runs under the service's lock as soon
// as a change is decided (before anything is acknowledged) and must be quick;
// OnSettled runs once the change is durable, or with the restored contact when
// the write failed, before the client is answered.
class RecordingListener {
 public:
  virtual ~RecordingListener() = default;
  virtual void OnDecided(const core::Contact& contact) = 0;
  virtual void OnSettled(const core::Contact& contact) = 0;
};

// Owns the live contacts: applies operations through the state machine, appends
// every outcome to the audit trail, and acknowledges only once the store has made
// the change durable. Thread-safe; replies run on the store's thread.
//
// Memory holds the contacts not ENDED and, for a moment, ended ones: an ended
// contact is evicted once its last write is durable, and read back from the
// store when asked for (Find, List) or operated on (it is then held again until
// that operation's write is durable), so memory grows with the live contacts,
// not with every contact ever seen.
class ContactService {
 public:
  using Clock = std::function<std::int64_t()>;  // milliseconds since the epoch
  using Reply = std::function<void(std::optional<ControlError>)>;
  using ContactReply = std::function<void(core::Result<core::Contact, ControlError>)>;

  // `max_live_contacts`: Create refuses a new contact (kLimitReached) while this
  // many are not ENDED; 0 is no limit.
  ContactService(store::ContactStore& store, std::set<std::string, std::less<>> instance_ids,
                 Clock clock, std::size_t max_live_contacts = 0);

  // The four Connect operations. Every outcome, refusals included, is audited.
  void Apply(const OperationRequest& request, Reply reply);
  void Create(const CreateRequest& request, ContactReply reply);
  // `reason`, when given, is added to the audit line's detail (e.g. "server restart").
  // A live contact another node owns is ended by that owner, which holds the
  // call's media (through the RemoteOwner; refused kUnavailable without one,
  // or when it was forwarded here already): the reply is the contact as the
  // store holds it once the owner's END is durable.
  void End(const std::string& contact_id, const std::string& principal, ContactReply reply,
           const std::string& reason = {}, const std::string& forwarded_from = {});
  // A lost node's live contact (its owner is gone): ended here, principal
  // `cluster`, "node lost: OWNER" in the audit line's detail.
  void EndLost(const std::string& contact_id, const std::string& owner, ContactReply reply);
  // The agent joined: a waiting START begins recording. A non-empty `agent_id`
  // also names the agent (SIPREC metadata naming who joined, or a transfer).
  void AgentJoined(const std::string& contact_id, const std::string& principal, Reply reply,
                   const std::string& agent_id = {});

  // This node was declared lost while it still ran (frozen past its lease) and
  // a survivor ended `stored` in the store: memory takes the store's ENDED
  // contact as it is (no write, no new audit line), the listener and observers
  // are told, so the media stops as for an END. False if memory did not hold
  // it live.
  bool AdoptEnded(const core::Contact& stored);

  // A line in the contact's audit trail that changes no state (a media event
  // such as a new RTP sender), durable before `reply`.
  void Note(const std::string& contact_id, const std::string& operation,
            const std::string& principal, const std::string& detail, Reply reply);

  // These read ended contacts from the store: a failed read is kInternal
  // ("The state store could not be read: ..."), for that request alone.
  core::Result<std::optional<core::Contact>, ControlError> Find(
      const std::string& contact_id) const;
  core::Result<ContactPage, ControlError> List(const ContactFilter& filter) const;
  core::Result<std::vector<core::AuditEntry>, ControlError> AuditTrail(
      const std::string& contact_id) const;
  std::map<core::RecordingState, std::size_t> CountByState() const;
  // Contacts not ENDED (what --max-contacts bounds).
  std::size_t LiveCount() const;
  // Contacts held in memory: the live ones, and ended ones whose last write is
  // not durable yet.
  std::size_t ResidentCount() const;
  // New contacts refused because max_live_contacts were live.
  std::uint64_t RefusedAtLimit() const { return refused_at_limit_.load(); }
  // Set once, before requests arrive.
  void SetListener(RecordingListener* listener) { listener_ = listener; }
  // Several servers on one store: an operation on a live contact owned by
  // another node (not in memory here, live in the store) goes to its owner
  // through `remote`. Without one such an operation is refused (kUnavailable).
  // Set once, before requests arrive.
  void SetRemoteOwner(RemoteOwner* remote) { remote_owner_ = remote; }
  // Told of every durable change of a contact (and of every audited refusal,
  // with the contact as it is), after the commit, before the reply; for live
  // views such as the workspace's event stream. Added before requests arrive.
  using Observer =
      std::function<void(const core::Contact&, const std::optional<core::AuditEntry>&)>;
  void AddObserver(Observer observer) { observers_.push_back(std::move(observer)); }
  bool KnowsInstance(std::string_view instance_id) const {
    return instance_ids_.find(instance_id) != instance_ids_.end();
  }

 private:
  // A contact in memory, and how many of its writes are queued and not yet
  // durable (it is evicted, once ENDED, when that is 0).
  struct Resident {
    core::Contact contact;
    int writes_in_flight = 0;
  };
  using Residents = std::unordered_map<std::string, Resident>;

  // Queues `write` (the caller holds mutex_, which keeps writes in order); `then`
  // runs once it is durable or failed, and a failure restores `before` if nothing
  // changed the contact since. Returns false if the store refused the write at
  // once: `before` is already restored and `then` will not run.
  bool Persist(store::ContactWrite write, std::optional<core::Contact> before,
               std::function<void(bool ok, const std::string& error)> then);
  // The contact in memory; an evicted one is read back from the store and held
  // (the lock is released meanwhile). end() if there is none; `error` says why
  // when the store could not be read.
  // With `foreign` given, a live contact read from the store (another node's:
  // this one holds all of its own in memory) is not held: it is returned there
  // with end().
  Residents::iterator Admit(std::unique_lock<std::mutex>& lock, const std::string& contact_id,
                            std::string& error, std::optional<core::Contact>* foreign = nullptr);
  // Apply's way for another node's live contact: its owner's answer, or an
  // audited kUnavailable when the owner did not answer. Without the lock.
  void ForwardToOwner(const OperationRequest& request, Reply reply);
  void EndContact(const std::string& contact_id, const std::string& principal, ContactReply reply,
                  const std::string& reason, bool take_foreign,
                  const std::string& forwarded_from = {});
  // End's way for another node's live contact, as ForwardToOwner. Without the lock.
  void ForwardEndToOwner(const EndRequest& request, ContactReply reply);
  // The trail keeps a forward the owner did not answer; then `reply(failure)`.
  void AuditOwnerUnavailable(const std::string& contact_id, const std::string& operation,
                             const std::string& principal, const ControlError& failure,
                             std::function<void()> then);
  // Evicts an ENDED contact once none of its writes is in flight. Holds mutex_.
  void EvictIfSettled(Residents::iterator it);
  // Replaces a resident's contact, keeping live_ true. Holds mutex_.
  void Assign(Resident& resident, core::Contact contact);

  store::ContactStore& store_;
  const std::set<std::string, std::less<>> instance_ids_;
  Clock clock_;
  const std::size_t max_live_contacts_;
  RecordingListener* listener_ = nullptr;
  RemoteOwner* remote_owner_ = nullptr;
  std::vector<Observer> observers_;
  mutable std::mutex mutex_;
  Residents contacts_;
  std::size_t live_ = 0;           // residents not ENDED
  std::size_t evicted_ended_ = 0;  // ENDED contacts in the store and not in memory
  std::uint64_t evictions_ = 0;    // lets Admit see that one happened while it read
  std::atomic<std::uint64_t> refused_at_limit_{0};
};

}  // namespace callrec::control
