#include "cli/CliCommands.hpp"

#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "aws/ConnectClient.hpp"
#include "aws/UriEncoding.hpp"
#include "core/Text.hpp"
#include "httpclient/HttpClient.hpp"
#include "media/RecordingVerifier.hpp"
#include "s3/S3Client.hpp"

namespace callrec::cli {
namespace {

namespace json = boost::json;
using httpclient::Endpoint;
using httpclient::HttpCall;
using httpclient::HttpReply;
using httpclient::ParseEndpointUrl;
using httpclient::SendHttp;

std::string Env(const char* name, std::string fallback = "") {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

struct Options {
  std::string endpoint_url = Env("CALLREC_ENDPOINT_URL", "http://127.0.0.1:8080");
  std::string instance_id = Env("CALLREC_INSTANCE_ID", "local");
  std::string access_key = Env("AWS_ACCESS_KEY_ID");
  std::string secret_key = Env("AWS_SECRET_ACCESS_KEY");
  std::string session_token = Env("AWS_SESSION_TOKEN");
  std::string region = Env("AWS_REGION", Env("AWS_DEFAULT_REGION", "us-east-1"));
  std::string admin_token = Env("CALLREC_ADMIN_TOKEN");
  bool as_json = false;
  std::string contact_id;
  std::string initial_contact_id;
  std::string track = "ALL";
  std::string agent_id;
  std::string state;
  std::string file;
  bool recordings = false;  // list: recordings rather than contacts
  // callrec verify s3://BUCKET/KEY: where the object store is (the AWS
  // credentials above sign the requests).
  std::string s3_endpoint = Env("CALLREC_S3_ENDPOINT");
  bool s3_path_style = false;
  std::string s3_ca_file;
};

// Prints an API error (AWS shape) and returns the exit code for it.
int ReportError(unsigned status, std::string type, const std::string& message,
                const Options& options, std::ostream& out, std::ostream& err) {
  if (type.empty()) type = "HTTP " + std::to_string(status);
  if (options.as_json) {
    out << json::serialize(json::object{{"Error", type}, {"Message", message}, {"Status", status}})
        << "\n";
  } else {
    err << "error: " << type << ": " << message << "\n";
  }
  return 1;
}

int ReportError(const HttpReply& reply, const Options& options, std::ostream& out,
                std::ostream& err) {
  std::string message = reply.body;
  json::error_code ec;
  json::value body = json::parse(reply.body, ec);
  if (!ec && body.is_object()) {
    if (const auto* m = body.as_object().if_contains("message"); m && m->is_string()) {
      message = std::string(m->as_string());
    }
  }
  return ReportError(reply.status, reply.Header("x-amzn-ErrorType"), message, options, out, err);
}

core::Result<HttpReply, std::string> CallV1(const Options& options, const std::string& target) {
  auto endpoint = ParseEndpointUrl(options.endpoint_url);
  if (!endpoint) return endpoint.error();
  if (options.admin_token.empty()) {
    return std::string("the admin token is needed: --admin-token or CALLREC_ADMIN_TOKEN");
  }
  HttpCall call{"GET",
                target,
                {{"Host", endpoint->host + ":" + endpoint->port},
                 {"Authorization", "Bearer " + options.admin_token}},
                ""};
  return SendHttp(*endpoint, call);
}

// A 200's body that is not what the API answers (a proxy's page, a cut-off
// reply): said so, exit 1.
int Unreadable(std::string_view what, std::ostream& err) {
  err << "error: unreadable answer from the server: " << what << "\n";
  return 1;
}

std::optional<json::object> JsonObjectOf(const std::string& text) {
  json::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.as_object());
}

bool IsString(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string();
}

// A contact as /v1 describes it: a ContactId and a State, and an audit trail
// (if any) of entries with their five strings.
bool ReadableContact(const json::object& contact) {
  if (!IsString(contact, "ContactId") || !IsString(contact, "State")) return false;
  const json::value* trail = contact.if_contains("AuditTrail");
  if (trail == nullptr) return true;
  if (!trail->is_array()) return false;
  for (const json::value& entry : trail->as_array()) {
    if (!entry.is_object()) return false;
    for (std::string_view key : {"Time", "Operation", "Principal", "Result", "Detail"}) {
      if (!IsString(entry.as_object(), key)) return false;
    }
  }
  return true;
}

void PrintContact(const json::object& contact, std::ostream& out) {
  auto text = [&](std::string_view key) -> std::string {
    const json::value* v = contact.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : "-";
  };
  out << text("ContactId") << "  " << text("State");
  if (text("State") == "ENDED") out << " (recording " << text("RecordingState") << ")";
  out << "  track=" << text("Track") << "  agent=" << text("AgentId")
      << "  initial=" << text("InitialContactId") << "\n";
}

int RecordingOperation(const std::string& command, const Options& options, std::ostream& out,
                       std::ostream& err) {
  if (options.access_key.empty() || options.secret_key.empty()) {
    err << "error: credentials are needed: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
           "--access-key and --secret-key\n";
    return 2;
  }
  auto endpoint = ParseEndpointUrl(options.endpoint_url);
  if (!endpoint) {
    err << "error: " << endpoint.error() << "\n";
    return 2;
  }
  // The same client as callrec-lambda: SigV4, retries of throttling within the deadline.
  const aws::ConnectClient client(endpoint.value(),
                                  {options.access_key, options.secret_key, options.session_token},
                                  options.region);
  const auto outcome = client.Call(
      *core::ParseOperation(core::AsciiUpper(command)),  // the subcommands are the operations
      options.instance_id, options.contact_id,
      options.initial_contact_id.empty() ? options.contact_id : options.initial_contact_id,
      core::ParseTrack(options.track).value_or(core::Track::kAll),
      std::chrono::steady_clock::now() + std::chrono::seconds(10));
  if (outcome.error) {
    const aws::ConnectCallError& error = *outcome.error;
    if (error.status == 0) {
      err << "error: " << error.message << "\n";
      return 1;
    }
    return ReportError(static_cast<unsigned>(error.status), error.type, error.message, options, out,
                       err);
  }

  // With the admin token, show the state the operation reached.
  std::optional<json::object> contact;
  if (!options.admin_token.empty()) {
    auto status = CallV1(options, "/v1/contacts/" + aws::UriEncode(options.contact_id, false));
    json::error_code ec;
    if (status && status->status == 200) {
      json::value parsed = json::parse(status->body, ec);
      if (!ec && parsed.is_object()) contact = parsed.as_object();
    }
  }
  if (options.as_json) {
    json::object result{{"Operation", command}, {"ContactId", options.contact_id}, {"Ok", true}};
    if (contact) result["Contact"] = *contact;
    out << json::serialize(result) << "\n";
  } else {
    out << command << " accepted for contact " << options.contact_id << "\n";
    if (contact) PrintContact(*contact, out);
  }
  return 0;
}

int Status(const Options& options, std::ostream& out, std::ostream& err) {
  auto reply = CallV1(options, "/v1/contacts/" + aws::UriEncode(options.contact_id, false));
  if (!reply) {
    err << "error: " << reply.error() << "\n";
    return 1;
  }
  if (reply->status != 200) return ReportError(*reply, options, out, err);
  const std::optional<json::object> contact = JsonObjectOf(reply->body);
  if (!contact || !ReadableContact(*contact)) return Unreadable("not a contact", err);
  if (options.as_json) {
    out << reply->body << "\n";
    return 0;
  }
  PrintContact(*contact, out);
  if (const auto* trail = contact->if_contains("AuditTrail")) {
    for (const json::value& entry : trail->as_array()) {
      const json::object& e = entry.as_object();
      auto text = [&e](std::string_view key) { return std::string_view(e.at(key).as_string()); };
      out << "  " << text("Time") << "  " << text("Operation") << "  by " << text("Principal")
          << "  " << text("Result") << "  " << text("Detail") << "\n";
    }
  }
  return 0;
}

// One recording of GET /v1/recordings: where it lives and how its upload goes.
void PrintRecording(const json::object& recording, std::ostream& out) {
  auto text = [](const json::object& object, std::string_view key) -> std::string {
    const json::value* v = object.if_contains(key);
    if (v && v->is_string()) return std::string(v->as_string());
    if (v && v->is_double()) return std::to_string(static_cast<long long>(v->as_double()));
    if (v && v->is_int64()) return std::to_string(v->as_int64());
    return "-";
  };
  const json::value* complete = recording.if_contains("Complete");
  out << text(recording, "ContactId") << "  agent=" << text(recording, "AgentId")
      << "  started=" << text(recording, "StartTime") << "  " << text(recording, "DurationSeconds")
      << "s  "
      << (complete && complete->is_bool() && complete->as_bool() ? "complete" : "incomplete");
  if (const json::value* storage = recording.if_contains("Storage");
      storage && storage->is_object()) {
    const json::object& s = storage->as_object();
    out << "  " << text(s, "Where") << " (upload " << text(s, "UploadState") << ")";
    if (s.contains("Key")) out << "  s3://" << text(s, "Bucket") << "/" << text(s, "Key");
    if (s.contains("LastError")) out << "  last error: " << text(s, "LastError");
  }
  out << "\n";
}

// Every page of GET /v1/contacts (or /v1/recordings), NextToken after NextToken.
int List(const Options& options, std::ostream& out, std::ostream& err) {
  std::string query = "?MaxResults=1000";
  if (!options.agent_id.empty()) query += "&AgentId=" + aws::UriEncode(options.agent_id, false);
  if (!options.state.empty()) {
    if (options.recordings) {
      err << "error: --state lists contacts, not recordings\n";
      return 2;
    }
    // paused, Paused: PAUSED
    query += "&State=" + aws::UriEncode(core::AsciiUpper(options.state), false);
  }
  const std::string path = options.recordings ? "/v1/recordings" : "/v1/contacts";
  const char* member = options.recordings ? "Recordings" : "Contacts";
  json::array contacts;
  std::string next;
  do {
    const std::string target =
        path + query + (next.empty() ? "" : "&NextToken=" + aws::UriEncode(next, false));
    auto reply = CallV1(options, target);
    if (!reply) {
      err << "error: " << reply.error() << "\n";
      return 1;
    }
    if (reply->status != 200) return ReportError(*reply, options, out, err);
    std::optional<json::object> page = JsonObjectOf(reply->body);
    json::value* listed = page ? page->if_contains(member) : nullptr;
    const std::string what =
        options.recordings ? "not a page of recordings" : "not a page of contacts";
    if (listed == nullptr || !listed->is_array()) return Unreadable(what, err);
    for (json::value& contact : listed->as_array()) {
      const bool readable =
          contact.is_object() && (options.recordings ? IsString(contact.as_object(), "ContactId")
                                                     : ReadableContact(contact.as_object()));
      if (!readable) return Unreadable(what, err);
      contacts.push_back(std::move(contact));
    }
    const json::value* token = page->if_contains("NextToken");
    next = token != nullptr && token->is_string() ? std::string(token->as_string()) : "";
  } while (!next.empty());
  if (options.as_json) {
    out << json::serialize(json::object{{member, std::move(contacts)}}) << "\n";
    return 0;
  }
  if (contacts.empty()) out << (options.recordings ? "no recordings\n" : "no contacts\n");
  for (const json::value& contact : contacts) {
    if (options.recordings) {
      PrintRecording(contact.as_object(), out);
    } else {
      PrintContact(contact.as_object(), out);
    }
  }
  return 0;
}

// A ContactId's recording fetched through the API (the reads are audited
// there) into a private temporary directory: the WAV path, or why not.
core::Result<std::filesystem::path, std::string> FetchRecording(const Options& options,
                                                                const std::filesystem::path& dir) {
  const std::string base = "/v1/recordings/" + aws::UriEncode(options.file, false);
  auto meta = CallV1(options, base);
  if (!meta) return meta.error();
  if (meta->status == 404) return "no such recording: " + options.file;
  if (meta->status != 200) {
    return "the server answered " + std::to_string(meta->status) + " for " + options.file + ": " +
           meta->body;
  }
  auto audio = CallV1(options, base + "/audio?for=download");
  if (!audio) return audio.error();
  if (audio->status != 200) {
    return "the server answered " + std::to_string(audio->status) + " for the audio of " +
           options.file;
  }
  const std::filesystem::path wav = dir / "recording.wav";
  std::ofstream(dir / "recording.json", std::ios::binary) << meta->body;
  std::ofstream(wav, std::ios::binary) << audio->body;
  return wav;
}

// s3://BUCKET/KEY of a recording's WAV (as `callrec list --recordings` shows
// it) fetched with its metadata JSON (KEY with .json) into `dir`; the
// object's own SHA-256 (x-amz-meta-sha256) goes to `object_sha256`.
core::Result<std::filesystem::path, std::string> FetchFromS3(const Options& options,
                                                             const std::filesystem::path& dir,
                                                             std::string& object_sha256) {
  const std::string_view url = std::string_view(options.file).substr(5);
  const std::size_t slash = url.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == url.size() ||
      !url.ends_with(".wav")) {
    return "expected s3://BUCKET/KEY.wav, got " + options.file;
  }
  const std::string bucket(url.substr(0, slash));
  const std::string key(url.substr(slash + 1));
  if (options.access_key.empty() || options.secret_key.empty()) {
    return std::string(
        "credentials are needed to read S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "--access-key and --secret-key");
  }
  s3::S3Settings settings;
  settings.endpoint = options.s3_endpoint;
  settings.region = options.region;
  settings.path_style = options.s3_path_style;
  settings.ca_file = options.s3_ca_file;
  settings.credentials = {options.access_key, options.secret_key, options.session_token};
  try {
    const s3::S3Client client(settings);
    const auto head = client.HeadObject(bucket, key);
    if (!head) return "cannot read " + options.file + ": " + head.error().Describe();
    if (const auto it = head->metadata.find("sha256"); it != head->metadata.end()) {
      object_sha256 = it->second;
    }
    const std::string json_key = key.substr(0, key.size() - 4) + ".json";
    const auto meta = client.GetObject(bucket, json_key);
    if (!meta) return "the metadata object " + json_key + ": " + meta.error().Describe();
    const auto audio = client.GetObject(bucket, key);
    if (!audio) return "cannot read " + options.file + ": " + audio.error().Describe();
    const std::filesystem::path wav = dir / "recording.wav";
    std::ofstream(dir / "recording.json", std::ios::binary) << meta.value();
    std::ofstream(wav, std::ios::binary) << audio.value();
    return wav;
  } catch (const std::invalid_argument& error) {
    return std::string("--s3-endpoint: ") + error.what();
  }
}

// The SHA-256 the object carries against the one its metadata JSON records.
void CheckObjectSha256(const std::filesystem::path& dir, const std::string& object_sha256,
                       media::VerifyReport& report) {
  std::ifstream in(dir / "recording.json", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::optional<json::object> meta = JsonObjectOf(text);
  const std::string recorded =
      meta && IsString(*meta, "Sha256") ? std::string(meta->at("Sha256").as_string()) : "";
  if (object_sha256.empty()) {
    report.problems.push_back("the S3 object carries no x-amz-meta-sha256");
  } else if (object_sha256 != recorded) {
    report.problems.push_back("the S3 object's x-amz-meta-sha256 " + object_sha256 +
                              " is not the metadata's " + recorded);
  } else {
    report.passed.push_back("the S3 object's x-amz-meta-sha256 matches the metadata");
  }
}

int Verify(const Options& options, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  std::filesystem::path wav = options.file;
  std::optional<std::filesystem::path> fetched_dir;
  const bool from_s3 = options.file.starts_with("s3://");
  std::string object_sha256;
  if (from_s3) {
    char pattern[] = "/tmp/callrec-verify-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      err << "error: cannot make a temporary directory\n";
      return 2;
    }
    fetched_dir = pattern;
    auto fetched = FetchFromS3(options, *fetched_dir, object_sha256);
    if (!fetched) {
      std::filesystem::remove_all(*fetched_dir, ec);
      err << "error: " << fetched.error() << "\n";
      return 2;
    }
    wav = fetched.value();
  } else if (!std::filesystem::exists(wav, ec)) {
    // Not a file: a ContactId, verified from what the server serves.
    if (options.file.find('/') != std::string::npos || options.file.ends_with(".wav")) {
      err << "error: no such recording: " << options.file << " (no such file)\n";
      return 2;
    }
    if (options.admin_token.empty()) {
      err << "error: no such file: " << options.file
          << "; to verify a recording by ContactId through the API, give --admin-token or "
             "CALLREC_ADMIN_TOKEN\n";
      return 2;
    }
    char pattern[] = "/tmp/callrec-verify-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      err << "error: cannot make a temporary directory\n";
      return 2;
    }
    fetched_dir = pattern;
    auto fetched = FetchRecording(options, *fetched_dir);
    if (!fetched) {
      std::filesystem::remove_all(*fetched_dir, ec);
      err << "error: " << fetched.error() << "\n";
      return 2;
    }
    wav = fetched.value();
  }
  media::VerifyReport report = media::VerifyRecording(wav);
  if (from_s3) CheckObjectSha256(*fetched_dir, object_sha256, report);
  if (fetched_dir) std::filesystem::remove_all(*fetched_dir, ec);
  if (options.as_json) {
    json::array passed(report.passed.begin(), report.passed.end());
    json::array problems(report.problems.begin(), report.problems.end());
    json::array notes(report.notes.begin(), report.notes.end());
    out << json::serialize(json::object{{"File", options.file},
                                        {"Ok", report.ok()},
                                        {"Passed", passed},
                                        {"Problems", problems},
                                        {"Notes", notes}})
        << "\n";
  } else {
    for (const auto& line : report.passed) out << "ok        " << line << "\n";
    for (const auto& line : report.problems) out << "MISMATCH  " << line << "\n";
    for (const auto& line : report.notes) out << "note      " << line << "\n";
    out << (report.ok() ? "verified: " : "NOT verified: ") << options.file << "\n";
  }
  return report.ok() ? 0 : 1;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Options options;
  CLI::App app{"callrec: control and inspect call recordings on a callrec-server"};
  app.require_subcommand(1);
  // Global options (--json, --endpoint-url, ...) may come after the command too,
  // as docs/running.md writes `callrec list --state PAUSED --json`.
  app.fallthrough();
  app.add_option("--endpoint-url", options.endpoint_url, "Server URL (env CALLREC_ENDPOINT_URL)")
      ->capture_default_str();
  app.add_option("--instance-id", options.instance_id, "Instance id (env CALLREC_INSTANCE_ID)")
      ->capture_default_str();
  app.add_option("--access-key", options.access_key, "AWS access key id (env AWS_ACCESS_KEY_ID)");
  app.add_option("--secret-key", options.secret_key,
                 "AWS secret access key (env AWS_SECRET_ACCESS_KEY)");
  app.add_option("--region", options.region, "Signing region (env AWS_REGION)")
      ->capture_default_str();
  app.add_option("--admin-token", options.admin_token,
                 "Admin bearer token for status/list (env CALLREC_ADMIN_TOKEN)");
  app.add_flag("--json", options.as_json, "Print JSON for scripts");

  for (const char* name : {"start", "stop", "pause", "resume"}) {
    CLI::App* sub = app.add_subcommand(name, std::string(name) + " recording a contact");
    sub->add_option("contact-id", options.contact_id, "ContactId")->required();
    sub->add_option("--initial-contact-id", options.initial_contact_id,
                    "InitialContactId (default: the ContactId)");
    if (std::string(name) == "start") {
      sub->add_option("--track", options.track, "VoiceRecordingTrack")
          ->check(CLI::IsMember({"ALL", "TO_AGENT", "FROM_AGENT"}))
          ->capture_default_str();
    }
  }
  CLI::App* status = app.add_subcommand("status", "a contact's state and audit trail");
  status->add_option("contact-id", options.contact_id, "ContactId")->required();
  CLI::App* list = app.add_subcommand("list", "contacts, filtered");
  list->add_option("--agent-id", options.agent_id, "only this agent's contacts");
  list->add_option("--state", options.state, "only contacts in this state");
  list->add_flag("--recordings", options.recordings,
                 "recordings (where each lives, its upload state) rather than contacts");

  CLI::App* verify = app.add_subcommand("verify", "check a recording against its metadata");
  verify
      ->add_option("recording", options.file,
                   "the recording's .wav file, a ContactId (fetched through the API), or "
                   "s3://BUCKET/KEY.wav (fetched from S3 with the AWS credentials)")
      ->required();
  verify->add_option("--s3-endpoint", options.s3_endpoint,
                     "S3 endpoint for s3:// (env CALLREC_S3_ENDPOINT; empty: AWS in --region)");
  verify->add_flag("--s3-path-style", options.s3_path_style,
                   "path-style S3 addressing (Ceph RGW, MinIO)");
  verify->add_option("--s3-ca-file", options.s3_ca_file, "PEM bundle for an https S3 endpoint");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error, out, err);
    return code == 0 ? 0 : 2;
  }
  const std::string command = app.get_subcommands().front()->get_name();
  if (command == "status") return Status(options, out, err);
  if (command == "list") return List(options, out, err);
  if (command == "verify") return Verify(options, out, err);
  return RecordingOperation(command, options, out, err);
}

}  // namespace callrec::cli
