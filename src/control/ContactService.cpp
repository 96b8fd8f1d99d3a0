#include "control/ContactService.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace callrec::control {
namespace {

using core::RecordingStateMachine;

ControlError NotFound(const std::string& contact_id, const std::string& instance_id) {
  return {ControlError::Kind::kNotFound,
          "Contact " + contact_id + " was not found in instance " + instance_id + "."};
}

constexpr const char* kStoreClosed = "the state store is closed";

ControlError Internal(const std::string& error) {
  return {ControlError::Kind::kInternal, "The change could not be stored: " + error};
}

ControlError Unreadable(const std::string& error) {
  return {ControlError::Kind::kInternal, "The state store could not be read: " + error};
}

bool Live(const core::Contact& contact) {
  return contact.state() != core::RecordingState::kEnded;
}

}  // namespace

ContactService::ContactService(store::ContactStore& store,
                               std::set<std::string, std::less<>> instance_ids, Clock clock,
                               std::size_t max_live_contacts)
    : store_(store),
      instance_ids_(std::move(instance_ids)),
      clock_(std::move(clock)),
      max_live_contacts_(max_live_contacts) {
  for (core::Contact& contact : store_.LoadLiveContacts()) {
    std::string id = contact.contact_id;
    contacts_.emplace(std::move(id), Resident{std::move(contact)});
  }
  live_ = contacts_.size();
  evicted_ended_ = store_.CountEndedContacts();
}

void ContactService::Assign(Resident& resident, core::Contact contact) {
  if (Live(resident.contact) != Live(contact)) {
    if (Live(contact)) {
      ++live_;
    } else {
      --live_;
    }
  }
  resident.contact = std::move(contact);
}

void ContactService::EvictIfSettled(Residents::iterator it) {
  if (it == contacts_.end() || it->second.writes_in_flight > 0 || Live(it->second.contact)) return;
  contacts_.erase(it);
  ++evicted_ended_;
  ++evictions_;
}

ContactService::Residents::iterator ContactService::Admit(std::unique_lock<std::mutex>& lock,
                                                          const std::string& contact_id,
                                                          std::string& error,
                                                          std::optional<core::Contact>* foreign) {
  for (;;) {
    if (auto it = contacts_.find(contact_id); it != contacts_.end()) return it;
    const std::uint64_t evictions = evictions_;
    lock.unlock();
    auto read = store_.LoadContact(contact_id);
    lock.lock();
    if (!read) {
      error = read.error().message;
      return contacts_.end();
    }
    std::optional<core::Contact> stored = std::move(read).value();
    if (auto it = contacts_.find(contact_id); it != contacts_.end()) return it;
    // Evicted while the store was read: what was read may be older than it.
    if (evictions_ != evictions) continue;
    if (!stored) return contacts_.end();
    if (foreign != nullptr && Live(*stored)) {
      *foreign = std::move(stored);
      return contacts_.end();
    }
    if (Live(*stored)) {
      ++live_;  // not expected: live contacts stay in memory
    } else {
      --evicted_ended_;
    }
    return contacts_.emplace(contact_id, Resident{std::move(*stored)}).first;
  }
}

bool ContactService::Persist(store::ContactWrite write, std::optional<core::Contact> before,
                             std::function<void(bool, const std::string&)> then) {
  std::optional<std::int64_t> version;
  // The contact concerned: the written one, else the one the audit entry names.
  std::string contact_id = write.audit ? write.audit->contact_id : std::string();
  std::optional<core::AuditEntry> audit = observers_.empty() ? std::nullopt : write.audit;
  if (write.contact) {
    version = write.contact->version;
    contact_id = write.contact->contact_id;
    if (listener_) listener_->OnDecided(*write.contact);
  }
  // Caller holds mutex_, as does the callback below when it runs.
  auto restore = [this, before, version] {
    if (!before || !version) return;
    auto it = contacts_.find(before->contact_id);
    if (it != contacts_.end() && it->second.contact.version == *version) {
      Assign(it->second, *before);
    }
  };
  auto settle = [this](std::optional<core::Contact> contact) {
    if (listener_ && contact) listener_->OnSettled(*contact);
  };
  const bool queued =
      store_.Write(std::move(write), [this, restore, settle, contact_id, audit = std::move(audit),
                                      has_contact = version.has_value(),
                                      then = std::move(then)](bool ok, const std::string& error) {
        std::optional<core::Contact> now;
        {
          std::lock_guard lock(mutex_);
          if (!ok) restore();
          if (auto it = contacts_.find(contact_id); !contact_id.empty() && it != contacts_.end()) {
            now = it->second.contact;
            // (0 if a failed create made it forget the contact, and it was created again)
            if (it->second.writes_in_flight > 0) it->second.writes_in_flight -= 1;
            EvictIfSettled(it);
          }
        }
        if (has_contact) settle(now);
        if (ok && now) {
          for (const Observer& observer : observers_) observer(*now, audit);
        }
        then(ok, error);
      });
  auto it = contacts_.find(contact_id);
  if (!queued) {
    restore();
    if (listener_ && before) listener_->OnSettled(*before);
    EvictIfSettled(it);
  } else if (it != contacts_.end()) {
    it->second.writes_in_flight += 1;
  }
  return queued;
}

void ContactService::ForwardToOwner(const OperationRequest& request, Reply reply) {
  if (remote_owner_ == nullptr || !request.forwarded_from.empty()) {
    // Forwarded here, yet not held here: the owner is not this node after all
    // (or it restarted); forwarding again could go round in circles.
    return reply(ControlError{
        ControlError::Kind::kUnavailable,
        "Contact " + request.contact_id + " is live on another node, which alone can apply " +
            std::string(core::ToString(request.operation)) +
            (remote_owner_ == nullptr ? "; forwarding to it is not configured here "
                                        "(--cluster-secret-file)."
                                      : "; it was forwarded here by " + request.forwarded_from +
                                            " but this node does not hold it.")});
  }
  remote_owner_->Forward(request, [this, request, reply](RemoteAnswer answer) {
    if (answer.answered) return reply(answer.error);
    // Nothing was applied: the caller hears so, and the trail keeps the attempt.
    ControlError failure{ControlError::Kind::kUnavailable, answer.failure};
    AuditOwnerUnavailable(request.contact_id, std::string(core::ToString(request.operation)),
                          request.principal, failure, [reply, failure] { reply(failure); });
  });
}

void ContactService::ForwardEndToOwner(const EndRequest& request, ContactReply reply) {
  if (remote_owner_ == nullptr || !request.forwarded_from.empty()) {
    return reply(ControlError{
        ControlError::Kind::kUnavailable,
        "Contact " + request.contact_id + " is live on another node, which holds its media" +
            (remote_owner_ == nullptr
                 ? ": end it there (or its call); forwarding is not configured here "
                   "(--cluster-secret-file)."
                 : "; it was forwarded here by " + request.forwarded_from +
                       " but this node does not hold it.")});
  }
  remote_owner_->ForwardEnd(request, [this, request, reply](RemoteAnswer answer) {
    if (!answer.answered) {
      ControlError failure{ControlError::Kind::kUnavailable, answer.failure};
      return AuditOwnerUnavailable(request.contact_id, "END", request.principal, failure,
                                   [reply, failure] { reply(failure); });
    }
    if (answer.error) return reply(*answer.error);
    // Ended by the owner, durably: the caller gets the contact as stored now.
    auto found = Find(request.contact_id);
    if (!found.ok()) return reply(found.error());
    if (!found.value()) {
      return reply(ControlError{ControlError::Kind::kNotFound,
                                "Contact " + request.contact_id + " was not found."});
    }
    reply(*found.value());
  });
}

void ContactService::AuditOwnerUnavailable(const std::string& contact_id,
                                           const std::string& operation,
                                           const std::string& principal,
                                           const ControlError& failure,
                                           std::function<void()> then) {
  store::ContactWrite write;
  write.audit = core::AuditEntry{contact_id, clock_(),           operation,
                                 principal,  "OwnerUnavailable", failure.message};
  if (!store_.Write(std::move(write), [then](bool, const std::string&) { then(); })) then();
}

void ContactService::Apply(const OperationRequest& request, Reply reply) {
  std::unique_lock lock(mutex_);
  if (!KnowsInstance(request.instance_id)) {
    lock.unlock();
    return reply(NotFound(request.contact_id, request.instance_id));
  }
  std::string read_error;
  std::optional<core::Contact> foreign;
  auto it = Admit(lock, request.contact_id, read_error, &foreign);
  if (foreign) {
    lock.unlock();
    if (foreign->instance_id != request.instance_id) {
      return reply(NotFound(request.contact_id, request.instance_id));
    }
    return ForwardToOwner(request, std::move(reply));
  }
  if (it == contacts_.end() || it->second.contact.instance_id != request.instance_id) {
    EvictIfSettled(it);
    lock.unlock();
    if (!read_error.empty()) return reply(Unreadable(read_error));
    return reply(NotFound(request.contact_id, request.instance_id));
  }
  core::Contact& contact = it->second.contact;
  const std::int64_t now = clock_();
  core::AuditEntry audit{contact.contact_id, now, std::string(core::ToString(request.operation)),
                         request.principal,  "",  ""};
  store::ContactWrite write;
  std::optional<core::Contact> before;
  std::optional<ControlError> refusal;

  if (request.initial_contact_id != contact.initial_contact_id) {
    refusal = ControlError{ControlError::Kind::kInvalidParameter,
                           "InitialContactId " + request.initial_contact_id +
                               " does not match the contact's InitialContactId " +
                               contact.initial_contact_id + "."};
  } else {
    auto outcome =
        RecordingStateMachine::Apply(contact.recording, request.operation, request.track);
    if (!outcome) {
      refusal = ControlError{ControlError::Kind::kInvalidRequest, outcome.error().message};
    } else if (outcome->changed && request.replayed) {
      refusal = ControlError{ControlError::Kind::kAccessDenied,
                             "Signature already used: a repeated request may not change the "
                             "recording. Sign every request afresh (X-Amz-Date has 1-second "
                             "resolution: the same request signed twice in one second is the "
                             "same signature)."};
    } else if (outcome->changed) {
      before = contact;
      contact.recording = outcome->status;
      contact.updated_ms = now;
      contact.version += 1;
      write.contact = contact;
      audit.result = "OK";
    } else {
      audit.result = "UNCHANGED";
    }
  }
  if (refusal) {
    audit.result = refusal->kind == ControlError::Kind::kInvalidParameter
                       ? "InvalidParameterException"
                   : refusal->kind == ControlError::Kind::kAccessDenied ? "AccessDeniedException"
                                                                        : "InvalidRequestException";
    audit.detail = refusal->message;
  } else {
    audit.detail = std::string(core::ToString(contact.recording.state));
    if (request.operation == core::Operation::kStart) {
      audit.detail += " track=";
      audit.detail += core::ToString(contact.recording.track);
    }
    if (!request.reason.empty()) audit.detail += " " + request.reason;
    if (!request.forwarded_from.empty()) audit.detail += " forwarded-by=" + request.forwarded_from;
  }
  write.audit = std::move(audit);
  if (!Persist(std::move(write), std::move(before),
               [reply, refusal](bool ok, const std::string& error) {
                 if (!ok) return reply(Internal(error));
                 reply(refusal);
               })) {
    lock.unlock();
    reply(Internal(kStoreClosed));
  }
}

void ContactService::Create(const CreateRequest& request, ContactReply reply) {
  std::unique_lock lock(mutex_);
  if (!KnowsInstance(request.instance_id)) {
    lock.unlock();
    reply(ControlError{ControlError::Kind::kNotFound,
                       "Instance " + request.instance_id + " is not served here."});
    return;
  }
  std::string read_error;
  if (auto it = Admit(lock, request.contact_id, read_error); it != contacts_.end()) {
    const core::Contact& existing = it->second.contact;
    const std::string initial =
        request.initial_contact_id.empty() ? request.contact_id : request.initial_contact_id;
    // A retried create with the same identity is answered with what exists.
    const bool same = existing.instance_id == request.instance_id &&
                      existing.initial_contact_id == initial &&
                      existing.agent_id == request.agent_id && existing.codec == request.codec;
    core::Contact copy = existing;
    EvictIfSettled(it);
    lock.unlock();
    if (same) return reply(std::move(copy));
    return reply(ControlError{
        ControlError::Kind::kConflict,
        "Contact " + request.contact_id + " already exists with a different identity."});
  }
  if (!read_error.empty()) {
    lock.unlock();
    return reply(Unreadable(read_error));
  }
  if (max_live_contacts_ != 0 && live_ >= max_live_contacts_) {
    refused_at_limit_ += 1;
    lock.unlock();
    return reply(ControlError{
        ControlError::Kind::kLimitReached,
        "Too many contacts: " + std::to_string(max_live_contacts_) +
            " are not ENDED, the limit set by --max-contacts; retry once one has ended."});
  }
  core::Contact contact;
  contact.instance_id = request.instance_id;
  contact.contact_id = request.contact_id;
  contact.initial_contact_id =
      request.initial_contact_id.empty() ? request.contact_id : request.initial_contact_id;
  contact.agent_id = request.agent_id;
  contact.codec = request.codec;
  contact.recording.agent_joined = request.agent_joined;
  contact.created_ms = contact.updated_ms = clock_();
  contact.version = 1;
  contacts_.emplace(contact.contact_id, Resident{contact});
  ++live_;

  store::ContactWrite write;
  write.contact = contact;
  write.audit = core::AuditEntry{
      contact.contact_id, contact.created_ms, "CREATE", request.principal, "OK", "NOT_STARTED"};
  const std::string id = contact.contact_id;
  auto forget = [this, id] {
    if (auto it = contacts_.find(id); it != contacts_.end() && it->second.contact.version == 1) {
      if (Live(it->second.contact)) --live_;
      contacts_.erase(it);
    }
  };
  std::optional<core::AuditEntry> audit = write.audit;
  const bool queued = store_.Write(
      std::move(write), [this, forget, contact, audit, reply](bool ok, const std::string& error) {
        if (!ok) {
          std::lock_guard guard(mutex_);
          forget();
          return reply(Internal(error));
        }
        for (const Observer& observer : observers_) observer(contact, audit);
        reply(contact);
      });
  if (!queued) {
    forget();
    lock.unlock();
    reply(Internal(kStoreClosed));
  }
}

void ContactService::End(const std::string& contact_id, const std::string& principal,
                         ContactReply reply, const std::string& reason,
                         const std::string& forwarded_from) {
  EndContact(contact_id, principal, std::move(reply), reason, false, forwarded_from);
}

void ContactService::EndLost(const std::string& contact_id, const std::string& owner,
                             ContactReply reply) {
  EndContact(contact_id, "cluster", std::move(reply), "node lost: " + owner, true);
}

void ContactService::EndContact(const std::string& contact_id, const std::string& principal,
                                ContactReply reply, const std::string& reason, bool take_foreign,
                                const std::string& forwarded_from) {
  std::unique_lock lock(mutex_);
  std::string read_error;
  std::optional<core::Contact> foreign;
  auto it = Admit(lock, contact_id, read_error, take_foreign ? nullptr : &foreign);
  if (foreign) {
    lock.unlock();
    return ForwardEndToOwner(EndRequest{contact_id, principal, reason, forwarded_from},
                             std::move(reply));
  }
  if (it == contacts_.end()) {
    lock.unlock();
    if (!read_error.empty()) return reply(Unreadable(read_error));
    return reply(
        ControlError{ControlError::Kind::kNotFound, "Contact " + contact_id + " was not found."});
  }
  core::Contact& contact = it->second.contact;
  const auto transition = RecordingStateMachine::End(contact.recording);
  store::ContactWrite write;
  std::optional<core::Contact> before;
  const std::int64_t now = clock_();
  if (transition.changed) {
    before = contact;
    contact.recording = transition.status;
    contact.updated_ms = now;
    contact.version += 1;
    --live_;  // a place under --max-contacts is free from here
    write.contact = contact;
  }
  write.audit = core::AuditEntry{
      contact_id,
      now,
      "END",
      principal,
      transition.changed ? "OK" : "UNCHANGED",
      "ENDED recording=" + std::string(core::ToString(contact.recording.final_state)) +
          (reason.empty() ? std::string() : " (" + reason + ")") +
          (forwarded_from.empty() ? std::string() : " forwarded-by=" + forwarded_from)};
  core::Contact copy = contact;
  if (!Persist(std::move(write), std::move(before),
               [reply, copy](bool ok, const std::string& error) {
                 if (!ok) return reply(Internal(error));
                 reply(copy);
               })) {
    lock.unlock();
    reply(Internal(kStoreClosed));
  }
}

void ContactService::AgentJoined(const std::string& contact_id, const std::string& principal,
                                 Reply reply, const std::string& agent_id) {
  std::unique_lock lock(mutex_);
  std::string read_error;
  std::optional<core::Contact> foreign;
  auto it = Admit(lock, contact_id, read_error, &foreign);
  if (it == contacts_.end()) {
    lock.unlock();
    if (!read_error.empty()) return reply(Unreadable(read_error));
    return reply(
        ControlError{ControlError::Kind::kNotFound, "Contact " + contact_id + " was not found."});
  }
  core::Contact& contact = it->second.contact;
  const auto transition = RecordingStateMachine::AgentJoined(contact.recording);
  const bool renamed = !agent_id.empty() && agent_id != contact.agent_id;
  if (!transition.changed && !renamed) {
    EvictIfSettled(it);
    lock.unlock();
    return reply(std::nullopt);
  }
  std::optional<core::Contact> before = contact;
  const std::int64_t now = clock_();
  contact.recording = transition.status;
  if (renamed) contact.agent_id = agent_id;
  contact.updated_ms = now;
  contact.version += 1;
  store::ContactWrite write;
  write.contact = contact;
  write.audit = core::AuditEntry{contact_id,
                                 now,
                                 "AGENT_JOINED",
                                 principal,
                                 "OK",
                                 std::string(core::ToString(contact.recording.state)) +
                                     (renamed ? " agent " + agent_id : std::string())};
  if (!Persist(std::move(write), std::move(before), [reply](bool ok, const std::string& error) {
        if (!ok) return reply(Internal(error));
        reply(std::nullopt);
      })) {
    lock.unlock();
    reply(Internal(kStoreClosed));
  }
}

bool ContactService::AdoptEnded(const core::Contact& stored) {
  if (Live(stored)) return false;
  {
    std::lock_guard lock(mutex_);
    auto it = contacts_.find(stored.contact_id);
    if (it == contacts_.end() || !Live(it->second.contact)) return false;
    Assign(it->second, stored);
    if (listener_) listener_->OnDecided(stored);
    EvictIfSettled(it);
  }
  if (listener_) listener_->OnSettled(stored);
  for (const Observer& observer : observers_) observer(stored, std::nullopt);
  return true;
}

void ContactService::Note(const std::string& contact_id, const std::string& operation,
                          const std::string& principal, const std::string& detail, Reply reply) {
  std::unique_lock lock(mutex_);
  std::string read_error;
  std::optional<core::Contact> foreign;
  auto it = Admit(lock, contact_id, read_error, &foreign);
  if (it == contacts_.end() && !foreign) {
    lock.unlock();
    if (!read_error.empty()) return reply(Unreadable(read_error));
    return reply(
        ControlError{ControlError::Kind::kNotFound, "Contact " + contact_id + " was not found."});
  }
  store::ContactWrite write;
  write.audit = core::AuditEntry{contact_id, clock_(), operation, principal, "OK", detail};
  if (!Persist(std::move(write), std::nullopt, [reply](bool ok, const std::string& error) {
        if (!ok) return reply(Internal(error));
        reply(std::nullopt);
      })) {
    lock.unlock();
    reply(Internal(kStoreClosed));
  }
}

core::Result<std::optional<core::Contact>, ControlError> ContactService::Find(
    const std::string& contact_id) const {
  {
    std::lock_guard lock(mutex_);
    auto it = contacts_.find(contact_id);
    if (it != contacts_.end()) return std::optional<core::Contact>(it->second.contact);
  }
  // Not in memory: ended (and evicted once that was durable), or unknown.
  auto stored = store_.LoadContact(contact_id);
  if (!stored) return Unreadable(stored.error().message);
  return std::move(stored).value();
}

core::Result<ContactPage, ControlError> ContactService::List(const ContactFilter& filter) const {
  auto wanted = [&filter](const core::Contact& contact) {
    return contact.contact_id > filter.after &&
           (!filter.agent_id || contact.agent_id == *filter.agent_id) &&
           (!filter.state || contact.state() == *filter.state) &&
           (!filter.live_only || Live(contact));
  };
  auto by_id = [](const core::Contact& a, const core::Contact& b) {
    return a.contact_id < b.contact_id;
  };
  // One more than the page, to know whether more remain.
  const std::size_t want = filter.limit == 0 ? 0 : filter.limit + 1;
  std::vector<core::Contact> in_memory;
  std::set<std::string, std::less<>> resident;
  const bool evicted_wanted =
      !filter.live_only && (!filter.state || *filter.state == core::RecordingState::kEnded);
  // Several servers on one store: the live contacts the others hold.
  const bool others_wanted = !filter.state || *filter.state != core::RecordingState::kEnded;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : contacts_) {
      if ((evicted_wanted || others_wanted) && id > filter.after) resident.insert(id);
      if (wanted(entry.contact)) in_memory.push_back(entry.contact);
    }
  }
  std::sort(in_memory.begin(), in_memory.end(), by_id);
  if (want != 0 && in_memory.size() > want) in_memory.resize(want);
  // Rows of the store, read a chunk at a time, but those memory has (it may be
  // ahead of the store) and those the filter does not want.
  auto read_store = [&](auto load) -> core::Result<std::vector<core::Contact>, ControlError> {
    std::vector<core::Contact> rows_wanted;
    for (std::string cursor = filter.after; want == 0 || rows_wanted.size() < want;) {
      const std::size_t chunk = want == 0 ? 0 : want - rows_wanted.size();
      auto read = load(cursor, chunk);
      if (!read) return Unreadable(read.error().message);
      std::vector<core::Contact> rows = std::move(read).value();
      const bool last = chunk == 0 || rows.size() < chunk;
      if (!rows.empty()) cursor = rows.back().contact_id;
      for (core::Contact& contact : rows) {
        if (resident.count(contact.contact_id) == 0 && wanted(contact)) {
          rows_wanted.push_back(std::move(contact));
        }
      }
      if (last) break;
    }
    return rows_wanted;
  };
  std::vector<core::Contact> stored;
  if (evicted_wanted) {
    auto ended = read_store([&](const std::string& after, std::size_t limit) {
      return store_.LoadEndedContacts(filter.agent_id, after, limit);
    });
    if (!ended) return ended.error();
    stored = std::move(ended).value();
  }
  if (others_wanted) {
    auto others = read_store([&](const std::string& after, std::size_t limit) {
      return store_.LoadOthersLiveContacts(filter.agent_id, after, limit);
    });
    if (!others) return others.error();
    std::vector<core::Contact> merged;
    merged.reserve(stored.size() + others.value().size());
    std::merge(std::make_move_iterator(stored.begin()), std::make_move_iterator(stored.end()),
               std::make_move_iterator(others.value().begin()),
               std::make_move_iterator(others.value().end()), std::back_inserter(merged), by_id);
    stored = std::move(merged);
  }
  ContactPage page;
  page.contacts.reserve(in_memory.size() + stored.size());
  std::merge(std::make_move_iterator(in_memory.begin()), std::make_move_iterator(in_memory.end()),
             std::make_move_iterator(stored.begin()), std::make_move_iterator(stored.end()),
             std::back_inserter(page.contacts), by_id);
  if (filter.limit != 0 && page.contacts.size() > filter.limit) {
    page.contacts.resize(filter.limit);
    page.more = true;
  }
  return page;
}

core::Result<std::vector<core::AuditEntry>, ControlError> ContactService::AuditTrail(
    const std::string& contact_id) const {
  auto trail = store_.LoadAuditTrail(contact_id);
  if (!trail) return Unreadable(trail.error().message);
  return std::move(trail).value();
}

std::map<core::RecordingState, std::size_t> ContactService::CountByState() const {
  std::map<core::RecordingState, std::size_t> counts;
  std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : contacts_) counts[entry.contact.state()] += 1;
  if (evicted_ended_ != 0) counts[core::RecordingState::kEnded] += evicted_ended_;
  return counts;
}

std::size_t ContactService::LiveCount() const {
  std::lock_guard lock(mutex_);
  return live_;
}

std::size_t ContactService::ResidentCount() const {
  std::lock_guard lock(mutex_);
  return contacts_.size();
}

}  // namespace callrec::control
