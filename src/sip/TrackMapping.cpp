#include "sip/TrackMapping.hpp"

#include <algorithm>
#include <cctype>

namespace callrec::sip {
namespace {

using Index = std::optional<std::size_t>;

// --agent-match against text from the request: std::regex throws on input
// that exhausts its backtracking (error_complexity, error_stack); such a
// participant is not the agent, and the INVITE is not an exception.
bool Matches(const std::string& text, const std::regex& pattern) {
  if (text.empty()) return false;
  try {
    return std::regex_search(text, pattern);
  } catch (const std::regex_error&) {
    return false;
  }
}

bool Recordable(const OfferedStream& stream) {
  return stream.media == "audio" && stream.port != 0;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// The participant sending each offered stream, by <send> and labels.
std::vector<Index> OwnersBySend(const Offer& offer, const RsMetadata& metadata) {
  std::vector<Index> owners(offer.streams.size());
  for (std::size_t s = 0; s < offer.streams.size(); ++s) {
    const OfferedStream& stream = offer.streams[s];
    if (!Recordable(stream) || stream.label.empty()) continue;
    for (std::size_t p = 0; p < metadata.participants.size() && !owners[s]; ++p) {
      for (const std::string& sent : metadata.participants[p].sends) {
        const auto label = metadata.stream_labels.find(sent);
        if (label != metadata.stream_labels.end() && label->second == stream.label) {
          owners[s] = p;
          break;
        }
      }
    }
  }
  return owners;
}

// Without <send>: the k-th audio stream is the k-th participant's.
std::vector<Index> OwnersByOrder(const Offer& offer, const RsMetadata& metadata) {
  std::vector<Index> owners(offer.streams.size());
  std::size_t next = 0;
  for (std::size_t s = 0; s < offer.streams.size(); ++s) {
    if (!Recordable(offer.streams[s])) continue;
    if (next < metadata.participants.size()) owners[s] = next;
    ++next;
  }
  return owners;
}

Index FirstOther(const RsMetadata& metadata, Index except) {
  for (std::size_t p = 0; p < metadata.participants.size(); ++p) {
    if (p != except) return p;
  }
  return std::nullopt;
}

Index CallingParty(const RsMetadata& metadata, Index except) {
  for (std::size_t p = 0; p < metadata.participants.size(); ++p) {
    if (p != except && metadata.participants[p].calling_party == true) return p;
  }
  return std::nullopt;
}

Index ParticipantWithUser(const RsMetadata& metadata, std::string_view header, Index except) {
  const std::string user = AorUser(header);
  if (user.empty()) return std::nullopt;
  for (std::size_t p = 0; p < metadata.participants.size(); ++p) {
    if (p != except && AorUser(metadata.participants[p].aor) == user) return p;
  }
  return std::nullopt;
}

// The customer when the agent is known (or known to be absent): the calling
// party if a client hints it, else the first other participant.
Index CustomerBesides(const RsMetadata& metadata, Index agent) {
  if (Index calling = CallingParty(metadata, agent)) return calling;
  if (Index from = ParticipantWithUser(metadata, metadata.call_from, agent)) return from;
  return FirstOther(metadata, agent);
}

struct Roles {
  Index customer, agent;
  bool other_is_agent_side = false;  // the agent has not joined: others are its side
  std::string rule;
};

Roles DecideRoles(const RsMetadata& metadata, const std::optional<std::regex>& agent_match) {
  if (agent_match) {
    Index agent;
    for (std::size_t p = 0; p < metadata.participants.size() && !agent; ++p) {
      const Participant& participant = metadata.participants[p];
      if (Matches(participant.aor, *agent_match) || Matches(participant.name, *agent_match)) {
        agent = p;
      }
    }
    if (agent) return {CustomerBesides(metadata, agent), agent, false, "agent-match"};
    return {CustomerBesides(metadata, std::nullopt), std::nullopt, true, "agent-not-present"};
  }
  if (Index calling = CallingParty(metadata, std::nullopt)) {
    Index agent;
    for (std::size_t p = 0; p < metadata.participants.size() && !agent; ++p) {
      if (metadata.participants[p].calling_party == false) agent = p;
    }
    if (!agent) agent = FirstOther(metadata, calling);
    return {calling, agent, false, "calling-party"};
  }
  Index from = ParticipantWithUser(metadata, metadata.call_from, std::nullopt);
  Index to = ParticipantWithUser(metadata, metadata.call_to, from);
  if (from || to) {
    if (!from) from = FirstOther(metadata, to);
    if (!to) to = FirstOther(metadata, from);
    return {from, to, false, "call-data"};
  }
  return {FirstOther(metadata, std::nullopt), FirstOther(metadata, std::size_t{0}), false,
          "default"};
}

// Gives each stream its side; one stream per side, the first one wins.
void AssignSides(const Offer& offer, const std::vector<Index>& owners, const Roles& roles,
                 TrackPlan& plan) {
  bool taken[2] = {false, false};
  auto take = [&](std::size_t s, TrackSide side) {
    const int slot = side == TrackSide::kCustomer ? 0 : 1;
    if (taken[slot]) return;
    taken[slot] = true;
    plan.stream_sides[s] = side;
  };
  std::vector<std::size_t> unowned;
  for (std::size_t s = 0; s < offer.streams.size(); ++s) {
    if (!Recordable(offer.streams[s])) continue;
    if (!owners[s]) {
      unowned.push_back(s);
    } else if (owners[s] == roles.customer) {
      take(s, TrackSide::kCustomer);
    } else if (owners[s] == roles.agent || roles.other_is_agent_side) {
      take(s, TrackSide::kAgent);
    }
  }
  for (const std::size_t s : unowned) {
    if (!taken[0]) {
      take(s, TrackSide::kCustomer);
    } else if (!taken[1]) {
      take(s, TrackSide::kAgent);
    }
  }
}

}  // namespace

std::string AorUser(std::string_view aor) {
  const std::size_t open = aor.find('<');
  if (open != std::string_view::npos) {
    const std::size_t close = aor.find('>', open);
    aor = aor.substr(open + 1, close == std::string_view::npos ? close : close - open - 1);
  }
  while (!aor.empty() && std::isspace(static_cast<unsigned char>(aor.front()))) {
    aor.remove_prefix(1);
  }
  for (const std::string_view scheme : {"sip:", "sips:", "tel:"}) {
    if (StartsWithNoCase(aor, scheme)) {
      aor.remove_prefix(scheme.size());
      break;
    }
  }
  const std::size_t at = aor.find('@');
  if (at != std::string_view::npos) aor = aor.substr(0, at);
  aor = aor.substr(0, aor.find_first_of(";:> \t"));  // user parameters, password, junk
  return std::string(aor);
}

TrackPlan MapTracks(const Offer& offer, const std::optional<RsMetadata>& metadata,
                    const std::optional<std::regex>& agent_match) {
  TrackPlan plan;
  plan.stream_sides.assign(offer.streams.size(), TrackSide::kNone);
  const auto recordable = std::count_if(offer.streams.begin(), offer.streams.end(), Recordable);

  if (!metadata || metadata->participants.empty()) {
    plan.rule = recordable == 1 ? "single-stream" : "no-metadata";
    AssignSides(offer, std::vector<Index>(offer.streams.size()), Roles{}, plan);
    return plan;
  }

  const bool have_send = std::any_of(metadata->participants.begin(), metadata->participants.end(),
                                     [](const Participant& p) { return !p.sends.empty(); });
  const std::vector<Index> owners =
      have_send ? OwnersBySend(offer, *metadata) : OwnersByOrder(offer, *metadata);
  plan.by_stream_order = !have_send;

  const Roles roles = DecideRoles(*metadata, agent_match);
  AssignSides(offer, owners, roles, plan);
  plan.rule = roles.rule;
  if (recordable == 1 && std::none_of(owners.begin(), owners.end(),
                                      [](const Index& owner) { return owner.has_value(); })) {
    plan.rule = "single-stream";
  }
  if (roles.customer) plan.customer = metadata->participants[*roles.customer];
  if (roles.agent) {
    plan.agent = metadata->participants[*roles.agent];
    plan.agent_id = AorUser(plan.agent->aor);
  }
  return plan;
}

}  // namespace callrec::sip
