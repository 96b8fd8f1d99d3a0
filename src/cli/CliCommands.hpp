#pragma once

#include <iosfwd>

namespace callrec::cli {

// `callrec start|stop|pause|resume|status|list`: the recording operations over
// the Connect-compatible API (SigV4), status and list over /v1 (admin token).
// Returns the process exit code: 0 done, 1 refused or unreachable, 2 usage.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace callrec::cli
