#include "api/Paging.hpp"

#include <charconv>
#include <optional>

#include "aws/Crypto.hpp"

namespace callrec::api {
namespace {

std::optional<std::string> IdAfterToken(std::string_view token, std::string_view tag) {
  if (token.size() % 2 != 0 || token.size() > 2 * (tag.size() + 1024)) return std::nullopt;
  std::string bytes;
  for (std::size_t i = 0; i < token.size(); i += 2) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(token.data() + i, token.data() + i + 2, value, 16);
    if (ec != std::errc() || end != token.data() + i + 2) return std::nullopt;
    bytes += static_cast<char>(value);
  }
  if (bytes.size() <= tag.size() || bytes.compare(0, tag.size(), tag) != 0) return std::nullopt;
  return bytes.substr(tag.size());
}

}  // namespace

core::Result<PageRequest, HttpResponse> ParsePageRequest(std::string_view query,
                                                         std::string_view tag) {
  PageRequest page;
  page.limit = kDefaultMaxResults;
  if (auto max = QueryParam(query, "MaxResults")) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(max->data(), max->data() + max->size(), n);
    if (ec != std::errc() || end != max->data() + max->size() || n < 1 || n > kMaxMaxResults) {
      return Error(
          400, "InvalidParameterException",
          "MaxResults must be a whole number from 1 to " + std::to_string(kMaxMaxResults) + ".");
    }
    page.limit = n;
  }
  if (auto token = QueryParam(query, "NextToken")) {
    auto after = IdAfterToken(*token, tag);
    if (!after) {
      return Error(400, "InvalidParameterException", "NextToken is not one this server gave out.");
    }
    page.after = std::move(*after);
  }
  return page;
}

std::string NextTokenAfter(std::string_view tag, std::string_view last_id) {
  return aws::Hex(std::string(tag) + std::string(last_id));
}

}  // namespace callrec::api
