// callrec-server's option table: defaults, flags, a TOML file and its
// precedence, refusals. (Errors are printed by CLI11; the tests read the exit.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/ServerConfig.hpp"

namespace callrec::config {
namespace {

ParsedConfig Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "callrec-server");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseServerConfig(static_cast<int>(argv.size()), argv.data());
}

TEST(ServerConfigTest, DefaultsAreTheDocumentedOnes) {
  const ParsedConfig parsed = Parse({});
  ASSERT_FALSE(parsed.exit);
  const ServerConfig& c = parsed.config;
  EXPECT_EQ(c.listen.host, "127.0.0.1");
  EXPECT_EQ(c.listen.port, 8080);
  EXPECT_EQ(c.sip_listen.port, 5060);
  EXPECT_EQ(c.data_dir, std::filesystem::path("./data"));
  EXPECT_EQ(c.instance_ids, std::vector<std::string>{"local"});
  EXPECT_EQ(c.rtp_port_low, 40000);
  EXPECT_EQ(c.rtp_port_high, 49999);
  EXPECT_EQ(c.pause_behavior, PauseBehavior::kSilence);
  EXPECT_EQ(c.dtmf_policy, DtmfPolicy::kMask);
  EXPECT_EQ(c.dtmf_resume_after, 5);
  EXPECT_EQ(c.event_rules,
            (std::vector<std::string>{"payment-form-opened=PAUSE", "payment-form-closed=RESUME"}));
  EXPECT_EQ(c.max_contacts, 2000u);
  EXPECT_EQ(c.max_pause_seconds, 0u);
  EXPECT_TRUE(c.sip_allow.empty());
  EXPECT_EQ(c.retention_days, 0);
  EXPECT_EQ(c.drain_timeout_seconds, 300u);
}

TEST(ServerConfigTest, FlagsAreRead) {
  const ParsedConfig parsed =
      Parse({"--listen",      "[::1]:9000", "--instance-id",       "a",
             "--instance-id", "b",          "--access-key",        "AKID:sec:ret",
             "--agent-token", "ann:tok",    "--pause-behavior",    "skip",
             "--dtmf-policy", "pause",      "--dtmf-resume-after", "9",
             "--event-rule",  "x=PAUSE",    "--rtp-ports",         "30000-30099",
             "--max-pause",   "45",         "--sip-allow",         "10.0.0.0/8"});
  ASSERT_FALSE(parsed.exit) << parsed.exit_code;
  const ServerConfig& c = parsed.config;
  EXPECT_EQ(c.listen.host, "::1");
  EXPECT_EQ(c.listen.port, 9000);
  EXPECT_EQ(c.instance_ids, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(c.access_keys.size(), 1u);
  EXPECT_EQ(c.access_keys[0].id, "AKID");
  EXPECT_EQ(c.access_keys[0].secret, "sec:ret");
  ASSERT_EQ(c.agent_tokens.size(), 1u);
  EXPECT_EQ(c.agent_tokens[0].id, "ann");
  EXPECT_EQ(c.pause_behavior, PauseBehavior::kSkip);
  EXPECT_EQ(c.dtmf_policy, DtmfPolicy::kPause);
  EXPECT_EQ(c.dtmf_resume_after, 9);
  EXPECT_EQ(c.event_rules, std::vector<std::string>{"x=PAUSE"});
  EXPECT_EQ(c.rtp_port_low, 30000);
  EXPECT_EQ(c.rtp_port_high, 30099);
  EXPECT_EQ(c.max_pause_seconds, 45u);
  EXPECT_EQ(c.sip_allow, std::vector<std::string>{"10.0.0.0/8"});
}

TEST(ServerConfigTest, AFileIsReadAndFlagsWinOverIt) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("callrec-config-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(file);
    out << "listen=\"127.0.0.1:7000\"\n"
           "data-dir=\"/tmp/from-file\"\n"
           "dtmf-policy=\"record\"\n"
           "event-rule=[\"a=PAUSE\", \"b=RESUME\"]\n"
           "max-contacts=7\n"
           "drain-timeout=45\n";
  }
  const ParsedConfig parsed = Parse({"--config", file.string(), "--dtmf-policy", "pause"});
  std::filesystem::remove(file);
  ASSERT_FALSE(parsed.exit) << parsed.exit_code;
  const ServerConfig& c = parsed.config;
  EXPECT_EQ(c.listen.port, 7000);
  EXPECT_EQ(c.data_dir, std::filesystem::path("/tmp/from-file"));
  EXPECT_EQ(c.dtmf_policy, DtmfPolicy::kPause) << "the flag wins over the file";
  EXPECT_EQ(c.event_rules, (std::vector<std::string>{"a=PAUSE", "b=RESUME"}));
  EXPECT_EQ(c.max_contacts, 7u);
  EXPECT_EQ(c.drain_timeout_seconds, 45u);
}

TEST(ServerConfigTest, BadValuesAreRefusedWithAnErrorExit) {
  const std::vector<std::vector<std::string>> refused = {
      {"--listen", "nohost"},
      {"--access-key", "no-colon"},
      {"--agent-token", ":token"},
      {"--tls-cert", "cert.pem"},
      {"--sip-tls-cert", "c.pem"},
      {"--sip-tls-listen", "127.0.0.1:5061"},
      {"--dtmf-policy", "shout"},
      {"--dtmf-resume-after", "0"},
      {"--pause-behavior", "maybe"},
      {"--agent-match", "(unclosed"},
      {"--instance-id", ""},
      {"--no-such-flag"},
      {"--drain-timeout", "-1"},
      {"--drain-timeout", "86401"},
      {"--config", "/nonexistent/callrec.toml"},
  };
  for (const auto& args : refused) {
    const ParsedConfig parsed = Parse(args);
    EXPECT_TRUE(parsed.exit) << args.front();
    EXPECT_NE(parsed.exit_code, 0) << args.front();
  }
}

TEST(ServerConfigTest, HelpAndDumpConfigExitCleanly) {
  for (const char* flag : {"--help", "--dump-config"}) {
    const ParsedConfig parsed = Parse({flag});
    EXPECT_TRUE(parsed.exit) << flag;
    EXPECT_EQ(parsed.exit_code, 0) << flag;
  }
}

TEST(ServerConfigTest, EveryChoiceParsesIntoItsValue) {
  auto check = [](const std::string& flag, const auto& choices, auto field) {
    for (const auto& choice : choices) {
      const ParsedConfig parsed = Parse({flag, std::string(choice.name)});
      ASSERT_FALSE(parsed.exit) << flag << " " << choice.name;
      EXPECT_TRUE(parsed.config.*field == choice.value) << flag << " " << choice.name;
      EXPECT_EQ(ChoiceName(choices, choice.value), choice.name);
    }
    EXPECT_TRUE(Parse({flag, "no-such-choice"}).exit) << flag;
  };
  check("--srtp", kSrtpModes, &ServerConfig::srtp);
  check("--rtp-source", kRtpSources, &ServerConfig::rtp_source);
  check("--dtmf-policy", kDtmfPolicies, &ServerConfig::dtmf_policy);
  check("--pause-behavior", kPauseBehaviors, &ServerConfig::pause_behavior);
  check("--auto-record", kAutoRecords, &ServerConfig::auto_record);
  check("--log-level", kLogLevels, &ServerConfig::log_level);
  check("--s3-sse", kS3Encryptions, &ServerConfig::s3_sse);
  EXPECT_EQ(Parse({"--auto-record", "TO_AGENT"}).config.auto_record, core::Track::kToAgent);
  EXPECT_FALSE(Parse({}).config.auto_record);  // off
}

}  // namespace
}  // namespace callrec::config
