#include "aws/Crypto.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace callrec::aws {
namespace {

TEST(Crypto, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
TEST(Crypto, HmacSha256Rfc4231) {
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Hex(HmacSha256(std::string(131, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// The algorithm handles are shared by every thread: each call must still use its
// own key and data only.
TEST(Crypto, HmacSha256OnManyThreadsAtOnce) {
  const std::string expected_jefe = Hex(HmacSha256("Jefe", "what do ya want for nothing?"));
  const std::string expected_other = Hex(HmacSha256("other key", "other data"));
  ASSERT_NE(expected_jefe, expected_other);
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const bool jefe = (i + t) % 2 == 0;
        const std::string got = jefe ? Hex(HmacSha256("Jefe", "what do ya want for nothing?"))
                                     : Hex(HmacSha256("other key", "other data"));
        if (got != (jefe ? expected_jefe : expected_other)) ++mismatches[t];
        if (Sha256Hex("abc") !=
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : mismatches) EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace callrec::aws
