#include "api/StaticFiles.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace callrec::api {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("callrec-pages-" + std::to_string(::getpid()));
    fs::create_directories(root_);
    std::ofstream(root_ / "index.html") << "<p>hi</p>";
  }
  void TearDown() override { fs::remove_all(root_); }

  HttpResponse Get(const std::string& path) {
    HttpRequest request{http::verb::get, path, 11};
    return StaticFiles(root_).Get(request, path);
  }

  fs::path root_;
};

TEST_F(StaticFilesTest, ServesAPage) {
  const HttpResponse page = Get("/");
  EXPECT_EQ(page.result_int(), 200u);
  EXPECT_EQ(page.body(), "<p>hi</p>");
}

// A name the file system refuses (over NAME_MAX: ENAMETOOLONG) made
// weakly_canonical throw out of the HTTP thread, and the process exit, for one
// unauthenticated GET. It is a page that is not there.
TEST_F(StaticFilesTest, NameTooLongIsNotFoundNotAnException) {
  const HttpResponse page = Get("/" + std::string(300, 'a') + ".html");
  EXPECT_EQ(page.result_int(), 404u);
  EXPECT_EQ(Get("/" + std::string(300, 'b') + "/x.js").result_int(), 404u);
}

// A page that is there but cannot be read (here: a directory named like a
// page) is never an empty 200.
TEST_F(StaticFilesTest, PageThatIsNotAFileIsNotServed) {
  fs::create_directories(root_ / "dir.html");
  EXPECT_EQ(Get("/dir.html").result_int(), 404u);
}

}  // namespace
}  // namespace callrec::api
