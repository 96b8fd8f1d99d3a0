#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/Http.hpp"
#include "core/Result.hpp"

namespace callrec::api {

// A page of a list (GET /v1/contacts, GET /v1/recordings): MaxResults (1–1000,
// default 100) entries after the id a NextToken names. The token is opaque to
// clients (hex of the list's tag and the last id of the previous page); one of
// another list, or anything else, is refused.
struct PageRequest {
  std::size_t limit = 100;
  std::string after;  // empty: from the start
};

inline constexpr std::size_t kDefaultMaxResults = 100;
inline constexpr std::size_t kMaxMaxResults = 1000;

// The page `query` asks for; else the 400 to answer.
core::Result<PageRequest, HttpResponse> ParsePageRequest(std::string_view query,
                                                         std::string_view tag);
// The NextToken of a page whose last entry is `last_id`.
std::string NextTokenAfter(std::string_view tag, std::string_view last_id);

}  // namespace callrec::api
