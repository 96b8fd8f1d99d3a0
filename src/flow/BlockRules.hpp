#pragma once

#include <optional>
#include <string_view>

#include "flow/Flow.hpp"

namespace callrec::flow {

// The per-type half of loading a flow (Flow.cpp does the structure): which
// blocks and operators exist, which the runtime implements, and what each
// implemented block's Parameters must hold.

// kOther for a documented block the runtime does not run; nullopt when the
// Type is not an action of the Amazon Connect Flow language at all.
std::optional<BlockType> ClassifyBlock(std::string_view type);

std::optional<Operator> ParseOperator(std::string_view name);

// Checks `block`'s Parameters for its type; for a guide also that the block
// and its view are supported. Every "$." reference in the parameters must parse.
std::optional<FlowError> CheckBlock(const Block& block, FlowKind kind);

}  // namespace callrec::flow
