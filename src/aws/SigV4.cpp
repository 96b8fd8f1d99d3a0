#include "aws/SigV4.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "aws/Crypto.hpp"
#include "aws/UriEncoding.hpp"
#include "core/Text.hpp"

namespace callrec::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// How long after its X-Amz-Date a signature may come again (see Verify).
constexpr std::chrono::seconds kReplayGrace{5};

// RFC 3986 dot-segment removal, as botocore normalises before signing.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  if (path.front() == '/') start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (segment != "." && !(segment.empty() && end != path.size())) {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty()) out = "/";
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      params.emplace_back(UriEncode(PercentDecode(key), false),
                          UriEncode(PercentDecode(value), false));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

// Header names are ASCII tokens; `lower` is already lowercase. No copy: this runs for
// every header of the request once per signed header.
bool EqualsLowercase(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != lower[i]) return false;
  }
  return true;
}

// Appends the value with leading and trailing whitespace removed and inner runs of it
// folded to one space, a word at a time.
void AppendTrimmed(std::string& out, std::string_view value) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  // Most values need nothing done: no space at either end, none but single spaces inside.
  bool plain = value.empty() || (!space(value.front()) && !space(value.back()));
  for (std::size_t i = 0; plain && i < value.size(); ++i) {
    plain = !space(value[i]) || (value[i] == ' ' && !space(value[i + 1]));
  }
  if (plain) {
    out.append(value);
    return;
  }
  bool first = true;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && space(value[i])) ++i;
    if (i == value.size()) break;
    std::size_t end = i;
    while (end < value.size() && !space(value[end])) ++end;
    if (!first) out += ' ';
    out.append(value.data() + i, end - i);
    first = false;
    i = end;
  }
}

// Appends the values of every header called `name` (lowercase), trimmed and joined
// with commas; false if there is none.
bool AppendHeaderValue(std::string& out, const SignableRequest& request, std::string_view name) {
  bool found = false;
  for (const auto& [key, value] : request.headers) {
    if (!EqualsLowercase(key, name)) continue;
    if (found) out += ',';
    AppendTrimmed(out, value);
    found = true;
  }
  return found;
}

std::optional<std::string> HeaderValue(const SignableRequest& request, std::string_view name) {
  std::string value;
  if (!AppendHeaderValue(value, request, name)) return std::nullopt;
  return value;
}

std::optional<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view text) {
  // YYYYMMDDTHHMMSSZ
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, value);
    if (ec != std::errc() || ptr != text.data() + pos + len) return std::nullopt;
    return value;
  };
  auto y = number(0, 4), mo = number(4, 2), d = number(6, 2);
  auto h = number(9, 2), mi = number(11, 2), s = number(13, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2262): a date
  // outside is malformed, not a time to overflow (found by fuzz/http_request).
  if (*y < 1970 || *y > 2200) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month(*mo),
                                  std::chrono::day(*d)};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(*h) + std::chrono::minutes(*mi) +
         std::chrono::seconds(*s);
}

// The parts of `text` between `separator`s, empty ones included.
std::vector<std::string_view> SplitList(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Views into the Authorization header's value, which must outlive it.
struct AuthorizationHeader {
  std::string_view access_key_id;
  std::string_view date;
  std::string_view region;
  std::string_view service;
  std::vector<std::string_view> signed_headers;
  std::string_view signature;
};

core::Result<AuthorizationHeader, AwsError> ParseAuthorization(std::string_view value) {
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return AwsError::IncompleteSignature("Authorization header must use " +
                                         std::string(kAlgorithm));
  }
  AuthorizationHeader out;
  bool have_credential = false;
  bool have_signed = false;
  bool have_signature = false;
  value.remove_prefix(kAlgorithm.size());
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view part = core::Trim(value.substr(0, comma));
    value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    if (part.starts_with("Credential=")) {
      const auto fields = SplitList(part.substr(11), '/');
      if (fields.size() != 5 || fields[0].empty() || fields[4] != "aws4_request") {
        return AwsError::IncompleteSignature(
            "Credential must be <access key>/<date>/<region>/<service>/aws4_request");
      }
      out.access_key_id = fields[0];
      out.date = fields[1];
      out.region = fields[2];
      out.service = fields[3];
      have_credential = true;
    } else if (part.starts_with("SignedHeaders=")) {
      out.signed_headers = SplitList(part.substr(14), ';');
      have_signed = true;
    } else if (part.starts_with("Signature=")) {
      out.signature = part.substr(10);
      have_signature = true;
    }
  }
  if (!have_credential || !have_signed || !have_signature) {
    return AwsError::IncompleteSignature(
        "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'");
  }
  return out;
}

// The canonical request with the payload hash given apart, so the verifier need not
// copy the request to set it.
template <typename Names>
std::string CanonicalRequest(const SignableRequest& request, const Names& signed_headers,
                             std::string_view payload_hash,
                             PathRule path_rule = PathRule::kNormalizeAndEncode) {
  std::string out;
  out.reserve(512);
  out += request.method;
  out += '\n';
  if (path_rule == PathRule::kAsSent) {
    out += request.path.empty() ? "/" : request.path;
  } else {
    out += UriEncode(NormalizePath(request.path), true);
  }
  out += '\n';
  out += CanonicalQuery(request.query);
  out += '\n';
  for (std::string_view name : signed_headers) {
    out += name;
    out += ':';
    AppendHeaderValue(out, request, name);
    out += '\n';
  }
  out += '\n';
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i) out += ';';
    out += signed_headers[i];
  }
  out += '\n';
  out += payload_hash;
  return out;
}

}  // namespace

std::string CanonicalRequest(const SignableRequest& request,
                             const std::vector<std::string>& signed_headers, PathRule path_rule) {
  return CanonicalRequest(request, signed_headers, request.payload_hash, path_rule);
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

Digest SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service) {
  std::string seed = "AWS4";
  seed += secret;
  Digest k_date = HmacSha256(seed, date);
  Digest k_region = HmacSha256(AsView(k_date), region);
  Digest k_service = HmacSha256(AsView(k_region), service);
  return HmacSha256(AsView(k_service), "aws4_request");
}

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  auto days = std::chrono::floor<std::chrono::days>(seconds);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{seconds - days};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()));
  return buffer;
}

SigV4Signer::SigV4Signer(Credentials credentials, std::string region, std::string service,
                         bool content_sha256_header, PathRule path_rule)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)),
      content_sha256_header_(content_sha256_header),
      path_rule_(path_rule) {}

void SigV4Signer::Sign(SignableRequest& request, std::string_view body,
                       std::chrono::system_clock::time_point now) const {
  SignPayloadHash(request, Sha256Hex(body), now);
}

void SigV4Signer::SignPayloadHash(SignableRequest& request, std::string_view payload_hash,
                                  std::chrono::system_clock::time_point now) const {
  const std::string amz_date = FormatAmzDate(now);
  const std::string date = amz_date.substr(0, 8);
  request.payload_hash = std::string(payload_hash);
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (content_sha256_header_) {
    request.headers.emplace_back("X-Amz-Content-Sha256", request.payload_hash);
  }
  if (!credentials_.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  std::vector<std::string> names;
  for (const auto& header : request.headers) {
    std::string name = core::AsciiLower(header.first);
    if (name == "authorization") continue;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  const std::string scope = date + "/" + region_ + "/" + service_ + "/aws4_request";
  const std::string to_sign =
      StringToSign(amz_date, scope, CanonicalRequest(request, names, path_rule_));
  const std::string signature = Hex(KeyFor(date)->Mac(to_sign));
  std::string signed_list;
  for (const std::string& name : names) {
    if (!signed_list.empty()) signed_list += ';';
    signed_list += name;
  }
  request.headers.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials_.access_key_id + "/" +
                           scope + ", SignedHeaders=" + signed_list + ", Signature=" + signature);
}

std::shared_ptr<const HmacSha256Key> SigV4Signer::KeyFor(const std::string& date) const {
  std::lock_guard lock(key_cache_->mutex);
  if (!key_cache_->key || key_cache_->date != date) {
    key_cache_->key = std::make_shared<const HmacSha256Key>(
        AsView(SigningKey(credentials_.secret_access_key, date, region_, service_)));
    key_cache_->date = date;
  }
  return key_cache_->key;
}

SigV4Verifier::SigV4Verifier(std::map<std::string, std::string, std::less<>> keys,
                             std::string service, std::chrono::seconds max_skew,
                             ReplayGuard* replay_guard)
    : keys_(std::move(keys)),
      service_(std::move(service)),
      max_skew_(max_skew),
      replay_guard_(replay_guard) {}

std::shared_ptr<const HmacSha256Key> SigV4Verifier::CachedSigningKey(
    const std::string& access_key_id, const std::string& secret, std::string_view date,
    std::string_view region) const {
  std::string cache_key;
  cache_key.reserve(access_key_id.size() + date.size() + region.size() + 2);
  cache_key.append(access_key_id).append(1, '/').append(date).append(1, '/').append(region);
  std::lock_guard lock(cache_mutex_);
  if (auto it = signing_keys_.find(cache_key); it != signing_keys_.end()) return it->second;
  // Dates and regions only grow in number slowly; a bounded cache stays small.
  if (signing_keys_.size() > 1024) signing_keys_.clear();
  auto key =
      std::make_shared<const HmacSha256Key>(AsView(SigningKey(secret, date, region, service_)));
  signing_keys_.emplace(std::move(cache_key), key);
  return key;
}

core::Result<Principal, AwsError> SigV4Verifier::Verify(
    const SignableRequest& request, std::string_view body,
    std::chrono::system_clock::time_point now) const {
  std::optional<std::string> authorization = HeaderValue(request, "authorization");
  if (!authorization) return AwsError::MissingAuthenticationToken("Missing Authentication Token");
  auto parsed = ParseAuthorization(*authorization);
  if (!parsed) return parsed.error();
  const AuthorizationHeader& auth = parsed.value();

  if (auth.service != service_) {
    return AwsError::InvalidSignature("Credential should be scoped to correct service: '" +
                                      service_ + "'.");
  }
  const auto& names = auth.signed_headers;
  if (!std::is_sorted(names.begin(), names.end()) ||
      std::find(names.begin(), names.end(), "host") == names.end()) {
    return AwsError::InvalidSignature(
        "SignedHeaders must be sorted, lowercase and include 'host'.");
  }
  std::optional<std::string> amz_date = HeaderValue(request, "x-amz-date");
  if (!amz_date || std::find(names.begin(), names.end(), "x-amz-date") == names.end()) {
    return AwsError::IncompleteSignature("Requests must carry a signed X-Amz-Date header.");
  }
  auto when = ParseAmzDate(*amz_date);
  if (!when)
    return AwsError::IncompleteSignature("X-Amz-Date is not in the form YYYYMMDDTHHMMSSZ.");
  if (amz_date->substr(0, 8) != auth.date) {
    return AwsError::InvalidSignature("Credential date does not match X-Amz-Date.");
  }
  const auto skew = *when > now ? *when - now : now - *when;
  if (skew > max_skew_) {
    return AwsError::InvalidSignature(
        "Signature expired: " + *amz_date + " is more than " + std::to_string(max_skew_.count()) +
        " seconds from the server's time " + FormatAmzDate(now) + ".");
  }
  auto key = keys_.find(auth.access_key_id);
  if (key == keys_.end()) {
    return AwsError::UnrecognizedClient("The security token included in the request is invalid.");
  }

  const std::string payload_hash = Sha256Hex(body);
  if (auto declared = HeaderValue(request, "x-amz-content-sha256");
      declared && *declared != "UNSIGNED-PAYLOAD" && *declared != payload_hash) {
    return AwsError::InvalidSignature(
        "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  std::string scope;
  scope.append(auth.date).append(1, '/').append(auth.region).append(1, '/').append(auth.service);
  scope += "/aws4_request";
  const std::string to_sign =
      StringToSign(*amz_date, scope, CanonicalRequest(request, names, payload_hash));
  const std::string expected =
      Hex(CachedSigningKey(key->first, key->second, auth.date, auth.region)->Mac(to_sign));
  if (!ConstantTimeEqual(expected, auth.signature)) {
    return AwsError::InvalidSignature(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.");
  }
  // Only a genuine signature is remembered: nobody can fill the guard without
  // the secret.
  Principal principal{std::string(auth.access_key_id)};
  if (replay_guard_ != nullptr) {
    switch (replay_guard_->Consume(expected, *when + max_skew_, now)) {
      case ReplayGuard::Verdict::kFresh:
        break;
      case ReplayGuard::Verdict::kReplayed:
        // X-Amz-Date has 1-second resolution and botocore signs no unique
        // header: an SDK that sends PAUSE, RESUME, PAUSE within a second sends
        // the first signature again. Such a repeat is expected while the date
        // is fresh; from kReplayGrace on, the same signature is a replay.
        principal.replayed = now >= *when + kReplayGrace;
        break;
      case ReplayGuard::Verdict::kExpired:
        return AwsError::InvalidSignature("Signature expired: " + *amz_date + " is more than " +
                                          std::to_string(max_skew_.count()) +
                                          " seconds from the server's time " + FormatAmzDate(now) +
                                          ".");
      case ReplayGuard::Verdict::kFull:
        return AwsError::Throttling(
            "Too many signed requests within the signature validity window; retry later.");
    }
  }
  return principal;
}

}  // namespace callrec::aws
