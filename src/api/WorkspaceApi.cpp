#include "api/WorkspaceApi.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <sstream>

#include "api/ControlErrors.hpp"
#include "aws/UriEncoding.hpp"

namespace callrec::api {
namespace {

namespace json = boost::json;
constexpr std::string_view kRecordings = "/v1/recordings";
constexpr std::string_view kContacts = "/v1/contacts/";
constexpr std::uintmax_t kMaxAudioBytes = 512ull << 20;

std::optional<json::object> ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value value = json::parse(text.str(), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string StringMember(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

bool ValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (char c : id) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// "bytes=FIRST-LAST" / "bytes=FIRST-" / "bytes=-SUFFIX" against a size.
std::optional<std::pair<std::uintmax_t, std::uintmax_t>> ByteRange(std::string_view header,
                                                                   std::uintmax_t size) {
  if (header.substr(0, 6) != "bytes=" || size == 0) return std::nullopt;
  header.remove_prefix(6);
  const std::size_t dash = header.find('-');
  if (dash == std::string_view::npos || header.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  auto number = [](std::string_view text) -> std::optional<std::uintmax_t> {
    std::uintmax_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  };
  const std::string_view first_text = header.substr(0, dash);
  const std::string_view last_text = header.substr(dash + 1);
  if (first_text.empty()) {
    auto suffix = number(last_text);
    if (!suffix || *suffix == 0) return std::nullopt;
    return std::pair{size - std::min(*suffix, size), size - 1};
  }
  auto first = number(first_text);
  if (!first || *first >= size) return std::nullopt;
  std::uintmax_t last = size - 1;
  if (!last_text.empty()) {
    auto parsed = number(last_text);
    if (!parsed || *parsed < *first) return std::nullopt;
    last = std::min(*parsed, size - 1);
  }
  return std::pair{*first, last};
}

}  // namespace

WorkspaceApi::WorkspaceApi(control::ContactService& contacts, media::Recorder& recorder,
                           AgentDirectory& agents, EventHub& events,
                           std::filesystem::path recordings_dir)
    : contacts_(contacts),
      recorder_(recorder),
      agents_(agents),
      events_(events),
      recordings_dir_(std::move(recordings_dir)) {}

bool WorkspaceApi::Route(const Caller& caller, HttpRequest& request, std::string_view path,
                         std::string_view query, Respond& respond, OpenStream& open_stream) {
  const bool get = request.method() == http::verb::get;
  const bool post = request.method() == http::verb::post;
  if (path == "/v1/agents") {
    if (!post) {
      respond(MethodNotAllowed(request));
    } else if (!caller.admin) {
      respond(Error(403, "AccessDeniedException", "Only the admin issues agent tokens."));
    } else {
      IssueToken(request, std::move(respond));
    }
    return true;
  }
  if (path == "/v1/me") {
    json::object me;
    if (caller.admin) {
      me["Admin"] = true;
    } else {
      me["AgentId"] = caller.agent_id;
    }
    respond(get ? JsonResponse(http::status::ok, json::serialize(me)) : MethodNotAllowed(request));
    return true;
  }
  if (path == "/v1/events") {
    if (!get || !open_stream) {
      respond(MethodNotAllowed(request));
      return true;
    }
    HttpResponse head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-store");
    head.set("X-Accel-Buffering", "no");
    open_stream(std::move(head), [this, agent = caller.admin ? std::string() : caller.agent_id](
                                     std::shared_ptr<StreamSink> sink) {
      events_.Subscribe(std::move(sink), agent);
    });
    return true;
  }
  if (path == kRecordings) {
    if (get) {
      ListRecordings(caller, query, std::move(respond));
    } else {
      respond(MethodNotAllowed(request));
    }
    return true;
  }
  if (path.substr(0, kRecordings.size() + 1) == std::string(kRecordings) + "/") {
    std::string_view rest = path.substr(kRecordings.size() + 1);
    const std::size_t slash = rest.find('/');
    const std::string contact_id = aws::PercentDecode(rest.substr(0, slash));
    const std::string_view what =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!get) {
      respond(MethodNotAllowed(request));
    } else if (what.empty() || what == "audio") {
      Recording(caller, contact_id, what == "audio", request, std::move(respond));
    } else {
      return false;
    }
    return true;
  }
  if (path.substr(0, kContacts.size()) == kContacts) {
    std::string_view rest = path.substr(kContacts.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return false;
    const std::string_view what = rest.substr(slash + 1);
    if (what != "guide" && what != "guide/actions") return false;
    const bool act = what == "guide/actions";
    if ((act && !post) || (!act && !get)) {
      respond(MethodNotAllowed(request));
      return true;
    }
    const std::string contact_id = aws::PercentDecode(rest.substr(0, slash));
    auto found = contacts_.Find(contact_id);
    const std::optional<core::Contact> contact =
        found ? found.value() : std::optional<core::Contact>();
    if (!found) {
      respond(ErrorResponse(ToAwsError(found.error())));
    } else if (!contact) {
      respond(ErrorResponse(
          aws::AwsError::ResourceNotFound("Contact " + contact_id + " was not found.")));
    } else if (!caller.Sees(contact->agent_id)) {
      respond(
          Error(403, "AccessDeniedException", "Contact " + contact_id + " is not one of yours."));
    } else if (guide_ == nullptr) {
      respond(Error(503, "ServiceUnavailableException", "No guide flow is loaded."));
    } else {
      guide_->Guide(caller, *contact, request, act, std::move(respond));
    }
    return true;
  }
  return false;
}

void WorkspaceApi::IssueToken(const HttpRequest& request, Respond respond) {
  json::error_code ec;
  json::value body = json::parse(request.body(), ec);
  if (ec || !body.is_object() || !body.as_object().contains("AgentId") ||
      !body.at("AgentId").is_string()) {
    return respond(BadRequest("Body must be {\"AgentId\": \"<agent id>\"}."));
  }
  const std::string agent_id(body.at("AgentId").as_string());
  if (!ValidAgentId(agent_id)) {
    return respond(BadRequest("AgentId must be 1 to 256 visible characters."));
  }
  const std::string token = agents_.Issue(agent_id);
  respond(JsonResponse(http::status::created,
                       json::serialize(json::object{{"AgentId", agent_id}, {"Token", token}})));
}

void WorkspaceApi::ListRecordings(const Caller& caller, std::string_view query, Respond respond) {
  const auto agent = QueryParam(query, "AgentId");
  const auto contact = QueryParam(query, "ContactId");
  const auto initial = QueryParam(query, "InitialContactId");
  const auto complete = QueryParam(query, "Complete");
  json::array list;
  std::error_code ec;
  if (std::filesystem::exists(recordings_dir_, ec)) {
    for (auto it = std::filesystem::recursive_directory_iterator(recordings_dir_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().extension() != ".json") continue;
      auto meta = ReadJsonFile(it->path());
      if (!meta) continue;
      const std::string agent_id = StringMember(*meta, "AgentId");
      if (!caller.Sees(agent_id)) continue;
      if (agent && *agent != agent_id) continue;
      if (contact && *contact != StringMember(*meta, "ContactId")) continue;
      if (initial && *initial != StringMember(*meta, "InitialContactId")) continue;
      const json::value* done = meta->if_contains("Complete");
      const bool is_complete = done != nullptr && done->is_bool() && done->as_bool();
      if (complete && (*complete == "true") != is_complete) continue;
      json::object row;
      for (std::string_view key : {"ContactId", "InitialContactId", "AgentId", "StartTime",
                                   "EndTime", "DurationSeconds", "Track", "Pauses"}) {
        if (const json::value* value = meta->if_contains(key)) row[key] = *value;
      }
      row["Complete"] = is_complete;
      list.push_back(std::move(row));
    }
  }
  std::sort(list.begin(), list.end(), [](const json::value& a, const json::value& b) {
    return StringMember(a.as_object(), "StartTime") > StringMember(b.as_object(), "StartTime");
  });
  respond(JsonResponse(http::status::ok, json::serialize(json::object{{"Recordings", list}})));
}

std::optional<std::filesystem::path> WorkspaceApi::RecordingPath(
    const std::string& contact_id) const {
  if (auto view = recorder_.View(contact_id); view && view.value() && view.value()->path) {
    return *view.value()->path;
  }
  // Recordings of earlier runs, and those whose view the store could not read
  // now: found by name under the recordings directory.
  std::error_code ec;
  const std::string wanted = contact_id + ".wav";
  for (auto it = std::filesystem::recursive_directory_iterator(recordings_dir_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() == wanted) return it->path();
  }
  return std::nullopt;
}

void WorkspaceApi::Recording(const Caller& caller, const std::string& contact_id, bool audio,
                             const HttpRequest& request, Respond respond) {
  auto not_found = [&] {
    respond(ErrorResponse(
        aws::AwsError::ResourceNotFound("No recording for contact " + contact_id + ".")));
  };
  if (contact_id.empty() || contact_id.find('/') != std::string::npos ||
      contact_id.find("..") != std::string::npos) {
    return not_found();
  }
  const auto wav = RecordingPath(contact_id);
  if (!wav) return not_found();
  std::filesystem::path json_path = *wav;
  json_path.replace_extension(".json");
  const auto meta = ReadJsonFile(json_path);
  if (!meta) return not_found();
  if (!caller.Sees(StringMember(*meta, "AgentId"))) {
    return respond(Error(403, "AccessDeniedException",
                         "The recording of " + contact_id + " is not one of yours."));
  }
  if (!audio) return respond(JsonResponse(http::status::ok, json::serialize(*meta)));

  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(*wav, ec);
  if (ec) return not_found();
  if (size > kMaxAudioBytes) {
    return respond(Error(413, "RequestEntityTooLargeException",
                         "The recording is larger than this server sends in one answer."));
  }
  std::uintmax_t first = 0, last = size == 0 ? 0 : size - 1;
  bool partial = false;
  if (const auto range = request[http::field::range]; !range.empty()) {
    auto parsed = ByteRange(range, size);
    if (!parsed) {
      HttpResponse refused = Error(416, "RangeNotSatisfiableException", "Bad Range.");
      refused.set(http::field::content_range, "bytes */" + std::to_string(size));
      return respond(std::move(refused));
    }
    std::tie(first, last) = *parsed;
    partial = true;
  }
  std::ifstream in(*wav, std::ios::binary);
  std::string bytes(size == 0 ? 0 : last - first + 1, '\0');
  in.seekg(static_cast<std::streamoff>(first));
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  HttpResponse response{partial ? http::status::partial_content : http::status::ok, 11};
  response.set(http::field::content_type, "audio/wav");
  response.set(http::field::accept_ranges, "bytes");
  response.set(http::field::content_disposition,
               "attachment; filename=\"" + wav->filename().string() + "\"");
  if (partial) {
    response.set(http::field::content_range, "bytes " + std::to_string(first) + "-" +
                                                 std::to_string(first + bytes.size() - 1) + "/" +
                                                 std::to_string(size));
  }
  response.body() = std::move(bytes);
  respond(std::move(response));
}

}  // namespace callrec::api
