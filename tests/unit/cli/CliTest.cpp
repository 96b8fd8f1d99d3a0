#include "cli/CliCommands.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../httpclient/LoopbackHttp.hpp"

namespace callrec::cli {
namespace {

using testing::LoopbackHttp;
using testing::Reply;
using testing::SeenRequest;
namespace json = boost::json;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

// The CLI as a user runs it, with only the environment the test gives.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                             "AWS_REGION", "AWS_DEFAULT_REGION", "CALLREC_ADMIN_TOKEN",
                             "CALLREC_ENDPOINT_URL", "CALLREC_INSTANCE_ID"}) {
      ::unsetenv(name);
    }
  }

  static CliRun Cli(std::vector<std::string> args) {
    args.insert(args.begin(), "callrec");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    std::ostringstream out, err;
    CliRun run;
    run.code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
    run.out = out.str();
    run.err = err.str();
    return run;
  }

  static std::vector<std::string> Signed(const LoopbackHttp& server,
                                         std::vector<std::string> args) {
    args.insert(args.end(), {"--endpoint-url", server.url(), "--access-key", "AKIDTEST",
                             "--secret-key", "secret"});
    return args;
  }
};

std::string ContactJson(const std::string& id, const std::string& state) {
  return json::serialize(
      json::object{{"ContactId", id},
                   {"State", state},
                   {"Track", "ALL"},
                   {"AgentId", "alice"},
                   {"InitialContactId", id},
                   {"AuditTrail", json::array{json::object{{"Time", "2026-12-07T10:00:00Z"},
                                                           {"Operation", "START"},
                                                           {"Principal", "AKIDTEST"},
                                                           {"Result", "OK"},
                                                           {"Detail", "track=ALL"}}}}});
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli({}).code, 2);
  EXPECT_EQ(Cli({"frobnicate"}).code, 2);
  EXPECT_EQ(Cli({"start"}).code, 2);  // no ContactId
  EXPECT_EQ(Cli({"start", "c-1", "--track", "SIDEWAYS"}).code, 2);
  const CliRun help = Cli({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("pause"), std::string::npos);
}

TEST_F(CliTest, AnOperationNeedsCredentials) {
  const CliRun run = Cli({"pause", "c-1", "--endpoint-url", "http://127.0.0.1:1"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("credentials are needed"), std::string::npos) << run.err;
  const CliRun bad_url = Cli({"pause", "c-1", "--access-key", "a", "--secret-key", "s",
                              "--endpoint-url", "127.0.0.1:8080"});
  EXPECT_EQ(bad_url.code, 2);
  EXPECT_NE(bad_url.err.find("http://"), std::string::npos) << bad_url.err;
}

TEST_F(CliTest, StartSendsASignedConnectRequestAndShowsTheState) {
  LoopbackHttp server([](const SeenRequest& request) {
    if (request.target() == "/contact/start-recording") return Reply(200, "{}");
    return Reply(200, ContactJson("c-1", "RECORDING"));
  });
  auto args = Signed(server, {"start", "c-1", "--track", "TO_AGENT", "--initial-contact-id", "c-0",
                              "--instance-id", "inst-9", "--admin-token", "adm"});
  const CliRun run = Cli(args);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("start accepted for contact c-1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("c-1  RECORDING  track=ALL  agent=alice"), std::string::npos) << run.out;

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method(), testing::http::verb::post);
  EXPECT_EQ(seen[0].target(), "/contact/start-recording");
  const std::string auth(seen[0][testing::http::field::authorization]);
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/us-east-1/connect/aws4_request"), std::string::npos) << auth;
  const json::object body = json::parse(seen[0].body()).as_object();
  EXPECT_EQ(body.at("ContactId"), "c-1");
  EXPECT_EQ(body.at("InitialContactId"), "c-0");
  EXPECT_EQ(body.at("InstanceId"), "inst-9");
  EXPECT_EQ(body.at("VoiceRecordingConfiguration").at("VoiceRecordingTrack"), "TO_AGENT");
  EXPECT_EQ(seen[1].target(), "/v1/contacts/c-1");
  EXPECT_EQ(seen[1][testing::http::field::authorization], "Bearer adm");
}

TEST_F(CliTest, CredentialsAndEndpointFromTheEnvironment) {
  LoopbackHttp server([](const SeenRequest&) { return Reply(200, "{}"); });
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
  ::setenv("AWS_REGION", "eu-west-2", 1);
  ::setenv("CALLREC_ENDPOINT_URL", server.url().c_str(), 1);
  const CliRun run = Cli({"resume", "c-7", "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  const json::object printed = json::parse(run.out).as_object();
  EXPECT_EQ(printed.at("Operation"), "resume");
  EXPECT_EQ(printed.at("Ok"), true);
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target(), "/contact/resume-recording");
  EXPECT_NE(std::string(seen[0][testing::http::field::authorization]).find("Credential=AKIDENV/"),
            std::string::npos);
  EXPECT_NE(std::string(seen[0][testing::http::field::authorization]).find("/eu-west-2/"),
            std::string::npos);
}

TEST_F(CliTest, ARefusalIsPrintedWithItsTypeAndExitsOne) {
  LoopbackHttp server([](const SeenRequest&) {
    return Reply(400, R"({"message":"Contact c-1 is not recording."})",
                 {{"x-amzn-ErrorType", "InvalidRequestException"}});
  });
  const CliRun run = Cli(Signed(server, {"pause", "c-1"}));
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.err, "error: InvalidRequestException: Contact c-1 is not recording.\n");
  const CliRun as_json = Cli(Signed(server, {"pause", "c-1", "--json"}));
  EXPECT_EQ(as_json.code, 1);
  const json::object printed = json::parse(as_json.out).as_object();
  EXPECT_EQ(printed.at("Error"), "InvalidRequestException");
  EXPECT_EQ(printed.at("Status"), 400);
}

TEST_F(CliTest, NobodyListeningExitsOne) {
  unsigned short port = 0;
  {
    LoopbackHttp gone([](const SeenRequest&) { return Reply(200, ""); });
    port = gone.port();
  }
  const CliRun run = Cli({"status", "c-1", "--admin-token", "adm", "--endpoint-url",
                          "http://127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("cannot reach"), std::string::npos) << run.err;
}

TEST_F(CliTest, StatusPrintsTheAuditTrail) {
  LoopbackHttp server([](const SeenRequest&) { return Reply(200, ContactJson("c-1", "PAUSED")); });
  const CliRun run = Cli({"status", "c-1", "--admin-token", "adm", "--endpoint-url", server.url()});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("c-1  PAUSED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  2026-12-07T10:00:00Z  START  by AKIDTEST  OK  track=ALL"),
            std::string::npos)
      << run.out;
  const CliRun no_token = Cli({"status", "c-1", "--endpoint-url", server.url()});
  EXPECT_EQ(no_token.code, 1);
  EXPECT_NE(no_token.err.find("admin token"), std::string::npos) << no_token.err;
}

TEST_F(CliTest, ListFollowsEveryPageWithItsFilters) {
  LoopbackHttp server([](const SeenRequest& request) {
    const std::string target(request.target());
    if (target.find("NextToken=t2") != std::string::npos) {
      return Reply(200, R"({"Contacts":[)" + ContactJson("c-3", "PAUSED") + "]}");
    }
    return Reply(200, R"({"Contacts":[)" + ContactJson("c-1", "PAUSED") + "," +
                          ContactJson("c-2", "PAUSED") + R"(],"NextToken":"t2"})");
  });
  const CliRun run = Cli({"list", "--state", "paused", "--agent-id", "a b", "--admin-token", "adm",
                          "--endpoint-url", server.url(), "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  const json::array contacts = json::parse(run.out).as_object().at("Contacts").as_array();
  ASSERT_EQ(contacts.size(), 3u);
  EXPECT_EQ(contacts[2].at("ContactId"), "c-3");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target(), "/v1/contacts?MaxResults=1000&AgentId=a%20b&State=PAUSED");
  EXPECT_EQ(seen[1].target(),
            "/v1/contacts?MaxResults=1000&AgentId=a%20b&State=PAUSED&NextToken=t2");
}

TEST_F(CliTest, AnUnreadableAnswerIsAnErrorNotACrash) {
  for (const std::string& body :
       {std::string("not json"), std::string("[1,2]"), std::string(R"({"Contacts":7})"),
        std::string(R"({"AuditTrail":[{"Time":1}]})")}) {
    LoopbackHttp server([&body](const SeenRequest&) { return Reply(200, body); });
    for (const char* command : {"status", "list"}) {
      std::vector<std::string> args{command};
      if (std::string(command) == "status") args.push_back("c-1");
      args.insert(args.end(), {"--admin-token", "adm", "--endpoint-url", server.url()});
      const CliRun run = Cli(args);
      EXPECT_EQ(run.code, 1) << command << " " << body << ": " << run.out;
      EXPECT_NE(run.err.find("unreadable answer"), std::string::npos)
          << command << " " << body << ": " << run.err;
    }
  }
}

}  // namespace
}  // namespace callrec::cli
