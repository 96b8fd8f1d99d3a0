#pragma once

#include <iosfwd>

namespace callrec::callgen {

// callrec-callgen: parse the options, load the audio, place the calls, print
// the report. Returns the exit code: 0 every session succeeded, 1 a session
// failed (the report says why), 2 usage error, 3 could not start.
int RunCallgen(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace callrec::callgen
