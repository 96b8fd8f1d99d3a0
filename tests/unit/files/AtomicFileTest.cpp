#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "files/AtomicFile.hpp"

namespace callrec::files {
namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callrec-atomic-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string Read(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
};

TEST_F(AtomicFileTest, ReplacesTheContentAndLeavesNoTemporary) {
  const auto path = dir_ / "a.json";
  ASSERT_FALSE(ReplaceFile(path, "{\"A\":1}", {0640, true, true}));
  EXPECT_EQ(Read(path), "{\"A\":1}");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_FALSE(ReplaceFile(path, "{\"A\":2}"));
  EXPECT_EQ(Read(path), "{\"A\":2}");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a.json.tmp"));
  const auto object = ReadJsonObject(path);
  ASSERT_TRUE(object);
  EXPECT_EQ(boost::json::serialize(*object), "{\"A\":2}");
}

TEST_F(AtomicFileTest, AFailureNamesTheFileAndKeepsTheOldContent) {
  const auto path = dir_ / "b.json";
  ASSERT_FALSE(ReplaceFile(path, "old"));
  // A directory where the temporary file must go: it cannot be created.
  std::filesystem::create_directories(dir_ / "b.json.tmp");
  const auto error = ReplaceFile(path, "new");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("cannot write " + (dir_ / "b.json.tmp").string()), std::string::npos)
      << *error;
  EXPECT_EQ(Read(path), "old");
  // The target is a directory: the rename fails, the temporary file is gone.
  std::filesystem::remove_all(dir_ / "b.json.tmp");
  std::filesystem::create_directories(dir_ / "c.json" / "x");
  const auto refused = ReplaceFile(dir_ / "c.json", "text");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("cannot replace"), std::string::npos) << *refused;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "c.json.tmp"));
}

TEST_F(AtomicFileTest, ReadJsonObjectTakesObjectsOnly) {
  EXPECT_FALSE(ReadJsonObject(dir_ / "missing.json"));
  ASSERT_FALSE(ReplaceFile(dir_ / "list.json", "[1]"));
  EXPECT_FALSE(ReadJsonObject(dir_ / "list.json"));
  ASSERT_FALSE(ReplaceFile(dir_ / "bad.json", "{nope"));
  EXPECT_FALSE(ReadJsonObject(dir_ / "bad.json"));
  EXPECT_TRUE(SyncDirectory(dir_));
  EXPECT_FALSE(SyncDirectory(dir_ / "missing"));
}

}  // namespace
}  // namespace callrec::files
