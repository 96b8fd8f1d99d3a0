#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "sipstack/SipUri.hpp"
#include "sipstack/SofiaTlsDirectory.hpp"
#include "sipstack/SofiaTlsRelease.hpp"

namespace callrec::sipstack {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

unsigned Mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class TlsDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sipstack-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "cert.pem") << "CERTIFICATE";
    std::ofstream(dir_ / "key.pem") << "KEY";
    std::ofstream(dir_ / "ca.pem") << "CA";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(SipUri, Ipv6HostsInBrackets) {
  EXPECT_EQ(UriHost("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(UriHost("example.com"), "example.com");
  EXPECT_EQ(UriHost("::1"), "[::1]");
  EXPECT_EQ(HostPort("::1", 5061), "[::1]:5061");
  EXPECT_EQ(HostPort("10.0.0.1", 5060), "10.0.0.1:5060");
}

TEST_F(TlsDirectoryTest, PrivateFilesGoneWithTheObject) {
  fs::path written;
  {
    const SofiaTlsDirectory tls(SofiaTlsDirectory::Identity{dir_ / "cert.pem", dir_ / "key.pem"},
                                dir_ / "ca.pem");
    written = tls.path();
    EXPECT_EQ(Mode(written), 0700U);
    EXPECT_EQ(Mode(written / "agent.pem"), 0600U);
    EXPECT_EQ(Slurp(written / "agent.pem"), "CERTIFICATE\nKEY");
    EXPECT_EQ(Slurp(written / "cafile.pem"), "CA");
  }
  EXPECT_FALSE(fs::exists(written));
}

TEST_F(TlsDirectoryTest, CaOnlyForAClientWithoutCertificate) {
  const SofiaTlsDirectory tls(std::nullopt, dir_ / "ca.pem");
  EXPECT_FALSE(fs::exists(fs::path(tls.path()) / "agent.pem"));
  EXPECT_TRUE(fs::exists(fs::path(tls.path()) / "cafile.pem"));
}

TEST_F(TlsDirectoryTest, UnreadableFileNamed) {
  try {
    const SofiaTlsDirectory tls(
        SofiaTlsDirectory::Identity{dir_ / "cert.pem", dir_ / "missing.pem"}, dir_ / "ca.pem");
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("missing.pem"), std::string::npos) << error.what();
  }
}

TEST(SofiaTlsRelease, NothingFreedWithoutTls) {
  // Linked into this executable: active for Debian 12's sofia-sip 1.12.11.
  EXPECT_EQ(SofiaTlsConnectionsFreed(), 0U);
  (void)SofiaTlsReleaseActive();
}

}  // namespace
}  // namespace callrec::sipstack
