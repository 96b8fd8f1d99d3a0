#pragma once

#include <filesystem>
#include <string_view>

namespace callrec::app {

// Where the server finds its read-only files (web/, flows/): beside an
// installed binary, <prefix>/bin/callrec-server -> <prefix>/share/callrec/NAME;
// else (a build tree) the source tree's NAME. The flags (--web-dir,
// --guide-flow, --inbound-flow) override both.
std::filesystem::path InstalledFiles(std::string_view name);

}  // namespace callrec::app
