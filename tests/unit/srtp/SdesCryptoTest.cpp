#include "srtp/SdesCrypto.hpp"

#include <gtest/gtest.h>

namespace callrec::srtp {
namespace {

// RFC 4568 section 9.1's example key (30 bytes).
constexpr const char* kRfcKey = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

TEST(SdesCryptoTest, ParsesTheRfcExample) {
  auto crypto =
      ParseCrypto(std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + kRfcKey + "|2^20|1:4");
  // The RFC's example has an MKI: refused, with the reason.
  ASSERT_FALSE(crypto);
  EXPECT_NE(crypto.error().find("MKI"), std::string::npos);

  auto plain = ParseCrypto(std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + kRfcKey);
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->tag, 1u);
  EXPECT_EQ(plain->suite, Suite::kAesCm128HmacSha1_80);
  ASSERT_EQ(plain->key_salt.size(), 30u);
  EXPECT_EQ(plain->key_salt[0], 0x3d);  // 'P','S' -> 0x3d 0x2d
  EXPECT_EQ(plain->key_salt[1], 0x2d);
}

TEST(SdesCryptoTest, AcceptsALongLifetimeAndAWindowHint) {
  const std::string line =
      std::string("2 AES_CM_128_HMAC_SHA1_32 inline:") + kRfcKey + "|2^31 WSH=64";
  auto crypto = ParseCrypto(line);
  ASSERT_TRUE(crypto) << crypto.error();
  EXPECT_EQ(crypto->tag, 2u);
  EXPECT_EQ(crypto->suite, Suite::kAesCm128HmacSha1_32);
}

TEST(SdesCryptoTest, RefusesWhatItCannotHonour) {
  const std::string key = kRfcKey;
  const std::pair<std::string, std::string> cases[] = {
      {"", "needs"},
      {"1 AES_CM_128_HMAC_SHA1_80", "needs"},
      {"x AES_CM_128_HMAC_SHA1_80 inline:" + key, "tag"},
      {"1 F8_128_HMAC_SHA1_80 inline:" + key, "not supported"},
      {"1 AEAD_AES_128_GCM inline:" + key, "not supported"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key, "more than one"},
      {"1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/" + key, "inline"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20", "lifetime"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1048576", "lifetime"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^31|1:4", "MKI"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 36), "bytes"},
      {"1 AES_256_CM_HMAC_SHA1_80 inline:" + key, "needs 46"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 39) + "!", "base64"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP", "session parameter"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=10", "session parameter"},
      {"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key, "tag"},
  };
  for (const auto& [line, reason] : cases) {
    auto crypto = ParseCrypto(line);
    ASSERT_FALSE(crypto) << line;
    EXPECT_NE(crypto.error().find(reason), std::string::npos) << line << " -> " << crypto.error();
  }
}

TEST(SdesCryptoTest, FormatsWhatItParses) {
  for (Suite suite : {Suite::kAesCm128HmacSha1_80, Suite::kAesCm128HmacSha1_32,
                      Suite::kAes256CmHmacSha1_80, Suite::kAes256CmHmacSha1_32}) {
    const SdesCrypto key = NewKey(3, suite);
    ASSERT_EQ(key.key_salt.size(), KeySaltLength(suite));
    const std::string line = FormatCrypto(key);
    auto parsed = ParseCrypto(line);
    ASSERT_TRUE(parsed) << line << ": " << parsed.error();
    EXPECT_EQ(parsed->tag, 3u);
    EXPECT_EQ(parsed->suite, suite);
    EXPECT_EQ(parsed->key_salt, key.key_salt);
  }
  EXPECT_NE(NewKey(1, Suite::kAesCm128HmacSha1_80).key_salt,
            NewKey(1, Suite::kAesCm128HmacSha1_80).key_salt);
}

}  // namespace
}  // namespace callrec::srtp
