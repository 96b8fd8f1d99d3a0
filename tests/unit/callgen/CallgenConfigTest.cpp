#include "callgen/CallgenConfig.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace callrec::callgen {
namespace {

struct Parsed {
  core::Result<CallgenConfig, int> result;
  std::string out;
  std::string err;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "callrec-callgen");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  auto result = ParseCallgenConfig(static_cast<int>(argv.size()), argv.data(), out, err);
  return Parsed{std::move(result), out.str(), err.str()};
}

const std::string kAudio = std::string(CALLREC_FIXTURES_DIR) + "/audio/";

TEST(CallgenConfig, DefaultsForASingleCall) {
  auto p = Parse({"--target", "127.0.0.1:5060"});
  ASSERT_TRUE(p.result.ok()) << p.err;
  const CallgenConfig& c = *p.result;
  EXPECT_EQ(c.target_host, "127.0.0.1");
  EXPECT_EQ(c.target_port, 5060);
  EXPECT_EQ(c.local_ip, "127.0.0.1");
  EXPECT_EQ(c.transport, "udp");
  EXPECT_EQ(c.sessions, 1);
  EXPECT_DOUBLE_EQ(c.duration.count(), 5.0);
  EXPECT_EQ(c.codec, media::Codec::kPcmu);
  EXPECT_EQ(c.customer_aor, "sip:+15551230001@pstn.example");
  EXPECT_EQ(c.agent_aor, "sip:agent1@cc.example");
  EXPECT_FALSE(c.agent_joins_after || c.transfer_after || c.client_pause);
}

TEST(CallgenConfig, EveryOption) {
  auto p = Parse({"--target",
                  "[::1]:5070",
                  "--transport",
                  "tcp",
                  "--sessions",
                  "10",
                  "--rate",
                  "2.5",
                  "--duration",
                  "30",
                  "--codec",
                  "pcma",
                  "--contact-id-prefix",
                  "C",
                  "--initial-contact-id",
                  "I",
                  "--agent-joins-after",
                  "2",
                  "--transfer-after",
                  "20",
                  "--client-pause",
                  "5-8.5",
                  "--json"});
  ASSERT_TRUE(p.result.ok()) << p.err;
  const CallgenConfig& c = *p.result;
  EXPECT_EQ(c.target_host, "::1");
  EXPECT_EQ(c.target_port, 5070);
  EXPECT_EQ(c.local_ip, "::1");
  EXPECT_EQ(c.transport, "tcp");
  EXPECT_EQ(c.sessions, 10);
  EXPECT_DOUBLE_EQ(c.rate, 2.5);
  EXPECT_EQ(c.codec, media::Codec::kPcma);
  EXPECT_DOUBLE_EQ(c.agent_joins_after->count(), 2);
  EXPECT_DOUBLE_EQ(c.transfer_after->count(), 20);
  EXPECT_DOUBLE_EQ(c.client_pause->start.count(), 5);
  EXPECT_DOUBLE_EQ(c.client_pause->end.count(), 8.5);
  EXPECT_TRUE(c.json);
  EXPECT_EQ(ContactIdOf(c, 0), "C-1");
  EXPECT_EQ(ContactIdOf(c, 9), "C-10");
  EXPECT_EQ(TransferContactIdOf(c, 1), "C-2-transfer");
  EXPECT_EQ(InitialContactIdOf(c, 1), "I");
}

TEST(CallgenConfig, ContactIds) {
  CallgenConfig c;
  EXPECT_EQ(ContactIdOf(c, 0), "");
  EXPECT_EQ(TransferContactIdOf(c, 0), "");
  EXPECT_EQ(InitialContactIdOf(c, 0), "");
  c.contact_id = "A";
  EXPECT_EQ(ContactIdOf(c, 0), "A");
  EXPECT_EQ(TransferContactIdOf(c, 0), "A-transfer");
  EXPECT_EQ(InitialContactIdOf(c, 0), "A");
}

TEST(CallgenConfig, DurationDefaultsToTheLongerWav) {
  auto p = Parse({"--target", "127.0.0.1:5060", "--customer-wav", kAudio + "customer_ulaw.wav",
                  "--agent-wav", kAudio + "tone1000_alaw.wav"});
  ASSERT_TRUE(p.result.ok()) << p.err;
  EXPECT_DOUBLE_EQ(p.result->duration.count(), 5.0);
  auto short_only =
      Parse({"--target", "127.0.0.1:5060", "--agent-wav", kAudio + "tone1000_alaw.wav"});
  ASSERT_TRUE(short_only.result.ok());
  EXPECT_DOUBLE_EQ(short_only.result->duration.count(), 0.1);
}

TEST(CallgenConfig, UsageErrorsExitTwoWithTheReason) {
  const struct {
    std::vector<std::string> args;
    const char* reason;
  } cases[] = {
      {{}, "--target is required"},
      {{"--target", "127.0.0.1"}, "HOST:PORT"},
      {{"--target", "127.0.0.1:99999"}, "HOST:PORT"},
      {{"--target", "recorder.example:5060"}, "numeric IP"},
      {{"--target", "127.0.0.1:5060", "--transport", "sctp"}, "transport"},
      {{"--target", "127.0.0.1:5060", "--srtp", "AES_CM_128_HMAC_SHA1_80"},
       "needs --transport tls"},
      {{"--target", "127.0.0.1:5060", "--transport", "tls", "--srtp", "F8_128_HMAC_SHA1_80"},
       "--srtp must be one of"},
      {{"--target", "127.0.0.1:5060", "--transport", "tls", "--tls-cert", "/etc/hostname"},
       "go together"},
      {{"--target", "127.0.0.1:5060", "--codec", "G729"}, "codec"},
      {{"--target", "127.0.0.1:5060", "--client-pause", "3"}, "START-END"},
      {{"--target", "127.0.0.1:5060", "--duration", "0"}, "--duration"},
      {{"--target", "127.0.0.1:5060", "--client-pause", "4-3"}, "START < END"},
      {{"--target", "127.0.0.1:5060", "--duration", "5", "--client-pause", "4-6"}, "< --duration"},
      {{"--target", "127.0.0.1:5060", "--duration", "5", "--transfer-after", "6"}, "within"},
      {{"--target", "127.0.0.1:5060", "--duration", "9", "--agent-joins-after", "5",
        "--transfer-after", "4"},
       "before --transfer-after"},
      {{"--target", "127.0.0.1:5060", "--duration", "9", "--client-pause", "3-5",
        "--transfer-after", "4"},
       "span"},
      {{"--target", "127.0.0.1:5060", "--sessions", "2", "--contact-id", "A"}, "prefix"},
      {{"--target", "127.0.0.1:5060", "--contact-id", "A", "--contact-id-prefix", "B"}, "excludes"},
      {{"--target", "127.0.0.1:5060", "--customer-wav", "/no/such.wav"}, "exist"},
  };
  for (const auto& c : cases) {
    auto p = Parse(c.args);
    ASSERT_FALSE(p.result.ok()) << c.reason;
    EXPECT_EQ(p.result.error(), 2) << c.reason;
    EXPECT_NE(p.err.find(c.reason), std::string::npos) << p.err;
  }
}

// --rtp-only needs no --target (its file is read by RunCallgen, not here);
// options that only make sense with SIP are refused with it.
TEST(CallgenConfig, RtpOnlyAndSendBatch) {
  auto p = Parse({"--rtp-only", "/etc/hostname", "--duration", "3", "--rate", "500"});
  ASSERT_TRUE(p.result.ok()) << p.err;
  EXPECT_EQ(p.result->rtp_only_file, "/etc/hostname");
  EXPECT_TRUE(p.result->target_host.empty());
  EXPECT_TRUE(p.result->local_ip.empty());  // routed toward the first destination
  EXPECT_EQ(p.result->send_batch, "auto");
  auto off =
      Parse({"--rtp-only", "/etc/hostname", "--local-ip", "127.0.0.1", "--send-batch", "off"});
  ASSERT_TRUE(off.result.ok()) << off.err;
  EXPECT_EQ(off.result->send_batch, "off");
  EXPECT_EQ(off.result->local_ip, "127.0.0.1");
  EXPECT_EQ(Parse({"--target", "127.0.0.1:5060", "--send-batch", "uring"}).result->send_batch,
            "uring");

  const struct {
    std::vector<std::string> args;
    const char* reason;
  } cases[] = {
      {{"--rtp-only", "/no/such/calls.txt"}, "exist"},
      {{"--rtp-only", "/etc/hostname", "--send-batch", "sometimes"}, "--send-batch"},
      {{"--rtp-only", "/etc/hostname", "--local-ip", "localhost"}, "numeric IP"},
      {{"--rtp-only", "/etc/hostname", "--transfer-after", "1"}, "--transfer-after needs SIP"},
      {{"--rtp-only", "/etc/hostname", "--client-pause", "1-2"}, "--client-pause needs SIP"},
      {{"--rtp-only", "/etc/hostname", "--agent-joins-after", "1"}, "needs SIP"},
      {{"--rtp-only", "/etc/hostname", "--dtmf", "1@1"}, "--dtmf needs SIP"},
  };
  for (const auto& c : cases) {
    auto bad = Parse(c.args);
    ASSERT_FALSE(bad.result.ok()) << c.reason;
    EXPECT_EQ(bad.result.error(), 2) << c.reason;
    EXPECT_NE(bad.err.find(c.reason), std::string::npos) << bad.err;
  }
}

TEST(CallgenConfig, DtmfOptions) {
  auto p = Parse({"--target", "127.0.0.1:5060", "--duration", "10", "--dtmf",
                  "4111111111111111@3.0", "--dtmf", "#@8", "--dtmf-mode", "rfc4733", "--dtmf-level",
                  "-25", "--dtmf-duration", "100", "--dtmf-gap", "60"});
  ASSERT_TRUE(p.result.ok()) << p.err;
  const DtmfOptions& d = p.result->dtmf;
  ASSERT_EQ(d.sequences.size(), 2u);
  EXPECT_EQ(d.sequences[0].digits, "4111111111111111");
  EXPECT_DOUBLE_EQ(d.sequences[0].at, 3.0);
  EXPECT_EQ(d.sequences[1].digits, "#");
  EXPECT_EQ(d.mode, DtmfMode::kRfc4733);
  EXPECT_DOUBLE_EQ(d.level_dbm0, -25);
  EXPECT_EQ(d.duration_ms, 100);
  EXPECT_EQ(d.gap_ms, 60);
  auto defaults = Parse({"--target", "127.0.0.1:5060"});
  ASSERT_TRUE(defaults.result.ok());
  EXPECT_TRUE(defaults.result->dtmf.sequences.empty());
  EXPECT_EQ(defaults.result->dtmf.mode, DtmfMode::kInband);
  EXPECT_DOUBLE_EQ(defaults.result->dtmf.level_dbm0, -10);
  EXPECT_EQ(defaults.result->dtmf.duration_ms, 80);
  EXPECT_EQ(defaults.result->dtmf.gap_ms, 80);
  struct Bad {
    std::vector<std::string> args;
    std::string reason;
  };
  for (const auto& c : std::vector<Bad>{
           {{"--dtmf", "12X@1"}, "--dtmf digits are 0-9 * # A-D"},
           {{"--dtmf", "123"}, "--dtmf must be DIGITS@SECONDS"},
           {{"--dtmf", "123@x"}, "--dtmf SECONDS"},
           {{"--dtmf", "1234@4.5"}, "--dtmf digits must end within the call"},
           {{"--dtmf", "1234@1", "--dtmf", "5@1.5"}, "--dtmf sequences overlap"},
           {{"--dtmf", "1@1", "--dtmf-mode", "sms"}, "--dtmf-mode"},
           {{"--dtmf", "1@1", "--dtmf-level", "0"}, "--dtmf-level"},
       }) {
    std::vector<std::string> args = {"--target", "127.0.0.1:5060", "--duration", "5"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto bad = Parse(args);
    ASSERT_FALSE(bad.result.ok()) << c.reason;
    EXPECT_EQ(bad.result.error(), 2) << c.reason;
    EXPECT_NE(bad.err.find(c.reason), std::string::npos) << bad.err;
  }
}

TEST(CallgenConfig, HelpExitsZeroAndNamesEveryOption) {
  auto p = Parse({"--help"});
  ASSERT_FALSE(p.result.ok());
  EXPECT_EQ(p.result.error(), 0);
  for (const char* option : {"--target",
                             "--transport",
                             "--sessions",
                             "--rate",
                             "--duration",
                             "--customer-wav",
                             "--agent-wav",
                             "--codec",
                             "--contact-id",
                             "--contact-id-prefix",
                             "--initial-contact-id",
                             "--customer-aor",
                             "--agent-aor",
                             "--transfer-agent-aor",
                             "--agent-joins-after",
                             "--transfer-after",
                             "--client-pause",
                             "--dtmf",
                             "--dtmf-mode",
                             "--dtmf-level",
                             "--dtmf-duration",
                             "--dtmf-gap",
                             "--json"}) {
    EXPECT_NE(p.out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace callrec::callgen
