#pragma once

#include <filesystem>

#include "api/Http.hpp"

namespace callrec::api {

// The workspace's pages (web/): GET /, /recordings.html, /app.js, ... served
// as they are from one directory, with no listing and nothing outside it.
class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  // Whether the path is a page (not an API).
  static bool Serves(std::string_view path);
  HttpResponse Get(const HttpRequest& request, std::string_view path) const;

 private:
  std::filesystem::path root_;
};

}  // namespace callrec::api
