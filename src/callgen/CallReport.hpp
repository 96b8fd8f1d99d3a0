#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "callgen/Lateness.hpp"

namespace callrec::callgen {

// What callgen did, per session and per stream: the printed outcome of a run.
struct StreamReport {
  std::string role;  // customer | agent
  std::string label;
  std::uint16_t local_port = 0;
  std::string destination;  // answered ip:port, empty when never answered
  std::uint64_t packets = 0;
  std::uint64_t events = 0;  // RFC 4733 telephone-event packets among them
  std::uint64_t bytes = 0;
  std::uint64_t send_errors = 0;
  Lateness lateness;
};

// One SIP transaction's final answer: status 0 when none came.
struct SipOutcome {
  std::string request;  // INVITE, re-INVITE (agent joins), re-INVITE (pause), BYE, ...
  int status = 0;
  std::string phrase;
};

struct SessionReport {
  int call = 0;           // 1-based call number
  bool transfer = false;  // the second session of a transferred call
  std::string call_id;
  std::string contact_id;          // X-Contact-Id sent, if any
  std::string initial_contact_id;  // X-Initial-Contact-Id sent, if any
  std::string group_id;
  std::string session_id;
  std::vector<SipOutcome> sip;
  std::vector<StreamReport> streams;
  std::string failure;  // empty when every request got a 2xx

  bool failed() const { return !failure.empty(); }
};

// The key presses every call made (--dtmf): when, not which digits.
struct DtmfReport {
  std::string mode;  // inband | rfc4733 | both
  double level_dbm0 = 0;
  int duration_ms = 0;
  int gap_ms = 0;
  std::vector<double> offsets;  // each digit's start, seconds from the call's first 200 OK
};

struct CallgenReport {
  std::vector<SessionReport> sessions;
  std::optional<DtmfReport> dtmf;
  double elapsed_seconds = 0;
  std::string send_batch;             // uring | off: how packets reached the kernel
  std::vector<std::string> warnings;  // what may have limited the run (file descriptors, ...)

  int failed_sessions() const;
  Lateness lateness() const;  // over every stream
};

void PrintText(const CallgenReport& report, std::ostream& out);
void PrintJson(const CallgenReport& report, std::ostream& out);

}  // namespace callrec::callgen
