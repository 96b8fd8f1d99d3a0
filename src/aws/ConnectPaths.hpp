#pragma once

#include <optional>
#include <string_view>

#include "core/RecordingState.hpp"

namespace callrec::aws {

// Amazon Connect's REST paths of the four recording operations (API 2017-08-08),
// shared by the server that answers them and the clients that call them.
std::string_view ConnectPath(core::Operation operation);
std::optional<core::Operation> OperationAtConnectPath(std::string_view path);

}  // namespace callrec::aws
